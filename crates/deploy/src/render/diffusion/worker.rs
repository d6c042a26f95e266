//! The worker Deployment: one container per pod, one GPU, one job at a time, taken from the
//! SQS queue; the weights' delivery and the node selection are the LLM render's.
//!
//! A worker serves no HTTP, so its probes are commands that read two files the worker writes
//! in its own container filesystem (fresh at every container start, so a restarted worker is
//! not ready before it loads again, which an `emptyDir` would not give):
//!
//! - [`READY_FILE`]: written once the pipeline is on the GPU. The startup probe waits for it
//!   for the cold start's budget (`inferplan_serving::startup::probe_budget_s`, as for LLM
//!   servers); the readiness probe reads it too (a worker that lost it is not counted as
//!   available by a rollout).
//! - [`ALIVE_FILE`]: touched by the job loop itself at every receive and at the start of every
//!   job. The liveness probe restarts the container when it is older than the per-clip timeout
//!   plus [`SHUTDOWN_S`]: a worker stuck beyond the timeout it should have enforced. A health
//!   port answered by a separate thread would say "alive" while the job loop is hung in a CUDA
//!   call; the file says what the loop did.

use super::WorkerInput;
use crate::render::input::MODELS_MOUNT;
use crate::render::k8s::{
    labels, tolerate, Container, Deployment, DeploymentSpec, DeploymentStrategy, EnvVar,
    ExecAction, LabelSelector, Labels, ObjectMeta, PodSpec, PodTemplateSpec, Probe,
    ResourceRequirements, RollingUpdate, ServiceAccount, TopologySpreadConstraint, VolumeMount,
};
use crate::render::pod::{self, GPU_RESOURCE, GPU_TAINT, STARTUP_PERIOD_S};
use crate::render::{weights, workload};
use inferplan_serving::Delivery;

/// Name of the worker container.
pub const CONTAINER: &str = "worker";

/// The file the worker writes once its pipeline is loaded on the GPU.
pub const READY_FILE: &str = "/tmp/inferplan/ready";

/// The file the worker's job loop touches at every receive and at the start of every job.
pub const ALIVE_FILE: &str = "/tmp/inferplan/alive";

/// The per-clip timeout over the plan's predicted job time. `inferplan validate` on the
/// measured diffusion latencies puts the model's p90 absolute error at 45.7 % (VALIDATION.md,
/// "Diffusion"): twice the prediction covers a job the model under-predicts by that much and
/// more; a job still running at twice its prediction is stuck or throttled.
pub const JOB_TIMEOUT_FACTOR: f64 = 2.0;

/// The shortest per-clip timeout, seconds: the first job of a worker also pays kernel
/// autotuning and allocator warm-up (an assumption).
pub const MIN_JOB_TIMEOUT_S: u32 = 60;

/// Seconds a worker has after its last job to delete the message, release the GPU and exit
/// (an assumption).
pub const SHUTDOWN_S: u32 = 30;

/// The visibility timeout the worker keeps on the message it works on, seconds: it receives
/// with this timeout and extends it every [`VISIBILITY_HEARTBEAT_S`], so that a message whose
/// worker died (spot interruption, node failure) is visible to another worker within two
/// minutes rather than after the whole per-clip timeout.
pub const VISIBILITY_TIMEOUT_S: u32 = 120;

/// Seconds between the extensions of the message's visibility (`ChangeMessageVisibility`).
pub const VISIBILITY_HEARTBEAT_S: u32 = 60;

/// SQS's longest visibility timeout, seconds (12 hours: Amazon SQS Developer Guide,
/// "Amazon SQS visibility timeout"): the heartbeat keeps each extension below it.
pub const SQS_MAX_VISIBILITY_S: u32 = 43_200;

/// Seconds between liveness checks.
pub const LIVENESS_PERIOD_S: u32 = 30;

/// The per-clip timeout of a job the plan predicts at `job_s` seconds:
/// ⌈`job_s` × [`JOB_TIMEOUT_FACTOR`]⌉, at least [`MIN_JOB_TIMEOUT_S`].
pub fn job_timeout_s(job_s: f64) -> u32 {
    let t = (job_s * JOB_TIMEOUT_FACTOR).ceil();
    if t.is_finite() {
        (t.min(f64::from(u32::MAX / 2)) as u32).max(MIN_JOB_TIMEOUT_S)
    } else {
        MIN_JOB_TIMEOUT_S
    }
}

/// Seconds between SIGTERM and SIGKILL: the per-clip timeout plus [`SHUTDOWN_S`], so that a
/// worker removed by a scale-in, a rollout or a node drain finishes the clip it holds.
pub fn grace_period_s(input: &WorkerInput) -> u32 {
    input.job_timeout_s.saturating_add(SHUTDOWN_S)
}

/// Seconds after which a stale [`ALIVE_FILE`] fails the liveness probe.
pub fn alive_limit_s(input: &WorkerInput) -> u32 {
    grace_period_s(input)
}

/// Name of the workers' ServiceAccount.
pub fn service_account_name(input: &WorkerInput) -> String {
    format!("{}-worker", input.base.name)
}

/// The workers' ServiceAccount (associate an IAM role with it through EKS Pod Identity).
pub fn service_account(input: &WorkerInput) -> ServiceAccount {
    ServiceAccount {
        api_version: "v1".to_owned(),
        kind: "ServiceAccount".to_owned(),
        metadata: ObjectMeta {
            name: Some(service_account_name(input)),
            namespace: Some(input.base.namespace.clone()),
            labels: pod::common_labels(&input.base),
            annotations: Labels::new(),
        },
    }
}

/// The environment of the worker: the queue, the model, the job it was sized for and the
/// timeouts. KEDA reads `QUEUE_URL` from it too (`queueURLFromEnv`).
pub fn env(input: &WorkerInput) -> Vec<EnvVar> {
    let j = &input.job;
    let mut v = vec![
        EnvVar::value("QUEUE_URL", &input.queue_url),
        EnvVar::value("AWS_REGION", &input.queue_region),
        EnvVar::value("MODEL_ID", &input.hf_id),
        EnvVar::value("MODEL_DIR", &weights::checkpoint_dir(&input.base)),
        EnvVar::value("PRECISION", input.precision.as_str()),
        EnvVar::value("OFFLOAD", input.offload.as_str()),
        EnvVar::value("JOB_WIDTH", &j.width.to_string()),
        EnvVar::value("JOB_HEIGHT", &j.height.to_string()),
        EnvVar::value("JOB_FRAMES", &j.frames.to_string()),
        EnvVar::value("JOB_STEPS", &j.steps.to_string()),
        EnvVar::value("JOB_CFG", if j.cfg { "true" } else { "false" }),
        EnvVar::value("JOB_BATCH", &j.batch.to_string()),
    ];
    if let Some(fps) = j.fps {
        v.push(EnvVar::value("JOB_FPS", &format!("{fps}")));
    }
    v.extend([
        EnvVar::value("JOB_TIMEOUT_S", &input.job_timeout_s.to_string()),
        EnvVar::value("VISIBILITY_TIMEOUT_S", &VISIBILITY_TIMEOUT_S.to_string()),
        EnvVar::value(
            "VISIBILITY_HEARTBEAT_S",
            &VISIBILITY_HEARTBEAT_S.to_string(),
        ),
        EnvVar::value("READY_FILE", READY_FILE),
        EnvVar::value("ALIVE_FILE", ALIVE_FILE),
        EnvVar::value("HF_HUB_OFFLINE", "1"),
    ]);
    v
}

fn exec_probe(script: String, period: u32, timeout: u32, failures: u32) -> Probe {
    Probe {
        http_get: None,
        exec: Some(ExecAction {
            command: vec!["sh".to_owned(), "-c".to_owned(), script],
        }),
        period_seconds: period,
        timeout_seconds: timeout,
        failure_threshold: failures,
    }
}

/// Startup-probe failures allowed: the cold start's probe budget over the probe period.
pub fn startup_failure_threshold(input: &WorkerInput) -> u32 {
    input.base.startup_budget_s().div_ceil(STARTUP_PERIOD_S)
}

/// The worker container.
pub fn container(input: &WorkerInput) -> Container {
    let base = &input.base;
    let mem = format!("{}Gi", pod::memory_gib(base));
    let cpu = pod::cpu(base).to_string();
    let ready = format!("test -f {READY_FILE}");
    let alive = format!(
        "test $(( $(date +%s) - $(stat -c %Y {ALIVE_FILE}) )) -lt {}",
        alive_limit_s(input)
    );
    let mut mounts = Vec::new();
    if let Some(v) = weights::models_volume(base) {
        let mut m = VolumeMount::new(&v.name, MODELS_MOUNT);
        m.read_only = base.delivery == Delivery::FsxVolume;
        mounts.push(m);
    }
    Container {
        name: CONTAINER.to_owned(),
        image: base.image.clone(),
        image_pull_policy: Some("IfNotPresent".to_owned()),
        command: Vec::new(),
        args: Vec::new(),
        env: env(input),
        ports: Vec::new(),
        resources: ResourceRequirements {
            requests: labels([
                ("cpu", cpu.as_str()),
                ("memory", mem.as_str()),
                (GPU_RESOURCE, "1"),
            ]),
            limits: labels([("memory", mem.as_str()), (GPU_RESOURCE, "1")]),
        },
        volume_mounts: mounts,
        startup_probe: Some(exec_probe(
            ready.clone(),
            STARTUP_PERIOD_S,
            5,
            startup_failure_threshold(input),
        )),
        readiness_probe: Some(exec_probe(ready, 10, 5, 3)),
        liveness_probe: Some(exec_probe(alive, LIVENESS_PERIOD_S, 10, 2)),
        lifecycle: None,
    }
}

/// The Deployment of the workers. It starts at the warm pool (0 when the pool scales to
/// zero); KEDA owns the count afterwards. A rollout adds a worker before removing one.
pub fn deployment(input: &WorkerInput) -> Deployment {
    let base = &input.base;
    let mut volumes = Vec::new();
    if let Some(v) = weights::models_volume(base) {
        volumes.push(v);
    }
    Deployment {
        api_version: "apps/v1".to_owned(),
        kind: "Deployment".to_owned(),
        metadata: ObjectMeta {
            name: Some(base.name.clone()),
            namespace: Some(base.namespace.clone()),
            labels: pod::common_labels(base),
            annotations: workload::interruption_annotations(base),
        },
        spec: DeploymentSpec {
            // The ScaledObject owns the count (see `render::workload::deployment`).
            replicas: None,
            progress_deadline_seconds: workload::progress_deadline_s(base),
            revision_history_limit: 3,
            selector: LabelSelector {
                match_labels: pod::selector_labels(base),
            },
            strategy: DeploymentStrategy {
                kind: "RollingUpdate".to_owned(),
                rolling_update: RollingUpdate {
                    max_surge: 1,
                    max_unavailable: 0,
                },
            },
            template: PodTemplateSpec {
                metadata: ObjectMeta {
                    name: None,
                    namespace: None,
                    labels: pod::common_labels(base),
                    annotations: Labels::new(),
                },
                spec: PodSpec {
                    service_account_name: Some(service_account_name(input)),
                    termination_grace_period_seconds: Some(grace_period_s(input)),
                    node_selector: labels([
                        ("karpenter.sh/nodepool", base.name.as_str()),
                        ("node.kubernetes.io/instance-type", base.instance.as_str()),
                    ]),
                    tolerations: vec![tolerate(GPU_TAINT)],
                    affinity: None,
                    topology_spread_constraints: vec![TopologySpreadConstraint {
                        max_skew: 1,
                        topology_key: "kubernetes.io/hostname".to_owned(),
                        when_unsatisfiable: "ScheduleAnyway".to_owned(),
                        label_selector: LabelSelector {
                            match_labels: pod::selector_labels(base),
                        },
                    }],
                    init_containers: weights::init_containers(base),
                    containers: vec![container(input)],
                    volumes,
                },
            },
        },
    }
}
