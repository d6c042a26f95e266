//! The planner's per-replica capacity against the simulator's (issue 13, part 2): a fast part
//! of the agreement matrix (the whole one is `inferplan validate --capacity`, VALIDATION.md),
//! what the matrix covers, and `plan --verify` re-sizing to the fewest replicas that pass.

use inferplan_perf::parallel::QUIET;
use inferplan_plan::search::{plan, replica_for, Inputs};
use inferplan_plan::Workload;
use inferplan_sim::capacity::{
    agreement, fixed_fleet, meets, run, Case, Shape, MATRIX, MATRIX_REQUESTS, MATRIX_SEED,
    TOLERANCE_PCT,
};
use inferplan_sim::verify::resize;

fn with_inputs<R>(f: impl FnOnce(&Inputs<'_>) -> R) -> R {
    f(&crate::planner::inputs())
}

/// Rows of the matrix cheap enough to simulate in a debug build, one of each engine and of
/// each arrival kind, the row whose capacity the KV cache's room decides (Qwen3 30B-A3B
/// on one H100, long prompts: VALIDATION.md's item 8) and the Neuron row (Llama 3.1 8B on
/// inf2.xlarge: NxD Inference's bucketed, prefill-first steps on both sides), and the two
/// SGLang long-prompt rows whose met prompts are priced over their lengths (Qwen3 8B under
/// Poisson arrivals, Llama 3.1 405B under bursty ones at 0.009 req/s: VALIDATION.md's item
/// 16; +16.6 % and +28.5 % before it); the test asks what VALIDATION.md publishes for them.
const FAST: &[usize] = &[3, 6, 8, 10, 21, 23, 24];

/// Fast rows outside ±15 % and their published error, which must not grow: none. Llama 3.1
/// 8B vLLM chat under bursty arrivals, +26.8 % since the fifth session's refit, was within
/// after VALIDATION.md's capacity item 16 (+11.8 %: a prompt met decodes beside the request
/// on vLLM too) and +16.6 % again after the seventh session's refit at 30,000 requests per
/// probe; it is within since item 19 (+11.8 %: each prompt met beyond the mean count costs a
/// full step's rate). The Neuron row (Llama 3.1 8B on inf2.xlarge) is within since the
/// sixth session's refit (+2.8 %; VALIDATION.md item 14).
const OUTSIDE: &[(usize, f64)] = &[];

#[test]
fn a_fast_part_of_the_matrix_agrees_with_the_simulator() {
    let cases: Vec<Case> = FAST.iter().map(|&i| MATRIX[i]).collect();
    let rows = with_inputs(|inputs| {
        agreement(inputs, &cases, MATRIX_REQUESTS, MATRIX_SEED, QUIET).unwrap()
    });
    for (r, i) in rows.iter().zip(FAST) {
        let limit = OUTSIDE
            .iter()
            .find(|(row, _)| row == i)
            .map_or(TOLERANCE_PCT, |(_, published)| published + 0.5);
        assert!(
            r.error_pct.abs() <= limit,
            "{} {} {}: planner {:.3} req/s, simulator {:.3} ({:+.1} %)",
            r.model,
            r.deployment,
            r.shape,
            r.analytic_rps,
            r.simulated_rps,
            r.error_pct
        );
    }
}

#[test]
fn the_matrix_covers_what_the_issue_asks() {
    assert!(MATRIX.len() >= 24);
    let c = crate::support::catalog();
    let params = |case: &Case| c.model(case.model).unwrap().params().total / 1e9;
    let moe = |case: &Case| {
        let p = c.model(case.model).unwrap().params();
        p.active < p.total * 0.9
    };
    assert!(MATRIX.iter().any(moe) && MATRIX.iter().any(|m| !moe(m)));
    assert!(MATRIX.iter().any(|m| params(m) < 1.5));
    assert!(MATRIX.iter().any(|m| params(m) > 400.0));
    for shape in [Shape::Chat, Shape::LongPrompt, Shape::LongOutput] {
        assert!(MATRIX.iter().any(|m| m.shape == shape), "{shape:?}");
    }
    for engine in ["vllm", "sglang"] {
        assert!(MATRIX.iter().any(|m| m.engine.to_string() == engine));
    }
    assert!(MATRIX.iter().any(|m| m.burstiness == 1.0));
    assert!(MATRIX.iter().any(|m| m.burstiness > 1.0));
    // An AWS Neuron row, in the fast part.
    assert_eq!(MATRIX[24].instance, "inf2.xlarge");
    // Every case is a valid workload the planner can size.
    with_inputs(|inputs| {
        for case in MATRIX {
            let w = case.workload().unwrap();
            w.validate().unwrap();
            inferplan_plan::search::analytic_capacity(inputs, &w, &case.layout())
                .unwrap_or_else(|e| panic!("{}: {e}", case.describe()));
        }
    });
}

/// `plan --verify` on the issue's example: each shown option re-sized to the fewest serving
/// replicas that keep the SLOs in simulation, so one fewer does not; the cost follows.
#[test]
fn verify_resizes_to_the_fewest_replicas_that_keep_the_slos() {
    let text = std::fs::read_to_string(crate::support::example("chat-70b-fp8.toml")).unwrap();
    let w = Workload::from_toml(&text, "chat-70b-fp8.toml").unwrap();
    with_inputs(|inputs| {
        let p = plan(inputs, &w).unwrap();
        // The re-sizing alone (`verify` adds the day on top, which this test does not need).
        let verified: Vec<_> = p
            .option_indices()
            .into_iter()
            .take(2)
            .map(|i| resize(inputs, &p.workload, &p.candidates[i], i, 1, 50_000).unwrap())
            .collect();
        assert_eq!(verified.len(), 2);
        let w = &p.workload;
        for v in &verified {
            let c = &p.candidates[v.candidate];
            let n = v.simulated_replicas.expect("a size that passes");
            let (replica, eff) = replica_for(inputs, w, c).unwrap();
            let sim = |n: u32| {
                let requests = ((w.peak_rps() * 600.0) as u64).clamp(2_000, 50_000);
                let fleet = fixed_fleet(replica.clone(), eff, n, w, 0.0);
                run(&fleet, w, w.peak_rps(), requests, 1).unwrap()
            };
            assert!(meets(&sim(n), w));
            if n > 1 {
                assert!(!meets(&sim(n - 1), w), "{n} - 1 replicas also pass");
            }
            let sized = v.simulated_usd_per_hour.unwrap();
            assert!(sized > 0.0 && sized.is_finite(), "{sized}");
        }
    });
}

/// The TTFT p99 of the two TTFT-bound bursty rows of the matrix (Llama 3.3 70B on
/// p5.48xlarge TP8, chat, gamma arrivals of CV 1.5; vLLM mixes prompts into its steps, SGLang
/// runs them first), planned against simulated at 5 req/s (30,000 requests, so that the
/// simulated p99 is not the noise of a few slow requests). The planner took the sum of the
/// prompt wait's and the own prompt's quantiles, an upper bound: +20 % on both (VALIDATION.md,
/// capacity item 16); the quantile of their sum was within 15 % (+13.7 % vLLM, −7.1 % SGLang
/// at 4.9 req/s: a prompt queue's exponential wait on vLLM, on SGLang no others sharing the
/// prefill batch). Both engines' next step takes every waiting prompt: a first token waits for
/// the rest of the step in progress, and its own step carries the others that arrived since
/// that step started (VALIDATION.md, capacity item 21): within 6 %.
#[test]
fn bursty_ttft_p99_waits_for_the_step_in_progress_and_shares_its_own() {
    use inferplan_plan::capacity::SloModel;
    use inferplan_plan::cost::Sizing;
    let rate = 5.0;
    let picks: Vec<Case> = MATRIX
        .iter()
        .filter(|c| c.model == "Llama 3.3 70B" && c.tp == 8 && c.burstiness > 1.0)
        .copied()
        .collect();
    assert_eq!(picks.len(), 2);
    for case in picks {
        let w = case.workload().unwrap();
        let (replica, eff, _) = with_inputs(|inputs| {
            inferplan_plan::search::analytic_capacity(inputs, &w, &case.layout()).unwrap()
        });
        let sizing = Sizing::of(&w);
        let planned = SloModel::new(&replica, &eff, &w, &sizing).latencies_ms(rate)[0];
        let one = fixed_fleet(replica.clone(), eff, 1, &w, 0.0);
        let simulated = run(&one, &w, rate, 30_000, MATRIX_SEED)
            .unwrap()
            .ttft_ms
            .p99;
        let error = (planned - simulated) / simulated;
        // −2.7 % (vLLM) and −1.3 % (SGLang) at 4.9 req/s on the seventh session's table.
        assert!(
            error.abs() <= 0.06,
            "{}: TTFT p99 planned {planned:.1} ms, simulated {simulated:.1} ms ({:+.1} %)",
            case.describe(),
            error * 100.0
        );
    }
}

/// A vLLM request's decode grows with the prompts it meets at the rate of crowded steps, not
/// at the mean heavy iteration's: a step's prompt extra is convex in the tokens it carries,
/// and the requests that meet many prompts meet them queued in full steps. One simulated
/// replica of Llama 3.1 8B on g6e.xlarge (vLLM, chat, Poisson arrivals at 2.34 req/s, 30,000
/// requests): over the requests of 140–160 gaps, the least-squares growth of the decode time
/// per arrival in its window (beside the requests in the replica when it arrives) is nearer
/// the planner's crowded unit (`crowded_extra_ms` and the drag) than its mean unit: 92 ms
/// against 89 and 81 (VALIDATION.md, capacity item 19).
#[test]
fn a_vllm_request_meets_prompts_at_the_rate_of_crowded_steps() {
    use inferplan_perf::{Load, Workload as Lengths};
    use inferplan_plan::cost::Sizing;
    use inferplan_plan::lengths::length_cv2;
    use inferplan_sim::capacity::traffic_spec;
    use inferplan_sim::replica::{ReplicaSim, Seq};
    use inferplan_sim::step_times::StepTimes;
    use inferplan_sim::traffic::Traffic;
    let case = Case {
        burstiness: 1.0,
        ..MATRIX[3]
    };
    assert_eq!((case.model, case.shape), ("Llama 3.1 8B", Shape::Chat));
    let rate = 2.34;
    let w = case.workload().unwrap();
    let (replica, eff, _) = with_inputs(|inputs| {
        inferplan_plan::search::analytic_capacity(inputs, &w, &case.layout()).unwrap()
    });
    let sizing = Sizing::of(&w);
    let est = replica.run_lengths(
        &Lengths {
            input_tokens: sizing.input_mean.round() as u64,
            output_tokens: sizing.output_mean.round() as u64,
            load: Load::Poisson { rate_rps: rate },
        },
        &eff,
        length_cv2(&w.lengths.output_tokens),
        length_cv2(&w.lengths.input_tokens),
    );
    // One replica, step by step: each request's arrival, first and last token, and the
    // requests in the replica when it arrives.
    let reqs: Vec<_> = Traffic::new(traffic_spec(&w, rate, 30_000), MATRIX_SEED)
        .unwrap()
        .collect();
    let mut times = StepTimes::new(&replica, eff);
    let mut sim = ReplicaSim::new(&replica);
    let n = reqs.len();
    let (mut first, mut last, mut present) = (vec![0u64; n], vec![0u64; n], vec![0.0; n]);
    let (mut t, mut next) = (0u64, 0usize);
    loop {
        while next < n && reqs[next].arrival_us <= t {
            let r = &reqs[next];
            present[next] = (sim.running() + sim.queued()) as f64;
            sim.enqueue(Seq::new(next, r.input_tokens, r.output_tokens));
            next += 1;
        }
        match sim.start_step(&mut times) {
            None if next >= n => break,
            None => t = reqs[next].arrival_us,
            Some(us) => {
                t += us;
                let o = sim.finish_step();
                for &f in o.first_tokens.iter().chain(&o.next_tokens) {
                    last[f] = t;
                }
                for &f in &o.first_tokens {
                    first[f] = t;
                }
            }
        }
    }
    let arrivals: Vec<u64> = reqs.iter().map(|r| r.arrival_us).collect();
    let within = |a: u64, b: u64| {
        (arrivals.partition_point(|&x| x <= b) - arrivals.partition_point(|&x| x <= a)) as f64
    };
    // (decode ms, arrivals met, requests present) of the requests of 140–160 gaps.
    let rows: Vec<(f64, f64, f64)> = (n / 10..n)
        .filter(|&i| (141..=161).contains(&reqs[i].output_tokens))
        .map(|i| {
            (
                (last[i] - first[i]) as f64 / 1e3,
                within(reqs[i].arrival_us, last[i]),
                present[i],
            )
        })
        .collect();
    assert!(rows.len() > 2000, "{}", rows.len());
    let len = rows.len() as f64;
    let mean = |f: &dyn Fn(&(f64, f64, f64)) -> f64| rows.iter().map(f).sum::<f64>() / len;
    let (my, mk, mb) = (mean(&|r| r.0), mean(&|r| r.1), mean(&|r| r.2));
    let cov = |f: &dyn Fn(&(f64, f64, f64)) -> f64, g: &dyn Fn(&(f64, f64, f64)) -> f64| {
        rows.iter().map(|r| f(r) * g(r)).sum::<f64>() / len
    };
    let (y, k, b) = (
        |r: &(f64, f64, f64)| r.0 - my,
        |r: &(f64, f64, f64)| r.1 - mk,
        |r: &(f64, f64, f64)| r.2 - mb,
    );
    let (vk, vb, ckb, cyk, cyb) = (
        cov(&k, &k),
        cov(&b, &b),
        cov(&k, &b),
        cov(&y, &k),
        cov(&y, &b),
    );
    let per_prompt = (cyk * vb - cyb * ckb) / (vk * vb - ckb * ckb);
    let extra = est.tpot_heavy_ms - est.tpot_light_ms;
    let mean_gaps = (est.e2e_ms - est.ttft_ms) / est.tpot_ms;
    let drag = est.prompt_drag_ms * mean_gaps.min(150.0) / 2.0;
    let (crowded, mean_unit) = (est.crowded_extra_ms + drag, extra + drag);
    assert!(
        crowded > mean_unit && (per_prompt - crowded).abs() < (per_prompt - mean_unit).abs(),
        "simulated {per_prompt:.1} ms per prompt met; planned {crowded:.1} crowded, {mean_unit:.1} mean"
    );
}
