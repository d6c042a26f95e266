//! Scores the memory budget against measured vLLM startups (the schema of
//! `vllm_memory.csv`): weights, activation peak, non-torch memory, KV cache and the
//! concurrency vLLM reports, per GPU.

use crate::memory::{fit, EngineLimits, FitInput, Placement};
use crate::params::MemoryParams;
use inferplan_catalog::names::split_quantized;
use inferplan_catalog::stats::quantile_sorted;
use inferplan_catalog::table::Table;
use inferplan_catalog::{Catalog, CatalogError, Dtype, Interconnect};
use serde::Serialize;
use std::collections::BTreeMap;

/// Columns that identify the vLLM memory schema.
pub const MEMORY_COLUMNS: [&str; 6] = [
    "model",
    "gpu",
    "tp",
    "max_model_len",
    "weights_gib",
    "kv_cache_gib",
];

/// One measured row next to its prediction.
#[derive(Debug, Clone, Serialize)]
pub struct MemoryComparison {
    /// Row id.
    pub id: String,
    /// Catalog model used.
    pub model: String,
    /// Catalog GPU used.
    pub gpu: String,
    /// vLLM version of the row, when stated.
    pub engine_version: String,
    /// Tensor-parallel degree.
    pub tp: u32,
    /// Pipeline-parallel degree.
    pub pp: u32,
    /// Weight format assumed.
    pub weights_dtype: Dtype,
    /// KV format assumed.
    pub kv_dtype: Dtype,
    /// Predicted and measured weights per GPU, GiB.
    pub weights_gib: (f64, Option<f64>),
    /// Predicted and measured activation peak, GiB.
    pub activation_gib: (f64, Option<f64>),
    /// Predicted and measured non-torch memory, GiB.
    pub non_torch_gib: (f64, Option<f64>),
    /// Predicted and measured KV cache, GiB.
    pub kv_cache_gib: (f64, Option<f64>),
    /// Predicted and measured reported max concurrency.
    pub max_concurrency: (f64, Option<f64>),
}

/// Error statistics of one component.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ComponentError {
    /// Rows with a measured value.
    pub n: usize,
    /// Median absolute error, GiB (or sequences for concurrency).
    pub median_abs: f64,
    /// 90th percentile absolute error.
    pub p90_abs: f64,
    /// Median absolute percentage error.
    pub median_ape: f64,
    /// 90th percentile absolute percentage error.
    pub p90_ape: f64,
    /// Rows within the target (weights: 2 %; KV cache: 1.5 GiB or 10 %).
    pub within_target: usize,
}

/// The whole comparison.
#[derive(Debug, Clone, Serialize)]
pub struct MemoryValidation {
    /// Data rows read.
    pub rows_total: usize,
    /// Rows compared.
    pub rows_evaluated: usize,
    /// Rows not compared, by reason.
    pub skipped: BTreeMap<String, usize>,
    /// Error per component over all evaluated rows.
    pub by_component: BTreeMap<String, ComponentError>,
    /// Error per component over the rows of the engine version the parameters were fitted on
    /// (vLLM 0.19).
    pub by_component_fitted_version: BTreeMap<String, ComponentError>,
    /// Every evaluated row.
    pub rows: Vec<MemoryComparison>,
}

/// Compares every row of a vLLM memory table.
pub fn validate_memory(
    table: &Table,
    catalog: &Catalog,
    params: &MemoryParams,
) -> Result<MemoryValidation, CatalogError> {
    table.require(&MEMORY_COLUMNS)?;
    let mut skipped: BTreeMap<String, usize> = BTreeMap::new();
    let mut rows = Vec::new();
    for r in table.rows() {
        let id = r.get("id").unwrap_or("?").to_owned();
        let raw = r.req("model")?;
        let raw = raw.split(" (").next().unwrap_or(raw);
        let (base, quant_from_name) = split_quantized(raw);
        let Ok(model) = catalog.model(&base) else {
            *skipped.entry("unknown model".into()).or_default() += 1;
            continue;
        };
        let Ok(gpu) = catalog.gpu(r.req("gpu")?) else {
            *skipped.entry("unknown GPU".into()).or_default() += 1;
            continue;
        };
        let quant = r.get("quantization").unwrap_or("").to_ascii_lowercase();
        let weights = quant_from_name
            .or_else(|| {
                [
                    ("w4a16", Dtype::Int4),
                    ("gptq", Dtype::Int4),
                    ("awq", Dtype::Int4),
                    ("w8a8", Dtype::Int8),
                    ("mxfp4", Dtype::Mxfp4),
                    ("fp8", Dtype::Fp8),
                ]
                .into_iter()
                .find(|(k, _)| quant.contains(k))
                .map(|(_, d)| d)
            })
            .or(model.native_weights)
            .or_else(|| {
                let notes = r.get("notes").unwrap_or("");
                if notes.contains("dtype=float32") {
                    Some(Dtype::Fp32)
                } else if notes.contains("dtype=float16") {
                    Some(Dtype::Fp16)
                } else {
                    None
                }
            })
            .unwrap_or(Dtype::Bf16);
        let kv = if r
            .get("kv_cache_dtype")
            .is_some_and(|s| s.to_ascii_lowercase().contains("fp8"))
        {
            Dtype::Fp8
        } else if matches!(weights, Dtype::Fp32 | Dtype::Fp16) {
            weights
        } else {
            Dtype::Bf16
        };
        let tp = r.u64("tp")?.unwrap_or(1).max(1) as u32;
        let gpus = r
            .u64("gpu_count")?
            .unwrap_or(u64::from(tp))
            .max(u64::from(tp)) as u32;
        let pp = (gpus / tp).max(1);
        let Some(mem) = r.f64("total_gpu_memory_gib")?.or_else(|| gpu.memory_gib()) else {
            *skipped.entry("GPU memory unknown".into()).or_default() += 1;
            continue;
        };
        let context = r.u64("max_model_len")?.unwrap_or(8192);
        let util = r.f64("gpu_memory_utilization")?.unwrap_or(0.9);
        let input = FitInput {
            placement: Placement {
                model,
                gpu,
                gpu_mem_gib: mem,
                gpus: tp * pp,
                interconnect: match (tp * pp, gpu.nvlink) {
                    (1, _) => Interconnect::Single,
                    (_, true) => Interconnect::NvLink,
                    (_, false) => Interconnect::Pcie,
                },
                tp,
                attention_dp: 1,
                pp,
                weights,
                kv,
            },
            context: context.min(model.max_context),
            concurrency: 1,
            gpu_memory_utilization: util,
            safety_margin: 1.2,
            engine: EngineLimits::vllm_default(mem, gpu.arch),
        };
        let rep = match fit(&input, params) {
            Ok(rep) => rep,
            Err(_) => {
                *skipped
                    .entry("configuration refused by the model".into())
                    .or_default() += 1;
                continue;
            }
        };
        let non_torch = params.non_torch_gib(tp, input.placement.interconnect);
        rows.push(MemoryComparison {
            id,
            model: model.name.clone(),
            gpu: gpu.name.clone(),
            engine_version: r.get("engine_version").unwrap_or("").to_owned(),
            tp,
            pp,
            weights_dtype: weights,
            kv_dtype: kv,
            weights_gib: (rep.weights_gib_per_gpu, r.f64_signed("weights_gib")?),
            activation_gib: (
                rep.activations_gib_per_gpu,
                r.f64_signed("activation_peak_gib")?,
            ),
            non_torch_gib: (non_torch, r.f64_signed("non_torch_gib")?),
            kv_cache_gib: (
                rep.engine_kv_cache_gib_per_gpu,
                r.f64_signed("kv_cache_gib")?,
            ),
            max_concurrency: (rep.engine_max_concurrency, r.f64_signed("max_concurrency")?),
        });
    }
    let fitted: Vec<MemoryComparison> = rows
        .iter()
        .filter(|c| c.engine_version == "0.19.0")
        .cloned()
        .collect();
    Ok(MemoryValidation {
        rows_total: table.len(),
        rows_evaluated: rows.len(),
        skipped,
        by_component: summarize(&rows),
        by_component_fitted_version: summarize(&fitted),
        rows,
    })
}

fn summarize(rows: &[MemoryComparison]) -> BTreeMap<String, ComponentError> {
    type Pick = fn(&MemoryComparison) -> (f64, Option<f64>);
    let parts: [(&str, Pick); 5] = [
        ("weights_gib", |c| c.weights_gib),
        ("activation_gib", |c| c.activation_gib),
        ("non_torch_gib", |c| c.non_torch_gib),
        ("kv_cache_gib", |c| c.kv_cache_gib),
        ("max_concurrency", |c| c.max_concurrency),
    ];
    let mut out = BTreeMap::new();
    for (name, pick) in parts {
        let pairs: Vec<(f64, f64)> = rows
            .iter()
            .filter_map(|c| {
                let (p, m) = pick(c);
                m.map(|m| (p, m))
            })
            .collect();
        if pairs.is_empty() {
            continue;
        }
        let mut abs: Vec<f64> = pairs.iter().map(|(p, m)| (p - m).abs()).collect();
        let mut ape: Vec<f64> = pairs
            .iter()
            .filter(|(_, m)| m.abs() > 1e-9)
            .map(|(p, m)| ((p - m) / m).abs() * 100.0)
            .collect();
        let within = pairs
            .iter()
            .filter(|(p, m)| match name {
                "weights_gib" => ((p - m) / m).abs() <= 0.02,
                "kv_cache_gib" => (p - m).abs() <= 1.5 || ((p - m) / m).abs() <= 0.10,
                "max_concurrency" => ((p - m) / m).abs() <= 0.10,
                _ => (p - m).abs() <= 0.5,
            })
            .count();
        abs.sort_by(f64::total_cmp);
        ape.sort_by(f64::total_cmp);
        // No values: 0, like a component without rows.
        let quantile = |sorted: &[f64], q: f64| quantile_sorted(sorted, q).unwrap_or(0.0);
        out.insert(
            name.to_owned(),
            ComponentError {
                n: pairs.len(),
                median_abs: quantile(&abs, 0.5),
                p90_abs: quantile(&abs, 0.9),
                median_ape: quantile(&ape, 0.5),
                p90_ape: quantile(&ape, 0.9),
                within_target: within,
            },
        );
    }
    out
}
