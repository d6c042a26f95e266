//! The engine a rendered deployment runs, as the manifests, the autoscaler and the alert
//! rules see it: image, port, health and metrics endpoints, and the Prometheus series of its
//! queue, batch, KV cache and latencies. One [`Server`] per engine the renderer writes
//! ([`VLLM`], [`SGLANG`]); [`server`] picks it.

use super::vllm;
use inferplan_perf::Engine;

/// What the renderer needs to know about an engine's server.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Server {
    /// The engine.
    pub engine: Engine,
    /// Its name in prose (`vLLM`, `SGLang`).
    pub display: &'static str,
    /// Container name and the prefix of the recording rules (`inferplan:vllm_...`).
    pub name: &'static str,
    /// The image, pinned.
    pub image: &'static str,
    /// The API and metrics port.
    pub port: u16,
    /// Health endpoint: 200 once the model is loaded.
    pub health_path: &'static str,
    /// Prometheus endpoint.
    pub metrics_path: &'static str,
    /// Requests waiting for a slot in the running batch (gauge).
    pub waiting: &'static str,
    /// Requests in the running batch (gauge).
    pub running: &'static str,
    /// Fraction of the KV cache in use, 0-1 (gauge).
    pub kv_usage: &'static str,
    /// Time to first token, seconds (histogram).
    pub ttft: &'static str,
    /// Its bucket bounds.
    pub ttft_buckets: &'static [f64],
    /// The histogram the TPOT SLO is checked on.
    pub tpot: &'static str,
    /// Its bucket bounds.
    pub tpot_buckets: &'static [f64],
    /// Whether [`Server::tpot`] has one sample per request (the mean gap of a request, as
    /// the plan's TPOT), rather than one per token.
    pub tpot_per_request: bool,
    /// End-to-end request latency, seconds (histogram).
    pub e2e: &'static str,
    /// Its bucket bounds.
    pub e2e_buckets: &'static [f64],
}

/// vLLM: see [`vllm`] for the sources of every name and bucket.
pub const VLLM: Server = Server {
    engine: Engine::Vllm,
    display: "vLLM",
    name: "vllm",
    image: vllm::IMAGE,
    port: vllm::PORT,
    health_path: vllm::HEALTH_PATH,
    metrics_path: vllm::METRICS_PATH,
    waiting: vllm::WAITING,
    running: vllm::RUNNING,
    kv_usage: vllm::KV_CACHE_USAGE,
    ttft: vllm::TTFT,
    ttft_buckets: vllm::TTFT_BUCKETS,
    tpot: vllm::TPOT,
    tpot_buckets: vllm::TPOT_BUCKETS,
    tpot_per_request: true,
    e2e: vllm::E2E,
    e2e_buckets: vllm::E2E_BUCKETS,
};

/// SGLang: see [`sglang`](super::sglang) for the sources of every name and bucket.
pub const SGLANG: Server = Server {
    engine: Engine::Sglang,
    display: "SGLang",
    name: "sglang",
    image: super::sglang::IMAGE,
    port: super::sglang::PORT,
    health_path: super::sglang::HEALTH_PATH,
    metrics_path: super::sglang::METRICS_PATH,
    waiting: super::sglang::WAITING,
    running: super::sglang::RUNNING,
    kv_usage: super::sglang::TOKEN_USAGE,
    ttft: super::sglang::TTFT,
    ttft_buckets: super::sglang::TTFT_BUCKETS,
    tpot: super::sglang::INTER_TOKEN,
    tpot_buckets: super::sglang::INTER_TOKEN_BUCKETS,
    tpot_per_request: false,
    e2e: super::sglang::E2E,
    e2e_buckets: super::sglang::E2E_BUCKETS,
};

/// vLLM's Neuron backend on Inferentia2 and Trainium ([`Engine::Neuron`] as the renderer
/// names it): the Neuron Deep Learning Container ([`super::neuron::IMAGE`]) running vLLM with
/// the `vllm-neuron` plugin, which keeps vLLM's server, health endpoint and metrics.
pub const NEURON: Server = Server {
    engine: Engine::Neuron,
    display: "vLLM (Neuron backend)",
    image: super::neuron::IMAGE,
    ..VLLM
};

/// The server of `engine`, when the renderer writes it.
pub fn server(engine: Engine) -> Option<&'static Server> {
    match engine {
        Engine::Vllm => Some(&VLLM),
        Engine::Sglang => Some(&SGLANG),
        Engine::Neuron => Some(&NEURON),
        Engine::Trtllm | Engine::Tgi | Engine::Lmdeploy => None,
    }
}

/// Whether the renderer writes `engine`.
pub fn renders(engine: Engine) -> bool {
    server(engine).is_some()
}
