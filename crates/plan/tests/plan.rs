//! The planner on the example workloads: pinned answers and the invariants every answer keeps.

use inferplan_catalog::Catalog;
use inferplan_perf::efficiency::EfficiencyTable;
use inferplan_perf::{Deployment, Engine, MemoryParams, Placement, Replica};
use inferplan_plan::{plan, Inputs, Plan, Workload};
use std::path::Path;

struct Fixed {
    catalog: Catalog,
    efficiency: EfficiencyTable,
    memory: MemoryParams,
}

fn fixed() -> &'static Fixed {
    static F: std::sync::OnceLock<Fixed> = std::sync::OnceLock::new();
    F.get_or_init(|| Fixed {
        catalog: Catalog::embedded().unwrap(),
        efficiency: EfficiencyTable::embedded().unwrap(),
        memory: MemoryParams::embedded().unwrap(),
    })
}

fn run(w: &Workload) -> Plan {
    let f = fixed();
    plan(
        &Inputs {
            catalog: &f.catalog,
            efficiency: &f.efficiency,
            memory: &f.memory,
        },
        w,
    )
    .unwrap()
}

fn example(name: &str) -> Workload {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../examples")
        .join(name);
    Workload::load(&path).unwrap()
}

fn best(p: &Plan) -> String {
    let c = &p.candidates[0];
    format!(
        "{} tp{} pp{} {} {} ×{}",
        c.instance, c.tp, c.pp, c.precision, c.engine, c.replicas
    )
}

#[test]
fn examples_have_pinned_answers() {
    // The cheapest deployment of each example, as the current model and catalog see it. A
    // change here is a change of the answer users get: check it is intended, and update
    // docs/plan.md.
    for (file, want) in [
        ("chat-70b-fp8.toml", "p5.48xlarge tp8 pp1 fp8 sglang ×3"),
        ("single-gpu-13b-fp8.toml", "g6e.xlarge tp1 pp1 fp8 vllm ×1"),
        (
            "fraud-scoring-small.toml",
            "g6e.xlarge tp1 pp1 bf16 vllm ×14",
        ),
        ("async-documents.toml", "g6e.xlarge tp1 pp1 int4 vllm ×3"),
        ("regulated-isolated.toml", "g6e.xlarge tp1 pp1 fp8 vllm ×12"),
        ("batch-summaries.toml", "g6e.xlarge tp1 pp1 fp8 vllm ×1"),
    ] {
        let p = run(&example(file));
        assert!(!p.candidates.is_empty(), "{file}: {:?}", p.rejected);
        assert_eq!(best(&p), want, "{file}");
    }
}

#[test]
fn candidates_are_ranked_explained_and_feasible() {
    let f = fixed();
    for file in [
        "chat-70b-fp8.toml",
        "regulated-isolated.toml",
        "single-gpu-13b-fp8.toml",
    ] {
        let w = example(file);
        let p = run(&w);
        assert!(p
            .candidates
            .windows(2)
            .all(|c| c[0].usd_per_hour <= c[1].usd_per_hour));
        let counted: usize = p.rejected.values().sum();
        assert_eq!(counted + p.candidates.len(), p.considered, "{file}");
        let model = f.catalog.model(&w.model.name).unwrap();
        for c in &p.candidates {
            // Every candidate shown fits in memory with its context.
            let inst = f.catalog.instance(&c.instance).unwrap();
            let gpu = f.catalog.instance_gpu(inst).unwrap();
            let mem = inst.gpu_mem_gib().unwrap();
            let engine: Engine = c.engine;
            let d = engine.defaults(mem, gpu.arch);
            let dep = Deployment {
                placement: Placement {
                    model,
                    gpu,
                    gpu_mem_gib: mem,
                    gpus: c.gpus_per_replica.max(inst.whole_gpus()),
                    interconnect: inst.interconnect,
                    tp: c.tp,
                    pp: c.pp,
                    weights: c.precision,
                    kv: c.kv_dtype,
                },
                engine,
                limits: d.limits,
                kv_memory_fraction: d.kv_memory_fraction,
            };
            let context = (w.lengths.input_tokens.p99() + w.lengths.output_tokens.p99()) as u64;
            assert!(Replica::new(&dep, context.min(model.max_context), &f.memory).is_ok());
            // Within the SLOs at the peak (the examples' limits are p99), with enough
            // replicas for it.
            assert_eq!(w.slo.percentile, inferplan_plan::workload::Percentile::P99);
            if let Some(l) = w.slo.ttft_ms {
                assert!(
                    c.ttft_p99_ms <= l * 1.001,
                    "{file} {}: {}",
                    c.instance,
                    c.ttft_p99_ms
                );
            }
            if let Some(l) = w.slo.tpot_ms {
                assert!(
                    c.tpot_p99_ms <= l * 1.001,
                    "{file} {}: {}",
                    c.instance,
                    c.tpot_p99_ms
                );
            }
            // N+1 redundancy keeps a whole instance of spare replicas.
            let spare = if w.constraints.redundancy {
                c.replicas_per_instance
            } else {
                0
            };
            assert!(!w.constraints.redundancy || c.instances >= 2 * c.pp);
            assert!(f64::from(c.replicas - spare) * c.max_rps_per_replica >= w.peak_rps() * 0.999);
            assert!(c.utilization > 0.0 && c.utilization <= 1.0);
            assert!(
                c.purchase_mix.usd_per_hour <= c.purchase_mix.all_on_demand_usd_per_hour + 1e-9
            );
        }
    }
}

#[test]
fn a_looser_slo_never_costs_more_and_more_traffic_never_less() {
    for file in [
        "chat-70b-fp8.toml",
        "single-gpu-13b-fp8.toml",
        "fraud-scoring-small.toml",
    ] {
        let base = example(file);
        let cost = |w: &Workload| {
            let p = run(w);
            p.candidates
                .first()
                .map_or(f64::INFINITY, |c| c.usd_per_hour)
        };
        let c0 = cost(&base);
        for k in [1.2, 1.5, 2.0, 4.0] {
            let mut looser = base.clone();
            looser.slo.ttft_ms = looser.slo.ttft_ms.map(|v| v * k);
            looser.slo.tpot_ms = looser.slo.tpot_ms.map(|v| v * k);
            looser.slo.e2e_ms = looser.slo.e2e_ms.map(|v| v * k);
            assert!(cost(&looser) <= c0 + 1e-9, "{file}: ×{k} SLO costs more");
            let mut busier = base.clone();
            busier.traffic.rate_rps *= k;
            busier.traffic.peak_rps = busier.traffic.peak_rps.map(|v| v * k);
            assert!(
                cost(&busier) >= c0 - 1e-9,
                "{file}: ×{k} traffic costs less"
            );
        }
    }
}

#[test]
fn impossible_slos_give_nearest_misses() {
    let mut w = example("chat-70b-fp8.toml");
    w.slo.ttft_ms = Some(20.0);
    let p = run(&w);
    assert!(p.candidates.is_empty());
    assert!(!p.nearest_misses.is_empty());
    let m = &p.nearest_misses[0];
    assert!(m.miss.unwrap() > 1.0 && m.detail.contains("TTFT"), "{m:?}");
    assert!(p
        .nearest_misses
        .windows(2)
        .all(|x| x[0].miss.unwrap() <= x[1].miss.unwrap()));
}

#[test]
fn constraints_restrict_the_search() {
    let mut w = example("chat-70b-fp8.toml");
    w.constraints.instance_families = vec!["p5".into()];
    let p = run(&w);
    assert!(p.candidates.iter().all(|c| c.family == "p5"));
    assert!(p.rejected["family_not_allowed"] > 0);
    let mut w = example("single-gpu-13b-fp8.toml");
    w.constraints.max_gpus_per_replica = 1;
    assert!(run(&w).candidates.iter().all(|c| c.gpus_per_replica == 1));
    let w = example("regulated-isolated.toml");
    let p = run(&w);
    assert!(p
        .candidates
        .iter()
        .all(|c| ["us-east-2", "us-west-2"].contains(&c.region.as_str())));
    assert!(p.rejected.contains_key("shared_gpu_for_isolated_tenant"));
}

#[test]
fn the_endpoint_pattern_follows_the_routing_matrix() {
    use inferplan_plan::endpoint::Pattern;
    assert_eq!(
        run(&example("chat-70b-fp8.toml")).endpoint.pattern,
        Pattern::RealTime
    );
    assert_eq!(
        run(&example("async-documents.toml")).endpoint.pattern,
        Pattern::Async
    );
    assert_eq!(
        run(&example("batch-summaries.toml")).endpoint.pattern,
        Pattern::Batch
    );
    // Many customer-specific models with little traffic each: one shared endpoint.
    let mut w = example("single-gpu-13b-fp8.toml");
    w.traffic.models = 30;
    w.traffic.rate_rps = 0.05;
    w.traffic.peak_rps = None;
    let p = run(&w);
    assert_eq!(
        p.endpoint.pattern,
        Pattern::MultiModel,
        "{}",
        p.endpoint.reason
    );
    // No streaming (no TTFT limit) and minutes per request: asynchronous.
    let mut w = example("single-gpu-13b-fp8.toml");
    w.lengths.output_tokens = inferplan_plan::workload::Length::Fixed(3500);
    w.slo.tpot_ms = None;
    w.slo.e2e_ms = Some(600_000.0);
    let p = run(&w);
    assert_eq!(p.endpoint.pattern, Pattern::Async, "{}", p.endpoint.reason);
}
