//! Criterion benchmarks of the simulator (budgets, DESIGN.md: 1,000,000 requests in < 10 s
//! on one core; `plan --verify` in < 5 s).

use criterion::Criterion;
use inferplan_catalog::bounds::DEFAULT_MAX_SIM_REQUESTS;
use inferplan_catalog::{Catalog, Dtype, Interconnect};
use inferplan_perf::efficiency::EfficiencyTable;
use inferplan_perf::parallel::QUIET;
use inferplan_perf::{Deployment, Engine, MemoryParams, Placement, Replica};
use inferplan_plan::{plan, Inputs, Workload};
use inferplan_sim::fleet::{simulate, Client, FleetConfig, Router, Slo};
use inferplan_sim::traffic::{Arrivals, LengthDist, Limit, Traffic, TrafficSpec};
use inferplan_sim::verify::verify;
use std::hint::black_box;
use std::time::Duration;

fn config() -> FleetConfig {
    let c = Catalog::embedded().unwrap();
    let gpu = c.gpu("H100").unwrap();
    let mem = gpu.memory_gib().unwrap();
    let d = Engine::Vllm.defaults(mem, gpu.arch);
    let replica = Replica::new(
        &Deployment {
            placement: Placement {
                model: c.model("llama-3.1-8b").unwrap(),
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
            engine: Engine::Vllm,
            limits: d.limits,
            kv_memory_fraction: d.kv_memory_fraction,
        },
        5000,
        &MemoryParams::embedded().unwrap(),
    )
    .unwrap();
    let efficiency = EfficiencyTable::embedded()
        .unwrap()
        .lookup(gpu.arch, Engine::Vllm, Dtype::Bf16)
        .eff;
    FleetConfig {
        replica,
        efficiency,
        replicas: 8,
        router: Router::LeastOutstanding,
        autoscaler: None,
        managed: None,
        spot: None,
        client: Client {
            timeout_s: None,
            max_retries: 0,
            idempotency_keys: true,
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

fn traffic(n: u64) -> Traffic {
    Traffic::new(
        TrafficSpec {
            arrivals: Arrivals::Poisson { rate_rps: 80.0 },
            input: LengthDist::LogNormal {
                mean: 800.0,
                p99: 4000.0,
            },
            output: LengthDist::LogNormal {
                mean: 200.0,
                p99: 1000.0,
            },
            limit: Limit::Requests(n),
        },
        1,
    )
    .unwrap()
}

/// 1,000,000 Poisson requests with log-normal lengths over 8 replicas of Llama 3.1 8B on H100
/// (80 requests/s, about 10 per replica), and a 100,000-request run.
fn benches(c: &mut Criterion) {
    let cfg = config();
    let mut g = c.benchmark_group("simulate");
    g.sample_size(10).measurement_time(Duration::from_secs(60));
    g.bench_function("1m_requests_8_replicas", |b| {
        b.iter(|| simulate(black_box(&cfg), traffic(1_000_000), 1))
    });
    g.bench_function("100k_requests_8_replicas", |b| {
        b.iter(|| simulate(black_box(&cfg), traffic(100_000), 1))
    });
    g.finish();
    verify_bench(c);
}

/// `plan examples/chat-70b-fp8.toml --verify` with its defaults (the 5 shown options, seed 1):
/// each option's ten minutes at the peak, re-sized, and its day through the rendered
/// autoscaling, across the cores as the CLI runs it. The plan itself (about 2 ms) is made
/// once, outside the timing.
fn verify_bench(c: &mut Criterion) {
    let catalog = Catalog::embedded().unwrap();
    let efficiency = EfficiencyTable::embedded().unwrap();
    let memory = MemoryParams::embedded().unwrap();
    let inputs = Inputs {
        catalog: &catalog,
        efficiency: &efficiency,
        memory: &memory,
    };
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples");
    let chat = Workload::load(&dir.join("chat-70b-fp8.toml")).unwrap();
    let p = plan(&inputs, &chat).unwrap();
    let mut g = c.benchmark_group("verify");
    g.sample_size(10).measurement_time(Duration::from_secs(30));
    g.bench_function("chat_70b_fp8_top5", |b| {
        b.iter(|| {
            verify(
                black_box(&inputs),
                black_box(&p),
                5,
                1,
                DEFAULT_MAX_SIM_REQUESTS,
                QUIET,
            )
            .unwrap()
        })
    });
    g.finish();
}

criterion::criterion_main!(group);

/// The benchmark group (written out instead of `criterion_group!`, whose generated function
/// has no doc comment).
pub fn group() {
    let mut c = Criterion::default().configure_from_args();
    benches(&mut c);
}
