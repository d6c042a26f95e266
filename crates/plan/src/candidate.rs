//! A deployment the planner considered: what it is, what it costs, how it performs.

use crate::diagnostic::Diagnostic;
use crate::managed::SageMakerOption;
use crate::workload::Platform;
use inferplan_catalog::Dtype;
use inferplan_perf::Engine;
use inferplan_serving::checkpoint::ServedCheckpoint;
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
    /// Mean cost per hour of this mix over the day; `null` in JSON (infinite in the library)
    /// when the candidate has no price.
    #[serde(with = "no_price_null")]
    pub usd_per_hour: f64,
    /// The same capacity all on demand, for comparison (`null` without a price).
    #[serde(with = "no_price_null")]
    pub all_on_demand_usd_per_hour: f64,
    /// `1 − usd_per_hour / all_on_demand_usd_per_hour`, %.
    pub saving_pct: f64,
    /// Assumptions behind the prices (savings-plan discount, spot overhead).
    pub assumptions: Vec<String>,
    /// Instance-hours a day needs to serve every hour at the SLOs, N+1 spares and the peak
    /// included (a spike shorter than an hour counts its share of the hour).
    #[serde(default)]
    pub needed_instance_hours_per_day: f64,
    /// Instance-hours a day billed: never below `needed_instance_hours_per_day`, hour by hour.
    #[serde(default)]
    pub billed_instance_hours_per_day: f64,
    /// Whether the capacity for the peak runs (and is billed) all day because spikes are
    /// shorter than a cold start, or their length is not given.
    #[serde(default)]
    pub peak_kept_warm: bool,
    /// Cold start of one replica, seconds (what decides whether the peak is kept warm).
    #[serde(default)]
    pub cold_start_s: f64,
    /// When the peak is kept warm: the cost per hour if spikes lasted at least a cold start, so
    /// that an autoscaler could start the peak capacity for them.
    #[serde(default)]
    pub usd_per_hour_if_spikes_outlast_cold_start: Option<f64>,
    /// Batch work: the job over its window (window, runs, instances, hours billed, finish at
    /// p99), planned by `job::plan_job`; `None` otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub batch_job: Option<crate::job::BatchJob>,
}

/// A cost that may be missing: a candidate without a price (a SageMaker candidate for which
/// no managed price was supplied) costs `f64::INFINITY` in the library, so that it ranks after
/// every priced one and is never taken for free, and `null` in JSON; `null` reads back as
/// infinity.
pub mod no_price_null {
    use serde::{Deserialize, Deserializer, Serializer};

    /// Writes a finite cost as a number, a missing one as `null`.
    pub fn serialize<S: Serializer>(v: &f64, s: S) -> Result<S::Ok, S::Error> {
        if v.is_finite() {
            s.serialize_f64(*v)
        } else {
            s.serialize_none()
        }
    }

    /// Reads `null` as a missing cost (infinity).
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
        Ok(Option::<f64>::deserialize(d)?.unwrap_or(f64::INFINITY))
    }
}

/// One deployment that meets the SLOs.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Candidate {
    /// Its place among the plan's options, cheapest first (1-based; 0 for a candidate that is
    /// not an option: a bigger size of an option's hardware). The table's `#` and
    /// `render --candidate` use it; it does not change with `--top`.
    pub rank: usize,
    /// Where it runs: `eks` or `sagemaker`.
    pub platform: Platform,
    /// Instance type whose hardware runs it (EC2 name; a SageMaker candidate's `ml.*` type is
    /// `sagemaker.instance_type`, on the same hardware).
    pub instance: String,
    /// Instance family (`g6e`, `p5`, ...).
    pub family: String,
    /// Region of the price.
    pub region: String,
    /// GPU of the instance.
    pub gpu: String,
    /// Architecture of that GPU (the catalog's `Gpu::arch`): on a Neuron chip the server is
    /// vLLM's Neuron backend, whose cold start [`Candidate::cold_start`] counts.
    #[serde(skip)]
    pub accelerator: inferplan_catalog::Arch,
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
    /// Cost per hour at the purchase mix (mean over the day); infinite (`null` in JSON) when
    /// the candidate has no price (`sagemaker.no_price` says why).
    #[serde(with = "no_price_null")]
    pub usd_per_hour: f64,
    /// Cost of a million generated tokens at the mean rate (`null` without a price).
    #[serde(with = "no_price_null")]
    pub usd_per_million_output_tokens: f64,
    /// Cost of a million prompt + generated tokens at the mean rate (`null` without a price).
    #[serde(with = "no_price_null")]
    pub usd_per_million_total_tokens: f64,
    /// Mean rate over the capacity bought at the peak.
    pub utilization: f64,
    /// How to buy it.
    pub purchase_mix: PurchaseMix,
    /// Smallest ratio of an SLO limit to the predicted value (1 = at the limit).
    pub slo_headroom: f64,
    /// Checkpoint served; `None` when the catalog lists none for the model ("checkpoint
    /// unknown": the model's own repository is rendered).
    pub checkpoint: Option<ServedCheckpoint>,
    /// Weights of the whole model, GiB (for cold starts).
    pub weights_gib: f64,
    /// Things to know.
    pub findings: Vec<Diagnostic>,
    /// A SageMaker candidate's endpoint: `ml.*` instance, container, endpoint type, price (or
    /// why none), limits and cold start; `None` on EKS.
    pub sagemaker: Option<SageMakerOption>,
    /// On a Neuron chip, the batch the graphs are compiled for (vLLM's `--max-num-seqs`),
    /// chosen for the SLOs: every decode step runs that many rows
    /// (`inferplan_perf::neuron::Shapes`); `None` on GPUs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_num_seqs: Option<u64>,
}

impl Candidate {
    /// Whether the candidate has a price (every EKS candidate; a SageMaker one with a
    /// managed price).
    pub fn priced(&self) -> bool {
        self.usd_per_hour.is_finite()
    }

    /// Bytes one instance of a replica reads on a cold start: the served checkpoint's download
    /// (the weights when the catalog lists no checkpoint), split over the nodes of a replica.
    pub fn cold_start_bytes_per_node(&self) -> f64 {
        let whole = self
            .checkpoint
            .as_ref()
            .map_or(self.weights_gib * (1u64 << 30) as f64, |k| {
                k.download_bytes as f64
            });
        whole / f64::from(self.nodes_per_replica().max(1))
    }

    /// Cold start of a replica on a new node of `instance` reading `weights_source`
    /// ([`inferplan_serving::new_replica`], with the engine that serves on the candidate's
    /// accelerator: the Neuron server on a Neuron chip): what IP105 reports, what the billing
    /// of short spikes counts, what `plan --verify` simulates and what the renderer's probes
    /// are built from.
    pub fn cold_start(
        &self,
        weights_source: &str,
        instance: &inferplan_catalog::Instance,
    ) -> inferplan_serving::ColdStart {
        inferplan_serving::new_replica(
            weights_source,
            Some(self.engine),
            self.accelerator,
            self.cold_start_bytes_per_node(),
            instance,
        )
    }

    /// Nodes (instances) one replica spans: 1 unless pipeline stages run on several.
    pub fn nodes_per_replica(&self) -> u32 {
        self.gpus_per_replica
            .max(1)
            .div_ceil(self.gpus_per_instance.max(1))
    }
}
