//! Integration tests of the performance crate: the memory budget on known cases, hand-computed
//! numbers, refusals, properties, and the comparison with measured vLLM startups.

use inferplan_catalog::table::Table;
use inferplan_catalog::{hf_config, Catalog, Dtype, Interconnect};
use inferplan_perf::memory::{kv_bytes_per_sequence_per_gpu, weight_bytes};
use inferplan_perf::memory_validation::validate_memory;
use inferplan_perf::{fit, EngineLimits, FitInput, FitReport, MemoryParams, PerfError};
use proptest::prelude::*;

const GIB: f64 = 1024.0 * 1024.0 * 1024.0;

fn catalog() -> &'static Catalog {
    static CATALOG: std::sync::OnceLock<Catalog> = std::sync::OnceLock::new();
    CATALOG.get_or_init(|| Catalog::embedded().unwrap())
}

struct Case<'a> {
    model: &'a str,
    weights: Dtype,
    kv: Dtype,
    instance: &'a str,
    context: u64,
    concurrency: u64,
}

fn run(c: &Catalog, k: &Case<'_>) -> Result<FitReport, PerfError> {
    let inst = c.instance(k.instance).unwrap();
    let gpu = c.instance_gpu(inst).unwrap();
    let mem = inst.gpu_mem_gib().unwrap();
    let input = FitInput {
        model: c.model(k.model).unwrap(),
        gpu,
        gpu_mem_gib: mem,
        gpus: inst.whole_gpus(),
        interconnect: inst.interconnect,
        tp: inst.whole_gpus(),
        pp: 1,
        weights: k.weights,
        kv: k.kv,
        context: k.context,
        concurrency: k.concurrency,
        gpu_memory_utilization: 0.9,
        safety_margin: 1.2,
        engine: EngineLimits::vllm_default(mem, gpu.arch),
    };
    fit(&input, &MemoryParams::embedded().unwrap())
}

#[test]
fn known_cases() {
    let c = catalog();
    let l70 = |instance, concurrency| Case {
        model: "llama-3.3-70b",
        weights: Dtype::Fp8,
        kv: Dtype::Fp8,
        instance,
        context: 8192,
        concurrency,
    };
    let one = run(c, &l70("g6e.xlarge", 1)).unwrap();
    assert!(!one.fits && !one.engine_fits);
    assert!(
        one.weights_gib > 65.0 && one.weights_gib < 70.0,
        "{}",
        one.weights_gib
    );
    for inst in ["g6e.12xlarge", "g7e.12xlarge"] {
        let r = run(c, &l70(inst, 16)).unwrap();
        assert!(r.fits && r.engine_fits, "{inst}: {r:?}");
        assert!(r.max_concurrency >= 16 && r.max_context >= 8192, "{inst}");
    }
    let r = run(
        c,
        &Case {
            model: "llama-3.1-8b",
            weights: Dtype::Bf16,
            kv: Dtype::Bf16,
            instance: "g5.xlarge",
            context: 4096,
            concurrency: 1,
        },
    )
    .unwrap();
    assert!(r.fits && r.engine_fits, "{r:?}");
    assert!((r.weights_gib - 14.96).abs() < 0.05, "{}", r.weights_gib);
    let r = run(
        c,
        &Case {
            model: "llama-3.1-405b",
            weights: Dtype::Bf16,
            kv: Dtype::Bf16,
            instance: "p5.48xlarge",
            context: 8192,
            concurrency: 1,
        },
    )
    .unwrap();
    assert!(!r.fits && r.weights_gib_per_gpu > 80.0);
}

/// A tiny dense model computed by hand.
#[test]
fn hand_computed_budget() {
    let m = hf_config::parse(
        r#"{"model_type":"llama","num_hidden_layers":2,"hidden_size":1024,"intermediate_size":4096,
            "num_attention_heads":8,"num_key_value_heads":2,"vocab_size":32000,"max_position_embeddings":4096}"#,
        "tiny.json",
        "tiny",
    )
    .unwrap();
    // attention per layer: q 1024² + k,v 2·1024·256 + o 1024² = 2,621,440; mlp 3·1024·4096 =
    // 12,582,912; norms 2·1024; embedding and head 2·32000·1024; final norm 1024.
    let total = 2.0 * (2_621_440.0 + 12_582_912.0 + 2048.0) + 2.0 * 32_000.0 * 1024.0 + 1024.0;
    assert_eq!(m.params().total, total);
    let (w, per_gpu) = weight_bytes(&m, Dtype::Bf16, 1, 1);
    assert_eq!(w, 2.0 * total);
    assert_eq!(per_gpu, w);
    // TP 2 halves everything but the norms.
    let (_, half) = weight_bytes(&m, Dtype::Bf16, 2, 1);
    assert!(
        (half - (w - 2.0 * 5.0 * 1024.0) / 2.0 - 2.0 * 5.0 * 1024.0).abs() < 1.0,
        "{half}"
    );
    // FP8 quantizes the block weights, not the embeddings.
    let (w8, _) = weight_bytes(&m, Dtype::Fp8, 1, 1);
    assert_eq!(
        w8,
        2.0 * (2_621_440.0 + 12_582_912.0) + 2.0 * (2.0 * 32_000.0 * 1024.0 + 5.0 * 1024.0)
    );
    // KV: 2 layers × 2 heads × (128 + 128) × 2 bytes per token; 100 tokens round up to 112.
    assert_eq!(
        kv_bytes_per_sequence_per_gpu(&m, Dtype::Bf16, 1, 1, 100, 16),
        112.0 * 2048.0
    );
    // TP 4 > 2 KV heads: each rank keeps one head.
    assert_eq!(
        kv_bytes_per_sequence_per_gpu(&m, Dtype::Bf16, 4, 1, 16, 16),
        16.0 * 1024.0
    );
}

#[test]
fn refusals_name_the_input() {
    let c = catalog();
    let m = c.model("llama-3.1-8b").unwrap();
    let gpu = c.gpu("A10G").unwrap();
    let base = FitInput {
        model: m,
        gpu,
        gpu_mem_gib: 22.35,
        gpus: 4,
        interconnect: Interconnect::Pcie,
        tp: 4,
        pp: 1,
        weights: Dtype::Bf16,
        kv: Dtype::Bf16,
        context: 4096,
        concurrency: 1,
        gpu_memory_utilization: 0.9,
        safety_margin: 1.2,
        engine: EngineLimits::vllm_default(22.35, gpu.arch),
    };
    let p = MemoryParams::embedded().unwrap();
    let field = |i: &FitInput<'_>| match fit(i, &p) {
        Err(PerfError::Refused { field, .. }) => field,
        other => panic!("{other:?}"),
    };
    assert_eq!(
        field(&FitInput {
            tp: 8,
            ..base.clone()
        }),
        "tp"
    );
    assert_eq!(
        field(&FitInput {
            tp: 3,
            gpus: 3,
            ..base.clone()
        }),
        "tp"
    );
    assert_eq!(
        field(&FitInput {
            context: 1 << 20,
            ..base.clone()
        }),
        "context"
    );
    assert_eq!(
        field(&FitInput {
            gpu_memory_utilization: 1.5,
            ..base.clone()
        }),
        "gpu_memory_utilization"
    );
    let t4 = c.gpu("T4").unwrap();
    assert_eq!(
        field(&FitInput {
            gpu: t4,
            weights: Dtype::Fp8,
            ..base.clone()
        }),
        "precision"
    );
    // FP8 on Ampere runs weight-only: a warning, not a refusal.
    let r = fit(
        &FitInput {
            weights: Dtype::Fp8,
            ..base.clone()
        },
        &p,
    )
    .unwrap();
    assert!(
        r.warnings.iter().any(|w| w.contains("weight-only")),
        "{:?}",
        r.warnings
    );
}

#[test]
fn measured_vllm_startups_meet_the_targets() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/data/measured/vllm_memory.csv"
    );
    let Ok(text) = std::fs::read_to_string(path) else {
        panic!("{path} is needed: CI runs with ../shared beside the repository");
    };
    let t = Table::parse(&text, "vllm_memory.csv").unwrap();
    let v = validate_memory(&t, catalog(), &MemoryParams::embedded().unwrap()).unwrap();
    assert!(v.rows_evaluated >= 45, "{}", v.rows_evaluated);
    let w = &v.by_component["weights_gib"];
    let kv = &v.by_component["kv_cache_gib"];
    // Targets: weights within 2 %, KV cache within 1.5 GiB or 10 %, on nine rows in ten.
    assert!(w.within_target * 10 >= w.n * 9, "{w:?}");
    assert!(kv.within_target * 10 >= kv.n * 9, "{kv:?}");
    assert!(w.median_ape < 1.0 && kv.median_abs < 0.5);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn more_memory_never_hurts(extra in 0.0f64..200.0, context in 1u64..32768, concurrency in 1u64..64) {
        let c = catalog();
        let m = c.model("qwen3-8b").unwrap();
        let gpu = c.gpu("H100").unwrap();
        let mk = |mem: f64| FitInput {
            model: m, gpu, gpu_mem_gib: mem, gpus: 1, interconnect: Interconnect::Single, tp: 1, pp: 1,
            weights: Dtype::Bf16, kv: Dtype::Bf16, context, concurrency, gpu_memory_utilization: 0.9,
            safety_margin: 1.2, engine: EngineLimits::vllm_default(80.0, gpu.arch),
        };
        let p = MemoryParams::embedded().unwrap();
        let a = fit(&mk(40.0), &p).unwrap();
        let b = fit(&mk(40.0 + extra), &p).unwrap();
        prop_assert!(b.max_concurrency >= a.max_concurrency);
        prop_assert!(b.max_context >= a.max_context);
        prop_assert!(b.engine_max_concurrency >= a.engine_max_concurrency);
        prop_assert!(!a.fits || b.fits);
        prop_assert!((a.required_gib_per_gpu - b.required_gib_per_gpu).abs() < 1e-9);
        // More sequences need more memory.
        let more = fit(&FitInput { concurrency: concurrency + 1, ..mk(40.0) }, &p).unwrap();
        prop_assert!(more.required_gib_per_gpu > a.required_gib_per_gpu);
        prop_assert!(a.kv_cache_gib_per_gpu * GIB >= 0.0);
    }

    #[test]
    fn wider_tp_holds_less_per_gpu(tp_pow in 0u32..4) {
        let c = catalog();
        let m = c.model("llama-3.1-70b").unwrap();
        let tp = 1u32 << tp_pow;
        let (_, a) = weight_bytes(m, Dtype::Bf16, tp, 1);
        let (_, b) = weight_bytes(m, Dtype::Bf16, tp * 2, 1);
        prop_assert!(b < a);
        let sa = kv_bytes_per_sequence_per_gpu(m, Dtype::Bf16, tp, 1, 4096, 16);
        let sb = kv_bytes_per_sequence_per_gpu(m, Dtype::Bf16, tp * 2, 1, 4096, 16);
        prop_assert!(sb <= sa);
    }
}
