//! The planner on the example workloads: pinned answers and the invariants every answer keeps.

use inferplan_catalog::Dtype;
use inferplan_perf::{Deployment, Engine, Placement, Replica};
use inferplan_plan::workload::Platform;
use inferplan_plan::{plan, Plan, Workload};

use crate::planner::inputs;

fn run(w: &Workload) -> Plan {
    plan(&inputs(), w).unwrap()
}

fn example(name: &str) -> Workload {
    Workload::load(&crate::support::example(name)).unwrap()
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
        // After the fifth session's refit (split front-end fit, closed-loop clumps) and the
        // autoscaler's headroom billed hour by hour: TP4 vLLM, two replicas to a p5.48xlarge
        // (was TP8 SGLang ×4). ×8 after capacity item 13 (VALIDATION.md: a step's prompt
        // tokens priced over what the steps carry; its TTFT-bound bursty twin in the matrix,
        // Llama 3.3 70B TP8 vLLM chat, moved −20.0 → −23.3 %, away from the simulator); ×7
        // again after the sixth session's refit (the eager prompt step per layer, the
        // per-sequence step cost). TP4 SGLang ×5 after capacity item 16 (VALIDATION.md: the
        // TTFT quantile of the prompt wait and the own prompt together, not the sum of their
        // quantiles; its TTFT-bound bursty twin in the matrix, Llama 3.3 70B TP8 SGLang chat,
        // went −33.3 → +13.4 % against 30,000 simulated requests).
        // TP4 vLLM ×6 after the seventh session's refit (tied with TP4 SGLang ×5 at $99.99/h,
        // ahead on SLO headroom); its `plan --verify` passes 3 serving replicas of the 4
        // planned, behind the random router the rendered Service is. ×5 after capacity item 21
        // (a first token waits for the step in progress, not a queue's exponential tail; its
        // TTFT-bound bursty twin, Llama 3.3 70B TP8 vLLM chat, went −17.7 → +8.7 %): towards
        // that `plan --verify`.
        ("chat-70b-fp8.toml", "p5.48xlarge tp4 pp1 fp8 vllm ×5"),
        // Inferentia2 (vLLM's Neuron backend, $0.76/h on demand) is the cheapest where NxD
        // Inference serves the model and its format (not INT4: async-documents).
        ("single-gpu-13b-fp8.toml", "inf2.xlarge tp1 pp1 fp8 vllm ×1"),
        // The first token waits for the steps ahead of it, its 300-token prompt sharing an
        // 8,192-token step with its neighbours' (VALIDATION.md, capacity item 9), not for a
        // queue of whole steps: g6e.xlarge ×7 (was g6f.2xlarge ×38; `plan --verify` passed
        // g6e.xlarge replicas at 120 req/s each when 68 were planned); ×6 after the refit of
        // the efficiencies with the MoE kernel curves; g6f.2xlarge ×12 after the fifth
        // session's refit (a lower fixed front-end time: 66 ms on the kernel path, was 98);
        // g6e.xlarge ×5 after capacity item 13 (a step's prompt tokens priced over what the
        // steps carry; away from the simulator: `plan --verify` passes 3 serving replicas at
        // 200 req/s each where 174.6 are planned, VALIDATION.md item 13). ×4 after the sixth
        // session's refit (230.5 req/s per replica) and capacity item 14 (251.9: an open
        // loop's prompt waits for the step in progress and the prompt tokens ahead, not a
        // whole heavy step per open request); towards the simulator: `plan --verify` passed 3
        // serving replicas at 245 req/s each (99.5 %).
        (
            "fraud-scoring-small.toml",
            "g6e.xlarge tp1 pp1 bf16 vllm ×4",
        ),
        // Each hour bills at least the autoscaler's minimum, which runs all day: g6e.xlarge
        // ×3 keeps 2 warm ($1.87/h, was $1.46/h billing 1 in quiet hours); inf2.24xlarge
        // holds its 3 replicas on one instance ($1.70/h).
        // ×2 after the fifth session's refit. g6e.xlarge INT4 ×2 since a Neuron replica's
        // prompts run alone, one per step at their bucket (issue 13, NxD Inference's steps in
        // plan and simulation alike): inf2.24xlarge TP2 ×2 serves less per replica. ×3 after
        // the eighth session's refit (0.90 req/s per replica for a 1.98 req/s peak), which
        // `plan --verify` confirms: 2 replicas miss the SLO in simulation, 3 pass.
        ("async-documents.toml", "g6e.xlarge tp1 pp1 int4 vllm ×3"),
        // ×14 before capacity item 9; ×12 before items 11-12 (VALIDATION.md): the wider
        // bursty TPOT tail (CV 1.2) moves it away from the simulator, whose `plan --verify`
        // passed 10 replicas at item 10; ×12 again after the fifth session's refit (its
        // `plan --verify` passes 10 serving replicas of the 11 planned). ×13 after capacity
        // item 16 (a prompt met decodes beside the request on vLLM too: TPOT p99 79.6 ms
        // planned at 0.42 req/s per replica): away from the simulator, whose `plan --verify`
        // finds 73.2 ms at the 12 serving replicas planned and passes 10.
        // ×12 again after the seventh session's refit; ×11 after capacity items 19-21 and the
        // eighth session's refit (towards the simulator's 10 serving replicas).
        ("regulated-isolated.toml", "g6e.xlarge tp1 pp1 fp8 vllm ×11"),
        // A new inf2 node copies the weights from S3 and compiles the Neuron graphs (the
        // render's cold start, now the plan's too): the longer start of each job run takes
        // one more instance than vLLM's S3 stream did (was ×8); ×8 again after the fifth
        // session's refit; ×10 since the plan runs NxD Inference's steps (one bucketed prompt
        // per step of its own, decodes at the longest sequence's bucket) as the simulator
        // does: `plan --verify` passes 9 (was 5 of 8 planned).
        ("batch-summaries.toml", "inf2.xlarge tp1 pp1 fp8 vllm ×10"),
    ] {
        let p = run(&example(file));
        assert!(!p.candidates.is_empty(), "{file}: {:?}", p.rejected);
        assert_eq!(best(&p), want, "{file}");
    }
}

#[test]
fn candidates_are_ranked_explained_and_feasible() {
    let f = inputs();
    for file in [
        "chat-70b-fp8.toml",
        "regulated-isolated.toml",
        "single-gpu-13b-fp8.toml",
    ] {
        let w = example(file);
        let p = run(&w);
        // Cheapest first, up to near-ties: nothing ranked later is more than 2 % cheaper.
        for (i, a) in p.candidates.iter().enumerate() {
            for b in &p.candidates[i + 1..] {
                assert!(
                    a.usd_per_hour <= b.usd_per_hour * 1.02 + 1e-9,
                    "{file}: {} ${} before {} ${}",
                    a.instance,
                    a.usd_per_hour,
                    b.instance,
                    b.usd_per_hour
                );
            }
        }
        // Each configuration is one EKS outcome (a candidate or a rejection); a SageMaker
        // candidate or a `sagemaker_*` rejection is added for every configuration that runs.
        let counted: usize = p
            .rejected
            .iter()
            .filter(|(r, _)| !r.starts_with("sagemaker_"))
            .map(|(_, n)| n)
            .sum();
        let eks = p
            .candidates
            .iter()
            .filter(|c| c.platform == Platform::Eks)
            .count();
        assert_eq!(counted + eks, p.considered, "{file}");
        let model = f.catalog.model(&w.model.name).unwrap();
        for c in &p.candidates {
            // Every candidate shown fits in memory with its context.
            let inst = f.catalog.instance(&c.instance).unwrap();
            let gpu = f.catalog.instance_gpu(inst).unwrap();
            let mem = inst.gpu_mem_gib().or(gpu.memory_gib()).unwrap();
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
                    attention_dp: 1,
                    pp: c.pp,
                    weights: c.precision,
                    kv: c.kv_dtype,
                },
                engine,
                limits: d.limits,
                kv_memory_fraction: d.kv_memory_fraction,
            };
            let context = (w.lengths.input_tokens.p99() + w.lengths.output_tokens.p99()) as u64;
            assert!(Replica::new(&dep, context.min(model.max_context), f.memory).is_ok());
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

#[test]
fn eu_west_1_and_g7_examples_have_candidates() {
    let p = run(&example("gdpr-eu-west-1.toml"));
    assert!(!p.candidates.is_empty(), "{:?}", p.rejected);
    assert!(p.candidates.iter().all(|c| c.region == "eu-west-1"));
    // The 13B article example ranks a G7 option with its cost per token.
    for file in ["single-gpu-13b-fp8.toml", "g7-vs-g5-13b.toml"] {
        let p = run(&example(file));
        let g7 = p
            .options()
            .into_iter()
            .find(|c| c.family == "g7")
            .unwrap_or_else(|| panic!("{file}: no g7 option: {:?}", p.rejected));
        assert!(g7.usd_per_million_output_tokens > 0.0, "{file}");
    }
}

#[test]
fn every_gpu_family_estimates() {
    let f = inputs();
    let model = f.catalog.model("Llama 3.2 1B").unwrap();
    let mut families = std::collections::BTreeSet::new();
    for inst in f.catalog.instances() {
        let Some(gpu) = f.catalog.instance_gpu(inst) else {
            continue;
        };
        if inst.gpu_count < 1.0 {
            continue;
        }
        // Every accelerator in gpus.csv is served: vLLM on GPUs, its Neuron backend on
        // Inferentia2 and Trainium.
        assert!(
            Engine::Vllm.runs_on(gpu.arch),
            "{} ({}): no engine runs on {:?}",
            inst.name,
            gpu.name,
            gpu.arch
        );
        if !families.insert(inst.family.clone()) {
            continue;
        }
        let mem = inst.gpu_mem_gib().or(gpu.memory_gib()).unwrap();
        let weights =
            if gpu.support(inferplan_catalog::Dtype::Bf16) == inferplan_catalog::Support::Native {
                inferplan_catalog::Dtype::Bf16
            } else {
                inferplan_catalog::Dtype::Fp16
            };
        let d = Engine::Vllm.defaults(mem, gpu.arch);
        let dep = Deployment {
            placement: Placement {
                model,
                gpu,
                gpu_mem_gib: mem,
                gpus: inst.whole_gpus(),
                interconnect: inferplan_catalog::Interconnect::Single,
                tp: 1,
                attention_dp: 1,
                pp: 1,
                weights,
                kv: weights,
            },
            engine: Engine::Vllm,
            limits: d.limits,
            kv_memory_fraction: d.kv_memory_fraction,
        };
        let r = Replica::new(&dep, 2048, f.memory)
            .unwrap_or_else(|e| panic!("{} ({}): {e}", inst.name, gpu.name));
        let eff = f.efficiency.lookup(gpu.arch, Engine::Vllm, weights).eff;
        let e = r.run(
            &inferplan_perf::Workload {
                input_tokens: 512,
                output_tokens: 64,
                load: inferplan_perf::Load::Static { batch: 1 },
            },
            &eff,
        );
        assert!(
            e.ttft_ms.is_finite() && e.ttft_ms > 0.0,
            "{}: {e:?}",
            inst.name
        );
    }
    for fam in [
        "g4dn", "g5", "g5g", "g6", "g6e", "g7", "g7e", "p3", "p4d", "p5", "inf2", "trn1", "trn1n",
        "trn2",
    ] {
        assert!(families.contains(fam), "{fam} missing from {families:?}");
    }
}

#[test]
fn nothing_qualified_names_causes_in_order_and_a_checked_change() {
    let inputs = inputs();
    let mut w = example("gdpr-eu-west-1.toml");
    w.constraints.regions = vec!["ap-east-1".to_owned()];
    // EKS only: a SageMaker candidate needs no EC2 price (it is shown without a price).
    w.constraints.platforms = vec![Platform::Eks];
    w.constraints.data_class = inferplan_plan::workload::DataClass::General;
    w.model.precision = "bf16".to_owned();
    let p = plan(&inputs, &w).unwrap();
    assert!(p.candidates.is_empty(), "{:?}", p.candidates.len());
    let why = inferplan_plan::nothing::explain(&inputs, &w, &p).unwrap();
    assert_eq!(why.causes[0].cause, "no price in the allowed regions");
    assert_eq!(why.causes[0].count, p.rejected["no_price_in_regions"]);
    let change = why.change.expect("a region with candidates");
    assert!(change.change.contains("--regions"), "{change:?}");
    // Checked: planning in the suggested region finds that option.
    let region = change.change.rsplit(' ').next().unwrap().to_owned();
    w.constraints.regions = vec![region];
    let q = plan(&inputs, &w).unwrap();
    assert!((q.options()[0].usd_per_hour - change.usd_per_hour).abs() < 1e-9);
}

// `--precision any` (issue 13, item 3).

/// `any` on a small model: 16-bit runs as FP16 on the T4 (no BF16 there), and every low-bit
/// option serves a checkpoint that exists.
#[test]
fn any_offers_16_bit_on_t4_and_low_bit_only_with_a_checkpoint() {
    let mut w = example("batch-summaries.toml");
    w.model.name = "Llama 3.2 3B".to_owned();
    w.model.precision = "any".to_owned();
    let p = run(&w);
    let t4: Vec<_> = p
        .candidates
        .iter()
        .filter(|c| c.gpu == "T4" && c.instance.starts_with("g4dn"))
        .collect();
    assert!(!t4.is_empty(), "{:?}", p.rejected);
    assert!(
        t4.iter().any(|c| c.precision == Dtype::Fp16),
        "16-bit on T4"
    );
    assert!(p
        .candidates
        .iter()
        .all(|c| c.gpu != "T4" || c.precision != Dtype::Bf16));
    // The 3B model has only 16-bit checkpoints: FP8 is quantized while loading one of them,
    // INT4 and FP4 are never offered.
    for c in &p.candidates {
        let ck = c.checkpoint.as_ref().expect("a catalogued checkpoint");
        match c.precision {
            Dtype::Bf16 | Dtype::Fp16 => assert!(!ck.online_fp8),
            Dtype::Fp8 => assert!(ck.online_fp8, "{}", ck.hf_id),
            other => panic!("{other} offered without a checkpoint: {}", ck.hf_id),
        }
        let quality = c.findings.iter().any(|f| f.code == "IP114");
        assert_eq!(
            quality,
            c.precision == Dtype::Fp8,
            "{} {}",
            c.instance,
            c.precision
        );
    }
    assert!(p.rejected.get("no_checkpoint").copied().unwrap_or(0) > 0);
    // An explicit BF16 is not rewritten: the T4 cannot run it.
    w.model.precision = "bf16".to_owned();
    let p = run(&w);
    assert!(p.candidates.iter().all(|c| c.gpu != "T4"));
}

/// A model without catalogued checkpoints is searched in 16 bits only under `any`.
#[test]
fn any_without_catalogued_checkpoints_stays_at_16_bits() {
    let mut w = example("batch-summaries.toml");
    w.model.name = "Llama 2 7B".to_owned();
    w.model.precision = "any".to_owned();
    let p = run(&w);
    assert!(!p.candidates.is_empty(), "{:?}", p.rejected);
    assert!(p
        .candidates
        .iter()
        .all(|c| matches!(c.precision, Dtype::Bf16 | Dtype::Fp16)));
    let refused = p
        .rejections
        .iter()
        .find(|r| r.reason == "no_checkpoint")
        .expect("low-bit formats refused");
    assert!(
        refused.detail.contains("model.checkpoint"),
        "{}",
        refused.detail
    );
}

/// The checkpoint follows the engine: TensorRT-LLM's FP8 candidates serve NVIDIA's ModelOpt
/// export (it does not load the compressed-tensors repository vLLM and SGLang serve), and a
/// format whose only checkpoint it cannot load (Llama 3.3 70B's INT4 is compressed-tensors)
/// is rejected `no_checkpoint`, naming the release.
#[test]
fn the_checkpoint_is_one_the_engine_loads() {
    let mut w = example("chat-70b-fp8.toml");
    w.model.engines = vec!["trtllm".to_owned()];
    let p = run(&w);
    assert!(!p.candidates.is_empty(), "{:?}", p.rejected);
    for c in &p.candidates {
        let ck = c.checkpoint.as_ref().expect("a catalogued checkpoint");
        assert_eq!(
            ck.hf_id, "nvidia/Llama-3.3-70B-Instruct-FP8",
            "{}",
            c.instance
        );
    }
    w.model.precision = "int4".to_owned();
    let p = run(&w);
    assert!(p.candidates.is_empty());
    let refused = p
        .rejections
        .iter()
        .find(|r| r.reason == "no_checkpoint")
        .expect("INT4 refused for TensorRT-LLM");
    assert!(
        refused.detail.contains("TensorRT-LLM 1.2.1")
            && refused
                .detail
                .contains("RedHatAI/Llama-3.3-70B-Instruct-quantized.w4a16"),
        "{}",
        refused.detail
    );
    // vLLM loads that checkpoint.
    w.model.engines = vec!["vllm".to_owned()];
    let p = run(&w);
    assert!(p.candidates.iter().any(|c| c
        .checkpoint
        .as_ref()
        .is_some_and(|k| k.hf_id == "RedHatAI/Llama-3.3-70B-Instruct-quantized.w4a16")));
}

/// What `render` refuses for LMDeploy the planner does not offer: TurboMind quantizes the KV
/// cache only for 128-wide heads (Llama 3.2 1B's are 64), so its one-byte KV cache is
/// rejected `engine_unsupported` with LMDeploy's reason rather than planned and then refused.
#[test]
fn lmdeploy_candidates_are_ones_render_writes() {
    let mut w = example("chat-70b-fp8.toml");
    w.model.name = "Llama 3.2 1B".to_owned();
    w.model.engines = vec!["lmdeploy".to_owned()];
    w.model.precision = "fp8".to_owned();
    w.model.checkpoint = Some("meta-llama/Llama-3.2-1B-Instruct-FP8".to_owned());
    let p = run(&w);
    // GPUs without FP8 keep a 16-bit cache, which LMDeploy holds; none keeps a one-byte one.
    for c in &p.candidates {
        assert!(
            matches!(c.kv_dtype, Dtype::Bf16 | Dtype::Fp16),
            "{}",
            c.instance
        );
    }
    let refused = p
        .rejections
        .iter()
        .find(|r| r.reason == "engine_unsupported" && r.detail.contains("LMDeploy"))
        .unwrap_or_else(|| panic!("{:?}", p.rejected));
    assert!(
        refused.detail.contains("128-wide heads"),
        "{}",
        refused.detail
    );
    // 16-bit weights with a 16-bit cache are served.
    w.model.precision = "bf16".to_owned();
    w.model.checkpoint = None;
    let p = run(&w);
    assert!(!p.candidates.is_empty(), "{:?}", p.rejected);
}
