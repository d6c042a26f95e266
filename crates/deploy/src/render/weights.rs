//! How the weights reach the engine, as objects: one delivery per `weights_source`
//! ([`Delivery`], `crates/serving/src/cold_start.rs`, which also counts its cold start).
//!
//! | delivery | volume | before the engine starts | extra objects |
//! |---|---|---|---|
//! | `hub` | node cache (`hostPath` on the instance store) | `fetch-weights` downloads from the Hub, once per node | - |
//! | `s3`, vLLM | none | - (the engine streams from S3, `--load-format runai_streamer`) | ServiceAccount |
//! | `s3`, SGLang | node cache | `fetch-weights` copies from S3 (parallel `aws s3 sync`), once per node | ServiceAccount |
//! | `fsx` | PersistentVolumeClaim (read-only) | - | PersistentVolumeClaim |
//! | `nvme` | node cache | `wait-for-weights` waits for the pre-pull | ServiceAccount, pre-pull DaemonSet |
//!
//! The node cache is shared by the pods of a node and survives them: a second replica on the
//! node, a restart or a rollout reads the weights locally. A lock directory lets one pod fetch
//! while the others wait; a `.complete` marker says the copy is whole.

use super::input::{RenderInput, MODELS_MOUNT};
use super::k8s::{
    labels, tolerate, Container, DaemonSet, DaemonSetSpec, EnvVar, LabelSelector, Labels,
    ObjectMeta, PersistentVolumeClaim, PodSpec, PodTemplateSpec, ResourceRequirements,
    ServiceAccount, Volume, VolumeMount,
};
use super::pod;
use inferplan_serving::Delivery;

/// The AWS CLI image that copies from S3, pinned to a release (pin its digest too before
/// applying: `docker buildx imagetools inspect amazon/aws-cli:2.32.8`).
pub const AWS_CLI_IMAGE: &str = "amazon/aws-cli:2.32.8";

/// The pause image that keeps the pre-pull DaemonSet's pod running once its copy is done.
pub const PAUSE_IMAGE: &str = "registry.k8s.io/pause:3.10";

/// Concurrent S3 requests of `aws s3 sync` (the CLI's `max_concurrent_requests`, 10 by
/// default): AWS's S3 performance guidelines ask for about one request per 85-90 MB/s, so 64
/// fill about 45 Gb/s.
pub const S3_CONCURRENCY: u32 = 64;

/// Where the node cache lives on a node whose instance store holds it: the RAID 0 array the
/// EKS AL2023 AMI builds from the NVMe instance store when the EC2NodeClass sets
/// `instanceStorePolicy: RAID0` (awslabs/amazon-eks-ami,
/// `templates/shared/runtime/bin/setup-local-disks`: the array is mounted at
/// `/mnt/k8s-disks/0`).
pub const INSTANCE_STORE_CACHE: &str = "/mnt/k8s-disks/0/inferplan-models";

/// Where the node cache lives without an instance store (or with one too small): the root EBS
/// volume, which the EC2NodeClass sizes for it.
pub const ROOT_VOLUME_CACHE: &str = "/var/lib/inferplan-models";

/// Whether the instance store holds the node cache.
pub fn cache_on_instance_store(input: &RenderInput) -> bool {
    input
        .local_nvme_gb
        .is_some_and(|gb| gb * 1e9 >= pod::models_volume_gib(input) as f64 * (1u64 << 30) as f64)
}

/// The node cache's directory on the node.
pub fn node_cache_dir(input: &RenderInput) -> &'static str {
    if cache_on_instance_store(input) {
        INSTANCE_STORE_CACHE
    } else {
        ROOT_VOLUME_CACHE
    }
}

/// The service account of pods that read S3 (`<name>-weights`), for an EKS Pod Identity
/// association.
pub fn service_account_name(input: &RenderInput) -> String {
    format!("{}-weights", input.name)
}

/// Whether the delivery reads S3 (and needs the service account).
pub fn reads_s3(input: &RenderInput) -> bool {
    matches!(
        input.delivery,
        Delivery::S3Stream | Delivery::S3ToNodeCache | Delivery::NvmePrepull
    )
}

/// The service account of the engine pods: set when they read S3 themselves.
pub fn pod_service_account(input: &RenderInput) -> Option<String> {
    matches!(input.delivery, Delivery::S3Stream | Delivery::S3ToNodeCache)
        .then(|| service_account_name(input))
}

/// The `models` volume of the engine pods: the node cache, the FSx claim, or none for a
/// stream.
pub fn models_volume(input: &RenderInput) -> Option<Volume> {
    match input.delivery {
        Delivery::S3Stream => None,
        Delivery::FsxVolume => Some(Volume::claim("models", &claim_name(input))),
        Delivery::HubToNodeCache | Delivery::S3ToNodeCache | Delivery::NvmePrepull => {
            Some(Volume::host_path("models", node_cache_dir(input)))
        }
    }
}

/// Name of the FSx PersistentVolumeClaim (and of the PersistentVolume it binds to).
pub fn claim_name(input: &RenderInput) -> String {
    format!("{}-weights", input.name)
}

/// The checkpoint's directory in the node cache or on the FSx volume, as the pods see it.
pub fn checkpoint_dir(input: &RenderInput) -> String {
    format!("{MODELS_MOUNT}/{}", input.checkpoint)
}

/// A shell script that runs `fetch` (which writes `$DEST`) once per node: the first pod takes
/// the lock directory and copies, the others wait for `$DEST/.complete`. A lock older than an
/// hour is taken to be left by a killed pod and removed.
pub fn once_per_node(fetch: &str) -> String {
    [
        "set -eu",
        "lock=\"$DEST.lock\"",
        "mkdir -p \"$(dirname \"$DEST\")\"",
        "while ! mkdir \"$lock\" 2>/dev/null; do",
        "  [ -f \"$DEST/.complete\" ] && exit 0",
        "  find \"$lock\" -maxdepth 0 -mmin +60 -exec rmdir {} \\; 2>/dev/null || true",
        "  sleep 5",
        "done",
        "trap 'rmdir \"$lock\"' EXIT",
        "[ -f \"$DEST/.complete\" ] && exit 0",
        fetch,
        "touch \"$DEST/.complete\"",
        "",
    ]
    .join("\n")
}

/// The Hub download of the `hub` delivery (the Python downloader of the engine image).
fn hub_fetch() -> String {
    [
        "python3 - <<'EOF'",
        "import os",
        "from huggingface_hub import snapshot_download",
        "snapshot_download(",
        "    repo_id=os.environ[\"MODEL_ID\"],",
        "    local_dir=os.environ[\"DEST\"],",
        "    allow_patterns=[\"*.json\", \"*.safetensors\", \"*.model\", \"*.txt\", \"*.tiktoken\", \"*.jinja\"],",
        ")",
        "EOF",
    ]
    .join("\n")
}

/// The parallel S3 copy of the `s3` (without a streaming engine) and `nvme` deliveries.
fn s3_fetch() -> String {
    format!(
        "aws configure set default.s3.max_concurrent_requests {S3_CONCURRENCY}\n\
         aws s3 sync \"$WEIGHTS_URI\" \"$DEST\" --only-show-errors"
    )
}

fn cache_mount() -> Vec<VolumeMount> {
    vec![VolumeMount::new("models", MODELS_MOUNT)]
}

fn small_resources() -> ResourceRequirements {
    ResourceRequirements {
        requests: labels([("cpu", "2"), ("memory", "4Gi")]),
        limits: labels([("memory", "4Gi")]),
    }
}

/// A container that copies the checkpoint into the node cache once per node.
fn fetcher(input: &RenderInput, name: &str) -> Container {
    let dest = checkpoint_dir(input);
    let (image, script, mut env) = match input.delivery {
        Delivery::HubToNodeCache => (
            input.image.clone(),
            once_per_node(&hub_fetch()),
            vec![
                EnvVar::value("MODEL_ID", &input.checkpoint),
                EnvVar::value("HF_HOME", &format!("{MODELS_MOUNT}/.hf")),
                EnvVar::secret("HF_TOKEN", "hf-token", "token", true),
            ],
        ),
        _ => (
            AWS_CLI_IMAGE.to_owned(),
            once_per_node(&s3_fetch()),
            vec![EnvVar::value("WEIGHTS_URI", &input.weights_uri)],
        ),
    };
    env.push(EnvVar::value("DEST", &dest));
    if !input.region.is_empty() && input.delivery != Delivery::HubToNodeCache {
        env.push(EnvVar::value("AWS_REGION", &input.region));
    }
    Container {
        name: name.to_owned(),
        image,
        image_pull_policy: Some("IfNotPresent".to_owned()),
        command: vec!["sh".to_owned(), "-c".to_owned()],
        args: vec![script],
        env,
        ports: Vec::new(),
        resources: small_resources(),
        volume_mounts: cache_mount(),
        startup_probe: None,
        readiness_probe: None,
        liveness_probe: None,
        lifecycle: None,
    }
}

/// The init containers of the engine pods.
pub fn init_containers(input: &RenderInput) -> Vec<Container> {
    match input.delivery {
        Delivery::HubToNodeCache | Delivery::S3ToNodeCache => {
            vec![fetcher(input, "fetch-weights")]
        }
        Delivery::NvmePrepull => vec![Container {
            name: "wait-for-weights".to_owned(),
            image: input.image.clone(),
            image_pull_policy: Some("IfNotPresent".to_owned()),
            command: vec!["sh".to_owned(), "-c".to_owned()],
            args: vec![
                "until [ -f \"$DEST/.complete\" ]; do echo waiting for the pre-pull of $DEST; sleep 5; done\n"
                    .to_owned(),
            ],
            env: vec![EnvVar::value("DEST", &checkpoint_dir(input))],
            ports: Vec::new(),
            resources: ResourceRequirements {
                requests: labels([("cpu", "100m"), ("memory", "64Mi")]),
                limits: labels([("memory", "64Mi")]),
            },
            volume_mounts: cache_mount(),
            startup_probe: None,
            readiness_probe: None,
            liveness_probe: None,
            lifecycle: None,
        }],
        Delivery::S3Stream | Delivery::FsxVolume => Vec::new(),
    }
}

fn meta(input: &RenderInput, name: String) -> ObjectMeta {
    ObjectMeta {
        name: Some(name),
        namespace: Some(input.namespace.clone()),
        labels: pod::common_labels(input),
        annotations: Labels::new(),
    }
}

/// The ServiceAccount of the pods that read S3 (associate an IAM role with it through EKS Pod
/// Identity), when the delivery reads S3.
pub fn service_account(input: &RenderInput) -> Option<ServiceAccount> {
    reads_s3(input).then(|| ServiceAccount {
        api_version: "v1".to_owned(),
        kind: "ServiceAccount".to_owned(),
        metadata: meta(input, service_account_name(input)),
    })
}

/// Size the FSx claim asks for: the smallest FSx for Lustre file system, 1.2 TiB (FSx for
/// Lustre User Guide: SSD file systems start at 1.2 TiB), or the cache the checkpoint needs
/// when larger.
pub fn claim_gib(input: &RenderInput) -> u64 {
    pod::models_volume_gib(input).max(1200)
}

/// The PersistentVolumeClaim of the `fsx` delivery, bound to the PersistentVolume of the same
/// name (static provisioning with the FSx for Lustre CSI driver).
pub fn claim(input: &RenderInput) -> Option<PersistentVolumeClaim> {
    (input.delivery == Delivery::FsxVolume).then(|| PersistentVolumeClaim {
        api_version: "v1".to_owned(),
        kind: "PersistentVolumeClaim".to_owned(),
        metadata: meta(input, claim_name(input)),
        spec: super::k8s::ClaimSpec {
            access_modes: vec!["ReadOnlyMany".to_owned()],
            storage_class_name: String::new(),
            volume_name: claim_name(input),
            resources: super::k8s::ClaimResources {
                requests: labels([("storage", format!("{}Gi", claim_gib(input)).as_str())]),
            },
        },
    })
}

/// The pre-pull DaemonSet of the `nvme` delivery: one pod on every node of the deployment's
/// NodePool copies the checkpoint from S3 into the node cache as the node starts, then idles.
pub fn prepull_daemon_set(input: &RenderInput) -> Option<DaemonSet> {
    if input.delivery != Delivery::NvmePrepull {
        return None;
    }
    let name = format!("{}-weights-prepull", input.name);
    let select = labels([("app.kubernetes.io/name", name.as_str())]);
    let mut pod_labels = pod::common_labels(input);
    pod_labels.insert("app.kubernetes.io/name".to_owned(), name.clone());
    pod_labels.insert(
        "app.kubernetes.io/component".to_owned(),
        "weights-prepull".to_owned(),
    );
    Some(DaemonSet {
        api_version: "apps/v1".to_owned(),
        kind: "DaemonSet".to_owned(),
        metadata: meta(input, name),
        spec: DaemonSetSpec {
            selector: LabelSelector {
                match_labels: select,
            },
            template: PodTemplateSpec {
                metadata: ObjectMeta {
                    name: None,
                    namespace: None,
                    labels: pod_labels,
                    annotations: Labels::new(),
                },
                spec: PodSpec {
                    service_account_name: Some(service_account_name(input)),
                    termination_grace_period_seconds: Some(5),
                    node_selector: labels([("karpenter.sh/nodepool", input.name.as_str())]),
                    tolerations: vec![tolerate(input.accelerator_taint())],
                    affinity: None,
                    topology_spread_constraints: Vec::new(),
                    init_containers: vec![fetcher(input, "prepull-weights")],
                    containers: vec![Container {
                        name: "idle".to_owned(),
                        image: PAUSE_IMAGE.to_owned(),
                        image_pull_policy: Some("IfNotPresent".to_owned()),
                        resources: ResourceRequirements {
                            requests: labels([("cpu", "10m"), ("memory", "16Mi")]),
                            limits: labels([("memory", "16Mi")]),
                        },
                        ..Container::default()
                    }],
                    volumes: vec![Volume::host_path("models", node_cache_dir(input))],
                },
            },
        },
    })
}
