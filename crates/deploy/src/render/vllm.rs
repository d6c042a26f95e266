//! vLLM as the renderer runs it: the pinned image, the `vllm serve` arguments derived from a
//! plan, the health endpoint, and the Prometheus metric names and histogram buckets the
//! autoscaler and the alert rules read.
//!
//! Sources (checked when this file was written; see `docs/render.md`):
//! - metric names and buckets: `vllm/v1/metrics/loggers.py` (`PrometheusStatLogger`) in
//!   vllm-project/vllm, and the metrics list of the vLLM docs ("Production Metrics");
//!   `vllm:request_time_per_output_token_seconds` (one observation per request:
//!   decode time / generated tokens) arrived with vllm-project/vllm#24015 (September 2025);
//!   `vllm:kv_cache_usage_perc` replaced the deprecated `vllm:gpu_cache_usage_perc` in 0.9.
//! - multi-node serving with Ray under LeaderWorkerSet: `docs/deployment/frameworks/lws.md`
//!   in vllm-project/vllm (the `multi-node-serving.sh` helper shipped in the image).

use super::input::RenderInput;
use inferplan_catalog::Dtype;
use inferplan_serving::checkpoint::{self, KV_FP8};
use inferplan_serving::flags::{vllm as flag, Flag};

// `render/input.rs` names these through this module; it is left as it is while issue 19's
// plan contract rewrites it, and then imports them from `inferplan_serving::checkpoint`.
pub(super) use inferplan_serving::checkpoint::{quantization, Quantization};

/// The image, pinned by digest; the tag says which release the digest is.
///
/// `vllm/vllm-openai:v0.11.0` is the release the metric names and buckets below were checked
/// against. The digest is the one public deployment files pin for that tag (for example a
/// `FROM vllm/vllm-openai:v0.11.0@sha256:014a95f2…` Dockerfile that installs `vllm==0.11.0`);
/// check it with `docker buildx imagetools inspect vllm/vllm-openai:v0.11.0` before applying,
/// and change both together when upgrading.
pub const IMAGE: &str = "vllm/vllm-openai:v0.11.0@sha256:014a95f21c9edf6abe0aea6b07353f96baa4ec291c427bb1176dc7c93a85845c";

/// The OpenAI-compatible server's port (vLLM's default).
pub const PORT: u16 = 8000;

/// Health endpoint: 200 once the engine is up, an error when the engine died.
pub const HEALTH_PATH: &str = "/health";

/// Prometheus endpoint of the same server.
pub const METRICS_PATH: &str = "/metrics";

/// `--load-format` of a checkpoint streamed from S3: the Run:ai Model Streamer reads the
/// safetensors with concurrent requests straight into GPU memory (vLLM docs, "Loading models
/// with Run:ai Model Streamer": `vllm serve s3://bucket/path --load-format runai_streamer`;
/// the `vllm-openai` image installs `runai-model-streamer[s3]`, `docker/Dockerfile` of
/// vllm-project/vllm, stage `vllm-openai-base`). Credentials come from the AWS SDK's default
/// chain (EKS Pod Identity on the pod's service account).
pub const RUNAI_STREAMER: &str = "runai_streamer";

/// `--distributed-executor-backend` of a replica that spans nodes: the Ray cluster the
/// LeaderWorkerSet starts.
pub const RAY: &str = "ray";

/// Requests waiting for a slot in the running batch (gauge, per engine).
pub const WAITING: &str = "vllm:num_requests_waiting";
/// Requests in the running batch (gauge, per engine).
pub const RUNNING: &str = "vllm:num_requests_running";
/// Fraction of KV-cache blocks in use, 0-1 (gauge, per engine).
pub const KV_CACHE_USAGE: &str = "vllm:kv_cache_usage_perc";
/// Time to first token, seconds (histogram; queueing included).
pub const TTFT: &str = "vllm:time_to_first_token_seconds";
/// A request's mean time per output token after the first, seconds (histogram, one sample
/// per request): the TPOT the planner's SLO refers to.
pub const TPOT: &str = "vllm:request_time_per_output_token_seconds";
/// End-to-end request latency, seconds (histogram).
pub const E2E: &str = "vllm:e2e_request_latency_seconds";

/// Bucket bounds of [`TTFT`], seconds.
pub const TTFT_BUCKETS: &[f64] = &[
    0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0,
    20.0, 40.0, 80.0, 160.0, 640.0, 2560.0,
];
/// Bucket bounds of [`TPOT`] (and of the inter-token latency histogram), seconds.
pub const TPOT_BUCKETS: &[f64] = &[
    0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0, 20.0,
    40.0, 80.0,
];
/// Bucket bounds of [`E2E`], seconds.
pub const E2E_BUCKETS: &[f64] = &[
    0.3, 0.5, 0.8, 1.0, 1.5, 2.0, 2.5, 5.0, 10.0, 15.0, 20.0, 30.0, 40.0, 50.0, 60.0, 120.0, 240.0,
    480.0, 960.0, 1920.0, 7680.0,
];

/// The arguments after `vllm serve`; `model_path` is where the weights are (a local
/// directory, or the S3 prefix the Run:ai Model Streamer reads).
///
/// `--served-model-name` keeps the Hugging Face id as the API's model name (and the
/// `model_name` label of every metric) although the weights are read from elsewhere.
pub fn serve_args(input: &RenderInput, model_path: &str) -> Vec<String> {
    let mut a = vec![model_path.to_owned()];
    let mut arg = |f: Flag, value: &str| {
        a.push(f.write.to_owned());
        a.push(value.to_owned());
    };
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
        &format_fraction(input.gpu_memory_utilization),
    );
    match quantization(input.precision, input.native_weights) {
        Quantization::Dtype(d) => arg(flag::DTYPE, d),
        Quantization::OnlineFp8 => arg(flag::QUANTIZATION, checkpoint::online_fp8()),
        Quantization::FromCheckpoint | Quantization::NeedsCheckpoint => {}
    }
    if input.kv_dtype == Dtype::Fp8 {
        arg(flag::KV_CACHE_DTYPE, KV_FP8);
    }
    if input.delivery == inferplan_serving::Delivery::S3Stream {
        arg(flag::LOAD_FORMAT, RUNAI_STREAMER);
    }
    if input.nodes_per_replica > 1 {
        arg(flag::DISTRIBUTED_EXECUTOR_BACKEND, RAY);
    }
    a
}
/// `0.9`, `0.85`: a fraction with at most two decimals.
pub fn format_fraction(x: f64) -> String {
    let s = format!("{x:.2}");
    let s = s.trim_end_matches('0');
    s.trim_end_matches('.').to_owned()
}

/// Quotes one word for `sh -c` when it has characters the shell would interpret.
pub fn shell_word(w: &str) -> String {
    let safe = !w.is_empty()
        && w.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./=:,@%+".contains(c));
    if safe {
        w.to_owned()
    } else {
        format!("'{}'", w.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_and_fractions() {
        assert_eq!(
            shell_word("meta-llama/Llama-3.1-8B"),
            "meta-llama/Llama-3.1-8B"
        );
        assert_eq!(shell_word("a b"), "'a b'");
        assert_eq!(shell_word("it's"), r"'it'\''s'");
        assert_eq!(format_fraction(0.9), "0.9");
        assert_eq!(format_fraction(0.85), "0.85");
        assert_eq!(format_fraction(1.0), "1");
    }
}
