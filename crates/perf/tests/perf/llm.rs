//! Integration tests of the performance crate: the memory budget on known cases, hand-computed
//! numbers, refusals, properties, and the comparison with measured vLLM startups.

use inferplan_catalog::table::Table;
use inferplan_catalog::{hf_config, Catalog, Dtype, Interconnect};
use inferplan_perf::memory::{kv_bytes_per_sequence_per_gpu, weight_bytes};
use inferplan_perf::memory_validation::validate_memory;
use inferplan_perf::{fit, EngineLimits, FitInput, FitReport, MemoryParams, PerfError, Placement};
use proptest::prelude::*;

use crate::support::catalog;

const GIB: f64 = 1024.0 * 1024.0 * 1024.0;

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
        placement: Placement {
            model: c.model(k.model).unwrap(),
            gpu,
            gpu_mem_gib: mem,
            gpus: inst.whole_gpus(),
            interconnect: inst.interconnect,
            tp: inst.whole_gpus(),
            attention_dp: 1,
            pp: 1,
            weights: k.weights,
            kv: k.kv,
        },
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
        placement: Placement {
            model: m,
            gpu,
            gpu_mem_gib: 22.35,
            gpus: 4,
            interconnect: Interconnect::Pcie,
            tp: 4,
            attention_dp: 1,
            pp: 1,
            weights: Dtype::Bf16,
            kv: Dtype::Bf16,
        },
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
    let placed = |f: &dyn Fn(&mut Placement<'static>)| {
        let mut i = base.clone();
        f(&mut i.placement);
        i
    };
    assert_eq!(field(&placed(&|p| p.tp = 8)), "tp");
    assert_eq!(
        field(&placed(&|p| {
            p.tp = 3;
            p.gpus = 3;
        })),
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
        field(&placed(&|p| {
            p.gpu = t4;
            p.weights = Dtype::Fp8;
        })),
        "precision"
    );
    // FP8 on Ampere runs weight-only: a warning, not a refusal.
    let r = fit(&placed(&|p| p.weights = Dtype::Fp8), &p).unwrap();
    assert!(
        r.warnings.iter().any(|w| w.contains("weight-only")),
        "{:?}",
        r.warnings
    );
}

#[test]
fn measured_vllm_startups_meet_the_targets() {
    let path = crate::support::shared().join("data/measured/vllm_memory.csv");
    let Ok(text) = std::fs::read_to_string(&path) else {
        panic!(
            "{} is needed: CI runs with ../shared beside the repository",
            path.display()
        );
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
        let mk = |mem: f64| FitInput { placement: Placement { model: m, gpu, gpu_mem_gib: mem, gpus: 1, interconnect: Interconnect::Single, tp: 1, attention_dp: 1, pp: 1, weights: Dtype::Bf16, kv: Dtype::Bf16 }, context, concurrency, gpu_memory_utilization: 0.9, safety_margin: 1.2, engine: EngineLimits::vllm_default(80.0, gpu.arch) };
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

// ---- speed: estimate, measured rows, validation, calibration ----

mod speed {
    use super::catalog;
    use inferplan_catalog::{Arch, Dtype, Gpu, Interconnect};
    use inferplan_perf::calibrate::{
        cross_validate, fit as calibrate, fold_table, Options, TooFewSources, SEED,
    };
    use inferplan_perf::efficiency::{EfficiencyTable, Key, Level, FALLBACK};
    use inferplan_perf::measured::{
        read_measured, Lengths, Metric, SkipReason, INFERENCEX_OUTPUT_CV2,
    };
    use inferplan_perf::memory::{
        kv_bytes_per_token_per_gpu, kv_bytes_per_token_per_gpu_dp, weight_bytes, weight_bytes_dp,
    };
    use inferplan_perf::parallel::QUIET;
    use inferplan_perf::step::{
        comm_share, rank_imbalance, Batch, Efficiency, KernelScale, Layout,
    };
    use inferplan_perf::validation::{efficiency_for, predict_all, prepare, report, score};
    use inferplan_perf::{
        Deployment, Engine, Estimate, Load, MemoryParams, Placement, Replica, Workload,
    };
    use proptest::prelude::*;

    const NO_OVERHEAD: Efficiency = Efficiency {
        bandwidth: 0.8,
        compute: 0.5,
        comm: 0.7,
        step_overhead_s: 0.0,
        request_overhead_s: 0.0,
        stream_overhead_s: 0.0,
        seq_overhead_s: 0.0,
        clump_exponent: 0.0,
        prefill_clump_exponent: 1.0,
        eager_layer_s: 0.0,
        kernel: KernelScale::ONE,
    };

    fn replica_on(gpu: &Gpu, model: &str, tp: u32, engine: Engine) -> Replica {
        let c = catalog();
        let mem = gpu.memory_gib().unwrap();
        let d = engine.defaults(mem, gpu.arch);
        Replica::new(
            &Deployment {
                placement: Placement {
                    model: c.model(model).unwrap(),
                    gpu,
                    gpu_mem_gib: mem,
                    gpus: tp,
                    interconnect: if tp > 1 {
                        Interconnect::NvSwitch
                    } else {
                        Interconnect::Single
                    },
                    tp,
                    attention_dp: 1,
                    pp: 1,
                    weights: Dtype::Bf16,
                    kv: Dtype::Bf16,
                },
                engine,
                limits: d.limits,
                kv_memory_fraction: d.kv_memory_fraction,
            },
            4096,
            &MemoryParams::embedded().unwrap(),
        )
        .unwrap()
    }

    fn replica(model: &str, gpu: &str, tp: u32, engine: Engine) -> Replica {
        replica_on(catalog().gpu(gpu).unwrap(), model, tp, engine)
    }

    #[test]
    fn attention_data_parallel_ranks_hold_their_own_sequences_and_whole_heads() {
        // Attention DP: `dp` ranks of `tp / dp` GPUs, each with its own sequences and their
        // KV cache and the attention heads split over its own GPUs only; the experts over
        // all `tp`. It was modelled as TP over every GPU, which refused 32-head models at 64
        // GPUs and kept MLA's latent on every GPU (one rank's sequences for the whole group).
        let c = catalog();
        let gpu = c.gpu("B200").unwrap();
        let mem = gpu.memory_gib().unwrap();
        let params = MemoryParams::embedded().unwrap();
        let deployment = |model: &str, tp: u32, dp: u32, weights: Dtype| {
            let d = Engine::Trtllm.defaults(mem, gpu.arch);
            Deployment {
                placement: Placement {
                    model: c.model(model).unwrap(),
                    gpu,
                    gpu_mem_gib: mem,
                    gpus: tp,
                    interconnect: Interconnect::NvSwitch,
                    tp,
                    attention_dp: dp,
                    pp: 1,
                    weights,
                    kv: Dtype::Fp8,
                },
                engine: Engine::Trtllm,
                limits: d.limits,
                kv_memory_fraction: d.kv_memory_fraction,
            }
        };
        let qwen = "Qwen3.5 397B-A17B";
        let refused = Replica::new(&deployment(qwen, 64, 1, Dtype::Fp4), 2048, &params);
        assert!(
            refused.unwrap_err().to_string().contains("does not divide"),
            "TP 64 over 32 heads"
        );
        assert!(Replica::new(&deployment(qwen, 64, 64, Dtype::Fp4), 2048, &params).is_ok());
        // A rank count that does not divide the GPUs is refused, not rounded.
        let odd = Replica::new(&deployment(qwen, 64, 3, Dtype::Fp4), 2048, &params);
        assert!(odd
            .unwrap_err()
            .to_string()
            .contains("attention data-parallel"));
        // DeepSeek-V3 FP8 on 8 B200: TP 8 keeps the MLA latent of every sequence on every GPU;
        // 8 ranks keep each sequence on one GPU: about 8x the sequences, less the attention
        // weights each rank now holds whole.
        let v3 = "DeepSeek-V3";
        let tp = Replica::new(&deployment(v3, 8, 1, Dtype::Fp8), 2048, &params).unwrap();
        let dp = Replica::new(&deployment(v3, 8, 8, Dtype::Fp8), 2048, &params).unwrap();
        let room = dp.kv_cache_tokens() / tp.kv_cache_tokens();
        assert!((5.0..8.0).contains(&room), "{room}");
        let m = c.model(v3).unwrap();
        let (_, tp_weights) = weight_bytes(m, Dtype::Fp8, 8, 1);
        let (_, dp_weights) = weight_bytes_dp(m, Dtype::Fp8, 8, 8, 1);
        assert!(dp_weights > tp_weights);
        assert_eq!(weight_bytes_dp(m, Dtype::Fp8, 8, 1, 1).1, tp_weights);
        assert_eq!(
            kv_bytes_per_token_per_gpu_dp(m, Dtype::Fp8, 8, 8, 1) * 8.0,
            kv_bytes_per_token_per_gpu(m, Dtype::Fp8, 8, 1)
        );
        // A decode step of 512 sequences reads each latent once across the group, not once
        // per GPU: the step is shorter, and the same FLOPs per GPU keep it from being 8x so.
        let e = NO_OVERHEAD;
        let step = |r: &Replica| {
            r.iteration(
                &Batch {
                    decode_seqs: 512.0,
                    decode_context: 512.0 * 2048.0,
                    ..Batch::default()
                },
                &e,
            )
            .0
        };
        let (t_tp, t_dp) = (step(&tp), step(&dp));
        assert!(t_dp < 0.8 * t_tp && t_dp > t_tp / 8.0, "{t_dp} vs {t_tp}");
        // Without attention DP nothing changes.
        let same = Replica::new(&deployment(v3, 8, 1, Dtype::Fp8), 2048, &params).unwrap();
        assert_eq!(same.kv_cache_tokens(), tp.kv_cache_tokens());
        // The link carries each rank's tokens to their experts and back (an all-to-all of
        // `tokens / tp` per GPU and MoE layer), not two all-reduces of the whole batch.
        let layout = |dp| Layout {
            tp: 32,
            attention_dp: dp,
            pp: 1,
            weights: Dtype::Fp4,
            kv: Dtype::Fp8,
        };
        let b = Batch::decode(8192.0, 1400.0);
        assert_eq!(comm_share(m, &layout(1), &b), 1.0);
        let share = comm_share(m, &layout(32), &b);
        assert!((0.05..0.3).contains(&share), "{share}");
        // Eight sequences on 32 ranks: the busiest rank has one, four times an even share.
        assert_eq!(rank_imbalance(&layout(32), 8.0), 4.0);
        assert_eq!(rank_imbalance(&layout(32), 64.0), 1.0);
        assert_eq!(rank_imbalance(&layout(1), 3.0), 1.0);
    }

    #[test]
    fn inferencex_layouts_run_on_the_gpus_of_their_tp_and_ep() {
        // InferenceX states `tp`, `ep` and `dp-attn` over one set of GPUs; the sample's export
        // writes `moe_tp = tp`, `moe_ep = ep` and `tp_size × attention_dp_size` as their
        // product: a `tp8_ep8` run on one 8-GPU H200 node reads `tp_size 64`. Its clients are
        // `batch_size × attention_dp_size` as exported. Other collectors' layouts are as stated.
        let aic = "id,silicon_data_source,backend,model_path,system,mode,isl,osl,batch_size,tp_size,pp_size,attention_dp_size,moe_tp_size,moe_ep_size,precision,gemm_quant_mode,silicon_ttft_ms,silicon_tpot_ms\n\
                   sq,source_file=2026-04-06.csv; model=Qwen3.5-397B; silicon_concurrency=64,sglang,Qwen/Qwen3.5-397B-A17B,h200_sxm,agg,8192,1024,64,64,1,1,8,8,fp8,fp8,1224,38\n\
                   dp,db-dump/2026-04-27; config_id=1; silicon_concurrency=256; workflow_run_id=7,trtllm,deepseek-ai/DeepSeek-R1,h200_sxm,agg,8192,1024,4,1,1,64,8,8,fp8,fp8,1000,30\n\
                   other,source_file=/x/aic-auto-gap-analysis/data/h200_sxm/trtllm,trtllm,deepseek-ai/DeepSeek-R1,h200_sxm,agg,1024,1024,8,4,1,1,2,2,fp8,fp8,100,10\n";
        let m = read_measured(aic, "aic.csv").unwrap();
        let layout = |id: &str| {
            let o = m
                .observations
                .iter()
                .find(|o| o.id == format!("{id}_tpot"))
                .unwrap();
            (o.tp, o.attention_dp, o.load)
        };
        let clients = |concurrency| Load::Closed { concurrency };
        assert_eq!(layout("sq"), (8, 1, clients(64)));
        assert_eq!(layout("dp"), (8, 8, clients(256)));
        assert_eq!(layout("other"), (4, 1, clients(8)));
        // Qwen3.5's 32 heads over the 64 GPUs of the export were refused; over 8 they run.
        // (`other`, DeepSeek-R1 FP8 on 4 H200, does not fit: only the layouts are checked.)
        let (cases, skipped) = prepare(m, catalog(), &MemoryParams::embedded().unwrap());
        assert!(
            skipped.iter().all(|s| s.id.starts_with("other")),
            "{skipped:?}"
        );
        assert_eq!(cases.len(), 4);
    }

    #[test]
    fn a_single_request_is_one_prefill_then_memory_bound_decodes() {
        let r = replica("llama-3.1-8b", "H100", 1, Engine::Vllm);
        // H100 has kernel curves: the kernel path's request overhead applies.
        let e = Efficiency {
            kernel: KernelScale {
                request_overhead_s: 0.010,
                ..KernelScale::ONE
            },
            ..NO_OVERHEAD
        };
        let w = Workload {
            input_tokens: 500,
            output_tokens: 101,
            load: Load::Burst { requests: 1 },
        };
        let est = r.run(&w, &e);
        let prefill = r.stage(&Batch::prefill(500.0, 0.0), &e).total_s;
        let decode = r.stage(&Batch::decode(1.0, 550.5), &e);
        assert!((est.ttft_ms - (prefill + 0.010) * 1e3).abs() < 1e-9);
        // A static batch is an offline benchmark: no API server, no request overhead.
        let offline = r.run(
            &Workload {
                load: Load::Static { batch: 1 },
                ..w
            },
            &e,
        );
        assert!((offline.ttft_ms - prefill * 1e3).abs() < 1e-9);
        assert!((est.tpot_ms - decode.total_s * 1e3).abs() < 1e-9);
        assert!((est.e2e_ms - est.ttft_ms - 100.0 * est.tpot_ms).abs() < 1e-9);
        assert_eq!(format!("{:?}", est.decode_bound), "MemoryBandwidth");
        // 8B parameters in BF16 at 80% of 3.35 TB/s: about 6 ms per token.
        assert!(est.tpot_ms > 5.0 && est.tpot_ms < 7.0, "{}", est.tpot_ms);
        // The request overhead (API, tokenization) overlaps with the GPU work of other requests,
        // so it adds to latency but not to the time per request of the replica.
        assert!((est.output_tok_s - 101.0 / (est.e2e_ms / 1e3 - 0.010)).abs() < 1e-6);
    }

    #[test]
    fn the_engine_pays_a_host_side_cost_per_decoding_sequence_on_both_paths() {
        // H100 composes its steps from kernel curves; A100 40GB by the roofline.
        for gpu in ["H100", "A100 40GB SXM4"] {
            let r = replica("llama-3.1-8b", gpu, 1, Engine::Sglang);
            let per_seq = Efficiency {
                seq_overhead_s: 20e-6,
                ..NO_OVERHEAD
            };
            for seqs in [1.0, 64.0, 256.0] {
                let b = Batch::decode(seqs, 1500.0);
                let (with, _) = r.iteration(&b, &per_seq);
                let (without, _) = r.iteration(&b, &NO_OVERHEAD);
                assert!(
                    (with - without - seqs * 20e-6).abs() < 1e-12,
                    "{gpu} {seqs}: {with} vs {without}"
                );
                // It is part of the step's overhead, and a prompt alone pays none of it.
                let t = r.stage(&b, &per_seq);
                assert!((t.overhead_s - seqs * 20e-6).abs() < 1e-12);
                let prompt = Batch::prefill(1000.0, 0.0);
                assert_eq!(r.stage(&prompt, &per_seq), r.stage(&prompt, &NO_OVERHEAD));
            }
            // A closed loop: one client's TPOT barely moves, 256 clients' by milliseconds
            // (as many of them as the KV cache runs at once, 20 µs each).
            let w = |concurrency| Workload {
                input_tokens: 1000,
                output_tokens: 200,
                load: Load::Closed { concurrency },
            };
            let grow = |c| r.run(&w(c), &per_seq).tpot_ms - r.run(&w(c), &NO_OVERHEAD).tpot_ms;
            assert!(grow(1) < 0.05, "{gpu}: {}", grow(1));
            assert!(
                grow(256) > 2.0 && grow(256) > 50.0 * grow(1),
                "{gpu}: {}",
                grow(256)
            );
        }
    }

    #[test]
    fn the_front_end_costs_a_fixed_part_per_request_and_a_part_per_open_stream() {
        let r = replica("llama-3.1-8b", "H100", 1, Engine::Vllm);
        let e = Efficiency {
            stream_overhead_s: 0.002,
            clump_exponent: 0.0,
            prefill_clump_exponent: 1.0,
            eager_layer_s: 0.0,
            kernel: KernelScale {
                request_overhead_s: 0.020,
                ..KernelScale::ONE
            },
            ..NO_OVERHEAD
        };
        // An idle replica: the fixed part only.
        assert!((r.request_overhead_s(&e, 0.0) - 0.020).abs() < 1e-12);
        let at = |clients: u64, e: &Efficiency| {
            r.run(
                &Workload {
                    input_tokens: 1000,
                    output_tokens: 200,
                    load: Load::Closed {
                        concurrency: clients,
                    },
                },
                e,
            )
        };
        let no_streams = Efficiency {
            stream_overhead_s: 0.0,
            clump_exponent: 0.0,
            prefill_clump_exponent: 1.0,
            eager_layer_s: 0.0,
            ..e
        };
        // One client: no other stream open; 32 clients: 31 others, 2 ms each, on TTFT (and
        // so on e2e), never on the time per token.
        assert!((at(1, &e).ttft_ms - at(1, &no_streams).ttft_ms).abs() < 1e-9);
        let (with, without) = (at(32, &e), at(32, &no_streams));
        assert!((with.ttft_ms - without.ttft_ms - 62.0).abs() < 1e-6);
        assert!((with.tpot_ms - without.tpot_ms).abs() < 1e-12);
    }

    #[test]
    fn a_prompt_step_pays_the_hosts_dispatch_per_layer_a_moe_layer_twice() {
        let e = Efficiency {
            eager_layer_s: 0.001,
            kernel: KernelScale {
                request_overhead_s: 0.020,
                ..KernelScale::ONE
            },
            ..NO_OVERHEAD
        };
        let no_dispatch = Efficiency {
            eager_layer_s: 0.0,
            ..e
        };
        // Llama 3.1 8B: 32 dense layers; Qwen3 30B-A3B: 48 MoE layers, each counted twice.
        let dense = replica("llama-3.1-8b", "H100", 1, Engine::Vllm);
        let moe = replica("qwen3-30b-a3b", "H100", 1, Engine::Vllm);
        assert!((dense.eager_prompt_s(&e) - 0.032).abs() < 1e-12);
        assert!((moe.eager_prompt_s(&e) - 0.096).abs() < 1e-12);
        assert!((dense.request_overhead_s(&e, 0.0) - 0.052).abs() < 1e-12);
        for (r, added_ms) in [(&dense, 32.0), (&moe, 96.0)] {
            let at = |load: Load, e: &Efficiency| {
                r.run(
                    &Workload {
                        input_tokens: 1000,
                        output_tokens: 200,
                        load,
                    },
                    e,
                )
            };
            // Once per request, on TTFT only: the decode steps are CUDA graphs.
            for load in [Load::Burst { requests: 1 }, Load::Closed { concurrency: 8 }] {
                let (with, without) = (at(load, &e), at(load, &no_dispatch));
                assert!((with.ttft_ms - without.ttft_ms - added_ms).abs() < 1e-6);
                assert!((with.tpot_ms - without.tpot_ms).abs() < 1e-12);
            }
            // An offline static batch calls the engine directly: no front end, no request's
            // dispatch beyond its steps.
            let offline = Load::Static { batch: 1 };
            assert_eq!(at(offline, &e).ttft_ms, at(offline, &no_dispatch).ttft_ms);
        }
    }

    #[test]
    fn a_closed_loop_prompt_waits_for_half_of_its_clump() {
        // Clients with equal lengths stay partly in step: prompts arrive in clumps of c^α
        // and wait for half of the others of their clump, each its own prefill. TTFT only.
        let r = replica("llama-3.1-8b", "H100", 1, Engine::Vllm);
        let spread = Efficiency {
            clump_exponent: 0.0,
            prefill_clump_exponent: 1.0,
            eager_layer_s: 0.0,
            ..NO_OVERHEAD
        };
        let clumped = Efficiency {
            clump_exponent: 0.5,
            prefill_clump_exponent: 1.0,
            eager_layer_s: 0.0,
            ..NO_OVERHEAD
        };
        let at = |clients: u64, input: u64, e: &Efficiency| {
            r.run(
                &Workload {
                    input_tokens: input,
                    output_tokens: 500,
                    load: Load::Closed {
                        concurrency: clients,
                    },
                },
                e,
            )
        };
        // One client has no clump.
        assert!((at(1, 1000, &clumped).ttft_ms - at(1, 1000, &spread).ttft_ms).abs() < 1e-9);
        // 16 clients: clumps of 4, a prompt waits for 1.5 others.
        let budget = r.limits().max_num_batched_tokens as f64;
        for input in [1000u64, 6000] {
            let (with, without) = (at(16, input, &clumped), at(16, input, &spread));
            let i = input as f64;
            let piece = budget.min(i);
            let prompt_ms = (i / piece).ceil()
                * r.iteration(
                    &Batch {
                        prefill_tokens: piece,
                        prefill_past: ((i - piece) / 2.0).max(0.0),
                        prefill_pairs: piece * (i + 1.0) / 2.0,
                        ..Batch::default()
                    },
                    &clumped,
                )
                .0
                * 1e3;
            let extra = with.ttft_ms - without.ttft_ms;
            assert!(
                (extra - 1.5 * prompt_ms).abs() < 1e-6,
                "{extra} vs {prompt_ms}"
            );
            assert!((with.tpot_ms - without.tpot_ms).abs() < 1e-12);
            assert!((with.output_tok_s - without.output_tok_s).abs() < 1e-9);
            // The first tokens of a clump spread over the whole clump.
            assert!((with.ttft_spread_ms - 3.0 * prompt_ms).abs() < 1e-6);
        }
        // Engines that prefill in rounds (SGLang) already move their clients in lockstep.
        let s = replica("llama-3.1-8b", "H100", 1, Engine::Sglang);
        let run = |e: &Efficiency| {
            s.run(
                &Workload {
                    input_tokens: 1000,
                    output_tokens: 500,
                    load: Load::Closed { concurrency: 16 },
                },
                e,
            )
        };
        assert_eq!(run(&clumped).ttft_ms, run(&spread).ttft_ms);
    }

    #[test]
    fn percentiles_are_predicted_as_the_statistic_the_row_states() {
        let r = replica("llama-3.1-8b", "H100", 1, Engine::Vllm);
        // A burst of 64 long prompts: first tokens spread from one prefill step to all.
        let burst = r.run(
            &Workload {
                input_tokens: 4000,
                output_tokens: 100,
                load: Load::Burst { requests: 64 },
            },
            &NO_OVERHEAD,
        );
        assert!(burst.ttft_spread_ms > 0.0);
        let (p50, p99) = (
            burst.ttft_quantile_ms(0.5, 1.0, 0.0),
            burst.ttft_quantile_ms(0.99, 1.0, 0.0),
        );
        assert!(
            (p50 - burst.ttft_ms).abs() < 1e-9,
            "{p50} {}",
            burst.ttft_ms
        );
        assert!(p99 > 1.8 * burst.ttft_ms, "{p99} vs mean {}", burst.ttft_ms);
        // Steady continuous batching: a gap between tokens is a light or a heavy iteration;
        // at the 99th percentile it is a heavy one once more than 1 % are heavy.
        let steady = r.run(
            &Workload {
                input_tokens: 2000,
                output_tokens: 200,
                load: Load::Closed { concurrency: 32 },
            },
            &NO_OVERHEAD,
        );
        assert!(steady.heavy_share > 0.01 && steady.heavy_share < 0.5);
        assert_eq!(steady.itl_quantile_ms(0.99), steady.tpot_heavy_ms);
        assert_eq!(steady.itl_quantile_ms(0.5), steady.tpot_light_ms);
        assert!(steady.tpot_heavy_ms > 1.5 * steady.tpot_ms);
    }

    #[test]
    fn validation_predicts_the_stated_statistic_and_skips_an_unstated_one() {
        let rows = "\
id,engine,engine_version,model,precision,gpu,gpu_count,tp,pp,input_len,output_len,concurrency_or_batch,request_rate,metric,value,unit,notes
s-0001,vLLM,0.6,Llama-3.1-8B,BF16,H100-SXM-80GB,1,1,1,4000,100,64,inf (all sent at once),ttft_ms_mean,1000,ms,
s-0002,vLLM,0.6,Llama-3.1-8B,BF16,H100-SXM-80GB,1,1,1,4000,100,64,inf (all sent at once),ttft_ms_p99,1000,ms,
s-0003,vLLM,0.6,Llama-3.1-8B,BF16,H100-SXM-80GB,1,1,1,2000,200,32,closed-loop,itl_ms_p99,10,ms,
s-0004,vLLM,0.6,Llama-3.1-8B,BF16,H100-SXM-80GB,1,1,1,2000,200,32,closed-loop,tpot_ms_mean,10,ms,
s-0005,vLLM,0.6,Llama-3.1-8B,BF16,H100-SXM-80GB,1,1,1,2000,200,32,closed-loop,ttft_ms,100,ms,
";
        let m = read_measured(rows, "s.csv").unwrap();
        let unstated = m.skipped.iter().find(|s| s.id == "s-0005").unwrap();
        assert_eq!(unstated.reason, SkipReason::StatisticNotStated);
        let (cases, _) = prepare(m, catalog(), &MemoryParams::embedded().unwrap());
        let at = |id: &str| {
            let c = cases.iter().find(|c| c.obs.id == id).unwrap();
            (
                c.predict(&NO_OVERHEAD),
                c.replica().run(&c.workload, &NO_OVERHEAD),
            )
        };
        let (mean, est) = at("s-0001");
        let (p99, _) = at("s-0002");
        assert!((mean - est.ttft_ms).abs() < 1e-9);
        assert!(p99 > 1.8 * mean, "p99 {p99} vs mean {mean}");
        let (itl, est) = at("s-0003");
        assert_eq!(itl, est.tpot_heavy_ms);
        assert_eq!(at("s-0004").0, est.tpot_ms);
        assert_eq!(
            cases
                .iter()
                .find(|c| c.obs.id == "s-0003")
                .unwrap()
                .obs
                .metric,
            Metric::ItlMs
        );
    }

    #[test]
    fn a_long_prompt_is_compute_bound() {
        // The roofline (a GPU without kernel curves).
        let r = replica("llama-3.1-8b", "H100 PCIe", 1, Engine::Vllm);
        let w = Workload {
            input_tokens: 8000,
            output_tokens: 10,
            load: Load::Closed { concurrency: 1 },
        };
        let est = r.run(&w, &NO_OVERHEAD);
        assert_eq!(format!("{:?}", est.prefill_bound), "Compute");
        // 2 × 7.5e9 FLOPs per token × 8000 tokens at 50% of 756 TFLOPS: at least 317 ms.
        assert!(
            est.ttft_ms > 317.0 && est.ttft_ms < 500.0,
            "{}",
            est.ttft_ms
        );
    }

    #[test]
    fn requests_beyond_the_batch_queue_or_share_the_kv_cache() {
        let at = |r: &Replica, input, output, c| {
            r.run(
                &Workload {
                    input_tokens: input,
                    output_tokens: output,
                    load: Load::Closed { concurrency: c },
                },
                &NO_OVERHEAD,
            )
        };
        // Outputs longer than prompts: vLLM admits requests while their prompts fit, then
        // preempts as they grow: no queue, slower tokens, the same throughput.
        let vllm = replica("llama-3.1-70b", "H100", 4, Engine::Vllm);
        let fits = at(&vllm, 1000, 3000, 1);
        assert!(fits.max_batch < 1024.0, "{}", fits.max_batch);
        let kv_bound = at(&vllm, 1000, 3000, fits.max_batch as u64 + 50);
        let at_limit = at(&vllm, 1000, 3000, fits.max_batch as u64);
        assert_eq!(kv_bound.queue_ms, 0.0);
        assert!(kv_bound.tpot_ms > at_limit.tpot_ms);
        let change = (kv_bound.output_tok_s - at_limit.output_tok_s).abs() / at_limit.output_tok_s;
        assert!(change < 0.05, "{change}");
        // Prompts longer than outputs: admission is what the cache limits, the rest queue.
        let long = at(&vllm, 3000, 1000, 1);
        assert!(at(&vllm, 3000, 1000, long.max_batch as u64 + 50).queue_ms > 0.0);
        // Beyond max_num_seqs, or on TensorRT-LLM (which reserves whole sequences), they queue.
        let over = at(&vllm, 1000, 3000, 2000);
        assert!(over.queue_ms > 0.0 && over.ttft_ms > fits.ttft_ms);
        let trt = replica("llama-3.1-70b", "H100", 4, Engine::Trtllm);
        let b = at(&trt, 1000, 3000, 1).max_batch as u64;
        assert!(at(&trt, 1000, 3000, b + 10).queue_ms > 0.0);
        assert_eq!(fits.queue_ms, 0.0);
    }

    #[test]
    fn poisson_overload_is_flagged() {
        let r = replica("llama-3.1-8b", "L40S", 1, Engine::Vllm);
        let w = |rate_rps| Workload {
            input_tokens: 1000,
            output_tokens: 200,
            load: Load::Poisson { rate_rps },
        };
        let light = r.run(&w(0.5), &NO_OVERHEAD);
        assert!(!light.overloaded && (light.requests_s - 0.5).abs() < 1e-9);
        assert!(r.run(&w(1e6), &NO_OVERHEAD).overloaded);
    }

    /// Erlang's C formula: an M/M/1 arrival waits with probability ρ, more servers at the same
    /// load per server wait less, and an offered load at or above the servers always waits.
    #[test]
    fn erlang_c_is_the_m_m_c_waiting_probability() {
        use inferplan_perf::estimate::erlang_c;
        assert!((erlang_c(1.0, 0.3) - 0.3).abs() < 1e-12);
        // M/M/2 at 1.6 erlangs: 2 × 0.8² / (1 + 0.8) = 0.7111.
        assert!((erlang_c(2.0, 1.6) - 1.28 / 1.8).abs() < 1e-12);
        assert!(erlang_c(20.0, 16.0) < erlang_c(2.0, 1.6));
        assert_eq!(erlang_c(8.0, 0.0), 0.0);
        assert_eq!(erlang_c(8.0, 8.0), 1.0);
    }

    /// The regularised incomplete gamma function against its closed forms.
    #[test]
    fn gamma_p_matches_its_closed_forms() {
        use inferplan_perf::estimate::{gamma_p, normal_cdf};
        for x in [0.001f64, 0.05, 0.3, 1.0, 2.5] {
            let e = (-x).exp();
            assert!((gamma_p(1.0, x) - (1.0 - e)).abs() < 1e-9, "{x}");
            assert!(
                (gamma_p(2.0, x) - (1.0 - e * (1.0 + x))).abs() < 1e-9,
                "{x}"
            );
            // P(1/2, x) = erf(√x) = 2 Φ(√(2x)) − 1.
            let erf = 2.0 * normal_cdf((2.0 * x).sqrt()) - 1.0;
            assert!((gamma_p(0.5, x) - erf).abs() < 1e-6, "{x}");
        }
        assert_eq!(gamma_p(0.44, 0.0), 0.0);
    }

    /// The first token of a mixing engine under open-loop arrivals waits for the steps ahead
    /// of it: later at a higher rate, with bursty arrivals (more neighbours in its step), with
    /// longer prompts, and at the higher quantile; never before the front end and one step.
    #[test]
    fn a_first_token_waits_for_the_steps_ahead() {
        let r = replica("llama-3.1-8b", "L40S", 1, Engine::Vllm);
        let at = |rate_rps| {
            r.run(
                &Workload {
                    input_tokens: 1000,
                    output_tokens: 200,
                    load: Load::Poisson { rate_rps },
                },
                &NO_OVERHEAD,
            )
        };
        let prompts: Vec<f64> = (0..24).map(|i| 400.0 + 50.0 * f64::from(i)).collect();
        let longer: Vec<f64> = prompts.iter().map(|l| l * 2.0).collect();
        let budget = r.limits().max_num_batched_tokens as f64;
        let q = |e: &inferplan_perf::Estimate, q, p: &[f64], cv| {
            e.ttft_quantile_steps_ms(q, p, 975.0, 0.1, cv, budget)
        };
        let (light, busy) = (at(0.5), at(2.0));
        assert!(!busy.overloaded);
        assert!(q(&light, 0.99, &prompts, 1.0) >= light.request_overhead_ms + light.tpot_light_ms);
        assert!(q(&busy, 0.99, &prompts, 1.0) > q(&light, 0.99, &prompts, 1.0));
        assert!(q(&busy, 0.99, &prompts, 1.5) > q(&busy, 0.99, &prompts, 1.0));
        assert!(q(&busy, 0.99, &longer, 1.0) > q(&busy, 0.99, &prompts, 1.0));
        assert!(q(&busy, 0.99, &prompts, 1.0) > q(&busy, 0.9, &prompts, 1.0));
    }

    /// Under open-loop arrivals a request waits for KV room when the sequences the replica
    /// holds (`rate × lifetime`, Poisson around it) fill its `max_batch` slots: the waiting
    /// probability grows with the rate and with the traffic's peakedness (bursty arrivals,
    /// unequal sizes), the TTFT quantile carries the wait, and a rate whose sequences would
    /// not fit on average is an overload.
    #[test]
    fn an_open_loop_request_waits_for_kv_room() {
        let r = replica("llama-3.1-70b", "H100", 2, Engine::Vllm);
        let at = |rate_rps| {
            r.run(
                &Workload {
                    input_tokens: 3000,
                    output_tokens: 100,
                    load: Load::Poisson { rate_rps },
                },
                &NO_OVERHEAD,
            )
        };
        let slots = at(0.01).max_batch;
        assert!(slots < 64.0, "{slots}");
        let mut last = 0.0;
        let mut waited = false;
        let mut rate = 0.01;
        loop {
            let e = at(rate);
            if e.overloaded {
                break;
            }
            let (p, _) = e.kv_wait(1.0, 0.0);
            assert!((last..1.0).contains(&p), "{rate}: {p} after {last}");
            if p > 0.05 {
                waited = true;
                let no_wait = inferplan_perf::Estimate {
                    kv_held: 0.0,
                    queue_ms: 0.0,
                    ttft_ms: e.ttft_ms - e.queue_ms,
                    ..e
                };
                let p99 = |e: &inferplan_perf::Estimate, cv, cv2| e.ttft_quantile_ms(0.99, cv, cv2);
                assert!(p99(&e, 1.0, 0.0) > p99(&no_wait, 1.0, 0.0));
                // Bursty arrivals and unequal sizes crowd the cache more.
                assert!(e.kv_wait(1.5, 0.0).0 > p && e.kv_wait(1.0, 0.5).0 > p);
                assert!(p99(&e, 1.5, 0.0) > p99(&e, 1.0, 0.0));
                assert!(p99(&e, 1.0, 0.5) > p99(&e, 1.0, 0.0));
            }
            last = p;
            rate *= 1.05;
        }
        assert!(waited);
        // Overloaded where the cache holds fewer sequences than arrive in a lifetime.
        let e = at(rate / 1.05);
        let life_s = (e.ttft_ms + 99.0 * e.tpot_ms) / 1e3;
        assert!(
            rate * life_s > slots * 0.9,
            "{rate} × {life_s} s against {slots}"
        );
    }

    /// Under open-loop arrivals the prompts a request meets while it decodes are a busy
    /// period's count: those that arrive while its own prompt waits and prefills land in its
    /// first gaps (`heavy_before`), and each heavy iteration lets more arrive
    /// (`heavy_growth`); each widens the TPOT tail, as do bursty arrivals. A closed loop holds
    /// both at zero.
    #[test]
    fn an_open_loop_request_meets_a_busy_period_of_prompts() {
        let r = replica("llama-3.1-8b", "L40S", 1, Engine::Sglang);
        let (i, o) = (6000u64, 150u64);
        let at = |load| {
            r.run(
                &Workload {
                    input_tokens: i,
                    output_tokens: o,
                    load,
                },
                &NO_OVERHEAD,
            )
        };
        let est = at(Load::Poisson { rate_rps: 0.5 });
        assert!(!est.overloaded);
        assert!(est.heavy_before > 0.0 && est.heavy_growth > 0.0 && est.heavy_growth < 1.0);
        let gaps = [20.0, 60.0, 149.0, 300.0];
        let p99 = |e: &inferplan_perf::Estimate, cv| e.tpot_quantile_over_ms(0.99, &gaps, 0.2, cv);
        let poisson = inferplan_perf::Estimate {
            heavy_before: 0.0,
            heavy_growth: 0.0,
            ..est
        };
        let before_only = inferplan_perf::Estimate {
            heavy_growth: 0.0,
            ..est
        };
        assert!(p99(&poisson, 1.0) < p99(&before_only, 1.0));
        assert!(p99(&before_only, 1.0) < p99(&est, 1.0));
        assert!(p99(&est, 1.0) < p99(&est, 1.5));
        let closed = at(Load::Closed { concurrency: 4 });
        assert_eq!((closed.heavy_before, closed.heavy_growth), (0.0, 0.0));
        // Seen from an arrival, gamma arrivals put a neighbour within its life far more often
        // than their time-average rate does (the renewal function, about `rate^(1/cv²)` at
        // light load against `rate`): at a light rate the bursty tail is several times the
        // Poisson one, where a time-average count in clumps would give about the same.
        let light = at(Load::Poisson { rate_rps: 0.01 });
        let above = |cv| p99(&light, cv) - light.tpot_ms;
        assert!(
            above(1.5) > 3.0 * above(1.0),
            "{} vs {} ms above the mean",
            above(1.5),
            above(1.0)
        );
    }

    /// The prompts a decoding request meets on a prefill-first engine are of every length,
    /// each run alone in steps of the budget (SGLang continues a chunked prompt in the next
    /// prompt step): their mean time is the mean of that time over the lengths, above the mean
    /// prompt's (attention makes a step's time grow faster than its tokens), and its spread
    /// is wider than the length's (VALIDATION.md, capacity item 16). Before, the estimate
    /// priced the mean prompt's time (364 ms here against 378 ms over the lengths).
    #[test]
    fn a_prefill_first_replica_meets_prompts_of_every_length() {
        use inferplan_perf::estimate::normal_quantile;
        use inferplan_perf::step::Batch;
        let r = replica("llama-3.1-8b", "L40S", 1, Engine::Sglang);
        let budget = r.limits().max_num_batched_tokens as f64;
        // Log-normal prompts of mean 6,000 tokens, p99 14,000 (the long-prompt shape).
        let (mean, cv2) = (6000.0_f64, 0.155_f64);
        let s2 = (1.0 + cv2).ln();
        // A prompt alone as the simulator runs it: full steps of the budget, then the rest.
        let alone = |l: f64| {
            let mut past = 0.0;
            let mut t = 0.0;
            while past < l {
                let take = (l - past).min(budget);
                t += r.iteration(&Batch::prefill(take, past), &NO_OVERHEAD).0;
                past += take;
            }
            t * 1e3
        };
        let n = 4000;
        let over_lengths = (0..n)
            .map(|k| {
                let u = (k as f64 + 0.5) / n as f64;
                let z = if u < 0.5 {
                    -normal_quantile(1.0 - u)
                } else {
                    normal_quantile(u)
                };
                alone((mean * (s2.sqrt() * z - s2 / 2.0).exp()).round().max(1.0))
            })
            .sum::<f64>()
            / n as f64;
        let est = r.run_lengths(
            &Workload {
                input_tokens: 6000,
                output_tokens: 150,
                load: Load::Poisson { rate_rps: 0.5 },
            },
            &NO_OVERHEAD,
            0.2,
            cv2,
        );
        let per_prompt = (est.tpot_heavy_ms - est.tpot_light_ms) * est.prompt_steps;
        assert!(
            over_lengths > alone(mean) * 1.02,
            "{over_lengths} {}",
            alone(mean)
        );
        assert!(
            (per_prompt / over_lengths - 1.0).abs() < 0.015,
            "{per_prompt:.1} ms per prompt met, {over_lengths:.1} over the lengths"
        );
        assert!(est.prompt_work_cv2 > cv2, "{}", est.prompt_work_cv2);
        // A mixing engine's met prompt varies more than its length too (its chunks' extra
        // and its attention over its length: capacity item 20); a closed loop keeps the
        // length's spread.
        let vllm = replica("llama-3.1-8b", "L40S", 1, Engine::Vllm).run_lengths(
            &Workload {
                input_tokens: 6000,
                output_tokens: 150,
                load: Load::Poisson { rate_rps: 0.5 },
            },
            &NO_OVERHEAD,
            0.2,
            cv2,
        );
        assert!(vllm.prompt_work_cv2 > cv2, "{}", vllm.prompt_work_cv2);
    }

    /// A prefill-first engine runs a chunked prompt's steps back to back while the decodes
    /// wait, so under open-loop arrivals a decoding request meets a prompt's chunks together
    /// (`prompt_clump`, its `prompt_steps`), and the prompt then decodes beside it
    /// (`prompt_drag_ms`, the decode slope): each widens the TPOT tail. A mixing engine meets
    /// a prompt's chunks in consecutive steps, together too (capacity item 20), and a closed
    /// loop counts neither (the tail as before).
    #[test]
    fn a_prefill_first_request_meets_whole_prompts_that_then_decode_beside_it() {
        let est_of = |engine, load| {
            replica("llama-3.1-8b", "L40S", 1, engine).run(
                &Workload {
                    input_tokens: 6000,
                    output_tokens: 150,
                    load,
                },
                &NO_OVERHEAD,
            )
        };
        let est = est_of(Engine::Sglang, Load::Poisson { rate_rps: 0.5 });
        assert!(!est.overloaded && est.prompt_steps > 1.0);
        assert_eq!(est.prompt_clump, est.prompt_steps);
        assert_eq!(est.prompt_drag_ms, est.decode_slope_ms);
        assert!(est.prompt_drag_ms > 0.0);
        let gaps = [20.0, 60.0, 149.0, 300.0];
        let p99 = |e: &inferplan_perf::Estimate| e.tpot_quantile_over_ms(0.99, &gaps, 0.2, 1.0);
        let single = inferplan_perf::Estimate {
            prompt_clump: 1.0,
            prompt_drag_ms: 0.0,
            ..est
        };
        let clumped = inferplan_perf::Estimate {
            prompt_drag_ms: 0.0,
            ..est
        };
        assert!(
            p99(&single) < p99(&clumped),
            "{} {}",
            p99(&single),
            p99(&clumped)
        );
        assert!(p99(&clumped) < p99(&est), "{} {}", p99(&clumped), p99(&est));
        let mixed = est_of(Engine::Vllm, Load::Poisson { rate_rps: 0.5 });
        assert!(mixed.prompt_steps > 1.0);
        assert_eq!(mixed.prompt_clump, mixed.prompt_steps);
        let closed = est_of(Engine::Sglang, Load::Closed { concurrency: 4 });
        assert_eq!((closed.prompt_clump, closed.prompt_drag_ms), (1.0, 0.0));
    }

    /// On vLLM too a prompt a decoding request meets then decodes beside it: the mixed step
    /// that carries its chunk is followed by its decodes in the same batch. The batch's growth
    /// rides on the count of prompts met (the same arrivals), which widens the TPOT tail
    /// beyond the batch's spread taken as independent of that count, and the stretch lets more
    /// arrive (`heavy_growth`). Before VALIDATION.md's capacity item 16 the drag was a
    /// prefill-first engine's only, and the planner's TPOT p99 of Llama 3.1 8B on g6e.xlarge
    /// (chat, bursty arrivals, 2.2 req/s) was 43.9 ms against 49.9 simulated (47.0 with it).
    #[test]
    fn a_vllm_request_meets_prompts_that_then_decode_beside_it() {
        let r = replica("llama-3.1-8b", "L40S", 1, Engine::Vllm);
        let at = |load| {
            r.run(
                &Workload {
                    input_tokens: 1155,
                    output_tokens: 211,
                    load,
                },
                &NO_OVERHEAD,
            )
        };
        let rate = 2.0;
        let est = at(Load::Poisson { rate_rps: rate });
        assert!(!est.overloaded && est.decode_slope_ms > 0.0);
        assert_eq!(est.prompt_drag_ms, est.decode_slope_ms);
        // The growth counts the drag's stretch: more than the heavy iterations' alone.
        let heavy_only = rate / 1e3 * est.prompt_steps * (est.tpot_heavy_ms - est.tpot_light_ms);
        assert!(
            est.heavy_growth > heavy_only * 1.05,
            "{} vs {heavy_only}",
            est.heavy_growth
        );
        let gaps = [20.0, 60.0, 149.0, 300.0, 600.0];
        let p99 = |e: &inferplan_perf::Estimate| e.tpot_quantile_over_ms(0.99, &gaps, 0.47, 1.5);
        let independent = inferplan_perf::Estimate {
            prompt_drag_ms: 0.0,
            ..est
        };
        assert!(
            p99(&independent) < p99(&est),
            "{} {}",
            p99(&independent),
            p99(&est)
        );
        let closed = at(Load::Closed { concurrency: 8 });
        assert_eq!(closed.prompt_drag_ms, 0.0);
    }

    /// A prompt attends over its own length: the simulator (as vLLM) runs a long prompt in
    /// chunks of the step budget, each attending to the KV cache of the chunks before it, so
    /// its time grows faster than its tokens; the estimate priced every prompt's tokens at the
    /// mean prompt's extra per token (Qwen3 32B on 2× L40S, chat prompts of 1,155 tokens on
    /// average: a 4,142-token prompt's own steps 769 ms planned against 889 ms stepped). Its
    /// TTFT step now takes the prompt's attention over its own length, its full steps at a
    /// full step's time, and one step for its last chunk; and a prompt met while decoding
    /// varies more than its length (`prompt_work_cv2`), its chunks met together.
    #[test]
    fn a_long_prompt_pays_attention_over_its_own_length() {
        let r = replica("qwen3-32b", "L40S", 2, Engine::Vllm);
        let (mean, output, cv2) = (1155.0, 211.0, 0.5);
        let est = r.run_lengths(
            &Workload {
                input_tokens: mean as u64,
                output_tokens: output as u64,
                load: Load::Poisson { rate_rps: 0.01 },
            },
            &NO_OVERHEAD,
            0.29,
            cv2,
        );
        assert!(!est.overloaded);
        let budget = r.limits().max_num_batched_tokens as f64;
        let ttft = |l: f64| est.ttft_quantile_steps_ms(0.99, &[l], mean, cv2, 1.0, budget);
        // The step model as the simulator builds the steps: chunks of the room beside the
        // decodes, each over the chunks before it.
        let b = est.batch.max(1.0).round();
        let context = mean + output * 1.29 / 2.0;
        let stepped = |l: f64| {
            let (mut done, mut t) = (0.0, 0.0);
            while done < l {
                let take = (l - done).min(budget - b);
                let step = Batch {
                    prefill_tokens: take,
                    prefill_past: done,
                    prefill_pairs: take * done + take * (take + 1.0) / 2.0,
                    decode_seqs: b,
                    decode_context: b * context,
                };
                t += r.iteration(&step, &NO_OVERHEAD).0 * 1e3;
                done += take;
            }
            t
        };
        for l in [3000.0, 4142.0, 6000.0, 8000.0] {
            let planned = ttft(l) - ttft(mean);
            let steps = stepped(l) - stepped(mean);
            assert!(
                (planned / steps - 1.0).abs() < 0.05,
                "{l} tokens: {planned:.0} ms planned beyond the mean prompt, {steps:.0} stepped"
            );
        }
        assert!(est.prompt_work_cv2 > cv2, "{}", est.prompt_work_cv2);
        // A closed loop keeps the mean prompt's pricing.
        let closed = r.run(
            &Workload {
                input_tokens: mean as u64,
                output_tokens: output as u64,
                load: Load::Closed { concurrency: 4 },
            },
            &NO_OVERHEAD,
        );
        assert_eq!(closed.prompt_pair_ms, 0.0);
        assert_eq!(closed.prompt_work_cv2, 0.0);
    }

    /// A mixed step's prompt extra is convex in the tokens it carries (a small chunk hides under
    /// the decode's reads of weights and KV cache, a full one is bound by its compute), so the
    /// mean heavy iteration's extra is that of steps many of which carry little; a request that
    /// meets many prompts meets them where they queue and share full steps, and each one more
    /// costs the full step's rate per token. In the simulator (Llama 3.1 8B on g6e.xlarge,
    /// vLLM, chat, 2.34 req/s) a request's decode grows by 70 ms per prompt it meets beyond
    /// the mean, whose prompts cost 61 ms each on average (VALIDATION.md, capacity item 19).
    /// `crowded_extra_ms` prices the count's excess so: the TPOT tail widens, its middle
    /// stays. Closed loops and prefill-first engines keep the mean's extra.
    #[test]
    fn a_vllm_request_meets_crowded_prompts_at_a_full_steps_rate() {
        let r = replica("llama-3.1-8b", "L40S", 1, Engine::Vllm);
        let at = |r: &Replica, load| {
            r.run_lengths(
                &Workload {
                    input_tokens: 1155,
                    output_tokens: 211,
                    load,
                },
                &NO_OVERHEAD,
                0.29,
                0.5,
            )
        };
        let est = at(&r, Load::Poisson { rate_rps: 2.3 });
        let extra = est.tpot_heavy_ms - est.tpot_light_ms;
        assert!(!est.overloaded && extra > 0.0);
        assert!(
            est.crowded_extra_ms > extra * 1.08,
            "{} vs {extra}",
            est.crowded_extra_ms
        );
        let gaps = [20.0, 60.0, 149.0, 300.0, 600.0];
        let q = |e: &inferplan_perf::Estimate, q: f64| e.tpot_quantile_over_ms(q, &gaps, 0.5, 1.5);
        let mean_only = inferplan_perf::Estimate {
            crowded_extra_ms: 0.0,
            ..est
        };
        let (wider, before) = (q(&est, 0.99), q(&mean_only, 0.99));
        assert!(wider > before + 0.5, "{wider} vs {before}");
        let (middle, was) = (q(&est, 0.55), q(&mean_only, 0.55));
        assert!(
            (middle - was).abs() < (wider - before) / 4.0,
            "{middle} vs {was}"
        );
        let closed = at(&r, Load::Closed { concurrency: 8 });
        assert_eq!(closed.crowded_extra_ms, 0.0);
        let sglang = replica("llama-3.1-8b", "L40S", 1, Engine::Sglang);
        assert_eq!(
            at(&sglang, Load::Poisson { rate_rps: 2.3 }).crowded_extra_ms,
            0.0
        );
    }

    /// Under Poisson arrivals a decoding request is in the length-biased batch: itself and a
    /// Poisson count of others of mean the time-average batch, so its decode iteration is
    /// that of one more sequence than the others' average, and the count's variance widens
    /// the TPOT tail (dense and MoE, whose larger batches also touch more experts). A closed
    /// loop or a saturated replica holds the batch fixed.
    #[test]
    fn an_open_loop_request_decodes_in_the_length_biased_batch() {
        let (i, o) = (1000u64, 200u64);
        let at = |r: &Replica, load| {
            r.run(
                &Workload {
                    input_tokens: i,
                    output_tokens: o,
                    load,
                },
                &NO_OVERHEAD,
            )
        };
        let gaps: Vec<f64> = [20.0, 100.0, 199.0, 600.0].to_vec();
        for model in ["llama-3.1-8b", "qwen3-30b-a3b"] {
            let r = replica(model, "H100", 1, Engine::Vllm);
            let full = at(&r, Load::Saturated);
            let est = at(
                &r,
                Load::Poisson {
                    rate_rps: full.requests_s * 0.6,
                },
            );
            assert!(!est.overloaded && est.batch > 3.0, "{model}: {}", est.batch);
            // The others decoding are a share of the time-average batch; the request adds one.
            let seen = est.batch_variance + 1.0;
            assert!(seen > 1.0 && seen <= est.batch + 1.0, "{model}: {seen}");
            let context = i as f64 + o as f64 / 2.0;
            let light = r.iteration(&Batch::decode(seen, context), &NO_OVERHEAD).0 * 1e3;
            assert!((est.tpot_light_ms - light).abs() < 1e-9, "{model}");
            let step = |n: f64| r.iteration(&Batch::decode(n, context), &NO_OVERHEAD).0 * 1e3;
            assert!(est.decode_slope_ms > 0.0 && est.tpot_light_ms > step(seen - 1.0));
            // The batch's spread widens the TPOT tail.
            let fixed = inferplan_perf::Estimate {
                batch_variance: 0.0,
                ..est
            };
            let p99 = est.tpot_quantile_over_ms(0.99, &gaps, 0.5, 1.0);
            let p99_fixed = fixed.tpot_quantile_over_ms(0.99, &gaps, 0.5, 1.0);
            assert!(p99 > p99_fixed, "{model}: {p99} vs {p99_fixed}");
            // Bursty arrivals make the count peaked (Whitt's `1 + (cv² − 1) η`): the batch's
            // share of the tail grows beyond what the arrivals' own clumps add.
            let batch_part = |cv: f64| {
                est.tpot_quantile_over_ms(0.99, &gaps, 0.5, cv)
                    - fixed.tpot_quantile_over_ms(0.99, &gaps, 0.5, cv)
            };
            assert!(
                batch_part(1.5) > batch_part(1.0),
                "{model}: {} vs {}",
                batch_part(1.5),
                batch_part(1.0)
            );
            for load in [Load::Saturated, Load::Closed { concurrency: 8 }] {
                let e = at(&r, load);
                assert_eq!(
                    (e.batch_variance, e.decode_slope_ms),
                    (0.0, 0.0),
                    "{load:?}"
                );
            }
        }
    }

    #[test]
    fn cost_per_million_tokens() {
        let r = replica("llama-3.1-8b", "H100", 1, Engine::Vllm);
        let est = r.run(
            &Workload {
                input_tokens: 100,
                output_tokens: 100,
                load: Load::Saturated,
            },
            &NO_OVERHEAD,
        );
        let usd = est.usd_per_million_output_tokens(3.6).unwrap();
        assert!((usd - 3.6 / (est.output_tok_s * 3600.0) * 1e6).abs() < 1e-9);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn more_bandwidth_never_slows_an_estimate(
            extra in 1.0f64..4.0,
            input in 1u64..6000,
            output in 2u64..2000,
            c in 1u64..300,
        ) {
            let base = catalog().gpu("H100").unwrap().clone();
            let fast = Gpu { mem_bandwidth_gbs: base.mem_bandwidth_gbs.map(|b| b * extra), ..base.clone() };
            let w = Workload { input_tokens: input, output_tokens: output, load: Load::Closed { concurrency: c } };
            let slow = replica_on(&base, "llama-3.1-8b", 1, Engine::Vllm).run(&w, &NO_OVERHEAD);
            let quick = replica_on(&fast, "llama-3.1-8b", 1, Engine::Vllm).run(&w, &NO_OVERHEAD);
            prop_assert!(quick.tpot_ms <= slow.tpot_ms * (1.0 + 1e-9));
            prop_assert!(quick.output_tok_s >= slow.output_tok_s * (1.0 - 1e-9));
        }

        #[test]
        fn a_larger_batch_never_lowers_throughput_until_memory_runs_out(
            input in 1u64..4000,
            output in 2u64..2000,
            c in 1u64..200,
            engine in prop::sample::select(vec![Engine::Vllm, Engine::Sglang, Engine::Trtllm]),
        ) {
            let r = replica("llama-3.1-8b", "H100", 1, engine);
            let at = |c| r.run(&Workload { input_tokens: input, output_tokens: output, load: Load::Closed { concurrency: c } }, &NO_OVERHEAD);
            let (small, large) = (at(c), at(c + 1));
            prop_assume!(((c + 1) as f64) <= small.max_batch);
            // Within 0.2%: on the plateau where prompts fill the step token budget, one more
            // decode takes a token of that budget from the prompts (proptest found 0.102 % at
            // a 3662-token prompt, 36 output tokens, 39 → 40 clients).
            prop_assert!(large.output_tok_s >= small.output_tok_s * (1.0 - 2e-3),
                "{} -> {}", small.output_tok_s, large.output_tok_s);
        }

        #[test]
        fn measured_files_never_panic(text in "\\PC{0,400}") {
            let _ = read_measured(&text, "fuzz.csv");
            let header = "id,engine,model,precision,gpu,gpu_count,tp,pp,input_len,output_len,concurrency_or_batch,request_rate,metric,value,unit,notes\n";
            let _ = read_measured(&format!("{header}{text}"), "fuzz.csv");
        }
    }

    const THROUGHPUT_ROWS: &str = "\
id,engine,engine_version,model,precision,gpu,gpu_count,tp,pp,input_len,output_len,concurrency_or_batch,request_rate,metric,value,unit,notes
x-0001,TensorRT-LLM,0.9,GPT-J-6B,FP8,H200,2,2,1,128,128,1024,offline (static batch),tok_s_per_gpu,1000,output tokens/s/GPU,
x-0002,LMDeploy (TurboMind),0.1,Llama-2-7B,FP16,A100-80GB,1,1,1,1,128,16,static batch (profile_generation),ttft_s_mean,0.5,s,
x-0003,vLLM (ROCm fork),0.10,Llama-3.1-70B,FP8,MI300X-192GB,8,8,1,128,2048,,inf (offline),tok_s_unspecified,1,tokens/s,
x-0004,TensorRT-LLM,x,Llama-2-70B-chat,not stated,H100-SXM-80GB,8,,,var (OpenOrca),var,,inf (Offline scenario),requests_s,1,samples/s,
x-0005,vLLM,0.6,Llama-3.1-405B-Instruct,not stated,MI300X-192GB,8,8,1,80 (sonnet),var (sonnet; total generated tokens in notes),4,inf (all num_prompts sent at once),ttft_ms_p50,100,ms,num_prompts=4 sent at once; file totals: input tokens 320 generated tokens 402 duration 3 s.
x-0006,SGLang,0.3,Llama-3.1-8B-Instruct,BF16,A100-80GB,1,1,1,ShareGPT (var),ShareGPT (var),,4,itl_ms_p50,10,ms,
x-0007,TensorRT-LLM,x,Llama-2-70B-chat,not stated,B200-180GB,1,,,1024,256,8,closed-loop,tpot_ms_mean,20,ms,
";

    #[test]
    fn measured_rows_are_normalised_or_skipped_with_a_reason() {
        let m = read_measured(THROUGHPUT_ROWS, "t.csv").unwrap();
        let by_id = |id: &str| m.observations.iter().find(|o| o.id == id);
        let per_gpu = by_id("x-0001").unwrap();
        assert_eq!(per_gpu.metric, Metric::OutputTokS);
        assert_eq!(per_gpu.value, 2000.0);
        assert_eq!(per_gpu.load, Load::Static { batch: 1024 });
        let ttft = by_id("x-0002").unwrap();
        assert_eq!((ttft.metric, ttft.value), (Metric::TtftMs, 500.0));
        let burst = by_id("x-0005").unwrap();
        assert_eq!(burst.load, Load::Burst { requests: 4 });
        assert_eq!(
            burst.lengths,
            Lengths::Fixed {
                input: 80,
                output: 101
            }
        );
        let poisson = by_id("x-0006").unwrap();
        assert_eq!(poisson.load, Load::Poisson { rate_rps: 4.0 });
        assert_eq!((poisson.metric, poisson.stat), (Metric::ItlMs, "p50"));
        let reason = |id: &str| m.skipped.iter().find(|s| s.id == id).map(|s| s.reason);
        assert_eq!(reason("x-0003"), Some(SkipReason::AmbiguousUnit));
        assert_eq!(reason("x-0004"), Some(SkipReason::LayoutNotStated));
        // A one-GPU system has one layout, stated or not.
        let single = by_id("x-0007").unwrap();
        assert_eq!((single.tp, single.pp), (1, 1));
        let aic = "id,backend,model_path,system,mode,isl,osl,batch_size,tp_size,pp_size,attention_dp_size,precision,gemm_quant_mode,silicon_ttft_ms,silicon_tpot_ms\n\
                   a,vllm,Qwen/Qwen3-32B,h200_sxm,agg,1024,1024,8,2,1,1,fp8,fp8,100,10\n\
                   b,trtllm,Qwen/Qwen3-32B,h200_sxm,disagg,1024,1024,,,,,fp8,fp8,100,10\n";
        let m = read_measured(aic, "aic.csv").unwrap();
        assert_eq!(m.observations.len(), 2);
        assert_eq!(m.skipped.len(), 2);
        assert!(m
            .skipped
            .iter()
            .all(|s| s.reason == SkipReason::DisaggregatedServing));
        // A disaggregated row that states its pools' TP/EP but not their worker counts and
        // batches says exactly what is missing.
        let gap = "id,backend,model_path,system,mode,isl,osl,batch_size,tp_size,pp_size,silicon_data_source,prefill_tp_size,prefill_moe_ep_size,prefill_num_workers,prefill_batch_size,decode_tp_size,decode_moe_ep_size,decode_num_workers,decode_batch_size,silicon_ttft_ms,silicon_tpot_ms\n\
                   c,trtllm,deepseek-ai/DeepSeek-R1,gb200,disagg,1024,1024,,,,source_file=2026-03-25.csv; silicon_concurrency=72; wip=False,8,8,,,32,8,,,900,16\n";
        let m = read_measured(gap, "aic.csv").unwrap();
        assert_eq!(m.skipped.len(), 2);
        let detail = &m.skipped[1].detail;
        for part in [
            "prefill_num_workers",
            "decode_num_workers",
            "decode_batch_size",
            "prefill TP 8 EP 8",
            "decode TP 32 EP 8",
            "72 clients",
        ] {
            assert!(detail.contains(part), "{part} not in `{detail}`");
        }
        assert!(!detail.contains("decode_tp_size"), "{detail}");
        assert!(read_measured("a,b\n1,2\n", "other.csv")
            .unwrap_err()
            .to_string()
            .contains("other.csv"));
    }

    #[test]
    fn efficiency_files_are_checked() {
        let t = EfficiencyTable::embedded().unwrap();
        assert!(t.entries.iter().any(|e| e.key == Key::ANY));
        let reparsed = EfficiencyTable::parse(&t.to_csv(), "round trip").unwrap();
        assert_eq!(reparsed.entries.len(), t.entries.len());
        // Sources and provenance with quotes, commas and line breaks come back as written.
        let mut odd = t.clone();
        odd.entries[0].sources = "a,\"b\"".to_owned();
        odd.entries[0].fitted_on = "fit \"by hand\", then\nchecked".to_owned();
        let reparsed = EfficiencyTable::parse(&odd.to_csv(), "round trip").unwrap();
        assert_eq!(reparsed.entries[0].sources, odd.entries[0].sources);
        assert_eq!(reparsed.entries[0].fitted_on, odd.entries[0].fitted_on);
        let head = "arch,engine,precision,bandwidth,compute,comm,kernel_bandwidth,kernel_compute,kernel_comm,kernel_link,kernel_floor,kernel_step_overhead_ms,kernel_request_overhead_ms,step_overhead_ms,request_overhead_ms\n";
        let e = EfficiencyTable::parse(
            &format!("{head}hopper,vllm,*,0.5,0.5,0.5,1,1,1,0.5,1,1,10,1,10\n"),
            "e.csv",
        )
        .unwrap_err();
        assert!(e.to_string().contains("*,*,*"), "{e}");
        let e = EfficiencyTable::parse(
            &format!("{head}*,*,*,1.7,0.5,0.5,1,1,1,0.5,1,1,10,1,10\n"),
            "e.csv",
        )
        .unwrap_err();
        assert!(
            e.to_string().contains("line 2") && e.to_string().contains("bandwidth"),
            "{e}"
        );
        let e = EfficiencyTable::parse(
            &format!("{head}*,*,*,0.5,0.5,0.5,1,3,1,0.5,1,1,10,1,10\n"),
            "e.csv",
        )
        .unwrap_err();
        assert!(
            e.to_string().contains("line 2") && e.to_string().contains("kernel_compute"),
            "{e}"
        );
        let e = EfficiencyTable::parse(
            &format!("{head}*,warp,*,0.5,0.5,0.5,1,1,1,0.5,1,1,10,1,10\n"),
            "e.csv",
        )
        .unwrap_err();
        assert!(e.to_string().contains("warp"), "{e}");
    }

    /// A deployment takes the first level of [`FALLBACK`] the table has a row for; the engine's
    /// rows on GPUs are never a Neuron chip's.
    #[test]
    fn lookup_falls_back_level_by_level_and_neuron_keeps_its_own_rows() {
        let head = "arch,engine,precision,bandwidth,compute,comm,kernel_bandwidth,kernel_compute,kernel_comm,kernel_link,kernel_floor,kernel_step_overhead_ms,kernel_request_overhead_ms,step_overhead_ms,request_overhead_ms\n";
        let rows = [
            ("blackwell,vllm,fp8", 0.11),
            ("blackwell,vllm,*", 0.12),
            ("blackwell,*,*", 0.13),
            ("*,vllm,fp8", 0.14),
            ("*,vllm,*", 0.15),
            ("*,*,*", 0.16),
            ("neuron,*,*", 0.17),
        ];
        let line = |k: &str, c: f64| format!("{k},0.5,{c},0.5,1,1,1,0.5,1,1,10,1,10\n");
        let level_of = |c: f64| {
            rows[..6]
                .iter()
                .position(|r| (r.1 - c).abs() < 1e-9)
                .map(|i| Level::ALL[i])
        };
        // Remove the rows one level at a time, in the lookup's order: each time the next
        // level answers.
        let mut kept: Vec<(&str, f64)> = rows.to_vec();
        for (i, want) in FALLBACK.iter().enumerate() {
            let text: String = kept.iter().map(|(k, c)| line(k, *c)).collect();
            let t = EfficiencyTable::parse(&format!("{head}{text}"), "e.csv").unwrap();
            let e = t.lookup(Arch::Blackwell, Engine::Vllm, Dtype::Fp8);
            assert_eq!(e.key.level(), *want, "step {i}: {:?}", e.key);
            assert_eq!(level_of(e.eff.compute), Some(*want));
            if *want != Level::Any {
                kept.retain(|(k, _)| {
                    let key = t
                        .entries
                        .iter()
                        .find(|e| e.key.columns() == *k)
                        .unwrap()
                        .key;
                    key.level() != *want
                });
            }
        }
        // vLLM on a Neuron chip: no `neuron,vllm` row, and the GPUs' `*,vllm` rows are passed
        // over for the architecture's own.
        let text: String = rows.iter().map(|(k, c)| line(k, *c)).collect();
        let t = EfficiencyTable::parse(&format!("{head}{text}"), "e.csv").unwrap();
        let e = t.lookup(Arch::Neuron, Engine::Vllm, Dtype::Bf16);
        assert_eq!(e.key.columns(), "neuron,*,*");
        assert!(Key::groups(Arch::Neuron, Engine::Vllm, Dtype::Bf16)
            .all(|k| k.arch.is_some() || k == Key::ANY));
        assert_eq!(
            Key::groups(Arch::Hopper, Engine::Vllm, Dtype::Bf16).count(),
            6
        );
    }

    #[test]
    fn a_repeated_column_is_an_error_naming_file_line_and_column() {
        let head = "arch,engine,precision,bandwidth,compute,comm,step_overhead_ms,request_overhead_ms,compute\n";
        let e = EfficiencyTable::parse(&format!("{head}*,*,*,0.5,0.5,0.5,1,10,0.6\n"), "e.csv")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("e.csv:1: column `compute` appears twice in the header (columns 5 and 9)"),
            "{e}"
        );
        let e = read_measured("id,engine,id\nx,vllm,y\n", "m.csv")
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            "m.csv:1: column `id` appears twice in the header (columns 1 and 3); keep one"
        );
    }

    fn shared(name: &str) -> Option<String> {
        std::fs::read_to_string(crate::support::shared().join("data/measured").join(name)).ok()
    }

    /// The cases of the measured file `name` beside the repository, if it is there.
    fn shared_cases(name: &str) -> Option<Vec<inferplan_perf::validation::Case>> {
        let text = shared(name)?;
        let params = MemoryParams::embedded().unwrap();
        Some(prepare(read_measured(&text, name).unwrap(), catalog(), &params).0)
    }

    #[test]
    fn calibration_recovers_known_efficiencies() {
        let Some(mut cases) = shared_cases("llm_throughput.csv") else {
            return;
        };
        cases.retain(|c| c.obs.source.starts_with("trtllm-v0.14") || c.obs.source == "lmdeploy");
        let truth = Efficiency {
            bandwidth: 0.6,
            compute: 0.4,
            comm: 0.5,
            step_overhead_s: 0.002,
            request_overhead_s: 0.02,
            stream_overhead_s: 0.0005,
            seq_overhead_s: 0.000_02,
            clump_exponent: 0.0,
            prefill_clump_exponent: 1.0,
            eager_layer_s: 0.0,
            kernel: KernelScale {
                bandwidth: 0.8,
                compute: 0.7,
                comm: 0.9,
                link: 0.4,
                floor: 1.0,
                step_overhead_s: 0.003,
                request_overhead_s: 0.03,
            },
        };
        for c in &mut cases {
            c.obs.value = c.predict(&truth);
        }
        let start = Efficiency {
            bandwidth: 0.9,
            compute: 0.9,
            comm: 0.9,
            step_overhead_s: 0.01,
            request_overhead_s: 0.1,
            stream_overhead_s: 0.002,
            seq_overhead_s: 0.0,
            clump_exponent: 0.0,
            prefill_clump_exponent: 1.0,
            eager_layer_s: 0.0,
            kernel: KernelScale {
                step_overhead_s: 0.01,
                request_overhead_s: 0.1,
                ..KernelScale::ONE
            },
        };
        let all: Vec<usize> = (0..cases.len()).collect();
        let opts = Options {
            min_rows: usize::MAX,
            ..Options::default()
        };
        let t = calibrate(&cases, &all, &start, &opts, "test");
        let predicted = predict_all(&cases, &t);
        let r = report(&score(&cases, &predicted), &[], 0);
        assert!(
            r.overall.median_ape < 2.0,
            "{:?} {:?}",
            r.overall,
            t.entries[0].eff
        );
        // These GPUs have kernel curves: the multiplier on their bandwidth is what the rows
        // identify (the roofline's fractions do not act on them).
        assert!(
            (t.entries[0].eff.kernel.bandwidth - 0.8).abs() < 0.08,
            "{:?}",
            t.entries[0].eff
        );
    }

    #[test]
    fn cross_validation_needs_two_sources_and_a_fit_on_no_rows_keeps_the_start() {
        let Some(mut cases) = shared_cases("llm_throughput.csv") else {
            return;
        };
        let start = EfficiencyTable::embedded().unwrap().lookup_any().eff;
        let opts = Options::default();
        // No rows: the `*,*,*` fallback is still there (it was missing, and every lookup in
        // a leave-one-out fold of a single source panicked).
        let t = calibrate(&cases, &[], &start, &opts, "");
        assert_eq!(t.entries.len(), 1);
        assert_eq!(t.entries[0].key, Key::ANY);
        assert_eq!(t.entries[0].rows, 0);
        assert!((t.lookup_any().eff.compute - start.compute).abs() < 1e-9);
        let first = cases[0].obs.source.clone();
        cases.retain(|c| c.obs.source == first);
        cases.truncate(5);
        assert_eq!(
            cross_validate(&cases, &opts, None, QUIET),
            Err(TooFewSources { sources: 1 })
        );
        assert_eq!(
            cross_validate(&[], &opts, None, QUIET)
                .unwrap_err()
                .to_string(),
            "cross-validation needs at least two sources; 0 given"
        );
    }

    /// A fold knows nothing of the source it leaves out. The folds used to start from the
    /// embedded table's `*,*,*` row, fitted on every source: a parameter the fold's rows do not
    /// move kept the held-out source's fit, and the local search started at the all-source
    /// optimum. A fold now is the fit of the other sources' rows from the neutral seed: the same
    /// table when the held-out rows are removed from the input, and the same predictions when
    /// their measured values change.
    #[test]
    fn a_fold_is_fitted_on_the_other_sources_only() {
        let Some(mut cases) = shared_cases("llm_throughput.csv") else {
            return;
        };
        let sources = ["lmdeploy", "hf-tgi-sagemaker", "vllm-blog-fp8kv"];
        cases.retain(|c| sources.contains(&c.obs.source.as_str()));
        // A few rows of each source keep the test quick; enough for groups of their own.
        let mut seen = std::collections::BTreeMap::<String, usize>::new();
        cases.retain(|c| {
            let n = seen.entry(c.obs.source.clone()).or_default();
            *n += 1;
            *n <= 40
        });
        let opts = Options {
            min_rows: 10,
            ..Options::default()
        };
        let held_out = "hf-tgi-sagemaker";
        let cv = cross_validate(&cases, &opts, None, QUIET).unwrap();
        let rest: Vec<_> = cases
            .iter()
            .filter(|c| c.obs.source != held_out)
            .cloned()
            .collect();
        let all: Vec<usize> = (0..rest.len()).collect();
        let without = calibrate(&rest, &all, &SEED, &opts, "");
        assert_eq!(fold_table(&cases, held_out, &opts), without);
        for (c, o) in cases.iter().zip(&cv) {
            let o = o.as_ref().unwrap();
            if c.obs.source == held_out {
                let p = c.predict(&efficiency_for(&without, c));
                assert_eq!(o.predicted.to_bits(), p.to_bits(), "{}", c.obs.id);
                // The row it used is the table's lookup, and among those it could use.
                let used = without.lookup(c.arch, c.obs.engine, c.weights).key;
                assert_eq!(o.key, used, "{}", c.obs.id);
                assert!(o.by_key.iter().any(|(k, _)| *k == used), "{}", c.obs.id);
            }
        }
        // The held-out rows' values reach no fold of their own.
        let mut moved = cases.clone();
        for c in moved.iter_mut().filter(|c| c.obs.source == held_out) {
            c.obs.value *= 3.0;
        }
        let only = [held_out.to_owned()].into_iter().collect();
        let again = cross_validate(&moved, &opts, Some(&only), QUIET).unwrap();
        for (i, c) in cases.iter().enumerate() {
            if c.obs.source == held_out {
                assert_eq!(again[i], cv[i], "{}", c.obs.id);
            } else {
                assert!(again[i].is_none(), "only the folds asked for run");
            }
        }
        // Not a vacuous check: the held-out rows do move the full fit.
        let all: Vec<usize> = (0..cases.len()).collect();
        assert_ne!(
            calibrate(&cases, &all, &SEED, &opts, ""),
            calibrate(&moved, &all, &SEED, &opts, "")
        );
    }

    #[test]
    fn inferencex_rows_run_random_lengths_of_nine_tenths_the_nominal() {
        // InferenceX draws each length uniformly from [int(0.8 L), L]; other AIConfigurator
        // rows (and InferenceX at other lengths) ran the stated lengths.
        let aic = "id,silicon_data_source,backend,model_path,system,mode,isl,osl,batch_size,tp_size,pp_size,attention_dp_size,precision,gemm_quant_mode,silicon_ttft_ms,silicon_tpot_ms\n\
                   w,db-dump/2026-04-27; config_id=1; workflow_run_id=7,vllm,Qwen/Qwen3-32B,h200_sxm,agg,8192,1024,8,2,1,1,fp8,fp8,100,10\n\
                   d,source_file=2026-04-06.csv; model=Qwen3-32B,vllm,Qwen/Qwen3-32B,h200_sxm,agg,1024,8192,8,2,1,1,fp8,fp8,100,10\n\
                   g,source_file=/x/aic-auto-gap-analysis/data/h200_sxm/vllm,vllm,Qwen/Qwen3-32B,h200_sxm,agg,1024,1024,8,2,1,1,fp8,fp8,100,10\n\
                   o,db-dump/2026-04-27; workflow_run_id=7,vllm,Qwen/Qwen3-32B,h200_sxm,agg,4000,1000,8,2,1,1,fp8,fp8,100,10\n";
        let m = read_measured(aic, "aic.csv").unwrap();
        let lengths = |id: &str| {
            m.observations
                .iter()
                .find(|o| o.id == format!("{id}_ttft"))
                .unwrap()
                .lengths
                .clone()
        };
        let fixed = |input, output| Lengths::Fixed { input, output };
        assert_eq!(lengths("w"), fixed(7373, 922));
        assert_eq!(lengths("d"), fixed(922, 7373));
        assert_eq!(lengths("g"), fixed(1024, 1024));
        assert_eq!(lengths("o"), fixed(4000, 1000));
        // Their outputs vary: uniform on [0.8 L, L], cv² = 0.2² / 12 / 0.9².
        let cv2 = |id: &str| {
            m.observations
                .iter()
                .find(|o| o.id == format!("{id}_tpot"))
                .unwrap()
                .output_cv2
        };
        assert!((cv2("w") - 0.04 / 12.0 / 0.81).abs() < 1e-12);
        assert!((cv2("d") - INFERENCEX_OUTPUT_CV2).abs() < 1e-12);
        assert_eq!((cv2("g"), cv2("o")), (0.0, 0.0));
    }

    #[test]
    fn a_prefill_first_closed_loop_stays_in_rounds_only_with_fixed_lengths() {
        // SGLang runs a prompt step on its own and pauses decoding. With fixed lengths a
        // closed loop's clients finish together and come back together: lockstep rounds,
        // whatever the clump exponents. With varying outputs they fall out of step: the
        // steady state, prompts in clumps of c^α with the prefill-first engines' own α.
        let s = replica("llama-3.1-8b", "H100", 1, Engine::Sglang);
        let v = replica("llama-3.1-8b", "H100", 1, Engine::Vllm);
        let e = |mixing: f64, prefill_first: f64| Efficiency {
            clump_exponent: mixing,
            prefill_clump_exponent: prefill_first,
            ..NO_OVERHEAD
        };
        let at = |r: &Replica, cv2: f64, e: &Efficiency| {
            r.run_spread(
                &Workload {
                    input_tokens: 2000,
                    output_tokens: 500,
                    load: Load::Closed { concurrency: 64 },
                },
                e,
                cv2,
            )
        };
        let cv2 = INFERENCEX_OUTPUT_CV2;
        // Fixed lengths: rounds, the exponents do not matter.
        let rounds = at(&s, 0.0, &e(0.5, 1.0));
        assert_eq!(at(&s, 0.0, &e(0.1, 0.2)), rounds);
        // Varying lengths: the prefill-first exponent sets the clumps, the mixing one does not.
        let lockstep = at(&s, cv2, &e(0.5, 1.0));
        let apart = at(&s, cv2, &e(0.5, 0.5));
        assert_eq!(at(&s, cv2, &e(0.1, 0.5)).ttft_ms, apart.ttft_ms);
        assert!(
            apart.ttft_ms < 0.5 * lockstep.ttft_ms,
            "{apart:?} {lockstep:?}"
        );
        // Clumps of all 64 wait about as long as a round's prompts do.
        assert!(
            (0.5..1.5).contains(&(lockstep.ttft_ms / rounds.ttft_ms)),
            "{} vs {}",
            lockstep.ttft_ms,
            rounds.ttft_ms
        );
        // Other clients' prompt steps pause a decoding request's steps.
        assert!(apart.tpot_ms > rounds.tpot_ms, "{apart:?} {rounds:?}");
        // An engine that mixes prompts into decode steps never reads the prefill-first α.
        assert_eq!(at(&v, cv2, &e(0.5, 0.2)), at(&v, cv2, &e(0.5, 1.0)));
        assert_eq!(at(&v, 0.0, &e(0.5, 0.2)), at(&v, cv2, &e(0.5, 1.0)));
    }

    #[test]
    fn sglang_loops_of_random_lengths_fall_out_of_step_and_fixed_length_loops_do_not() {
        // On the development data: SGLang's closed loops at 64 or more clients. InferenceX's
        // (random lengths) were over-predicted by lockstep rounds (TTFT median pred/meas 1.38
        // with the embedded table, in-sample); AIConfigurator's gap-analysis runs of fixed
        // lengths (Qwen3 32B on SGLang 0.5.1) were not (1.13), and keep their rounds.
        let Some(text) = shared("aic_silicon_sample.csv") else {
            return;
        };
        let m = read_measured(&text, "aic_silicon_sample.csv").unwrap();
        let (cases, _) = prepare(m, catalog(), &MemoryParams::embedded().unwrap());
        let table = EfficiencyTable::embedded().unwrap();
        let many: Vec<_> = cases
            .into_iter()
            .filter(|c| {
                c.obs.engine == Engine::Sglang
                    && c.obs.metric == Metric::TtftMs
                    && matches!(c.workload.load, Load::Closed { concurrency } if concurrency >= 64)
            })
            .collect();
        let median_ratio = |random: bool, alpha: f64| {
            let mut r: Vec<f64> = many
                .iter()
                .filter(|c| (c.obs.output_cv2 > 0.0) == random)
                .map(|c| {
                    let e = Efficiency {
                        prefill_clump_exponent: alpha,
                        ..efficiency_for(&table, c)
                    };
                    c.predict(&e) / c.obs.value
                })
                .collect();
            assert!(r.len() >= 50, "{}", r.len());
            r.sort_by(f64::total_cmp);
            r[r.len() / 2]
        };
        const ALPHA: f64 = 0.84;
        // Lockstep (α = 1) is about the rounds; the candidate refit's `*,*,*` α (VALIDATION.md,
        // "Prefill-first closed loops: lockstep only with fixed lengths") brings the
        // random-length loops near the measurement, with the embedded table's other parameters.
        let (lockstep, fitted) = (median_ratio(true, 1.0), median_ratio(true, ALPHA));
        assert!(lockstep > 1.25, "{lockstep}");
        assert!(
            (fitted - 1.0).abs() < 0.5 * (lockstep - 1.0),
            "{fitted} vs {lockstep}"
        );
        // Fixed lengths: rounds whatever α.
        assert_eq!(median_ratio(false, 1.0), median_ratio(false, ALPHA));
    }

    #[test]
    fn an_mla_or_linear_attention_layer_dispatches_once_more_in_a_prompt_step() {
        // Issue 16 (TTFT under cross-validation): the eager prompt step's host time counts a
        // layer, a MoE layer once more, and an MLA or linear-attention layer once more (their
        // token mixing launches about twice a GQA layer's kernels).
        let e = Efficiency {
            eager_layer_s: 1e-3,
            ..NO_OVERHEAD
        };
        let eager_ms = |r: &Replica| r.eager_prompt_s(&e) * 1e3;
        // GQA, dense: its layers.
        let llama = replica("llama-3.1-70b", "H100", 2, Engine::Vllm);
        assert_eq!(llama.heavy_attention_layers(), 0);
        assert!((eager_ms(&llama) - 80.0).abs() < 1e-9);
        // MLA, 61 layers of which 58 MoE.
        let deepseek = replica("DeepSeek-V3", "B300", 8, Engine::Sglang);
        assert_eq!(deepseek.heavy_attention_layers(), 61);
        assert!((eager_ms(&deepseek) - (61.0 + 58.0 + 61.0)).abs() < 1e-9);
        // Hybrid: 45 Gated DeltaNet layers of 60, all MoE.
        let qwen = replica("Qwen3.5-397B-A17B", "B200", 8, Engine::Sglang);
        assert_eq!(qwen.heavy_attention_layers(), 45);
        assert!((eager_ms(&qwen) - (60.0 + 60.0 + 45.0)).abs() < 1e-9);
    }

    #[test]
    fn vllm_serves_nvfp4_checkpoints_with_the_fp8_cache_they_state() {
        // vLLM's `--kv-cache-dtype auto` takes a ModelOpt checkpoint's `kv_cache_quant_algo`
        // (vllm-project/vllm#29980): an NVFP4 re-quantization runs an FP8 cache; gpt-oss,
        // published in MXFP4, and a native FP8 checkpoint state none and keep 16 bit.
        let aic = "id,backend,model_path,system,mode,isl,osl,batch_size,tp_size,pp_size,attention_dp_size,precision,gemm_quant_mode,silicon_ttft_ms,silicon_tpot_ms\n\
                   n,vllm,MiniMaxAI/MiniMax-M2.5,b200_sxm,agg,8192,1024,32,1,1,1,fp4,nvfp4,500,22\n\
                   g,vllm,openai/gpt-oss-120b,b200_sxm,agg,8192,1024,32,1,1,1,fp4,nvfp4,500,22\n\
                   f,vllm,MiniMaxAI/MiniMax-M2.5,b200_sxm,agg,8192,1024,32,2,1,1,fp8,fp8,500,22\n";
        let m = read_measured(aic, "aic.csv").unwrap();
        let (cases, skipped) = prepare(m, catalog(), &MemoryParams::embedded().unwrap());
        assert!(skipped.is_empty(), "{skipped:?}");
        let kv = |id: &str| {
            cases
                .iter()
                .find(|c| c.obs.id == format!("{id}_ttft"))
                .unwrap()
                .kv
        };
        assert_eq!(kv("n"), Dtype::Fp8);
        assert_eq!(kv("g"), Dtype::Bf16);
        assert_eq!(kv("f"), Dtype::Bf16);
        // On the development data: vLLM's NVFP4 closed loops whose clients a 16-bit cache
        // could not hold were predicted to queue for seconds (21 s for 0.5 s measured at 32
        // clients of 8192/1024 on one B200); with the FP8 cache their TTFTs are within 2x.
        let Some(b) = shared("aic_silicon_sample.csv") else {
            return;
        };
        let m = read_measured(&b, "aic_silicon_sample.csv").unwrap();
        let (cases, _) = prepare(m, catalog(), &MemoryParams::embedded().unwrap());
        let nvfp4: Vec<_> = cases
            .into_iter()
            .filter(|c| {
                c.obs.engine == Engine::Vllm
                    && c.weights == Dtype::Fp4
                    && c.kv == Dtype::Fp8
                    && c.obs.metric == Metric::TtftMs
                    && c.workload.input_tokens > 4096
            })
            .collect();
        assert!(nvfp4.len() >= 20, "{}", nvfp4.len());
        let predicted = predict_all(&nvfp4, &EfficiencyTable::embedded().unwrap());
        let mut ratio: Vec<f64> = nvfp4
            .iter()
            .zip(&predicted)
            .map(|(c, p)| p / c.obs.value)
            .collect();
        ratio.sort_by(f64::total_cmp);
        let median = ratio[ratio.len() / 2];
        assert!((0.5..2.0).contains(&median), "median {median} of {ratio:?}");
    }

    #[test]
    fn a_disaggregated_ttft_queues_in_the_prefill_pool_its_clients_feed() {
        // A disaggregated run's TTFT was predicted as one prompt alone on a prefill worker
        // (a static batch: no queue, no API server), 0.04-0.07x measured on GB200/GB300. Its
        // clients share `prefill_num_workers` workers and come back one decode later.
        let head = "id,backend,model_path,system,mode,isl,osl,batch_size,tp_size,pp_size,silicon_data_source,precision,gemm_quant_mode,\
                    prefill_batch_size,prefill_num_workers,prefill_tp_size,prefill_pp_size,prefill_attention_dp_size,prefill_moe_ep_size,\
                    decode_batch_size,decode_num_workers,decode_tp_size,decode_pp_size,decode_attention_dp_size,decode_moe_ep_size,\
                    silicon_ttft_ms,silicon_tpot_ms\n";
        let row = |id: &str, clients: u64, decode_batch: u64, workers: u64| {
            format!(
                "{id},trtllm,deepseek-ai/DeepSeek-V3,gb200,disagg,1024,1024,,,,silicon_concurrency={clients},fp4,nvfp4,\
                 1,{workers},1,1,4,4,{decode_batch},1,1,1,32,32,300,10\n"
            )
        };
        let text = format!(
            "{head}{}{}{}",
            row("few", 32, 1, 1),
            row("many", 8192, 256, 1),
            row("many_workers", 8192, 256, 8)
        );
        let m = read_measured(&text, "aic.csv").unwrap();
        let pool = m
            .observations
            .iter()
            .find(|o| o.id == "many_ttft")
            .and_then(|o| o.disaggregated)
            .unwrap();
        // `decode_batch_size` is per attention rank: 256 on each of 32 ranks.
        assert_eq!(
            (
                pool.prefill_workers,
                pool.clients,
                pool.decode_tp,
                pool.decode_attention_dp,
                pool.decode_batch
            ),
            (1, 8192, 32, 32, 8192)
        );
        assert!(m
            .observations
            .iter()
            .filter(|o| o.metric == Metric::TpotMs)
            .all(|o| o.disaggregated.is_none()));
        let (cases, skipped) = prepare(m, catalog(), &MemoryParams::embedded().unwrap());
        assert!(skipped.is_empty(), "{skipped:?}");
        let table = EfficiencyTable::embedded().unwrap();
        let ttft = |id: &str| {
            let c = cases
                .iter()
                .find(|c| c.obs.id == format!("{id}_ttft"))
                .unwrap();
            c.predict(&efficiency_for(&table, c))
        };
        let (few, many, spread) = (ttft("few"), ttft("many"), ttft("many_workers"));
        // A prompt alone pays the prefill and the API server's fixed part.
        let e = efficiency_for(&table, &cases[0]);
        let idle_api_ms = cases[0].replica().request_overhead_s(&e, 0.0) * 1e3;
        assert!(few > idle_api_ms, "{few} vs {idle_api_ms}");
        // 8192 clients on one prefill worker queue for seconds; eight workers share them.
        assert!(many > 10.0 * few, "{many} vs {few}");
        assert!(spread < many / 4.0, "{spread} vs {many}");
        // On the development data the GB200/GB300 disaggregated TTFTs were 0.04-0.07x
        // measured (median 0.05); queued in their prefill pools they were within 0.3-1.5x,
        // but partly because the decode workers' attention-DP batches were one rank's share
        // (TPOT too low, prefill saturated). With attention DP modelled the median is 0.26:
        // an attention-DP prefill rank's lone prompt is still spread over every GPU
        // (VALIDATION.md, "Attention data parallelism"). The bound keeps the pool's 5x gain.
        let Some(b) = shared("aic_silicon_sample.csv") else {
            return;
        };
        let m = read_measured(&b, "aic_silicon_sample.csv").unwrap();
        let (cases, _) = prepare(m, catalog(), &MemoryParams::embedded().unwrap());
        let disagg: Vec<_> = cases
            .into_iter()
            .filter(|c| c.obs.disaggregated.is_some() && c.gpu.starts_with("GB"))
            .collect();
        assert!(disagg.len() >= 150, "{}", disagg.len());
        let predicted = predict_all(&disagg, &table);
        let mut ratio: Vec<f64> = disagg
            .iter()
            .zip(&predicted)
            .map(|(c, p)| p / c.obs.value)
            .collect();
        ratio.sort_by(f64::total_cmp);
        let median = ratio[ratio.len() / 2];
        assert!((0.2..1.5).contains(&median), "median {median}");
    }

    #[test]
    fn inferencex_recipes_set_the_kv_cache_and_memory_fraction_they_ran_with() {
        // Issue 16, part 4: InferenceX's MiniMax M2.5 FP8 recipe on B200 passed
        // `--kv-cache-dtype fp8 --gpu-memory-utilization 0.90` from its v0.19.0-cu130 image on,
        // and `0.95` without a KV flag on v0.17.0-cu130; its Llama 3.1 70B recipes set an FP8
        // cache (data/perf/inferencex_recipes.csv). Rows from other collectors keep the
        // checkpoint's format and the engine's default fraction.
        let aic = "id,silicon_data_source,backend,model_path,system,mode,isl,osl,batch_size,tp_size,pp_size,attention_dp_size,precision,gemm_quant_mode,silicon_ttft_ms,silicon_tpot_ms\n\
                   new,db-dump/2026-04-27; config_id=633; workflow_run_id=725; vllm/vllm-openai:v0.19.0-cu130,vllm,MiniMaxAI/MiniMax-M2.5,b200_sxm,agg,8192,1024,64,2,1,1,fp8,fp8,800,20\n\
                   old,source_file=2026-03-25.csv; model=MiniMax-M2.5; image=vllm/vllm-openai:v0.17.0-cu130,vllm,MiniMaxAI/MiniMax-M2.5,b200_sxm,agg,8192,1024,64,2,1,1,fp8,fp8,800,20\n\
                   llama,source_file=2026-04-06.csv; model=Llama-3.1-70B; measured=2025-10-29T00:00:00.000Z,vllm,meta-llama/Llama-3.1-70B,h200_sxm,agg,8192,1024,32,1,1,1,fp8,fp8,3000,30\n\
                   other,source_file=/x/aic-auto-gap-analysis/data/b200_sxm/vllm,vllm,MiniMaxAI/MiniMax-M2.5,b200_sxm,agg,8192,1024,64,2,1,1,fp8,fp8,800,20\n";
        let m = read_measured(aic, "aic.csv").unwrap();
        let (cases, skipped) = prepare(m, catalog(), &MemoryParams::embedded().unwrap());
        assert!(skipped.is_empty(), "{skipped:?}");
        let case = |id: &str| {
            cases
                .iter()
                .find(|c| c.obs.id == format!("{id}_ttft"))
                .unwrap()
        };
        assert_eq!(case("new").kv, Dtype::Fp8);
        assert_eq!(case("new").obs.memory_fraction, Some(0.90));
        assert_eq!(case("old").kv, Dtype::Bf16);
        assert_eq!(case("old").obs.memory_fraction, Some(0.95));
        assert_eq!(case("llama").kv, Dtype::Fp8);
        assert_eq!(case("other").kv, Dtype::Bf16);
        assert_eq!(case("other").obs.memory_fraction, None);
        // The recipe's cache holds more sequences than the 16-bit one at 0.9.
        let room = |id: &str| case(id).replica().max_batch(7373, 922);
        assert!(
            room("new") > 1.8 * room("other"),
            "{} {}",
            room("new"),
            room("other")
        );
        // On the development data: these closed loops (MiniMax M2.5 FP8 on B200/B300, Llama
        // 3.1 70B FP8) were predicted to queue behind a 16-bit cache (TTFT up to 19x measured);
        // with the recipes' cache their median TTFT is within 1.6x of the measurement.
        let Some(b) = shared("aic_silicon_sample.csv") else {
            return;
        };
        let m = read_measured(&b, "aic_silicon_sample.csv").unwrap();
        let (cases, _) = prepare(m, catalog(), &MemoryParams::embedded().unwrap());
        let fp8: Vec<_> = cases
            .into_iter()
            .filter(|c| c.obs.kv_fp8 && c.weights == Dtype::Fp8 && c.obs.metric == Metric::TtftMs)
            .collect();
        assert!(fp8.len() >= 150, "{}", fp8.len());
        let predicted = predict_all(&fp8, &EfficiencyTable::embedded().unwrap());
        let mut ratio: Vec<f64> = fp8
            .iter()
            .zip(&predicted)
            .map(|(c, p)| p / c.obs.value)
            .collect();
        ratio.sort_by(f64::total_cmp);
        let median = ratio[ratio.len() / 2];
        let worst = ratio[ratio.len() - 1];
        assert!((0.6..1.6).contains(&median), "median {median}");
        assert!(worst < 6.0, "worst {worst}");
    }

    #[test]
    fn inferencex_gb200_runs_are_disaggregated_whatever_their_mode_says() {
        // InferenceX ran GB200 only through Dynamo's `submit_disagg.sh` (launch_gb200-nv.sh):
        // its `agg` rows carry the context and generation workers' GPU total as `tp_size`
        // (4 context workers of 4 GPUs + a TP32 generation worker = 48). Other collectors'
        // GB200 rows are aggregated as stated.
        let aic = "id,silicon_data_source,backend,model_path,system,mode,isl,osl,batch_size,tp_size,pp_size,attention_dp_size,moe_tp_size,moe_ep_size,precision,gemm_quant_mode,silicon_ttft_ms,silicon_tpot_ms\n\
                   x,source_file=2026-04-06.csv; model=DeepSeek-R1; measured=2025-11-17T00:00:00.000Z,trtllm,deepseek-ai/DeepSeek-R1,gb200,agg,8192,1024,538,48,1,1,48,1,fp4,nvfp4,1897,17\n\
                   g,source_file=/x/aic-auto-gap-analysis/data/gb200/trtllm/1.2.0rc6.post1/deepseek_r1.csv,trtllm,deepseek-ai/DeepSeek-R1,gb200,agg,8192,1024,64,8,1,1,8,1,fp4,nvfp4,900,20\n";
        let m = read_measured(aic, "aic.csv").unwrap();
        let kept: Vec<_> = m.observations.iter().map(|o| o.id.as_str()).collect();
        assert_eq!(kept, ["g_ttft", "g_tpot"]);
        assert!(m
            .skipped
            .iter()
            .all(|s| s.id.starts_with("x_") && s.reason == SkipReason::DisaggregatedServing));
        assert_eq!(m.skipped.len(), 2);
        // On the development data: no InferenceX GB200 row is scored as aggregated (the worst
        // of them, 2150 clients at "TP32", was predicted 50x its TTFT).
        let Some(b) = shared("aic_silicon_sample.csv") else {
            return;
        };
        let m = read_measured(&b, "aic_silicon_sample.csv").unwrap();
        assert!(!m
            .observations
            .iter()
            .any(|o| o.gpu == "gb200" && o.id.starts_with("2026_04_06")));
        let disaggregated = m
            .skipped
            .iter()
            .filter(|s| s.gpu == "gb200" && s.id.contains("_agg_"))
            .count();
        assert_eq!(disaggregated, 2 * 55);
    }

    #[test]
    fn inferencex_h100_runs_of_late_2025_at_512_clients_state_no_server_load() {
        // From 2025-11-21 to 2025-12-08 InferenceX's H100 gpt-oss script gave the client a
        // fixed `--max-concurrency 512` while the server kept the sweep's `--max-num-seqs`:
        // a row at 512 of that window does not say how many sequences ran.
        let aic = "id,silicon_data_source,backend,model_path,system,mode,isl,osl,batch_size,tp_size,pp_size,attention_dp_size,precision,gemm_quant_mode,silicon_ttft_ms,silicon_tpot_ms\n\
                   in,source_file=2026-04-06.csv; model=GPT-OSS-120B; measured=2025-12-08T00:00:00.000Z; image=vllm/vllm-openai:v0.11.2,vllm,openai/gpt-oss-120b,h100_sxm,agg,8192,1024,512,8,1,1,fp4,nvfp4,19691,4.4\n\
                   later,source_file=2026-04-06.csv; model=GPT-OSS-120B; measured=2026-03-27T00:00:00.000Z,vllm,openai/gpt-oss-120b,h100_sxm,agg,8192,1024,512,8,1,1,fp4,nvfp4,19691,4.4\n\
                   fewer,source_file=2026-04-06.csv; model=GPT-OSS-120B; measured=2025-12-08T00:00:00.000Z,vllm,openai/gpt-oss-120b,h100_sxm,agg,8192,1024,64,8,1,1,fp4,nvfp4,437,14\n";
        let m = read_measured(aic, "aic.csv").unwrap();
        let skipped: Vec<_> = m
            .skipped
            .iter()
            .map(|s| (s.id.as_str(), s.reason))
            .collect();
        assert_eq!(
            skipped,
            [
                ("in_ttft", SkipReason::LoadNotStated),
                ("in_tpot", SkipReason::LoadNotStated)
            ]
        );
        assert_eq!(m.observations.len(), 4);
        // On the development data: the nine such rows (TPOT 3.6-27 ms measured, as the same
        // layouts' 4- to 64-client rows; 5-10x that predicted for 512 running) are skipped.
        let Some(b) = shared("aic_silicon_sample.csv") else {
            return;
        };
        let m = read_measured(&b, "aic_silicon_sample.csv").unwrap();
        let n = m
            .skipped
            .iter()
            .filter(|s| s.reason == SkipReason::LoadNotStated && s.gpu == "h100_sxm")
            .count();
        assert_eq!(n, 18);
    }

    #[test]
    fn moe_experts_on_blackwell_are_timed_by_the_fused_moe_tables() {
        // Issue 16, part 3: FP4 MoE on Blackwell was over-predicted, most on gpt-oss-120b
        // (median TPOT 1.5-1.6x measured on B200): its MXFP4 experts ran as two grouped GEMMs
        // on the dense NVFP4 GEMM curve, its 16-bit attention GEMMs on that curve too. A row
        // of a model published in MXFP4 serves that checkpoint, and a MoE layer on a GPU with
        // a MoE table for its format is one fused MoE call on that table's curve.
        let aic = "id,backend,model_path,system,mode,isl,osl,batch_size,tp_size,pp_size,attention_dp_size,precision,gemm_quant_mode,silicon_ttft_ms,silicon_tpot_ms\n\
                   g,trtllm,openai/gpt-oss-120b,b200_sxm,agg,1024,1024,32,1,1,1,fp4,nvfp4,500,8\n";
        let m = read_measured(aic, "aic.csv").unwrap();
        let (cases, skipped) = prepare(m, catalog(), &MemoryParams::embedded().unwrap());
        assert!(skipped.is_empty(), "{skipped:?}");
        assert!(cases.iter().all(|c| c.weights == Dtype::Mxfp4));
        assert!(cases[0].replica().has_kernels());
        let Some(b) = shared("aic_silicon_sample.csv") else {
            return;
        };
        let m = read_measured(&b, "aic_silicon_sample.csv").unwrap();
        let (cases, _) = prepare(m, catalog(), &MemoryParams::embedded().unwrap());
        let oss: Vec<_> = cases
            .into_iter()
            .filter(|c| {
                c.model == "gpt-oss-120b"
                    && c.gpu.starts_with("B200")
                    && c.obs.metric == Metric::TpotMs
            })
            .collect();
        assert!(oss.len() >= 100, "{}", oss.len());
        let table = EfficiencyTable::embedded().unwrap();
        let ratio = |cases: &[inferplan_perf::validation::Case]| {
            let predicted = predict_all(cases, &table);
            let mut r: Vec<f64> = cases
                .iter()
                .zip(&predicted)
                .map(|(c, p)| p / c.obs.value)
                .collect();
            r.sort_by(f64::total_cmp);
            r[r.len() / 2]
        };
        let median = ratio(&oss);
        assert!((0.75..1.4).contains(&median), "median {median}");
    }

    #[test]
    fn the_measured_files_are_mostly_evaluated_and_scored() {
        let (Some(a), Some(b)) = (
            shared("llm_throughput.csv"),
            shared("aic_silicon_sample.csv"),
        ) else {
            return;
        };
        let mut m = read_measured(&a, "llm_throughput.csv").unwrap();
        let m2 = read_measured(&b, "aic_silicon_sample.csv").unwrap();
        m.observations.extend(m2.observations);
        m.skipped.extend(m2.skipped);
        let (cases, skipped) = prepare(m, catalog(), &MemoryParams::embedded().unwrap());
        let predicted = predict_all(&cases, &EfficiencyTable::embedded().unwrap());
        let r = report(&score(&cases, &predicted), &skipped, 5);
        assert!(r.rows_evaluated > 7000, "{}", r.rows_evaluated);
        assert!(
            !r.skipped.contains_key("unknown_model"),
            "{:?}",
            r.skipped_details
        );
        assert!(predicted.iter().all(|p| p.is_finite() && *p > 0.0));
        // Regression guard on the embedded calibration (in-sample figures of VALIDATION.md).
        assert!(r.by_metric["tpot"].median_ape < 25.0, "{:?}", r.by_metric);
        assert!(
            r.by_metric["throughput"].median_ape < 30.0,
            "{:?}",
            r.by_metric
        );
    }

    /// Capacity item 13 (VALIDATION.md): under open-loop arrivals a vLLM step carries the
    /// prompt tokens waiting when it starts, not one mean chunk. A large decode batch of a small
    /// model hides a small chunk's compute and not a full budget's (the extra time is convex
    /// in the tokens), so the heavy iteration (one mean chunk's worth of the mean extra per
    /// token) grows with the prompts' spread, and the mean TPOT with it. SGLang runs its prompt
    /// steps alone: no decode to hide under, but since capacity item 16 the prompts it meets
    /// are priced over their lengths, whose mean time is above the mean prompt's (attention
    /// pairs), so its heavy iteration grows with the spread too.
    #[test]
    fn open_loop_steps_carry_what_waits() {
        let r = replica("Llama 3.2 1B", "L4", 1, Engine::Vllm);
        let w = |load| Workload {
            input_tokens: 1155,
            output_tokens: 211,
            load,
        };
        let full = r.run(&w(Load::Saturated), &NO_OVERHEAD).requests_s;
        let at = |load: f64, cv2: f64| {
            r.run_lengths(
                &w(Load::Poisson {
                    rate_rps: full * load,
                }),
                &NO_OVERHEAD,
                0.6,
                cv2,
            )
        };
        let (equal, spread) = (at(0.7, 0.0), at(0.7, 0.5));
        assert!(
            spread.tpot_heavy_ms > equal.tpot_heavy_ms && spread.tpot_ms > equal.tpot_ms,
            "{spread:?} {equal:?}"
        );
        // The extra per prompt token: at most about a full budget's beside the same batch.
        let extra = |e: &Estimate| (e.tpot_heavy_ms - e.tpot_light_ms) / 1155.0;
        let budget = r.limits().max_num_batched_tokens as f64;
        let decode = Batch::decode(spread.batch + 1.0, 1155.0 + 211.0 * 1.6 / 2.0);
        let light = r.iteration(&decode, &NO_OVERHEAD).0 * 1e3;
        let full_step = r
            .iteration(&decode.plus(Batch::prefill(budget, 0.0)), &NO_OVERHEAD)
            .0
            * 1e3;
        assert!(
            extra(&spread) <= (full_step - light) / budget * 1.5,
            "{spread:?}"
        );
        let g = replica("Llama 3.2 1B", "L4", 1, Engine::Sglang);
        let g_full = g.run(&w(Load::Saturated), &NO_OVERHEAD).requests_s;
        let sg = |cv2| {
            g.run_lengths(
                &w(Load::Poisson {
                    rate_rps: g_full * 0.5,
                }),
                &NO_OVERHEAD,
                0.6,
                cv2,
            )
        };
        let (g_equal, g_spread) = (sg(0.0), sg(0.5));
        assert!(g_spread.tpot_heavy_ms > g_equal.tpot_heavy_ms);
        assert_eq!(g_equal.prompt_work_cv2, 0.0);
        assert!(g_spread.prompt_work_cv2 > 0.0);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]

        /// The capacity search asks whether the TTFT and TPOT quantiles are within a limit and
        /// stops searching once it knows: the same answer as the quantile in full, at limits
        /// far off, close and exactly at the quantile (and one ulp on either side of it).
        #[test]
        fn a_quantile_within_a_limit_is_the_full_quantile_compared(
            load in 0.02f64..1.05,
            engine in prop::sample::select(vec![Engine::Vllm, Engine::Trtllm, Engine::Sglang]),
            arrival_cv in prop::sample::select(vec![0.5, 1.0, 1.5, 3.0]),
            q in prop::sample::select(vec![0.9, 0.99, 0.999]),
            cv2 in 0.0f64..1.5,
        ) {
            let r = replica("llama-3.1-8b", "L40S", 1, engine);
            let w = |load| Workload { input_tokens: 1000, output_tokens: 200, load };
            let full = r.run(&w(Load::Saturated), &NO_OVERHEAD).requests_s;
            let est = r.run_spread(&w(Load::Poisson { rate_rps: full * load }), &NO_OVERHEAD, 0.6);
            let prompts: Vec<f64> = (0..24).map(|i| 300.0 + 60.0 * f64::from(i)).collect();
            let gaps: Vec<f64> = (0..24).map(|i| 20.0 + 15.0 * f64::from(i)).collect();
            let budget = r.limits().max_num_batched_tokens as f64;
            let ttft = est.ttft_quantile_steps_ms(q, &prompts, 975.0, cv2, arrival_cv, budget);
            let tpot = est.tpot_quantile_over_ms(q, &gaps, cv2, arrival_cv);
            for (value, name) in [(ttft, "ttft"), (tpot, "tpot")] {
                for limit in [
                    value * 0.5,
                    value * 0.999,
                    value.next_down(),
                    value,
                    value.next_up(),
                    value * 1.001,
                    value * 2.0,
                ] {
                    let ok = |x: f64| x / limit <= 1.0 || (x / limit).is_nan();
                    let within = match name {
                        "ttft" => est.ttft_quantile_steps_within(q, &prompts, 975.0, cv2, arrival_cv, budget, &ok),
                        _ => est.tpot_quantile_over_within(q, &gaps, cv2, arrival_cv, &ok),
                    };
                    prop_assert_eq!(within, ok(value), "{} {} against {}", name, value, limit);
                }
            }
        }
    }
}

/// Issue 16, part 3, pattern 5: each engine reserves memory beyond weights and KV cache by its
/// own rule, per release (`data/perf/engines.csv`), and `fit`'s engine view applies it.
mod engine_memory {
    use super::{catalog, GIB};
    use inferplan_catalog::{Dtype, Interconnect};
    use inferplan_perf::efficiency::EfficiencyTable;
    use inferplan_perf::engine::{sglang_max_running_requests, KvBasis, Setup};
    use inferplan_perf::measured::{read_measured, Metric};
    use inferplan_perf::validation::{predict_all, prepare};
    use inferplan_perf::{fit, Engine, FitInput, MemoryParams, Placement};

    fn setup<'a>(version: &'a str, gpu: &'a str, mem: f64, tp: u32) -> Setup<'a> {
        Setup {
            version: Some(version),
            gpu_name: Some(gpu),
            gpu_mem_gib: mem,
            arch: catalog().gpu(gpu).unwrap().arch,
            tp,
            pp: 1,
        }
    }

    #[test]
    fn engine_defaults_follow_the_release() {
        let sglang = |v, gpu, mem, tp| Engine::Sglang.defaults_for(&setup(v, gpu, mem, tp));
        // 0.5.3+: reserved = 512 + 8192 × 1.5 + 256 × 2 + 1/8 × 1024 MiB of 81920 (the
        // examples of the engines.csv row: TP1 0.836, TP8 0.819; 141 GiB TP1 0.907).
        let h100 = sglang("0.5.8.post1", "H100 SXM", 80.0, 1);
        assert_eq!(h100.kv_memory_fraction, 0.836);
        assert_eq!(h100.limits.kv_basis, KvBasis::StaticPool);
        assert_eq!(h100.limits.max_num_batched_tokens, 8192);
        assert_eq!(
            sglang("0.5.8", "H100 SXM", 80.0, 8).kv_memory_fraction,
            0.819
        );
        assert_eq!(
            sglang("0.5.9", "H200 SXM", 141.0, 1).kv_memory_fraction,
            0.907
        );
        // 0.4.7.post1-0.5.2: (9.5 + P/2) GiB below 90 GiB; older releases by TP degree.
        assert_eq!(
            sglang("0.5.1.post1", "H100 SXM", 80.0, 1).kv_memory_fraction,
            0.875
        );
        assert_eq!(
            sglang("0.5.1-rc0.pre1", "H100 SXM", 80.0, 8).kv_memory_fraction,
            0.831
        );
        assert_eq!(
            sglang("0.3.0", "H100 SXM", 80.0, 1).kv_memory_fraction,
            0.88
        );
        // No release stated: the one render writes (0.5.3).
        assert_eq!(sglang("", "H100 SXM", 80.0, 1).kv_memory_fraction, 0.836);
        assert_eq!(
            Engine::Sglang
                .defaults(80.0, h100_arch())
                .kv_memory_fraction,
            0.836
        );

        let lmdeploy = |v, gpu, mem| Engine::Lmdeploy.defaults_for(&setup(v, gpu, mem, 1));
        let old = lmdeploy("v0.1.0a1", "A100 80GB SXM4", 80.0);
        assert_eq!(old.limits.kv_basis, KvBasis::OfTotal);
        assert_eq!((old.kv_memory_fraction, old.limits.max_num_seqs), (0.5, 64));
        let new = lmdeploy("v0.16.0", "H100 SXM", 80.0);
        assert_eq!(new.limits.kv_basis, KvBasis::OfFreeAfterWeights);
        assert_eq!(
            (new.kv_memory_fraction, new.limits.max_num_seqs),
            (0.8, 1024)
        );
        assert_eq!(
            lmdeploy("0.16.0", "A100 80GB SXM4", 80.0)
                .limits
                .max_num_seqs,
            384
        );
        assert_eq!(lmdeploy("0.16.0", "L40S", 48.0).limits.max_num_seqs, 128);
        assert_eq!(
            lmdeploy("v0.6.0", "H100 SXM", 80.0).limits.max_num_seqs,
            512
        );
        assert_eq!(
            lmdeploy("nightly", "H100 SXM", 80.0).limits.max_num_seqs,
            1024
        );

        let vllm = Engine::Vllm.defaults_for(&setup("0.19.0", "H100 SXM", 80.0, 1));
        assert_eq!(vllm.limits.kv_basis, KvBasis::WithWeights);
        assert_eq!(vllm.kv_memory_fraction, 0.9);
    }

    fn h100_arch() -> inferplan_catalog::Arch {
        catalog().gpu("H100 SXM").unwrap().arch
    }

    #[test]
    fn sglang_running_requests_follow_its_kv_pool() {
        // min(KV tokens / 2, min(max(KV / context × 512, 2048), 4096)).
        assert_eq!(sglang_max_running_requests(1_000_000, 40_960), 4096);
        assert_eq!(sglang_max_running_requests(100_000, 131_072), 2048);
        assert_eq!(sglang_max_running_requests(2_000, 40_960), 1000);
    }

    #[test]
    fn each_engine_sizes_its_kv_cache_by_its_own_rule() {
        let c = catalog();
        let gpu = c.gpu("H100 SXM").unwrap();
        let model = c.model("qwen3-32b").unwrap();
        let params = MemoryParams::embedded().unwrap();
        let report = |engine: Engine, version: &str| {
            let d = engine.defaults_for(&setup(version, "H100 SXM", 80.0, 1));
            fit(
                &FitInput {
                    placement: Placement {
                        model,
                        gpu,
                        gpu_mem_gib: 80.0,
                        gpus: 1,
                        interconnect: Interconnect::Single,
                        tp: 1,
                        attention_dp: 1,
                        pp: 1,
                        weights: Dtype::Bf16,
                        kv: Dtype::Bf16,
                    },
                    context: 2176,
                    concurrency: 1,
                    gpu_memory_utilization: d.kv_memory_fraction,
                    safety_margin: 1.0,
                    engine: d.limits,
                },
                &params,
            )
            .unwrap()
        };
        let nt = params.non_torch_gib(1, Interconnect::Single);
        let close = |a: f64, b: f64| (a - b).abs() < 1e-9;
        let v = report(Engine::Vllm, "0.19.0");
        let w = v.weights_gib_per_gpu;
        assert!(close(
            v.engine_kv_cache_gib_per_gpu,
            80.0 * 0.9 - w - v.activations_gib_per_gpu - nt
        ));
        // SGLang: (memory − non-torch) × mem_fraction_static − weights; its activations,
        // CUDA graphs and metadata live in the 13.4 GiB the fraction leaves.
        let s = report(Engine::Sglang, "0.5.8");
        assert!(close(
            s.engine_kv_cache_gib_per_gpu,
            (80.0 - nt) * 0.836 - w
        ));
        assert!(s.engine_kv_cache_gib_per_gpu < v.engine_kv_cache_gib_per_gpu - 2.0);
        // LMDeploy 0.16: 0.8 of what the weights and communicators leave; 0.1: 0.5 of all.
        let l = report(Engine::Lmdeploy, "v0.16.0");
        assert!(close(l.engine_kv_cache_gib_per_gpu, (80.0 - w - nt) * 0.8));
        let old = report(Engine::Lmdeploy, "v0.1.0a1");
        assert!(close(
            old.engine_kv_cache_gib_per_gpu,
            (80.0_f64 * 0.5).min(80.0 - w - old.activations_gib_per_gpu - nt)
        ));
        // Below the engine view's KV cache in GiB: a 2176-token Qwen3 32B sequence is 0.53 GiB.
        assert!(s.engine_max_concurrency < v.engine_max_concurrency);
        assert!(s.engine_kv_cache_gib_per_gpu * GIB > 0.0);
    }

    #[test]
    fn memory_tight_sglang_runs_hold_what_sglang_allocates() {
        // On the development data: SGLang's Qwen3 32B BF16 runs on one H100 with 16 clients
        // were modelled with vLLM's rule (0.88 of the GPU minus vLLM's activation peak),
        // room for 12-13 sequences; SGLang 0.5.x reserves 13.4 GiB for activations and
        // CUDA graphs, which leaves room for 10-11, so more of the 16 clients queue, as the
        // measured TTFTs of 16-89 s say they do.
        let Some(text) = shared("aic_silicon_sample.csv") else {
            return;
        };
        let m = read_measured(&text, "aic_silicon_sample.csv").unwrap();
        let (cases, _) = prepare(m, catalog(), &MemoryParams::embedded().unwrap());
        let tight: Vec<_> = cases
            .into_iter()
            .filter(|c| {
                c.obs.engine == Engine::Sglang
                    && c.model == "Qwen3 32B"
                    && c.gpu == "H100 SXM"
                    && c.obs.tp == 1
                    && c.weights == Dtype::Bf16
                    && c.workload.input_tokens == 2048
            })
            .collect();
        assert!(tight.len() >= 6, "{}", tight.len());
        for c in &tight {
            let (i, o) = (c.workload.input_tokens, c.workload.output_tokens);
            let room = c.replica().kv_cache_tokens() / (i + o) as f64;
            // vLLM's rule gave 11.0-12.9 for these lengths.
            assert!((8.0..10.8).contains(&room), "{}: room {room}", c.obs.id);
        }
        let predicted = predict_all(&tight, &EfficiencyTable::embedded().unwrap());
        let mut ratios: Vec<f64> = tight
            .iter()
            .zip(&predicted)
            .filter(|(c, _)| c.obs.metric == Metric::TpotMs)
            .map(|(c, p)| p / c.obs.value)
            .collect();
        ratios.sort_by(f64::total_cmp);
        let median = ratios[ratios.len() / 2];
        // Their TPOT is still over-predicted (pattern 5 of issue 16 is open): 1.4-1.5x with
        // the fourth session's table, 1.57-1.67x after the fifth session's refit, whose
        // step parameters are fitted without the TTFT rows. It must not grow.
        assert!((0.67..1.7).contains(&median), "TPOT pred/meas {ratios:?}");
    }

    /// Median predicted/measured of the development rows `keep` selects, with the embedded
    /// table; `None` without the shared data.
    fn median_ratio(keep: impl Fn(&inferplan_perf::validation::Case) -> bool) -> Option<f64> {
        let text = shared("llm_throughput.csv")?;
        let m = read_measured(&text, "llm_throughput.csv").unwrap();
        let (cases, _) = prepare(m, catalog(), &MemoryParams::embedded().unwrap());
        let chosen: Vec<_> = cases.into_iter().filter(keep).collect();
        assert!(!chosen.is_empty());
        let predicted = predict_all(&chosen, &EfficiencyTable::embedded().unwrap());
        let mut r: Vec<f64> = chosen
            .iter()
            .zip(&predicted)
            .map(|(c, p)| p / c.obs.value)
            .collect();
        r.sort_by(f64::total_cmp);
        Some(r[r.len() / 2])
    }

    #[test]
    fn trtllm_engines_of_0_14_attend_over_the_whole_context_of_windowed_layers() {
        // Issue 16 (throughput under CV): TensorRT-LLM's engine workflow applies a model's
        // sliding window only when the runtime is told to (`--max_attention_window_size`),
        // and trtllm-bench of 0.14 passes only the memory fraction (engines.csv row
        // `attention_window`). Mistral 7B v0.1's 4096-token window then covers nothing of a
        // 20000-token prompt: every layer reads and caches the whole context.
        let trtllm = |v: &str| {
            Engine::Trtllm
                .defaults_for(&setup(v, "H100 SXM", 80.0, 1))
                .limits
                .full_context_windows
        };
        assert!(trtllm("0.14.0"));
        assert!(!trtllm("1.0"));
        assert!(
            !Engine::Trtllm
                .defaults_on(catalog().gpu("H100 SXM").unwrap(), 80.0, 1, 1)
                .limits
                .full_context_windows
        );
        let rows = "\
id,engine,engine_version,model,precision,gpu,gpu_count,tp,pp,input_len,output_len,concurrency_or_batch,request_rate,metric,value,unit,notes
w-0001,TensorRT-LLM,0.14.0,Mistral-7B,FP16,H100-SXM-80GB,1,1,1,20000,2000,,inf (offline trtllm-bench),output_tok_s,570,tokens/s,
w-0002,TensorRT-LLM,1.0,Mistral-7B,FP16,H100-SXM-80GB,1,1,1,20000,2000,,inf (offline trtllm-bench),output_tok_s,570,tokens/s,
w-0003,TensorRT-LLM,0.14.0,Mistral-7B,FP16,H100-SXM-80GB,1,1,1,2048,2048,,inf (offline trtllm-bench),output_tok_s,570,tokens/s,
w-0004,TensorRT-LLM,1.0,Mistral-7B,FP16,H100-SXM-80GB,1,1,1,2048,2048,,inf (offline trtllm-bench),output_tok_s,570,tokens/s,
";
        let (cases, skipped) = prepare(
            read_measured(rows, "w.csv").unwrap(),
            catalog(),
            &MemoryParams::embedded().unwrap(),
        );
        assert!(skipped.is_empty(), "{skipped:?}");
        let p = predict_all(&cases, &EfficiencyTable::embedded().unwrap());
        // Past the window every step reads the whole context: slower.
        assert!(p[0] < 0.6 * p[1], "{p:?}");
        // Within the window nothing changes.
        assert!((p[2] / p[3] - 1.0).abs() < 1e-9, "{p:?}");
        // On the development data: the four 20000/2000 Mistral rows of trtllm-v0.14 were
        // predicted at 1.9-2.4x their throughput; now within 0.7-1.3x.
        if let Some(r) = median_ratio(|c| {
            c.obs.source == "trtllm-v0.14"
                && c.model.starts_with("Mistral")
                && c.workload.input_tokens == 20000
        }) {
            assert!((0.7..1.3).contains(&r), "median {r}");
        }
    }

    #[test]
    fn trtllm_v1_0_moe_runs_use_attention_data_parallelism() {
        // Issue 16 (throughput under CV): the v1.0 revision of TensorRT-LLM's perf-overview.md
        // (@00f37686) runs MoE models with `--ep` and `enable_attention_dp: true`; the rows
        // say so in their notes. Each of the TP GPUs is then an attention rank of its own.
        let rows = "\
id,engine,engine_version,model,precision,gpu,gpu_count,tp,pp,input_len,output_len,concurrency_or_batch,request_rate,metric,value,unit,notes
d-0001,TensorRT-LLM (PyTorch backend),1.0,Qwen3-30B-A3B,FP4,RTX-PRO-6000-Blackwell-Server,8,8,1,128,128,,inf (offline trtllm-bench),output_tok_s,39490,tokens/s,\"MoE model: doc uses --ep and attention-DP options for MoE runs (EP size not listed per cell).\"
d-0002,TensorRT-LLM (PyTorch backend),1.0,Qwen3-30B-A3B,FP4,RTX-PRO-6000-Blackwell-Server,1,1,1,128,128,,inf (offline trtllm-bench),output_tok_s,28011,tokens/s,\"MoE model: doc uses --ep and attention-DP options for MoE runs (EP size not listed per cell).\"
d-0003,TensorRT-LLM (PyTorch backend),0.20,Qwen3-30B-A3B,FP4,RTX-PRO-6000-Blackwell-Server,8,8,1,128,128,,inf (offline trtllm-bench),output_tok_s,39490,tokens/s,
";
        let m = read_measured(rows, "d.csv").unwrap();
        let dp: Vec<u32> = m.observations.iter().map(|o| o.attention_dp).collect();
        assert_eq!(dp, [8, 1, 1]);
        // On the development data: Qwen3 30B-A3B on 4 and 8 RTX PRO 6000 (PCIe) was predicted
        // at 0.46-0.62x its throughput with every GPU in one TP group; as attention ranks
        // within 0.8-1.25x.
        if let Some(r) = median_ratio(|c| {
            c.obs.source == "trtllm-v1.0"
                && c.model.starts_with("Qwen3 30B")
                && c.gpu.starts_with("RTX PRO 6000")
                && c.obs.tp >= 4
        }) {
            assert!((0.8..1.25).contains(&r), "median {r}");
        }
    }

    fn shared(name: &str) -> Option<String> {
        std::fs::read_to_string(crate::support::shared().join("data/measured").join(name)).ok()
    }
}
