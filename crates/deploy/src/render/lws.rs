//! `leaderworkerset.x-k8s.io/v1` LeaderWorkerSet: one replica as a group of pods on several
//! nodes (the leader runs the API server and the Ray head, the workers join it), created,
//! restarted and scaled as a unit.
//!
//! Fields follow the LeaderWorkerSet API (kubernetes-sigs/lws, `api/leaderworkerset/v1`) and
//! the vLLM example in `docs/deployment/frameworks/lws.md` of vllm-project/vllm. The
//! controller injects `LWS_LEADER_ADDRESS` and `LWS_GROUP_SIZE` into every pod.

use super::input::RenderInput;
use super::k8s::{ObjectMeta, PodTemplateSpec};
use super::pod::{self, Role};
use serde::Serialize;

/// A LeaderWorkerSet.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LeaderWorkerSet {
    /// `leaderworkerset.x-k8s.io/v1`.
    pub api_version: String,
    /// `LeaderWorkerSet`.
    pub kind: String,
    /// Name, namespace, labels.
    pub metadata: ObjectMeta,
    /// The spec.
    pub spec: LwsSpec,
}

/// Spec of a LeaderWorkerSet.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LwsSpec {
    /// Groups (replicas); left out, since the ScaledObject owns the count (a re-applied
    /// `replicas` would reset it, as for a Deployment).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub replicas: Option<u32>,
    /// `LeaderCreated`: workers start with the leader, so that the Ray cluster forms.
    pub startup_policy: String,
    /// The group.
    pub leader_worker_template: LeaderWorkerTemplate,
}

/// The pods of one group.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LeaderWorkerTemplate {
    /// Pods per group, leader included.
    pub size: u32,
    /// `RecreateGroupOnPodRestart`: a failed pod restarts the whole group (a Ray cluster
    /// does not survive losing a member).
    pub restart_policy: String,
    /// The leader pod.
    pub leader_template: PodTemplateSpec,
    /// The worker pods.
    pub worker_template: PodTemplateSpec,
}

/// The LeaderWorkerSet of a multi-node replica.
pub fn leader_worker_set(input: &RenderInput) -> LeaderWorkerSet {
    LeaderWorkerSet {
        api_version: "leaderworkerset.x-k8s.io/v1".to_owned(),
        kind: "LeaderWorkerSet".to_owned(),
        metadata: ObjectMeta {
            name: Some(input.name.clone()),
            namespace: Some(input.namespace.clone()),
            labels: pod::common_labels(input),
            annotations: super::workload::interruption_annotations(input),
        },
        spec: LwsSpec {
            replicas: None,
            startup_policy: "LeaderCreated".to_owned(),
            leader_worker_template: LeaderWorkerTemplate {
                size: input.nodes_per_replica,
                restart_policy: "RecreateGroupOnPodRestart".to_owned(),
                leader_template: pod::template(input, Role::Leader),
                worker_template: pod::template(input, Role::Worker),
            },
        },
    }
}
