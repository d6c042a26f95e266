//! AWS Neuron chips: the Neuron stack's memory rule, which engines run there, sequence
//! buckets, and the published Neuron rows scored against the model.

use crate::support::{catalog, repo};
use inferplan_catalog::{Arch, Dtype, Interconnect};
use inferplan_perf::efficiency::EfficiencyTable;
use inferplan_perf::measured::read_measured;
use inferplan_perf::step::{Efficiency, KernelScale};
use inferplan_perf::validation::{predict_all, prepare, report, score};
use inferplan_perf::{
    fit, Deployment, Engine, FitInput, Load, MemoryParams, PerfError, Placement, Replica, Workload,
};

fn placement<'a>(model: &str, gpu: &str, tp: u32, gpus: u32) -> Placement<'a> {
    let c = catalog();
    let gpu = c.gpu(gpu).unwrap();
    Placement {
        model: c.model(model).unwrap(),
        gpu,
        gpu_mem_gib: gpu.memory_gib().unwrap(),
        gpus,
        interconnect: if tp > 1 {
            Interconnect::NeuronLink
        } else {
            Interconnect::Single
        },
        tp,
        attention_dp: 1,
        pp: 1,
        weights: Dtype::Bf16,
        kv: Dtype::Bf16,
    }
}

#[test]
fn neuron_memory_is_weights_and_a_compiled_kv_cache() {
    let p = placement("llama-3.1-8b", "Inferentia2", 1, 1);
    let d = Engine::Vllm.defaults(p.gpu_mem_gib, Arch::Neuron);
    assert_eq!(d.kv_memory_fraction, 1.0);
    let r = fit(
        &FitInput {
            placement: p,
            context: 4096,
            concurrency: 4,
            gpu_memory_utilization: d.kv_memory_fraction,
            safety_margin: 1.0,
            engine: d.limits,
        },
        &MemoryParams::embedded().unwrap(),
    )
    .unwrap();
    assert_eq!(r.activations_gib_per_gpu, 0.0);
    assert_eq!(r.runtime_overhead_gib_per_gpu, 0.0);
    // 8.03 B parameters in BF16 (embeddings and head included) on one 32 GiB chip.
    assert!(
        r.weights_gib_per_gpu > 14.5 && r.weights_gib_per_gpu < 15.5,
        "{r:?}"
    );
    // Everything but the weights holds KV cache: 128 KiB per token for Llama 3.1 8B.
    let kv = 32.0 - r.weights_gib_per_gpu;
    assert!((r.engine_kv_cache_gib_per_gpu - kv).abs() < 1e-6, "{r:?}");
    assert!((r.kv_cache_gib_per_gpu - 4.0 * 4096.0 * 131072.0 / 1073741824.0).abs() < 0.01);
    assert!(r.warnings.iter().any(|w| w.starts_with("Neuron:")), "{r:?}");
}

#[test]
fn neuron_pads_heads_so_any_tp_runs_there_but_not_on_a_gpu() {
    // TP 12 over the 32 heads of Llama 3.1 8B: AWS runs it on inf2.48xlarge (TP 24 cores).
    let input = |gpu: &str| {
        let p = placement("llama-3.1-8b", gpu, 12, 12);
        FitInput {
            placement: p,
            context: 4096,
            concurrency: 1,
            gpu_memory_utilization: 0.9,
            safety_margin: 1.0,
            engine: Engine::Vllm.defaults(32.0, Arch::Neuron).limits,
        }
    };
    let params = MemoryParams::embedded().unwrap();
    assert!(fit(&input("Inferentia2"), &params).is_ok());
    let e = fit(&input("H100"), &params).unwrap_err();
    assert!(matches!(e, PerfError::Refused { field: "tp", .. }), "{e}");
}

#[test]
fn the_neuron_stack_serves_only_what_nxd_inference_lists() {
    let replica = |model: &str, engine: Engine| {
        let p = placement(model, "Inferentia2", 1, 1);
        let d = engine.defaults(p.gpu_mem_gib, p.gpu.arch);
        Replica::new(
            &Deployment {
                placement: p,
                engine,
                limits: d.limits,
                kv_memory_fraction: d.kv_memory_fraction,
            },
            2048,
            &MemoryParams::embedded().unwrap(),
        )
    };
    assert!(replica("llama-3.1-8b", Engine::Vllm).is_ok());
    assert!(replica("qwen3-8b", Engine::Neuron).is_ok());
    for (model, engine) in [
        ("gemma-2-9b", Engine::Vllm),
        ("llama-3.1-8b", Engine::Sglang),
    ] {
        let e = replica(model, engine).unwrap_err();
        assert!(
            matches!(
                e,
                PerfError::Refused {
                    field: "engine",
                    ..
                }
            ),
            "{model} {engine}: {e}"
        );
    }
}

#[test]
fn neuron_chips_say_their_cores() {
    let c = catalog();
    assert_eq!(c.gpu("Inferentia2").unwrap().cores_per_chip(), Some(2));
    assert_eq!(c.gpu("Trainium").unwrap().cores_per_chip(), Some(2));
    assert_eq!(c.gpu("Trainium2").unwrap().cores_per_chip(), Some(8));
    assert_eq!(c.gpu("H100").unwrap().cores_per_chip(), None);
}

#[test]
fn only_vllm_and_the_neuron_runtime_run_on_neuron_chips() {
    for e in [
        Engine::Sglang,
        Engine::Trtllm,
        Engine::Tgi,
        Engine::Lmdeploy,
    ] {
        assert!(!e.runs_on(Arch::Neuron), "{e}");
    }
    assert!(Engine::Vllm.runs_on(Arch::Neuron) && Engine::Neuron.runs_on(Arch::Neuron));
    assert!(!Engine::Neuron.runs_on(Arch::Hopper));
    assert_eq!(
        Engine::from_text("Transformers NeuronX"),
        Some(Engine::Neuron)
    );
    assert_eq!(
        Engine::from_text("vLLM (Neuron backend, NxD Inference)"),
        Some(Engine::Vllm)
    );
}

#[test]
fn a_neuron_prompt_runs_padded_to_its_bucket() {
    let eff = Efficiency {
        bandwidth: 0.6,
        compute: 0.5,
        comm: 0.3,
        step_overhead_s: 0.0,
        request_overhead_s: 0.0,
        stream_overhead_s: 0.0,
        seq_overhead_s: 0.0,
        clump_exponent: 0.0,
        prefill_clump_exponent: 1.0,
        eager_layer_s: 0.0,
        kernel: KernelScale::ONE,
    };
    let ttft = |gpu: &str, input: u64| {
        let p = placement("llama-3.1-8b", gpu, 1, 1);
        let d = Engine::Vllm.defaults(p.gpu_mem_gib, p.gpu.arch);
        let r = Replica::new(
            &Deployment {
                placement: p,
                engine: Engine::Vllm,
                limits: d.limits,
                kv_memory_fraction: d.kv_memory_fraction,
            },
            8192,
            &MemoryParams::embedded().unwrap(),
        )
        .unwrap();
        let w = Workload {
            input_tokens: input,
            output_tokens: 64,
            load: Load::Static { batch: 1 },
        };
        r.run(&w, &eff)
    };
    // 3000 and 4096 prompt tokens both run in the 4096 bucket on Inferentia2 ...
    let (a, b) = (ttft("Inferentia2", 3000), ttft("Inferentia2", 4096));
    assert!((a.ttft_ms - b.ttft_ms).abs() < 1e-9, "{a:?} {b:?}");
    // ... but only the real prompt counts as served tokens.
    assert!(a.total_tok_s < b.total_tok_s);
    // A GPU runs the prompt it is given.
    let (a, b) = (ttft("L4", 3000), ttft("L4", 4096));
    assert!(a.ttft_ms < b.ttft_ms * 0.9, "{a:?} {b:?}");
}

/// The published Neuron tables (data/measured/neuron_llm.csv) against the embedded
/// efficiencies: the figure VALIDATION.md states.
#[test]
fn neuron_rows_validate_with_the_stated_median_error() {
    let path = repo().join("data/measured/neuron_llm.csv");
    let text = std::fs::read_to_string(&path).unwrap();
    let params = MemoryParams::embedded().unwrap();
    let (cases, skipped) = prepare(
        read_measured(&text, "neuron_llm.csv").unwrap(),
        catalog(),
        &params,
    );
    let table = EfficiencyTable::embedded().unwrap();
    let r = report(&score(&cases, &predict_all(&cases, &table)), &skipped, 0);
    assert_eq!(r.rows_total, 393);
    assert_eq!(r.rows_evaluated, 243, "{:?}", r.skipped_details);
    for gpu in [
        "Inferentia2 (per chip)",
        "Trainium (Trainium1, per chip)",
        "Trainium2 (per chip)",
    ] {
        assert!(r.by_gpu.contains_key(gpu), "{gpu}: {:?}", r.by_gpu.keys());
    }
    // VALIDATION.md: 6.7 % median, 32.7 % p90 over 243 values (the seventh session's refit;
    // 6.5 % after the sixth's).
    assert!((r.overall.median_ape - 6.7).abs() < 0.1, "{:?}", r.overall);
    assert!(r.by_metric["tpot"].median_ape < 6.0, "{:?}", r.by_metric);
}

/// A Neuron chip's achieved fractions are fitted on its own rows: the Neuron architecture's
/// row is a root for the step's parameters, not pulled towards the `*,*,*` row the GPUs'
/// rows dominate.
#[test]
fn the_neuron_row_fits_its_own_fractions_not_the_gpus() {
    use inferplan_perf::calibrate::{fit as calibrate, Options};
    use inferplan_perf::efficiency::Key;
    use inferplan_perf::measured::Metric;
    let Ok(gpu_text) =
        std::fs::read_to_string(crate::support::shared().join("data/measured/llm_throughput.csv"))
    else {
        return;
    };
    let text = std::fs::read_to_string(repo().join("data/measured/neuron_llm.csv")).unwrap();
    let params = MemoryParams::embedded().unwrap();
    let (mut cases, _) = prepare(
        read_measured(&text, "neuron_llm.csv").unwrap(),
        catalog(),
        &params,
    );
    // Step rows of one Neuron source and of one GPU source, each generated by its own
    // fractions: the GPU rows' far from the Neuron rows'.
    cases.retain(|c| c.obs.source == "neuron-trn1" && c.obs.metric != Metric::TtftMs);
    let neuron_rows = cases.len();
    assert!(neuron_rows >= 30, "{neuron_rows}");
    let (gpu, _) = prepare(
        read_measured(&gpu_text, "llm_throughput.csv").unwrap(),
        catalog(),
        &params,
    );
    cases.extend(gpu.into_iter().filter(|c| c.obs.source == "lmdeploy"));
    let on_neuron = Efficiency {
        bandwidth: 0.3,
        compute: 0.3,
        comm: 0.2,
        step_overhead_s: 0.004,
        request_overhead_s: 0.09,
        stream_overhead_s: 0.0,
        seq_overhead_s: 0.0,
        clump_exponent: 0.5,
        prefill_clump_exponent: 1.0,
        eager_layer_s: 0.0,
        kernel: KernelScale::ONE,
    };
    let on_gpus = Efficiency {
        bandwidth: 0.7,
        compute: 0.6,
        comm: 0.5,
        ..on_neuron
    };
    for (i, c) in cases.iter_mut().enumerate() {
        c.obs.value = c.predict(if i < neuron_rows {
            &on_neuron
        } else {
            &on_gpus
        });
    }
    let all: Vec<usize> = (0..cases.len()).collect();
    let t = calibrate(&cases, &all, &on_gpus, &Options::default(), "test");
    let row = |arch| {
        let key = Key {
            arch: Some(arch),
            engine: None,
            precision: None,
        };
        t.entries.iter().find(|e| e.key == key).unwrap().eff
    };
    // Pulled towards the root's 0.7 with shrink 0.5, the fit would stop well above 0.3.
    let neuron = row(Arch::Neuron);
    assert!((neuron.bandwidth - 0.3).abs() < 0.06, "{neuron:?}");
    let root = t.entries.iter().find(|e| e.key == Key::ANY).unwrap().eff;
    // The GPU rows hold the root far from the Neuron rows' fractions (0.92 when written).
    assert!(root.bandwidth > 0.6, "{root:?}");
    let r = report(
        &score(
            &cases[..neuron_rows],
            &predict_all(&cases[..neuron_rows], &t),
        ),
        &[],
        0,
    );
    assert!(r.overall.median_ape < 5.0, "{:?}", r.overall);
}
