//! Issue 14 (5): a plan whose #1 runs LMDeploy renders it with `lmdeploy serve api_server`:
//! the pinned image, the backend that serves the model, the plan's layout and limits, the
//! checkpoint's `--model-format` and the KV cache's `--quant-policy`, Prometheus on `/metrics`
//! labelled by `--model-name`, an autoscaler on LMDeploy's queue and batch gauges; lint and
//! `simulate --deploy` read the rendered Deployment back.

use inferplan_catalog::Dtype;
use inferplan_deploy::deployed::Signal;
use inferplan_deploy::render::{self, lmdeploy};
use inferplan_plan::Workload;
use inferplan_serving::lmdeploy::Backend;

use crate::render::{
    assert_snapshots, check_structure, doc, from_json, lint_warnings, list, plan_json, s,
    stored_plan,
};
use crate::support::catalog;

/// `examples/chat-70b-fp8.toml` with LMDeploy as its only engine, in INT4: the catalog's FP8
/// checkpoint of Llama 3.3 70B is compressed-tensors, which LMDeploy does not load, and its
/// INT4 one is compressed-tensors pack-quantized, which TurboMind does.
pub(crate) fn chat_lmdeploy() -> Workload {
    let text = std::fs::read_to_string(crate::support::example("chat-70b-fp8.toml")).unwrap();
    let text = text
        .replacen(
            "engines = [\"vllm\", \"sglang\"]",
            "engines = [\"lmdeploy\"]",
            1,
        )
        .replacen("precision = \"fp8\"", "precision = \"int4\"", 1)
        .replacen("name = \"chat-70b-fp8\"", "name = \"chat-70b-lmdeploy\"", 1);
    assert!(text.contains("engines = [\"lmdeploy\"]") && text.contains("\"int4\""));
    let w = Workload::from_toml(&text, "chat-70b-lmdeploy.toml").unwrap();
    w.validate().unwrap();
    w
}

/// The case's name in the snapshots and the validators' directory.
pub(crate) const CASE: &str = "chat-70b-lmdeploy";

fn args_of(files: &[(String, String)]) -> Vec<String> {
    let d = doc(files, "deployment.yaml");
    let c = &d["spec"]["template"]["spec"]["containers"][0];
    list(&c["args"]).iter().map(|a| s(a).to_owned()).collect()
}

fn value(args: &[String], flag: &str) -> Option<String> {
    args.windows(2).find(|w| w[0] == flag).map(|w| w[1].clone())
}

/// Every file rendered for the LMDeploy chat plan's #1, checked piece by piece and against its
/// snapshot; lint finds nothing to warn about.
#[test]
fn an_lmdeploy_first_candidate_renders_with_its_api_server() {
    let p = stored_plan(CASE, || plan_json(&chat_lmdeploy()));
    let input = from_json(&p, 1).unwrap();
    assert_eq!(input.engine, inferplan_perf::Engine::Lmdeploy);
    assert_eq!(input.image, lmdeploy::IMAGE);
    assert_eq!(input.precision, Dtype::Int4);
    let setup = input.lmdeploy.clone().expect("an LMDeploy setup");
    assert_eq!(setup.backend, Backend::TurboMind, "Llama runs on TurboMind");
    // The plan sizes LMDeploy's cache as the engine does, a share of the memory left after the
    // weights (`KvBasis::OfFreeAfterWeights`): the flag is the plan's fraction, 0.8 by default.
    assert_eq!(setup.cache_max_entry_count, input.gpu_memory_utilization);
    assert_eq!(setup.cache_max_entry_count, 0.8);
    let files = render::render(&input);
    check_structure(&input, &files);
    let d = doc(&files, "deployment.yaml");
    let c = &d["spec"]["template"]["spec"]["containers"][0];
    assert_eq!(s(&c["name"]), "lmdeploy");
    let command: Vec<&str> = list(&c["command"]).iter().map(s).collect();
    assert_eq!(command, ["lmdeploy", "serve", "api_server"]);
    let args = args_of(&files);
    assert_eq!(args[0], input.model_path(), "the model is positional");
    let v = |f: &str| value(&args, f).unwrap_or_else(|| panic!("{f} missing: {args:?}"));
    assert_eq!(v("--backend"), "turbomind");
    assert_eq!(v("--server-port"), lmdeploy::PORT.to_string());
    assert_eq!(v("--tp"), input.tp.to_string());
    assert_eq!(v("--session-len"), input.max_model_len.to_string());
    assert_eq!(v("--max-batch-size"), input.max_num_seqs.to_string());
    assert_eq!(v("--model-name"), input.served_model_name);
    // The catalog's INT4 checkpoint is compressed-tensors (pack-quantized).
    assert_eq!(v("--model-format"), "compressed-tensors");
    assert!(value(&args, "--dtype").is_none());
    // No flag LMDeploy 0.16 does not have: metrics are on by default.
    assert!(!args.iter().any(|a| a == "--enable-metrics"));
    assert_eq!(
        value(&args, "--quant-policy").as_deref(),
        (input.kv_dtype == Dtype::Fp8).then_some("int8")
    );
    for probe in ["startupProbe", "readinessProbe", "livenessProbe"] {
        assert_eq!(s(&c[probe]["httpGet"]["path"]), lmdeploy::HEALTH_PATH);
    }
    // Prometheus on `/metrics`; LMDeploy labels its series with `--model-name` itself.
    let pm = doc(&files, "podmonitor.yaml");
    let ep = &list(&pm["spec"]["podMetricsEndpoints"])[0];
    assert_eq!(s(&ep["path"]), lmdeploy::METRICS_PATH);
    assert!(ep["metricRelabelings"].is_badvalue(), "no relabelling");
    // KEDA: in flight = running + waiting, queue = waiting, both gauges.
    let so = doc(&files, "keda-scaledobject.yaml");
    // The load triggers (the `cron` floors, when the plan bills hours above the minimum,
    // come first).
    let queries: Vec<String> = list(&so["spec"]["triggers"])
        .iter()
        .filter(|t| s(&t["type"]) == "prometheus")
        .map(|t| s(&t["metadata"]["query"]).to_owned())
        .collect();
    assert!(
        queries[0].contains(&format!("sum({}{{", lmdeploy::RUNNING))
            && queries[0].contains(&format!("sum({}{{", lmdeploy::WAITING)),
        "{}",
        queries[0]
    );
    assert!(
        queries[1].starts_with(&format!("sum({}{{", lmdeploy::WAITING)),
        "{}",
        queries[1]
    );
    let rules = &files
        .iter()
        .find(|(n, _)| n == "prometheus-rules.yaml")
        .unwrap()
        .1;
    for series in [
        lmdeploy::TTFT,
        lmdeploy::TPOT,
        lmdeploy::E2E,
        lmdeploy::KV_CACHE_USAGE,
    ] {
        assert!(rules.contains(series), "{series} missing from the rules");
    }
    assert!(!rules.contains("vllm:"), "no vLLM series in the rules");
    let readme = &files.iter().find(|(n, _)| n == "README.md").unwrap().1;
    assert!(readme.contains("`--session-len`") && readme.contains("### LMDeploy"));
    let warnings = lint_warnings(&files);
    assert!(warnings.is_empty(), "{warnings:?}");
    assert_snapshots(CASE, &files);
}

/// Lint reads the rendered container as LMDeploy with the plan's degree: a pod that asks for
/// fewer GPUs than `--tp` is flagged, naming LMDeploy's flag.
#[test]
fn lint_reads_the_rendered_api_server_arguments() {
    let p = stored_plan(CASE, || plan_json(&chat_lmdeploy()));
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
        findings
            .iter()
            .any(|f| f.message.contains("LMDeploy") && f.message.contains("--tp")),
        "{:?}",
        findings
            .iter()
            .map(|f| (&f.code, &f.message))
            .collect::<Vec<_>>()
    );
}

/// `simulate --deploy` reads the rendered Deployment back as the plan's LMDeploy replica: the
/// engine, model, layout, limits, weight and KV formats and the autoscaler.
#[test]
fn the_simulator_reads_back_the_rendered_lmdeploy_deployment() {
    let p = stored_plan(CASE, || plan_json(&chat_lmdeploy()));
    let input = from_json(&p, 1).unwrap();
    let files = render::render(&input);
    let yaml: Vec<(String, String)> = files
        .iter()
        .filter(|(n, _)| n.ends_with(".yaml"))
        .cloned()
        .collect();
    let params = inferplan_perf::MemoryParams::embedded().unwrap();
    let d = inferplan_deploy::deployed::read(&yaml, catalog(), &params).unwrap();
    assert_eq!(d.served.engine, inferplan_perf::Engine::Lmdeploy);
    assert_eq!(d.served.model.name, input.model);
    assert_eq!((d.served.tp, d.served.pp), (input.tp, input.pp));
    assert_eq!(d.served.weights, input.precision);
    assert_eq!(
        d.served.kv, input.kv_dtype,
        "an INT8 KV cache is simulated as the plan's FP8 one"
    );
    assert_eq!(d.served.max_model_len, Some(input.max_model_len));
    assert_eq!(d.served.max_num_seqs, Some(input.max_num_seqs));
    assert_eq!(
        d.served.max_num_batched_tokens,
        Some(input.max_num_batched_tokens)
    );
    assert_eq!(d.served.instance.name, input.instance);
    // The KEDA triggers on LMDeploy's gauges are followed as in-flight and queue triggers (the
    // hourly floors, `cron` triggers, are read as schedules beside them when the plan bills any).
    let scaler = d.autoscaler.expect("the KEDA ScaledObject is read");
    let signals: Vec<Signal> = scaler
        .triggers
        .iter()
        .map(|t| t.signal)
        .filter(|s| !matches!(s, Signal::Schedule { .. }))
        .collect();
    assert_eq!(signals, [Signal::InFlight, Signal::Queue]);
    assert_eq!(scaler.min, input.min_replicas);
    assert_eq!(scaler.max, input.max_replicas);
    let in_flight = scaler
        .triggers
        .iter()
        .find(|t| t.signal == Signal::InFlight)
        .expect("an in-flight trigger");
    assert_eq!(in_flight.threshold, f64::from(input.target_in_flight));
}

/// The backend and format flags follow the model and the checkpoint: a Mistral model runs on
/// the PyTorch engine with an FP8 KV cache, 16-bit weights are `--dtype`, a model neither
/// backend serves is refused with the reason, and a checkpoint format LMDeploy cannot load is
/// rejected by the planner (`no_checkpoint`) with LMDeploy's reason.
#[test]
fn backends_and_formats_come_from_lmdeploys_sources() {
    let p = stored_plan(CASE, || plan_json(&chat_lmdeploy()));
    let base = from_json(&p, 1).unwrap();
    let mut bf16 = base.clone();
    bf16.precision = Dtype::Bf16;
    bf16.native_weights = None;
    bf16.kv_dtype = Dtype::Bf16;
    bf16.lmdeploy = Some(lmdeploy::Setup {
        backend: Backend::TurboMind,
        model_format: None,
        quant_policy: None,
        cache_max_entry_count: 0.8,
    });
    let a = lmdeploy::serve_args(&bf16, bf16.lmdeploy.as_ref().unwrap(), "/models/m");
    assert_eq!(value(&a, "--dtype").as_deref(), Some("bfloat16"));
    assert!(value(&a, "--model-format").is_none() && value(&a, "--quant-policy").is_none());
    let pt = lmdeploy::Setup {
        backend: Backend::PyTorch,
        model_format: None,
        quant_policy: Some("fp8"),
        cache_max_entry_count: 0.8,
    };
    let a = lmdeploy::serve_args(&bf16, &pt, "/models/m");
    assert_eq!(value(&a, "--backend").as_deref(), Some("pytorch"));
    assert_eq!(value(&a, "--quant-policy").as_deref(), Some("fp8"));
    // What is written is what lint reads back.
    assert_eq!(
        inferplan_serving::checkpoint::kv_format_of(Some("int8"), Dtype::Bf16),
        Dtype::Int8
    );

    // The planner: Llama 3.1 8B's only FP8 checkpoint is compressed-tensors FP8.
    let text = r#"
name = "lmdeploy-fp8"
[model]
name = "Llama 3.1 8B"
precision = "fp8"
engines = ["lmdeploy"]
[traffic]
rate_rps = 1.0
[lengths]
input_tokens = 1000
output_tokens = 200
[slo]
ttft_ms = 5000.0
tpot_ms = 150.0
[constraints]
instance_families = ["g6e"]
"#;
    let w = Workload::from_toml(text, "lmdeploy-fp8.toml").unwrap();
    w.validate().unwrap();
    let plan = inferplan_plan::search::plan(&crate::planner::inputs(), &w).unwrap();
    assert!(plan.candidates.is_empty(), "no LMDeploy FP8 candidate");
    let r = plan
        .rejections
        .iter()
        .find(|r| r.reason == "no_checkpoint")
        .expect("a no_checkpoint rejection");
    assert!(
        r.detail.contains("lmdeploy") && r.detail.contains("compressed-tensors"),
        "{}",
        r.detail
    );
}
