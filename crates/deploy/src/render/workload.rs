//! The Kubernetes core objects of a rendered deployment: the Deployment (a replica inside
//! one node), the Service in front of the API servers and the PodDisruptionBudget.

use super::input::RenderInput;
use super::k8s::{
    Deployment, DeploymentSpec, DeploymentStrategy, LabelSelector, Labels, ObjectMeta, PdbSpec,
    PodDisruptionBudget, RollingUpdate, Service, ServicePort, ServiceSpec, INTERRUPTION_TOLERANT,
    INTERRUPTION_TOLERANT_REASON,
};
use super::pod::{self, Role};
use inferplan_plan::workload::Mode;

fn meta(input: &RenderInput) -> ObjectMeta {
    ObjectMeta {
        name: Some(input.name.clone()),
        namespace: Some(input.namespace.clone()),
        labels: pod::common_labels(input),
        annotations: interruption_annotations(input),
    }
}

/// [`INTERRUPTION_TOLERANT`] and its reason when the plan runs the workload on spot (async
/// or batch work only: the plan never buys spot for interactive serving), else nothing.
pub fn interruption_annotations(input: &RenderInput) -> Labels {
    let mut a = Labels::new();
    if !input.capacity_types().contains(&"spot") {
        return a;
    }
    let mode = match input.slo.mode {
        Mode::Async => "async",
        Mode::Batch => "batch",
        Mode::Interactive => return a,
    };
    a.insert(INTERRUPTION_TOLERANT.to_owned(), "true".to_owned());
    a.insert(
        INTERRUPTION_TOLERANT_REASON.to_owned(),
        format!(
            "the plan buys spot for this {mode} work: requests are queued and retried, \
             interrupted work runs again and its hours are in the plan's cost"
        ),
    );
    a
}

/// The Deployment of single-node replicas.
///
/// It has no `spec.replicas`: the ScaledObject owns the count, and a written one would reset
/// it on every `kubectl apply` (kubernetes.io, "Horizontal Pod Autoscaling", "Migrating
/// Deployments and StatefulSets to horizontal autoscaling"). Created, it starts with one
/// replica (the API's default) and KEDA raises it to the minimum, or to none for a batch
/// job outside its run. A rollout adds one new replica before removing an old one (`maxSurge: 1`,
/// `maxUnavailable: 0`), so capacity never drops below the plan during an update; the
/// progress deadline covers a cold start ([`progress_deadline_s`]).
pub fn deployment(input: &RenderInput) -> Deployment {
    Deployment {
        api_version: "apps/v1".to_owned(),
        kind: "Deployment".to_owned(),
        metadata: meta(input),
        spec: DeploymentSpec {
            replicas: None,
            progress_deadline_seconds: progress_deadline_s(input),
            revision_history_limit: 3,
            selector: LabelSelector {
                match_labels: pod::selector_labels(input),
            },
            strategy: DeploymentStrategy {
                kind: "RollingUpdate".to_owned(),
                rolling_update: RollingUpdate {
                    max_surge: 1,
                    max_unavailable: 0,
                },
            },
            template: pod::template(input, Role::Single),
        },
    }
}

/// Seconds a rollout may take before the Deployment reports it stalled: a whole cold start
/// of a new node (boot, the copy of the weights, the engine) a quarter longer, plus 5 minutes
/// for scheduling and the image pull, at least 10 minutes.
pub fn progress_deadline_s(input: &RenderInput) -> u32 {
    let cold = input.cold_start.seconds * inferplan_serving::startup::PROBE_MARGIN;
    let cold = if cold.is_finite() {
        cold.ceil().min(1e6) as u32
    } else {
        0
    };
    (cold.max(input.startup_budget_s()) + 300).max(600)
}

/// The ClusterIP Service of the OpenAI-compatible API (the leaders of a LeaderWorkerSet).
pub fn service(input: &RenderInput) -> Service {
    let mut selector = pod::selector_labels(input);
    if input.nodes_per_replica > 1 {
        selector.insert("role".to_owned(), "leader".to_owned());
    }
    Service {
        api_version: "v1".to_owned(),
        kind: "Service".to_owned(),
        metadata: meta(input),
        spec: ServiceSpec {
            kind: "ClusterIP".to_owned(),
            selector,
            ports: vec![ServicePort {
                name: "http".to_owned(),
                port: input.server().port,
                target_port: "http".to_owned(),
                protocol: "TCP".to_owned(),
            }],
        },
    }
}

/// The PodDisruptionBudget: voluntary disruptions (node drains, Karpenter consolidation and
/// expiry) take one pod at a time, so at most one replica is cold-starting because of them.
pub fn pdb(input: &RenderInput) -> PodDisruptionBudget {
    PodDisruptionBudget {
        api_version: "policy/v1".to_owned(),
        kind: "PodDisruptionBudget".to_owned(),
        metadata: meta(input),
        spec: PdbSpec {
            max_unavailable: 1,
            selector: LabelSelector {
                match_labels: pod::selector_labels(input),
            },
        },
    }
}
