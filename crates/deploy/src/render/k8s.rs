//! Typed Kubernetes core objects, as much of them as the renderer emits: pod templates,
//! `apps/v1` Deployment and DaemonSet, `v1` Service, ServiceAccount and
//! PersistentVolumeClaim, and `policy/v1` PodDisruptionBudget.
//!
//! Field names and nesting follow the Kubernetes API reference (`k8s.io/api` types); fields
//! serialize in the order declared, maps (labels, resources) in key order, and empty optional
//! fields are left out, so the same input always gives the same text.

use serde::Serialize;
use std::collections::BTreeMap;

/// Largest replica count the Kubernetes API takes (2³¹ − 1): replica fields are int32
/// (Deployment, StatefulSet and LeaderWorkerSet `replicas`, HPA `minReplicas`/`maxReplicas`,
/// KEDA `minReplicaCount`/`maxReplicaCount`, PDB `maxUnavailable`). `render` refuses to write a
/// larger one and `lint` reports it (IL116).
pub const MAX_REPLICAS: u32 = inferplan_catalog::bounds::KUBERNETES_INT32_MAX;

/// Annotation on a workload whose pods tolerate interruption (`"true"`): `render` writes it
/// when the plan buys spot instances for async or batch work (requests queued and retried,
/// the re-run work counted in the plan's cost), and IL108 does not warn about spot capacity
/// for a workload that carries it.
pub const INTERRUPTION_TOLERANT: &str = "inferplan.io/interruption-tolerant";

/// Annotation beside [`INTERRUPTION_TOLERANT`] saying why the pods tolerate interruption.
pub const INTERRUPTION_TOLERANT_REASON: &str = "inferplan.io/interruption-tolerant-reason";

/// String-to-string map in key order (labels, annotations, node selectors).
pub type Labels = BTreeMap<String, String>;

/// `metadata` of an object.
#[derive(Debug, Clone, PartialEq, Serialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct ObjectMeta {
    /// Object name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Namespace (cluster-scoped objects have none).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// Labels.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: Labels,
    /// Annotations.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: Labels,
}

/// A label selector that matches labels exactly.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LabelSelector {
    /// Labels a pod must carry.
    pub match_labels: Labels,
}

/// A pod template.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PodTemplateSpec {
    /// Labels and annotations of the pods.
    pub metadata: ObjectMeta,
    /// The pod.
    pub spec: PodSpec,
}

/// A pod.
#[derive(Debug, Clone, PartialEq, Serialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct PodSpec {
    /// The service account whose identity the pod uses (S3 access through EKS Pod Identity).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service_account_name: Option<String>,
    /// Seconds between SIGTERM and SIGKILL (lets in-flight requests finish).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub termination_grace_period_seconds: Option<u32>,
    /// Nodes the pod may run on.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub node_selector: Labels,
    /// Taints the pod tolerates.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tolerations: Vec<Toleration>,
    /// Where pods go relative to other pods.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub affinity: Option<Affinity>,
    /// How replicas spread over nodes.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub topology_spread_constraints: Vec<TopologySpreadConstraint>,
    /// Containers that run to completion before the main ones.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub init_containers: Vec<Container>,
    /// The main containers.
    pub containers: Vec<Container>,
    /// Volumes.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub volumes: Vec<Volume>,
}

/// A container.
#[derive(Debug, Clone, PartialEq, Serialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct Container {
    /// Name.
    pub name: String,
    /// Image reference.
    pub image: String,
    /// When to pull the image.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image_pull_policy: Option<String>,
    /// Entrypoint.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub command: Vec<String>,
    /// Arguments.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub args: Vec<String>,
    /// Environment.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub env: Vec<EnvVar>,
    /// Ports.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub ports: Vec<ContainerPort>,
    /// Requests and limits.
    pub resources: ResourceRequirements,
    /// Mounted volumes.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub volume_mounts: Vec<VolumeMount>,
    /// Holds off the other probes until the engine is up.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub startup_probe: Option<Probe>,
    /// Takes the pod out of the Service when it fails.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub readiness_probe: Option<Probe>,
    /// Restarts the container when it fails.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub liveness_probe: Option<Probe>,
    /// Hooks around the container's life (the drain before it stops).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lifecycle: Option<Lifecycle>,
}

/// A container's lifecycle hooks.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Lifecycle {
    /// Runs before the container gets SIGTERM.
    pub pre_stop: LifecycleHandler,
}

/// A lifecycle hook.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LifecycleHandler {
    /// A command run in the container.
    pub exec: ExecAction,
}

/// A command run in the container.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ExecAction {
    /// The command and its arguments (no shell).
    pub command: Vec<String>,
}

/// An environment variable.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EnvVar {
    /// Name.
    pub name: String,
    /// Literal value.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    /// Value from a secret.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value_from: Option<EnvVarSource>,
}

impl EnvVar {
    /// A literal variable.
    pub fn value(name: &str, value: &str) -> EnvVar {
        EnvVar {
            name: name.to_owned(),
            value: Some(value.to_owned()),
            value_from: None,
        }
    }

    /// A variable read from a key of a secret; `optional` lets the pod start without it.
    pub fn secret(name: &str, secret: &str, key: &str, optional: bool) -> EnvVar {
        EnvVar {
            name: name.to_owned(),
            value: None,
            value_from: Some(EnvVarSource {
                secret_key_ref: SecretKeySelector {
                    name: secret.to_owned(),
                    key: key.to_owned(),
                    optional,
                },
            }),
        }
    }
}

/// Where an environment variable's value comes from.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EnvVarSource {
    /// A key of a secret.
    pub secret_key_ref: SecretKeySelector,
}

/// A key of a secret.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SecretKeySelector {
    /// Secret name.
    pub name: String,
    /// Key in the secret.
    pub key: String,
    /// Whether the pod starts without it.
    pub optional: bool,
}

/// A container port.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ContainerPort {
    /// Port name (services and probes refer to it).
    pub name: String,
    /// Port number.
    pub container_port: u16,
    /// `TCP`.
    pub protocol: String,
}

/// Requests and limits; quantities as Kubernetes strings (`"8"`, `"64Gi"`).
#[derive(Debug, Clone, PartialEq, Serialize, Default)]
pub struct ResourceRequirements {
    /// What the scheduler reserves.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub requests: Labels,
    /// Hard caps; for `nvidia.com/gpu` equal to the request.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub limits: Labels,
}

/// A volume mount.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct VolumeMount {
    /// Volume name.
    pub name: String,
    /// Path in the container.
    pub mount_path: String,
    /// Mounted read-only.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub read_only: bool,
}

impl VolumeMount {
    /// A read-write mount.
    pub fn new(name: &str, path: &str) -> VolumeMount {
        VolumeMount {
            name: name.to_owned(),
            mount_path: path.to_owned(),
            read_only: false,
        }
    }
}

/// A probe: an HTTP GET (servers) or a command (queue workers, which serve no HTTP).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Probe {
    /// The request.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub http_get: Option<HttpGetAction>,
    /// The command (exit 0: success).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exec: Option<ExecAction>,
    /// Seconds between probes.
    pub period_seconds: u32,
    /// Seconds before a probe times out.
    pub timeout_seconds: u32,
    /// Consecutive failures before acting.
    pub failure_threshold: u32,
}

/// An HTTP GET on a named container port.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HttpGetAction {
    /// Path, e.g. `/health`.
    pub path: String,
    /// Container port name.
    pub port: String,
}

/// A volume.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Volume {
    /// Name.
    pub name: String,
    /// A scratch directory that lives as long as the pod.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub empty_dir: Option<EmptyDir>,
    /// A directory of the node, shared by the pods on it and kept across pods.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub host_path: Option<HostPath>,
    /// A PersistentVolumeClaim.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub persistent_volume_claim: Option<ClaimRef>,
}

impl Volume {
    /// An `emptyDir` volume.
    pub fn empty_dir(name: &str, medium: Option<&str>, size_limit: String) -> Volume {
        Volume {
            name: name.to_owned(),
            empty_dir: Some(EmptyDir {
                medium: medium.map(str::to_owned),
                size_limit,
            }),
            host_path: None,
            persistent_volume_claim: None,
        }
    }

    /// A `hostPath` directory, created when missing.
    pub fn host_path(name: &str, path: &str) -> Volume {
        Volume {
            name: name.to_owned(),
            empty_dir: None,
            host_path: Some(HostPath {
                path: path.to_owned(),
                kind: "DirectoryOrCreate".to_owned(),
            }),
            persistent_volume_claim: None,
        }
    }

    /// A PersistentVolumeClaim, read-only.
    pub fn claim(name: &str, claim: &str) -> Volume {
        Volume {
            name: name.to_owned(),
            empty_dir: None,
            host_path: None,
            persistent_volume_claim: Some(ClaimRef {
                claim_name: claim.to_owned(),
                read_only: true,
            }),
        }
    }
}

/// A directory of the node.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HostPath {
    /// The path on the node.
    pub path: String,
    /// `DirectoryOrCreate`.
    #[serde(rename = "type")]
    pub kind: String,
}

/// A volume from a PersistentVolumeClaim.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ClaimRef {
    /// The claim's name.
    pub claim_name: String,
    /// Mounted read-only.
    pub read_only: bool,
}

/// A `v1` ServiceAccount.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ServiceAccount {
    /// `v1`.
    pub api_version: String,
    /// `ServiceAccount`.
    pub kind: String,
    /// Name, namespace, labels.
    pub metadata: ObjectMeta,
}

/// A `v1` PersistentVolumeClaim.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PersistentVolumeClaim {
    /// `v1`.
    pub api_version: String,
    /// `PersistentVolumeClaim`.
    pub kind: String,
    /// Name, namespace, labels.
    pub metadata: ObjectMeta,
    /// The spec.
    pub spec: ClaimSpec,
}

/// Spec of a PersistentVolumeClaim bound to a named PersistentVolume.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ClaimSpec {
    /// `ReadOnlyMany`.
    pub access_modes: Vec<String>,
    /// `""`: no dynamic provisioning, bind to `volume_name`.
    pub storage_class_name: String,
    /// The PersistentVolume it binds to.
    pub volume_name: String,
    /// Size asked for.
    pub resources: ClaimResources,
}

/// Storage asked for by a claim.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClaimResources {
    /// `storage`.
    pub requests: Labels,
}

/// An `apps/v1` DaemonSet.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DaemonSet {
    /// `apps/v1`.
    pub api_version: String,
    /// `DaemonSet`.
    pub kind: String,
    /// Name, namespace, labels.
    pub metadata: ObjectMeta,
    /// The spec.
    pub spec: DaemonSetSpec,
}

/// Spec of a DaemonSet.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DaemonSetSpec {
    /// Its pods.
    pub selector: LabelSelector,
    /// The pod.
    pub template: PodTemplateSpec,
}

/// A scratch volume: on the node's disk, or in memory (`medium: Memory`).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EmptyDir {
    /// `Memory` for tmpfs; absent for the node's disk.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub medium: Option<String>,
    /// Most it may hold.
    pub size_limit: String,
}

/// A toleration of a taint.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Toleration {
    /// Taint key.
    pub key: String,
    /// `Exists` or `Equal`.
    pub operator: String,
    /// `NoSchedule`, `PreferNoSchedule` or `NoExecute`.
    pub effect: String,
}

/// Spread of pods over a topology domain.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TopologySpreadConstraint {
    /// Largest allowed difference between domains.
    pub max_skew: u32,
    /// Node label that defines a domain.
    pub topology_key: String,
    /// `ScheduleAnyway` or `DoNotSchedule`.
    pub when_unsatisfiable: String,
    /// Pods counted.
    pub label_selector: LabelSelector,
}

/// `apps/v1` Deployment.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Deployment {
    /// `apps/v1`.
    pub api_version: String,
    /// `Deployment`.
    pub kind: String,
    /// Name, namespace, labels.
    pub metadata: ObjectMeta,
    /// The spec.
    pub spec: DeploymentSpec,
}

/// Spec of a Deployment.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DeploymentSpec {
    /// Replicas; left out (`None`) when an autoscaler owns the count, so that re-applying the
    /// manifest does not reset it (kubernetes.io, "Horizontal Pod Autoscaling", "Migrating
    /// Deployments and StatefulSets to horizontal autoscaling", checked 2026-12-07).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub replicas: Option<u32>,
    /// Seconds a rollout may take before it is reported as failed.
    pub progress_deadline_seconds: u32,
    /// Old ReplicaSets kept for rollback.
    pub revision_history_limit: u32,
    /// Pods it owns.
    pub selector: LabelSelector,
    /// How pods are replaced.
    pub strategy: DeploymentStrategy,
    /// The pods.
    pub template: PodTemplateSpec,
}

/// A rolling update.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DeploymentStrategy {
    /// `RollingUpdate`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Surge and unavailability.
    pub rolling_update: RollingUpdate,
}

/// Bounds of a rolling update.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RollingUpdate {
    /// Extra pods during the update.
    pub max_surge: u32,
    /// Pods that may be missing during the update.
    pub max_unavailable: u32,
}

/// `v1` Service.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Service {
    /// `v1`.
    pub api_version: String,
    /// `Service`.
    pub kind: String,
    /// Name, namespace, labels.
    pub metadata: ObjectMeta,
    /// The spec.
    pub spec: ServiceSpec,
}

/// Spec of a Service.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ServiceSpec {
    /// `ClusterIP`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Pods behind it.
    pub selector: Labels,
    /// Ports.
    pub ports: Vec<ServicePort>,
}

/// A service port.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ServicePort {
    /// Name.
    pub name: String,
    /// Port of the service.
    pub port: u16,
    /// Container port name.
    pub target_port: String,
    /// `TCP`.
    pub protocol: String,
}

/// `policy/v1` PodDisruptionBudget.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PodDisruptionBudget {
    /// `policy/v1`.
    pub api_version: String,
    /// `PodDisruptionBudget`.
    pub kind: String,
    /// Name, namespace, labels.
    pub metadata: ObjectMeta,
    /// The spec.
    pub spec: PdbSpec,
}

/// Spec of a PodDisruptionBudget.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PdbSpec {
    /// Pods that voluntary disruptions (drains, consolidation) may take at once.
    pub max_unavailable: u32,
    /// Pods covered.
    pub selector: LabelSelector,
}

/// `Exists` toleration of a `NoSchedule` taint.
pub fn tolerate(key: &str) -> Toleration {
    Toleration {
        key: key.to_owned(),
        operator: "Exists".to_owned(),
        effect: "NoSchedule".to_owned(),
    }
}

/// A label map from pairs.
pub fn labels<const N: usize>(pairs: [(&str, &str); N]) -> Labels {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

/// Affinity of a pod.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Affinity {
    /// Pods this pod must run near.
    pub pod_affinity: PodAffinity,
}

/// Required co-location with other pods.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PodAffinity {
    /// Terms that must hold when the pod is scheduled.
    pub required_during_scheduling_ignored_during_execution: Vec<PodAffinityTerm>,
}

/// Run in the same topology domain as the pods the selector matches.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PodAffinityTerm {
    /// Pods to be near.
    pub label_selector: ExpressionSelector,
    /// Label keys whose values, taken from this pod, are added to the selector (so that a
    /// pod is placed near the pods of its own group).
    pub match_label_keys: Vec<String>,
    /// Node label that defines the domain.
    pub topology_key: String,
}

/// A label selector by expressions.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ExpressionSelector {
    /// Requirements.
    pub match_expressions: Vec<SelectorRequirement>,
}

/// A label requirement.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SelectorRequirement {
    /// Label key.
    pub key: String,
    /// `Exists`, `In`, ...
    pub operator: String,
}
