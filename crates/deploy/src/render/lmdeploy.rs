//! LMDeploy as the renderer runs it: `lmdeploy serve api_server` in OpenMMLab's release image,
//! its arguments derived from a plan (backend, layout, limits, checkpoint and KV formats from
//! [`inferplan_serving::lmdeploy`]), the health endpoint, and the Prometheus series the
//! autoscaler and the alert rules read.
//!
//! Sources (read 2026-12-07; see `docs/render.md`, "LMDeploy"), InternLM/lmdeploy at tag
//! `v0.16.0` (commit 1208bf006bbac69f1f012ceafeeeb70f623b632c):
//! - arguments: `lmdeploy/cli/serve.py` and `lmdeploy/cli/utils.py`, listed in
//!   [`inferplan_serving::flags::lmdeploy`]. Metrics are on by default in this release
//!   (`TurbomindEngineConfig.enable_metrics = True` in `lmdeploy/messages.py`, the CLI has
//!   `--disable-metrics`); the `--enable-metrics` flag of 0.7-0.9 no longer exists, and
//!   argparse refuses unknown flags, so none is written.
//! - endpoints: `lmdeploy/serve/openai/endpoints/management.py` `GET /health` (200 when the
//!   engine's health monitor says `healthy`, 503 otherwise); `lmdeploy/serve/openai/api_server.py`
//!   `mount_metrics` mounts Prometheus at `/metrics` on the API port when metrics are enabled.
//! - series: `lmdeploy/metrics/loggers.py` (`PrometheusStatLogger`), every series labelled
//!   `model_name` (the `--model-name`, else the model path) and `engine` (the DP rank): the
//!   gauges `lmdeploy:num_requests_waiting`, `lmdeploy:num_requests_running`,
//!   `lmdeploy:gpu_cache_usage_perc` ("1 means 100 percent usage"), the histograms
//!   `lmdeploy:time_to_first_token_seconds`, `lmdeploy:time_per_output_token_seconds` (one
//!   sample per decode iteration of a request: `lmdeploy/metrics/stats.py` sets `tpot` to the
//!   time since the request's last token over the tokens of this iteration) and
//!   `lmdeploy:e2e_request_latency_seconds`, with the bucket bounds below.
//! - image: `openmmlab/lmdeploy:v0.16.0-cu12.8`: `.github/workflows/docker.yml` at the tag pushes
//!   `openmmlab/lmdeploy:<tag>-cu12.8` (and `-cu13.0`) for each release; a public deployment
//!   file records this one with digest
//!   `sha256:0fd7426f76331c3bed844db290ba838a01f3b2e00dcb254a6de83a86c0649576` (not pinned here
//!   because only one file records it). The CUDA 12.8 build runs on the drivers of EKS's GPU
//!   AMIs.

use super::input::RenderInput;
use inferplan_serving::flags::{lmdeploy as flag, Flag};
use inferplan_serving::lmdeploy::Backend;

/// The image, pinned (see the module's sources).
pub const IMAGE: &str = "openmmlab/lmdeploy:v0.16.0-cu12.8";

/// The API and metrics port (`--server-port`, default 23333).
pub const PORT: u16 = 23333;

/// Health endpoint: 200 once the engine is loaded and healthy.
pub const HEALTH_PATH: &str = "/health";

/// Prometheus endpoint, on the API port.
pub const METRICS_PATH: &str = "/metrics";

/// Requests waiting to be scheduled (gauge).
pub const WAITING: &str = "lmdeploy:num_requests_waiting";
/// Requests in the running batch (gauge).
pub const RUNNING: &str = "lmdeploy:num_requests_running";
/// KV-cache usage, 0-1 (gauge).
pub const KV_CACHE_USAGE: &str = "lmdeploy:gpu_cache_usage_perc";
/// Time to first token, seconds (histogram).
pub const TTFT: &str = "lmdeploy:time_to_first_token_seconds";
/// Time per output token, seconds (histogram; one sample per decode iteration).
pub const TPOT: &str = "lmdeploy:time_per_output_token_seconds";
/// End-to-end request latency, seconds (histogram).
pub const E2E: &str = "lmdeploy:e2e_request_latency_seconds";

/// Bucket bounds of [`TTFT`], seconds.
pub const TTFT_BUCKETS: &[f64] = &[
    0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0,
    20.0, 40.0, 80.0, 160.0, 640.0, 2560.0,
];
/// Bucket bounds of [`TPOT`], seconds.
pub const TPOT_BUCKETS: &[f64] = &[
    0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0,
    20.0, 40.0, 80.0,
];
/// Bucket bounds of [`E2E`], seconds.
pub const E2E_BUCKETS: &[f64] = &[
    0.3, 0.5, 0.8, 1.0, 1.5, 2.0, 2.5, 5.0, 10.0, 15.0, 20.0, 30.0, 40.0, 50.0, 60.0, 120.0, 240.0,
    480.0, 960.0, 1920.0, 7680.0,
];

/// How LMDeploy serves a candidate: the backend and the format flags, from
/// [`inferplan_serving::lmdeploy`].
#[derive(Debug, Clone, PartialEq)]
pub struct Setup {
    /// `--backend`.
    pub backend: Backend,
    /// `--model-format` of a quantized checkpoint whose method the catalog names; `None` for a
    /// 16-bit checkpoint (`--dtype`) or an unknown method (the engine reads the checkpoint's
    /// `quantization_config`).
    pub model_format: Option<&'static str>,
    /// `--quant-policy` of a quantized KV cache.
    pub quant_policy: Option<&'static str>,
    /// `--cache-max-entry-count`: the share of the memory free after the weights that holds
    /// the KV cache the plan counted (`inferplan_perf::engine::KvBasis::OfFreeAfterWeights`).
    pub cache_max_entry_count: f64,
}

/// The `lmdeploy serve api_server` arguments after `api_server`; `model_path` is where the
/// weights are (a local directory).
pub fn serve_args(input: &RenderInput, setup: &Setup, model_path: &str) -> Vec<String> {
    let mut a = vec![model_path.to_owned()];
    let mut arg = |f: Flag, value: String| {
        a.push(f.write.to_owned());
        a.push(value);
    };
    arg(flag::BACKEND, setup.backend.as_str().to_owned());
    arg(flag::HOST, "0.0.0.0".to_owned());
    arg(flag::PORT, PORT.to_string());
    arg(flag::SERVED_MODEL_NAME, input.served_model_name.clone());
    arg(flag::TENSOR_PARALLEL, input.tp.to_string());
    arg(flag::MAX_MODEL_LEN, input.max_model_len.to_string());
    arg(flag::MAX_NUM_SEQS, input.max_num_seqs.to_string());
    arg(
        flag::MAX_NUM_BATCHED_TOKENS,
        input.max_num_batched_tokens.to_string(),
    );
    arg(
        flag::KV_FREE_MEMORY_FRACTION,
        super::vllm::format_fraction(setup.cache_max_entry_count),
    );
    match setup.model_format {
        Some(f) => arg(flag::QUANTIZATION, f.to_owned()),
        None if input.native_weights.is_none() => arg(
            flag::DTYPE,
            match input.precision {
                inferplan_catalog::Dtype::Fp16 => "float16",
                _ => "bfloat16",
            }
            .to_owned(),
        ),
        None => {}
    }
    if let Some(p) = setup.quant_policy {
        arg(flag::KV_CACHE_DTYPE, p.to_owned());
    }
    a
}

/// The container's `command` and `args`.
pub fn command(input: &RenderInput, setup: &Setup) -> (Vec<String>, Vec<String>) {
    (
        vec![
            "lmdeploy".to_owned(),
            "serve".to_owned(),
            "api_server".to_owned(),
        ],
        serve_args(input, setup, &input.model_path()),
    )
}

/// The README's argument table and the LMDeploy section.
pub fn readme_section(i: &RenderInput, setup: &Setup) -> String {
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
    let args = serve_args(i, setup, &i.model_path());
    let value = |f: Flag| {
        args.windows(2)
            .find(|w| w[0] == f.write)
            .map(|w| w[1].clone())
    };
    let mut rows: Vec<(String, String, String)> = vec![
        (
            "(positional)".into(),
            i.model_path(),
            "where the weights are (see Weights)".into(),
        ),
        (
            flag::BACKEND.write.into(),
            setup.backend.as_str().into(),
            match setup.backend {
                Backend::TurboMind => {
                    "TurboMind implements this architecture: LMDeploy's default engine, the one \
                     its published figures measure"
                        .into()
                }
                Backend::PyTorch => format!(
                    "TurboMind does not implement {}'s architecture; LMDeploy serves it with its \
                     PyTorch engine (it would fall back to it anyway)",
                    i.model
                ),
            },
        ),
        (
            flag::SERVED_MODEL_NAME.write.into(),
            i.served_model_name.clone(),
            "the name clients ask for, and the `model_name` label of every series".into(),
        ),
        (
            flag::TENSOR_PARALLEL.write.into(),
            i.tp.to_string(),
            format!("the plan's layout: {} GPUs per replica", i.gpus_per_replica),
        ),
        (
            flag::MAX_MODEL_LEN.write.into(),
            i.max_model_len.to_string(),
            len_why,
        ),
        (
            flag::MAX_NUM_SEQS.write.into(),
            i.max_num_seqs.to_string(),
            "the most requests in the running batch, which the plan's capacity assumes".into(),
        ),
        (
            flag::MAX_NUM_BATCHED_TOKENS.write.into(),
            i.max_num_batched_tokens.to_string(),
            "the most prompt tokens in one step, which the plan assumes".into(),
        ),
        (
            flag::KV_FREE_MEMORY_FRACTION.write.into(),
            super::vllm::format_fraction(setup.cache_max_entry_count),
            "the share of the memory left after the weights (and the communicators) that the \
             KV cache takes, LMDeploy's default since 0.2.2 and what the plan counted; the \
             step workspace lives in the rest"
                .into(),
        ),
    ];
    if let Some(f) = value(flag::QUANTIZATION) {
        rows.push((
            flag::QUANTIZATION.write.into(),
            f,
            format!(
                "the checkpoint's format ({}); LMDeploy refuses to start if the checkpoint's \
                 `quantization_config` says otherwise",
                i.precision
            ),
        ));
    }
    if let Some(d) = value(flag::DTYPE) {
        rows.push((
            flag::DTYPE.write.into(),
            d,
            "the checkpoint's 16-bit format".into(),
        ));
    }
    if let Some(p) = value(flag::KV_CACHE_DTYPE) {
        rows.push((
            flag::KV_CACHE_DTYPE.write.into(),
            p.clone(),
            if setup.backend == Backend::TurboMind && i.kv_dtype == inferplan_catalog::Dtype::Fp8 {
                "the plan sized a one-byte KV cache (FP8); TurboMind has no FP8 KV cache and \
                 holds it as INT8, one byte per element with per-head, per-token scales \
                 (LMDeploy: \"int8 kv keeps the accuracy\")"
                    .into()
            } else {
                format!("the plan's {} KV cache", i.kv_dtype)
            },
        ));
    }
    let mut s = String::new();
    for (a, v, why) in rows {
        let _ = writeln!(s, "| `{a}` | `{v}` | {why} |");
    }
    let _ = writeln!(s);
    let _ = writeln!(s, "### LMDeploy\n");
    let _ = writeln!(
        s,
        "- Metrics are on by default in this release (`--disable-metrics` turns them off), at \
         `{METRICS_PATH}` on port {PORT}, every series labelled with `--model-name` as \
         `model_name`."
    );
    let _ = writeln!(
        s,
        "- Load: `{WAITING}` (requests waiting) and `{RUNNING}` (requests in the running \
         batch) are gauges; the autoscaler's in-flight trigger reads their sum, the queue \
         trigger the first. `{KV_CACHE_USAGE}` is the KV-cache alert's series."
    );
    let _ = writeln!(
        s,
        "- `{TPOT}` has one sample per decode step of a request (the gap since its last token \
         over the tokens of the step), not one per request: the TPOT alerts read it as a \
         per-token tail.\n"
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
