//! Issue 14 (5): a plan whose #1 runs TensorRT-LLM renders it with `trtllm-serve`: NVIDIA's
//! release image, the plan's layout and limits as `trtllm-serve` arguments, the LLM-API
//! options that turn on its Prometheus metrics, a PodMonitor on `/prometheus/metrics`, and an
//! autoscaler that reads the load by Little's law (the release has no queue gauge).

use inferplan_deploy::render::{self, engine, trtllm};
use inferplan_plan::Workload;

use crate::render::{
    assert_snapshots, check_structure, doc, from_json, lint_warnings, list, plan_json, s,
    stored_plan,
};
use crate::support::catalog;

/// `examples/chat-70b-fp8.toml` with TensorRT-LLM as its only engine.
pub(crate) fn chat_trtllm() -> Workload {
    let text = std::fs::read_to_string(crate::support::example("chat-70b-fp8.toml")).unwrap();
    let text = text.replacen(
        "engines = [\"vllm\", \"sglang\"]",
        "engines = [\"trtllm\"]",
        1,
    );
    assert!(text.contains("engines = [\"trtllm\"]"));
    let w = Workload::from_toml(&text, "chat-70b-trtllm.toml").unwrap();
    w.validate().unwrap();
    w
}

/// The case's name in the snapshots and the validators' directory.
pub(crate) const CASE: &str = "chat-70b-trtllm";

/// Every file rendered for the TensorRT-LLM chat plan's #1, checked piece by piece and against
/// its snapshot; lint finds nothing to warn about.
#[test]
fn a_trtllm_first_candidate_renders_with_trtllm_serve() {
    let p = stored_plan(CASE, || plan_json(&chat_trtllm()));
    let input = from_json(&p, 1).unwrap();
    assert_eq!(input.engine, inferplan_perf::Engine::Trtllm);
    assert_eq!(input.image, trtllm::IMAGE);
    let files = render::render(&input);
    check_structure(&input, &files);
    let d = doc(&files, "deployment.yaml");
    let c = &d["spec"]["template"]["spec"]["containers"][0];
    assert_eq!(s(&c["name"]), "trtllm");
    let script = s(&list(&c["args"])[0]).to_owned();
    // The options file is written, then `trtllm-serve` runs with the plan's numbers.
    assert!(script.starts_with("printf '"), "{script}");
    assert!(script.contains("return_perf_metrics: true"), "{script}");
    let serve = &script[script
        .find("exec trtllm-serve ")
        .expect("exec trtllm-serve")..];
    for (flag, value) in [
        ("--backend", "pytorch".to_owned()),
        ("--tp_size", input.tp.to_string()),
        ("--pp_size", input.pp.to_string()),
        ("--max_seq_len", input.max_model_len.to_string()),
        ("--max_batch_size", input.max_num_seqs.to_string()),
        ("--max_num_tokens", input.max_num_batched_tokens.to_string()),
        ("--port", trtllm::PORT.to_string()),
        ("--extra_llm_api_options", trtllm::OPTIONS_PATH.to_owned()),
    ] {
        assert!(
            serve.contains(&format!(" {flag} {value}")),
            "{flag}: {serve}"
        );
    }
    assert_eq!(
        input.kv_dtype == inferplan_catalog::Dtype::Fp8,
        script.contains("dtype: fp8")
    );
    // Probes on `/health`; Prometheus on `/prometheus/metrics`, named for the selectors.
    for probe in ["startupProbe", "readinessProbe", "livenessProbe"] {
        assert_eq!(s(&c[probe]["httpGet"]["path"]), trtllm::HEALTH_PATH);
    }
    let pm = doc(&files, "podmonitor.yaml");
    let ep = &list(&pm["spec"]["podMetricsEndpoints"])[0];
    assert_eq!(s(&ep["path"]), trtllm::METRICS_PATH);
    let relabel = &list(&ep["metricRelabelings"])[0];
    assert_eq!(s(&relabel["targetLabel"]), "model_name");
    assert_eq!(s(&relabel["replacement"]), input.served_model_name);
    // KEDA: in flight and waiting by Little's law over the histograms' sums.
    let so = doc(&files, "keda-scaledobject.yaml");
    // The load triggers (the `cron` floors, when the plan bills hours above the minimum,
    // come first).
    let queries: Vec<String> = list(&so["spec"]["triggers"])
        .iter()
        .filter(|t| s(&t["type"]) == "prometheus")
        .map(|t| s(&t["metadata"]["query"]).to_owned())
        .collect();
    let window = engine::LITTLES_LAW_WINDOW;
    assert!(
        queries[0].contains(&format!("rate({}_sum{{", trtllm::E2E)),
        "{}",
        queries[0]
    );
    assert!(
        queries[1].contains(&format!("rate({}_sum{{", trtllm::QUEUE_TIME)),
        "{}",
        queries[1]
    );
    assert!(queries.iter().all(|q| q.contains(&format!("[{window}]"))));
    let rules = &files
        .iter()
        .find(|(n, _)| n == "prometheus-rules.yaml")
        .unwrap()
        .1;
    assert!(rules.contains(trtllm::TTFT) && rules.contains(trtllm::TPOT));
    assert!(!rules.contains("vllm:"), "no vLLM series in the rules");
    let readme = &files.iter().find(|(n, _)| n == "README.md").unwrap().1;
    assert!(readme.contains("Little's law") && readme.contains("/prometheus/metrics"));
    assert!(
        readme.contains("`--max_seq_len`"),
        "the argument table is trtllm-serve's"
    );
    // The plan serves a checkpoint TensorRT-LLM 1.2.1 loads (a Model Optimizer export for
    // FP8), so the README has nothing to warn about.
    if input.precision != inferplan_catalog::Dtype::Bf16 {
        let c = inferplan_catalog::Catalog::embedded().unwrap();
        let row = c
            .all_checkpoints()
            .iter()
            .find(|k| k.hf_id == input.checkpoint)
            .expect("a catalogued checkpoint");
        let container = inferplan_serving::checkpoint::Container::of(row);
        assert!(
            inferplan_serving::checkpoint::loads("trtllm", container),
            "{} is {container:?}",
            input.checkpoint
        );
        if input.precision == inferplan_catalog::Dtype::Fp8 {
            assert_eq!(
                container,
                inferplan_serving::checkpoint::Container::ModelOpt
            );
        }
    }
    assert!(!readme.contains("Check the checkpoint's format"));
    // Lint reads `trtllm-serve` inside the `bash -c` script and finds nothing to warn about.
    let warnings = lint_warnings(&files);
    assert!(warnings.is_empty(), "{warnings:?}");
    assert_snapshots(CASE, &files);
}

/// Lint reads the rendered container as TensorRT-LLM with the plan's degree: a pod that asks
/// for fewer GPUs than `--tp_size` is flagged (IL rules understand `trtllm-serve` arguments).
#[test]
fn lint_reads_the_rendered_trtllm_serve_arguments() {
    let p = stored_plan(CASE, || plan_json(&chat_trtllm()));
    let input = from_json(&p, 1).unwrap();
    let files = render::render(&input);
    let (_, text) = files.iter().find(|(n, _)| n == "deployment.yaml").unwrap();
    let gpus = format!("nvidia.com/gpu: \"{}\"", input.gpus_per_pod);
    assert!(text.contains(&gpus), "{text}");
    let broken = text.replace(&gpus, "nvidia.com/gpu: \"1\"");
    let findings =
        inferplan_deploy::lint::lint(&[("deployment.yaml".to_owned(), broken)], catalog()).unwrap();
    assert!(
        findings.iter().any(|f| f.message.contains("--tp_size")),
        "{:?}",
        findings
            .iter()
            .map(|f| (&f.code, &f.message))
            .collect::<Vec<_>>()
    );
}
