//! MIG slices as instances the search can size: every MIG profile of `data/catalog/mig_profiles.csv`
//! on every catalog instance whose GPU supports MIG becomes a one-GPU instance type whose GPU
//! holds the profile's share of the memory, the memory bandwidth and the SMs, priced at its
//! share of the instance.
//!
//! A slice is a GPU with `memory_fraction` of the memory and of the bandwidth (a MIG memory
//! slice carries its memory controllers and L2) and `sm_fraction` of the compute, per NVIDIA's
//! MIG user guide. The GPUs of one instance are partitioned alike (one profile per plan option),
//! so an instance holds `GPUs × max_instances` slices.

use crate::error::PlanError;
use inferplan_catalog::table::Table;
use inferplan_catalog::{Catalog, Gpu, Instance};

const MIG_PROFILES_CSV: &str = include_str!("../../../../data/catalog/mig_profiles.csv");

/// The family of every MIG-slice instance type (`p5.48xlarge/1g.20gb`).
pub const MIG_FAMILY: &str = "mig";

/// One MIG profile of one GPU.
#[derive(Debug, Clone, PartialEq)]
pub struct MigProfile {
    /// Catalog GPU name.
    pub gpu: String,
    /// Profile name, `1g.10gb`.
    pub profile: String,
    /// Share of the GPU's memory (and memory bandwidth).
    pub memory_fraction: f64,
    /// Share of the GPU's streaming multiprocessors.
    pub sm_fraction: f64,
    /// Instances of this profile one GPU holds.
    pub max_instances: u32,
    /// Where the figures come from.
    pub source: String,
}

/// The embedded MIG profiles.
pub fn profiles() -> Result<Vec<MigProfile>, PlanError> {
    let table = Table::parse(MIG_PROFILES_CSV, "data/catalog/mig_profiles.csv")?;
    let mut out = Vec::new();
    for r in table.rows() {
        let fraction = |col: &str| -> Result<f64, PlanError> {
            let v = r.req_f64(col)?;
            if !(v > 0.0 && v <= 1.0) {
                return Err(r.error(col, format!("must be in (0, 1], got {v}")).into());
            }
            Ok(v)
        };
        let max_instances = r
            .u64("max_instances")?
            .filter(|n| (1..=7).contains(n))
            .ok_or_else(|| r.error("max_instances", "must be a whole number from 1 to 7"))?;
        out.push(MigProfile {
            gpu: r.req("gpu")?.to_owned(),
            profile: r.req("profile")?.to_owned(),
            memory_fraction: fraction("memory_fraction")?,
            sm_fraction: fraction("sm_fraction")?,
            max_instances: max_instances as u32,
            source: r.req("source")?.to_owned(),
        });
    }
    Ok(out)
}

/// A MIG slice instance type the catalog gained, and what it stands for.
#[derive(Debug, Clone, PartialEq)]
pub struct Slice {
    /// Its name in the derived catalog, `p5.48xlarge/1g.20gb`.
    pub name: String,
    /// The whole instance type bought.
    pub parent: String,
    /// The profile.
    pub profile: MigProfile,
    /// Slices one parent instance holds (GPUs × instances per GPU).
    pub per_instance: u32,
}

/// The GPU of a slice: the profile's share of memory, bandwidth and compute.
fn slice_gpu(gpu: &Gpu, p: &MigProfile) -> Gpu {
    let mem = |x: Option<f64>| x.map(|v| v * p.memory_fraction);
    let sm = |x: Option<f64>| x.map(|v| v * p.sm_fraction);
    Gpu {
        name: format!("{} MIG {}", gpu.name, p.profile),
        memory_gb_nominal: mem(gpu.memory_gb_nominal),
        memory_gib_reported: mem(gpu.memory_gib_reported),
        mem_bandwidth_gbs: mem(gpu.mem_bandwidth_gbs),
        fp32_tflops: sm(gpu.fp32_tflops),
        bf16_tflops: sm(gpu.bf16_tflops),
        fp16_tflops: sm(gpu.fp16_tflops),
        fp8_tflops: sm(gpu.fp8_tflops),
        int8_tops: sm(gpu.int8_tops),
        fp4_tflops: sm(gpu.fp4_tflops),
        tdp_w: None,
        nvlink: false,
        nvlink_gbs: None,
        mig_max_instances: None,
        source: format!("{} × MIG {} ({})", gpu.source, p.profile, p.source),
        notes: format!(
            "MIG {} slice of {}: {:.3} of the memory and bandwidth, {:.3} of the SMs",
            p.profile, gpu.name, p.memory_fraction, p.sm_fraction
        ),
        ..gpu.clone()
    }
}

/// `catalog` with one instance type per (MIG-capable instance, profile), and the slices added.
/// Only instances with whole GPUs that support MIG (`mig_support = yes` in gpus.csv) and a
/// profile in `mig_profiles.csv` get slices.
pub fn with_slices(catalog: &Catalog) -> Result<(Catalog, Vec<Slice>), PlanError> {
    let profiles = profiles()?;
    let mut derived = catalog.clone();
    let mut slices = Vec::new();
    for inst in catalog.instances() {
        let Some(gpu) = catalog.instance_gpu(inst) else {
            continue;
        };
        if gpu.mig_max_instances.is_none() || inst.gpu_count < 1.0 {
            continue;
        }
        for p in profiles.iter().filter(|p| p.gpu == gpu.name) {
            let g = slice_gpu(gpu, p);
            let per_instance = inst.whole_gpus() * p.max_instances;
            let share = 1.0 / f64::from(per_instance);
            let name = format!("{}/{}", inst.name, p.profile);
            let mut prices = inst.prices.clone();
            for price in &mut prices {
                price.on_demand_usd_hr = price.on_demand_usd_hr.map(|v| v * share);
                price.spot_usd_hr = price.spot_usd_hr.map(|v| v * share);
                price.spot_min_usd_hr = price.spot_min_usd_hr.map(|v| v * share);
            }
            derived.upsert_gpu(g.clone());
            derived.upsert_instance(Instance {
                name: name.clone(),
                family: MIG_FAMILY.to_owned(),
                gpu_label: g.name.clone(),
                gpu: Some(g.name.clone()),
                gpu_count: 1.0,
                gpu_mem_mib: inst.gpu_mem_mib.map(|m| m * p.memory_fraction),
                vcpus: inst.vcpus.map(|v| v * share),
                ram_gib: inst.ram_gib.map(|v| v * share),
                local_nvme_gb: inst.local_nvme_gb.map(|v| v * share),
                network_gbps: inst.network_gbps.map(|v| v * share),
                efa: false,
                interconnect: inferplan_catalog::Interconnect::Single,
                prices,
                notes: format!(
                    "MIG {} slice: 1/{per_instance} of a {} (priced at that share; the \
                     whole instance is bought)",
                    p.profile, inst.name
                ),
                ..inst.clone()
            });
            slices.push(Slice {
                name,
                parent: inst.name.clone(),
                profile: p.clone(),
                per_instance,
            });
        }
    }
    Ok((derived, slices))
}
