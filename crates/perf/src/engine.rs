//! Serving engines and the scheduler limits that shape their batches.

use crate::error::PerfError;
use crate::memory::EngineLimits;
pub use crate::memory::KvBasis;
use inferplan_catalog::table::Table;
use inferplan_catalog::{Arch, Gpu};
use serde::Serialize;
use std::fmt;
use std::str::FromStr;
use std::sync::OnceLock;

const ENGINES_CSV: &str = include_str!("../../../data/perf/engines.csv");

/// An LLM serving engine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Engine {
    /// vLLM (continuous batching, paged KV, chunked prefill).
    Vllm,
    /// SGLang.
    Sglang,
    /// NVIDIA TensorRT-LLM (in-flight batching; its older benchmarks use static batches).
    Trtllm,
    /// Hugging Face Text Generation Inference.
    Tgi,
    /// LMDeploy (TurboMind).
    Lmdeploy,
    /// AWS Neuron's own runtime on Inferentia2 and Trainium: NxD Inference (Transformers
    /// NeuronX before it), static graphs compiled per batch size and sequence bucket. vLLM on a
    /// Neuron chip is [`Engine::Vllm`] through its Neuron backend, which runs the same graphs.
    Neuron,
}

impl Engine {
    /// Short lowercase name (`vllm`, `trtllm`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            Engine::Vllm => "vllm",
            Engine::Sglang => "sglang",
            Engine::Trtllm => "trtllm",
            Engine::Tgi => "tgi",
            Engine::Lmdeploy => "lmdeploy",
            Engine::Neuron => "neuron",
        }
    }

    /// Recognises an engine in free text such as `TensorRT-LLM (PyTorch backend)` or
    /// `HF TGI (SageMaker LLM DLC)`.
    pub fn from_text(s: &str) -> Option<Engine> {
        let l = s.to_ascii_lowercase();
        // vLLM's Neuron backend is vLLM: the Neuron memory rule and efficiencies follow the
        // chip, not the engine's name.
        if (l.contains("neuron") || l.contains("nxd")) && !l.contains("vllm") {
            Some(Engine::Neuron)
        } else if l.contains("tensorrt") || l.contains("trtllm") || l.contains("trt-llm") {
            Some(Engine::Trtllm)
        } else if l.contains("sglang") {
            Some(Engine::Sglang)
        } else if l.contains("vllm") {
            Some(Engine::Vllm)
        } else if l.contains("tgi") || l.contains("text-generation-inference") {
            Some(Engine::Tgi)
        } else if l.contains("lmdeploy") || l.contains("turbomind") {
            Some(Engine::Lmdeploy)
        } else {
            None
        }
    }

    /// True when the scheduler runs prompt chunks and decodes in the same step by default
    /// (vLLM's chunked prefill, TensorRT-LLM's in-flight batching), so arrivals spread out;
    /// false when a prefill batch runs on its own and pauses decoding (SGLang without
    /// `--enable-mixed-chunk`, TGI, LMDeploy), so clients that start together stay in step.
    pub fn mixes_prefill_and_decode(self) -> bool {
        matches!(self, Engine::Vllm | Engine::Trtllm)
    }

    /// Whether the engine runs on a GPU generation and the performance model has measured data
    /// for that pairing. AWS Neuron chips (Inferentia2, Trainium) run NxD Inference, directly
    /// ([`Engine::Neuron`]) or under vLLM's Neuron backend, calibrated on AWS's published
    /// Neuron tables (`data/measured/neuron_llm.csv`); SGLang, TGI (whose Neuron build,
    /// Optimum Neuron, has no measurements here), TensorRT-LLM and LMDeploy do not run there.
    /// TensorRT-LLM and LMDeploy need NVIDIA GPUs; the Neuron runtime needs a Neuron chip.
    pub fn runs_on(self, arch: Arch) -> bool {
        match (self, arch) {
            (_, Arch::Other) => false,
            (Engine::Neuron, a) => a == Arch::Neuron,
            (e, Arch::Neuron) => e == Engine::Vllm,
            (e, Arch::Cdna3) => matches!(e, Engine::Vllm | Engine::Sglang | Engine::Tgi),
            _ => true,
        }
    }

    /// The engine's default scheduler limits and KV-cache memory rule on a GPU of `gpu_mem_gib`
    /// and generation `arch`, for one GPU of the release inferplan renders; see
    /// [`Engine::defaults_for`] for a given GPU name, layout and release.
    pub fn defaults(self, gpu_mem_gib: f64, arch: Arch) -> EngineDefaults {
        self.defaults_for(&Setup {
            version: None,
            gpu_name: None,
            gpu_mem_gib,
            arch,
            tp: 1,
            pp: 1,
        })
    }

    /// The defaults of the release inferplan renders on `gpu` (by its name and memory) with a
    /// layout: what plan, estimate, simulate and render use.
    pub fn defaults_on(self, gpu: &Gpu, gpu_mem_gib: f64, tp: u32, pp: u32) -> EngineDefaults {
        self.defaults_for(&Setup {
            version: None,
            gpu_name: Some(&gpu.name),
            gpu_mem_gib,
            arch: gpu.arch,
            tp,
            pp,
        })
    }

    /// The engine's default scheduler limits and KV-cache memory rule for a setup, from the
    /// documented defaults of its release in `data/perf/engines.csv` (the release inferplan
    /// renders when none is given or it is not read there):
    ///
    /// * vLLM: [`EngineLimits::vllm_default`], `gpu_memory_utilization` 0.9 of the whole GPU.
    /// * SGLang: `mem_fraction_static` derived from the GPU's memory and the layout as its
    ///   release does ([`sglang_mem_fraction_static`]), of the memory free at start, holding
    ///   weights and the KV pool; `chunked_prefill_size` by GPU memory; running requests
    ///   derived from the KV pool ([`sglang_max_running_requests`], applied by
    ///   [`crate::Replica::new`]; 4096 here is its ceiling).
    /// * LMDeploy: `cache_max_entry_count` of the whole GPU (0.1) or of the memory free after
    ///   the weights (0.2.2 and later); `max_batch_size` by release and GPU name.
    /// * TensorRT-LLM, TGI: the rows' values, falling back to vLLM's where none is published.
    pub fn defaults_for(self, s: &Setup<'_>) -> EngineDefaults {
        let vllm = EngineLimits::vllm_default(s.gpu_mem_gib, s.arch);
        let version = s
            .version
            .and_then(Version::parse)
            .or_else(|| self.rendered().and_then(Version::parse));
        let text = |param: &str| row_value(self, param, version);
        let value = |param: &str| text(param).and_then(|v| v.parse::<f64>().ok());
        let (mut seqs, mut tokens) = if self == Engine::Vllm {
            (vllm.max_num_seqs, vllm.max_num_batched_tokens)
        } else {
            (
                value("max_num_seqs").map_or(vllm.max_num_seqs, |v| v as u64),
                value("max_num_batched_tokens").map_or(vllm.max_num_batched_tokens, |v| v as u64),
            )
        };
        let mut fraction = value("kv_memory_fraction")
            .filter(|f| *f > 0.0 && *f <= 1.0)
            .unwrap_or(0.9);
        let gpu_mib = s.gpu_mem_gib * 1024.0;
        match self {
            Engine::Sglang => {
                let v = version.unwrap_or(Version::SGLANG_RENDERED);
                let (chunk, _) = sglang_chunk_and_graph_bs(v, gpu_mib, s.tp);
                tokens = chunk;
                seqs = SGLANG_MAX_REQ_POOL;
                fraction = sglang_mem_fraction_static(v, gpu_mib, s.tp, s.pp);
            }
            Engine::Lmdeploy => {
                if let Some(map) = lmdeploy_batch_map(version) {
                    let name = s.gpu_name.unwrap_or("").to_ascii_lowercase();
                    seqs = map
                        .iter()
                        .find(|(key, _)| name.contains(key))
                        .map_or(LMDEPLOY_OTHER_GPUS, |&(_, n)| n);
                }
            }
            _ => {}
        }
        let kv_basis = match (s.arch, self) {
            // NxD Inference has no memory fraction: it allocates what it compiles.
            (Arch::Neuron, _) => KvBasis::WithWeights,
            _ => text("kv_basis")
                .and_then(KvBasis::from_name)
                .unwrap_or(KvBasis::WithWeights),
        };
        EngineDefaults {
            limits: EngineLimits {
                max_num_seqs: seqs.max(1),
                max_num_batched_tokens: tokens.max(1),
                block_size: vllm.block_size,
                kv_basis,
                // Only a release the row's range names; others keep the model's window.
                full_context_windows: version.is_some_and(|v| {
                    release_row_value(self, "attention_window", v) == Some("full_context")
                }),
            },
            kv_memory_fraction: if s.arch == Arch::Neuron {
                1.0
            } else {
                fraction
            },
        }
    }

    /// The release inferplan renders (`render`'s image), whose defaults apply when a setup
    /// names none.
    fn rendered(self) -> Option<&'static str> {
        match self {
            Engine::Sglang => Some("0.5.3"),
            Engine::Lmdeploy => Some("0.16.0"),
            Engine::Tgi => Some("3.0.0"),
            _ => None,
        }
    }
}

/// What an engine's defaults depend on.
#[derive(Debug, Clone, Copy)]
pub struct Setup<'a> {
    /// The engine's release as written (`0.5.8.post1`, `v0.16.0`); `None` or a text that
    /// names no release: the release inferplan renders.
    pub version: Option<&'a str>,
    /// The GPU's name as the driver reports it or the catalog writes it (LMDeploy picks its
    /// batch size by a part of it); `None`: not known.
    pub gpu_name: Option<&'a str>,
    /// Memory of one GPU, GiB.
    pub gpu_mem_gib: f64,
    /// GPU generation.
    pub arch: Arch,
    /// Tensor-parallel degree.
    pub tp: u32,
    /// Pipeline-parallel degree.
    pub pp: u32,
}

/// A release number: major, minor, patch and post-release (`0.4.7.post1` is after `0.4.7`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Version(pub u32, pub u32, pub u32, pub u32);

impl Version {
    const SGLANG_RENDERED: Version = Version(0, 5, 3, 0);

    /// Reads `0.5.8.post1`, `v0.1.0a1`, `0.5.1-rc0.pre1`; `None` for text with no release
    /// number at its start (`nightly-dev`, `not stated`).
    pub fn parse(text: &str) -> Option<Version> {
        let t = text.trim();
        let t = t.strip_prefix('v').unwrap_or(t);
        let mut parts = t.split('.');
        let number = |p: Option<&str>| -> Option<u32> {
            let p = p?;
            let digits: String = p.chars().take_while(char::is_ascii_digit).collect();
            digits.parse().ok()
        };
        let major = number(parts.next())?;
        let minor = number(parts.next())?;
        let patch = number(parts.next()).unwrap_or(0);
        let post = parts
            .next()
            .and_then(|p| p.strip_prefix("post"))
            .and_then(|p| p.parse().ok())
            .unwrap_or(0);
        Some(Version(major, minor, patch, post))
    }

    /// Whether `range` (`0.4.7.post1-0.5.2`, `v0.2.2-v0.16.0`, `0.3.6.post3`) holds this
    /// release; `None` when the range is not a release range.
    fn within(self, range: &str) -> Option<bool> {
        let split = range
            .char_indices()
            .filter(|&(i, c)| c == '-' && i > 0)
            .map(|(i, _)| i)
            .find(|&i| {
                let rest = range[i + 1..].strip_prefix('v').unwrap_or(&range[i + 1..]);
                rest.starts_with(|c: char| c.is_ascii_digit())
            });
        let (lo, hi) = match split {
            Some(i) => (&range[..i], &range[i + 1..]),
            None => (range, range),
        };
        let (lo, hi) = (Version::parse(lo)?, Version::parse(hi)?);
        Some(lo <= self && self <= hi)
    }
}

const ENGINES_ORIGIN: &str = "data/perf/engines.csv";

/// The value of `param` for `engine` in `data/perf/engines.csv`: the first row whose release
/// range holds `version`, else the first row with a value (the earliest release read).
fn row_value(engine: Engine, param: &str, version: Option<Version>) -> Option<&'static str> {
    static TABLE: OnceLock<Option<Table>> = OnceLock::new();
    let table = TABLE
        .get_or_init(|| Table::parse(ENGINES_CSV, ENGINES_ORIGIN).ok())
        .as_ref()?;
    let rows = || {
        table.rows().filter(move |r| {
            r.get("engine") == Some(engine.as_str())
                && r.get("param") == Some(param)
                && r.get("value").is_some_and(|v| !v.is_empty())
        })
    };
    let matching = version.and_then(|v| {
        rows().find(|r| {
            r.get("version_range")
                .and_then(|range| v.within(range))
                .unwrap_or(false)
        })
    });
    let row = matching.or_else(|| rows().next())?;
    // The table lives as long as the program; its cells are borrowed from it.
    row.get("value")
}

/// The value of `param` for `engine` in the row whose release range holds `version`, with no
/// fallback to another release's row.
fn release_row_value(engine: Engine, param: &str, version: Version) -> Option<&'static str> {
    static TABLE: OnceLock<Option<Table>> = OnceLock::new();
    let table = TABLE
        .get_or_init(|| Table::parse(ENGINES_CSV, ENGINES_ORIGIN).ok())
        .as_ref()?;
    table
        .rows()
        .find(|r| {
            r.get("engine") == Some(engine.as_str())
                && r.get("param") == Some(param)
                && r.get("version_range")
                    .and_then(|range| version.within(range))
                    .unwrap_or(false)
        })?
        .get("value")
}

/// SGLang's request-pool ceiling: `req_to_token_pool` holds `min(max(KV tokens /
/// context_len × 512, 2048), 4096)` requests (sgl-project/sglang
/// `python/sglang/srt/model_executor/model_runner.py`, `init_memory_pool`, 0.3.6.post3–0.5.10;
/// `data/perf/engines.csv` row `sglang,0.3.0-0.5.10,max_num_seqs`).
pub const SGLANG_MAX_REQ_POOL: u64 = 4096;

/// SGLang's running requests when `--max-running-requests` is not given: `min(KV tokens / 2,
/// req_to_token_pool size)`, the pool `min(max(KV tokens / context_len × 512, 2048), 4096)`
/// (`tp_worker.py` and `model_runner.py`, see `data/perf/engines.csv`).
pub fn sglang_max_running_requests(kv_tokens: u64, context_len: u64) -> u64 {
    let pool = (kv_tokens as f64 / context_len.max(1) as f64 * 512.0) as u64;
    let pool = pool.clamp(2048, SGLANG_MAX_REQ_POOL);
    (kv_tokens / 2).min(pool).max(1)
}

/// SGLang's `chunked_prefill_size` and CUDA-graph `cuda_graph_max_bs` defaults by GPU memory
/// (MiB) and TP degree (`server_args.py`, `_handle_gpu_memory_settings` from 0.5.3; the
/// `max_num_batched_tokens` and `cuda_graph_max_bs` rows of `data/perf/engines.csv`).
pub fn sglang_chunk_and_graph_bs(v: Version, gpu_mib: f64, tp: u32) -> (u64, u64) {
    let small_tp = tp < 4;
    if v >= Version(0, 5, 3, 0) {
        let (chunk, graph) = if gpu_mib < 20.0 * 1024.0 {
            (2048, 8)
        } else if gpu_mib < 35.0 * 1024.0 {
            let small = if v >= Version(0, 5, 5, 0) { 24 } else { 16 };
            (2048, if small_tp { small } else { 80 })
        } else if gpu_mib < 60.0 * 1024.0 {
            (4096, if small_tp { 32 } else { 160 })
        } else if gpu_mib < 160.0 * 1024.0 {
            (8192, if small_tp { 256 } else { 512 })
        } else {
            (16384, 512)
        };
        (chunk, graph)
    } else if v >= Version(0, 4, 7, 1) {
        let graph = if gpu_mib < 35.0 * 1024.0 {
            if small_tp {
                8
            } else {
                80
            }
        } else if gpu_mib > 160.0 * 1000.0 {
            512
        } else if gpu_mib > 90.0 * 1024.0 {
            256
        } else {
            160
        };
        let chunk = if gpu_mib < 35.0 * 1024.0 {
            2048
        } else if gpu_mib < 160.0 * 1024.0 {
            8192
        } else {
            16384
        };
        (chunk, graph)
    } else if v >= Version(0, 3, 6, 0) && gpu_mib < 25000.0 {
        (2048, 8)
    } else {
        (8192, 160)
    }
}

/// SGLang's default `mem_fraction_static`: the share of the memory free at start that holds
/// weights and the KV pool, the rest left for activations, CUDA graphs and metadata, as each
/// release derives it (`server_args.py`; the `kv_memory_fraction` rows of
/// `data/perf/engines.csv` give the sources):
///
/// * 0.5.3 and later: `reserved = 512 + max(chunked_prefill_size, 2048) × 1.5 +
///   cuda_graph_max_bs × 2 + tp × pp / 8 × 1024` MiB, at least 10 GiB on GPUs above 60 GiB,
///   and `round((memory − reserved) / memory, 3)`.
/// * 0.4.7.post1–0.5.2: `reserved` by memory tier (`(2.8 + P/10)` GiB below 35 GiB, `(9.5 +
///   P/2)` GiB below 90 GiB, `(12 + P/2)` GiB below 160 GiB, 32 GiB above, P = tp × pp).
/// * earlier: by TP degree (0.88, 0.87, 0.85, 0.81–0.83, 0.79 at 1, 2, 4, 8, 16 GPUs).
pub fn sglang_mem_fraction_static(v: Version, gpu_mib: f64, tp: u32, pp: u32) -> f64 {
    let p = f64::from(tp.max(1) * pp.max(1));
    let round3 = |f: f64| (f * 1000.0).round() / 1000.0;
    if v >= Version(0, 5, 3, 0) {
        let (chunk, graph) = sglang_chunk_and_graph_bs(v, gpu_mib, tp);
        let mut reserved =
            512.0 + chunk.max(2048) as f64 * 1.5 + graph as f64 * 2.0 + p / 8.0 * 1024.0;
        if gpu_mib > 60.0 * 1024.0 {
            reserved = reserved.max(10.0 * 1024.0);
        }
        round3((gpu_mib - reserved) / gpu_mib)
    } else if v >= Version(0, 4, 7, 1) {
        let reserved_gib = if gpu_mib < 35.0 * 1024.0 {
            2.8 + p / 10.0
        } else if gpu_mib < 90.0 * 1024.0 {
            9.5 + p / 2.0
        } else if gpu_mib < 160.0 * 1024.0 {
            12.0 + p / 2.0
        } else {
            32.0
        };
        round3((gpu_mib - reserved_gib * 1024.0) / gpu_mib)
    } else {
        let eight = if v >= Version(0, 4, 0, 0) {
            0.81
        } else if v >= Version(0, 3, 6, 0) {
            0.82
        } else {
            0.83
        };
        match tp.max(1) * pp.max(1) {
            16.. => 0.79,
            8..=15 => eight,
            4..=7 => 0.85,
            2..=3 => 0.87,
            _ => 0.88,
        }
    }
}

/// Batch size of LMDeploy's CUDA devices not in its map.
const LMDEPLOY_OTHER_GPUS: u64 = 128;

/// LMDeploy's `max_batch_size` by a part of the device name, when the release derives it
/// (`get_max_batch_size` in `lmdeploy/utils.py`; `data/perf/engines.csv` rows `lmdeploy,
/// v0.6.0-v0.9.2.post1` and `v0.10.0-v0.16.0`, `max_num_seqs`); `None` for releases with a
/// fixed default.
fn lmdeploy_batch_map(v: Option<Version>) -> Option<&'static [(&'static str, u64)]> {
    let v = v?;
    if v >= Version(0, 10, 0, 0) {
        Some(&[
            ("a100", 384),
            ("a800", 384),
            ("h100", 1024),
            ("h800", 1024),
            ("l20y", 1024),
            ("h200", 1024),
        ])
    } else if v >= Version(0, 6, 0, 0) {
        Some(&[("a100", 256), ("a800", 256), ("h100", 512), ("h800", 512)])
    } else {
        None
    }
}

impl KvBasis {
    /// Reads a `kv_basis` value of `data/perf/engines.csv`.
    pub fn from_name(s: &str) -> Option<KvBasis> {
        Some(match s {
            "with_weights" => KvBasis::WithWeights,
            "static_pool" => KvBasis::StaticPool,
            "of_free" => KvBasis::OfFree,
            "of_free_after_weights" => KvBasis::OfFreeAfterWeights,
            "of_total" => KvBasis::OfTotal,
            _ => return None,
        })
    }
}

/// Defaults of an engine on one GPU.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct EngineDefaults {
    /// Batch limits.
    pub limits: EngineLimits,
    /// The engine's memory fraction (vLLM's `--gpu-memory-utilization`, SGLang's
    /// `--mem-fraction-static`, LMDeploy's `--cache-max-entry-count`, ...), a fraction of what
    /// `limits.kv_basis` says.
    pub kv_memory_fraction: f64,
}

impl fmt::Display for Engine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Engine {
    type Err = PerfError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Engine::from_text(s).ok_or_else(|| {
            PerfError::refused(
                "engine",
                format!(
                    "unknown engine `{s}`; expected one of vllm, sglang, trtllm, tgi, lmdeploy, neuron"
                ),
            )
        })
    }
}

/// Reads the names [`FromStr`] accepts (the plan JSON writes [`Engine::as_str`]).
impl<'de> serde::Deserialize<'de> for Engine {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = <String as serde::Deserialize>::deserialize(deserializer)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}
