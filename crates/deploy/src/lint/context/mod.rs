//! What the rules look at: the workloads, autoscalers, disruption budgets, node pools and
//! services found in the manifests, each with its file and line, and the catalog.
//!
//! Modules: `object` (where an object is, `Located` values), `pod` (pod templates, containers,
//! volumes, node requirements), `workload`, `autoscaler` (HPA and KEDA), `node_pool`
//! (Karpenter) and `hardware` (where a pod can run, resolved against the catalog); this file
//! holds the [`Context`] and sorts the objects of the manifests into it.

mod autoscaler;
mod hardware;
mod node_pool;
mod object;
mod pod;
mod workload;

pub use autoscaler::{Autoscaler, Metric, Signal};
pub use hardware::{Capacity, Hardware, INSTANCE_TYPE_KEYS};
pub use node_pool::NodePool;
pub use object::{Located, Object};
pub use pod::{Container, Mount, PodTemplate, Requirement, Toleration, Volume, VolumeKind};
pub use workload::Workload;

use super::engine::EngineArgs;
use crate::yaml::{Doc, Node};
use autoscaler::{hpa, keda};
use inferplan_catalog::{Catalog, Dtype, ModelSpec};
use inferplan_perf::MemoryParams;
use node_pool::node_pool;
use object::object;
use workload::workload;

/// A PodDisruptionBudget.
#[derive(Debug, Clone)]
pub struct Pdb<'a> {
    /// The object.
    pub object: Object<'a>,
    /// `spec.selector`, when it has one.
    pub selector: Option<&'a Node>,
}

/// What every rule gets.
pub struct Context<'a> {
    /// The catalog (instances, GPUs, models).
    pub catalog: &'a Catalog,
    /// Fitted engine memory parameters.
    pub params: &'a MemoryParams,
    /// Workloads, in file order.
    pub workloads: Vec<Workload<'a>>,
    /// HorizontalPodAutoscalers and KEDA ScaledObjects.
    pub autoscalers: Vec<Autoscaler<'a>>,
    /// PodDisruptionBudgets.
    pub pdbs: Vec<Pdb<'a>>,
    /// Karpenter NodePools.
    pub node_pools: Vec<NodePool<'a>>,
    /// Services.
    pub services: Vec<Object<'a>>,
}

impl<'a> Context<'a> {
    /// Builds the context from parsed files: `(origin, documents)`.
    pub fn new(
        files: &'a [(String, Vec<Doc>)],
        catalog: &'a Catalog,
        params: &'a MemoryParams,
    ) -> Context<'a> {
        let mut ctx = Context {
            catalog,
            params,
            workloads: Vec::new(),
            autoscalers: Vec::new(),
            pdbs: Vec::new(),
            node_pools: Vec::new(),
            services: Vec::new(),
        };
        for (file, docs) in files {
            for d in docs {
                ctx.add(file, d.source.as_deref(), &d.value, 0);
            }
        }
        ctx
    }

    fn add(&mut self, file: &'a str, template: Option<&'a str>, node: &'a Node, depth: usize) {
        let Some(object) = object(file, template, node) else {
            return;
        };
        let group = object
            .api_version
            .split_once('/')
            .map_or("", |(g, _)| g)
            .to_owned();
        match (object.kind.as_str(), group.as_str()) {
            (k, _) if k.ends_with("List") && depth < 4 => {
                for item in node.at("items").items() {
                    self.add(file, template, item, depth + 1);
                }
            }
            ("Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet", "apps" | "")
            | ("Job", "batch" | "")
            | ("Pod", "") => {
                if let Some(w) = workload(object) {
                    self.workloads.push(w);
                }
            }
            ("CronJob", "batch" | "") => {
                if let Some(w) = workload(object) {
                    self.workloads.push(w);
                }
            }
            ("LeaderWorkerSet", "leaderworkerset.x-k8s.io") => {
                if let Some(w) = workload(object) {
                    self.workloads.push(w);
                }
            }
            ("HorizontalPodAutoscaler", "autoscaling") => self.autoscalers.push(hpa(object)),
            ("ScaledObject", "keda.sh") => self.autoscalers.push(keda(object)),
            ("PodDisruptionBudget", "policy") => {
                let selector = node.path(&["spec", "selector"]);
                self.pdbs.push(Pdb { object, selector });
            }
            ("NodePool", "karpenter.sh") | ("Provisioner", "karpenter.sh") => {
                self.node_pools.push(node_pool(object));
            }
            ("Service", "") => self.services.push(object),
            _ => {}
        }
    }

    /// The autoscalers that target `w`.
    pub fn autoscalers_of(&self, w: &Workload<'_>) -> Vec<&Autoscaler<'a>> {
        self.autoscalers
            .iter()
            .filter(|a| {
                a.target_name == w.object.name
                    && a.target_kind == w.object.kind
                    && a.object.same_namespace(&w.object)
            })
            .collect()
    }

    /// Most replicas `w` can have: `spec.replicas`, or its autoscalers' maximum.
    pub fn max_replicas(&self, w: &Workload<'_>) -> i64 {
        self.autoscalers_of(w)
            .iter()
            .filter_map(|a| a.max_replicas)
            .fold(w.replica_count(), i64::max)
    }

    /// The catalog model an engine serves: its name or Hugging Face id, with checkpoint
    /// suffixes (`-FP8`, `-AWQ`) stripped, or the last component of a local path. Returns
    /// the model and the weight format the name implies.
    pub fn model(&self, engine: &EngineArgs) -> Option<(&'a ModelSpec, Option<Dtype>)> {
        let raw = engine.model()?.text;
        let raw = raw.trim().trim_end_matches('/');
        let raw = raw
            .strip_prefix("hf://")
            .or_else(|| raw.strip_prefix("s3://"))
            .or_else(|| raw.strip_prefix("gs://"))
            .unwrap_or(raw);
        let mut names = vec![raw.to_owned()];
        let parts: Vec<&str> = raw.split('/').filter(|p| !p.is_empty()).collect();
        if let [.., org, repo] = parts.as_slice() {
            names.push(format!("{org}/{repo}"));
        }
        if let Some(last) = parts.last() {
            names.push((*last).to_owned());
        }
        for n in &names {
            let (base, dtype) = inferplan_catalog::names::split_quantized(n);
            if let Ok(m) = self.catalog.model(n) {
                return Some((m, dtype));
            }
            if dtype.is_some() {
                if let Ok(m) = self.catalog.model(&base) {
                    return Some((m, dtype));
                }
            }
        }
        None
    }
}
