//! Speed budgets of `../shared/DESIGN.md` ("Budgets"), as criterion benchmarks:
//!
//! * `estimate/closed_llama70b_fp8_h100_tp4`: one [`Replica::run`] on a prepared replica
//!   (Llama 3.3 70B, fp8 weights and KV cache, 4× H100 over NVSwitch, vLLM, 32 closed-loop
//!   clients of 1000 → 200 tokens); budget < 1 ms.
//! * `estimate/end_to_end`: [`Replica::new`] and [`Replica::run`] together, which is what one
//!   `inferplan estimate` costs past argument parsing and catalog loading; budget < 1 ms.
//! * `estimate/end_to_end_with_engine_defaults`: the same with [`Engine::defaults`], which the
//!   command also calls once; budget < 1 ms.
//! * `validate/all_measured_rows`: read, map, predict, score and report every measured
//!   throughput and latency row (`shared/data/measured/llm_throughput.csv` and
//!   `aic_silicon_sample.csv`); budget < 5 s. Skipped, with a note on stderr, where the shared
//!   data is absent.
//!
//! Run with `cargo bench -p inferplan-perf --bench perf`.

use criterion::{criterion_main, Criterion};
use inferplan_catalog::{Catalog, Dtype, Interconnect};
use inferplan_perf::measured::{read_measured, Measured};
use inferplan_perf::validation::{predict_all, prepare, report, score};
use inferplan_perf::{
    Deployment, EfficiencyTable, Engine, Load, MemoryParams, Placement, Replica, Workload,
};
use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The measured files `validate/all_measured_rows` reads, in `shared/data/measured`.
const MEASURED_FILES: [&str; 2] = ["llm_throughput.csv", "aic_silicon_sample.csv"];

/// Times one estimate: on a prepared replica, and with the replica's preparation.
fn estimate(c: &mut Criterion) {
    let catalog = Catalog::embedded().unwrap();
    let params = MemoryParams::embedded().unwrap();
    let table = EfficiencyTable::embedded().unwrap();
    let model = catalog.model("llama-3.3-70b").unwrap();
    let gpu = catalog.gpu("H100").unwrap();
    let gpu_mem_gib = gpu.memory_gib().unwrap();
    let defaults = Engine::Vllm.defaults(gpu_mem_gib, gpu.arch);
    let dep = Deployment {
        placement: Placement {
            model,
            gpu,
            gpu_mem_gib,
            gpus: 4,
            interconnect: Interconnect::NvSwitch,
            tp: 4,
            attention_dp: 1,
            pp: 1,
            weights: Dtype::Fp8,
            kv: Dtype::Fp8,
        },
        engine: Engine::Vllm,
        limits: defaults.limits,
        kv_memory_fraction: defaults.kv_memory_fraction,
    };
    let w = Workload {
        input_tokens: 1000,
        output_tokens: 200,
        load: Load::Closed { concurrency: 32 },
    };
    let context = w.input_tokens + w.output_tokens;
    let eff = &table.lookup(gpu.arch, Engine::Vllm, Dtype::Fp8).eff;
    let replica = Replica::new(&dep, context, &params).unwrap();

    let mut g = c.benchmark_group("estimate");
    g.bench_function("closed_llama70b_fp8_h100_tp4", |b| {
        b.iter(|| black_box(&replica).run(black_box(&w), black_box(eff)));
    });
    g.bench_function("end_to_end", |b| {
        b.iter(|| {
            let r = Replica::new(black_box(&dep), black_box(context), &params).unwrap();
            r.run(black_box(&w), black_box(eff))
        });
    });
    g.bench_function("end_to_end_with_engine_defaults", |b| {
        b.iter(|| {
            let defaults = Engine::Vllm.defaults(black_box(gpu_mem_gib), gpu.arch);
            let d = Deployment {
                limits: defaults.limits,
                kv_memory_fraction: defaults.kv_memory_fraction,
                ..dep.clone()
            };
            let r = Replica::new(&d, black_box(context), &params).unwrap();
            r.run(black_box(&w), black_box(eff))
        });
    });
    g.finish();
}

/// `shared/data/measured`, beside the workspace.
fn measured_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/measured")
}

/// Times `validate` over every measured throughput and latency row, from the files' text.
#[allow(clippy::print_stderr)] // the only way to say why the benchmark did not run
fn validate(c: &mut Criterion) {
    let dir = measured_dir();
    let mut texts = Vec::new();
    for name in MEASURED_FILES {
        let path = dir.join(name);
        match std::fs::read_to_string(&path) {
            Ok(text) => texts.push((path.display().to_string(), text)),
            Err(e) => {
                eprintln!(
                    "validate/all_measured_rows skipped: cannot read {}: {e}",
                    path.display()
                );
                return;
            }
        }
    }
    let catalog = Catalog::embedded().unwrap();
    let params = MemoryParams::embedded().unwrap();
    let table = EfficiencyTable::embedded().unwrap();

    let mut g = c.benchmark_group("validate");
    // About a second an iteration: ten samples, and time enough for them without a warning.
    g.sample_size(10);
    g.measurement_time(Duration::from_secs(12));
    g.bench_function("all_measured_rows", |b| {
        b.iter(|| {
            let mut measured = Measured::default();
            for (origin, text) in &texts {
                let m = read_measured(black_box(text), origin).unwrap();
                measured.observations.extend(m.observations);
                measured.skipped.extend(m.skipped);
            }
            let (cases, skipped) = prepare(measured, &catalog, &params);
            let predicted = predict_all(&cases, &table);
            let scored = score(&cases, &predicted);
            report(&scored, &skipped, 15)
        });
    });
    g.finish();
}

/// Every benchmark of this file, configured from the command line (what `criterion_group!`
/// would generate, with a doc comment for the `missing_docs` lint).
fn benches() {
    let mut c = Criterion::default().configure_from_args();
    estimate(&mut c);
    validate(&mut c);
}

criterion_main!(benches);
