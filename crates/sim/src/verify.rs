//! `plan --verify`: the planner's top candidates simulated under the workload at its peak,
//! re-sized by simulation (the fewest replicas that keep the SLOs, searched down as well as
//! up from the plan's) and re-ranked on the simulated cost.

use crate::capacity::{fixed_fleet, meets, run, traffic_spec};
use inferplan_catalog::bounds::SIM_SECONDS;
use inferplan_perf::parallel::{self, Progress};
use inferplan_plan::contract::Verified;
use inferplan_plan::error::PlanError;
use inferplan_plan::job::BatchJob;
use inferplan_plan::search::{cost_at_capacity, replica_for, Inputs, Plan};
use inferplan_plan::workload::{Mode, Percentile, Platform, Workload};
use inferplan_plan::Candidate;
use inferplan_serving::sagemaker::EndpointType;

/// Simulates the first `top` options of `plan` at the workload's peak rate (gamma arrivals
/// with the workload's burstiness, its length distributions, the candidate's replicas without
/// the N+1 spares), re-sizes each by simulation ([`resize`]), in parallel across the cores
/// with `progress` counting them, and returns them best first: those with a simulated size by
/// simulated cost, then the others by attainment.
pub fn verify(
    inputs: &Inputs<'_>,
    plan: &Plan,
    top: usize,
    seed: u64,
    max_requests: u64,
    progress: Progress<'_>,
) -> Result<Vec<Verified>, PlanError> {
    let w = &plan.workload;
    let indices: Vec<usize> = plan.option_indices().into_iter().take(top).collect();
    let mut out = parallel::map(&indices, progress, |&index| {
        let c = &plan.candidates[index];
        let mut v = resize(inputs, w, c, index, seed, max_requests)?;
        // A SageMaker option's day runs the Application Auto Scaling `render --platform
        // sagemaker` writes; Batch Transform has no endpoint to scale.
        // A day beyond the simulation ceiling is not simulated, and the answer says why;
        // the peak above is.
        if let Some(why) = crate::day::too_large(w, max_requests) {
            v.day_skipped = Some(format!("the day was not simulated: {why}"));
            return Ok(v);
        }
        v.day = match (c.platform, &c.sagemaker) {
            (Platform::Sagemaker, Some(sm)) if sm.endpoint == EndpointType::BatchTransform => None,
            (Platform::Sagemaker, sm) => Some(crate::sagemaker::day(
                inputs,
                w,
                c,
                v.required,
                seed,
                max_requests,
                sm.as_ref()
                    .and_then(|s| s.price.as_ref())
                    .map(|p| p.usd_per_hour),
            )?),
            (Platform::Eks, _) => Some(crate::day::day(
                inputs,
                w,
                c,
                v.required,
                seed,
                max_requests,
            )?),
        };
        Ok(v)
    })
    .into_iter()
    .collect::<Result<Vec<_>, PlanError>>()?;
    out.sort_by(|a, b| {
        let cost = |v: &Verified| v.simulated_usd_per_hour.unwrap_or(f64::INFINITY);
        cost(a)
            .total_cmp(&cost(b))
            .then_with(|| b.slo_attainment.total_cmp(&a.slo_attainment))
            .then_with(|| a.candidate.cmp(&b.candidate))
    });
    Ok(out)
}

/// Seconds of the peak one simulation of `plan --verify` covers: ten minutes; for deadline
/// work (`slo.mode = "async"` with `deadline_s`) an hour, the length of the profile's busiest
/// hour the plan sizes for. Within a window not much longer than the deadline a queue can hold
/// what a fleet below the rate leaves, and every request still meets the deadline: ten minutes
/// of a 10-minute deadline passed one replica where three serve the rate.
fn peak_seconds(w: &Workload) -> f64 {
    match (w.slo.mode, w.slo.deadline_s) {
        (Mode::Async, Some(_)) => 3600.0,
        _ => 600.0,
    }
}

/// The job of batch work (`slo.mode = "batch"`) the plan made of candidate `c`; `None` for
/// other work, deadline jobs included.
fn batch_job<'a>(w: &Workload, c: &'a Candidate) -> Option<&'a BatchJob> {
    if w.slo.mode == Mode::Batch {
        c.purchase_mix.batch_job.as_ref()
    } else {
        None
    }
}

/// The rate `plan --verify` simulates: the peak; for a batch job the requests of one run
/// spread over its window after the cold start, the rate its replicas must keep up with to
/// answer everything within the window (the plan sizes the job's replicas for the same
/// work, [`inferplan_plan::job`]).
fn verify_rate(w: &Workload, c: &Candidate) -> f64 {
    match batch_job(w, c) {
        Some(job) => {
            let per_run = w.traffic.rate_rps * job.period_hours * 3600.0;
            let seconds = (job.window_hours * 3600.0 - c.purchase_mix.cold_start_s).max(60.0);
            per_run / seconds
        }
        _ => w.peak_rps(),
    }
}

/// The capacity per replica that `n` replicas passing at `rate`, and `n − 1` failing, imply:
/// somewhere from a hair above `rate / n` (so that `n` of them serve the rate) to a hair below
/// `rate / (n − 1)` (so that `n − 1` do not; unbounded for one replica). The plan's capacity is
/// kept where the simulation agrees with it, else the nearer end, so that the simulated cost
/// prices the pool as the plan does (the in-flight target's headroom, a job's hours) and differs
/// only where the simulation moved the sizing: pricing at `rate / n` would bill a replica the
/// simulation just showed to be enough as if it ran at 100 % of its capacity.
fn simulated_capacity(c: &Candidate, rate: f64, n: u32) -> f64 {
    let lo = rate / f64::from(n) * (1.0 + 1e-9);
    let hi = if n > 1 {
        (rate / f64::from(n - 1) * (1.0 - 1e-9)).max(lo)
    } else {
        f64::INFINITY
    };
    c.max_rps_per_replica.clamp(lo, hi)
}

/// Requests of one simulation of `plan --verify` at `rate` requests/s: `seconds` of the peak
/// ([`peak_seconds`]), at least 2,000 and at most 50,000, within the simulator's ceilings.
fn requests_at(rate: f64, seconds: f64, max_requests: u64) -> u64 {
    ((rate * seconds) as u64)
        .clamp(2_000, 50_000)
        .min(max_requests)
        .min((rate * SIM_SECONDS.max) as u64)
        .max(1)
}

/// Candidate `c` (the `index`th of the plan) simulated at the peak with the plan's serving
/// replicas, then re-sized: the fewest replicas that keep every SLO at its percentile, found
/// by simulating one fewer while the fleet passes, or one more while it fails (up to twice
/// the plan's, plus two), and priced like the plan at the capacity per replica that implies.
pub fn resize(
    inputs: &Inputs<'_>,
    w: &Workload,
    c: &Candidate,
    index: usize,
    seed: u64,
    max_requests: u64,
) -> Result<Verified, PlanError> {
    let required = match w.slo.percentile {
        Percentile::P50 => 0.5,
        Percentile::P90 => 0.9,
        Percentile::P99 => 0.99,
    };
    let (replica, efficiency) = replica_for(inputs, w, c)?;
    let spare = if w.constraints.redundancy {
        c.replicas_per_instance
    } else {
        0
    };
    let planned = c.replicas.saturating_sub(spare).max(1);
    let rate = verify_rate(w, c);
    let requests = requests_at(rate, peak_seconds(w), max_requests);
    // A batch job has no latency SLO: it passes when its replicas keep up with the run's
    // rate, answering the simulated requests within their arrival span (2 % slack) and one
    // of the plan's p99 end-to-end latencies to drain; a fleet below the rate leaves a queue
    // that grows until the window closes.
    let keeps_up = |r: &crate::fleet::SimReport| {
        batch_job(w, c).is_none()
            || r.simulated_s <= requests as f64 / rate * 1.02 + c.e2e_p99_ms / 1e3
    };
    let meets = |r: &crate::fleet::SimReport, w: &Workload| meets(r, w) && keeps_up(r);
    let usd_per_replica = c.usd_per_hour / f64::from(c.replicas.max(1));
    let sim = |n: u32| {
        let fleet = fixed_fleet(replica.clone(), efficiency, n, w, usd_per_replica);
        run(&fleet, w, rate, requests, seed)
    };
    let ceiling = planned * 2 + 2;
    let widest = fixed_fleet(replica.clone(), efficiency, ceiling, w, usd_per_replica);
    crate::limits::check(&widest, &traffic_spec(w, rate, requests), max_requests)
        .map_err(|e| PlanError::input("verify", e.to_string()))?;
    let first = sim(planned)?;
    let attained = |r: &crate::fleet::SimReport| r.slo_attainment.map_or(1.0, |a| a.all);
    let passes = meets(&first, w);
    // Down while the fleet keeps the SLOs; up while it does not.
    let mut found = None;
    if passes {
        found = Some((planned, attained(&first)));
        let mut n = planned;
        while n > 1 {
            n -= 1;
            let r = sim(n)?;
            if !meets(&r, w) {
                break;
            }
            found = Some((n, attained(&r)));
        }
    } else {
        let mut n = planned;
        while n < ceiling {
            n += 1;
            let r = sim(n)?;
            if meets(&r, w) {
                found = Some((n, attained(&r)));
                break;
            }
        }
    }
    let simulated_usd = match found {
        // A SageMaker endpoint: n instances at the option's price per instance.
        Some((n, _)) if c.platform == Platform::Sagemaker => {
            Some(c.usd_per_hour / f64::from(c.replicas.max(1)) * f64::from(n))
        }
        Some((n, _)) => Some(cost_at_capacity(inputs, w, c, simulated_capacity(c, rate, n))?.0),
        None => None,
    };
    Ok(Verified {
        candidate: index,
        slo_attainment: attained(&first),
        required,
        ttft_p99_ms: first.ttft_ms.p99,
        tpot_p99_ms: first.tpot_ms.p99,
        passes,
        requests: first.requests_total,
        rate_rps: rate,
        analytic_replicas: planned,
        simulated_replicas: found.map(|(n, _)| n),
        simulated_slo_attainment: found.map(|(_, a)| a),
        analytic_usd_per_hour: c.usd_per_hour,
        simulated_usd_per_hour: simulated_usd,
        day: None,
        day_skipped: None,
    })
}
