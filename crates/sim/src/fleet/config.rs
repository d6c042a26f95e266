//! What describes a fleet: replicas, router, autoscaler, spot interruptions, clients and SLOs.

use inferplan_perf::step::Efficiency;
use inferplan_perf::Replica;
use serde::Serialize;

/// How the router picks a replica.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Router {
    /// In turn.
    RoundRobin,
    /// Fewest requests waiting or running.
    LeastOutstanding,
    /// Lowest KV-cache use.
    LeastKv,
}

/// What the autoscaler tracks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ScaleMetric {
    /// Requests waiting for admission per replica.
    QueueDepth,
    /// Requests waiting or running per replica.
    InFlight,
    /// Fraction of time the GPUs run steps (shown to fail for LLM serving).
    GpuUtilization,
}

/// Target-tracking autoscaler.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Autoscaler {
    /// Metric to track.
    pub metric: ScaleMetric,
    /// Target value of the metric per replica.
    pub target: f64,
    /// Fewest replicas.
    pub min: u32,
    /// Most replicas.
    pub max: u32,
    /// Seconds between decisions.
    pub interval_s: f64,
    /// Seconds after a scale-out before the next one.
    pub scale_out_cooldown_s: f64,
    /// Seconds after any scaling before a scale-in.
    pub scale_in_cooldown_s: f64,
}

/// Spot interruptions.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Spot {
    /// Interruptions per replica-hour.
    pub rate_per_hour: f64,
    /// Warning before the replica is lost, seconds (AWS gives two minutes).
    pub notice_s: f64,
}

/// Client behaviour.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Client {
    /// Seconds without a first token after which a client retries (none: waits forever).
    pub timeout_s: Option<f64>,
    /// Retries after the first attempt.
    pub max_retries: u32,
    /// Requests carry idempotency keys: a retry attaches to the work already running instead of
    /// adding a duplicate.
    pub idempotency_keys: bool,
}

/// Latency promises for attainment and goodput.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize)]
pub struct Slo {
    /// TTFT limit, ms.
    pub ttft_ms: Option<f64>,
    /// TPOT limit, ms.
    pub tpot_ms: Option<f64>,
    /// End-to-end limit, ms.
    pub e2e_ms: Option<f64>,
}

/// Everything about the fleet.
#[derive(Debug, Clone)]
pub struct FleetConfig {
    /// The deployment of one replica.
    pub replica: Replica,
    /// Its efficiencies.
    pub efficiency: Efficiency,
    /// Replicas at the start.
    pub replicas: u32,
    /// Router policy.
    pub router: Router,
    /// Autoscaling, if any.
    pub autoscaler: Option<Autoscaler>,
    /// Spot interruptions, if any.
    pub spot: Option<Spot>,
    /// Clients.
    pub client: Client,
    /// Cold start of a new replica (boot, engine start, weights), seconds.
    pub cold_start_s: f64,
    /// Price of one replica-hour (its share of the instance), USD.
    pub usd_per_replica_hour: f64,
    /// SLOs for attainment and goodput.
    pub slo: Slo,
    /// Keep one sample of replicas and latency per this many seconds for plots.
    pub sample_s: f64,
    /// Closed loop: this many clients, each sending its next request as soon as the previous
    /// one is answered (the traffic's arrival times are ignored, its lengths used).
    pub closed_loop: Option<u32>,
    /// Warm-up, seconds: closed-loop clients start spread evenly over it (not all at once),
    /// and requests that arrive during it are served but left out of the latency figures.
    pub warmup_s: f64,
}
