//! Workloads that run pods: Deployment, StatefulSet, LeaderWorkerSet, Pod, Job, CronJob,
//! DaemonSet, ReplicaSet, and the pod templates inside the custom resources of serving
//! operators: KubeRay's RayCluster, RayService and RayJob (head and worker groups), KServe's
//! InferenceService (predictor, its `model` and `workerSpec`), ServingRuntime and
//! ClusterServingRuntime, LLMInferenceService (`template`, `worker`, `prefill`), and KAITO's
//! Workspace (`inference.template`).

use super::object::{string_map, Located, Object};
use super::pod::{pod, pod_with, storage_request, PodTemplate, Volume, VolumeKind};
use crate::render::k8s::{INTERRUPTION_TOLERANT, INTERRUPTION_TOLERANT_REASON, MAX_REPLICAS};
use crate::yaml::Node;

/// A workload that runs pods: Deployment, StatefulSet, LeaderWorkerSet, Pod, Job, CronJob,
/// DaemonSet, ReplicaSet.
#[derive(Debug, Clone)]
pub struct Workload<'a> {
    /// The object.
    pub object: Object<'a>,
    /// `spec.replicas` (replica groups for a LeaderWorkerSet), when written.
    pub replicas: Option<Located<i64>>,
    /// Pods per replica: a LeaderWorkerSet's `size`, the pods of a Ray cluster or of a
    /// multi-node KServe predictor, else 1.
    pub group_size: u32,
    /// Its pod templates: one, or a LeaderWorkerSet's leader (when given) then worker, or a
    /// Ray cluster's head then worker groups.
    pub pods: Vec<PodTemplate<'a>>,
    /// Pods of each template in one replica, in the order of `pods`.
    pub counts: Vec<u32>,
    /// The operator that turns the object into pods (`KubeRay`, `KServe`, `KAITO`), `None`
    /// for Kubernetes' own workloads and LeaderWorkerSet.
    pub operator: Option<&'static str>,
    /// Names of a StatefulSet's `volumeClaimTemplates`.
    pub claim_templates: Vec<String>,
}

impl Workload<'_> {
    /// True when a container serves a model (an engine, or a GPU).
    pub fn is_inference(&self) -> bool {
        self.pods
            .iter()
            .any(|p| p.containers.iter().any(|c| c.is_inference()))
    }

    /// The pod template that runs the engine (a LeaderWorkerSet's leader when it has one).
    pub fn main_pod(&self) -> Option<&PodTemplate<'_>> {
        self.pods
            .iter()
            .find(|p| p.containers.iter().any(|c| c.engine.is_some()))
            .or_else(|| self.pods.iter().find(|p| p.gpus() > 0))
            .or(self.pods.first())
    }

    /// GPUs of one replica: each template's GPUs times its pods (for a LeaderWorkerSet, the
    /// leader plus `size - 1` workers).
    pub fn gpus_per_replica(&self) -> u32 {
        self.pods
            .iter()
            .zip(&self.counts)
            .fold(0u32, |sum, (p, n)| {
                sum.saturating_add(p.gpus().saturating_mul(*n))
            })
    }

    /// Pods of one replica that have GPUs.
    pub fn gpu_pods_per_replica(&self) -> u32 {
        self.pods
            .iter()
            .zip(&self.counts)
            .filter(|(p, _)| p.gpus() > 0)
            .fold(0u32, |sum, (_, n)| sum.saturating_add(*n))
    }

    /// Why the workload tolerates interruption, when it says so: the annotation
    /// [`INTERRUPTION_TOLERANT`] set to `"true"` on the object or on its main pod template,
    /// with its reason ([`INTERRUPTION_TOLERANT_REASON`], empty when missing).
    pub fn interruption_tolerant(&self) -> Option<String> {
        let object = self.object.node.at("metadata").at("annotations");
        let object = string_map(object);
        let pod = self.main_pod().map(|p| p.annotations.clone());
        [Some(object), pod].into_iter().flatten().find_map(|a| {
            let get = |k: &str| a.iter().find(|(key, _)| key == k).map(|(_, v)| v.clone());
            get(INTERRUPTION_TOLERANT)
                .filter(|v| v.trim().eq_ignore_ascii_case("true"))
                .map(|_| get(INTERRUPTION_TOLERANT_REASON).unwrap_or_default())
        })
    }

    /// `spec.replicas`, defaulting to 1.
    pub fn replica_count(&self) -> i64 {
        self.replicas.as_ref().map_or(1, |r| r.value)
    }
}

/// A workload, or why a document that holds GPU pods could not be read as one.
pub(super) type Read<'a> = Result<Workload<'a>, String>;

pub(super) fn workload(object: Object<'_>) -> Read<'_> {
    // A KAITO Workspace keeps `resource` and `inference` at the top level.
    let spec = if object.kind == "Workspace" {
        object.node
    } else {
        object
            .node
            .get("spec")
            .filter(|s| s.is_map())
            .ok_or_else(|| "it has no `spec`".to_owned())?
    };
    let mut pods = Vec::new();
    let mut counts = Vec::new();
    let mut replicas_key = "replicas";
    let mut operator = None;
    let mut claim_templates = Vec::new();
    let missing = |path: &str| format!("no pod template at `{path}`");
    match object.kind.as_str() {
        "Pod" => {
            pods.extend(pod("pod", None, spec));
            counts.push(1);
        }
        "CronJob" => {
            let t = spec
                .path(&["jobTemplate", "spec", "template"])
                .ok_or_else(|| missing("spec.jobTemplate.spec.template"))?;
            pods.extend(pod("pod", t.get("metadata"), t.at("spec")));
            counts.push(1);
        }
        "LeaderWorkerSet" => {
            let lwt = spec
                .get("leaderWorkerTemplate")
                .ok_or_else(|| missing("spec.leaderWorkerTemplate"))?;
            let size = group(lwt.get("size").and_then(Node::as_i64));
            if let Some(t) = lwt.get("leaderTemplate") {
                if let Some(p) = pod("leader", t.get("metadata"), t.at("spec")) {
                    pods.push(p);
                    counts.push(1);
                }
            }
            let t = lwt
                .get("workerTemplate")
                .ok_or_else(|| missing("spec.leaderWorkerTemplate.workerTemplate"))?;
            if let Some(p) = pod("worker", t.get("metadata"), t.at("spec")) {
                pods.push(p);
                counts.push(if counts.is_empty() {
                    size
                } else {
                    size.saturating_sub(1)
                });
            }
        }
        "RayCluster" | "RayService" | "RayJob" => {
            operator = Some("KubeRay");
            let cluster = match object.kind.as_str() {
                "RayService" => spec.get("rayClusterConfig"),
                "RayJob" => spec.get("rayClusterSpec"),
                _ => Some(spec),
            }
            .ok_or_else(|| {
                missing(if object.kind == "RayService" {
                    "spec.rayClusterConfig"
                } else {
                    "spec.rayClusterSpec"
                })
            })?;
            if let Some(t) = cluster.path(&["headGroupSpec", "template"]) {
                if let Some(p) = pod("head", t.get("metadata"), t.at("spec")) {
                    pods.push(p);
                    counts.push(1);
                }
            }
            for g in cluster.at("workerGroupSpecs").items() {
                let Some(t) = g.get("template") else { continue };
                if let Some(p) = pod("worker", t.get("metadata"), t.at("spec")) {
                    // Pods of a group: replicas (minReplicas when unset) × numOfHosts.
                    let n = group(
                        g.get("replicas")
                            .or_else(|| g.get("minReplicas"))
                            .and_then(Node::as_i64),
                    );
                    let hosts = group(g.get("numOfHosts").and_then(Node::as_i64));
                    pods.push(p);
                    counts.push(n.saturating_mul(hosts));
                }
            }
            replicas_key = "";
        }
        "InferenceService" => {
            operator = Some("KServe");
            let predictor = spec
                .get("predictor")
                .filter(|p| p.is_map())
                .ok_or_else(|| missing("spec.predictor"))?;
            let model: Vec<&Node> = predictor.get("model").into_iter().collect();
            pods.extend(pod_with("predictor", None, predictor, &model));
            counts.push(1);
            if let Some(w) = predictor.get("workerSpec") {
                if let Some(p) = pod("worker", None, w) {
                    // pipelineParallelSize is the number of nodes: the head and PP - 1 workers.
                    let pp = group(w.get("pipelineParallelSize").and_then(Node::as_i64));
                    pods.push(p);
                    counts.push(pp.saturating_sub(1).max(1));
                }
            }
            replicas_key = "";
        }
        "ServingRuntime" | "ClusterServingRuntime" => {
            operator = Some("KServe");
            pods.extend(pod("runtime", None, spec));
            counts.push(1);
            if let Some(w) = spec.get("workerSpec") {
                if let Some(p) = pod("worker", None, w) {
                    let pp = group(w.get("pipelineParallelSize").and_then(Node::as_i64));
                    pods.push(p);
                    counts.push(pp.saturating_sub(1).max(1));
                }
            }
            replicas_key = "";
        }
        "LLMInferenceService" | "LLMInferenceServiceConfig" => {
            operator = Some("KServe");
            // `template` and `worker` are pod specs; a worker makes each replica a group of
            // data / dataLocal pods (one leader), as KServe runs it with a LeaderWorkerSet.
            for (at, role) in [(spec, "template"), (spec.at("prefill"), "prefill")] {
                let Some(t) = at.get("template") else {
                    continue;
                };
                if let Some(p) = pod(role, None, t) {
                    pods.push(p);
                    counts.push(1);
                }
                if let Some(w) = at.get("worker") {
                    if let Some(p) = pod("worker", None, w) {
                        let par = at.at("parallelism");
                        let get = |k: &str| par.get(k).and_then(Node::as_i64);
                        let nodes = match (get("data"), get("dataLocal")) {
                            (Some(d), Some(l)) if l > 0 => group(Some(d / l)),
                            _ => group(get("pipeline")),
                        };
                        pods.push(p);
                        counts.push(nodes.saturating_sub(1).max(1));
                    }
                }
            }
            if pods.is_empty() {
                return Err(
                    "no `spec.template`: the pods come from the LLMInferenceServiceConfig it \
                     refers to (baseRefs) or KServe's well-known configs; lint those"
                        .to_owned(),
                );
            }
        }
        "Workspace" => {
            operator = Some("KAITO");
            let node = object.node;
            let Some(t) = node.path(&["inference", "template"]) else {
                let preset = node
                    .path(&["inference", "preset", "name"])
                    .and_then(Node::text)
                    .unwrap_or_default();
                let sku = node
                    .path(&["resource", "instanceType"])
                    .and_then(Node::text)
                    .unwrap_or_default();
                return Err(format!(
                    "KAITO generates its pods from preset `{preset}` on `{sku}`: lint the \
                     Deployment or StatefulSet it creates (kubectl get deployment,statefulset \
                     -o yaml)"
                ));
            };
            pods.extend(pod("pod", t.get("metadata"), t.at("spec")));
            counts.push(1);
            replicas_key = "";
        }
        _ => {
            let t = spec
                .get("template")
                .ok_or_else(|| missing("spec.template"))?;
            pods.extend(pod("pod", t.get("metadata"), t.at("spec")));
            counts.push(1);
        }
    }
    let replicas = spec.entry(replicas_key).and_then(|e| {
        replica_count(&e.value).map(|n| Located {
            value: n,
            line: e.line,
        })
    });
    for t in spec.at("volumeClaimTemplates").items() {
        if let Some(n) = t.path(&["metadata", "name"]).and_then(Node::text) {
            let size = t
                .get("spec")
                .and_then(|s| storage_request(s, &format!("volumeClaimTemplates `{n}`")));
            claim_templates.push((n, size));
        }
    }
    if pods.is_empty() {
        return Err("its pod template has no `spec` map".to_owned());
    }
    // StatefulSet claim templates are persistent volumes of the pod.
    for p in &mut pods {
        for v in &mut p.volumes {
            if let Some((_, size)) = claim_templates.iter().find(|(n, _)| *n == v.name) {
                v.kind = VolumeKind::Persistent;
                v.claim_size = size.clone();
            }
        }
        for c in p.containers.iter().chain(p.init_containers.iter()) {
            for m in &c.mounts {
                let Some((_, size)) = claim_templates.iter().find(|(n, _)| *n == m.name) else {
                    continue;
                };
                if p.volume(&m.name).is_none() {
                    p.volumes.push(Volume {
                        name: m.name.clone(),
                        kind: VolumeKind::Persistent,
                        line: m.line,
                        size_limit_line: m.line,
                        claim: None,
                        claim_size: size.clone(),
                    });
                }
            }
        }
    }
    let group_size = counts.iter().fold(0u32, |a, n| a.saturating_add(*n)).max(1);
    Ok(Workload {
        object,
        replicas,
        group_size,
        pods,
        counts,
        operator,
        claim_templates: claim_templates.into_iter().map(|(n, _)| n).collect(),
    })
}

/// A pod count written in a manifest (`size`, `replicas`, `numOfHosts`): 1 when missing or
/// below 1, at most 100,000.
fn group(n: Option<i64>) -> u32 {
    n.filter(|s| *s >= 1).map_or(1, |s| s.min(100_000) as u32)
}

/// A replica count Kubernetes accepts (0 to [`MAX_REPLICAS`]); `None` for anything else
/// (IL116 reports it), so that no rule reasons from a count the API server refuses.
pub(super) fn replica_count(n: &Node) -> Option<i64> {
    n.as_i64()
        .filter(|v| (0..=i64::from(MAX_REPLICAS)).contains(v))
}
