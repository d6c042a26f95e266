//! `plan --verify`: the planner's top candidates simulated under the workload at its peak,
//! and re-ranked on simulated SLO attainment.

use crate::fleet::{simulate, Client, FleetConfig, Router, SimReport, Slo};
use crate::traffic::{Arrivals, LengthDist, Limit, Traffic, TrafficSpec};
use inferplan_catalog::bounds::SIM_SECONDS;
use inferplan_perf::parallel::{self, Progress};
use inferplan_plan::contract::Verified;
use inferplan_plan::error::PlanError;
use inferplan_plan::search::{replica_for, Inputs, Plan};
use inferplan_plan::workload::Percentile;

/// Simulates the first `top` options of `plan` at the workload's peak rate (gamma arrivals
/// with the workload's burstiness, its length distributions, the candidate's replicas without
/// the N+1 spares), in parallel across the cores with `progress` counting them, and returns
/// them best first: passing candidates in cost order, then the others by attainment.
pub fn verify(
    inputs: &Inputs<'_>,
    plan: &Plan,
    top: usize,
    seed: u64,
    max_requests: u64,
    progress: Progress<'_>,
) -> Result<Vec<Verified>, PlanError> {
    let w = &plan.workload;
    let required = match w.slo.percentile {
        Percentile::P50 => 0.5,
        Percentile::P90 => 0.9,
        Percentile::P99 => 0.99,
    };
    let indices: Vec<usize> = plan.option_indices().into_iter().take(top).collect();
    let mut out = parallel::map(&indices, progress, |&index| {
        let c = &plan.candidates[index];
        let (replica, efficiency) = replica_for(inputs, w, c)?;
        let spare = if w.constraints.redundancy {
            c.replicas_per_instance
        } else {
            0
        };
        let replicas = c.replicas.saturating_sub(spare).max(1);
        let rate = w.peak_rps();
        // Ten minutes of the peak, at least 2,000 and at most 50,000 requests, within the
        // simulator's ceilings on requests and simulated time.
        let requests = ((rate * 600.0) as u64)
            .clamp(2_000, 50_000)
            .min(max_requests)
            .min((rate * SIM_SECONDS.max) as u64)
            .max(1);
        let cfg = FleetConfig {
            replica,
            efficiency,
            replicas,
            router: Router::LeastOutstanding,
            autoscaler: None,
            spot: None,
            client: Client {
                timeout_s: None,
                max_retries: 0,
                idempotency_keys: true,
            },
            cold_start_s: 0.0,
            usd_per_replica_hour: c.usd_per_hour / f64::from(c.replicas.max(1)),
            nodes: None,
            slo: Slo {
                ttft_ms: w.slo.ttft_ms,
                tpot_ms: w.slo.tpot_ms,
                e2e_ms: w.slo.e2e_ms,
            },
            sample_s: 60.0,
            closed_loop: None,
            warmup_s: 0.0,
        };
        let cv = w.traffic.burstiness;
        let arrivals = if (cv - 1.0).abs() < 1e-9 {
            Arrivals::Poisson { rate_rps: rate }
        } else {
            Arrivals::Gamma { rate_rps: rate, cv }
        };
        let spec = TrafficSpec {
            arrivals,
            input: LengthDist::from(w.lengths.input_tokens),
            output: LengthDist::from(w.lengths.output_tokens),
            limit: Limit::Requests(requests),
        };
        crate::limits::check(&cfg, &spec, max_requests)
            .map_err(|e| PlanError::input("verify", e.to_string()))?;
        let traffic =
            Traffic::new(spec, seed).map_err(|e| PlanError::input("verify", e.to_string()))?;
        let r: SimReport = simulate(&cfg, traffic, seed);
        // Without an SLO every request is within it.
        let attained = r.slo_attainment.map_or(1.0, |a| a.all);
        Ok(Verified {
            candidate: index,
            slo_attainment: attained,
            required,
            ttft_p99_ms: r.ttft_ms.p99,
            tpot_p99_ms: r.tpot_ms.p99,
            passes: attained >= required,
            requests: r.requests_total,
            day: Some(crate::day::day(inputs, w, c, required, seed, max_requests)?),
        })
    })
    .into_iter()
    .collect::<Result<Vec<_>, PlanError>>()?;
    out.sort_by(|a, b| {
        b.passes.cmp(&a.passes).then_with(|| {
            if a.passes {
                a.candidate.cmp(&b.candidate)
            } else {
                b.slo_attainment.total_cmp(&a.slo_attainment)
            }
        })
    });
    Ok(out)
}
