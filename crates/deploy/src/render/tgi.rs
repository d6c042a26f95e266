//! Hugging Face text-generation-inference (TGI) as the renderer runs it: the pinned image, the
//! `text-generation-launcher` arguments derived from a plan, the health endpoint, and the
//! Prometheus series the autoscaler and the alert rules read.
//!
//! Sources (read 2026-12-07; see `docs/render.md`, "TGI"):
//! - arguments: `docs/source/reference/launcher.md` in huggingface/text-generation-inference
//!   (commit 032fc4c4): `--model-id` (a hub id or a local directory), `--num-shard`,
//!   `--quantize fp8` ("(e4m3) works on H100 and above"), `--dtype`, `--kv-cache-dtype
//!   fp8_e4m3fn|fp8_e5m2`, `--max-concurrent-requests` (default 128; "a low limit will refuse
//!   clients requests instead of having them wait"), `--max-input-tokens`,
//!   `--max-total-tokens`, `--max-batch-prefill-tokens`, `--cuda-memory-fraction`,
//!   `--hostname`, `--port`. The router refuses to start when `max_batch_prefill_tokens <
//!   max_input_tokens` or `max_input_tokens >= max_total_tokens` ("`max_batch_prefill_tokens`
//!   must be >= `max_input_tokens`" in the router's argument checks).
//! - metrics: `docs/source/reference/metrics.md` (commit 53fdbe61), served at `/metrics` on
//!   the API port: the gauges `tgi_queue_size` ("Current queue size") and
//!   `tgi_batch_current_size` ("Current batch size"), the histograms `tgi_request_duration`
//!   (e2e latency), `tgi_request_mean_time_per_token_duration` (one sample per request) and
//!   `tgi_request_queue_duration`. No time-to-first-token histogram and no KV-cache usage
//!   gauge, and no `model_name` label (the PodMonitor adds it).
//! - buckets, checked against the code at the `v3.3.7` tag (commit
//!   dfb3fbe78e0d1d69251bd33065591c61bafdfaa8): `router/src/server.rs` sets every histogram
//!   whose name ends in `duration` (`Matcher::Suffix("duration")`) to 35 buckets, starting from
//!   `value = 0.0001` and multiplying by 1.5 before each push ("geometric sequence"), so
//!   `0.0001 × 1.5^k` for k = 1..=35, computed by repeated multiplication; the same file records
//!   `tgi_request_duration`, `tgi_request_queue_duration` and
//!   `tgi_request_mean_time_per_token_duration`, and `backends/v3/src/queue.rs` and
//!   `backends/v3/src/backend.rs` set the gauges `tgi_queue_size` and `tgi_batch_current_size`.
//!   The exporter is `metrics-exporter-prometheus` 0.15.3 (the tag's `Cargo.lock`); at its tag
//!   (metrics-rs/metrics, commit ca453d31009e1809161a0644943bbf5a8b3eb2e6)
//!   `metrics-exporter-prometheus/src/recorder.rs` writes each bucket's `le` from the `f64`
//!   bound with `Display` (`formatting.rs`, `write_metric_line`: `value.to_string()`), the
//!   shortest decimal that reads back as the same `f64`. [`DURATION_BUCKETS`] repeats the
//!   arithmetic in `f64` and `rules::le_matcher` writes its bounds with the same `Display`,
//!   so the `le` labels match byte for byte (`0.00015000000000000001` for the first bound, not
//!   `0.00015`). `/metrics` is routed on the API port (`server.rs`, `.route("/metrics", ...)`),
//!   besides the exporter's own listener on `--prometheus-port`.
//! - image: `ghcr.io/huggingface/text-generation-inference:3.3.7`, the newest tag public
//!   deployment files pin (e.g. a README's docker run, `--model-id ... --max-total-tokens
//!   8192`); no file pins a later one. Its Dockerfile sets `PORT=80`, so `--port` is written.

use super::input::RenderInput;
use inferplan_catalog::Dtype;
use inferplan_serving::checkpoint::{self, Quantization};
use inferplan_serving::flags::{tgi as flag, Flag};

/// The image, pinned (see the module's sources).
pub const IMAGE: &str = "ghcr.io/huggingface/text-generation-inference:3.3.7";

/// The API and metrics port (`--port`; the image's default is 80).
pub const PORT: u16 = 8080;

/// Health endpoint: 200 once the shards are loaded and answer.
pub const HEALTH_PATH: &str = "/health";

/// Prometheus endpoint, on the API port.
pub const METRICS_PATH: &str = "/metrics";

/// Requests waiting in the router's queue (gauge).
pub const QUEUE_SIZE: &str = "tgi_queue_size";
/// Requests in the running batch (gauge).
pub const BATCH_SIZE: &str = "tgi_batch_current_size";
/// End-to-end request latency, seconds (histogram).
pub const E2E: &str = "tgi_request_duration";
/// Mean time per output token of a request, seconds (histogram, one sample per request).
pub const TPOT: &str = "tgi_request_mean_time_per_token_duration";
/// Time a request waited in the queue, seconds (histogram).
pub const QUEUE_TIME: &str = "tgi_request_queue_duration";

const fn duration_buckets() -> [f64; 35] {
    let mut b = [0.0; 35];
    let mut value = 0.0001;
    let mut i = 0;
    while i < 35 {
        value *= 1.5;
        b[i] = value;
        i += 1;
    }
    b
}

/// Bucket bounds of every `*duration` histogram, seconds: `0.0001 × 1.5^k`, k = 1..=35
/// (0.00015 s to about 146 s).
pub const DURATION_BUCKETS: &[f64] = &duration_buckets();

/// `--kv-cache-dtype` of an FP8 KV cache: E4M3, the format the plan sized (as vLLM's `fp8`).
pub const KV_CACHE_FP8: &str = "fp8_e4m3fn";

/// `--max-input-tokens`: the longest prompt, one below `--max-total-tokens` (the router
/// requires it to be smaller, and a request needs at least one output token).
pub fn max_input_tokens(input: &RenderInput) -> u64 {
    input.max_model_len.saturating_sub(1).max(1)
}

/// `--max-batch-prefill-tokens`: the plan's tokens per step, raised to the longest prompt
/// when smaller (the router refuses to start otherwise: TGI prefills a prompt in one step).
pub fn max_batch_prefill_tokens(input: &RenderInput) -> u64 {
    input.max_num_batched_tokens.max(max_input_tokens(input))
}

/// `--max-concurrent-requests`: the running batch the plan assumes plus as many waiting.
/// Beyond it TGI refuses a request (HTTP 429) instead of queueing it: a request behind a
/// full batch and a full queue would wait at least two batches' worth, past its SLO, and the
/// autoscaler's queue trigger has fired long before.
pub fn max_concurrent_requests(input: &RenderInput) -> u64 {
    input.max_num_seqs.saturating_mul(2).max(1)
}

/// The `text-generation-launcher` arguments; `model_path` is where the weights are (a local
/// directory).
pub fn launcher_args(input: &RenderInput, model_path: &str) -> Vec<String> {
    let mut a = Vec::new();
    let mut arg = |f: Flag, value: String| {
        a.push(f.write.to_owned());
        a.push(value);
    };
    arg(flag::MODEL, model_path.to_owned());
    arg(flag::HOST, "0.0.0.0".to_owned());
    arg(flag::PORT, PORT.to_string());
    arg(flag::TENSOR_PARALLEL, input.tp.to_string());
    arg(flag::MAX_INPUT_TOKENS, max_input_tokens(input).to_string());
    arg(flag::MAX_MODEL_LEN, input.max_model_len.to_string());
    arg(
        flag::MAX_NUM_BATCHED_TOKENS,
        max_batch_prefill_tokens(input).to_string(),
    );
    arg(
        flag::MAX_CONCURRENT_REQUESTS,
        max_concurrent_requests(input).to_string(),
    );
    arg(
        flag::GPU_MEMORY_UTILIZATION,
        super::vllm::format_fraction(input.gpu_memory_utilization),
    );
    match checkpoint::quantization(input.precision, input.native_weights) {
        Quantization::Dtype(d) => arg(flag::DTYPE, d.to_owned()),
        Quantization::OnlineFp8 => arg(flag::QUANTIZATION, "fp8".to_owned()),
        Quantization::FromCheckpoint | Quantization::NeedsCheckpoint => {}
    }
    if input.kv_dtype == Dtype::Fp8 {
        arg(flag::KV_CACHE_DTYPE, KV_CACHE_FP8.to_owned());
    }
    a
}

/// The container's `command` and `args`.
pub fn command(input: &RenderInput) -> (Vec<String>, Vec<String>) {
    (
        vec!["text-generation-launcher".to_owned()],
        launcher_args(input, &input.model_path()),
    )
}

/// The README's argument table and the TGI section.
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
    let mut rows: Vec<(String, String, String)> = vec![
        (
            flag::MODEL.write.into(),
            i.model_path(),
            "where the weights are (see Weights)".into(),
        ),
        (
            flag::TENSOR_PARALLEL.write.into(),
            i.tp.to_string(),
            format!(
                "the plan's layout: {} GPUs per replica, one shard each",
                i.gpus_per_replica
            ),
        ),
        (
            flag::MAX_INPUT_TOKENS.write.into(),
            max_input_tokens(i).to_string(),
            "one below the total: TGI requires it smaller, and leaves at least one output \
             token"
                .into(),
        ),
        (
            flag::MAX_MODEL_LEN.write.into(),
            i.max_model_len.to_string(),
            len_why,
        ),
        (
            flag::MAX_NUM_BATCHED_TOKENS.write.into(),
            max_batch_prefill_tokens(i).to_string(),
            if max_batch_prefill_tokens(i) > i.max_num_batched_tokens {
                format!(
                    "the plan assumes {} tokens per step, raised to the longest prompt: TGI \
                     refuses to start with a prefill budget below `--max-input-tokens`",
                    i.max_num_batched_tokens
                )
            } else {
                "the most prompt tokens in one prefill step, which the plan assumes".into()
            },
        ),
        (
            flag::MAX_CONCURRENT_REQUESTS.write.into(),
            max_concurrent_requests(i).to_string(),
            format!(
                "the {} requests the plan's batch holds plus as many waiting; beyond it TGI \
                 answers HTTP 429 rather than queue a request that would miss its SLO",
                i.max_num_seqs
            ),
        ),
        (
            flag::GPU_MEMORY_UTILIZATION.write.into(),
            super::vllm::format_fraction(i.gpu_memory_utilization),
            "the share of GPU memory the plan's fit check counted".into(),
        ),
    ];
    match checkpoint::quantization(i.precision, i.native_weights) {
        Quantization::Dtype(d) => rows.push((
            flag::DTYPE.write.into(),
            d.into(),
            "the checkpoint's 16-bit format".into(),
        )),
        Quantization::OnlineFp8 => rows.push((
            flag::QUANTIZATION.write.into(),
            "fp8".into(),
            "the plan runs FP8 weights from a 16-bit checkpoint: TGI quantizes them as it \
             loads"
                .into(),
        )),
        Quantization::FromCheckpoint | Quantization::NeedsCheckpoint => {}
    }
    if i.kv_dtype == Dtype::Fp8 {
        rows.push((
            flag::KV_CACHE_DTYPE.write.into(),
            KV_CACHE_FP8.into(),
            "the plan's FP8 KV cache (E4M3)".into(),
        ));
    }
    let mut s = String::new();
    for (a, v, why) in rows {
        let _ = writeln!(s, "| `{a}` | `{v}` | {why} |");
    }
    let _ = writeln!(s);
    let _ = writeln!(s, "### TGI\n");
    let _ = writeln!(
        s,
        "- Load: `{QUEUE_SIZE}` (requests waiting) and `{BATCH_SIZE}` (requests in the \
         running batch) are gauges; the autoscaler's in-flight trigger reads their sum, the \
         queue trigger the first."
    );
    let _ = writeln!(
        s,
        "- TGI labels no series with the model: the PodMonitor writes the served name into \
         `model_name`, so the rules and the autoscaler select its series as vLLM's."
    );
    let _ = writeln!(
        s,
        "- Not measured by TGI: time to first token and KV-cache usage (no such series in \
         `/metrics`), so no TTFT burn-rate or tail alert and no KV-cache alert is written; \
         `{TPOT}` (one sample per request) carries the TPOT SLO and `{E2E}` the end-to-end \
         one.\n"
    );
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_buckets_are_the_routers_geometric_sequence() {
        assert_eq!(DURATION_BUCKETS.len(), 35);
        assert!(DURATION_BUCKETS.windows(2).all(|w| w[0] < w[1]));
        assert!((DURATION_BUCKETS[0] - 0.00015).abs() < 1e-12);
        assert!((DURATION_BUCKETS[34] - 0.0001 * 1.5f64.powi(35)).abs() < 1e-6);
    }

    /// The `le` labels TGI 3.3.7's exporter writes (the shortest decimal of each `f64` bound,
    /// as Python's `repr` of the same repeated multiplication prints it), and the matchers
    /// the rules select them with.
    #[test]
    fn the_le_matchers_are_the_exporters_labels() {
        use super::super::rules::le_matcher;
        for (k, label) in [
            (0, "0.00015000000000000001"),
            (1, "0.00022500000000000002"),
            (9, "0.00576650390625"),
            (20, "0.49878850951194753"),
            (34, "145.61096060497135"),
        ] {
            assert_eq!(le_matcher(DURATION_BUCKETS[k]), format!("le=\"{label}\""));
        }
    }
}
