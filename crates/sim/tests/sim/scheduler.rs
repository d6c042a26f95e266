//! The replica scheduler per engine: SGLang's prefill-first steps and its reservation of
//! future tokens, TensorRT-LLM's `GUARANTEED_NO_EVICT` admission, and the prefix cache.

use crate::fleet::scheduled_by;
use inferplan_perf::step::Efficiency;
use inferplan_perf::{Engine, Replica};
use inferplan_sim::fleet::{simulate, Client, FleetConfig, Router, SimReport, Slo};
use inferplan_sim::replica::{Admission, ReplicaSim, Seq};
use inferplan_sim::step_times::StepTimes;
use inferplan_sim::traffic::{Arrivals, LengthDist, Limit, Traffic, TrafficSpec};
use proptest::prelude::*;

/// 1500 requests of 2000 prompt and 200 output tokens from `clients` closed-loop clients, or
/// Poisson arrivals at `rate` requests/s when `clients` is 0.
fn load(r: Replica, eff: Efficiency, clients: u32, rate: f64, hit: f64) -> SimReport {
    let cfg = FleetConfig {
        replica: r,
        efficiency: eff,
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
        closed_loop: (clients > 0).then_some(clients),
        warmup_s: if clients > 0 { 20.0 } else { 0.0 },
        prefix_hit_rate: hit,
    };
    let t = Traffic::new(
        TrafficSpec {
            arrivals: Arrivals::Poisson { rate_rps: rate },
            input: LengthDist::Fixed(2000),
            output: LengthDist::Fixed(200),
            limit: Limit::Requests(1500),
        },
        7,
    )
    .unwrap();
    simulate(&cfg, t, 7)
}

/// At the same Poisson load on the same step times, SGLang runs a new prompt in a step of its
/// own (pausing the decodes) while vLLM adds it to a decode step: SGLang's first tokens come
/// sooner and its decodes wait for the prompts. (In a closed loop with fixed lengths the
/// prefill-first engine's clients fall into rounds, which can reverse the TTFT order.)
#[test]
fn sglang_prefill_first_trades_tpot_for_ttft_against_vllm_mixed_steps() {
    let (v, eff) = scheduled_by(Engine::Vllm, "llama-3.1-8b", "H100");
    let (s, _) = scheduled_by(Engine::Sglang, "llama-3.1-8b", "H100");
    let vllm = load(v, eff, 0, 6.0, 0.0);
    let sglang = load(s, eff, 0, 6.0, 0.0);
    assert!(
        sglang.ttft_ms.mean < vllm.ttft_ms.mean,
        "TTFT sglang {} vllm {}",
        sglang.ttft_ms.mean,
        vllm.ttft_ms.mean
    );
    assert!(
        sglang.tpot_ms.mean > vllm.tpot_ms.mean,
        "TPOT sglang {} vllm {}",
        sglang.tpot_ms.mean,
        vllm.tpot_ms.mean
    );
}

/// A step of a prefill-first engine carries prompts or decodes, never both, also while a
/// prompt longer than the step's budget continues in chunks; a mixing engine carries both.
#[test]
fn sglang_steps_are_prompts_or_decodes_and_continue_chunked_prompts_alone() {
    for (engine, mixes) in [(Engine::Sglang, false), (Engine::Vllm, true)] {
        let (r, eff) = scheduled_by(engine, "llama-3.1-8b", "H100");
        let mut sim = ReplicaSim::new(&r);
        let mut times = StepTimes::new(&r, eff);
        // Eight requests decoding, then a prompt of three budgets' worth.
        for w in 0..8 {
            sim.enqueue(Seq::new(w, 100, 1000));
        }
        sim.start_step(&mut times).unwrap();
        sim.finish_step();
        let budget = r.limits().max_num_batched_tokens as u32;
        sim.enqueue(Seq::new(99, 3 * budget, 10));
        let mut mixed_steps = 0;
        for _ in 0..4 {
            sim.start_step(&mut times).unwrap();
            let out = sim.finish_step();
            if out.prefill_tokens > 0 && !out.next_tokens.is_empty() {
                mixed_steps += 1;
            }
        }
        assert_eq!(
            mixed_steps > 0,
            mixes,
            "{engine}: {mixed_steps} mixed steps"
        );
    }
}

/// SGLang admits a request only when its prompt and remaining output fit beside 0.7 × the
/// running requests' remaining outputs, so with a cache for about ten of these sequences it
/// starts no more than fit whole, while vLLM admits while the prompts fit.
#[test]
fn sglang_reserves_future_tokens_of_running_requests() {
    let (v, eff) = scheduled_by(Engine::Vllm, "llama-3.1-8b", "L4");
    let (s, _) = scheduled_by(Engine::Sglang, "llama-3.1-8b", "L4");
    assert_eq!(ReplicaSim::new(&s).admission(), Admission::Reserve);
    let per_seq = 2000 + 2000;
    let fits = (s.kv_cache_tokens() / f64::from(per_seq)) as usize;
    let first_steps = |r: &Replica| {
        let mut sim = ReplicaSim::new(r);
        let mut times = StepTimes::new(r, eff);
        for w in 0..(4 * fits) {
            sim.enqueue(Seq::new(w, 2000, 2000));
        }
        // Steps until the queue stops moving.
        for _ in 0..(8 * fits) {
            sim.start_step(&mut times).unwrap();
            sim.finish_step();
        }
        sim.running()
    };
    let (sglang, vllm) = (first_steps(&s), first_steps(&v));
    assert!(
        sglang <= fits + 1 && sglang < vllm,
        "running: sglang {sglang}, vllm {vllm}, whole sequences that fit {fits}"
    );
}

/// TensorRT-LLM's `GUARANTEED_NO_EVICT` reserves every admitted sequence whole: however
/// tight the cache, nothing is preempted, while vLLM preempts on the same jobs.
#[test]
fn trtllm_guaranteed_no_evict_never_preempts_where_vllm_does() {
    let jobs: Vec<(u32, u32)> = (0..300).map(|k| (500 + 37 * (k % 50), 2000)).collect();
    let mut preempted = Vec::new();
    for engine in [Engine::Trtllm, Engine::Vllm] {
        let (r, eff) = scheduled_by(engine, "llama-3.1-8b", "L4");
        let mut sim = ReplicaSim::new(&r);
        let mut times = StepTimes::new(&r, eff);
        for (w, &(p, o)) in jobs.iter().enumerate() {
            sim.enqueue(Seq::new(w, p, o));
        }
        let mut done = 0;
        while sim.start_step(&mut times).is_some() {
            done += sim.finish_step().finished.len();
        }
        assert_eq!(done, jobs.len(), "{engine}");
        preempted.push(sim.preemptions);
    }
    assert_eq!(preempted[0], 0, "trtllm preempted {}", preempted[0]);
    assert!(
        preempted[1] > 0,
        "vllm never preempted: the test is not tight"
    );
}

/// A prefix-cache hit skips that share of each prompt's prefill: first tokens come sooner and
/// a saturated replica serves more requests per second; the blocks are still held.
#[test]
fn a_prefix_hit_rate_lowers_ttft_and_raises_capacity() {
    for engine in [Engine::Vllm, Engine::Sglang, Engine::Trtllm] {
        let (r, eff) = scheduled_by(engine, "llama-3.1-8b", "H100");
        let cold = load(r.clone(), eff, 64, 1.0, 0.0);
        let warm = load(r.clone(), eff, 64, 1.0, 0.5);
        assert!(
            warm.ttft_ms.mean < 0.9 * cold.ttft_ms.mean,
            "{engine}: TTFT {} with half the prompt cached, {} without",
            warm.ttft_ms.mean,
            cold.ttft_ms.mean
        );
        assert!(
            warm.output_tok_s > cold.output_tok_s,
            "{engine}: {} tokens/s with half the prompt cached, {} without",
            warm.output_tok_s,
            cold.output_tok_s
        );
        // The KV blocks of a cached prefix are held all the same.
        let (mut a, mut b) = (
            ReplicaSim::new(&r),
            ReplicaSim::new(&r).with_prefix_hit_rate(0.5),
        );
        let mut times = StepTimes::new(&r, eff);
        a.enqueue(Seq::new(0, 4000, 10));
        b.enqueue(Seq::new(0, 4000, 10));
        a.start_step(&mut times).unwrap();
        b.start_step(&mut times).unwrap();
        let (pa, pb) = (a.finish_step(), b.finish_step());
        assert_eq!(a.kv_blocks(), b.kv_blocks(), "{engine}");
        assert_eq!(pb.prefill_tokens, 2000, "{engine}");
        assert!(pa.prefill_tokens > pb.prefill_tokens, "{engine}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(16))]

    /// Every engine's scheduler finishes every request once and never holds more KV blocks
    /// than the replica has, with or without a prefix cache.
    #[test]
    fn every_engine_finishes_everything_within_its_cache(
        jobs in proptest::collection::vec((1u32..6000, 1u32..1500), 1..150),
        engine in prop_oneof![Just(Engine::Vllm), Just(Engine::Sglang), Just(Engine::Trtllm), Just(Engine::Tgi)],
        hit in prop_oneof![Just(0.0), 0.0f64..1.0],
    ) {
        let (r, eff) = scheduled_by(engine, "llama-3.1-8b", "L4");
        let mut sim = ReplicaSim::new(&r).with_prefix_hit_rate(hit);
        let mut times = StepTimes::new(&r, eff);
        for (i, (p, o)) in jobs.iter().enumerate() {
            sim.enqueue(Seq::new(i, *p, *o));
        }
        let mut done = std::collections::BTreeSet::new();
        let mut steps = 0u64;
        while let Some(_us) = sim.start_step(&mut times) {
            let (used, total) = sim.kv_blocks();
            prop_assert!(used <= total);
            let out = sim.finish_step();
            for w in out.finished {
                prop_assert!(done.insert(w), "finished twice: {}", w);
            }
            steps += 1;
            prop_assert!(steps < 5_000_000);
        }
        prop_assert_eq!(done.len(), jobs.len());
        prop_assert_eq!(sim.kv_blocks().0, 0);
        if engine == Engine::Trtllm {
            prop_assert_eq!(sim.preemptions, 0);
        }
    }
}

/// A replica on an AWS Neuron chip runs NxD Inference's compiled graphs (issue 13, item 3):
/// one whole prompt per step of its own (`ctx_batch_size = 1`), priced at its sequence bucket
/// (a 600- and a 1000-token prompt take the same time, 1100 tokens longer), at most the
/// compiled batch of what the KV cache holds at `max_model_len`, which the planner's replica
/// states (`inferplan_perf::neuron::max_num_seqs`), and every decode step padded to it.
#[test]
fn a_neuron_replica_encodes_one_bucketed_prompt_per_step_within_the_compiled_batch() {
    let (r, eff) = scheduled_by(Engine::Vllm, "llama-3.1-8b", "Inferentia2");
    let shapes = r.neuron_shapes().expect("a Neuron replica");
    assert!(r.prefill_first());
    let compiled = r.limits().max_num_seqs;
    assert_eq!(shapes.max_num_seqs, compiled);
    assert_eq!(
        compiled,
        inferplan_perf::neuron::max_num_seqs(
            r.kv_cache_tokens() as u64,
            8192,
            Engine::Vllm
                .defaults(32.0, inferplan_catalog::Arch::Neuron)
                .limits
                .max_num_seqs
        )
    );
    assert!((2..64).contains(&compiled), "{compiled}");
    // One prompt alone per step, priced at its bucket.
    let alone = |prompt: u32| {
        let mut sim = ReplicaSim::new(&r);
        let mut times = StepTimes::new(&r, eff);
        sim.enqueue(Seq::new(0, prompt, 10));
        sim.enqueue(Seq::new(1, prompt, 10));
        let us = sim.start_step(&mut times).unwrap();
        let out = sim.finish_step();
        assert_eq!(out.first_tokens, vec![0], "one prompt per step");
        assert_eq!(out.prefill_tokens, u64::from(prompt));
        us
    };
    assert_eq!(alone(600), alone(1000));
    assert!(alone(1100) > alone(1000));
    // Every decode step runs the compiled batch (NxD Inference pads a partly full one): one
    // running sequence decodes as slowly as the whole batch.
    let first_decode_us = |n: usize| {
        let mut sim = ReplicaSim::new(&r);
        let mut times = StepTimes::new(&r, eff);
        for w in 0..n {
            sim.enqueue(Seq::new(w, 700, 300));
        }
        loop {
            let us = sim.start_step(&mut times).unwrap();
            if sim.finish_step().prefill_tokens == 0 {
                return us;
            }
        }
    };
    assert_eq!(first_decode_us(1), first_decode_us(compiled as usize));
    // Never more running than compiled, and prompts never share a step with decodes.
    let mut sim = ReplicaSim::new(&r);
    let mut times = StepTimes::new(&r, eff);
    for w in 0..(3 * compiled as usize) {
        sim.enqueue(Seq::new(w, 700, 300));
    }
    for _ in 0..2000 {
        let Some(_) = sim.start_step(&mut times) else {
            break;
        };
        let out = sim.finish_step();
        assert!(sim.running() as u64 <= compiled);
        assert!(out.prefill_tokens == 0 || out.next_tokens.is_empty());
    }
    assert_eq!(sim.preemptions, 0);
}
