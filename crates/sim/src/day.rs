//! `plan --verify`'s day: an option run for 24 hours of the workload's daily profile with the
//! autoscaling `render` writes for it ([`inferplan_plan::autoscaling::targets`]: the KEDA
//! ScaledObject's in-flight and queue triggers, bounds and behavior), on nodes as Karpenter
//! provides them, with the cold start plan and render use. Reports each hour's SLO
//! attainment next to the replicas the analytic plan sized for it, the scale events, the
//! node-hours and their cost, and for hours that fail, what would fix them.

use crate::fleet::{
    simulate, Autoscaler, Client, FleetConfig, Nodes, ScaleMetric, SimReport, Slo, Trigger,
};
use crate::traffic::{Arrivals, LengthDist, Limit, Traffic, TrafficSpec};
use inferplan_plan::autoscaling::{self, Run, Targets};
use inferplan_plan::candidate::Candidate;
use inferplan_plan::contract::{BatchDay, DayHour, DayVerified};
use inferplan_plan::cost::Sizing;
use inferplan_plan::error::PlanError;
use inferplan_plan::job::BatchJob;
use inferplan_plan::search::{replica_for, Inputs};
use inferplan_plan::workload::Workload;

/// Seconds in the simulated day.
const DAY_S: u64 = 86_400;

/// The ScaledObject `render` writes for candidate `c` of workload `w`
/// ([`autoscaling::of_candidate`], which the plan bills).
pub fn rendered_targets(w: &Workload, c: &Candidate) -> Targets {
    autoscaling::of_candidate(w, c)
}

/// Simulates the day of candidate `c`, with `required` the share of requests the SLO
/// percentile asks for (0.99 for p99), at most `max_requests` requests.
pub fn day(
    inputs: &Inputs<'_>,
    w: &Workload,
    c: &Candidate,
    required: f64,
    seed: u64,
    max_requests: u64,
) -> Result<DayVerified, PlanError> {
    let (replica, efficiency) = replica_for(inputs, w, c)?;
    let inst = inputs.catalog.instance(&c.instance)?;
    let t = rendered_targets(w, c);
    let nodes_per_replica = c.nodes_per_replica().max(1);
    // The plan's cold start (IP105's), which the render's startup probe is built from.
    let cold = c.cold_start(&w.constraints.weights_source, inst);
    let pod_start = autoscaling::pod_start_s(&cold);
    let node_price = inst.on_demand(&c.region).unwrap_or(0.0);
    let trigger = |metric, target: u32| Trigger {
        metric,
        target: f64::from(target),
        activation: 0.0,
    };
    // A batch run's `cron` trigger first, as `render` writes it: the day then starts at the
    // run's opening with no replica (`min` 0).
    // The plan's hourly floor (`cron` triggers `floor-*`): the day starts at 00:00 UTC, so
    // second 0 is the opening of hour 0.
    let schedule: Vec<Trigger> = t
        .run
        .map(|run| Trigger {
            metric: ScaleMetric::Schedule {
                from_s: 0,
                seconds: run.minutes * 60,
                replicas: run.replicas,
            },
            target: 1.0,
            activation: 0.0,
        })
        .into_iter()
        .chain(t.floors.iter().map(floor_trigger))
        .collect();
    let cfg = FleetConfig {
        replica,
        efficiency,
        // As if the fleet had run the day before: hour 0's floor is up at second 0.
        replicas: if t.run.is_some() {
            t.min
        } else {
            t.floor_at(0)
        },
        router: crate::capacity::rendered_router(w),
        autoscaler: Some(Autoscaler {
            behavior: t.behavior(),
            ..Autoscaler::rendered(
                schedule
                    .into_iter()
                    .chain([
                        trigger(ScaleMetric::InFlight, t.in_flight),
                        trigger(ScaleMetric::QueueDepth, t.queue),
                    ])
                    .collect(),
                t.min,
                t.max,
                t.replicas_per_node,
            )
        }),
        managed: None,
        spot: None,
        client: Client {
            timeout_s: None,
            max_retries: 0,
            idempotency_keys: true,
        },
        cold_start_s: pod_start,
        usd_per_replica_hour: 0.0,
        nodes: Some(Nodes {
            replicas_per_node: c.replicas_per_instance.max(1),
            nodes_per_replica,
            start_s: autoscaling::node_start_s(),
            consolidate_after_s: f64::from(autoscaling::CONSOLIDATE_AFTER_S),
            usd_per_node_hour: node_price,
        }),
        slo: Slo::of(&w.slo),
        sample_s: 60.0,
        closed_loop: None,
        warmup_s: 0.0,
        prefix_hit_rate: 0.0,
    };
    let (r, hours, failing, batch) = match (t.run, &c.purchase_mix.batch_job) {
        (Some(run), Some(job)) => {
            let (r, hours, batch) = batch_run(w, &cfg, &run, job, seed, max_requests)?;
            let failing = if batch.answered_in_window < required {
                hours.iter().map(|h| h.hour).collect()
            } else {
                Vec::new()
            };
            (r, hours, failing, Some(batch))
        }
        _ => {
            let DayRun {
                report,
                hours,
                failing,
            } = run(w, c, &cfg, required, seed, max_requests)?;
            (report, hours, failing, None)
        }
    };
    let fix = (!failing.is_empty() && batch.is_none()).then(|| fix(&t, &hours, &failing, &cold));
    Ok(DayVerified {
        min_replicas: t.min,
        max_replicas: t.max,
        target_in_flight: t.in_flight,
        target_queue: t.queue,
        node_start_s: autoscaling::node_start_s(),
        pod_start_s: pod_start,
        requests: r.requests_total,
        slo_attainment: r.slo_attainment.map(|a| a.all),
        hours,
        failing_hours: failing,
        scale_events: r.scale_events,
        scale_reversals: r.scale_reversals,
        node_hours: r.node_hours.unwrap_or(0.0),
        planned_node_hours: c.purchase_mix.billed_instance_hours_per_day,
        cost_usd: r.cost_usd,
        fix,
        batch,
    })
}

/// The `cron` trigger of a block of the plan's hourly floor
/// ([`inferplan_plan::autoscaling::Floor`], as `render` writes it) on the simulated day,
/// whose second 0 is 00:00 UTC.
pub fn floor_trigger(f: &autoscaling::Floor) -> Trigger {
    Trigger {
        metric: ScaleMetric::Schedule {
            from_s: f.start_minute() * 60,
            seconds: f.hours * 3600,
            replicas: f.replicas,
        },
        target: 1.0,
        activation: 0.0,
    }
}

/// The traffic of a batch run, from its opening (second 0): the day's requests
/// (`traffic.rate_rps` × 24 h, the job's work) sent at the pace the plan's replicas take
/// them, from the plan's cold start after the opening to the end of the work shared out
/// (`cold start + work / units`, [`inferplan_plan::job::plan_job`]), as a batch client
/// submits its backlog once the replicas are up.
pub fn batch_spec(w: &Workload, job: &BatchJob, cold_start_s: f64) -> TrafficSpec {
    let from = cold_start_s.max(0.0) / 3600.0;
    let to = from + job.work_unit_hours / f64::from(job.units.max(1));
    let requests = w.traffic.rate_rps * 86_400.0;
    let per_hour = requests / (to - from).max(1e-9);
    let mut hourly_rps = [0.0; 24];
    for (k, r) in hourly_rps.iter_mut().enumerate() {
        let (a, b) = (k as f64, k as f64 + 1.0);
        let overlap = (b.min(to) - a.max(from)).max(0.0);
        *r = per_hour * overlap / 3600.0;
    }
    TrafficSpec {
        arrivals: Arrivals::Profile {
            hourly_rps,
            cv: w.traffic.burstiness,
        },
        input: LengthDist::from(w.lengths.input_tokens),
        output: LengthDist::from(w.lengths.output_tokens),
        limit: Limit::DurationUs(DAY_S * 1_000_000),
    }
}

/// A batch run simulated from its opening: the report, each hour (UTC) of the run, and what
/// it finished within its window.
fn batch_run(
    w: &Workload,
    cfg: &FleetConfig,
    run: &Run,
    job: &BatchJob,
    seed: u64,
    max_requests: u64,
) -> Result<(SimReport, Vec<DayHour>, BatchDay), PlanError> {
    let spec = batch_spec(w, job, run.cold_start_s);
    crate::limits::check(cfg, &spec, max_requests)
        .map_err(|e| PlanError::input("verify", format!("the batch run's simulation: {e}")))?;
    let traffic =
        Traffic::new(spec, seed).map_err(|e| PlanError::input("verify", e.to_string()))?;
    let r = simulate(cfg, traffic, seed);
    let open_h = run.start_minute / 60;
    let run_hours = run.minutes.div_ceil(60);
    let hours: Vec<DayHour> = r
        .hours
        .iter()
        .map(|h| DayHour {
            hour: (open_h + h.hour) % 24,
            requests: h.requests,
            slo_attainment: h.slo_attainment,
            replicas_max: h.replicas_max,
            nodes_max: h.nodes_max,
            planned_replicas: if h.hour < run_hours { run.replicas } else { 0 },
        })
        .collect();
    let window_min = (job.window_hours * 60.0).floor() as usize;
    let in_window: u64 = r.answered_per_minute.iter().take(window_min).sum();
    let last = r
        .answered_per_minute
        .iter()
        .rposition(|&n| n > 0)
        .map_or(0.0, |m| (m + 1) as f64 / 60.0);
    let batch = BatchDay {
        run_start_utc: clock(run.start_minute),
        run_end_utc: clock(run.end_minute()),
        replicas: run.replicas,
        finish_hours: last,
        planned_finish_p99_hours: job.finish_p99_hours,
        window_hours: job.window_hours,
        answered_in_window: in_window as f64 / r.requests_total.max(1) as f64,
    };
    Ok((r, hours, batch))
}

/// `22:00` for minute 1320 of the day.
fn clock(minute_of_day: u32) -> String {
    let m = minute_of_day % autoscaling::MINUTES_PER_DAY;
    format!("{:02}:{:02}", m / 60, m % 60)
}

/// The traffic of `w`'s day: 24 hours of its daily profile, its burstiness and lengths.
fn spec(w: &Workload) -> TrafficSpec {
    TrafficSpec {
        arrivals: Arrivals::Profile {
            hourly_rps: w.hourly_rates(),
            cv: w.traffic.burstiness,
        },
        input: LengthDist::from(w.lengths.input_tokens),
        output: LengthDist::from(w.lengths.output_tokens),
        limit: Limit::DurationUs(DAY_S * 1_000_000),
    }
}

/// Why `w`'s day is too large to simulate within `max_requests`, or `None` when it is not
/// (the ceiling's own message: [`crate::limits::over_ceiling`]).
pub fn too_large(w: &Workload, max_requests: u64) -> Option<String> {
    crate::limits::over_ceiling(
        crate::limits::expected(&spec(w), false).requests,
        max_requests,
    )
}

/// A day's simulation: the report, each hour next to the plan's replicas, the failing hours.
pub(crate) struct DayRun {
    pub(crate) report: SimReport,
    pub(crate) hours: Vec<DayHour>,
    pub(crate) failing: Vec<u32>,
}

/// Runs `cfg` (the fleet of candidate `c`) through 24 hours of `w`'s daily profile, within
/// the simulator's ceilings, and reads each hour's attainment against `required`.
pub(crate) fn run(
    w: &Workload,
    c: &Candidate,
    cfg: &FleetConfig,
    required: f64,
    seed: u64,
    max_requests: u64,
) -> Result<DayRun, PlanError> {
    let spec = spec(w);
    crate::limits::check(cfg, &spec, max_requests)
        .map_err(|e| PlanError::input("verify", format!("the day's simulation: {e}")))?;
    let traffic =
        Traffic::new(spec, seed).map_err(|e| PlanError::input("verify", e.to_string()))?;
    let r = simulate(cfg, traffic, seed);
    let spare = if w.constraints.redundancy {
        c.replicas_per_instance.max(1)
    } else {
        0
    };
    let planned = Sizing::of(w).hourly_replicas(c.max_rps_per_replica, spare, w);
    let hours: Vec<DayHour> = r
        .hours
        .iter()
        .take(24)
        .map(|h| DayHour {
            hour: h.hour,
            requests: h.requests,
            slo_attainment: h.slo_attainment,
            replicas_max: h.replicas_max,
            nodes_max: h.nodes_max,
            planned_replicas: planned[h.hour as usize % 24],
        })
        .collect();
    let failing: Vec<u32> = hours
        .iter()
        .filter(|h| h.slo_attainment.is_some_and(|a| a < required))
        .map(|h| h.hour)
        .collect();
    Ok(DayRun {
        report: r,
        hours,
        failing,
    })
}

/// What would make the failing hours pass: warm replicas for them (a higher minimum, or a
/// minimum that covers the hour when the autoscaler fell behind the plan), and, when the
/// cold start is long, a faster weights source.
fn fix(
    t: &Targets,
    hours: &[DayHour],
    failing: &[u32],
    cold: &inferplan_serving::cold_start::ColdStart,
) -> String {
    let want = failing
        .iter()
        .filter_map(|&h| hours.iter().find(|x| x.hour == h))
        .map(|h| h.planned_replicas.max(h.replicas_max + 1))
        .max()
        .unwrap_or(t.min + 1)
        .min(t.max);
    let mut s = format!(
        "keep more replicas warm: minReplicaCount {want} (now {}) covers the failing hours \
         without waiting for nodes and cold starts",
        t.min
    );
    let start = autoscaling::node_start_s() + autoscaling::pod_start_s(cold);
    if cold.load_s > 30.0 {
        s += &format!(
            "; or a faster weights source than {} ({:.0} s of weights in a {start:.0} s start: \
             nvme or fsx, `constraints.weights_source`)",
            cold.source, cold.load_s
        );
    }
    s
}
