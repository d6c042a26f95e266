//! Workloads that run pods: Deployment, StatefulSet, LeaderWorkerSet, Pod, Job, CronJob,
//! DaemonSet, ReplicaSet.

use super::object::{Located, Object};
use super::pod::{pod, PodTemplate, Volume, VolumeKind};
use crate::render::k8s::MAX_REPLICAS;
use crate::yaml::Node;

/// A workload that runs pods: Deployment, StatefulSet, LeaderWorkerSet, Pod, Job, CronJob,
/// DaemonSet, ReplicaSet.
#[derive(Debug, Clone)]
pub struct Workload<'a> {
    /// The object.
    pub object: Object<'a>,
    /// `spec.replicas` (replica groups for a LeaderWorkerSet), when written.
    pub replicas: Option<Located<i64>>,
    /// Pods per replica: a LeaderWorkerSet's `size`, else 1.
    pub group_size: u32,
    /// Its pod templates: one, or a LeaderWorkerSet's leader (when given) then worker.
    pub pods: Vec<PodTemplate<'a>>,
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

    /// GPUs of one replica: for a LeaderWorkerSet, the leader plus `size - 1` workers.
    pub fn gpus_per_replica(&self) -> u32 {
        match self.pods.as_slice() {
            [one] => one.gpus().saturating_mul(self.group_size.max(1)),
            [leader, worker] => leader
                .gpus()
                .saturating_add(worker.gpus().saturating_mul(self.group_size.max(1) - 1)),
            _ => 0,
        }
    }

    /// `spec.replicas`, defaulting to 1.
    pub fn replica_count(&self) -> i64 {
        self.replicas.as_ref().map_or(1, |r| r.value)
    }
}

pub(super) fn workload(object: Object<'_>) -> Option<Workload<'_>> {
    let spec = object.node.get("spec")?;
    let mut pods = Vec::new();
    let mut group_size = 1;
    let mut replicas = None;
    let mut claim_templates = Vec::new();
    match object.kind.as_str() {
        "Pod" => pods.extend(pod("pod", None, spec)),
        "CronJob" => {
            let t = spec.path(&["jobTemplate", "spec", "template"])?;
            pods.extend(pod("pod", t.get("metadata"), t.get("spec")?));
        }
        "LeaderWorkerSet" => {
            let lwt = spec.get("leaderWorkerTemplate")?;
            group_size = lwt
                .get("size")
                .and_then(Node::as_i64)
                .filter(|s| *s >= 1)
                .map_or(1, |s| s.min(100_000) as u32);
            if let Some(t) = lwt.get("leaderTemplate") {
                if let Some(s) = t.get("spec") {
                    pods.extend(pod("leader", t.get("metadata"), s));
                }
            }
            let t = lwt.get("workerTemplate")?;
            pods.extend(pod("worker", t.get("metadata"), t.get("spec")?));
        }
        _ => {
            let t = spec.get("template")?;
            pods.extend(pod("pod", t.get("metadata"), t.get("spec")?));
        }
    }
    if let Some(e) = spec.entry("replicas") {
        if let Some(n) = replica_count(&e.value) {
            replicas = Some(Located {
                value: n,
                line: e.line,
            });
        }
    }
    for t in spec.at("volumeClaimTemplates").items() {
        if let Some(n) = t.path(&["metadata", "name"]).and_then(Node::text) {
            claim_templates.push(n);
        }
    }
    if pods.is_empty() {
        return None;
    }
    // StatefulSet claim templates are persistent volumes of the pod.
    for p in &mut pods {
        for v in &mut p.volumes {
            if claim_templates.contains(&v.name) {
                v.kind = VolumeKind::Persistent;
            }
        }
        for c in p.containers.iter().chain(p.init_containers.iter()) {
            for m in &c.mounts {
                if claim_templates.contains(&m.name) && p.volume(&m.name).is_none() {
                    p.volumes.push(Volume {
                        name: m.name.clone(),
                        kind: VolumeKind::Persistent,
                        line: m.line,
                        size_limit_line: m.line,
                    });
                }
            }
        }
    }
    Some(Workload {
        object,
        replicas,
        group_size,
        pods,
        claim_templates,
    })
}

/// A replica count Kubernetes accepts (0 to [`MAX_REPLICAS`]); `None` for anything else
/// (IL116 reports it), so that no rule reasons from a count the API server refuses.
pub(super) fn replica_count(n: &Node) -> Option<i64> {
    n.as_i64()
        .filter(|v| (0..=i64::from(MAX_REPLICAS)).contains(v))
}
