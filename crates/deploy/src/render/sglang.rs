//! SGLang as the renderer runs it: the pinned image, the `python3 -m sglang.launch_server`
//! arguments derived from a plan, the health endpoint, and the Prometheus metric names and
//! histogram buckets the autoscaler and the alert rules read.
//!
//! Sources (checked when this file was written; see `docs/render.md`):
//! - server arguments: SGLang docs, "Server Arguments" (docs.sglang.io,
//!   `advanced_features/server_arguments`): `--model-path`, `--tp`, `--pp-size`,
//!   `--context-length`, `--max-running-requests`, `--chunked-prefill-size`,
//!   `--mem-fraction-static`, `--quantization fp8` on a 16-bit checkpoint, `--kv-cache-dtype
//!   fp8_e4m3`, `--enable-metrics`, and multi-node `--nnodes`, `--node-rank`,
//!   `--dist-init-addr`.
//! - metric names and buckets: SGLang docs, "Production Metrics" (metrics need
//!   `--enable-metrics`, served on the API port at `/metrics`, label `model_name`), and
//!   `python/sglang/srt/metrics/collector.py` in sgl-project/sglang (commit 00ae9c15):
//!   `sglang:num_queue_reqs` ("The number of requests in the waiting queue"),
//!   `sglang:num_running_reqs`, `sglang:token_usage`, and the histograms
//!   `sglang:time_to_first_token_seconds`, `sglang:inter_token_latency_seconds` (one sample
//!   per generated token) and `sglang:e2e_request_latency_seconds` with their default buckets.

use super::input::RenderInput;
use inferplan_catalog::Dtype;
use inferplan_serving::checkpoint::{self, Quantization};
use inferplan_serving::flags::{sglang as flag, Flag};

/// The image. `lmsysorg/sglang:v0.5.3` is the release the engine defaults in
/// `data/perf/engines.csv` cover (0.5.3-0.5.10) and the official image public deployment files
/// pin (e.g. a Helm values file "pinned to `lmsysorg/sglang:v0.5.3`, the official image").
/// Pin it by digest (`docker buildx imagetools inspect lmsysorg/sglang:v0.5.3`) before
/// applying; the digest is not recorded here because no public file we read pins one.
pub const IMAGE: &str = "lmsysorg/sglang:v0.5.3";

/// The server's port (SGLang's default, 30000).
pub const PORT: u16 = 30000;

/// Health endpoint: 200 once the model is loaded and the scheduler answers.
pub const HEALTH_PATH: &str = "/health";

/// Prometheus endpoint (with `--enable-metrics`), on the API port.
pub const METRICS_PATH: &str = "/metrics";

/// Port of the multi-node rendezvous (`--dist-init-addr LEADER:PORT`).
pub const DIST_INIT_PORT: u16 = 20000;

/// Requests waiting in the scheduler's queue (gauge).
pub const WAITING: &str = "sglang:num_queue_reqs";
/// Requests in the running batch (gauge).
pub const RUNNING: &str = "sglang:num_running_reqs";
/// Fraction of the KV-cache token pool in use, 0-1 (gauge).
pub const TOKEN_USAGE: &str = "sglang:token_usage";
/// Time to first token, seconds (histogram).
pub const TTFT: &str = "sglang:time_to_first_token_seconds";
/// Gap between generated tokens, seconds (histogram, one sample per token).
pub const INTER_TOKEN: &str = "sglang:inter_token_latency_seconds";
/// End-to-end request latency, seconds (histogram).
pub const E2E: &str = "sglang:e2e_request_latency_seconds";

/// Default bucket bounds of [`TTFT`], seconds.
pub const TTFT_BUCKETS: &[f64] = &[
    0.1, 0.2, 0.4, 0.6, 0.8, 1.0, 2.0, 4.0, 6.0, 8.0, 10.0, 20.0, 40.0, 60.0, 80.0, 100.0, 200.0,
    400.0,
];
/// Default bucket bounds of [`INTER_TOKEN`], seconds.
pub const INTER_TOKEN_BUCKETS: &[f64] = &[
    0.002, 0.004, 0.006, 0.008, 0.010, 0.015, 0.020, 0.025, 0.030, 0.035, 0.040, 0.060, 0.080,
    0.100, 0.200, 0.400, 0.600, 0.800, 1.0, 2.0, 4.0, 6.0, 8.0,
];
/// Default bucket bounds of [`E2E`], seconds.
pub const E2E_BUCKETS: &[f64] = &[
    0.1, 0.2, 0.4, 0.6, 0.8, 1.0, 2.0, 4.0, 6.0, 8.0, 10.0, 20.0, 40.0, 60.0, 80.0, 100.0, 200.0,
    400.0, 600.0, 1200.0, 1800.0, 2400.0,
];

/// The arguments after `python3 -m sglang.launch_server`; `model_path` is where the weights
/// are (a local directory). Multi-node replicas add `--nnodes`, `--node-rank` and
/// `--dist-init-addr` from the LeaderWorkerSet's environment ([`multi_node_args`]).
pub fn serve_args(input: &RenderInput, model_path: &str) -> Vec<String> {
    let mut a = Vec::new();
    let mut arg = |f: Flag, value: &str| {
        a.push(f.write.to_owned());
        a.push(value.to_owned());
    };
    arg(flag::MODEL, model_path);
    arg(flag::SERVED_MODEL_NAME, &input.served_model_name);
    arg(flag::HOST, "0.0.0.0");
    arg(flag::PORT, &PORT.to_string());
    arg(flag::TENSOR_PARALLEL, &input.tp.to_string());
    arg(flag::PIPELINE_PARALLEL, &input.pp.to_string());
    arg(flag::MAX_MODEL_LEN, &input.max_model_len.to_string());
    arg(flag::MAX_NUM_SEQS, &input.max_num_seqs.to_string());
    arg(
        flag::MAX_NUM_BATCHED_TOKENS,
        &input.max_num_batched_tokens.to_string(),
    );
    arg(
        flag::GPU_MEMORY_UTILIZATION,
        &super::vllm::format_fraction(input.gpu_memory_utilization),
    );
    match checkpoint::quantization(input.precision, input.native_weights) {
        Quantization::Dtype(d) => arg(flag::DTYPE, d),
        Quantization::OnlineFp8 => arg(flag::QUANTIZATION, checkpoint::online_fp8()),
        Quantization::FromCheckpoint | Quantization::NeedsCheckpoint => {}
    }
    if input.kv_dtype == Dtype::Fp8 {
        arg(flag::KV_CACHE_DTYPE, KV_CACHE_FP8);
    }
    a.push(ENABLE_METRICS.to_owned());
    a
}

/// `--kv-cache-dtype` of an FP8 KV cache: SGLang takes `fp8_e5m2` or `fp8_e4m3` ("Server
/// Arguments"); E4M3 is the format vLLM's `fp8` means on NVIDIA GPUs, which the plan sized.
pub const KV_CACHE_FP8: &str = "fp8_e4m3";

/// `--enable-metrics`: SGLang serves `/metrics` only with it.
pub const ENABLE_METRICS: &str = "--enable-metrics";

/// The arguments of one pod of a multi-node replica: `--nnodes`, `--node-rank` from the
/// LeaderWorkerSet's worker index, `--dist-init-addr` at the leader.
pub fn multi_node_args(input: &RenderInput) -> Vec<String> {
    vec![
        flag::NODES.write.to_owned(),
        input.nodes_per_replica.to_string(),
        flag::NODE_RANK.write.to_owned(),
        "$(LWS_WORKER_INDEX)".to_owned(),
        flag::DIST_INIT_ADDR.write.to_owned(),
        format!("$(LWS_LEADER_ADDRESS):{DIST_INIT_PORT}"),
    ]
}
