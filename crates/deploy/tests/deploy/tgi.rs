//! Issue 14 (5): a plan whose #1 runs Hugging Face TGI renders it with
//! `text-generation-launcher`: the pinned image, the plan's layout and limits as launcher
//! arguments, a PodMonitor on `/metrics` that adds the `model_name` label TGI does not write,
//! an autoscaler on TGI's queue and batch gauges, and no rule on a series TGI does not export.

use inferplan_deploy::render::{self, tgi};
use inferplan_plan::Workload;

use crate::render::{
    assert_snapshots, check_structure, doc, from_json, lint_warnings, list, plan_json, s,
    stored_plan,
};
use crate::support::catalog;

/// `examples/chat-70b-fp8.toml` with TGI as its only engine.
pub(crate) fn chat_tgi() -> Workload {
    let text = std::fs::read_to_string(crate::support::example("chat-70b-fp8.toml")).unwrap();
    let text = text.replacen("engines = [\"vllm\", \"sglang\"]", "engines = [\"tgi\"]", 1);
    assert!(text.contains("engines = [\"tgi\"]"));
    let w = Workload::from_toml(&text, "chat-70b-tgi.toml").unwrap();
    w.validate().unwrap();
    w
}

/// The case's name in the snapshots and the validators' directory.
pub(crate) const CASE: &str = "chat-70b-tgi";

/// Every file rendered for the TGI chat plan's #1, checked piece by piece and against its
/// snapshot; lint finds nothing to warn about.
#[test]
fn a_tgi_first_candidate_renders_with_text_generation_launcher() {
    let p = stored_plan(CASE, || plan_json(&chat_tgi()));
    let input = from_json(&p, 1).unwrap();
    assert_eq!(input.engine, inferplan_perf::Engine::Tgi);
    assert_eq!(input.image, tgi::IMAGE);
    let files = render::render(&input);
    check_structure(&input, &files);
    let d = doc(&files, "deployment.yaml");
    let c = &d["spec"]["template"]["spec"]["containers"][0];
    assert_eq!(s(&c["name"]), "tgi");
    assert_eq!(s(&list(&c["command"])[0]), "text-generation-launcher");
    let args: Vec<&str> = list(&c["args"]).iter().map(s).collect();
    let value = |flag: &str| {
        let i = args.iter().position(|a| *a == flag).unwrap_or_else(|| {
            panic!("{flag} missing: {args:?}");
        });
        args[i + 1].to_owned()
    };
    assert_eq!(value("--model-id"), input.model_path());
    assert_eq!(value("--num-shard"), input.tp.to_string());
    assert_eq!(value("--port"), tgi::PORT.to_string());
    let total: u64 = value("--max-total-tokens").parse().unwrap();
    let prompt: u64 = value("--max-input-tokens").parse().unwrap();
    let prefill: u64 = value("--max-batch-prefill-tokens").parse().unwrap();
    // TGI's router refuses to start unless prompt < total and prefill ≥ prompt.
    assert_eq!(total, input.max_model_len);
    assert!(prompt < total && prefill >= prompt && prefill >= input.max_num_batched_tokens);
    let admitted: u64 = value("--max-concurrent-requests").parse().unwrap();
    assert!(admitted > input.max_num_seqs);
    // The plan quantizes FP8 at load from the 16-bit checkpoint, or reads the checkpoint's.
    let quantize = args.iter().position(|a| *a == "--quantize");
    assert_eq!(
        quantize.is_some(),
        matches!(
            inferplan_serving::checkpoint::quantization(input.precision, input.native_weights),
            inferplan_serving::checkpoint::Quantization::OnlineFp8
        )
    );
    if quantize.is_some() {
        assert_eq!(value("--quantize"), "fp8");
    }
    for probe in ["startupProbe", "readinessProbe", "livenessProbe"] {
        assert_eq!(s(&c[probe]["httpGet"]["path"]), tgi::HEALTH_PATH);
    }
    // Prometheus on `/metrics`, with the served name written into `model_name`.
    let pm = doc(&files, "podmonitor.yaml");
    let ep = &list(&pm["spec"]["podMetricsEndpoints"])[0];
    assert_eq!(s(&ep["path"]), tgi::METRICS_PATH);
    let relabel = &list(&ep["metricRelabelings"])[0];
    assert_eq!(s(&relabel["targetLabel"]), "model_name");
    assert_eq!(s(&relabel["replacement"]), input.served_model_name);
    // KEDA: in flight = batch + queue, queue = queue, both gauges.
    let so = doc(&files, "keda-scaledobject.yaml");
    // The load triggers (the `cron` floors, when the plan bills hours above the minimum,
    // come first).
    let queries: Vec<String> = list(&so["spec"]["triggers"])
        .iter()
        .filter(|t| s(&t["type"]) == "prometheus")
        .map(|t| s(&t["metadata"]["query"]).to_owned())
        .collect();
    assert!(
        queries[0].contains(&format!("sum({}{{", tgi::BATCH_SIZE))
            && queries[0].contains(&format!("sum({}{{", tgi::QUEUE_SIZE)),
        "{}",
        queries[0]
    );
    assert!(
        queries[1].starts_with(&format!("sum({}{{", tgi::QUEUE_SIZE)),
        "{}",
        queries[1]
    );
    let rules = &files
        .iter()
        .find(|(n, _)| n == "prometheus-rules.yaml")
        .unwrap()
        .1;
    assert!(rules.contains(tgi::TPOT) && rules.contains(tgi::E2E));
    assert!(!rules.contains("vllm:"), "no vLLM series in the rules");
    assert!(!rules.contains("kv_cache_usage"), "TGI exports no KV gauge");
    let readme = &files.iter().find(|(n, _)| n == "README.md").unwrap().1;
    assert!(readme.contains("`--max-total-tokens`") && readme.contains("### TGI"));
    if input.slo.ttft_ms.is_some() {
        assert!(readme.contains("exports no TTFT histogram"), "{readme}");
    }
    // Lint reads `text-generation-launcher` and finds nothing to warn about.
    let warnings = lint_warnings(&files);
    assert!(warnings.is_empty(), "{warnings:?}");
    assert_snapshots(CASE, &files);
}

/// Lint reads the rendered container as TGI with the plan's degree: a pod that asks for fewer
/// GPUs than `--num-shard` is flagged.
#[test]
fn lint_reads_the_rendered_launcher_arguments() {
    let p = stored_plan(CASE, || plan_json(&chat_tgi()));
    let input = from_json(&p, 1).unwrap();
    let files = render::render(&input);
    let (_, text) = files.iter().find(|(n, _)| n == "deployment.yaml").unwrap();
    let gpus = format!("nvidia.com/gpu: \"{}\"", input.gpus_per_pod);
    assert!(text.contains(&gpus), "{text}");
    assert!(input.gpus_per_pod > 1, "the 70B case shards");
    let broken = text.replace(&gpus, "nvidia.com/gpu: \"1\"");
    let findings =
        inferplan_deploy::lint::lint(&[("deployment.yaml".to_owned(), broken)], catalog()).unwrap();
    assert!(
        findings.iter().any(|f| f.message.contains("--num-shard")),
        "{:?}",
        findings
            .iter()
            .map(|f| (&f.code, &f.message))
            .collect::<Vec<_>>()
    );
}

/// The weight format follows the plan: FP8 from a 16-bit checkpoint is `--quantize fp8`
/// (TGI quantizes at load), an FP8 checkpoint needs no flag (TGI reads its config), 16-bit
/// weights are `--dtype`; lint reads the written format back.
#[test]
fn the_launcher_writes_the_plans_weight_format() {
    use inferplan_catalog::Dtype;
    let p = stored_plan(CASE, || plan_json(&chat_tgi()));
    let base = from_json(&p, 1).unwrap();
    let has =
        |a: &[String], pair: [&str; 2]| a.windows(2).any(|w| w[0] == pair[0] && w[1] == pair[1]);
    let flags = |native: Option<Dtype>, precision: Dtype| {
        let mut i = base.clone();
        i.native_weights = native;
        i.precision = precision;
        tgi::launcher_args(&i, "/models/m")
    };
    let online = flags(None, Dtype::Fp8);
    assert!(has(&online, ["--quantize", "fp8"]), "{online:?}");
    assert!(!online.iter().any(|a| a == "--dtype"));
    let stored = flags(Some(Dtype::Fp8), Dtype::Fp8);
    assert!(!stored.iter().any(|a| a == "--quantize" || a == "--dtype"));
    let bf16 = flags(None, Dtype::Bf16);
    assert!(has(&bf16, ["--dtype", "bfloat16"]), "{bf16:?}");
    // `--quantize fp8` is a format lint's flag table reads as FP8.
    assert_eq!(
        inferplan_serving::checkpoint::quantization_format("fp8"),
        Some(Dtype::Fp8)
    );
}
