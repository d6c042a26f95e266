//! What describes a fleet: replicas, router, autoscaler, spot interruptions, clients and SLOs.

use inferplan_perf::step::Efficiency;
use inferplan_perf::Replica;
use inferplan_plan::autoscaling::{self, Behavior};
use serde::Serialize;

/// How the router picks a replica.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Router {
    /// Each request to a replica drawn at random, as a Kubernetes ClusterIP Service forwards
    /// it: kube-proxy in iptables (EKS's default) and nftables mode picks a backend at random
    /// per connection ("Virtual IPs and Service Proxies", kubernetes.io, read 2026-12-07), and
    /// in IPVS mode each node's round robin is independent of the others'.
    Random,
    /// In turn.
    RoundRobin,
    /// Fewest requests waiting or running.
    LeastOutstanding,
    /// Lowest KV-cache use.
    LeastKv,
}

/// What an autoscaler trigger measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ScaleMetric {
    /// Requests waiting for admission, summed over the replicas (vLLM
    /// `vllm:num_requests_waiting`), with those the gateway holds while no replica is ready.
    QueueDepth,
    /// Requests waiting or running, summed the same way (`num_requests_running` + waiting).
    InFlight,
    /// Fraction of time the GPUs run steps, averaged over the ready replicas (shown to fail
    /// for LLM serving).
    GpuUtilization,
    /// A schedule (KEDA's `cron` trigger): `replicas` from second `from_s` of each simulated
    /// day (the simulation's start is second 0) for `seconds`, wrapping over the day's end;
    /// active only then. Read at the decision's time (KEDA evaluates it, no metric lag);
    /// with a target of 1 the HPA asks for `replicas`.
    Schedule {
        /// Second of the simulated day the schedule starts.
        from_s: u32,
        /// Seconds it lasts (less than a day).
        seconds: u32,
        /// Replicas asked for while it lasts.
        replicas: u32,
    },
}

impl ScaleMetric {
    /// A schedule's value at `now_us`: its replicas inside it, 0 outside; `None` for the
    /// metrics the pipeline measures.
    pub fn scheduled(&self, now_us: u64) -> Option<f64> {
        let ScaleMetric::Schedule {
            from_s,
            seconds,
            replicas,
        } = *self
        else {
            return None;
        };
        const DAY: u64 = 86_400;
        let t = (now_us / 1_000_000) % DAY;
        let inside = (t + DAY - u64::from(from_s) % DAY) % DAY < u64::from(seconds);
        Some(if inside { f64::from(replicas) } else { 0.0 })
    }
}

/// One trigger of a KEDA ScaledObject.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Trigger {
    /// What it measures.
    pub metric: ScaleMetric,
    /// Target per replica (queue, in flight) or average (GPU busy fraction).
    pub target: f64,
    /// KEDA's `activationThreshold`: the trigger is active above it (scale from and to zero).
    pub activation: f64,
}

/// A KEDA ScaledObject driving a HorizontalPodAutoscaler (the HPA v2 algorithm, see
/// [`super::hpa`]).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Autoscaler {
    /// Triggers; the HPA takes the largest of their desired replicas.
    pub triggers: Vec<Trigger>,
    /// Fewest replicas (`minReplicaCount`); 0 scales to zero when no trigger is active.
    pub min: u32,
    /// Most replicas.
    pub max: u32,
    /// Seconds between decisions (KEDA's `pollingInterval`, the HPA's sync period).
    pub interval_s: f64,
    /// Age of the metrics the autoscaler reads, seconds (the Prometheus scrape interval);
    /// rounded up to whole intervals.
    pub metric_lag_s: f64,
    /// Scale-up and scale-down windows and policies.
    pub behavior: Behavior,
    /// No scaling while each metric is within this fraction of its target.
    pub tolerance: f64,
    /// KEDA's `cooldownPeriod`: seconds without an active trigger before scaling to zero
    /// (with `min` 0).
    pub scale_to_zero_after_s: f64,
}

impl Autoscaler {
    /// An autoscaler with what `render` writes: the rendered behavior for
    /// `replicas_per_node`, its polling interval, a lag of one scrape interval, the
    /// Kubernetes tolerance and KEDA's cooldown.
    pub fn rendered(triggers: Vec<Trigger>, min: u32, max: u32, replicas_per_node: u32) -> Self {
        Autoscaler {
            triggers,
            min,
            max,
            interval_s: f64::from(autoscaling::POLLING_INTERVAL_S),
            metric_lag_s: f64::from(autoscaling::SCRAPE_INTERVAL_S),
            behavior: Behavior::rendered(replicas_per_node),
            tolerance: autoscaling::TOLERANCE,
            scale_to_zero_after_s: f64::from(autoscaling::KEDA_COOLDOWN_PERIOD_S),
        }
    }
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

impl Slo {
    /// The limits a workload states. An asynchronous workload without its own end-to-end
    /// limit is held to its deadline: every request finished within `deadline_s` of its
    /// arrival, the promise its plan is sized for.
    pub fn of(slo: &inferplan_plan::workload::Slo) -> Slo {
        let deadline = (slo.mode == inferplan_plan::workload::Mode::Async)
            .then_some(slo.deadline_s)
            .flatten()
            .map(|s| s * 1000.0);
        Slo {
            ttft_ms: slo.ttft_ms,
            tpot_ms: slo.tpot_ms,
            e2e_ms: slo.e2e_ms.or(deadline),
        }
    }
}

/// The nodes the replicas run on, as Karpenter provides them: a replica that finds no room on
/// a running or starting node waits for a new one; a node left empty is removed after
/// `consolidate_after_s` (a NodePool's `consolidationPolicy: WhenEmpty` and
/// `consolidateAfter`). With nodes, the cost counts node-hours.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Nodes {
    /// Replicas one node holds (what `render` places on it); at least 1.
    pub replicas_per_node: u32,
    /// Nodes one replica spans (a LeaderWorkerSet group); at least 1. Such a replica gets
    /// its own group of nodes (`replicas_per_node` is then 1).
    pub nodes_per_replica: u32,
    /// From the pending pod to a node that can start it: Karpenter's batching and the
    /// instance launch and boot, seconds.
    pub start_s: f64,
    /// Seconds an empty node stays before Karpenter removes it.
    pub consolidate_after_s: f64,
    /// Price of one node-hour, USD.
    pub usd_per_node_hour: f64,
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
    /// Application Auto Scaling of a SageMaker variant ([`super::aas`]), instead of
    /// `autoscaler`: the replicas are the variant's instances, each on its own node.
    pub managed: Option<super::aas::Managed>,
    /// Spot interruptions, if any.
    pub spot: Option<Spot>,
    /// Clients.
    pub client: Client,
    /// Cold start of a new replica, seconds: with [`Nodes`], from its placement on a running
    /// node to ready (image, weights, engine start; the node's own start is
    /// [`Nodes::start_s`]); without, everything (boot, engine start, weights).
    pub cold_start_s: f64,
    /// Price of one replica-hour (its share of the instance), USD; the cost without
    /// [`Nodes`].
    pub usd_per_replica_hour: f64,
    /// The nodes, when they are modelled (the cost is then node-hours).
    pub nodes: Option<Nodes>,
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
    /// Share of each prompt's tokens found in the engine's prefix cache (vLLM's automatic
    /// prefix caching, SGLang's radix cache, TensorRT-LLM's KV block reuse), 0 to 1: their
    /// prefill is skipped, their KV blocks are still held ([`crate::replica::ReplicaSim::with_prefix_hit_rate`]).
    pub prefix_hit_rate: f64,
}
