//! Resolving `--model`, `--precision`, `--instance`/`--gpu` and the layout, shared by the
//! commands that take a deployment.

use crate::args::DeploymentArgs;
use anyhow::{anyhow, bail};
use inferplan_catalog::{Catalog, Dtype, Gpu, Instance, Interconnect, ModelSpec};
use inferplan_perf::memory::default_kv_dtype;
use inferplan_perf::{PerfError, Placement};

/// A deployment named on the command line, resolved against the catalog.
pub struct Resolved<'a> {
    /// The model.
    pub model: ModelSpec,
    /// Where it runs.
    pub target: Target<'a>,
    /// Weight format.
    pub weights: Dtype,
    /// KV-cache format.
    pub kv: Dtype,
    /// Tensor-parallel degree.
    pub tp: u32,
    /// Pipeline-parallel degree.
    pub pp: u32,
    /// Link used between the replica's GPUs (`Single` for one GPU).
    pub link: Interconnect,
}

impl Resolved<'_> {
    /// The placement the library takes.
    pub fn placement(&self) -> Placement<'_> {
        Placement {
            model: &self.model,
            gpu: self.target.gpu,
            gpu_mem_gib: self.target.mem_gib,
            gpus: self.target.gpus,
            interconnect: self.link,
            tp: self.tp,
            attention_dp: 1,
            pp: self.pp,
            weights: self.weights,
            kv: self.kv,
        }
    }
}

/// Loads the model (adding `--model-config` to `catalog` first) and resolves the rest.
pub fn model(catalog: &mut Catalog, a: &DeploymentArgs) -> anyhow::Result<ModelSpec> {
    Ok(match (&a.model, &a.model_config) {
        (_, Some(path)) => catalog.add_model_config(path)?.clone(),
        (Some(name), None) => catalog.model(name)?.clone(),
        (None, None) => bail!("give --model or --model-config"),
    })
}

/// Resolves hardware, formats and layout for `model`.
pub fn resolve<'a>(
    catalog: &'a Catalog,
    model: ModelSpec,
    a: &DeploymentArgs,
) -> anyhow::Result<Resolved<'a>> {
    let target = target(catalog, a)?;
    let weights = a.precision;
    let kv = a
        .kv_dtype
        .unwrap_or_else(|| default_kv_dtype(weights, target.gpu));
    let tp = a.tp.unwrap_or(target.gpus / a.pp.max(1)).max(1);
    let link = if tp * a.pp > 1 {
        target.link
    } else {
        Interconnect::Single
    };
    Ok(Resolved {
        model,
        target,
        weights,
        kv,
        tp,
        pp: a.pp,
        link,
    })
}

/// Turns a refusal of the performance model into an error naming the flag.
pub fn flag_error(e: PerfError) -> anyhow::Error {
    match e {
        PerfError::Refused { field, message } => {
            anyhow!("--{}: {message}", field.replace('_', "-"))
        }
        other => anyhow!(other),
    }
}

/// Where the model runs.
pub struct Target<'a> {
    /// Human-readable description.
    pub label: String,
    /// The GPU.
    pub gpu: &'a Gpu,
    /// Memory per GPU, GiB.
    pub mem_gib: f64,
    /// GPUs available.
    pub gpus: u32,
    /// Link between them.
    pub link: Interconnect,
    /// The instance, when one was named.
    pub instance: Option<&'a Instance>,
}

/// The GPU or instance `--instance` or `--gpu` names.
pub fn target<'a>(catalog: &'a Catalog, a: &DeploymentArgs) -> anyhow::Result<Target<'a>> {
    if let Some(name) = &a.instance {
        let inst = catalog.instance(name)?;
        let gpu = catalog.instance_gpu(inst).ok_or_else(|| {
            anyhow!(
                "--instance: {} has {} accelerators, which are not in the GPU catalog",
                inst.name,
                inst.gpu_label
            )
        })?;
        let mem_gib = inst
            .gpu_mem_gib()
            .or_else(|| gpu.memory_gib())
            .ok_or_else(|| anyhow!("--instance: GPU memory of {} is not known", inst.name))?;
        let label = if inst.gpu_count < 1.0 {
            format!(
                "{} ({} of one {}, {mem_gib:.1} GiB)",
                inst.name, inst.gpu_count, gpu.name
            )
        } else {
            format!(
                "{} ({}× {}, {mem_gib:.1} GiB each)",
                inst.name, inst.gpu_count, gpu.name
            )
        };
        return Ok(Target {
            label,
            gpu,
            mem_gib,
            gpus: inst.whole_gpus(),
            link: inst.interconnect,
            instance: Some(inst),
        });
    }
    let name = a
        .gpu
        .as_deref()
        .ok_or_else(|| anyhow!("give --instance or --gpu"))?;
    let gpu = catalog.gpu(name)?;
    let mem_gib = gpu.memory_gib().ok_or_else(|| {
        anyhow!(
            "--gpu: memory of {} is not in the catalog; add it with --catalog-dir",
            gpu.name
        )
    })?;
    if a.gpus == 0 {
        bail!("--gpus: must be at least 1");
    }
    let link = if a.gpus == 1 {
        Interconnect::Single
    } else if gpu.nvlink {
        Interconnect::NvLink
    } else {
        Interconnect::Pcie
    };
    Ok(Target {
        label: format!("{}× {} ({mem_gib:.1} GiB each)", a.gpus, gpu.name),
        gpu,
        mem_gib,
        gpus: a.gpus,
        link,
        instance: None,
    })
}

impl Target<'_> {
    /// One GPU's share of the instance's on-demand price in `region`, $/h (`None` without an
    /// instance or a price).
    pub fn usd_per_gpu_hour(&self, region: &str) -> Option<f64> {
        let i = self.instance?;
        Some(i.on_demand(region)? / f64::from(i.whole_gpus().max(1)))
    }
}
