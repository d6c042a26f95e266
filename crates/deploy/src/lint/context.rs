//! What the rules look at: the workloads, autoscalers, disruption budgets, node pools and
//! services found in the manifests, each with its file and line, and the catalog.

use super::engine::{self, EngineArgs};
use crate::render::k8s::MAX_REPLICAS;
use crate::yaml::{Doc, Node};
use inferplan_catalog::{Catalog, Dtype, Gpu, Instance, ModelSpec};
use inferplan_perf::MemoryParams;

/// A Kubernetes object: where it is and what it is.
#[derive(Debug, Clone)]
pub struct Object<'a> {
    /// The file (`<stdin>` for standard input).
    pub file: &'a str,
    /// The Helm template it was rendered from (`# Source:` comment), when known.
    pub template: Option<&'a str>,
    /// `apiVersion`.
    pub api_version: String,
    /// `kind`.
    pub kind: String,
    /// `metadata.name` (empty when missing).
    pub name: String,
    /// `metadata.namespace` (empty when unset: matches any namespace).
    pub namespace: String,
    /// 1-based line of the object.
    pub line: usize,
    /// The whole object.
    pub node: &'a Node,
}

impl Object<'_> {
    /// `Kind/name`.
    pub fn id(&self) -> String {
        format!("{}/{}", self.kind, self.name)
    }

    /// True when both are in the same namespace (an unset namespace matches any).
    pub fn same_namespace(&self, other: &Object<'_>) -> bool {
        self.namespace.is_empty() || other.namespace.is_empty() || self.namespace == other.namespace
    }
}

/// A value and the 1-based line it is written on.
#[derive(Debug, Clone, PartialEq)]
pub struct Located<T> {
    /// The value.
    pub value: T,
    /// 1-based line.
    pub line: usize,
}

/// A volume mount of a container.
#[derive(Debug, Clone, PartialEq)]
pub struct Mount {
    /// Volume name.
    pub name: String,
    /// `mountPath`.
    pub path: String,
    /// 1-based line.
    pub line: usize,
}

/// What backs a pod volume.
#[derive(Debug, Clone, PartialEq)]
pub enum VolumeKind {
    /// `emptyDir` on the node's disk, with its `sizeLimit` in bytes.
    EmptyDir {
        /// `sizeLimit`, bytes.
        size_limit: Option<f64>,
    },
    /// `emptyDir` with `medium: Memory`, with its `sizeLimit` in bytes.
    Memory {
        /// `sizeLimit`, bytes.
        size_limit: Option<f64>,
    },
    /// Survives pod restarts and rescheduling: `persistentVolumeClaim`, `hostPath`, `nfs`,
    /// `csi`, `ephemeral` claims, a StatefulSet volume claim template, ...
    Persistent,
    /// `configMap`, `secret`, `projected`, `downwardAPI`, or anything else.
    Other,
}

/// A pod volume.
#[derive(Debug, Clone, PartialEq)]
pub struct Volume {
    /// Name.
    pub name: String,
    /// What backs it.
    pub kind: VolumeKind,
    /// 1-based line.
    pub line: usize,
    /// 1-based line of an `emptyDir`'s `sizeLimit` (the volume's line when there is none).
    pub size_limit_line: usize,
}

/// A container of a pod template.
#[derive(Debug, Clone)]
pub struct Container<'a> {
    /// `name`.
    pub name: String,
    /// The container node.
    pub node: &'a Node,
    /// 1-based line.
    pub line: usize,
    /// `image`.
    pub image: Option<Located<String>>,
    /// The GPU resource it asks for (`nvidia.com/gpu` or `amd.com/gpu`).
    pub gpu_resource: &'static str,
    /// `resources.limits` GPU count, as written.
    pub gpu_limit: Option<Located<String>>,
    /// `resources.requests` GPU count, as written.
    pub gpu_request: Option<Located<String>>,
    /// `resources.limits.ephemeral-storage`, bytes.
    pub ephemeral_limit: Option<Located<f64>>,
    /// Literal `env` values (`valueFrom` entries are left out).
    pub env: Vec<(String, String)>,
    /// `volumeMounts`.
    pub mounts: Vec<Mount>,
    /// The serving engine and its arguments, when recognised.
    pub engine: Option<EngineArgs>,
    /// `livenessProbe`.
    pub liveness: Option<&'a Node>,
    /// `startupProbe`.
    pub startup: Option<&'a Node>,
}

impl Container<'_> {
    /// GPUs the container gets (its limit; the request when there is no limit).
    pub fn gpus(&self) -> u32 {
        self.gpu_limit
            .as_ref()
            .or(self.gpu_request.as_ref())
            .and_then(|g| g.value.trim().parse::<f64>().ok())
            .filter(|g| g.is_finite() && *g > 0.0)
            .map_or(0, |g| g.ceil().min(1e6) as u32)
    }

    /// The value of an environment variable.
    pub fn env(&self, name: &str) -> Option<&str> {
        self.env
            .iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The mount whose path is the longest prefix of `path`.
    pub fn mount_for(&self, path: &str) -> Option<&Mount> {
        self.mounts
            .iter()
            .filter(|m| {
                let p = m.path.trim_end_matches('/');
                path == p || path.starts_with(&format!("{p}/")) || p.is_empty()
            })
            .max_by_key(|m| m.path.len())
    }

    /// True when the container serves a model: an engine or a GPU.
    pub fn is_inference(&self) -> bool {
        self.engine.is_some() || self.gpus() > 0
    }
}

/// A node requirement: `key In [values]` (from `nodeSelector`, node affinity or a NodePool).
#[derive(Debug, Clone, PartialEq)]
pub struct Requirement {
    /// Label key.
    pub key: String,
    /// `In`, `NotIn`, `Exists`, `DoesNotExist`, `Gt`, `Lt`.
    pub operator: String,
    /// Values.
    pub values: Vec<String>,
    /// 1-based line.
    pub line: usize,
    /// The NodePool it comes from (`None` for the pod's own).
    pub pool: Option<String>,
}

/// A toleration of a pod.
#[derive(Debug, Clone, PartialEq)]
pub struct Toleration {
    /// Taint key (empty tolerates every key with `operator: Exists`).
    pub key: String,
    /// Taint value.
    pub value: String,
    /// 1-based line.
    pub line: usize,
}

/// A pod template (or a bare Pod's spec).
#[derive(Debug, Clone)]
pub struct PodTemplate<'a> {
    /// `pod`, or for a LeaderWorkerSet `leader` / `worker`.
    pub role: &'static str,
    /// Pod labels.
    pub labels: Vec<(String, String)>,
    /// Pod annotations.
    pub annotations: Vec<(String, String)>,
    /// The pod spec.
    pub spec: &'a Node,
    /// 1-based line of the pod spec.
    pub line: usize,
    /// `containers`.
    pub containers: Vec<Container<'a>>,
    /// `initContainers`.
    pub init_containers: Vec<Container<'a>>,
    /// `volumes`.
    pub volumes: Vec<Volume>,
    /// `nodeSelector` entries and required node-affinity expressions.
    pub node_requirements: Vec<Requirement>,
    /// `tolerations`.
    pub tolerations: Vec<Toleration>,
    /// `hostIPC: true`.
    pub host_ipc: bool,
}

impl PodTemplate<'_> {
    /// GPUs of the pod: the sum over its containers.
    pub fn gpus(&self) -> u32 {
        self.containers.iter().map(|c| c.gpus()).sum()
    }

    /// The serving container: the first with an engine, else the first with a GPU.
    pub fn server(&self) -> Option<&Container<'_>> {
        self.containers
            .iter()
            .find(|c| c.engine.is_some())
            .or_else(|| self.containers.iter().find(|c| c.gpus() > 0))
    }

    /// The volume named `name`.
    pub fn volume(&self, name: &str) -> Option<&Volume> {
        self.volumes.iter().find(|v| v.name == name)
    }

    /// Values a node label must take (`In` requirements with this key), empty when free.
    pub fn required(&self, key: &str) -> Vec<&str> {
        self.node_requirements
            .iter()
            .filter(|r| r.key == key && r.operator == "In")
            .flat_map(|r| r.values.iter().map(String::as_str))
            .collect()
    }
}

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

/// What an autoscaler scales on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    /// CPU utilisation.
    Cpu,
    /// Memory utilisation.
    Memory,
    /// GPU utilisation (DCGM `GPU_UTIL`, `GPUUtilization`, duty cycle).
    GpuUtilization,
    /// Anything else (queue depth, requests waiting, KV-cache usage, ...).
    Other,
}

/// One metric or trigger of an autoscaler.
#[derive(Debug, Clone, PartialEq)]
pub struct Metric {
    /// What it is, for messages (`cpu utilization 70 %`, `prometheus: DCGM_FI_DEV_GPU_UTIL`).
    pub description: String,
    /// Its kind.
    pub signal: Signal,
    /// 1-based line.
    pub line: usize,
}

/// A HorizontalPodAutoscaler or a KEDA ScaledObject.
#[derive(Debug, Clone)]
pub struct Autoscaler<'a> {
    /// The object.
    pub object: Object<'a>,
    /// `scaleTargetRef.kind` (Deployment when unset).
    pub target_kind: String,
    /// `scaleTargetRef.name`.
    pub target_name: String,
    /// Fewest replicas.
    pub min_replicas: Option<i64>,
    /// Most replicas.
    pub max_replicas: Option<i64>,
    /// What it scales on.
    pub metrics: Vec<Metric>,
}

/// A PodDisruptionBudget.
#[derive(Debug, Clone)]
pub struct Pdb<'a> {
    /// The object.
    pub object: Object<'a>,
    /// `spec.selector`, when it has one.
    pub selector: Option<&'a Node>,
}

/// A Karpenter NodePool (or v1alpha5 Provisioner).
#[derive(Debug, Clone)]
pub struct NodePool<'a> {
    /// The object.
    pub object: Object<'a>,
    /// Labels its nodes get.
    pub labels: Vec<(String, String)>,
    /// Its requirements (`spec.template.spec.requirements`).
    pub requirements: Vec<Requirement>,
    /// Taint keys of its nodes.
    pub taints: Vec<String>,
}

/// Where a pod can run, resolved against the catalog.
#[derive(Debug, Clone)]
pub struct Hardware<'c> {
    /// Catalog instance types the pod can land on (empty when unknown).
    pub instances: Vec<&'c Instance>,
    /// Capacity type.
    pub capacity: Capacity,
    /// What selects the hardware, for messages (`` `node.kubernetes.io/instance-type: g6e.xlarge` ``,
    /// `` NodePool gpu `karpenter.k8s.aws/instance-family: g6e` ``).
    pub basis: String,
    /// Line of the selection in the pod (0 when it comes from a NodePool or nothing selects).
    pub line: usize,
    /// What makes it spot, for messages.
    pub capacity_basis: String,
    /// Line of that in the pod (0 when it comes from a NodePool).
    pub capacity_line: usize,
    /// The pod's node requirements, completed by those of its NodePools.
    pub requirements: Vec<Requirement>,
}

impl<'c> Hardware<'c> {
    /// The GPU of the candidates, when they all have the same catalog GPU.
    pub fn gpu(&self, catalog: &'c Catalog) -> Option<&'c Gpu> {
        let mut gpus = self.instances.iter().map(|i| catalog.instance_gpu(i));
        let first = gpus.next()??;
        gpus.all(|g| g.is_some_and(|g| g.name == first.name))
            .then_some(first)
    }

    /// Names of the candidate instance types, `a, b or c`.
    pub fn names(&self) -> String {
        let names: Vec<&str> = self.instances.iter().map(|i| i.name.as_str()).collect();
        match names.as_slice() {
            [] => String::new(),
            [one] => (*one).to_owned(),
            [rest @ .., last] if rest.len() < 4 => format!("{} or {last}", rest.join(", ")),
            more => format!("{}, ... ({} types)", more[..3].join(", "), more.len()),
        }
    }
}

/// Whether nodes are spot capacity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Capacity {
    /// Only spot (or preemptible) nodes.
    Spot,
    /// Spot or on-demand (Karpenter launches spot first when both are allowed).
    MaybeSpot,
    /// On-demand or reserved.
    OnDemand,
    /// Nothing says.
    Unknown,
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

/// Node labels naming the instance type.
pub const INSTANCE_TYPE_KEYS: [&str; 2] = [
    "node.kubernetes.io/instance-type",
    "beta.kubernetes.io/instance-type",
];

const FAMILY_KEY: &str = "karpenter.k8s.aws/instance-family";
const GPU_NAME_KEY: &str = "karpenter.k8s.aws/instance-gpu-name";
const GPU_COUNT_KEY: &str = "karpenter.k8s.aws/instance-gpu-count";
const NODEPOOL_KEYS: [&str; 2] = ["karpenter.sh/nodepool", "karpenter.sh/provisioner-name"];

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

    /// Where `pod` can run: its node selection, completed by the Karpenter NodePools it can
    /// use, resolved to catalog instance types. `gpus` (GPUs of the pod) filters the sizes of
    /// a family to those that can hold the pod.
    pub fn hardware(&self, pod: &PodTemplate<'_>, gpus: u32) -> Hardware<'a> {
        let pools = self.pools_for(pod);
        // Requirements: the pod's own, then the pools' for keys the pod leaves free.
        let mut reqs: Vec<Requirement> = pod.node_requirements.clone();
        for pool in &pools {
            for r in &pool.requirements {
                if !pod.node_requirements.iter().any(|p| p.key == r.key) {
                    let mut r = r.clone();
                    r.pool = Some(pool.object.name.clone());
                    reqs.push(r);
                }
            }
            for (k, v) in &pool.labels {
                if !reqs.iter().any(|r| &r.key == k) {
                    reqs.push(Requirement {
                        key: k.clone(),
                        operator: "In".to_owned(),
                        values: vec![v.clone()],
                        line: pool.object.line,
                        pool: Some(pool.object.name.clone()),
                    });
                }
            }
        }
        let values = |key: &str| -> Option<(Vec<String>, &Requirement)> {
            let matching: Vec<&Requirement> = reqs
                .iter()
                .filter(|r| r.key == key && r.operator == "In")
                .collect();
            let first = *matching.first()?;
            let mut v: Vec<String> = Vec::new();
            for r in &matching {
                for x in &r.values {
                    if !v.contains(x) {
                        v.push(x.clone());
                    }
                }
            }
            Some((v, first))
        };
        let excluded = |key: &str, value: &str| {
            reqs.iter().any(|r| {
                r.key == key && r.operator == "NotIn" && r.values.iter().any(|x| x == value)
            })
        };
        let mut instances: Vec<&'a Instance> = Vec::new();
        let mut chosen: Option<&Requirement> = None;
        for key in INSTANCE_TYPE_KEYS {
            if let Some((vals, r)) = values(key) {
                for v in vals {
                    if let Ok(i) = self.catalog.instance(&v) {
                        if !instances.iter().any(|x| x.name == i.name) {
                            instances.push(i);
                        }
                    }
                }
                chosen = Some(r);
                break;
            }
        }
        if chosen.is_none() {
            let by_family = values(FAMILY_KEY);
            let by_gpu = values(GPU_NAME_KEY);
            chosen = by_family.as_ref().or(by_gpu.as_ref()).map(|(_, r)| *r);
            if chosen.is_some() {
                for i in self.catalog.instances() {
                    let fam_ok = by_family
                        .as_ref()
                        .is_none_or(|(v, _)| v.iter().any(|f| f.eq_ignore_ascii_case(&i.family)));
                    let gpu_ok = by_gpu.as_ref().is_none_or(|(v, _)| {
                        let g = inferplan_catalog::names::key(i.gpu.as_deref().unwrap_or(""));
                        v.iter().any(|x| {
                            let k = inferplan_catalog::names::key(x);
                            !k.is_empty() && g.contains(&k)
                        })
                    });
                    if fam_ok && gpu_ok && i.gpu_count >= f64::from(gpus.max(1)) {
                        instances.push(i);
                    }
                }
            }
        }
        if let Some((counts, _)) = values(GPU_COUNT_KEY) {
            instances.retain(|i| {
                counts
                    .iter()
                    .any(|c| c.parse::<f64>().ok() == Some(i.gpu_count))
            });
        }
        instances.retain(|i| {
            !excluded(INSTANCE_TYPE_KEYS[0], &i.name) && !excluded(FAMILY_KEY, &i.family)
        });
        let (basis, line) = match chosen {
            Some(r) => describe(r),
            None => match pools.first() {
                Some(p) => (format!("NodePool {}", p.object.name), 0),
                None => (String::new(), 0),
            },
        };
        let (capacity, cap_req) = capacity(&reqs, pod);
        let (capacity_basis, capacity_line) = match cap_req {
            Some(r) => describe(r),
            None => match pod.tolerations.iter().find(|t| is_spot_toleration(t)) {
                Some(t) => (format!("a toleration of `{}`", t.key), t.line),
                None => (String::new(), 0),
            },
        };
        Hardware {
            instances,
            capacity,
            basis,
            line,
            capacity_basis,
            capacity_line,
            requirements: reqs,
        }
    }

    /// The NodePools a pod can use: named by `karpenter.sh/nodepool`, or whose labels and
    /// requirements do not conflict with the pod's selection and that either share a label
    /// the pod selects or have taints the pod tolerates.
    pub fn pools_for(&self, pod: &PodTemplate<'_>) -> Vec<&NodePool<'a>> {
        for key in NODEPOOL_KEYS {
            let names = pod.required(key);
            if !names.is_empty() {
                return self
                    .node_pools
                    .iter()
                    .filter(|p| names.contains(&p.object.name.as_str()))
                    .collect();
            }
        }
        self.node_pools
            .iter()
            .filter(|pool| {
                let conflict = pool.labels.iter().any(|(k, v)| {
                    let want = pod.required(k);
                    !want.is_empty() && !want.contains(&v.as_str())
                }) || pool.requirements.iter().any(|r| {
                    let want = pod.required(&r.key);
                    r.operator == "In"
                        && !want.is_empty()
                        && !want.iter().any(|w| r.values.iter().any(|v| v == w))
                });
                if conflict {
                    return false;
                }
                let shares = pool
                    .labels
                    .iter()
                    .any(|(k, v)| pod.required(k).contains(&v.as_str()))
                    || pool.requirements.iter().any(|r| {
                        r.operator == "In"
                            && pod
                                .required(&r.key)
                                .iter()
                                .any(|w| r.values.iter().any(|v| v == w))
                    });
                let tolerated = !pool.taints.is_empty()
                    && pool.taints.iter().all(|t| {
                        pod.tolerations
                            .iter()
                            .any(|tol| tol.key.is_empty() || &tol.key == t)
                    });
                shares || tolerated
            })
            .collect()
    }
}

/// `(description, line in the pod or 0)` of a requirement.
fn describe(r: &Requirement) -> (String, usize) {
    let values = r.values.join(", ");
    match &r.pool {
        Some(pool) => (format!("NodePool {pool} `{}: {values}`", r.key), 0),
        None => (format!("`{}: {values}`", r.key), r.line),
    }
}

fn is_spot_toleration(t: &Toleration) -> bool {
    let k = t.key.to_ascii_lowercase();
    let v = t.value.to_ascii_lowercase();
    k.contains("spot") || k.contains("preemptible") || v == "spot"
}

/// Spot or not, from capacity-type labels and spot tolerations, with the requirement that
/// says so.
fn capacity<'r>(
    reqs: &'r [Requirement],
    pod: &PodTemplate<'_>,
) -> (Capacity, Option<&'r Requirement>) {
    let mut spot = false;
    let mut on_demand = false;
    let mut said = false;
    let mut which = None;
    for r in reqs.iter().filter(|r| r.operator == "In") {
        let key = r.key.as_str();
        for v in &r.values {
            let v = v.to_ascii_lowercase();
            let before = spot;
            match key {
                "karpenter.sh/capacity-type"
                | "eks.amazonaws.com/capacityType"
                | "node.kubernetes.io/lifecycle"
                | "kubernetes.azure.com/scalesetpriority" => {
                    said = true;
                    if v == "spot" || v == "preemptible" {
                        spot = true;
                    } else {
                        on_demand = true;
                    }
                }
                "cloud.google.com/gke-spot" | "cloud.google.com/gke-preemptible" => {
                    said = true;
                    if v == "true" {
                        spot = true;
                    } else {
                        on_demand = true;
                    }
                }
                _ => {}
            }
            if spot && !before {
                which = Some(r);
            }
        }
    }
    let tolerates_spot = pod.tolerations.iter().any(is_spot_toleration);
    let c = match (spot, on_demand) {
        (true, false) => Capacity::Spot,
        (true, true) => Capacity::MaybeSpot,
        (false, _) if tolerates_spot => Capacity::MaybeSpot,
        (false, true) => Capacity::OnDemand,
        (false, false) if said => Capacity::OnDemand,
        _ => Capacity::Unknown,
    };
    (c, which)
}

fn object<'a>(file: &'a str, template: Option<&'a str>, node: &'a Node) -> Option<Object<'a>> {
    let kind = node.get("kind")?.text()?;
    let api_version = node
        .get("apiVersion")
        .and_then(Node::text)
        .unwrap_or_default();
    let meta = node.at("metadata");
    Some(Object {
        file,
        template,
        api_version,
        kind,
        name: meta.get("name").and_then(Node::text).unwrap_or_default(),
        namespace: meta
            .get("namespace")
            .and_then(Node::text)
            .unwrap_or_default(),
        line: node.line,
        node,
    })
}

fn string_map(n: &Node) -> Vec<(String, String)> {
    n.entries()
        .iter()
        .map(|e| (e.key.clone(), e.value.text().unwrap_or_default()))
        .collect()
}

fn workload(object: Object<'_>) -> Option<Workload<'_>> {
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

fn pod<'a>(role: &'static str, meta: Option<&'a Node>, spec: &'a Node) -> Option<PodTemplate<'a>> {
    if !spec.is_map() {
        return None;
    }
    let meta_labels = meta.map(|m| string_map(m.at("labels"))).unwrap_or_default();
    let annotations = meta
        .map(|m| string_map(m.at("annotations")))
        .unwrap_or_default();
    let containers = spec
        .at("containers")
        .items()
        .iter()
        .map(container)
        .collect();
    let init_containers = spec
        .at("initContainers")
        .items()
        .iter()
        .map(container)
        .collect();
    let volumes = spec.at("volumes").items().iter().map(volume).collect();
    let mut node_requirements = Vec::new();
    for e in spec.at("nodeSelector").entries() {
        node_requirements.push(Requirement {
            key: e.key.clone(),
            operator: "In".to_owned(),
            values: vec![e.value.text().unwrap_or_default()],
            line: e.line,
            pool: None,
        });
    }
    let terms = spec.path(&[
        "affinity",
        "nodeAffinity",
        "requiredDuringSchedulingIgnoredDuringExecution",
        "nodeSelectorTerms",
    ]);
    for term in terms.map(Node::items).unwrap_or_default() {
        node_requirements.extend(requirements(term.at("matchExpressions")));
    }
    let tolerations = spec
        .at("tolerations")
        .items()
        .iter()
        .map(|t| Toleration {
            key: t.get("key").and_then(Node::text).unwrap_or_default(),
            value: t.get("value").and_then(Node::text).unwrap_or_default(),
            line: t.line,
        })
        .collect();
    Some(PodTemplate {
        role,
        labels: meta_labels,
        annotations,
        spec,
        line: spec.line,
        containers,
        init_containers,
        volumes,
        node_requirements,
        tolerations,
        host_ipc: spec.get("hostIPC").and_then(Node::as_bool) == Some(true),
    })
}

fn requirements(list: &Node) -> Vec<Requirement> {
    list.items()
        .iter()
        .filter_map(|r| {
            Some(Requirement {
                key: r.get("key")?.text()?,
                operator: r.get("operator").and_then(Node::text).unwrap_or_default(),
                values: r
                    .at("values")
                    .items()
                    .iter()
                    .filter_map(Node::text)
                    .collect(),
                line: r.line,
                pool: None,
            })
        })
        .collect()
}

const GPU_RESOURCES: [&str; 2] = ["nvidia.com/gpu", "amd.com/gpu"];

fn gpu_of(resources: &Node, key: &str) -> Option<Located<String>> {
    let e = resources.entry(key)?;
    Some(Located {
        value: e.value.text().unwrap_or_default(),
        line: e.line,
    })
}

fn container(n: &Node) -> Container<'_> {
    let image = n.entry("image").map(|e| Located {
        value: e.value.text().unwrap_or_default(),
        line: e.line,
    });
    let res = n.at("resources");
    let gpu_resource = GPU_RESOURCES
        .into_iter()
        .find(|k| res.at("limits").get(k).is_some() || res.at("requests").get(k).is_some())
        .unwrap_or(GPU_RESOURCES[0]);
    let env: Vec<(String, String)> = n
        .at("env")
        .items()
        .iter()
        .filter_map(|e| Some((e.get("name")?.text()?, e.get("value")?.text()?)))
        .collect();
    let mounts = n
        .at("volumeMounts")
        .items()
        .iter()
        .filter_map(|m| {
            Some(Mount {
                name: m.get("name")?.text()?,
                path: m.get("mountPath")?.text()?,
                line: m.line,
            })
        })
        .collect();
    let engine = engine::detect(n, image.as_ref().map_or("", |i| i.value.as_str()), &env);
    Container {
        name: n.get("name").and_then(Node::text).unwrap_or_default(),
        node: n,
        line: n.line,
        gpu_resource,
        gpu_limit: gpu_of(res.at("limits"), gpu_resource),
        gpu_request: gpu_of(res.at("requests"), gpu_resource),
        ephemeral_limit: res.at("limits").entry("ephemeral-storage").and_then(|e| {
            Some(Located {
                value: e.value.as_quantity()?,
                line: e.line,
            })
        }),
        image,
        env,
        mounts,
        engine,
        liveness: n.get("livenessProbe").filter(|p| p.is_map()),
        startup: n.get("startupProbe").filter(|p| p.is_map()),
    }
}

fn volume(n: &Node) -> Volume {
    let kind = if let Some(e) = n.get("emptyDir") {
        let size_limit = e.get("sizeLimit").and_then(Node::as_quantity);
        if e.get("medium").and_then(Node::text).as_deref() == Some("Memory") {
            VolumeKind::Memory { size_limit }
        } else {
            VolumeKind::EmptyDir { size_limit }
        }
    } else if [
        "persistentVolumeClaim",
        "hostPath",
        "nfs",
        "csi",
        "ephemeral",
        "awsElasticBlockStore",
        "gcePersistentDisk",
        "azureDisk",
        "azureFile",
        "cephfs",
        "glusterfs",
        "iscsi",
        "fc",
        "local",
        "image",
    ]
    .iter()
    .any(|k| n.get(k).is_some())
    {
        VolumeKind::Persistent
    } else {
        VolumeKind::Other
    };
    Volume {
        name: n.get("name").and_then(Node::text).unwrap_or_default(),
        kind,
        line: n.line,
        size_limit_line: n
            .at("emptyDir")
            .entry("sizeLimit")
            .map_or(n.line, |e| e.line),
    }
}

/// A replica count Kubernetes accepts (0 to [`MAX_REPLICAS`]); `None` for anything else
/// (IL116 reports it), so that no rule reasons from a count the API server refuses.
fn replica_count(n: &Node) -> Option<i64> {
    n.as_i64()
        .filter(|v| (0..=i64::from(MAX_REPLICAS)).contains(v))
}

/// An autoscaler's replica bound: `default` when the field is absent or null, `None` when it
/// is written but not a count Kubernetes accepts.
fn replica_field(spec: &Node, key: &str, default: Option<i64>) -> Option<i64> {
    match spec.get(key).filter(|n| !n.is_null()) {
        None => default,
        Some(n) => replica_count(n),
    }
}

fn hpa(object: Object<'_>) -> Autoscaler<'_> {
    let spec = object.node.at("spec");
    let target = spec.at("scaleTargetRef");
    let mut metrics = Vec::new();
    if let Some(e) = spec.entry("targetCPUUtilizationPercentage") {
        metrics.push(Metric {
            description: format!(
                "targetCPUUtilizationPercentage {}",
                e.value.text().unwrap_or_default()
            ),
            signal: Signal::Cpu,
            line: e.line,
        });
    }
    for m in spec.at("metrics").items() {
        let ty = m.get("type").and_then(Node::text).unwrap_or_default();
        match ty.as_str() {
            "Resource" | "ContainerResource" => {
                let r = m
                    .get("resource")
                    .or_else(|| m.get("containerResource"))
                    .unwrap_or(m);
                let name = r.get("name").and_then(Node::text).unwrap_or_default();
                let signal = match name.as_str() {
                    "cpu" => Signal::Cpu,
                    "memory" => Signal::Memory,
                    n if GPU_RESOURCES.contains(&n) => Signal::GpuUtilization,
                    _ => Signal::Other,
                };
                let target = r
                    .path(&["target", "averageUtilization"])
                    .or_else(|| r.get("targetAverageUtilization"))
                    .and_then(Node::text)
                    .map(|t| format!(" {t} %"))
                    .unwrap_or_default();
                metrics.push(Metric {
                    description: format!("{name} utilization{target}"),
                    signal,
                    line: m.line,
                });
            }
            _ => {
                let name = ["pods", "object", "external"]
                    .iter()
                    .find_map(|k| {
                        let s = m.get(k)?;
                        s.path(&["metric", "name"])
                            .or_else(|| s.get("metricName"))
                            .and_then(Node::text)
                    })
                    .unwrap_or_default();
                metrics.push(Metric {
                    description: format!("{} metric `{name}`", ty.to_ascii_lowercase()),
                    signal: signal_of_text(&name),
                    line: m.line,
                });
            }
        }
    }
    if metrics.is_empty() && object.api_version != "autoscaling/v1" {
        // autoscaling/v2 without metrics defaults to 80 % CPU.
        metrics.push(Metric {
            description: "CPU utilization 80 % (the default when no metrics are given)".to_owned(),
            signal: Signal::Cpu,
            line: spec.line.max(object.line),
        });
    } else if metrics.is_empty() {
        metrics.push(Metric {
            description: "CPU utilization 80 % (the default)".to_owned(),
            signal: Signal::Cpu,
            line: spec.line.max(object.line),
        });
    }
    Autoscaler {
        target_kind: target
            .get("kind")
            .and_then(Node::text)
            .unwrap_or_else(|| "Deployment".to_owned()),
        target_name: target.get("name").and_then(Node::text).unwrap_or_default(),
        min_replicas: replica_field(spec, "minReplicas", Some(1)),
        max_replicas: replica_field(spec, "maxReplicas", None),
        metrics,
        object,
    }
}

fn keda(object: Object<'_>) -> Autoscaler<'_> {
    let spec = object.node.at("spec");
    let target = spec.at("scaleTargetRef");
    let mut metrics = Vec::new();
    for t in spec.at("triggers").items() {
        let ty = t.get("type").and_then(Node::text).unwrap_or_default();
        let meta = t.at("metadata");
        let signal = match ty.as_str() {
            "cpu" => Signal::Cpu,
            "memory" => Signal::Memory,
            _ => {
                let all: Vec<String> = meta
                    .entries()
                    .iter()
                    .filter_map(|e| e.value.text())
                    .collect();
                signal_of_text(&all.join(" "))
            }
        };
        let what = match signal {
            Signal::Cpu | Signal::Memory => format!(
                "{ty} trigger{}",
                meta.get("value")
                    .and_then(Node::text)
                    .map(|v| format!(" at {v} %"))
                    .unwrap_or_default()
            ),
            _ => {
                let detail = ["query", "metricName", "metricSelector"]
                    .iter()
                    .find_map(|k| meta.get(k).and_then(Node::text))
                    .map(|q| format!(" `{}`", q.split_whitespace().collect::<Vec<_>>().join(" ")))
                    .unwrap_or_default();
                format!("{ty} trigger{detail}")
            }
        };
        metrics.push(Metric {
            description: what,
            signal,
            line: t.line,
        });
    }
    Autoscaler {
        target_kind: target
            .get("kind")
            .and_then(Node::text)
            .unwrap_or_else(|| "Deployment".to_owned()),
        target_name: target.get("name").and_then(Node::text).unwrap_or_default(),
        min_replicas: replica_field(spec, "minReplicaCount", Some(0)),
        max_replicas: replica_field(spec, "maxReplicaCount", Some(100)),
        metrics,
        object,
    }
}

/// GPU-utilisation metric names (lower case).
const GPU_UTIL_PATTERNS: [&str; 8] = [
    "dcgm_fi_dev_gpu_util",
    "gpu_util",
    "gpuutilization",
    "gpu_utilization",
    "gpu-utilization",
    "duty_cycle",
    "dcgm_fi_prof_gr_engine_active",
    "utilization.gpu",
];

fn signal_of_text(s: &str) -> Signal {
    let l = s.to_ascii_lowercase();
    if GPU_UTIL_PATTERNS.iter().any(|p| l.contains(p)) {
        Signal::GpuUtilization
    } else if l.contains("cpu_usage") || l.contains("cpuutilization") {
        Signal::Cpu
    } else {
        Signal::Other
    }
}

fn node_pool(object: Object<'_>) -> NodePool<'_> {
    let spec = object.node.at("spec");
    // karpenter.sh/v1 and v1beta1: spec.template.{metadata,spec}; v1alpha5: spec directly.
    let (labels_node, inner) = match spec.get("template") {
        Some(t) => (t.path(&["metadata", "labels"]), t.at("spec")),
        None => (spec.get("labels"), spec),
    };
    let labels = labels_node.map(string_map).unwrap_or_default();
    let requirements = requirements(inner.at("requirements"));
    let taints = inner
        .at("taints")
        .items()
        .iter()
        .filter_map(|t| t.get("key").and_then(Node::text))
        .collect();
    NodePool {
        object,
        labels,
        requirements,
        taints,
    }
}
