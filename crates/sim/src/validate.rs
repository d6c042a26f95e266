//! The simulator against measured latency under load: the rows of the measured files with a
//! concurrency or a request rate and a TTFT, TPOT/ITL or e2e value, each simulated on its
//! deployment with the embedded efficiencies.

use crate::fleet::{simulate, Client, FleetConfig, Router, SimReport, Slo};
use crate::traffic::{Arrivals, LengthDist, Limit, Traffic, TrafficSpec};
use inferplan_perf::efficiency::EfficiencyTable;
use inferplan_perf::measured::Metric;
use inferplan_perf::parallel::{self, Progress};
use inferplan_perf::validation::{efficiency_for, Case};
use inferplan_perf::{Engine, Load};
use std::collections::BTreeMap;

/// Whether a measured row is latency under a closed-loop or Poisson load. A percentile of
/// single inter-token gaps is not: the simulator reports each request's mean TPOT, whose
/// percentiles are another statistic.
pub fn simulable(c: &Case) -> bool {
    let single_gaps = c.obs.metric == Metric::ItlMs && c.obs.stat != "mean";
    matches!(
        c.obs.metric,
        Metric::TtftMs | Metric::TpotMs | Metric::ItlMs | Metric::E2eMs
    ) && !single_gaps
        && matches!(c.workload.load, Load::Closed { .. } | Load::Poisson { .. })
}

fn run(c: &Case, table: &EfficiencyTable, seed: u64) -> Option<SimReport> {
    let w = &c.workload;
    let (closed, arrivals, requests) = match w.load {
        Load::Closed { concurrency } => {
            let n = concurrency.max(1);
            (
                Some(n.min(u64::from(u32::MAX)) as u32),
                Arrivals::Poisson { rate_rps: 1.0 },
                (6 * n).clamp(300, 3000),
            )
        }
        Load::Poisson { rate_rps } => (None, Arrivals::Poisson { rate_rps }, 1000),
        _ => return None,
    };
    let efficiency = efficiency_for(table, c);
    // A benchmark's closed-loop clients start together (`--max-concurrency C` sends the
    // first C requests at once). An engine that mixes prompt chunks into decode steps spreads
    // them over its steps and the clients drift apart: they start spread over one request
    // lifetime, which is left out of the figures. SGLang runs prompts alone, so clients that
    // start together with the same lengths stay in step (a round of prompts, then a round of
    // decodes, and all come back together): they start together, and every round counts. The
    // TGI rows keep the ramp: their ShareGPT prompts vary in length (simulated at the mean),
    // which drifts clients apart, and TGI 1.0 admits waiting prompts only every
    // `max_waiting_tokens` decode steps.
    // Random output lengths (InferenceX's) end a round's requests at different steps: the
    // clients start together and fall out of step by themselves.
    let in_step = c.replica().engine() == Engine::Sglang;
    let warmup_s = if closed.is_some() && !in_step {
        c.replica().run(w, &efficiency).e2e_ms / 1e3
    } else {
        0.0
    };
    let cfg = FleetConfig {
        replica: c.replica().clone(),
        efficiency,
        replicas: 1,
        router: Router::LeastOutstanding,
        autoscaler: None,
        managed: None,
        spot: None,
        client: Client {
            timeout_s: None,
            max_retries: 0,
            idempotency_keys: true,
        },
        cold_start_s: 0.0,
        usd_per_replica_hour: 0.0,
        nodes: None,
        slo: Slo::default(),
        sample_s: 60.0,
        closed_loop: closed,
        warmup_s,
        prefix_hit_rate: 0.0,
    };
    let traffic = Traffic::new(
        TrafficSpec {
            arrivals,
            input: LengthDist::Fixed(w.input_tokens.clamp(1, u64::from(u32::MAX)) as u32),
            output: output_lengths(w.output_tokens, c.obs.output_cv2),
            limit: Limit::Requests(requests),
        },
        seed,
    )
    .ok()?;
    Some(simulate(&cfg, traffic, seed))
}

/// The output lengths a row's benchmark drew: fixed, or uniform about the mean `m` with the
/// row's squared coefficient of variation `cv2` (a uniform on `m (1 ± h)` has `cv² = h² / 3`;
/// InferenceX's `[0.8 L, L]` is `0.9 L (1 ± 1/9)`).
fn output_lengths(mean: u64, cv2: f64) -> LengthDist {
    let m = mean.clamp(1, u64::from(u32::MAX)) as f64;
    let h = (3.0 * cv2.max(0.0)).sqrt().min(1.0);
    let (lo, hi) = ((m * (1.0 - h)).round().max(1.0), (m * (1.0 + h)).round());
    if hi <= lo {
        LengthDist::Fixed(m as u32)
    } else {
        LengthDist::Uniform {
            lo: lo as u32,
            hi: hi.min(f64::from(u32::MAX)) as u32,
        }
    }
}

fn pick(r: &SimReport, c: &Case) -> f64 {
    let s = match c.obs.metric {
        Metric::TtftMs => r.ttft_ms,
        Metric::TpotMs | Metric::ItlMs => r.tpot_ms,
        _ => r.e2e_ms,
    };
    match c.obs.stat {
        "p50" => s.p50,
        "p90" => s.p90,
        "p99" => s.p99,
        _ => s.mean,
    }
}

/// Simulated values of the simulable cases: (index into `cases`, predicted value). Rows of
/// the same run (a TTFT and a TPOT of one configuration) share one simulation; the
/// simulations are spread over the cores, `progress` counting them. Deterministic for a seed.
pub fn simulate_cases(
    cases: &[Case],
    table: &EfficiencyTable,
    seed: u64,
    progress: Progress<'_>,
) -> Vec<(usize, f64)> {
    let mut runs: BTreeMap<(String, u64), Vec<usize>> = BTreeMap::new();
    for (i, c) in cases.iter().enumerate().filter(|(_, c)| simulable(c)) {
        runs.entry((c.obs.source.clone(), c.obs.line))
            .or_default()
            .push(i);
    }
    let groups: Vec<Vec<usize>> = runs.into_values().collect();
    let picked = parallel::map(&groups, progress, |g| {
        match run(&cases[g[0]], table, seed) {
            Some(r) => g.iter().map(|&i| (i, pick(&r, &cases[i]))).collect(),
            None => Vec::new(),
        }
    });
    let mut out: Vec<(usize, f64)> = picked.into_iter().flatten().collect();
    out.sort_by_key(|x| x.0);
    out
}
