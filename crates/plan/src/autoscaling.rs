//! How the rendered deployment autoscales, written once for `render` (the KEDA ScaledObject
//! and the PodMonitor) and `simulate` (its defaults), so the simulator runs what is deployed.
//!
//! The types follow the Kubernetes `autoscaling/v2` HorizontalPodAutoscaler `behavior`
//! (kubernetes.io, "Horizontal Pod Autoscaling", "Configurable scaling behavior"): per
//! direction a stabilization window, rate policies (`Pods` or `Percent` per period) and
//! `selectPolicy`.

use crate::candidate::Candidate;
use crate::cost::Sizing;
use crate::job::BatchJob;
use crate::workload::{Mode, Workload};
use inferplan_catalog::bounds::KUBERNETES_INT32_MAX;
use serde::Serialize;

pub mod sagemaker;

/// What a policy limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum PolicyKind {
    /// At most `value` pods per period.
    Pods,
    /// At most `value` % of the replicas at the start of the period.
    Percent,
}

impl PolicyKind {
    /// `Pods` or `Percent`, as Kubernetes writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            PolicyKind::Pods => "Pods",
            PolicyKind::Percent => "Percent",
        }
    }
}

/// A rate limit of one direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ScalingPolicy {
    /// Pods or percent.
    pub kind: PolicyKind,
    /// How many pods, or percent.
    pub value: u32,
    /// The period, seconds.
    pub period_s: u32,
}

/// Which policy wins when there are several.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SelectPolicy {
    /// The one allowing the most change (Kubernetes' default).
    Max,
    /// The one allowing the least change.
    Min,
    /// No scaling in this direction.
    Disabled,
}

/// The rules of one direction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ScalingRules {
    /// Seconds of past recommendations considered: scaling up takes the lowest of them,
    /// scaling down the highest.
    pub stabilization_window_s: u32,
    /// Rate limits.
    pub policies: Vec<ScalingPolicy>,
    /// Which policy wins.
    pub select: SelectPolicy,
}

/// Scale-up and scale-down rules.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Behavior {
    /// Adding replicas.
    pub scale_up: ScalingRules,
    /// Removing replicas.
    pub scale_down: ScalingRules,
}

/// The HPA's tolerance: no scaling while every metric's ratio to its target is within 10 % of
/// 1 (the controller's default).
pub const TOLERANCE: f64 = 0.1;

/// Seconds between the rendered ScaledObject's queries (`pollingInterval`), equal to the
/// HPA's default sync period: the simulator's decision interval.
pub const POLLING_INTERVAL_S: u32 = 15;

/// Seconds between Prometheus scrapes of the engine (the rendered PodMonitor's `interval`):
/// how old the metric the autoscaler reads can be.
pub const SCRAPE_INTERVAL_S: u32 = 15;

/// KEDA's `cooldownPeriod` default: seconds without an active trigger before a ScaledObject
/// with `minReplicaCount: 0` scales to zero.
pub const KEDA_COOLDOWN_PERIOD_S: u32 = 300;

/// Seconds a node of the rendered NodePool stays empty before Karpenter removes it
/// (`disruption.consolidateAfter`, with `consolidationPolicy: WhenEmpty`): as long as the
/// rendered scale-down window, so a node emptied by a lull is still there if the load returns
/// within it.
pub const CONSOLIDATE_AFTER_S: u32 = 600;

/// Karpenter's longest batching window before it launches nodes for pending pods, seconds
/// (`BATCH_MAX_DURATION`, default 10 s; karpenter.sh, "Settings", retrieved 2026-12-07).
pub const KARPENTER_BATCH_MAX_S: f64 = 10.0;

/// From a pending pod to a node that can start it: Karpenter's batching window plus the
/// instance's launch and boot ([`inferplan_serving::cold_start::INSTANCE_BOOT_S`], sourced
/// there). The same for every instance family: no per-family launch times are published, so
/// this is an assumption for GPU families whose driver load or image differ.
pub fn node_start_s() -> f64 {
    KARPENTER_BATCH_MAX_S + inferplan_serving::cold_start::INSTANCE_BOOT_S
}

/// A replica's start once its node can start pods: the new node's cold start
/// ([`inferplan_serving::cold_start::new_replica`]) without the instance's boot, so the copy
/// of the weights to the node (if the delivery has one), the engine start and the load. A
/// second replica on a node whose cache already holds the weights would skip the copy; the
/// simulator counts it each time (an upper bound).
pub fn pod_start_s(cold: &inferplan_serving::cold_start::ColdStart) -> f64 {
    (cold.seconds - cold.boot_s).max(0.0)
}

/// Seconds from asking for a replica to its serving on a new node, for a plan's cold start
/// `cold_start_s` (a purchase mix's, boot included): Karpenter's batching window first; 0
/// when the cold start is unknown (0).
pub fn replica_start_s(cold_start_s: f64) -> f64 {
    if cold_start_s > 0.0 {
        KARPENTER_BATCH_MAX_S + cold_start_s
    } else {
        0.0
    }
}

/// What `render` writes into a candidate's ScaledObject, and what `plan --verify` simulates
/// over the day: one computation for both.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Targets {
    /// `minReplicaCount`: the replicas of the quietest hour of the daily profile.
    pub min: u32,
    /// `maxReplicaCount`: the peak's replicas (raised by one node's worth when equal to the
    /// minimum, so the autoscaler can move).
    pub max: u32,
    /// Requests in flight (running + waiting) per replica the `in-flight` trigger aims at:
    /// [`TARGET_SHARE`] of `in_flight_at_capacity`.
    pub in_flight: u32,
    /// Requests one replica holds at its SLO capacity by Little's law: its rate times the
    /// mean end-to-end latency ([`mean_e2e_ms`]).
    pub in_flight_at_capacity: f64,
    /// Requests waiting per replica above which the `queue` trigger adds replicas: a
    /// quarter of `in_flight`, at least 1.
    pub queue: u32,
    /// Replicas on one node: the scale-up policy adds this many per minute.
    pub replicas_per_node: u32,
    /// The scale-up stabilization window, seconds: [`SCALE_UP_SUSTAINED_S`] (a load above the
    /// target for one reading is noise), or for deadline work the time a request may wait in
    /// the queue and still finish by its deadline ([`queue_slack_s`]) when longer: a burst
    /// shorter than that is held by the queue, not served by a new replica, which would start
    /// after the burst and then be removed (a reversal).
    pub scale_up_window_s: u32,
    /// The scale-down stabilization window, seconds ([`scale_down_window_s`]): at least a
    /// replica's start on a new node, so a replica is not removed before one could be back.
    pub scale_down_window_s: u32,
    /// A batch job's run (`mode = "batch"`): the `cron` trigger that holds the job's replicas
    /// from the window's opening for the hours the plan bills; `min` is then 0 (none between
    /// runs).
    pub run: Option<Run>,
    /// The plan's hourly floor above `min`: a `cron` trigger per block of hours billed for
    /// the same replicas ([`Floor::schedule`]), so the replicas the plan bills each hour (the
    /// SLO's and the N+1 spares, or those the in-flight target keeps at [`TARGET_SHARE`]) run
    /// whatever the load triggers read. Empty for a batch run and where every hour bills the
    /// minimum.
    pub floors: Vec<Floor>,
}

impl Targets {
    /// Replicas the autoscaler keeps at least in hour `h` (UTC) of the day: the minimum, or
    /// the floor of the block that holds `h` when more.
    pub fn floor_at(&self, h: u32) -> u32 {
        self.floors
            .iter()
            .filter(|f| f.holds_hour(h))
            .map(|f| f.replicas)
            .fold(self.min, u32::max)
    }

    /// The rendered behavior ([`Behavior::rendered_for`]) with these windows and run.
    pub fn behavior(&self) -> Behavior {
        Behavior::rendered_for(
            self.replicas_per_node,
            self.scale_up_window_s,
            self.scale_down_window_s,
            self.run,
        )
    }
}

/// Minutes in a day.
pub const MINUTES_PER_DAY: u32 = 1440;

/// A batch job's run as the rendered ScaledObject holds it: a KEDA `cron` trigger asking for
/// `replicas` from `start_minute` (UTC minute of the day: the window's opening) for `minutes`
/// (the hours each instance runs and is billed, [`BatchJob::run_hours`], rounded up to the
/// minute, within the window). The replicas are asked for at the opening, so the plan's cold
/// start falls inside the run, as the plan counts it; work in flight when the run ends keeps
/// them through the load triggers, and KEDA scales to zero
/// [`KEDA_COOLDOWN_PERIOD_S`] after the last active trigger.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Run {
    /// UTC minute of the day the run opens (the window's opening).
    pub start_minute: u32,
    /// Minutes the run's replicas are held, at least 1, less than a day.
    pub minutes: u32,
    /// Replicas of the run (the plan's job units).
    pub replicas: u32,
    /// Seconds from the opening to the first replica serving: the plan's cold start.
    pub cold_start_s: f64,
}

impl Run {
    /// The run of a daily batch job; `None` for deadline work (several runs a day) and for a
    /// job that runs all day (its replicas never scale to zero: `min` holds them).
    pub fn of(job: &BatchJob, cold_start_s: f64) -> Option<Run> {
        if job.runs_per_day != 1 {
            return None;
        }
        let window = (job.window_hours * 60.0).floor().max(1.0);
        let minutes = (job.run_hours * 60.0 - 1e-6).ceil().clamp(1.0, window);
        if minutes >= f64::from(MINUTES_PER_DAY) {
            return None;
        }
        Some(Run {
            start_minute: (job.window_start_utc % 24) * 60,
            minutes: minutes as u32,
            replicas: job.units.max(1),
            cold_start_s: cold_start_s.max(0.0),
        })
    }

    /// UTC minute of the day the run ends (wrapping over midnight).
    pub fn end_minute(&self) -> u32 {
        (self.start_minute + self.minutes) % MINUTES_PER_DAY
    }

    /// Whether second `s` of the day (UTC) is inside the run.
    pub fn holds(&self, s: u64) -> bool {
        let m = (s / 60) % u64::from(MINUTES_PER_DAY);
        let from = u64::from(self.start_minute);
        (m + u64::from(MINUTES_PER_DAY) - from) % u64::from(MINUTES_PER_DAY)
            < u64::from(self.minutes)
    }

    /// A five-field cron expression (KEDA's `start` and `end`) at a minute of the day, every
    /// day.
    pub fn cron_at(minute_of_day: u32) -> String {
        let m = minute_of_day % MINUTES_PER_DAY;
        format!("{} {} * * *", m % 60, m / 60)
    }
}

/// A block of hours the plan bills for more replicas than the autoscaler's minimum, as the
/// rendered ScaledObject holds it: a KEDA `cron` trigger asking for `replicas` from the
/// block's first hour (UTC) to its end. The trigger opens at the hour, as the bill counts it:
/// the replicas kept before a rise carry it until the new ones serve (the minimum covers the
/// steepest rise, [`targets`]), and the load triggers scale out earlier when it comes sooner.
/// When the block ends the load triggers and the scale-down behavior take the replicas down.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Floor {
    /// First hour of the day (UTC, 0-23).
    pub start_hour: u32,
    /// Hours it lasts (1-23; it may wrap over midnight).
    pub hours: u32,
    /// Replicas held: the block's billed replicas, whole instances' worth, at most the
    /// autoscaler's maximum.
    pub replicas: u32,
}

impl Floor {
    /// The blocks of equal replicas above `min` of the hourly replicas `hourly` (the plan's,
    /// [`crate::cost::Sizing::hourly_replicas`]), each rounded up to whole instances of
    /// `per_instance` replicas (their room costs nothing more) and at most `max`; a block
    /// across midnight is one block. One derivation for the render's `cron` triggers, the
    /// bill's floor and the simulated day.
    pub fn schedule(hourly: &[u32; 24], min: u32, max: u32, per_instance: u32) -> Vec<Floor> {
        let per = per_instance.max(1);
        let want = |h: usize| hourly[h].div_ceil(per).saturating_mul(per).min(max);
        let mut out: Vec<Floor> = Vec::new();
        for h in 0..24u32 {
            let n = want(h as usize);
            if n <= min {
                continue;
            }
            match out.last_mut() {
                Some(f) if f.replicas == n && f.start_hour + f.hours == h => f.hours += 1,
                _ => out.push(Floor {
                    start_hour: h,
                    hours: 1,
                    replicas: n,
                }),
            }
        }
        // A block ending at midnight and one starting at midnight with the same replicas are
        // one block over midnight.
        if out.len() > 1 {
            let (first, last) = (out[0], out[out.len() - 1]);
            if first.start_hour == 0
                && last.start_hour + last.hours == 24
                && first.replicas == last.replicas
            {
                out.pop();
                out[0] = Floor {
                    start_hour: last.start_hour,
                    hours: last.hours + first.hours,
                    replicas: first.replicas,
                };
                out.sort_by_key(|f| f.start_hour);
            }
        }
        out
    }

    /// Whether hour `h` of the day (UTC) is inside the block.
    pub fn holds_hour(&self, h: u32) -> bool {
        (h % 24 + 24 - self.start_hour) % 24 < self.hours
    }

    /// UTC minute of the day the block opens.
    pub fn start_minute(&self) -> u32 {
        self.start_hour * 60
    }

    /// UTC minute of the day the block ends (wrapping over midnight).
    pub fn end_minute(&self) -> u32 {
        ((self.start_hour + self.hours) % 24) * 60
    }

    /// The `cron` trigger's name: `floor-08h-18h` for 08:00 to 18:00 UTC.
    pub fn name(&self) -> String {
        format!(
            "floor-{:02}h-{:02}h",
            self.start_hour,
            (self.start_hour + self.hours) % 24
        )
    }
}

/// The scale-up stabilization window of interactive work, seconds: four readings of the
/// rendered `pollingInterval`. The in-flight count the autoscaler reads is a count of
/// requests, with the noise of one: about `√n` around a mean of `n` (Poisson arrivals), so
/// 15 to 25 % for the 20 to 50 requests a replica holds, above the HPA's 10 % tolerance. With
/// no window one high reading scaled out; the new replica was removed after the scale-down
/// window and the next high reading scaled out again: the interactive examples' days
/// reversed 32 to 94 times with a flat or slowly moving rate. Scaling on the lowest of four
/// readings needs a load that lasts a minute, which a cold start of minutes hardly delays.
pub const SCALE_UP_SUSTAINED_S: u32 = 60;

/// The shortest scale-down stabilization window, seconds (ten minutes).
pub const SCALE_DOWN_WINDOW_S: u32 = 600;

/// The scale-down stabilization window for replicas that take `start_s` seconds from being
/// asked for to serving on a new node: [`SCALE_DOWN_WINDOW_S`], or the start when longer (a
/// Neuron replica that compiles takes over half an hour), at most
/// [`MAX_STABILIZATION_WINDOW_S`]. A shorter window removes a replica before one asked for
/// again could serve, which the simulator diagnoses as flapping
/// (`inferplan_sim::fleet::flapping`).
pub fn scale_down_window_s(start_s: f64) -> u32 {
    let start = if start_s.is_finite() {
        start_s.max(0.0).ceil().min(f64::from(u32::MAX)) as u32
    } else {
        0
    };
    start.clamp(SCALE_DOWN_WINDOW_S, MAX_STABILIZATION_WINDOW_S)
}

/// The longest stabilization window Kubernetes accepts, seconds (`autoscaling/v2`
/// `HPAScalingRules.stabilizationWindowSeconds`: "must be greater than or equal to zero and
/// less than or equal to 3600 (one hour)", kubernetes.io API reference).
pub const MAX_STABILIZATION_WINDOW_S: u32 = 3600;

/// Seconds a request of deadline work (`slo.mode = "async"` with `deadline_s`) may wait in
/// the queue and still finish within the deadline: the deadline less the p99 end-to-end
/// latency of a replica at its capacity (`e2e_p99_ms`), at most
/// [`MAX_STABILIZATION_WINDOW_S`]; 0 for other work.
pub fn queue_slack_s(w: &Workload, e2e_p99_ms: f64) -> u32 {
    match (w.slo.mode, w.slo.deadline_s) {
        (Mode::Async, Some(d)) => (d - e2e_p99_ms.max(0.0) / 1e3)
            .clamp(0.0, f64::from(MAX_STABILIZATION_WINDOW_S))
            .floor() as u32,
        _ => 0,
    }
}

/// Share of a replica's SLO capacity the in-flight target aims at: the autoscaler keeps
/// `1 / TARGET_SHARE` (25 %) more capacity than the load needs, and the plan bills the
/// replicas it keeps (defined beside the bill, [`crate::cost::TARGET_SHARE`]).
pub use crate::cost::TARGET_SHARE;

/// Mean end-to-end latency at a replica's SLO capacity, ms, as the in-flight target counts
/// it: the p99 TTFT plus the p99 time per output token over the mean output, an upper bound
/// of the mean. Little's law counts requests in flight with the mean latency; the p99
/// end-to-end latency would overstate them by the tail of the output lengths (three times
/// for chat-like log-normal outputs), and an autoscaler aiming at that many would not scale
/// out before the replicas miss their SLO.
pub fn mean_e2e_ms(ttft_p99_ms: f64, tpot_p99_ms: f64, output_mean: f64) -> f64 {
    ttft_p99_ms.max(0.0) + tpot_p99_ms.max(0.0) * (output_mean - 1.0).max(0.0)
}

/// The targets of a deployment whose replicas each serve `max_rps_per_replica` within the
/// SLOs with a mean end-to-end latency of `mean_e2e_ms` ([`mean_e2e_ms`]), `replicas` at the peak, `replicas_per_node`
/// on a node, `hourly` the replicas of each hour of the day for the mean rates `rates`;
/// counts at most `max_count` (the largest Kubernetes accepts).
///
/// The minimum is the quietest hour's replicas, raised to cover the steepest rise of the
/// profile: after a rise the new load is served by the replicas the previous hour kept
/// (enough for its load at [`TARGET_SHARE`] of their capacity, and at least the minimum)
/// until new ones have a node and a cold start behind them, so when those cannot carry the
/// next hour's rate, the minimum is that hour's replicas.
pub fn targets(
    hourly: &[u32],
    rates: &[f64],
    replicas: u32,
    replicas_per_node: u32,
    max_rps_per_replica: f64,
    mean_e2e_ms: f64,
    max_count: u32,
) -> Targets {
    let quietest = hourly.iter().copied().min().unwrap_or(replicas);
    // The busiest hour's replicas at the target share may exceed the peak's at capacity.
    let replicas = hourly.iter().copied().max().unwrap_or(0).max(replicas);
    let n = hourly.len().min(rates.len());
    let cap = max_rps_per_replica.max(1e-9);
    // Replicas the in-flight target keeps for an hour's rate, at least the minimum.
    let kept = |rate: f64, min: u32| ((rate / (TARGET_SHARE * cap)).ceil() as u32).max(min);
    let mut min = quietest;
    for h in 0..n {
        let next = (h + 1) % n;
        if f64::from(kept(rates[h], min)) * cap < rates[next] {
            min = min.max(hourly[next]);
        }
    }
    // Whole instances: the replicas an instance the minimum keeps has room for cost nothing
    // more and need no cold start when the load rises.
    let per_node = replicas_per_node.max(1);
    let min = min
        .clamp(1, replicas.max(1))
        .div_ceil(per_node)
        .saturating_mul(per_node)
        .min(max_count);
    let (min, max) = bounds(
        min,
        replicas.max(min).min(max_count),
        replicas_per_node,
        max_count,
    );
    // Little's law: requests in flight per replica at its SLO capacity; scale out at 80 %.
    let at_capacity = max_rps_per_replica * mean_e2e_ms.max(0.0) / 1000.0;
    let in_flight = ((TARGET_SHARE * at_capacity).floor() as u32).max(1);
    Targets {
        min,
        max,
        in_flight,
        in_flight_at_capacity: at_capacity,
        queue: queue_target(in_flight),
        scale_up_window_s: SCALE_UP_SUSTAINED_S,
        scale_down_window_s: SCALE_DOWN_WINDOW_S,
        replicas_per_node: replicas_per_node.max(1),
        run: None,
        floors: Vec::new(),
    }
}

/// What the targets of a deployment depend on: its replicas and what one serves.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Replicas {
    /// Replicas at the peak, N+1 spares included.
    pub peak: u32,
    /// Replicas on one instance.
    pub per_instance: u32,
    /// Requests/s one replica serves within the SLOs.
    pub max_rps: f64,
    /// p99 TTFT at that rate, ms.
    pub ttft_p99_ms: f64,
    /// p99 time per output token at that rate, ms.
    pub tpot_p99_ms: f64,
    /// p99 end-to-end latency at that rate, ms.
    pub e2e_p99_ms: f64,
    /// A batch job's run, when the plan made the work a job ([`Run::of`]).
    pub run: Option<Run>,
    /// Seconds from asking for a replica to its serving on a new node: Karpenter's batching
    /// and the plan's cold start (the candidate's `purchase_mix.cold_start_s`); 0 when unknown.
    pub start_s: f64,
}

impl Replicas {
    /// A plan's candidate.
    pub fn of(c: &Candidate) -> Replicas {
        Replicas {
            peak: c.replicas,
            per_instance: c.replicas_per_instance,
            max_rps: c.max_rps_per_replica,
            ttft_p99_ms: c.ttft_p99_ms,
            tpot_p99_ms: c.tpot_p99_ms,
            e2e_p99_ms: c.e2e_p99_ms,
            run: c
                .purchase_mix
                .batch_job
                .as_ref()
                .and_then(|j| Run::of(j, c.purchase_mix.cold_start_s)),
            start_s: replica_start_s(c.purchase_mix.cold_start_s),
        }
    }
}

/// The targets of replicas `r` serving workload `w`: what `render` writes into the
/// ScaledObject, what `plan --verify`'s day simulates, and what the plan bills at least every
/// hour (the minimum, [`crate::cost::Sizing::fleet`]): one computation for the three. The
/// hourly replicas are the plan's ([`crate::cost::Sizing::hourly_replicas`], N+1 spares
/// included), counts at most Kubernetes' largest.
///
/// A batch job's run ([`Replicas::run`]) is held by a `cron` trigger: no replica outside it
/// (`min` 0), the run's replicas inside it (`max`), the load triggers as for any work.
pub fn of(w: &Workload, r: &Replicas) -> Targets {
    let sizing = Sizing::of(w);
    if let Some(run) = r.run {
        let t = targets(
            &[run.replicas],
            &[w.traffic.rate_rps],
            run.replicas,
            r.per_instance.max(1),
            r.max_rps,
            mean_e2e_ms(r.ttft_p99_ms, r.tpot_p99_ms, sizing.output_mean),
            KUBERNETES_INT32_MAX,
        );
        return Targets {
            min: 0,
            max: run.replicas.min(KUBERNETES_INT32_MAX),
            run: Some(run),
            ..t
        };
    }
    let rpi = r.per_instance.max(1);
    let spare = if w.constraints.redundancy { rpi } else { 0 };
    let hourly = sizing.hourly_replicas(r.max_rps, spare, w);
    let t = targets(
        &hourly,
        &w.hourly_rates(),
        r.peak,
        rpi,
        r.max_rps,
        mean_e2e_ms(r.ttft_p99_ms, r.tpot_p99_ms, sizing.output_mean),
        KUBERNETES_INT32_MAX,
    );
    Targets {
        floors: Floor::schedule(&hourly, t.min, t.max, rpi),
        scale_up_window_s: queue_slack_s(w, r.e2e_p99_ms).max(SCALE_UP_SUSTAINED_S),
        scale_down_window_s: scale_down_window_s(r.start_s),
        ..t
    }
}

/// [`of`] a plan's candidate.
pub fn of_candidate(w: &Workload, c: &Candidate) -> Targets {
    of(w, &Replicas::of(c))
}

/// The queue trigger's threshold for an in-flight target: a quarter of it, at least 1.
pub fn queue_target(in_flight: u32) -> u32 {
    (in_flight / 4).max(1)
}

/// The autoscaler's bounds from the quietest hour's replicas and the peak's: when they are
/// equal the maximum is raised by one instance's worth of replicas (`per_instance`), so that
/// the autoscaler can move (a burst above the plan's peak gets one more node); at
/// `max_count` the minimum is lowered by one instead.
pub fn bounds(min: u32, max: u32, per_instance: u32, max_count: u32) -> (u32, u32) {
    if min < max {
        return (min, max);
    }
    let raised = max.saturating_add(per_instance.max(1)).min(max_count);
    if raised > max {
        (min.min(max), raised)
    } else {
        (max.saturating_sub(1).max(1).min(min), max)
    }
}

impl Behavior {
    /// What the HPA does without a `behavior`: scale up by 100 % or 4 pods per 15 s (the
    /// larger), no stabilization; scale down after a 300 s window by up to 100 % per 15 s.
    pub fn kubernetes_default() -> Behavior {
        Behavior {
            scale_up: ScalingRules {
                stabilization_window_s: 0,
                policies: vec![
                    ScalingPolicy {
                        kind: PolicyKind::Percent,
                        value: 100,
                        period_s: 15,
                    },
                    ScalingPolicy {
                        kind: PolicyKind::Pods,
                        value: 4,
                        period_s: 15,
                    },
                ],
                select: SelectPolicy::Max,
            },
            scale_down: ScalingRules {
                stabilization_window_s: 300,
                policies: vec![ScalingPolicy {
                    kind: PolicyKind::Percent,
                    value: 100,
                    period_s: 15,
                }],
                select: SelectPolicy::Max,
            },
        }
    }

    /// What `render` writes: scale up by one node's worth of replicas (`replicas_per_node`,
    /// at least 1) per minute once the load has lasted [`SCALE_UP_SUSTAINED_S`]; scale down
    /// after a 10-minute window by one replica per 5 minutes, since a replica removed too
    /// early costs a cold start.
    pub fn rendered(replicas_per_node: u32) -> Behavior {
        Behavior::rendered_with_windows(
            replicas_per_node,
            SCALE_UP_SUSTAINED_S,
            SCALE_DOWN_WINDOW_S,
        )
    }

    /// What `render` writes for replicas `replicas_per_node` to a node, the stabilization
    /// windows and a batch job's `run`: [`Behavior::rendered_with_windows`],
    /// whose scale-up step is the run's replicas for a batch job, so the `cron` trigger's
    /// replicas are all asked for at the opening (the plan's finish counts one cold start for
    /// all of them).
    pub fn rendered_for(
        replicas_per_node: u32,
        scale_up_window_s: u32,
        scale_down_window_s: u32,
        run: Option<Run>,
    ) -> Behavior {
        let step = match run {
            Some(r) => r.replicas.max(replicas_per_node),
            None => replicas_per_node,
        };
        Behavior::rendered_with_windows(step, scale_up_window_s, scale_down_window_s)
    }

    /// [`Behavior::rendered`] with a scale-up stabilization window of `scale_up_window_s`
    /// and a scale-down one of `scale_down_window_s` ([`Targets::scale_up_window_s`],
    /// [`Targets::scale_down_window_s`]).
    pub fn rendered_with_windows(
        replicas_per_node: u32,
        scale_up_window_s: u32,
        scale_down_window_s: u32,
    ) -> Behavior {
        Behavior {
            scale_up: ScalingRules {
                stabilization_window_s: scale_up_window_s.min(MAX_STABILIZATION_WINDOW_S),
                policies: vec![ScalingPolicy {
                    kind: PolicyKind::Pods,
                    value: replicas_per_node.max(1),
                    period_s: 60,
                }],
                select: SelectPolicy::Max,
            },
            scale_down: ScalingRules {
                stabilization_window_s: scale_down_window_s.min(MAX_STABILIZATION_WINDOW_S),
                policies: vec![ScalingPolicy {
                    kind: PolicyKind::Pods,
                    value: 1,
                    period_s: 300,
                }],
                select: SelectPolicy::Max,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A rise the replicas kept for the previous hour cannot carry raises the minimum to the
    /// replicas of the hour after it; rises within the headroom leave the quietest hour's.
    #[test]
    fn the_minimum_covers_the_steepest_rise() {
        let gentle = [1.0, 1.2, 1.5, 1.8, 1.8, 1.5];
        let hourly = [1, 2, 2, 2, 2, 2];
        assert_eq!(targets(&hourly, &gentle, 2, 1, 1.0, 10_000.0, 100).min, 1);
        // 1 → 4 req/s: the hour before keeps 2 replicas (1 req/s at 80 %), which carry 2.
        let steep = [1.0, 1.0, 4.0, 4.0, 4.0, 1.0];
        let hourly = [1, 1, 4, 4, 4, 1];
        let t = targets(&hourly, &steep, 4, 1, 1.0, 10_000.0, 100);
        assert_eq!(t.min, 4);
        assert_eq!(t.max, 5, "raised above the minimum by one node's worth");
        // In flight: 80 % of 1 req/s × 10 s.
        assert_eq!((t.in_flight, t.queue), (8, 2));
    }

    /// The minimum fills the instances it keeps: their free room costs nothing and holds
    /// warm replicas for a rise.
    #[test]
    fn the_minimum_is_whole_instances() {
        let rates = [1.0, 1.0, 1.5, 1.5];
        let hourly = [2, 2, 3, 3];
        let t = targets(&hourly, &rates, 3, 3, 1.0, 10_000.0, 100);
        assert_eq!((t.min, t.max), (3, 6));
        // Never above what Kubernetes accepts.
        let t = targets(&hourly, &rates, 3, 3, 1.0, 10_000.0, 2);
        assert!(t.min <= 2 && t.max <= 2, "{t:?}");
    }

    fn job(start: u32, window: f64, run_hours: f64, runs: u32) -> BatchJob {
        BatchJob {
            window_start_utc: start,
            window_hours: window,
            runs_per_day: runs,
            period_hours: 24.0 / f64::from(runs),
            units: 9,
            instances: 9,
            work_unit_hours: 50.0,
            run_hours,
            finish_p99_hours: run_hours + 0.3,
            on_spot: true,
            interruption_overhead: 0.1,
        }
    }

    /// A batch run opens with its window, lasts the billed hours rounded up to the minute
    /// (never past the window), wraps over midnight, and is written as daily cron expressions;
    /// deadline work and an all-day job have none.
    #[test]
    fn a_batch_run_is_the_billed_hours_from_the_opening() {
        let r = Run::of(&job(22, 8.0, 7.2168, 1), 1311.5).unwrap();
        assert_eq!((r.start_minute, r.minutes, r.replicas), (1320, 434, 9));
        assert_eq!(r.end_minute(), 5 * 60 + 14);
        assert_eq!(Run::cron_at(r.start_minute), "0 22 * * *");
        assert_eq!(Run::cron_at(r.end_minute()), "14 5 * * *");
        assert!(r.holds(23 * 3600) && r.holds(5 * 3600 + 13 * 60) && !r.holds(6 * 3600));
        assert!(!r.holds(21 * 3600 + 59 * 60));
        // Exactly 2 h bills 120 minutes, not 121; never longer than the window.
        assert_eq!(Run::of(&job(0, 4.0, 2.0, 1), 0.0).unwrap().minutes, 120);
        assert_eq!(Run::of(&job(0, 4.0, 4.2, 1), 0.0).unwrap().minutes, 240);
        assert!(Run::of(&job(0, 24.0, 24.0, 1), 0.0).is_none());
        assert!(Run::of(&job(0, 1.0, 0.5, 24), 0.0).is_none());
        // The targets: none outside the run, the run's replicas at most, all asked at once.
        let t = Targets {
            min: 0,
            max: 9,
            in_flight: 79,
            in_flight_at_capacity: 99.0,
            queue: 19,
            replicas_per_node: 1,
            scale_up_window_s: 0,
            scale_down_window_s: SCALE_DOWN_WINDOW_S,
            run: Some(r),
            floors: Vec::new(),
        };
        assert_eq!(t.behavior().scale_up.policies[0].value, 9);
    }

    /// The hourly floor: one block per run of hours with the same replicas above the minimum,
    /// rounded up to whole instances and at most the maximum; a run across midnight is one
    /// block; `floor_at` gives every hour its floor.
    #[test]
    fn the_hourly_floor_is_the_billed_replicas_in_blocks() {
        let mut hourly = [2u32; 24];
        for h in [22, 23, 0, 1] {
            hourly[h] = 5;
        }
        hourly[9..13].fill(3);
        hourly[13] = 9;
        let floors = Floor::schedule(&hourly, 2, 8, 2);
        let blocks: Vec<(u32, u32, u32)> = floors
            .iter()
            .map(|f| (f.start_hour, f.hours, f.replicas))
            .collect();
        // 3 → 4 (two per instance), 9 → 8 (the maximum), 5 → 6 over midnight.
        assert_eq!(blocks, vec![(9, 4, 4), (13, 1, 8), (22, 4, 6)]);
        assert_eq!(floors[2].name(), "floor-22h-02h");
        assert_eq!(
            (floors[2].start_minute(), floors[2].end_minute()),
            (1320, 120)
        );
        let t = Targets {
            min: 2,
            max: 8,
            in_flight: 8,
            in_flight_at_capacity: 10.0,
            queue: 2,
            replicas_per_node: 2,
            scale_up_window_s: SCALE_UP_SUSTAINED_S,
            scale_down_window_s: SCALE_DOWN_WINDOW_S,
            run: None,
            floors,
        };
        let at: Vec<u32> = (0..24).map(|h| t.floor_at(h)).collect();
        assert_eq!(&at[..3], &[6, 6, 2]);
        assert_eq!(
            (at[8], at[9], at[12], at[13], at[14], at[21], at[22]),
            (2, 4, 4, 8, 2, 2, 6)
        );
        // Every hour at the minimum: no block.
        assert!(Floor::schedule(&[2; 24], 2, 8, 1).is_empty());
    }

    #[test]
    fn rendered_behavior_scales_down_slower_than_the_kubernetes_default() {
        let r = Behavior::rendered(0);
        let d = Behavior::kubernetes_default();
        assert_eq!(r.scale_up.policies[0].value, 1);
        assert!(r.scale_down.stabilization_window_s > d.scale_down.stabilization_window_s);
        assert_eq!(r.scale_down.policies[0].kind.as_str(), "Pods");
        assert_eq!(d.scale_up.policies.len(), 2);
    }
}
