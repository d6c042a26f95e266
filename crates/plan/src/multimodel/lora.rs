//! Multi-LoRA serving: the memory of the adapters and the throughput they cost.
//!
//! An adapter of rank `r` on a projection `in → out` adds `A (in × r)` and `B (r × out)`:
//! `r × (in + out)` weights. Summed over the adapted projections of every layer and stored in
//! 16 bit (vLLM keeps adapters in the model's activation dtype), that is the adapter's size.
//!
//! The throughput cost comes from `data/perf/lora_overhead.csv` (published benchmarks with
//! their sources): the planner takes the largest slowdown measured on the engine's current
//! version (vLLM V1), a conservative reading of few measurements. Engines without a row take
//! vLLM's figure, and the answer says it is an assumption.

use crate::error::PlanError;
use inferplan_catalog::table::Table;
use inferplan_catalog::ModelSpec;
use inferplan_perf::Engine;

const LORA_OVERHEAD_CSV: &str = include_str!("../../../../data/perf/lora_overhead.csv");

/// Bytes per adapter weight (16 bit).
const ADAPTER_BYTES: f64 = 2.0;

/// Weights of one adapter of rank `rank` on `model`: `rank × Σ (in + out)` over the adapted
/// projections of every layer. `targets` is `attention` (q, k, v, o) or `all-linear` (those and
/// the MLP's gate, up and down; for a mixture of experts, attention only: per-expert adapters
/// are not priced).
pub fn adapter_params(model: &ModelSpec, rank: u32, targets: &str) -> f64 {
    let h = model.hidden as f64;
    let q = (model.heads * model.head_dim) as f64;
    let kv = (model.kv_heads * model.head_dim) as f64;
    let o_in = (model.heads * model.v_head_dim.max(1)) as f64;
    let v = (model.kv_heads * model.v_head_dim.max(1)) as f64;
    let attention = (h + q) + (h + kv) + (h + v) + (o_in + h);
    let mlp = if targets == "all-linear" && model.moe.is_none() {
        let i = model.intermediate as f64;
        let mats = if model.gated_mlp { 3.0 } else { 2.0 };
        mats * (h + i)
    } else {
        0.0
    };
    f64::from(rank) * (attention + mlp) * model.layers as f64
}

/// Size of one adapter, GiB.
pub fn adapter_gib(model: &ModelSpec, rank: u32, targets: &str) -> f64 {
    adapter_params(model, rank, targets) * ADAPTER_BYTES / (1u64 << 30) as f64
}

/// One published measurement of LoRA's throughput cost.
#[derive(Debug, Clone, PartialEq)]
pub struct Measurement {
    /// Engine.
    pub engine: String,
    /// Engine generation (`v0`, `v1`).
    pub engine_version: String,
    /// Accelerator measured on.
    pub accelerator: String,
    /// LoRA rank measured, when published.
    pub rank: Option<u32>,
    /// Throughput lost, %.
    pub slowdown_pct: f64,
    /// Where it is published.
    pub source: String,
}

/// The embedded measurements.
pub fn measurements() -> Result<Vec<Measurement>, PlanError> {
    let table = Table::parse(LORA_OVERHEAD_CSV, "data/perf/lora_overhead.csv")?;
    let mut out = Vec::new();
    for r in table.rows() {
        let slowdown = r.req_f64("slowdown_pct")?;
        if !(0.0..100.0).contains(&slowdown) {
            return Err(r
                .error(
                    "slowdown_pct",
                    format!("must be in [0, 100), got {slowdown}"),
                )
                .into());
        }
        out.push(Measurement {
            engine: r.req("engine")?.to_owned(),
            engine_version: r.req("engine_version")?.to_owned(),
            accelerator: r.req("accelerator")?.to_owned(),
            rank: r.u64("rank")?.map(|v| v.min(u64::from(u32::MAX)) as u32),
            slowdown_pct: slowdown,
            source: r.req("source")?.to_owned(),
        });
    }
    Ok(out)
}

/// The engine generation the planner models (vLLM's V1 engine is the only one it ships).
const CURRENT: &str = "v1";

/// The throughput share multi-LoRA serving loses on `engine`, and its basis.
#[derive(Debug, Clone, PartialEq)]
pub struct Penalty {
    /// Fraction of the throughput lost (0.239 = 23.9 %).
    pub fraction: f64,
    /// Where the figure comes from, in one line.
    pub basis: String,
    /// True when no measurement of this engine exists and vLLM's is used.
    pub assumed: bool,
}

/// The largest slowdown published for the current version of `engine` (else of vLLM) at
/// `rank` or below (a measurement without a rank counts at every rank): a larger rank costs
/// more kernel work, so measurements at higher ranks do not apply to smaller ones.
pub fn penalty(engine: Engine, rank: u32) -> Result<Penalty, PlanError> {
    let rows = measurements()?;
    let applies = |m: &Measurement| m.engine_version == CURRENT && m.rank.is_none_or(|r| r <= rank);
    let worst = |name: &str| {
        rows.iter()
            .filter(|m| m.engine == name && applies(m))
            .max_by(|a, b| a.slowdown_pct.total_cmp(&b.slowdown_pct))
    };
    let own = engine.to_string();
    let (m, assumed) = match worst(&own) {
        Some(m) => (m, false),
        None => match worst("vllm") {
            Some(m) => (m, true),
            None => {
                return Err(PlanError::input(
                    "model.adapters",
                    "data/perf/lora_overhead.csv has no measurement of the current vLLM engine",
                ))
            }
        },
    };
    let n = rows
        .iter()
        .filter(|r| r.engine == m.engine && applies(r))
        .count();
    Ok(Penalty {
        fraction: m.slowdown_pct / 100.0,
        basis: format!(
            "{:.1} % throughput lost: the largest of {n} published {} {CURRENT} measurements at rank {rank} or below ({}, {}){}",
            m.slowdown_pct,
            m.engine,
            m.accelerator,
            m.source.split(' ').next().unwrap_or_default(),
            if assumed {
                format!("; no measurement of {own}: vLLM's figure, an assumption")
            } else {
                String::new()
            }
        ),
        assumed,
    })
}
