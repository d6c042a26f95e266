//! The fleet simulator: determinism, conservation of requests, Little's law, agreement with
//! `estimate` at low load, KV-cache bounds, and the fleet mechanisms (retries, spot, scaling).

use inferplan_catalog::{Dtype, Interconnect};
use inferplan_perf::efficiency::EfficiencyTable;
use inferplan_perf::step::Efficiency;
use inferplan_perf::{Deployment, Engine, Load, MemoryParams, Placement, Replica, Workload};
use inferplan_sim::fleet::{
    simulate, Autoscaler, Client, FleetConfig, Nodes, Router, ScaleMetric, SimReport, Slo, Spot,
    Trigger,
};
use inferplan_sim::replica::{ReplicaSim, Seq};
use inferplan_sim::step_times::StepTimes;
use inferplan_sim::traffic::{Arrivals, LengthDist, Limit, Traffic, TrafficSpec};
use proptest::prelude::*;

pub(crate) fn replica(model: &str, gpu: &str) -> (Replica, Efficiency) {
    scheduled_by(Engine::Vllm, model, gpu)
}

/// One GPU of `model` on `gpu` with vLLM's efficiencies, limits and memory fraction, scheduled
/// by `engine`: only the scheduler differs from [`replica`].
pub(crate) fn scheduled_by(engine: Engine, model: &str, gpu: &str) -> (Replica, Efficiency) {
    let c = crate::support::catalog();
    let gpu = c.gpu(gpu).unwrap();
    let mem = gpu.memory_gib().unwrap();
    let d = Engine::Vllm.defaults(mem, gpu.arch);
    let r = Replica::new(
        &Deployment {
            placement: Placement {
                model: c.model(model).unwrap(),
                gpu,
                gpu_mem_gib: mem,
                gpus: 1,
                interconnect: Interconnect::Single,
                tp: 1,
                attention_dp: 1,
                pp: 1,
                weights: Dtype::Bf16,
                kv: Dtype::Bf16,
            },
            engine,
            limits: d.limits,
            kv_memory_fraction: d.kv_memory_fraction,
        },
        8192,
        &MemoryParams::embedded().unwrap(),
    )
    .unwrap();
    let eff = EfficiencyTable::embedded()
        .unwrap()
        .lookup(gpu.arch, Engine::Vllm, Dtype::Bf16)
        .eff;
    (r, eff)
}

fn config(replicas: u32) -> FleetConfig {
    let (replica, efficiency) = replica("llama-3.1-8b", "H100");
    FleetConfig {
        replica,
        efficiency,
        replicas,
        router: Router::LeastOutstanding,
        autoscaler: None,
        managed: None,
        spot: None,
        client: Client {
            timeout_s: None,
            max_retries: 2,
            idempotency_keys: false,
        },
        cold_start_s: 120.0,
        usd_per_replica_hour: 6.88,
        nodes: None,
        slo: Slo {
            ttft_ms: Some(500.0),
            tpot_ms: Some(50.0),
            e2e_ms: None,
        },
        sample_s: 10.0,
        closed_loop: None,
        warmup_s: 0.0,
        prefix_hit_rate: 0.0,
    }
}

fn traffic(rate: f64, n: u64, input: LengthDist, output: LengthDist, seed: u64) -> Traffic {
    Traffic::new(
        TrafficSpec {
            arrivals: Arrivals::Poisson { rate_rps: rate },
            input,
            output,
            limit: Limit::Requests(n),
        },
        seed,
    )
    .unwrap()
}

fn run(cfg: &FleetConfig, rate: f64, n: u64, seed: u64) -> SimReport {
    let t = traffic(
        rate,
        n,
        LengthDist::LogNormal {
            mean: 800.0,
            p99: 4000.0,
        },
        LengthDist::LogNormal {
            mean: 200.0,
            p99: 1000.0,
        },
        seed,
    );
    simulate(cfg, t, seed)
}

#[test]
fn the_same_seed_gives_the_same_run() {
    let cfg = config(2);
    let a = format!("{:?}", run(&cfg, 20.0, 3000, 7));
    let b = format!("{:?}", run(&cfg, 20.0, 3000, 7));
    assert_eq!(a, b);
    assert_ne!(a, format!("{:?}", run(&cfg, 20.0, 3000, 8)));
}

#[test]
fn every_request_is_answered_once_and_littles_law_holds() {
    let cfg = config(2);
    let r = run(&cfg, 25.0, 5000, 3);
    assert_eq!(r.requests_total, 5000);
    assert_eq!(r.requests_completed, 5000);
    assert_eq!(r.requests_failed, 0);
    assert_eq!(r.retries, 0);
    // L = λ W: time-averaged requests in the system against throughput × mean latency.
    let lambda = r.requests_completed as f64 / r.simulated_s;
    let little = lambda * r.e2e_ms.mean / 1e3;
    assert!(
        (r.mean_in_flight - little).abs() / little < 0.03,
        "L {} vs λW {}",
        r.mean_in_flight,
        little
    );
    assert!(r.ttft_ms.p50 <= r.ttft_ms.p99 && r.ttft_ms.p99 <= r.ttft_ms.max);
    assert!(r.output_tok_s > 0.0 && r.cost_usd > 0.0);
}

#[test]
fn at_low_load_the_simulator_agrees_with_estimate() {
    let cfg = config(1);
    for (input, output) in [(1000u32, 200u32), (4000, 50), (200, 800)] {
        let t = traffic(
            0.02,
            300,
            LengthDist::Fixed(input),
            LengthDist::Fixed(output),
            1,
        );
        let r = simulate(&cfg, t, 1);
        let est = cfg.replica.run(
            &Workload {
                input_tokens: u64::from(input),
                output_tokens: u64::from(output),
                load: Load::Poisson { rate_rps: 0.02 },
            },
            &cfg.efficiency,
        );
        let close = |a: f64, b: f64| (a - b).abs() / b < 0.05;
        assert!(
            close(r.ttft_ms.mean, est.ttft_ms),
            "TTFT {} vs {}",
            r.ttft_ms.mean,
            est.ttft_ms
        );
        assert!(
            close(r.tpot_ms.mean, est.tpot_ms),
            "TPOT {} vs {}",
            r.tpot_ms.mean,
            est.tpot_ms
        );
    }
}

/// The front end's cost per open stream is one model: `estimate` charges a closed loop of
/// 16 clients 15 other streams per request, the simulator the streams open when each request
/// arrives, and the two add the same to TTFT.
#[test]
fn the_simulator_charges_the_front_end_per_open_stream_as_estimate_does() {
    let cfg = config(1);
    let base = FleetConfig {
        closed_loop: Some(16),
        warmup_s: 30.0,
        prefix_hit_rate: 0.0,
        efficiency: Efficiency {
            stream_overhead_s: 0.0,
            clump_exponent: 0.0,
            prefill_clump_exponent: 1.0,
            eager_layer_s: 0.0,
            ..cfg.efficiency
        },
        ..cfg
    };
    let with = FleetConfig {
        efficiency: Efficiency {
            stream_overhead_s: 0.003,
            clump_exponent: 0.0,
            prefill_clump_exponent: 1.0,
            eager_layer_s: 0.0,
            ..base.efficiency
        },
        ..base.clone()
    };
    let (input, output) = (1000u32, 200u32);
    let ttft = |cfg: &FleetConfig| {
        let t = traffic(
            1.0,
            600,
            LengthDist::Fixed(input),
            LengthDist::Fixed(output),
            3,
        );
        let sim = simulate(cfg, t, 3);
        let est = cfg
            .replica
            .run(
                &Workload {
                    input_tokens: u64::from(input),
                    output_tokens: u64::from(output),
                    load: Load::Closed { concurrency: 16 },
                },
                &cfg.efficiency,
            )
            .ttft_ms;
        (sim, est)
    };
    let ((sim0, est0), (sim1, est1)) = (ttft(&base), ttft(&with));
    assert!((est1 - est0 - 45.0).abs() < 1e-6, "{est0} -> {est1}");
    // The simulator holds each request in the front end before the engine sees it: the wait
    // from arrival to admission grows by the same 15 × 3 ms.
    let added = sim1.queue_ms.mean - sim0.queue_ms.mean;
    // Within 15 % (40.4 ms with the fifth session's refit, 42-45 before it).
    assert!(
        (added - 45.0).abs() < 0.15 * 45.0,
        "added {added} ms before admission"
    );
    // Fewer requests on the engine at once make its own part a little faster, so TTFT grows
    // by less than the front end adds, but it grows.
    assert!(sim1.ttft_ms.mean > sim0.ttft_ms.mean + 0.4 * 45.0);
}

/// The eager prompt step's host dispatch is part of the one request overhead: `estimate` and
/// the simulator add the same time per request (Llama 3.1 8B: 32 dense layers × 1 ms).
#[test]
fn the_simulator_charges_the_eager_prompt_step_as_estimate_does() {
    let cfg = config(1);
    let base = FleetConfig {
        efficiency: Efficiency {
            eager_layer_s: 0.0,
            ..cfg.efficiency
        },
        ..cfg
    };
    let with = FleetConfig {
        efficiency: Efficiency {
            eager_layer_s: 0.001,
            ..base.efficiency
        },
        ..base.clone()
    };
    let run = |cfg: &FleetConfig| {
        let t = traffic(0.5, 200, LengthDist::Fixed(1000), LengthDist::Fixed(100), 7);
        simulate(cfg, t, 7)
    };
    let est = |cfg: &FleetConfig| {
        cfg.replica
            .run(
                &Workload {
                    input_tokens: 1000,
                    output_tokens: 100,
                    load: Load::Burst { requests: 1 },
                },
                &cfg.efficiency,
            )
            .ttft_ms
    };
    assert!((est(&with) - est(&base) - 32.0).abs() < 1e-6);
    // Light load (0.5 req/s of 1000/100 on an H100): the same arrivals wait 32 ms more
    // before the engine sees them.
    let (r0, r1) = (run(&base), run(&with));
    let added = r1.queue_ms.mean - r0.queue_ms.mean;
    assert!((added - 32.0).abs() < 0.05 * 32.0, "added {added} ms");
}

/// Closed-loop clients are made as they start: a billion clients sending a hundred requests
/// finish at once (queuing every client's start up front took 320 MB and 2.8 s for ten
/// million clients, in release), and the run ends with the last answer, not when the last
/// client that never got a request would have started at the end of the hour-long warm-up.
#[test]
fn a_billion_closed_loop_clients_cost_only_the_requests_they_send() {
    let started = std::time::Instant::now();
    let mut cfg = config(1);
    cfg.closed_loop = Some(1_000_000_000);
    cfg.warmup_s = 3600.0;
    let r = run(&cfg, 1.0, 100, 5);
    assert_eq!((r.requests_total, r.requests_completed), (100, 100));
    assert!(r.simulated_s < 60.0, "{} s", r.simulated_s);
    assert!(
        started.elapsed() < std::time::Duration::from_secs(30),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn retries_without_idempotency_keys_add_duplicate_work() {
    let mut cfg = config(1);
    cfg.client.timeout_s = Some(2.0);
    cfg.client.max_retries = 3;
    let plain = run(&cfg, 40.0, 3000, 5);
    assert!(
        plain.retries > 0 && plain.duplicates == plain.retries,
        "{plain:?}"
    );
    assert_eq!(
        plain.requests_completed + plain.requests_failed,
        plain.requests_total
    );
    cfg.client.idempotency_keys = true;
    let keyed = run(&cfg, 40.0, 3000, 5);
    assert_eq!(keyed.duplicates, 0);
    assert!(keyed.retries > 0);
    // Duplicates are extra work for the same traffic.
    assert!(
        plain.tokens_computed > keyed.tokens_computed,
        "{} vs {}",
        plain.tokens_computed,
        keyed.tokens_computed
    );
}

#[test]
fn spot_interruptions_retry_the_lost_requests() {
    let mut cfg = config(2);
    cfg.spot = Some(Spot {
        rate_per_hour: 20.0,
        notice_s: 10.0,
    });
    cfg.cold_start_s = 30.0;
    let r = run(&cfg, 10.0, 20_000, 11);
    assert!(r.interruptions > 0, "{r:?}");
    assert!(r.replicas_started >= r.interruptions);
    assert_eq!(r.requests_completed, r.requests_total);
}

#[test]
fn queue_based_autoscaling_scales_out_under_load() {
    let mut cfg = config(1);
    let mut a = Autoscaler::rendered(vec![queue(2.0)], 1, 8, 1);
    a.interval_s = 10.0;
    cfg.autoscaler = Some(a);
    cfg.cold_start_s = 60.0;
    let r = run(&cfg, 60.0, 40_000, 2);
    assert!(r.replicas_max > 1 && r.replicas_started > 0, "{r:?}");
    assert!(r.replicas_series.iter().any(|&(_, v)| v > 1.0));
}

fn queue(target: f64) -> Trigger {
    Trigger {
        metric: ScaleMetric::QueueDepth,
        target,
        activation: 0.0,
    }
}

fn seq(work: usize, prompt: u32, output: u32) -> Seq {
    Seq::new(work, prompt, output)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn a_replica_never_holds_more_kv_than_it_has_and_finishes_everything(
        jobs in proptest::collection::vec((1u32..6000, 1u32..600), 1..200),
    ) {
        let (r, eff) = replica("llama-3.1-8b", "L4");
        let mut sim = ReplicaSim::new(&r);
        let mut times = StepTimes::new(&r, eff);
        for (i, (p, o)) in jobs.iter().enumerate() {
            sim.enqueue(seq(i, *p, *o));
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
    }

    #[test]
    fn random_workloads_conserve_requests(
        rate in 0.5f64..60.0,
        n in 1u64..400,
        mean_in in 10.0f64..3000.0,
        mean_out in 2.0f64..600.0,
        replicas in 1u32..4,
        seed in 0u64..1000,
    ) {
        let cfg = config(replicas);
        let t = traffic(
            rate,
            n,
            LengthDist::LogNormal { mean: mean_in, p99: mean_in * 4.0 },
            LengthDist::LogNormal { mean: mean_out, p99: mean_out * 4.0 },
            seed,
        );
        let r = simulate(&cfg, t, seed);
        prop_assert_eq!(r.requests_total, n);
        prop_assert_eq!(r.requests_completed, n);
        prop_assert!(r.ttft_ms.mean.is_finite() && r.e2e_ms.mean >= r.ttft_ms.mean);
    }
}

/// KEDA scales to zero after its cooldown without an active trigger, and back to one when a
/// request waits; that request pays the cold start.
#[test]
fn keda_scales_to_zero_and_back_on_its_activation_threshold() {
    let mut csv = String::from("arrival_s,input_tokens,output_tokens\n");
    for k in 0..20 {
        csv += &format!("{},500,50\n", k * 3);
    }
    csv += "1800,500,50\n";
    let trace = inferplan_plan::Trace::parse(csv.as_bytes(), "test").unwrap();
    let spec = TrafficSpec {
        arrivals: Arrivals::Trace {
            trace: trace.into(),
            time_scale: 1.0,
            repeat: 1,
            input_from_trace: true,
            output_from_trace: true,
        },
        input: LengthDist::Fixed(500),
        output: LengthDist::Fixed(50),
        limit: Limit::Requests(u64::MAX),
    };
    let mut cfg = config(1);
    cfg.cold_start_s = 90.0;
    let mut a = Autoscaler::rendered(
        vec![Trigger {
            metric: ScaleMetric::InFlight,
            target: 8.0,
            activation: 0.0,
        }],
        0,
        4,
        1,
    );
    a.scale_to_zero_after_s = 300.0;
    cfg.autoscaler = Some(a);
    let r = simulate(&cfg, Traffic::new(spec, 1).unwrap(), 1);
    assert_eq!(r.requests_completed, 21);
    assert!(r.replicas_series.iter().any(|&(_, v)| v == 0.0), "{r:?}");
    // Down to zero and up to one: two scale events, one reversal.
    assert_eq!((r.scale_events, r.scale_reversals), (2, 1));
    assert_eq!(r.replicas_started, 1);
    // The last request waited for a replica: a poll (≤ 15 s), the metric lag (15 s) and the
    // cold start.
    assert!(r.ttft_ms.max >= 90_000.0, "{}", r.ttft_ms.max);
    assert!(
        r.ttft_ms.max <= 90_000.0 + 31_000.0 + 2_000.0,
        "{}",
        r.ttft_ms.max
    );
}

/// The autoscaler reads the metrics as old as the lag: a longer lag scales out later.
#[test]
fn metric_lag_delays_the_first_scale_out() {
    let first_scale_out = |lag_s: f64| {
        let mut cfg = config(1);
        cfg.cold_start_s = 60.0;
        let mut a = Autoscaler::rendered(vec![queue(2.0)], 1, 8, 4);
        // Scale-up at the first reading above the target, to see the lag alone.
        a.behavior = inferplan_plan::autoscaling::Behavior::rendered_with_windows(4, 0, 600);
        a.metric_lag_s = lag_s;
        cfg.autoscaler = Some(a);
        let r = run(&cfg, 60.0, 6_000, 2);
        r.replicas_series
            .iter()
            .find(|&&(_, v)| v > 1.0)
            .map(|&(t, _)| t)
            .unwrap()
    };
    let (prompt, late) = (first_scale_out(0.0), first_scale_out(60.0));
    assert!(late >= prompt + 60.0, "{prompt} {late}");
}

#[test]
fn no_slo_means_no_attainment_and_no_goodput() {
    let mut cfg = config(1);
    cfg.slo = Slo::default();
    let r = run(&cfg, 2.0, 200, 3);
    assert!(r.slo_attainment.is_none() && r.goodput_rps.is_none());
    cfg.slo.ttft_ms = Some(60_000.0);
    let r = run(&cfg, 2.0, 200, 3);
    assert_eq!(r.slo_attainment.map(|a| a.all), Some(1.0));
    assert!(r.goodput_rps.is_some_and(|g| g > 0.0));
}

/// Twenty requests in the first minute, then one at 30 minutes, through a KEDA autoscaler
/// that scales to zero after 5 minutes without traffic; nodes of `per_node` replicas that
/// Karpenter removes after `consolidate_after_s` empty.
fn lull(per_node: u32, consolidate_after_s: f64) -> SimReport {
    let mut csv = String::from("arrival_s,input_tokens,output_tokens\n");
    for k in 0..20 {
        csv += &format!("{},500,50\n", k * 3);
    }
    csv += "1800,500,50\n";
    let trace = inferplan_plan::Trace::parse(csv.as_bytes(), "test").unwrap();
    let spec = TrafficSpec {
        arrivals: Arrivals::Trace {
            trace: trace.into(),
            time_scale: 1.0,
            repeat: 1,
            input_from_trace: true,
            output_from_trace: true,
        },
        input: LengthDist::Fixed(500),
        output: LengthDist::Fixed(50),
        limit: Limit::Requests(u64::MAX),
    };
    let mut cfg = config(1);
    cfg.cold_start_s = 90.0;
    cfg.nodes = Some(Nodes {
        replicas_per_node: per_node,
        nodes_per_replica: 1,
        start_s: 70.0,
        consolidate_after_s,
        usd_per_node_hour: 10.0,
    });
    let mut a = Autoscaler::rendered(
        vec![Trigger {
            metric: ScaleMetric::InFlight,
            target: 8.0,
            activation: 0.0,
        }],
        0,
        4,
        1,
    );
    a.scale_to_zero_after_s = 300.0;
    cfg.autoscaler = Some(a);
    simulate(&cfg, Traffic::new(spec, 1).unwrap(), 1)
}

/// A replica waits for a node only when no node has room: after the scale to zero, the empty
/// node is still there when Karpenter waits an hour to consolidate, and gone when it waits
/// five minutes, so the last request waits the node's start on top of the cold start.
#[test]
fn a_new_node_delays_a_replica_only_when_no_node_has_room() {
    let kept = lull(1, 3600.0);
    let removed = lull(1, 300.0);
    assert_eq!(kept.requests_completed, 21);
    assert_eq!(removed.requests_completed, 21);
    assert_eq!((kept.nodes_started, removed.nodes_started), (0, 1));
    // Poll (≤ 15 s) + lag (15 s) + cold start 90 s [+ node 70 s] + serving.
    let slow = |r: &SimReport| r.ttft_ms.max;
    assert!(
        slow(&kept) >= 90_000.0 && slow(&kept) < 90_000.0 + 33_000.0,
        "{kept:?}"
    );
    assert!(
        slow(&removed) >= 160_000.0 && slow(&removed) < 160_000.0 + 33_000.0,
        "{removed:?}"
    );
}

/// Karpenter removes a node after `consolidateAfter` empty, and the cost counts the
/// node-hours: the node kept an hour costs more than the one removed after five minutes.
#[test]
fn consolidation_removes_empty_nodes_after_consolidate_after() {
    let kept = lull(1, 3600.0);
    let removed = lull(1, 300.0);
    let (k, r) = (kept.node_hours.unwrap(), removed.node_hours.unwrap());
    // Kept: one node the whole run (about 1,800 s + the last request). Removed: the replica
    // leaves ~ 10 min after the burst (KEDA's 5 min cooldown, plus the lag), the node 5 min
    // later; back for the last request.
    assert!(k > 0.49 && k < 0.56, "{k}");
    assert!(r < k - 0.15, "{r} vs {k}");
    assert!((kept.cost_usd - 10.0 * k).abs() < 1e-9);
    assert_eq!(kept.nodes_max, 1);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(6))]
    /// However the autoscaler moves, the nodes hold the replicas: node-hours are at least
    /// replica-hours over the replicas per node, and the hourly node counts at least the
    /// hourly replica counts over it.
    #[test]
    fn nodes_hold_the_replicas(per_node in 1u32..4, rate in 20.0f64..70.0, seed in 0u64..50) {
        let mut cfg = config(1);
        cfg.cold_start_s = 60.0;
        cfg.nodes = Some(Nodes {
            replicas_per_node: per_node,
            nodes_per_replica: 1,
            start_s: 70.0,
            consolidate_after_s: 120.0,
            usd_per_node_hour: 10.0,
        });
        let mut a = Autoscaler::rendered(vec![queue(2.0)], 1, 8, per_node);
        a.interval_s = 10.0;
        cfg.autoscaler = Some(a);
        let r = run(&cfg, rate, 8_000, seed);
        let nodes = r.node_hours.unwrap();
        prop_assert!(nodes + 1e-9 >= r.replica_hours / f64::from(per_node), "{nodes} {}", r.replica_hours);
        for h in &r.hours {
            prop_assert!(h.nodes_max * per_node >= h.replicas_max, "{h:?}");
        }
    }
}

/// A Kubernetes Service sends each request to a replica drawn at random, blind to how busy it
/// is: the same fleet queues more than behind a router that picks the least-loaded replica,
/// and every request is still answered exactly once.
#[test]
fn a_random_router_queues_more_than_a_least_outstanding_one() {
    let lor = config(4);
    let random = FleetConfig {
        router: Router::Random,
        ..config(4)
    };
    let (a, b) = (run(&lor, 60.0, 6000, 5), run(&random, 60.0, 6000, 5));
    assert_eq!((a.requests_completed, b.requests_completed), (6000, 6000));
    assert!(
        b.ttft_ms.p99 > 1.1 * a.ttft_ms.p99,
        "random {} ms, least-outstanding {} ms",
        b.ttft_ms.p99,
        a.ttft_ms.p99
    );
    assert_eq!(
        format!("{b:?}"),
        format!("{:?}", run(&random, 60.0, 6000, 5))
    );
}

/// A prefill-first engine's closed loop is one model in `estimate` and the simulator: clients
/// that start together with fixed lengths stay in lockstep rounds in both; with varying
/// outputs (InferenceX's uniform `[0.8 L, L]`) the simulated clients fall out of step by
/// themselves and `estimate` leaves its rounds for the steady state in clumps of `c^α`
/// (`prefill_clump_exponent`), the simulated TTFT between the spread-out (α = 0) and the
/// lockstep (α = 1) estimates, and TPOT higher than the rounds' in both (other clients' prompt
/// steps pause the decodes).
#[test]
fn sglang_clients_fall_out_of_step_when_outputs_vary_in_simulate_as_in_estimate() {
    let (replica, efficiency) = scheduled_by(Engine::Sglang, "llama-3.1-8b", "H100");
    let base = config(1);
    let (clients, input, output) = (32u64, 2000u32, 450u32);
    let cfg = FleetConfig {
        replica,
        efficiency,
        closed_loop: Some(clients as u32),
        warmup_s: 0.0,
        ..base
    };
    let (lo, hi) = (400u32, 500u32);
    let sim = |out: LengthDist| {
        simulate(
            &cfg,
            traffic(1.0, 10 * clients, LengthDist::Fixed(input), out, 5),
            5,
        )
    };
    let est = |cv2: f64, alpha: f64| {
        cfg.replica.run_spread(
            &Workload {
                input_tokens: u64::from(input),
                output_tokens: u64::from(output),
                load: Load::Closed {
                    concurrency: clients,
                },
            },
            &Efficiency {
                prefill_clump_exponent: alpha,
                ..cfg.efficiency
            },
            cv2,
        )
    };
    // Uniform on [lo, hi]: cv² = (hi − lo)² / 12 / mean².
    let cv2 = f64::from(hi - lo).powi(2) / 12.0 / f64::from(output).powi(2);
    let (fixed, varied) = (
        sim(LengthDist::Fixed(output)),
        sim(LengthDist::Uniform { lo, hi }),
    );
    let rounds = est(0.0, 1.0);
    // Fixed lengths: lockstep in both (838 vs 827 ms when written).
    let ratio = fixed.ttft_ms.mean / rounds.ttft_ms;
    assert!((0.85..1.15).contains(&ratio), "{ratio}");
    // Varied outputs: the simulated clients fall apart (159 ms), between the estimate spread
    // out (82 ms) and in lockstep (812 ms).
    let (apart, lockstep) = (est(cv2, 0.0), est(cv2, 1.0));
    assert!(fixed.ttft_ms.mean > 3.0 * varied.ttft_ms.mean);
    assert!(
        apart.ttft_ms < varied.ttft_ms.mean && varied.ttft_ms.mean < lockstep.ttft_ms,
        "{} < {} < {}",
        apart.ttft_ms,
        varied.ttft_ms.mean,
        lockstep.ttft_ms
    );
    // The decodes pause for other clients' prompt steps in both (14.8 vs 15.1 ms; rounds 11.8).
    let tpot = varied.tpot_ms.mean / apart.tpot_ms;
    assert!((0.9..1.1).contains(&tpot), "{tpot}");
    assert!(apart.tpot_ms > 1.1 * rounds.tpot_ms);
}
