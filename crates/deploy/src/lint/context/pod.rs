//! Pod templates and what they hold: containers (with the engine they run), volumes and
//! mounts, node requirements and tolerations.

use super::object::{string_map, Located};
use crate::lint::engine::{self, EngineArgs};
use crate::yaml::Node;

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
    /// `csi`, a StatefulSet volume claim template, ...
    Persistent,
    /// A generic ephemeral volume (`ephemeral.volumeClaimTemplate`): a claim created with the
    /// pod and deleted with it, so it holds nothing across restarts or reschedules.
    Ephemeral,
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
    /// `persistentVolumeClaim.claimName`, to find the claim's size among the manifests.
    pub claim: Option<String>,
    /// Storage the claim asks for (`resources.requests.storage` of a generic ephemeral volume's
    /// or a StatefulSet's claim template, or of the PersistentVolumeClaim named), bytes, and
    /// the line (and file) where it is written.
    pub claim_size: Option<ClaimSize>,
}

/// The storage a volume claim asks for.
#[derive(Debug, Clone, PartialEq)]
pub struct ClaimSize {
    /// `resources.requests.storage`, bytes.
    pub bytes: f64,
    /// 1-based line of that request.
    pub line: usize,
    /// Where it is: `volumeClaimTemplate`, `volumeClaimTemplates[name]`, `PersistentVolumeClaim/name`.
    pub what: String,
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
    /// `readinessProbe`.
    pub readiness: Option<&'a Node>,
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

    /// True when its accelerator is an AWS Neuron device (`aws.amazon.com/neuron`): the engine
    /// counts NeuronCores and runs no NCCL.
    pub fn is_neuron(&self) -> bool {
        self.gpu_resource == NEURON_RESOURCE && self.gpus() > 0
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

pub(super) fn pod<'a>(
    role: &'static str,
    meta: Option<&'a Node>,
    spec: &'a Node,
) -> Option<PodTemplate<'a>> {
    pod_with(role, meta, spec, &[])
}

/// A pod template whose containers are `spec.containers` plus `extra` (a KServe predictor's
/// `model`, which KServe turns into the serving container).
pub(super) fn pod_with<'a>(
    role: &'static str,
    meta: Option<&'a Node>,
    spec: &'a Node,
    extra: &[&'a Node],
) -> Option<PodTemplate<'a>> {
    if !spec.is_map() {
        return None;
    }
    let meta_labels = meta.map(|m| string_map(m.at("labels"))).unwrap_or_default();
    let annotations = meta
        .map(|m| string_map(m.at("annotations")))
        .unwrap_or_default();
    let mut containers: Vec<Container<'a>> = spec
        .at("containers")
        .items()
        .iter()
        .filter(|c| c.is_map())
        .map(container)
        .collect();
    // KServe names the container it builds from a predictor's `model` `kserve-container`.
    for n in extra.iter().filter(|c| c.is_map()) {
        let mut c = container(n);
        if c.name.is_empty() {
            c.name = "kserve-container".to_owned();
        }
        containers.push(c);
    }
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

pub(super) fn requirements(list: &Node) -> Vec<Requirement> {
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

/// The accelerator resources a pod's GPUs are counted in: NVIDIA's and AMD's device plugins,
/// and the Neuron device plugin's whole devices (a Neuron chip, the catalog's unit for inf2
/// and trn instances; `aws.amazon.com/neuroncore`, single cores, is not read).
pub(crate) const GPU_RESOURCES: [&str; 3] = ["nvidia.com/gpu", "amd.com/gpu", NEURON_RESOURCE];

/// The Neuron device plugin's resource of whole Neuron devices (AWS Neuron docs, "Neuron
/// Device Plugin": `aws.amazon.com/neuron`, all cores of a device).
pub const NEURON_RESOURCE: &str = "aws.amazon.com/neuron";

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
        readiness: n.get("readinessProbe").filter(|p| p.is_map()),
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
    } else if n.get("ephemeral").is_some() {
        VolumeKind::Ephemeral
    } else if [
        "persistentVolumeClaim",
        "hostPath",
        "nfs",
        "csi",
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
        claim: n
            .path(&["persistentVolumeClaim", "claimName"])
            .and_then(Node::text),
        claim_size: n
            .path(&["ephemeral", "volumeClaimTemplate", "spec"])
            .and_then(|s| storage_request(s, "volumeClaimTemplate")),
    }
}

/// `resources.requests.storage` of a claim's `spec`.
pub(super) fn storage_request(spec: &Node, what: &str) -> Option<ClaimSize> {
    let e = spec.at("resources").at("requests").entry("storage")?;
    Some(ClaimSize {
        bytes: e.value.as_quantity()?,
        line: e.line,
        what: what.to_owned(),
    })
}
