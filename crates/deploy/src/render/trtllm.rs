//! TensorRT-LLM as the renderer runs it: `trtllm-serve` (the PyTorch backend) in NVIDIA's
//! release image, its arguments derived from a plan, the LLM-API options file it reads, the
//! health endpoint, and the Prometheus series the autoscaler and the alert rules read.
//!
//! Sources (read 2026-12-07; see `docs/render.md`, "TensorRT-LLM"):
//! - server and arguments: `docs/source/commands/trtllm-serve.rst` in NVIDIA/TensorRT-LLM
//!   (commit 000d7718): `trtllm-serve <model> [--backend pytorch --tp_size <tp> --pp_size <pp>
//!   --host <host> --port <port>]`, `--max_batch_size`, `--max_num_tokens`,
//!   `--kv_cache_free_gpu_memory_fraction`, `--extra_llm_api_options <yaml>`; endpoints
//!   `/health`, `/metrics` (JSON iteration statistics, not Prometheus) and `/version`.
//! - Prometheus: `tensorrt_llm/serve/openai_server.py` (commit 00057725): the server mounts
//!   `/prometheus/metrics` only when the LLM arguments set `return_perf_metrics` ("register
//!   /prometheus/metrics"), and labels every series `model_name="undefined"` (and
//!   `engine_type="undefined"`). The series of the 1.2 releases are those of the collector
//!   NVIDIA/TensorRT-LLM#5785 added (merged 2025-08, "Core Metrics Implementation"), in
//!   `tensorrt_llm/metrics/collector.py` as the index stores it before the 1.3 changes (the
//!   version with `log_metrics_dict`, read 2026-12-07): no prefix, the counter
//!   `request_success_total` (label `finished_reason`) and the histograms
//!   `e2e_request_latency_seconds`, `time_to_first_token_seconds`,
//!   `time_per_output_token_seconds` (one sample per request) and `request_queue_time_seconds`,
//!   with the bucket bounds below, and no gauge. The `trtllm_` prefix and the KV gauges
//!   (`trtllm_kv_cache_utilization`, NVIDIA/TensorRT-LLM#11243, opened 2026-02-03) came on
//!   main for 1.3: the collector at commit 050f80def8df236e326949c8bd9dee10fd896a83 sets
//!   `self.metric_prefix = "trtllm_"`; NVIDIA/TensorRT-LLM#11768 (2026-02-27) lists the
//!   prefixed names as main's; ai-dynamo/dynamo#6469 (2026-02-21) dates the renamed
//!   `log_request_metrics_dict` to 1.3.0rc5; kubernetes-sigs/gateway-api-inference-extension
//!   #2596 (2026-03-16) calls the prefixed metrics "to be added to TensorRT-LLM 1.3.0"; and a
//!   1.2 server's scrape in vllm-project/aibrix#2004 (2026-03-13) shows
//!   `e2e_request_latency_seconds_bucket{engine_type="undefined",le="0.3",model_name="undefined"}`.
//!   The index has no copy of the repository at the `v1.2.1` tag (its snapshot is above the
//!   fetch limit), so these are the release line's names, not the tag's file.
//! - no queue-depth or KV gauge in the 1.2 releases: the five per-request series are all there
//!   is (`trtllm_num_requests_waiting` and `trtllm_kv_cache_utilization` are 1.3's), so the
//!   autoscaler reads the load by Little's law ([`engine::Load::LittlesLaw`]) and no KV alert
//!   is written.
//!
//! [`engine::Load::LittlesLaw`]: super::engine::Load::LittlesLaw

use super::input::RenderInput;
use inferplan_catalog::Dtype;
use inferplan_serving::flags::{trtllm as flag, Flag};

/// The image: NVIDIA's TensorRT-LLM release container, tag `1.2.1` (a GA release; public
/// deployment and benchmark files pin `nvcr.io/nvidia/tensorrt-llm/release:1.2.1`, one with
/// the digest `sha256:33cd085b772947bd22b7273886539331420404e5d2a4a039945241945ff927b9`, not
/// pinned here because only one file records it). `nvcr.io` allows anonymous pulls.
pub const IMAGE: &str = "nvcr.io/nvidia/tensorrt-llm/release:1.2.1";

/// The OpenAI-compatible server's port (`trtllm-serve --port`, default 8000).
pub const PORT: u16 = 8000;

/// Health endpoint: 200 once the LLM is built and answers (`/health`).
pub const HEALTH_PATH: &str = "/health";

/// Prometheus endpoint (mounted with `return_perf_metrics: true`).
pub const METRICS_PATH: &str = "/prometheus/metrics";

/// Requests completed (counter, label `finished_reason`).
pub const REQUESTS: &str = "request_success_total";
/// Time a request waited before it was scheduled, seconds (histogram).
pub const QUEUE_TIME: &str = "request_queue_time_seconds";
/// End-to-end request latency, seconds (histogram).
pub const E2E: &str = "e2e_request_latency_seconds";
/// Time to first token, seconds (histogram).
pub const TTFT: &str = "time_to_first_token_seconds";
/// Mean time per output token of a request, seconds (histogram, one sample per request).
pub const TPOT: &str = "time_per_output_token_seconds";

/// Bucket bounds of [`E2E`] and [`QUEUE_TIME`], seconds.
pub const E2E_BUCKETS: &[f64] = &[
    0.3, 0.5, 0.8, 1.0, 1.5, 2.0, 2.5, 5.0, 10.0, 15.0, 20.0, 30.0, 40.0, 50.0, 60.0, 120.0, 240.0,
    480.0, 960.0, 1920.0, 7680.0,
];
/// Bucket bounds of [`TTFT`], seconds.
pub const TTFT_BUCKETS: &[f64] = &[
    0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0,
    20.0, 40.0, 80.0, 160.0, 640.0, 2560.0,
];
/// Bucket bounds of [`TPOT`], seconds.
pub const TPOT_BUCKETS: &[f64] = &[
    0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0, 20.0,
    40.0, 80.0,
];

/// Where the LLM-API options file is written in the container.
pub const OPTIONS_PATH: &str = "/tmp/extra-llm-api-options.yaml";

/// The LLM-API options `trtllm-serve` reads from [`OPTIONS_PATH`]: the Prometheus series
/// (`return_perf_metrics`) and an FP8 KV cache (`kv_cache_config.dtype`) when the plan sized
/// one. No `enable_iter_perf_stats`: in the 1.2 releases it fills only the JSON `/metrics`,
/// which nothing here reads, at a cost per iteration.
pub fn options_yaml(input: &RenderInput) -> String {
    let mut y = String::from("return_perf_metrics: true\n");
    if input.kv_dtype == Dtype::Fp8 {
        y.push_str("kv_cache_config:\n  dtype: fp8\n");
    }
    y
}

/// The `trtllm-serve` arguments; `model_path` is where the weights are (a local directory).
/// The weights' format comes from the checkpoint (TensorRT-LLM reads its quantization
/// config), so no format flag is written.
pub fn serve_args(input: &RenderInput, model_path: &str) -> Vec<String> {
    let mut a = vec!["trtllm-serve".to_owned(), model_path.to_owned()];
    let mut arg = |f: Flag, value: String| {
        a.push(f.write.to_owned());
        a.push(value);
    };
    arg(flag::BACKEND, "pytorch".to_owned());
    arg(flag::HOST, "0.0.0.0".to_owned());
    arg(flag::PORT, PORT.to_string());
    arg(flag::TENSOR_PARALLEL, input.tp.to_string());
    arg(flag::PIPELINE_PARALLEL, input.pp.to_string());
    arg(flag::MAX_MODEL_LEN, input.max_model_len.to_string());
    arg(flag::MAX_NUM_SEQS, input.max_num_seqs.to_string());
    arg(
        flag::MAX_NUM_BATCHED_TOKENS,
        input.max_num_batched_tokens.to_string(),
    );
    arg(
        flag::KV_FREE_MEMORY_FRACTION,
        super::vllm::format_fraction(input.gpu_memory_utilization),
    );
    arg(flag::EXTRA_OPTIONS, OPTIONS_PATH.to_owned());
    a
}

/// The container's `command` and `args`: a shell writes [`options_yaml`] to
/// [`OPTIONS_PATH`], then `exec`s `trtllm-serve` (the image has no options file, and the
/// renderer writes no ConfigMap).
pub fn command(input: &RenderInput) -> (Vec<String>, Vec<String>) {
    let yaml = options_yaml(input).replace('\n', "\\n");
    let serve = serve_args(input, &input.model_path()).join(" ");
    (
        vec!["/bin/bash".to_owned(), "-c".to_owned()],
        vec![format!("printf '{yaml}' > {OPTIONS_PATH} && exec {serve}")],
    )
}

/// The README's argument table and the TensorRT-LLM section: each argument with its reason,
/// the options file, and why the autoscaler reads Little's law.
pub fn readme_section(i: &RenderInput) -> String {
    use std::fmt::Write as _;
    let len_why = match i.refused_share {
        Some(share) if share < 1e-9 => format!(
            "{}; no request of the workload's lengths is above it",
            i.max_model_len_basis
        ),
        Some(share) => format!(
            "{}; about {:.1} % of requests (prompt + output above it) are refused",
            i.max_model_len_basis,
            share * 100.0
        ),
        None => i.max_model_len_basis.clone(),
    };
    let rows: Vec<(String, String, String)> = vec![
        (
            "(positional)".into(),
            i.model_path(),
            "where the weights are (see Weights); TensorRT-LLM reads the checkpoint's \
             quantization config, so no format flag is written"
                .into(),
        ),
        (
            flag::BACKEND.write.into(),
            "pytorch".into(),
            "the PyTorch runtime: serves the Hugging Face checkpoint without building an engine"
                .into(),
        ),
        (
            flag::TENSOR_PARALLEL.write.into(),
            i.tp.to_string(),
            format!("the plan's layout: {} GPUs per replica", i.gpus_per_replica),
        ),
        (
            flag::PIPELINE_PARALLEL.write.into(),
            i.pp.to_string(),
            "the replica fits in one node".into(),
        ),
        (
            flag::MAX_MODEL_LEN.write.into(),
            i.max_model_len.to_string(),
            len_why,
        ),
        (
            flag::MAX_NUM_SEQS.write.into(),
            i.max_num_seqs.to_string(),
            "the most requests scheduled together, which the plan's capacity assumes".into(),
        ),
        (
            flag::MAX_NUM_BATCHED_TOKENS.write.into(),
            i.max_num_batched_tokens.to_string(),
            "the most tokens in one step, which the plan assumes".into(),
        ),
        (
            flag::KV_FREE_MEMORY_FRACTION.write.into(),
            super::vllm::format_fraction(i.gpu_memory_utilization),
            "the share of the memory left after the weights that the KV cache takes, as the \
             plan's fit check counted it"
                .into(),
        ),
        (
            flag::EXTRA_OPTIONS.write.into(),
            OPTIONS_PATH.into(),
            "LLM-API options the container writes before starting (below)".into(),
        ),
    ];
    let mut s = String::new();
    for (a, v, why) in rows {
        let _ = writeln!(s, "| `{a}` | `{v}` | {why} |");
    }
    let _ = writeln!(s);
    let _ = writeln!(
        s,
        "### TensorRT-LLM
"
    );
    let _ = writeln!(
        s,
        "- The container writes these LLM-API options to `{OPTIONS_PATH}`, then runs \
         `trtllm-serve`:\n\n```yaml\n{}```\n",
        options_yaml(i)
    );
    let _ = writeln!(
        s,
        "- `return_perf_metrics: true` mounts Prometheus metrics at `{METRICS_PATH}` (the \
         server's `/metrics` is JSON iteration statistics, which Prometheus cannot read){}. \
         The PodMonitor scrapes `{METRICS_PATH}` and writes the served name into `model_name` \
         (the server labels every series `model_name=\"undefined\"`). This release's series \
         have no `trtllm_` prefix (it came with 1.3) and there is no KV-cache gauge, so no KV \
         alert is written.",
        if i.kv_dtype == Dtype::Fp8 {
            "; `kv_cache_config.dtype: fp8` is the plan's FP8 KV cache"
        } else {
            ""
        }
    );
    let _ = writeln!(
        s,
        "- No queue gauge: this release counts requests only when they finish (`{REQUESTS}` \
         and the histograms `{E2E}`, `{QUEUE_TIME}`), and has no series of the requests \
         waiting or running now. The autoscaler therefore reads Little's law: the mean number \
         of requests in a state is the rate they leave it times their mean time in it, which \
         is `rate(<histogram>_sum[{w}])`. In flight = `sum(rate({E2E}_sum[{w}]))` (= \
         `rate({REQUESTS})` × the mean end-to-end latency), waiting = \
         `sum(rate({QUEUE_TIME}_sum[{w}]))`, with the same targets as for vLLM. Both lag the \
         load by about one request's latency plus the {w} window, and read zero until the \
         first requests finish (KEDA then holds the minimum), so the minimum replicas and the \
         queue alert carry a sudden surge.\n",
        w = super::engine::LITTLES_LAW_WINDOW,
    );
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_buckets_are_increasing() {
        for b in [E2E_BUCKETS, TTFT_BUCKETS, TPOT_BUCKETS] {
            assert!(b.windows(2).all(|w| w[0] < w[1]));
        }
    }
}
