//! Where a pod can run: its node selection, completed by the NodePools it can use, resolved to
//! catalog instance types, and whether the nodes are spot capacity.

use super::node_pool::NodePool;
use super::pod::{PodTemplate, Requirement, Toleration};
use super::Context;
use inferplan_catalog::{Catalog, Gpu, Instance};

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
    /// The GPU a GKE accelerator label or an AKS VM size names, when no catalog instance type
    /// is selected.
    pub labelled_gpu: Option<&'c Gpu>,
}

impl<'c> Hardware<'c> {
    /// The GPU of the candidates, when they all have the same catalog GPU (or the GPU a GKE or
    /// AKS node label names).
    pub fn gpu(&self, catalog: &'c Catalog) -> Option<&'c Gpu> {
        if self.instances.is_empty() {
            return self.labelled_gpu;
        }
        let mut gpus = self.instances.iter().map(|i| catalog.instance_gpu(i));
        let first = gpus.next()??;
        gpus.all(|g| g.is_some_and(|g| g.name == first.name))
            .then_some(first)
    }

    /// The largest GPU memory among the candidates, GiB, with the GPU's name (per instance as
    /// EC2 reports it, else the GPU's).
    pub fn gpu_memory(&self, catalog: &'c Catalog) -> Option<(String, f64)> {
        if self.instances.is_empty() {
            let g = self.labelled_gpu?;
            return Some((g.name.clone(), g.memory_gib()?));
        }
        self.instances
            .iter()
            .filter_map(|i| {
                let g = catalog.instance_gpu(i)?;
                Some((g.name.clone(), i.gpu_mem_gib().or_else(|| g.memory_gib())?))
            })
            .max_by(|a, b| a.1.total_cmp(&b.1))
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

/// Node labels naming the instance type.
pub const INSTANCE_TYPE_KEYS: [&str; 2] = [
    "node.kubernetes.io/instance-type",
    "beta.kubernetes.io/instance-type",
];

const FAMILY_KEY: &str = "karpenter.k8s.aws/instance-family";
const GPU_NAME_KEY: &str = "karpenter.k8s.aws/instance-gpu-name";
const GPU_COUNT_KEY: &str = "karpenter.k8s.aws/instance-gpu-count";
const NODEPOOL_KEYS: [&str; 2] = ["karpenter.sh/nodepool", "karpenter.sh/provisioner-name"];

/// GKE's node label naming the accelerator.
pub const GKE_ACCELERATOR_KEY: &str = "cloud.google.com/gke-accelerator";

/// GKE accelerator label values and the catalog GPU each names. Source: Google Cloud, "About
/// GPUs in GKE" and "GPU platforms" (cloud.google.com/kubernetes-engine/docs/concepts/gpus,
/// cloud.google.com/compute/docs/gpus, retrieved 2026-12-07): A2 Standard runs A100 40GB, A2
/// Ultra A100 80GB, A3 High/Mega H100 80GB SXM, A3 Ultra H200 141GB, A4 B200, A4X GB200.
const GKE_ACCELERATORS: [(&str, &str); 11] = [
    ("nvidia-tesla-t4", "T4"),
    ("nvidia-l4", "L4"),
    ("nvidia-tesla-a100", "A100 40GB SXM4"),
    ("nvidia-a100-80gb", "A100 80GB SXM4"),
    ("nvidia-h100-80gb", "H100 SXM"),
    ("nvidia-h100-mega-80gb", "H100 SXM"),
    ("nvidia-h200-141gb", "H200 SXM"),
    ("nvidia-b200", "B200"),
    ("nvidia-gb200", "GB200"),
    ("nvidia-tesla-v100", "V100 SXM2 16GB"),
    ("nvidia-rtx-pro-6000", "RTX PRO 6000"),
];

/// Azure VM sizes (the AKS node's `node.kubernetes.io/instance-type`, lower case) and the
/// catalog GPU they carry: `(prefix, suffix, GPU)`. Source: Microsoft Learn, "Sizes for virtual
/// machines in Azure", GPU accelerated families NCads A100 v4 (A100 80GB PCIe), ND A100 v4
/// (ND96asr_v4, A100 40GB SXM4), NDm A100 v4 (A100 80GB SXM4), ND H100 v5 (H100 SXM), NCads H100
/// v5 (H100 NVL), ND H200 v5 (H200 SXM), ND MI300X v5, NCasT4 v3 (T4), NCv3 (V100 16GB PCIe),
/// ND GB200 v6 (retrieved 2026-12-07).
const AKS_SIZES: [(&str, &str, &str); 10] = [
    ("standard_nc", "ads_a100_v4", "A100 80GB PCIe"),
    ("standard_nd96asr_v4", "", "A100 40GB SXM4"),
    ("standard_nd96amsr_a100_v4", "", "A100 80GB SXM4"),
    ("standard_nd", "_h100_v5", "H100 SXM"),
    ("standard_nc", "ads_h100_v5", "H100 NVL"),
    ("standard_nd", "_h200_v5", "H200 SXM"),
    ("standard_nd", "_mi300x_v5", "MI300X"),
    ("standard_nc", "as_t4_v3", "T4"),
    ("standard_nc", "s_v3", "V100 PCIe 16GB"),
    ("standard_nd", "_gb200_v6", "GB200"),
];

/// The catalog GPU a GKE accelerator value or an Azure VM size names.
pub fn labelled_gpu<'c>(catalog: &'c Catalog, key: &str, value: &str) -> Option<&'c Gpu> {
    let v = value.trim().to_ascii_lowercase();
    let name = if key == GKE_ACCELERATOR_KEY {
        GKE_ACCELERATORS.iter().find(|(k, _)| *k == v)?.1
    } else if INSTANCE_TYPE_KEYS.contains(&key) && v.starts_with("standard_") {
        AKS_SIZES
            .iter()
            .find(|(pre, suf, _)| {
                v.starts_with(pre) && v.ends_with(suf) && v.len() >= pre.len() + suf.len()
            })?
            .2
    } else {
        return None;
    };
    catalog.gpu(name).ok()
}

impl<'a> Context<'a> {
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
        // GKE and AKS: no catalog instance, but the label names the GPU.
        let mut labelled = None;
        if instances.is_empty() {
            for key in [
                GKE_ACCELERATOR_KEY,
                INSTANCE_TYPE_KEYS[0],
                INSTANCE_TYPE_KEYS[1],
            ] {
                if let Some((vals, r)) = values(key) {
                    if let Some(g) = vals.iter().find_map(|v| labelled_gpu(self.catalog, key, v)) {
                        labelled = Some(g);
                        chosen = Some(r);
                        break;
                    }
                }
            }
        }
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
            labelled_gpu: labelled,
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
