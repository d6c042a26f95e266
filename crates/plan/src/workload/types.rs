//! The parts of a workload description, their defaults and the rates they imply.

use super::length::Length;
use serde::{Deserialize, Serialize};

/// A whole workload description.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Workload {
    /// A short name for reports.
    #[serde(default = "default_name")]
    pub name: String,
    /// What is served.
    pub model: ModelSpecIn,
    /// How much traffic.
    pub traffic: Traffic,
    /// Request lengths.
    #[serde(default)]
    pub lengths: Lengths,
    /// Latency promises.
    #[serde(default)]
    pub slo: Slo,
    /// What the deployment may use.
    #[serde(default)]
    pub constraints: Constraints,
    /// Pricing assumptions.
    #[serde(default)]
    pub pricing: Pricing,
}

fn default_name() -> String {
    "workload".to_owned()
}

/// The model and its precision.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelSpecIn {
    /// Catalog name, alias or Hugging Face id.
    pub name: String,
    /// Weight format (`bf16`, `fp8`, `int4`, `fp4`, ...) or `any` (the planner chooses).
    #[serde(default = "default_precision")]
    pub precision: String,
    /// Serving engines to consider (`vllm`, `sglang`, `trtllm`, `tgi`, `lmdeploy`).
    #[serde(default = "default_engines")]
    pub engines: Vec<String>,
    /// Hugging Face checkpoint to serve, when the workload names its own; otherwise the
    /// planner picks one from the catalog (`data/models/checkpoints.csv`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checkpoint: Option<String>,
    /// When the `traffic.models` models are LoRA adapters of this one base model: their rank
    /// and the layers they adapt (priced as multi-LoRA serving among the multi-model patterns).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub adapters: Option<Adapters>,
}

/// LoRA adapters of the base model, one per served model (`traffic.models` of them).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Adapters {
    /// LoRA rank `r` (the largest among the adapters: vLLM sizes its buffers by
    /// `--max-lora-rank`).
    pub rank: u32,
    /// Which projections carry an adapter: `all-linear` (attention q, k, v, o and the MLP) or
    /// `attention` (q, k, v, o).
    #[serde(default = "default_targets")]
    pub targets: String,
}

fn default_targets() -> String {
    "all-linear".to_owned()
}

/// Values of `model.adapters.targets`.
pub const ADAPTER_TARGETS: [&str; 2] = ["all-linear", "attention"];

fn default_precision() -> String {
    "bf16".to_owned()
}

fn default_engines() -> Vec<String> {
    vec!["vllm".to_owned()]
}

/// Request rates.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Traffic {
    /// Mean request rate over the day, requests/s.
    pub rate_rps: f64,
    /// Peak request rate the deployment must serve within the SLOs. Default: the highest hour
    /// of `daily_profile`, else `rate_rps`.
    #[serde(default)]
    pub peak_rps: Option<f64>,
    /// How long the peak lasts, minutes per day (one spike, or the longest of several). When
    /// this is shorter than a replica's cold start, or unknown, the capacity for the peak is
    /// kept warm (and billed) all day: an autoscaler cannot start it in time.
    #[serde(default)]
    pub peak_minutes_per_day: Option<f64>,
    /// 24 relative weights, one per hour (UTC), scaled so that their mean is `rate_rps`.
    #[serde(default)]
    pub daily_profile: Option<Vec<f64>>,
    /// Coefficient of variation of the inter-arrival times: 1 for Poisson, higher for bursty
    /// traffic.
    #[serde(default = "one")]
    pub burstiness: f64,
    /// Models served with this same traffic each (e.g. customer-specific fine-tunes). More than
    /// one with little traffic each points to a shared multi-model endpoint.
    #[serde(default = "one_model")]
    pub models: u32,
    /// Mean request rate of each model, requests/s, when the models' traffic differs: one
    /// value per model (`traffic.models` of them), whose mean is `rate_rps`. The peak and the
    /// daily profile scale with each model's share.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model_rates_rps: Option<Vec<f64>>,
}

fn one_model() -> u32 {
    1
}

fn one() -> f64 {
    1.0
}

/// Request lengths.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Lengths {
    /// Prompt tokens.
    #[serde(default = "default_input")]
    pub input_tokens: Length,
    /// Generated tokens.
    #[serde(default = "default_output")]
    pub output_tokens: Length,
    /// A trace (`TIMESTAMP,ContextTokens,GeneratedTokens` as in the Azure LLM traces, or
    /// `arrival_s,input_tokens,output_tokens`) to take the lengths from instead.
    #[serde(default)]
    pub trace: Option<String>,
}

fn default_input() -> Length {
    Length::Fixed(1000)
}

fn default_output() -> Length {
    Length::Fixed(200)
}

impl Default for Lengths {
    fn default() -> Self {
        Lengths {
            input_tokens: default_input(),
            output_tokens: default_output(),
            trace: None,
        }
    }
}

/// What the SLO percentiles refer to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Percentile {
    /// Median.
    P50,
    /// 90th percentile.
    P90,
    /// 99th percentile.
    P99,
}

impl Percentile {
    /// As a fraction (0.5, 0.9, 0.99).
    pub fn quantile(self) -> f64 {
        match self {
            Percentile::P50 => 0.5,
            Percentile::P90 => 0.9,
            Percentile::P99 => 0.99,
        }
    }
}

/// How latency matters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// Real-time: the SLOs hold at the peak rate.
    Interactive,
    /// Queueing allowed: every request done within `deadline_s`.
    Async,
    /// Throughput only.
    Batch,
}

/// Latency promises. A missing limit is not checked.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Slo {
    /// Time to first token limit, ms.
    #[serde(default)]
    pub ttft_ms: Option<f64>,
    /// Time per output token limit, ms.
    #[serde(default)]
    pub tpot_ms: Option<f64>,
    /// End-to-end latency limit, ms.
    #[serde(default)]
    pub e2e_ms: Option<f64>,
    /// Percentile the limits refer to.
    #[serde(default = "default_percentile")]
    pub percentile: Percentile,
    /// Interactive, async or batch.
    #[serde(default = "default_mode")]
    pub mode: Mode,
    /// For async work: every request finished within this many seconds of its arrival.
    /// Required with `mode = "async"`, unused otherwise.
    #[serde(default)]
    pub deadline_s: Option<f64>,
    /// For batch work: the hours of each day the day's requests run in, as one job sized to
    /// finish within them at p99 and billed only while it runs (default 24: any time of the
    /// day). Only with `mode = "batch"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window_hours: Option<f64>,
    /// For batch work: the hour (UTC, 0 to 23) the window opens (default 0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window_start_utc: Option<u32>,
}

fn default_percentile() -> Percentile {
    Percentile::P99
}

fn default_mode() -> Mode {
    Mode::Interactive
}

impl Default for Slo {
    fn default() -> Self {
        Slo {
            ttft_ms: None,
            tpot_ms: None,
            e2e_ms: None,
            percentile: default_percentile(),
            mode: default_mode(),
            deadline_s: None,
            window_hours: None,
            window_start_utc: None,
        }
    }
}

/// Tenancy of the deployment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Tenancy {
    /// GPUs may be shared with other workloads.
    Shared,
    /// The tenant needs hardware isolation: MIG partitions or whole instances.
    Isolated,
}

/// Data classification.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DataClass {
    /// No special handling.
    General,
    /// Regulated data: dedicated-capable instance sizes in the allowed regions only.
    Regulated,
}

/// Where a candidate runs: self-managed on EKS (the manifests `render` writes), or on a
/// SageMaker endpoint (`render --platform sagemaker`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Platform {
    /// Amazon EKS: EC2 instances priced from the catalog, Karpenter, KEDA.
    Eks,
    /// Amazon SageMaker endpoints (or Batch Transform) on `ml.*` instances, priced only from
    /// managed prices (never from EC2's).
    Sagemaker,
}

impl Platform {
    /// Every platform, in the order the planner lists them.
    pub const ALL: [Platform; 2] = [Platform::Eks, Platform::Sagemaker];

    /// `eks` or `sagemaker`.
    pub fn as_str(self) -> &'static str {
        match self {
            Platform::Eks => "eks",
            Platform::Sagemaker => "sagemaker",
        }
    }
}

impl Default for Platform {
    /// EKS: what a plan meant before there was a choice.
    fn default() -> Platform {
        Platform::Eks
    }
}

impl std::fmt::Display for Platform {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Platform {
    type Err = String;

    fn from_str(s: &str) -> Result<Platform, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "eks" => Ok(Platform::Eks),
            "sagemaker" => Ok(Platform::Sagemaker),
            other => Err(format!(
                "unknown platform `{other}`; expected one of: eks, sagemaker"
            )),
        }
    }
}

/// What the deployment may use.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Constraints {
    /// Allowed regions; the cheapest is chosen.
    #[serde(default = "default_regions")]
    pub regions: Vec<String>,
    /// Shared or isolated.
    #[serde(default = "default_tenancy")]
    pub tenancy: Tenancy,
    /// General or regulated.
    #[serde(default = "default_data_class")]
    pub data_class: DataClass,
    /// Most GPUs one replica may span.
    #[serde(default = "default_max_gpus")]
    pub max_gpus_per_replica: u32,
    /// Instance families allowed (e.g. `g6e`, `p5`); empty = all.
    #[serde(default)]
    pub instance_families: Vec<String>,
    /// Longest acceptable cold start of a new replica, seconds.
    #[serde(default)]
    pub cold_start_budget_s: Option<f64>,
    /// Keep one instance of spare replicas (N+1 instances).
    #[serde(default)]
    pub redundancy: bool,
    /// Where weights are loaded from on a cold start: `hub`, `s3`, `nvme` or `fsx`
    /// (`inferplan_serving::Delivery` says how each reaches the engine).
    #[serde(default = "default_weights_source")]
    pub weights_source: String,
    /// The platforms compared: `eks` (self-managed) and `sagemaker` (managed endpoints).
    #[serde(default = "default_platforms")]
    pub platforms: Vec<Platform>,
    /// What running the EKS cluster costs besides its GPU instances (the control plane, the
    /// system nodes, the people), USD per hour, added to every EKS candidate's cost so that it
    /// compares with SageMaker's all-in instance price. An input, default 0.
    #[serde(default)]
    pub eks_operations_usd_per_hour: f64,
}

fn default_platforms() -> Vec<Platform> {
    Platform::ALL.to_vec()
}

fn default_regions() -> Vec<String> {
    vec![inferplan_catalog::DEFAULT_REGION.to_owned()]
}

fn default_tenancy() -> Tenancy {
    Tenancy::Shared
}

fn default_data_class() -> DataClass {
    DataClass::General
}

fn default_max_gpus() -> u32 {
    8
}

fn default_weights_source() -> String {
    "s3".to_owned()
}

impl Default for Constraints {
    fn default() -> Self {
        Constraints {
            regions: default_regions(),
            tenancy: default_tenancy(),
            data_class: default_data_class(),
            max_gpus_per_replica: default_max_gpus(),
            instance_families: Vec::new(),
            cold_start_budget_s: None,
            redundancy: false,
            weights_source: default_weights_source(),
            platforms: default_platforms(),
            eks_operations_usd_per_hour: 0.0,
        }
    }
}

/// Pricing assumptions where the catalog has no rate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Pricing {
    /// Discount of a 1-year compute savings plan off on-demand (an assumption: the catalog
    /// has no savings-plan rates).
    #[serde(default = "default_savings_plan")]
    pub savings_plan_discount: f64,
    /// Extra work spot capacity needs for interruptions (re-running lost requests), as a
    /// fraction.
    #[serde(default = "default_spot_overhead")]
    pub spot_interruption_overhead: f64,
    /// Allow spot capacity for async and batch work.
    #[serde(default = "yes")]
    pub allow_spot: bool,
}

fn default_savings_plan() -> f64 {
    0.30
}

fn default_spot_overhead() -> f64 {
    0.10
}

fn yes() -> bool {
    true
}

impl Default for Pricing {
    fn default() -> Self {
        Pricing {
            savings_plan_discount: default_savings_plan(),
            spot_interruption_overhead: default_spot_overhead(),
            allow_spot: true,
        }
    }
}

/// Weight sources a cold start may load from.
pub const WEIGHTS_SOURCES: [&str; 4] = ["hub", "s3", "nvme", "fsx"];

impl Workload {
    /// The peak request rate the deployment must serve: `traffic.peak_rps` when given, else
    /// the busiest hour of the daily profile, else the mean rate.
    pub fn peak_rps(&self) -> f64 {
        match (self.traffic.peak_rps, &self.traffic.daily_profile) {
            (Some(peak), _) => peak,
            (None, Some(_)) => self.hourly_rates().into_iter().fold(0.0, f64::max),
            (None, None) => self.traffic.rate_rps,
        }
    }

    /// Mean request rate of each of the `traffic.models` models: `traffic.model_rates_rps`
    /// when given, else `rate_rps` for every one.
    pub fn model_rates(&self) -> Vec<f64> {
        match &self.traffic.model_rates_rps {
            Some(rates) => rates.clone(),
            None => vec![self.traffic.rate_rps; self.traffic.models.max(1) as usize],
        }
    }

    /// Mean request rate of each hour of the day (UTC): the daily profile scaled so that its
    /// mean is `traffic.rate_rps`, or `rate_rps` in every hour without a (valid) profile.
    pub fn hourly_rates(&self) -> [f64; 24] {
        let rate = self.traffic.rate_rps;
        let mut rates = [rate; 24];
        if let Some(profile) = &self.traffic.daily_profile {
            let sum: f64 = profile.iter().sum();
            let valid = profile.len() == 24
                && sum > 0.0
                && sum.is_finite()
                && profile.iter().all(|w| w.is_finite() && *w >= 0.0);
            if valid {
                for (r, w) in rates.iter_mut().zip(profile) {
                    *r = rate * w * 24.0 / sum;
                }
            }
        }
        rates
    }
}

impl Mode {
    /// The name used in workload files (`interactive`, `async`, `batch`).
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Interactive => "interactive",
            Mode::Async => "async",
            Mode::Batch => "batch",
        }
    }
}
