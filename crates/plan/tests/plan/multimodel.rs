//! Many models: each pattern priced on fixture workloads, tied to the single-model planner.

use crate::planner::inputs;
use inferplan_plan::multimodel::{
    aggregate, compare, lora, mig, per_model, pool, MultiModel, MultiPattern, PatternCost,
};
use inferplan_plan::{plan, PlanError, Workload};

/// Thirty fine-tunes of an 8B model at 0.05 req/s each.
const MANY: &str = r#"
name = "many"
[model]
name = "Llama 3.1 8B"
precision = "fp8"
[traffic]
rate_rps = 0.05
models = 30
[lengths]
input_tokens = 1000
output_tokens = 200
[slo]
ttft_ms = 1000.0
tpot_ms = 60.0
"#;

fn workload(text: &str) -> Workload {
    let w = Workload::from_toml(text, "many.toml").unwrap();
    w.validate().unwrap();
    w
}

fn compared(text: &str) -> MultiModel {
    compare(&inputs(), &workload(text)).unwrap().unwrap()
}

fn pattern(m: &MultiModel, p: MultiPattern) -> &PatternCost {
    m.patterns.iter().find(|c| c.pattern == p).unwrap()
}

/// An instance type with whole GPUs (not a fractional g6f).
fn whole(instance: &str) -> bool {
    crate::support::catalog()
        .instance(instance)
        .is_ok_and(|i| i.gpu_count >= 1.0)
}

fn with_adapters(text: &str) -> String {
    text.replace(
        "precision = \"fp8\"\n",
        "precision = \"fp8\"\n[model.adapters]\nrank = 16\n",
    )
}

#[test]
fn one_model_has_no_comparison() {
    let w = workload(&MANY.replace("models = 30", "models = 1"));
    assert!(compare(&inputs(), &w).unwrap().is_none());
}

#[test]
fn five_patterns_in_order_and_one_winner() {
    let m = compared(&with_adapters(MANY));
    let order: Vec<_> = m.patterns.iter().map(|p| p.pattern).collect();
    assert_eq!(order, MultiPattern::ALL.to_vec());
    assert_eq!(m.patterns.iter().filter(|p| p.wins).count(), 1);
    let winner = m.patterns.iter().find(|p| p.wins).unwrap();
    assert_eq!(Some(winner.pattern), m.cheapest);
    for p in &m.patterns {
        let (Some(u), Some(best)) = (p.usd_per_hour, winner.usd_per_hour) else {
            continue;
        };
        assert!(u >= best, "{p:?} is cheaper than the winner");
        assert!(!p.reason.is_empty());
    }
    assert!((m.total_rate_rps - 1.5).abs() < 1e-9);
}

/// Dedicated endpoints cost the sum of the single-model plans (their cheapest whole-GPU option),
/// each with its own N+1 spare.
#[test]
fn dedicated_is_the_sum_of_single_model_plans() {
    let text = MANY.replace("[slo]", "[constraints]\nredundancy = true\n[slo]");
    let w = workload(&text);
    let m = compare(&inputs(), &w).unwrap().unwrap();
    let single = plan(&inputs(), &per_model(&w, 0.05)).unwrap();
    let best = single
        .candidates
        .iter()
        .find(|c| whole(&c.instance))
        .unwrap();
    let d = pattern(&m, MultiPattern::Dedicated);
    let expected = 30.0 * best.usd_per_hour;
    assert!(
        (d.usd_per_hour.unwrap() - expected).abs() < 1e-6 * expected,
        "{d:?} vs 30 × {}",
        best.usd_per_hour
    );
    assert_eq!(d.instances, Some(30 * best.instances));
    // N+1: every model's endpoint has a spare replica.
    assert!(best.replicas >= 2, "{best:?}");

    // Per-model rates: the sum over the models' own plans.
    let rates: Vec<String> = (0..30)
        .map(|i| if i < 10 { "0.1" } else { "0.025" }.to_owned())
        .collect();
    let uneven = text.replace(
        "models = 30",
        &format!("models = 30\nmodel_rates_rps = [{}]", rates.join(", ")),
    );
    let w = workload(&uneven);
    let m = compare(&inputs(), &w).unwrap().unwrap();
    let cost = |rate: f64| {
        plan(&inputs(), &per_model(&w, rate))
            .unwrap()
            .candidates
            .iter()
            .find(|c| whole(&c.instance))
            .unwrap()
            .usd_per_hour
    };
    let expected = 10.0 * cost(0.1) + 20.0 * cost(0.025);
    let got = pattern(&m, MultiPattern::Dedicated).usd_per_hour.unwrap();
    assert!(
        (got - expected).abs() < 1e-6 * expected,
        "{got} vs {expected}"
    );
}

/// Models that share a base at low rates: one base with adapters beats an endpoint per model.
#[test]
fn lora_wins_when_models_share_a_base_and_rates_are_low() {
    let m = compared(&with_adapters(MANY));
    assert_eq!(m.cheapest, Some(MultiPattern::MultiLora), "{m:#?}");
    let l = pattern(&m, MultiPattern::MultiLora);
    assert!(l.deployment.contains("--max-loras 30"), "{l:?}");
    assert!(l.reason.contains("throughput lost"), "{l:?}");
    let d = pattern(&m, MultiPattern::Dedicated);
    assert!(d.usd_per_hour.unwrap() > 3.0 * l.usd_per_hour.unwrap());
    assert!(d.reason.contains("more than multi-LoRA"), "{d:?}");

    // Without adapters the models are full fine-tunes: multi-LoRA is not priced.
    let m = compared(MANY);
    let l = pattern(&m, MultiPattern::MultiLora);
    assert_eq!(l.usd_per_hour, None);
    assert!(l.reason.contains("full fine-tunes"), "{l:?}");
    assert_ne!(m.cheapest, Some(MultiPattern::MultiLora));
}

/// Multi-LoRA is the single plan of the summed rate, raised by the published throughput cost.
#[test]
fn lora_is_the_summed_plan_with_the_penalty() {
    let w = workload(&with_adapters(MANY));
    let m = compare(&inputs(), &w).unwrap().unwrap();
    let penalty = lora::penalty(inferplan_perf::Engine::Vllm, 16).unwrap();
    assert!(
        penalty.fraction > 0.0 && penalty.fraction < 0.5,
        "{penalty:?}"
    );
    assert!(!penalty.assumed);
    let summed = plan(&inputs(), &aggregate(&w, 1.0 / (1.0 - penalty.fraction))).unwrap();
    assert!((summed.workload.traffic.rate_rps - 1.5 / (1.0 - penalty.fraction)).abs() < 1e-9);
    assert_eq!(
        pattern(&m, MultiPattern::MultiLora).usd_per_hour,
        Some(summed.candidates[0].usd_per_hour)
    );
    // An engine without a measurement takes vLLM's, said to be an assumption.
    let sglang = lora::penalty(inferplan_perf::Engine::Sglang, 16).unwrap();
    assert!(sglang.assumed && sglang.basis.contains("assumption"));
    assert_eq!(sglang.fraction, penalty.fraction);
    // A rank-256 measurement applies from rank 256 on: more throughput lost.
    let big = lora::penalty(inferplan_perf::Engine::Vllm, 256).unwrap();
    assert!(big.fraction > penalty.fraction, "{big:?} vs {penalty:?}");
    assert!(
        lora::penalty(inferplan_perf::Engine::Vllm, 255)
            .unwrap()
            .fraction
            == penalty.fraction
    );
}

/// Adapter size: `rank × Σ (in + out)` over the adapted projections, 16-bit.
#[test]
fn adapter_memory_follows_the_architecture() {
    let c = crate::support::catalog();
    let m = c.model("Llama 3.1 8B").unwrap();
    // Llama 3.1 8B: hidden 4096, 32 heads and 8 KV heads of 128, MLP 14336, 32 layers.
    // Attention: (4096 + 4096) + 2 × (4096 + 1024) + (4096 + 4096) = 26624; MLP 3 × 18432.
    let per_layer = 26624.0 + 3.0 * 18432.0;
    assert_eq!(
        lora::adapter_params(m, 16, "all-linear"),
        16.0 * per_layer * 32.0
    );
    assert_eq!(
        lora::adapter_params(m, 8, "attention"),
        8.0 * 26624.0 * 32.0
    );
    let mib = lora::adapter_gib(m, 16, "all-linear") * 1024.0;
    assert!((mib - 80.0).abs() < 0.1, "{mib} MiB");
}

/// MIG slices exist only for GPUs the catalog marks MIG-capable, and are priced at their share.
#[test]
fn mig_is_offered_only_on_mig_capable_gpus() {
    let c = crate::support::catalog();
    let profiles = mig::profiles().unwrap();
    for p in &profiles {
        let g = c.gpu(&p.gpu).unwrap();
        assert!(g.mig_max_instances.is_some(), "{} has no MIG", p.gpu);
        assert!(p.max_instances <= g.mig_max_instances.unwrap() as u32);
    }
    let (derived, slices) = mig::with_slices(c).unwrap();
    assert!(!slices.is_empty());
    for s in &slices {
        let parent = c.instance(&s.parent).unwrap();
        let gpu = c.instance_gpu(parent).unwrap();
        assert!(gpu.mig_max_instances.is_some(), "{} sliced", parent.name);
        let slice = derived.instance(&s.name).unwrap();
        for price in &parent.prices {
            let whole = price.on_demand_usd_hr;
            let share = slice
                .on_demand(&price.region)
                .map(|p| p * f64::from(s.per_instance));
            assert_eq!(whole.is_some(), share.is_some(), "{}", s.name);
            if let (Some(a), Some(b)) = (whole, share) {
                assert!((a - b).abs() < 1e-9 * a, "{} in {}", s.name, price.region);
            }
        }
        let sg = derived.instance_gpu(slice).unwrap();
        assert!(
            (sg.memory_gib().unwrap() - gpu.memory_gib().unwrap() * s.profile.memory_fraction)
                .abs()
                < 1e-9
        );
    }
    // No slice of a GPU without MIG (L4, L40S, A10G).
    assert!(
        slices.iter().all(|s| !s.parent.starts_with("g")),
        "{slices:?}"
    );

    // Families without MIG-capable GPUs: no MIG option, and the reason says so.
    let m = compared(&MANY.replace(
        "[slo]",
        "[constraints]\ninstance_families = [\"g6\", \"g6e\"]\n[slo]",
    ));
    let p = pattern(&m, MultiPattern::MigSlices);
    assert_eq!(p.usd_per_hour, None);
    assert!(p.reason.contains("no MIG-capable instance"), "{p:?}");

    // With them: whole instances bought, at least the slice shares.
    let m = compared(MANY);
    let p = pattern(&m, MultiPattern::MigSlices);
    assert!(p.usd_per_hour.is_some(), "{p:?}");
    assert!(p.instances.unwrap() >= 1);

    // N+1 on slices: two models' four slices would fit one instance, but each model's two
    // slices sit on different instances.
    let two = MANY
        .replace("models = 30", "models = 2")
        .replace("[slo]", "[constraints]\nredundancy = true\n[slo]");
    let m = compared(&two);
    let p = pattern(&m, MultiPattern::MigSlices);
    assert_eq!(p.instances, Some(2), "{p:?}");
}

/// Adapters beyond half the memory left after the weights wait in CPU memory.
#[test]
fn large_adapters_wait_in_cpu_memory() {
    let text = with_adapters(MANY)
        .replace("rank = 16", "rank = 128")
        .replace("models = 30", "models = 200")
        .replace("rate_rps = 0.05", "rate_rps = 0.005");
    let m = compared(&text);
    let l = pattern(&m, MultiPattern::MultiLora);
    assert!(l.deployment.contains("--max-cpu-loras 200"), "{l:?}");
    assert!(l.reason.contains("wait in CPU memory"), "{l:?}");
}

/// The pool keeps every model resident when a swap breaks the SLO at its percentile, and
/// swaps when the percentile allows it.
#[test]
fn the_pool_swaps_only_what_the_slo_allows() {
    let rates = vec![0.05; 30];
    // p99 and a 100 s swap: nothing may miss, so all 30 stay resident.
    let r = pool::size(&rates, 1.5, 2, 100.0, 0.01, false);
    assert_eq!((r.resident, r.miss_probability, r.replicas), (30, 0.0, 30));
    // A median SLO lets half the requests miss: 15 resident, the misses keep replicas busy.
    let r = pool::size(&rates, 1.5, 2, 10.0, 0.5, false);
    assert!(
        r.resident <= 15 && r.miss_probability <= 0.5 + 1e-12,
        "{r:?}"
    );
    assert!(r.replicas < 30, "{r:?}");
    // Skewed traffic: one model with 90 % of the requests is kept, the rest may swap at p90.
    let mut skewed = vec![0.9];
    skewed.extend(std::iter::repeat_n(0.1 / 29.0, 29));
    let r = pool::size(&skewed, 1.0, 1, 1.0, 0.1, false);
    assert_eq!(r.resident, 1, "{r:?}");
    assert!(r.replicas < 5, "{r:?}");

    // Interactive p99 chat: the pool costs at least one replica per model.
    let m = compared(MANY);
    let p = pattern(&m, MultiPattern::SharedPool);
    assert!(p.instances.unwrap() >= 30, "{p:?}");
    assert!(p.reason.contains("stay resident"), "{p:?}");

    // Batch work waits for swaps: with a request per model every 1000 s, swapping 98 s
    // keeps fewer replicas busy than one per model.
    let m = compared(
        &MANY
            .replace("ttft_ms = 1000.0\ntpot_ms = 60.0", "mode = \"batch\"")
            .replace("rate_rps = 0.05", "rate_rps = 0.001"),
    );
    let p = pattern(&m, MultiPattern::SharedPool);
    assert!(p.instances.unwrap() < 30, "{p:?}");
    assert!(p.reason.contains("which the SLO allows"), "{p:?}");
    // At 0.05 req/s a model is asked again before its swap ends: swapping costs more
    // replicas than keeping every model resident.
    let m = compared(&MANY.replace("ttft_ms = 1000.0\ntpot_ms = 60.0", "mode = \"batch\""));
    let p = pattern(&m, MultiPattern::SharedPool);
    assert!(p.reason.contains("30 resident"), "{p:?}");
}

#[test]
fn bad_multi_model_fields_are_located_errors() {
    let located = |text: &str| -> PlanError {
        let w = Workload::from_toml(text, "w.toml").unwrap();
        w.validate().unwrap_err().locate("w.toml", text)
    };
    let e = located(&MANY.replace("models = 30", "models = 30\nmodel_rates_rps = [0.05, 0.05]"));
    assert_eq!(e.field(), Some("traffic.model_rates_rps"), "{e}");
    assert!(e.to_string().contains("2 rates for the 30 models"), "{e}");
    assert_eq!(e.line(), Some(9), "{e}");

    let e = located(&MANY.replace("models = 30", "models = 2\nmodel_rates_rps = [0.05, -1]"));
    assert_eq!(e.field(), Some("traffic.model_rates_rps[1]"), "{e}");

    let e = located(&MANY.replace("models = 30", "models = 2\nmodel_rates_rps = [0.05, 0.5]"));
    assert!(e.to_string().contains("mean of the per-model rates"), "{e}");

    let e = located(&MANY.replace("models = 30", "models = 0"));
    assert_eq!(e.field(), Some("traffic.models"), "{e}");
    assert_eq!(e.line(), Some(8), "{e}");

    let e = located(&MANY.replace("models = 30", "models = 5000"));
    assert_eq!(e.field(), Some("traffic.models"), "{e}");

    let adapters = with_adapters(MANY);
    let e = located(&adapters.replace("rank = 16", "rank = 0"));
    assert_eq!(e.field(), Some("model.adapters.rank"), "{e}");
    assert_eq!(e.line(), Some(7), "{e}");

    let e = located(&adapters.replace("rank = 16", "rank = 16\ntargets = \"mlp\""));
    assert_eq!(e.field(), Some("model.adapters.targets"), "{e}");

    let e = Workload::from_toml(
        &adapters.replace("rank = 16", "rank = 16\nalpha = 32"),
        "w.toml",
    )
    .unwrap_err();
    assert!(e.line().is_some() && e.to_string().contains("alpha"), "{e}");
}

/// The plan JSON with the comparison reads back byte for byte; without it, no key is written.
#[test]
fn the_comparison_round_trips_in_the_plan_json() {
    use inferplan_plan::contract::PlanJson;
    let w = workload(&with_adapters(MANY));
    let p = plan(&inputs(), &w).unwrap();
    let json = PlanJson {
        multi_model: compare(&inputs(), &w).unwrap(),
        ..PlanJson::new(&p, 3)
    };
    let written = serde_json::to_string_pretty(&json).unwrap();
    let read: PlanJson = serde_json::from_str(&written).unwrap();
    assert_eq!(read, json);
    assert_eq!(serde_json::to_string_pretty(&read).unwrap(), written);
    let bare = serde_json::to_value(PlanJson::new(&p, 3)).unwrap();
    assert!(bare.get("multi_model").is_none());
    assert!(serde_json::to_value(&json)
        .unwrap()
        .get("multi_model")
        .is_some());
}
