//! The engine's pods: the engine container (vLLM or SGLang) with its probes and resources, the
//! init container of the weights' delivery, the volumes, and the scheduling onto the GPU node
//! pool. Used by the Deployment and by both templates of a LeaderWorkerSet.

use super::engine::Server;
use super::input::{RenderInput, MODELS_MOUNT};
use super::k8s::{
    labels, tolerate, Affinity, Container, ContainerPort, EnvVar, ExecAction, ExpressionSelector,
    HttpGetAction, LabelSelector, Labels, Lifecycle, LifecycleHandler, ObjectMeta, PodAffinity,
    PodAffinityTerm, PodSpec, PodTemplateSpec, Probe, ResourceRequirements, SelectorRequirement,
    TopologySpreadConstraint, Volume, VolumeMount,
};
use super::{sglang, vllm, weights};
use inferplan_perf::Engine;
use inferplan_serving::Delivery;

/// Taint key of the GPU nodes (the NodePool sets it; the pods tolerate it).
pub const GPU_TAINT: &str = "nvidia.com/gpu";
/// Extended resource of the NVIDIA device plugin.
pub const GPU_RESOURCE: &str = "nvidia.com/gpu";
/// Seconds between startup-probe attempts.
pub const STARTUP_PERIOD_S: u32 = 10;
/// Fraction of the instance's vCPUs and memory the engine pods request
/// ([`inferplan_serving::host::NODE_SHARE`]).
pub const NODE_SHARE: f64 = inferplan_serving::host::NODE_SHARE;

/// Which pod of a replica.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// The only pod of a single-node replica.
    Single,
    /// The pod that runs the API server (and the Ray head) of a multi-node replica.
    Leader,
    /// A Ray worker of a multi-node replica.
    Worker,
}

/// Labels every object carries.
pub fn common_labels(input: &RenderInput) -> Labels {
    labels([
        ("app.kubernetes.io/name", input.name.as_str()),
        ("app.kubernetes.io/component", "inference-server"),
        ("app.kubernetes.io/managed-by", "inferplan"),
    ])
}

/// Labels that select the engine pods.
pub fn selector_labels(input: &RenderInput) -> Labels {
    labels([("app.kubernetes.io/name", input.name.as_str())])
}

/// The pod template of one role.
pub fn template(input: &RenderInput, role: Role) -> PodTemplateSpec {
    let mut pod_labels = common_labels(input);
    if role != Role::Single {
        let r = if role == Role::Leader {
            "leader"
        } else {
            "worker"
        };
        pod_labels.insert("role".to_owned(), r.to_owned());
    }
    let mut annotations = Labels::new();
    if role != Role::Worker {
        annotations.insert("prometheus.io/scrape".to_owned(), "true".to_owned());
        let server = input.server();
        annotations.insert("prometheus.io/port".to_owned(), server.port.to_string());
        annotations.insert(
            "prometheus.io/path".to_owned(),
            server.metrics_path.to_owned(),
        );
    }
    let mut volumes = Vec::new();
    if let Some(v) = weights::models_volume(input) {
        volumes.push(v);
    }
    if input.neuron.is_some() {
        volumes.push(Volume::host_path(
            NEURON_COMPILED_VOLUME,
            super::neuron::COMPILED_HOST_DIR,
        ));
    }
    if needs_shm(input) {
        volumes.push(Volume::empty_dir(
            "dshm",
            Some("Memory"),
            gib(shm_gib(input)),
        ));
    }
    PodTemplateSpec {
        metadata: ObjectMeta {
            name: None,
            namespace: None,
            labels: pod_labels,
            annotations,
        },
        spec: PodSpec {
            service_account_name: weights::pod_service_account(input),
            termination_grace_period_seconds: Some(grace_period_s(input)),
            node_selector: labels([
                ("karpenter.sh/nodepool", input.name.as_str()),
                ("node.kubernetes.io/instance-type", input.instance.as_str()),
            ]),
            tolerations: vec![tolerate(input.accelerator_taint())],
            affinity: (role != Role::Single).then(same_zone_as_group),
            topology_spread_constraints: vec![TopologySpreadConstraint {
                max_skew: 1,
                topology_key: "kubernetes.io/hostname".to_owned(),
                when_unsatisfiable: "ScheduleAnyway".to_owned(),
                label_selector: LabelSelector {
                    match_labels: selector_labels(input),
                },
            }],
            init_containers: weights::init_containers(input),
            containers: vec![engine(input, role)],
            volumes,
        },
    }
}

/// Label the LeaderWorkerSet controller puts on every pod of a group, with the group's
/// value.
pub const LWS_GROUP_KEY: &str = "leaderworkerset.sigs.k8s.io/group-key";

/// The pods of a multi-node replica run in one availability zone: a required pod affinity on
/// `topology.kubernetes.io/zone` towards the pods with the same group key (`matchLabelKeys`,
/// GA in Kubernetes 1.33). Pipeline stages exchange activations every step; across zones
/// that adds latency and inter-AZ traffic cost (finding IP102).
fn same_zone_as_group() -> Affinity {
    Affinity {
        pod_affinity: PodAffinity {
            required_during_scheduling_ignored_during_execution: vec![PodAffinityTerm {
                label_selector: ExpressionSelector {
                    match_expressions: vec![SelectorRequirement {
                        key: LWS_GROUP_KEY.to_owned(),
                        operator: "Exists".to_owned(),
                    }],
                },
                match_label_keys: vec![LWS_GROUP_KEY.to_owned()],
                topology_key: "topology.kubernetes.io/zone".to_owned(),
            }],
        },
    }
}

/// TP > 1 (NCCL between the GPUs of a pod) and multi-node replicas (Ray's object store)
/// need a `/dev/shm` larger than the container runtime's 64 MiB default.
pub fn needs_shm(input: &RenderInput) -> bool {
    // NCCL's; the Neuron runtime runs its collectives between the cores of the chips.
    input.neuron.is_none() && (input.tp > 1 || input.nodes_per_replica > 1)
}

/// Size of `/dev/shm`, GiB: an eighth of the pod's memory, between 1 and 16 GiB (it counts
/// against the container's memory limit).
pub fn shm_gib(input: &RenderInput) -> u64 {
    (memory_gib(input) / 8).clamp(1, 16)
}

/// Room the node cache needs for the checkpoint, GiB: its download (16-bit when the engine
/// quantizes at load, not the planned format's size) plus a fifth for tokenizer files and
/// headroom, plus 5 GiB. One copy per node, whatever the pods on it.
pub fn models_volume_gib(input: &RenderInput) -> u64 {
    let download_gib = input.download_bytes as f64 / (1u64 << 30) as f64;
    (download_gib * 1.2).ceil() as u64 + 5
}

/// vCPUs one engine pod requests: its share of the instance.
pub fn cpu(input: &RenderInput) -> u64 {
    let pods = pods_per_node(input);
    match input.vcpus {
        Some(v) if v > 0.0 => ((v * NODE_SHARE / pods).floor() as u64).max(1),
        // An assumption when the catalog has no vCPU count: 4 per GPU.
        _ => u64::from(input.gpus_per_pod) * 4,
    }
}

/// Memory one engine pod requests (and is limited to), GiB.
pub fn memory_gib(input: &RenderInput) -> u64 {
    inferplan_serving::host::pod_memory_gib(input.ram_gib, pods_per_node(input), input.gpus_per_pod)
}

fn pods_per_node(input: &RenderInput) -> f64 {
    if input.nodes_per_replica > 1 {
        1.0
    } else {
        f64::from(input.replicas_per_instance.max(1))
    }
}

/// Seconds a terminating pod gets to finish the requests it holds: the p99 end-to-end
/// latency plus 30 s, between 60 and 600.
pub fn grace_period_s(input: &RenderInput) -> u32 {
    ((input.e2e_p99_ms / 1000.0).ceil() as u32 + 30).clamp(60, 600)
}

/// Seconds the `preStop` hook sleeps before the engine gets SIGTERM: the p99 end-to-end
/// latency (rounded up), so that the requests in flight when the pod leaves the Service's
/// endpoints finish; at most the grace period less 30 s for the engine's own shutdown.
pub fn drain_s(input: &RenderInput) -> u32 {
    let e2e = (input.e2e_p99_ms.max(0.0) / 1000.0).ceil();
    let e2e = if e2e.is_finite() {
        e2e.min(600.0) as u32
    } else {
        0
    };
    e2e.max(1).min(grace_period_s(input) - 30)
}

/// Startup-probe failures allowed: the startup budget over the probe period.
pub fn startup_failure_threshold(input: &RenderInput) -> u32 {
    input.startup_budget_s().div_ceil(STARTUP_PERIOD_S)
}

fn gib(n: u64) -> String {
    format!("{n}Gi")
}

fn probe(server: &Server, period: u32, timeout: u32, failures: u32) -> Probe {
    Probe {
        http_get: Some(HttpGetAction {
            path: server.health_path.to_owned(),
            port: "http".to_owned(),
        }),
        exec: None,
        period_seconds: period,
        timeout_seconds: timeout,
        failure_threshold: failures,
    }
}

/// The engine container.
fn engine(input: &RenderInput, role: Role) -> Container {
    let server = input.server();
    let gpus = input.gpus_per_pod.to_string();
    let accelerator = input.accelerator_resource();
    let mem = gib(memory_gib(input));
    let efa = input.efa_interfaces.map(|n| n.to_string());
    let mut requests = labels([
        ("cpu", cpu(input).to_string().as_str()),
        ("memory", mem.as_str()),
        (accelerator, gpus.as_str()),
    ]);
    let mut limits = labels([("memory", mem.as_str()), (accelerator, gpus.as_str())]);
    if let Some(n) = &efa {
        requests.insert(EFA_RESOURCE.to_owned(), n.clone());
        limits.insert(EFA_RESOURCE.to_owned(), n.clone());
    }
    let mut mounts = Vec::new();
    if let Some(v) = weights::models_volume(input) {
        let mut m = VolumeMount::new(&v.name, MODELS_MOUNT);
        m.read_only = input.delivery == Delivery::FsxVolume;
        mounts.push(m);
    }
    if input.neuron.is_some() {
        mounts.push(VolumeMount::new(
            NEURON_COMPILED_VOLUME,
            super::neuron::COMPILED_MOUNT,
        ));
    }
    if needs_shm(input) {
        mounts.push(VolumeMount::new("dshm", "/dev/shm"));
    }
    let (command, args) = match (&input.neuron, input.engine) {
        (Some(setup), _) => (
            vec!["vllm".to_owned(), "serve".to_owned()],
            super::neuron::serve_args(input, setup, &input.model_path()),
        ),
        (None, Engine::Sglang) => sglang_command(input, role),
        (None, Engine::Trtllm) => super::trtllm::command(input),
        (None, Engine::Tgi) => super::tgi::command(input),
        (None, Engine::Lmdeploy) => match &input.lmdeploy {
            Some(setup) => super::lmdeploy::command(input, setup),
            None => vllm_command(input, role),
        },
        (None, _) => vllm_command(input, role),
    };
    let serves_http = role != Role::Worker;
    let mut env = vec![EnvVar::value("HF_HUB_OFFLINE", "1")];
    if let Some(setup) = &input.neuron {
        env.push(EnvVar::value(
            super::neuron::COMPILED_ARTIFACTS_ENV,
            &setup.artifacts,
        ));
        if super::neuron::needs_special_scalar(input) {
            env.push(EnvVar::value(super::neuron::SPECIAL_SCALAR_ENV, "1"));
        }
    }
    if input.delivery == Delivery::S3Stream && !input.region.is_empty() {
        env.push(EnvVar::value("AWS_REGION", &input.region));
    }
    Container {
        name: server.name.to_owned(),
        image: input.image.clone(),
        image_pull_policy: Some("IfNotPresent".to_owned()),
        command,
        args,
        env,
        ports: if serves_http {
            vec![ContainerPort {
                name: "http".to_owned(),
                container_port: server.port,
                protocol: "TCP".to_owned(),
            }]
        } else {
            Vec::new()
        },
        resources: ResourceRequirements { requests, limits },
        volume_mounts: mounts,
        startup_probe: serves_http.then(|| {
            probe(
                server,
                STARTUP_PERIOD_S,
                5,
                startup_failure_threshold(input),
            )
        }),
        readiness_probe: serves_http.then(|| probe(server, 10, 5, 3)),
        liveness_probe: serves_http.then(|| probe(server, 15, 10, 4)),
        lifecycle: serves_http.then(|| Lifecycle {
            pre_stop: LifecycleHandler {
                exec: ExecAction {
                    command: vec!["sleep".to_owned(), drain_s(input).to_string()],
                },
            },
        }),
    }
}

/// Extended resource of the EFA device plugin (Amazon EKS User Guide, "Manage EFA devices on
/// Amazon EKS": the plugin advertises EFA interfaces as `vpc.amazonaws.com/efa`; Karpenter
/// configures every interface of a node launched for a pod that requests it as EFA).
pub const EFA_RESOURCE: &str = "vpc.amazonaws.com/efa";

/// The volume of the Neuron compiled-artifacts cache on the node.
pub const NEURON_COMPILED_VOLUME: &str = "neuron-compiled";

/// `vllm serve` (one pod), or the Ray leader and workers of a multi-node replica
/// (`multi-node-serving.sh` of the vLLM image, `docs/deployment/frameworks/lws.md`).
fn vllm_command(input: &RenderInput, role: Role) -> (Vec<String>, Vec<String>) {
    let serve = vllm::serve_args(input, &input.model_path());
    match role {
        Role::Single => (vec!["vllm".to_owned(), "serve".to_owned()], serve),
        Role::Leader => {
            let words: Vec<String> = serve.iter().map(|w| vllm::shell_word(w)).collect();
            (
                vec!["sh".to_owned(), "-c".to_owned()],
                vec![format!(
                    "bash /vllm-workspace/examples/online_serving/multi-node-serving.sh leader \
                     --ray_cluster_size=$(LWS_GROUP_SIZE) && exec vllm serve {}",
                    words.join(" ")
                )],
            )
        }
        Role::Worker => (
            vec!["sh".to_owned(), "-c".to_owned()],
            vec![
                "bash /vllm-workspace/examples/online_serving/multi-node-serving.sh worker \
                 --ray_address=$(LWS_LEADER_ADDRESS)"
                    .to_owned(),
            ],
        ),
    }
}

/// `python3 -m sglang.launch_server`: every pod of a multi-node replica runs it with its
/// node rank (the LeaderWorkerSet's worker index) and the leader's rendezvous address.
fn sglang_command(input: &RenderInput, role: Role) -> (Vec<String>, Vec<String>) {
    let mut args = sglang::serve_args(input, &input.model_path());
    if role != Role::Single {
        args.extend(sglang::multi_node_args(input));
    }
    (
        vec![
            "python3".to_owned(),
            "-m".to_owned(),
            "sglang.launch_server".to_owned(),
        ],
        args,
    )
}
