//! A deployment the planner considered: what it is, what it costs, how it performs.

use crate::diagnostic::Diagnostic;
use inferplan_catalog::Dtype;
use inferplan_perf::Engine;
use serde::{Deserialize, Serialize};

/// How the capacity is bought.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PurchaseMix {
    /// Instances on a 1-year savings plan (the always-on baseline).
    pub savings_plan_instances: u32,
    /// Instances on demand (the daily peak above the baseline, and N+1 spares).
    pub on_demand_instances: u32,
    /// Instances on spot (async and batch work).
    pub spot_instances: u32,
    /// Mean cost per hour of this mix over the day.
    pub usd_per_hour: f64,
    /// The same capacity all on demand, for comparison.
    pub all_on_demand_usd_per_hour: f64,
    /// `1 − usd_per_hour / all_on_demand_usd_per_hour`, %.
    pub saving_pct: f64,
    /// Assumptions behind the prices (savings-plan discount, spot overhead).
    pub assumptions: Vec<String>,
}

/// One deployment that meets the SLOs.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Candidate {
    /// Instance type.
    pub instance: String,
    /// Instance family (`g6e`, `p5`, ...).
    pub family: String,
    /// Region of the price.
    pub region: String,
    /// GPU of the instance.
    pub gpu: String,
    /// GPUs of one instance.
    pub gpus_per_instance: u32,
    /// GPUs of one replica (`tp × pp`).
    pub gpus_per_replica: u32,
    /// Tensor-parallel degree.
    pub tp: u32,
    /// Pipeline-parallel degree (> 1 only across nodes).
    pub pp: u32,
    /// Weight format.
    pub precision: Dtype,
    /// KV-cache format.
    pub kv_dtype: Dtype,
    /// Serving engine.
    pub engine: Engine,
    /// Replicas needed at the peak (including the N+1 spare when asked).
    pub replicas: u32,
    /// Replicas that share one instance (one instance spans several replicas' GPUs).
    pub replicas_per_instance: u32,
    /// Instances at the peak.
    pub instances: u32,
    /// Highest request rate one replica sustains within the SLOs, requests/s.
    pub max_rps_per_replica: f64,
    /// TTFT p99 at the peak load per replica, ms.
    pub ttft_p99_ms: f64,
    /// TPOT p99 (a request's mean time per output token) at the peak load per replica, ms.
    pub tpot_p99_ms: f64,
    /// End-to-end p99 at the peak load per replica, ms.
    pub e2e_p99_ms: f64,
    /// Cost per hour at the purchase mix (mean over the day).
    pub usd_per_hour: f64,
    /// Cost of a million generated tokens at the mean rate.
    pub usd_per_million_output_tokens: f64,
    /// Cost of a million prompt + generated tokens at the mean rate.
    pub usd_per_million_total_tokens: f64,
    /// Mean rate over the capacity bought at the peak.
    pub utilization: f64,
    /// How to buy it.
    pub purchase_mix: PurchaseMix,
    /// Smallest ratio of an SLO limit to the predicted value (1 = at the limit).
    pub slo_headroom: f64,
    /// Weights of the whole model, GiB (for cold starts).
    pub weights_gib: f64,
    /// Things to know.
    pub findings: Vec<Diagnostic>,
}
