//! The engine a rendered deployment runs, as the manifests, the autoscaler and the alert
//! rules see it: image, port, health and metrics endpoints, and the Prometheus series of its
//! queue, batch, KV cache and latencies. One [`Server`] per engine the renderer writes
//! ([`VLLM`], [`SGLANG`], [`NEURON`], [`TRTLLM`], [`TGI`], [`LMDEPLOY`]); [`server`] picks it.

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
    /// Fraction of the KV cache in use, 0-1 (gauge); `None` when the engine does not export
    /// it (TGI), and no KV-cache rule is written.
    pub kv_usage: Option<&'static str>,
    /// Time to first token, seconds (histogram); `None` when the engine does not export it
    /// (TGI), and no TTFT rule is written.
    pub ttft: Option<&'static str>,
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
    /// How the autoscaler and the rules read the requests waiting and in flight.
    pub load: Load,
}

/// How the requests waiting and in flight are read from an engine's metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Load {
    /// Gauges: [`Server::waiting`] and [`Server::running`] count requests now.
    Gauges,
    /// No gauge: [`Server::waiting`] and [`Server::running`] are histograms of the seconds a
    /// request waited and the seconds it took end to end. By Little's law the mean number of
    /// requests in a state is the rate they leave it times the mean time in it, which is
    /// `rate(<histogram>_sum[w])` (seconds spent in the state per second). It counts requests
    /// once they finish, so it lags the load by about one request's latency and the window.
    LittlesLaw,
}

/// The window of the rates Little's law reads: two minutes, eight scrapes at 15 s.
pub const LITTLES_LAW_WINDOW: &str = "2m";

impl Server {
    /// `sum <by> (...)` of the requests waiting, over the series `sel` selects.
    pub fn waiting_sum(&self, by: &str, sel: &str) -> String {
        self.sum(by, self.waiting, sel)
    }

    /// `sum <by> (...)` of the requests in the running batch.
    pub fn running_sum(&self, by: &str, sel: &str) -> String {
        self.sum(by, self.running, sel)
    }

    /// The requests in flight (running and waiting), summed: what the autoscaler's in-flight
    /// trigger reads. With [`Load::LittlesLaw`] the end-to-end histogram already counts the
    /// wait.
    pub fn in_flight_sum(&self, sel: &str) -> String {
        match self.load {
            Load::Gauges => format!(
                "{} + {}",
                self.running_sum("", sel),
                self.waiting_sum("", sel)
            ),
            Load::LittlesLaw => self.running_sum("", sel),
        }
    }

    /// `count <by> (...)` of the engines reporting.
    pub fn engines_count(&self, by: &str, sel: &str) -> String {
        match self.load {
            Load::Gauges => format!("count {by} ({}{{{sel}}})", self.running),
            Load::LittlesLaw => format!("count {by} ({}_count{{{sel}}})", self.running),
        }
    }

    fn sum(&self, by: &str, metric: &str, sel: &str) -> String {
        let sum = if by.is_empty() {
            "sum".to_owned()
        } else {
            format!("sum {by} ")
        };
        match self.load {
            Load::Gauges => format!("{sum}({metric}{{{sel}}})"),
            Load::LittlesLaw => {
                format!("{sum}(rate({metric}_sum{{{sel}}}[{LITTLES_LAW_WINDOW}]))")
            }
        }
    }
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
    kv_usage: Some(vllm::KV_CACHE_USAGE),
    ttft: Some(vllm::TTFT),
    ttft_buckets: vllm::TTFT_BUCKETS,
    tpot: vllm::TPOT,
    tpot_buckets: vllm::TPOT_BUCKETS,
    tpot_per_request: true,
    e2e: vllm::E2E,
    e2e_buckets: vllm::E2E_BUCKETS,
    load: Load::Gauges,
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
    kv_usage: Some(super::sglang::TOKEN_USAGE),
    ttft: Some(super::sglang::TTFT),
    ttft_buckets: super::sglang::TTFT_BUCKETS,
    tpot: super::sglang::INTER_TOKEN,
    tpot_buckets: super::sglang::INTER_TOKEN_BUCKETS,
    tpot_per_request: false,
    e2e: super::sglang::E2E,
    e2e_buckets: super::sglang::E2E_BUCKETS,
    load: Load::Gauges,
};

/// TensorRT-LLM's `trtllm-serve`: see [`trtllm`](super::trtllm) for the sources of every name
/// and bucket. Its 1.2 releases have no queue, batch or KV gauge, so [`Server::waiting`] is
/// the queue-time histogram and [`Server::running`] the end-to-end histogram, read by
/// Little's law, and there is no KV alert.
pub const TRTLLM: Server = Server {
    engine: Engine::Trtllm,
    display: "TensorRT-LLM",
    name: "trtllm",
    image: super::trtllm::IMAGE,
    port: super::trtllm::PORT,
    health_path: super::trtllm::HEALTH_PATH,
    metrics_path: super::trtllm::METRICS_PATH,
    waiting: super::trtllm::QUEUE_TIME,
    running: super::trtllm::E2E,
    kv_usage: None,
    ttft: Some(super::trtllm::TTFT),
    ttft_buckets: super::trtllm::TTFT_BUCKETS,
    tpot: super::trtllm::TPOT,
    tpot_buckets: super::trtllm::TPOT_BUCKETS,
    tpot_per_request: true,
    e2e: super::trtllm::E2E,
    e2e_buckets: super::trtllm::E2E_BUCKETS,
    load: Load::LittlesLaw,
};

/// Hugging Face TGI: see [`tgi`](super::tgi) for the sources of every name and bucket. It
/// has queue and batch gauges but no TTFT histogram and no KV-cache gauge.
pub const TGI: Server = Server {
    engine: Engine::Tgi,
    display: "TGI",
    name: "tgi",
    image: super::tgi::IMAGE,
    port: super::tgi::PORT,
    health_path: super::tgi::HEALTH_PATH,
    metrics_path: super::tgi::METRICS_PATH,
    waiting: super::tgi::QUEUE_SIZE,
    running: super::tgi::BATCH_SIZE,
    kv_usage: None,
    ttft: None,
    ttft_buckets: &[],
    tpot: super::tgi::TPOT,
    tpot_buckets: super::tgi::DURATION_BUCKETS,
    tpot_per_request: true,
    e2e: super::tgi::E2E,
    e2e_buckets: super::tgi::DURATION_BUCKETS,
    load: Load::Gauges,
};

/// LMDeploy's `api_server`: see [`lmdeploy`](super::lmdeploy) for the sources of every name
/// and bucket. Queue and batch gauges, a KV-cache gauge, TTFT, per-step TPOT and end-to-end
/// histograms, all labelled `model_name` by `--model-name`.
pub const LMDEPLOY: Server = Server {
    engine: Engine::Lmdeploy,
    display: "LMDeploy",
    name: "lmdeploy",
    image: super::lmdeploy::IMAGE,
    port: super::lmdeploy::PORT,
    health_path: super::lmdeploy::HEALTH_PATH,
    metrics_path: super::lmdeploy::METRICS_PATH,
    waiting: super::lmdeploy::WAITING,
    running: super::lmdeploy::RUNNING,
    kv_usage: Some(super::lmdeploy::KV_CACHE_USAGE),
    ttft: Some(super::lmdeploy::TTFT),
    ttft_buckets: super::lmdeploy::TTFT_BUCKETS,
    tpot: super::lmdeploy::TPOT,
    tpot_buckets: super::lmdeploy::TPOT_BUCKETS,
    tpot_per_request: false,
    e2e: super::lmdeploy::E2E,
    e2e_buckets: super::lmdeploy::E2E_BUCKETS,
    load: Load::Gauges,
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
        Engine::Trtllm => Some(&TRTLLM),
        Engine::Tgi => Some(&TGI),
        Engine::Lmdeploy => Some(&LMDEPLOY),
    }
}

/// Whether the renderer writes `engine`.
pub fn renders(engine: Engine) -> bool {
    server(engine).is_some()
}
