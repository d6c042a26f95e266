//! Serving engines and the scheduler limits that shape their batches.

use crate::error::PerfError;
use crate::memory::EngineLimits;
use inferplan_catalog::table::Table;
use inferplan_catalog::Arch;
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

    /// What the engine's KV memory fraction is a fraction of.
    pub fn kv_basis(self) -> KvBasis {
        match self {
            Engine::Vllm | Engine::Sglang => KvBasis::WithWeights,
            Engine::Trtllm | Engine::Tgi | Engine::Neuron => KvBasis::OfFree,
            Engine::Lmdeploy => KvBasis::OfTotal,
        }
    }

    /// The engine's default scheduler limits and KV-cache memory fraction on a GPU.
    ///
    /// vLLM's limits depend on the GPU (see [`EngineLimits::vllm_default`]); the other engines'
    /// documented defaults come from `data/perf/engines.csv`, falling back to vLLM's where a
    /// value is not published.
    pub fn defaults(self, gpu_mem_gib: f64, arch: Arch) -> EngineDefaults {
        let vllm = EngineLimits::vllm_default(gpu_mem_gib, arch);
        static TABLE: OnceLock<Option<Table>> = OnceLock::new();
        let table = TABLE.get_or_init(|| Table::parse(ENGINES_CSV, "data/perf/engines.csv").ok());
        let value = |param: &str| -> Option<f64> {
            let table = table.as_ref()?;
            let row = table.rows().find(|r| {
                r.get("engine") == Some(self.as_str())
                    && r.get("param") == Some(param)
                    && r.get("value").is_some_and(|v| !v.is_empty())
            })?;
            row.get("value")?.parse().ok()
        };
        let (seqs, tokens) = if self == Engine::Vllm {
            (vllm.max_num_seqs, vllm.max_num_batched_tokens)
        } else {
            (
                value("max_num_seqs").map_or(vllm.max_num_seqs, |v| v as u64),
                value("max_num_batched_tokens").map_or(vllm.max_num_batched_tokens, |v| v as u64),
            )
        };
        EngineDefaults {
            limits: EngineLimits {
                max_num_seqs: seqs.max(1),
                max_num_batched_tokens: tokens.max(1),
                block_size: vllm.block_size,
            },
            // NxD Inference has no memory fraction: it allocates what it compiles.
            kv_memory_fraction: if arch == Arch::Neuron {
                1.0
            } else {
                value("kv_memory_fraction")
                    .filter(|f| *f > 0.0 && *f <= 1.0)
                    .unwrap_or(0.9)
            },
        }
    }
}

/// How an engine turns its memory fraction into a KV cache.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum KvBasis {
    /// `memory × fraction` holds weights, activations and KV cache (vLLM's
    /// `gpu_memory_utilization`, SGLang's `mem_fraction_static`).
    WithWeights,
    /// The KV cache is `fraction ×` the memory left after weights and activations
    /// (TensorRT-LLM's `kv_cache_free_gpu_mem_fraction`, TGI).
    OfFree,
    /// The KV cache is `fraction ×` the whole memory (LMDeploy 0.1's `cache_max_entry_count`).
    OfTotal,
}

/// Defaults of an engine on one GPU.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct EngineDefaults {
    /// Batch limits.
    pub limits: EngineLimits,
    /// Fraction of GPU memory the engine budgets for weights, activations and KV cache
    /// (vLLM's `--gpu-memory-utilization`).
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
