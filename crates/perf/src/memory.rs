//! GPU memory budget of one model replica: weights, KV cache, activations and runtime
//! overhead per GPU, seen two ways.
//!
//! * **Safety-margin view** (the practitioners' rule): `(weights + KV cache + activations) ×
//!   safety_margin + runtime overhead` must fit in the GPU's memory.
//! * **Engine view** (what the engine does at startup): for vLLM `memory ×
//!   gpu_memory_utilization − weights − activation peak − non-torch memory` is reserved for the
//!   KV cache, other engines by their own rule ([`KvBasis`]), and the concurrency it allows is
//!   that KV cache divided by one full-length sequence.
//!
//! On an AWS Neuron chip (Inferentia2, Trainium) the rule is the Neuron stack's (see
//! [`crate::neuron`]): weights and a KV cache allocated at compile time for the batch size and
//! the sequence length, nothing for activations or a CUDA runtime.

use crate::error::PerfError;
use crate::params::MemoryParams;
use inferplan_catalog::{Arch, Dtype, Gpu, Interconnect, ModelSpec, Support};
use serde::Serialize;

const GIB: f64 = 1024.0 * 1024.0 * 1024.0;

/// The Neuron memory rule's caveat, printed with every fit on a Neuron chip.
pub const NEURON_NOTE: &str = "Neuron: weights and a KV cache for max_num_seqs × max_model_len are allocated when the graphs are compiled (vLLM's Neuron backend: batch_size = max_num_seqs, seq_len = max_model_len); the Neuron runtime's own reserve is not published and is not counted";

/// Engine settings that shape memory use.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct EngineLimits {
    /// Most tokens in one engine step (chunked prefill budget).
    pub max_num_batched_tokens: u64,
    /// Most sequences in one engine step.
    pub max_num_seqs: u64,
    /// Tokens per KV-cache block (paged attention).
    pub block_size: u64,
    /// What the engine's memory fraction is a fraction of, and what it holds besides the KV
    /// cache (per engine and version, `data/perf/engines.csv` rows `kv_basis`).
    #[serde(skip)]
    pub kv_basis: KvBasis,
    /// Whether the engine ignores a model's sliding window unless told to use it: windowed
    /// layers then attend over, and keep in the KV cache, the whole context
    /// (`data/perf/engines.csv` rows `attention_window`).
    #[serde(skip)]
    pub full_context_windows: bool,
}

/// How an engine turns its memory fraction into a KV cache, and so what it reserves beyond
/// weights and KV cache. `memory` is the GPU's, `non-torch` the CUDA context and the
/// communicators' buffers (allocated before the weights), `activations` the profiled peak of
/// one step (see [`activation_bytes`]). The one rule `fit`'s engine view applies
/// ([`engine_kv_bytes`]); each engine's own reading is in `data/perf/engines.csv`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum KvBasis {
    /// `memory × fraction` holds weights, the profiled activation peak, non-torch memory and
    /// the KV cache; CUDA graphs are captured outside it (vLLM's `gpu_memory_utilization`,
    /// "a per-instance limit" of the total memory).
    #[default]
    WithWeights,
    /// `(memory − non-torch) × fraction` holds weights and the KV pool; activations, CUDA
    /// graphs and sampler buffers live in the rest (SGLang's `mem_fraction_static`: KV =
    /// free after the weights − free at start × (1 − fraction), `profile_max_num_token`).
    StaticPool,
    /// The KV cache is `fraction ×` the memory free after weights, activations and runtime
    /// (TensorRT-LLM's `kv_cache_free_gpu_mem_fraction` after its profiling forward, TGI's
    /// wiggle room after its warmup prefill).
    OfFree,
    /// The KV cache is `fraction ×` the memory free after the weights and the communicators,
    /// measured before the engine allocates its step workspace, which lives in the rest
    /// (LMDeploy 0.2.2 and later, TurboMind's `cache_max_entry_count`).
    OfFreeAfterWeights,
    /// The KV cache is `fraction ×` the whole memory (LMDeploy 0.1–0.2.1's
    /// `cache_max_entry_count`), within what weights and activations leave.
    OfTotal,
}

/// KV-cache bytes per GPU an engine allocates under its memory rule: `memory` of the GPU,
/// its `fraction`, the `weights`, `activations` and `non_torch` bytes of one GPU.
pub fn engine_kv_bytes(
    basis: KvBasis,
    memory: f64,
    fraction: f64,
    weights: f64,
    activations: f64,
    non_torch: f64,
) -> f64 {
    let after_all = memory - weights - activations - non_torch;
    match basis {
        KvBasis::WithWeights => memory * fraction - weights - activations - non_torch,
        KvBasis::StaticPool => (memory - non_torch) * fraction - weights,
        KvBasis::OfFree => after_all * fraction,
        KvBasis::OfFreeAfterWeights => (memory - weights - non_torch) * fraction,
        KvBasis::OfTotal => (memory * fraction).min(after_all),
    }
}

impl EngineLimits {
    /// vLLM's defaults for its OpenAI-compatible server: 8192 batched tokens and 1024
    /// sequences on GPUs with at least 70 GiB (except A100), else 2048 and 256; blocks of 16.
    pub fn vllm_default(gpu_mem_gib: f64, arch: Arch) -> EngineLimits {
        let big = gpu_mem_gib >= 70.0 && arch != Arch::Ampere;
        EngineLimits {
            max_num_batched_tokens: if big { 8192 } else { 2048 },
            max_num_seqs: if big { 1024 } else { 256 },
            block_size: 16,
            kv_basis: KvBasis::WithWeights,
            full_context_windows: false,
        }
    }
}

/// What runs where: the model, the GPUs it gets and how it is laid out on them.
#[derive(Debug, Clone)]
pub struct Placement<'a> {
    /// The model.
    pub model: &'a ModelSpec,
    /// The GPU.
    pub gpu: &'a Gpu,
    /// Memory per GPU in GiB (from the instance when there is one).
    pub gpu_mem_gib: f64,
    /// GPUs available on the machine.
    pub gpus: u32,
    /// Link between the GPUs.
    pub interconnect: Interconnect,
    /// GPUs each layer spreads over (tensor parallelism, or attention data parallelism ×
    /// its attention TP with the experts over all of them).
    pub tp: u32,
    /// Attention data-parallel ranks among the `tp` GPUs (1: plain tensor parallelism). Each
    /// rank holds the attention weights of `tp / attention_dp` GPUs' share, its own
    /// sequences and their KV cache; dense and expert layers still spread over all `tp`.
    pub attention_dp: u32,
    /// Pipeline-parallel degree.
    pub pp: u32,
    /// Weight format.
    pub weights: Dtype,
    /// KV-cache format.
    pub kv: Dtype,
}

/// Attention tensor parallelism and data-parallel ranks of `tp` GPUs with `attention_dp`
/// ranks: (`tp / dp` GPUs per rank, `dp`). A `dp` that does not divide `tp` is refused by
/// `fit`; here it is clamped so the arithmetic stays finite.
pub fn attention_split(tp: u32, attention_dp: u32) -> (u32, u32) {
    let tp = tp.max(1);
    let dp = attention_dp.clamp(1, tp);
    ((tp / dp).max(1), dp)
}

/// What to fit where.
#[derive(Debug, Clone)]
pub struct FitInput<'a> {
    /// Model, GPUs and layout.
    pub placement: Placement<'a>,
    /// Tokens per sequence (prompt + output).
    pub context: u64,
    /// Sequences in flight.
    pub concurrency: u64,
    /// The engine's memory fraction (vLLM's `--gpu-memory-utilization`), read by the rule of
    /// `engine.kv_basis`.
    pub gpu_memory_utilization: f64,
    /// Multiplier of the safety-margin view.
    pub safety_margin: f64,
    /// Engine limits.
    pub engine: EngineLimits,
}

/// The answer of `fit`. Memory figures are GiB per GPU unless the name says otherwise.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FitReport {
    /// True when the safety-margin view fits.
    pub fits: bool,
    /// Weights of the whole model, GiB.
    pub weights_gib: f64,
    /// Weights held by one GPU.
    pub weights_gib_per_gpu: f64,
    /// KV cache of `concurrency` sequences of `context` tokens on one GPU.
    pub kv_cache_gib_per_gpu: f64,
    /// Activation and workspace peak of one engine step.
    pub activations_gib_per_gpu: f64,
    /// CUDA context, communication buffers and CUDA graphs.
    pub runtime_overhead_gib_per_gpu: f64,
    /// `(weights + kv + activations) × safety_margin + runtime overhead`.
    pub required_gib_per_gpu: f64,
    /// Memory of one GPU.
    pub available_gib_per_gpu: f64,
    /// `available − required` (negative when it does not fit).
    pub headroom_gib_per_gpu: f64,
    /// Most sequences of `context` tokens that fit under the safety margin.
    pub max_concurrency: u64,
    /// Longest context for `concurrency` sequences under the safety margin (capped at the
    /// model's maximum).
    pub max_context: u64,
    /// Tensor-parallel degree.
    pub tp: u32,
    /// Pipeline-parallel degree.
    pub pp: u32,
    /// GPUs used (`tp × pp`).
    pub gpus: u32,
    /// Weight format.
    pub weights_dtype: Dtype,
    /// KV-cache format.
    pub kv_dtype: Dtype,
    /// Tokens per sequence asked for.
    pub context: u64,
    /// Sequences asked for.
    pub concurrency: u64,
    /// Safety margin used.
    pub safety_margin: f64,
    /// vLLM's `--gpu-memory-utilization` used by the engine view.
    pub gpu_memory_utilization: f64,
    /// KV-cache bytes one token adds on one GPU (full-attention layers).
    pub kv_bytes_per_token_per_gpu: f64,
    /// Engine view: KV cache the engine (by default vLLM) would allocate per GPU.
    pub engine_kv_cache_gib_per_gpu: f64,
    /// Engine view: KV-cache blocks.
    pub engine_kv_blocks: u64,
    /// Engine view: how many `context`-token sequences that KV cache holds (as vLLM reports
    /// it: every layer at full length).
    pub engine_max_concurrency: f64,
    /// Engine view: vLLM would start (at least one full-length sequence fits).
    pub engine_fits: bool,
    /// Engine limits assumed.
    pub engine_limits: EngineLimits,
    /// Things to know about this answer.
    pub warnings: Vec<String>,
}

/// The KV-cache format used when none is asked for: FP8 when the weights are 8-bit or smaller
/// and the GPU has native FP8, else the weights' 16- or 32-bit format, else BF16.
pub fn default_kv_dtype(weights: Dtype, gpu: &Gpu) -> Dtype {
    if weights.bytes() <= 1.0 && gpu.support(Dtype::Fp8) == Support::Native {
        Dtype::Fp8
    } else if matches!(weights, Dtype::Fp32 | Dtype::Fp16) {
        weights
    } else {
        Dtype::Bf16
    }
}

/// Bytes of weights: (whole model, one GPU).
pub fn weight_bytes(m: &ModelSpec, weights: Dtype, tp: u32, pp: u32) -> (f64, f64) {
    weight_bytes_dp(m, weights, tp, 1, pp)
}

/// [`weight_bytes`] with `attention_dp` attention data-parallel ranks among the `tp` GPUs:
/// each rank holds attention split over its own `tp / attention_dp` GPUs (replicated across
/// ranks); dense FFN, experts and the embeddings still split over all `tp`.
pub fn weight_bytes_dp(
    m: &ModelSpec,
    weights: Dtype,
    tp: u32,
    attention_dp: u32,
    pp: u32,
) -> (f64, f64) {
    let (attn_tp, _) = attention_split(tp, attention_dp);
    let attn_tp = f64::from(attn_tp);
    let p = m.params();
    let hi = if weights == Dtype::Fp32 { 4.0 } else { 2.0 };
    let q = weights.bytes();
    let experts_only = weights == Dtype::Mxfp4 && m.moe.is_some();
    let dense_b = if experts_only { hi } else { q };
    // vLLM's MXFP4 MoE kernels pad the hidden dimension of expert weights to a multiple of 256.
    let expert_pad = if weights == Dtype::Mxfp4 {
        m.hidden.div_ceil(256) as f64 * 256.0 / m.hidden as f64
    } else {
        1.0
    };
    let q_experts = q * expert_pad;
    let total = p.attention * dense_b
        + p.dense_ffn * dense_b
        + p.experts * q_experts
        + (p.embedding + p.lm_head + p.norms) * hi;
    let tp = f64::from(tp.max(1));
    let stage = (m.layers as f64 / f64::from(pp.max(1))).ceil() / m.layers as f64;
    // Attention: K/V projections are replicated when there are fewer KV heads than ranks;
    // MLA's down-projections are replicated on every rank.
    let layers = m.layers as f64;
    let h = m.hidden as f64;
    let replicated_attn = match &m.mla {
        Some(mla) => {
            h * (mla.q_lora_rank.unwrap_or(0) + mla.kv_lora_rank + mla.qk_rope_head_dim) as f64
                * layers
        }
        None => 0.0,
    };
    let kv_proj = if m.mla.is_none() {
        h * (m.kv_heads * (m.head_dim + m.v_head_dim)) as f64 * layers
    } else {
        0.0
    };
    let kv_share = (1.0 / attn_tp).max(1.0 / m.kv_heads as f64);
    let attn_gpu =
        (p.attention - replicated_attn - kv_proj) / attn_tp + replicated_attn + kv_proj * kv_share;
    let embed_gpu = if pp > 1 {
        p.embedding.max(p.lm_head) / tp
    } else {
        (p.embedding + p.lm_head) / tp
    };
    let per_gpu = stage
        * (attn_gpu * dense_b
            + p.dense_ffn / tp * dense_b
            + p.experts / tp * q_experts
            + p.norms * hi)
        + embed_gpu * hi;
    (total, per_gpu)
}

/// KV-cache bytes one token adds on one GPU in each attention layer it holds, summed over
/// those layers (attention layers of its pipeline stage; KV heads split over TP, or replicated
/// when there are fewer KV heads than ranks; MLA latents replicated on every rank).
/// Linear-attention and Mamba layers hold no KV cache and add nothing.
pub fn kv_bytes_per_token_per_gpu(m: &ModelSpec, kv: Dtype, tp: u32, pp: u32) -> f64 {
    kv_bytes_per_token_per_gpu_dp(m, kv, tp, 1, pp)
}

/// [`kv_bytes_per_token_per_gpu`] with `attention_dp` attention data-parallel ranks among the
/// `tp` GPUs, per token of the whole replica's sequences: a token lives on one rank only, in
/// that rank's share (KV heads over its `tp / attention_dp` GPUs, an MLA latent on each of
/// them), so a GPU holds `1 / attention_dp` of what one rank's GPU holds per token of its own.
pub fn kv_bytes_per_token_per_gpu_dp(
    m: &ModelSpec,
    kv: Dtype,
    tp: u32,
    attention_dp: u32,
    pp: u32,
) -> f64 {
    let (attn_tp, dp) = attention_split(tp, attention_dp);
    per_layer_kv_bytes(m, kv, attn_tp) * stage_layers(m.attention_layers, pp) as f64 / f64::from(dp)
}

/// Recurrent (linear-attention, Mamba) state bytes of one sequence on one GPU, averaged over
/// the replica's GPUs as [`kv_bytes_per_token_per_gpu_dp`] averages the KV cache.
pub fn recurrent_state_bytes_dp(m: &ModelSpec, tp: u32, attention_dp: u32) -> f64 {
    let (attn_tp, dp) = attention_split(tp, attention_dp);
    m.recurrent_state_bytes(attn_tp) / f64::from(dp)
}

fn per_layer_kv_bytes(m: &ModelSpec, kv: Dtype, tp: u32) -> f64 {
    let elements = match &m.mla {
        Some(mla) => (mla.kv_lora_rank + mla.qk_rope_head_dim) as f64,
        None => {
            let heads = (m.kv_heads as f64 / f64::from(tp.max(1))).max(1.0);
            heads * (m.head_dim + m.v_head_dim) as f64
        }
    };
    elements * kv.bytes()
}

fn stage_layers(layers: u64, pp: u32) -> u64 {
    layers.div_ceil(u64::from(pp.max(1)))
}

/// Cache bytes of one sequence of `context` tokens on one GPU: full-attention layers hold the
/// whole context rounded up to whole blocks, windowed layers at most their window, and
/// linear-attention / Mamba layers a fixed state at its own precision (not `kv`), split over
/// TP like their heads.
pub fn kv_bytes_per_sequence_per_gpu(
    m: &ModelSpec,
    kv: Dtype,
    tp: u32,
    pp: u32,
    context: u64,
    block: u64,
) -> f64 {
    let per_layer = per_layer_kv_bytes(m, kv, tp);
    let frac = stage_layers(m.layers, pp) as f64 / m.layers as f64;
    let block = block.max(1);
    let padded = context.div_ceil(block) * block;
    let full = m.full_attention_layers() as f64 * padded as f64;
    let windowed = m.window.as_ref().map_or(0.0, |w| {
        w.layers as f64 * (context.min(w.tokens).div_ceil(block) * block) as f64
    });
    frac * (per_layer * (full + windowed) + m.recurrent_state_bytes(tp))
}

/// Activation and workspace peak of one engine step on one GPU, in bytes: the FP32 logits of
/// `max_num_seqs` sequences (vocabulary gathered on every rank) and the MLP buffers of
/// `max_num_batched_tokens` tokens, scaled by fitted copy counts.
pub fn activation_bytes(
    m: &ModelSpec,
    tp: u32,
    limits: &EngineLimits,
    params: &MemoryParams,
) -> f64 {
    let inter = match &m.moe {
        Some(moe) => {
            moe.top_k * moe.expert_intermediate + moe.shared_experts * moe.shared_intermediate
        }
        None => m.intermediate,
    } as f64;
    let logits = limits.max_num_seqs as f64 * m.vocab as f64 * 4.0;
    let mlp = limits.max_num_batched_tokens as f64 * 2.0 * inter / f64::from(tp.max(1)) * 2.0;
    params.logits_copies * logits + params.mlp_copies * mlp
}

/// Checks what cannot run at all.
fn refuse(input: &FitInput<'_>) -> Result<Vec<String>, PerfError> {
    let m = input.placement.model;
    let mut warnings = Vec::new();
    if input.placement.tp == 0 || input.placement.pp == 0 {
        return Err(PerfError::refused(
            "tp",
            "tensor- and pipeline-parallel degrees must be at least 1",
        ));
    }
    let used = input.placement.tp * input.placement.pp;
    if used > input.placement.gpus {
        return Err(PerfError::refused(
            "tp",
            format!(
                "TP {} × PP {} needs {used} GPUs but the machine has {}",
                input.placement.tp, input.placement.pp, input.placement.gpus
            ),
        ));
    }
    // NxD Inference pads the query heads and replicates the KV heads to the TP degree
    // (`REPLICATE_TO_TP_DEGREE`, else `CONVERT_TO_MHA`: aws-neuron-sdk
    // libraries/nxd-inference/developer_guides/feature-guide.rst @81ce03ae), so any TP runs
    // on a Neuron chip.
    let neuron = input.placement.gpu.arch == Arch::Neuron;
    let dp = input.placement.attention_dp.max(1);
    if !input.placement.tp.is_multiple_of(dp) {
        return Err(PerfError::refused(
            "attention_dp",
            format!(
                "{dp} attention data-parallel ranks do not divide the {} GPUs of the layout",
                input.placement.tp
            ),
        ));
    }
    // Attention heads split over one attention rank's GPUs (all `tp` without attention DP).
    let (attn_tp, _) = attention_split(input.placement.tp, dp);
    if !neuron && !m.heads.is_multiple_of(u64::from(attn_tp)) {
        return Err(PerfError::refused(
            "tp",
            format!(
                "TP {attn_tp} does not divide the {} attention heads of {}",
                m.heads, m.name
            ),
        ));
    }
    if m.mla.is_none() && !neuron {
        let (kv, tp) = (m.kv_heads, u64::from(attn_tp));
        if kv % tp != 0 && tp % kv != 0 {
            return Err(PerfError::refused(
                "tp",
                format!(
                    "TP {tp} and the {kv} KV heads of {} must divide one another",
                    m.name
                ),
            ));
        }
        if tp > kv {
            warnings.push(format!(
                "TP {tp} exceeds the {kv} KV heads: each KV head is replicated on {} GPUs",
                tp / kv
            ));
        }
    }
    if u64::from(input.placement.pp) > m.layers {
        return Err(PerfError::refused(
            "pp",
            format!("PP {} exceeds the {} layers", input.placement.pp, m.layers),
        ));
    }
    if input.context == 0 || input.concurrency == 0 {
        return Err(PerfError::refused(
            "context",
            "context and concurrency must be at least 1",
        ));
    }
    if input.context > m.max_context {
        return Err(PerfError::refused(
            "context",
            format!(
                "{} tokens exceeds the model's maximum of {} (max_position_embeddings)",
                input.context, m.max_context
            ),
        ));
    }
    if !(input.gpu_memory_utilization > 0.0 && input.gpu_memory_utilization <= 1.0) {
        return Err(PerfError::refused(
            "gpu_memory_utilization",
            "must be in (0, 1]",
        ));
    }
    if !(input.safety_margin >= 1.0 && input.safety_margin <= 10.0) {
        return Err(PerfError::refused(
            "safety_margin",
            "must be between 1 and 10",
        ));
    }
    for (field, d) in [
        ("precision", input.placement.weights),
        ("kv_dtype", input.placement.kv),
    ] {
        match input.placement.gpu.support(d) {
            Support::Native => {}
            Support::WeightOnly if field == "precision" => warnings.push(format!(
                "{} has no {d} tensor cores: {d} weights run as weight-only kernels (memory saved, no compute speedup)",
                input.placement.gpu.name
            )),
            Support::Emulated => warnings.push(format!("{} emulates {d}: expect it to be slow", input.placement.gpu.name)),
            Support::WeightOnly if d == Dtype::Fp8 => warnings.push(format!(
                "{} has no native FP8: the FP8 KV cache is emulated (dequantized in attention)",
                input.placement.gpu.name
            )),
            _ => {
                return Err(PerfError::refused(
                    if field == "precision" { "precision" } else { "kv_dtype" },
                    format!("{} cannot run {d} {}", input.placement.gpu.name, if field == "precision" { "weights" } else { "KV cache" }),
                ))
            }
        }
    }
    if matches!(
        input.placement.kv,
        Dtype::Int4 | Dtype::Int8 | Dtype::Fp4 | Dtype::Mxfp4
    ) {
        return Err(PerfError::refused(
            "kv_dtype",
            format!(
                "{} KV cache is not supported by the engines modelled; use fp8 or bf16",
                input.placement.kv
            ),
        ));
    }
    Ok(warnings)
}

/// Computes the memory budget.
pub fn fit(input: &FitInput<'_>, params: &MemoryParams) -> Result<FitReport, PerfError> {
    let mut warnings = refuse(input)?;
    let m = input.placement.model;
    let (tp, pp) = (input.placement.tp, input.placement.pp);
    let dp_in = input.placement.attention_dp;
    let (attn_tp, dp) = attention_split(tp, dp_in);
    let (w_total, w_gpu) = weight_bytes_dp(m, input.placement.weights, tp, dp_in, pp);
    // On a Neuron chip the graphs are compiled ahead: no profiled activation peak, no CUDA
    // context or graphs; the runtime's own reserve is not published (said in the warnings).
    let neuron = input.placement.gpu.arch == Arch::Neuron;
    let (act, non_torch, runtime) = if neuron {
        (0.0, 0.0, 0.0)
    } else {
        // Each attention rank schedules its own share of the limits: its step's peak is one
        // rank's.
        let mut rank = input.engine;
        rank.max_num_seqs = (rank.max_num_seqs / u64::from(dp)).max(1);
        rank.max_num_batched_tokens = (rank.max_num_batched_tokens / u64::from(dp)).max(1);
        let act = activation_bytes(m, tp, &rank, params);
        let non_torch = params.non_torch_gib(tp, input.placement.interconnect) * GIB;
        (act, non_torch, non_torch + params.cuda_graph_gib * GIB)
    };
    // With attention data parallelism a sequence lives on one rank: averaged over the
    // replica's GPUs it costs `1 / dp` of what it costs each GPU of its rank.
    let seq = |ctx: u64| {
        kv_bytes_per_sequence_per_gpu(
            m,
            input.placement.kv,
            attn_tp,
            pp,
            ctx,
            input.engine.block_size,
        ) / f64::from(dp)
    };
    let kv = seq(input.context) * input.concurrency as f64;
    let available = input.placement.gpu_mem_gib * GIB;
    let margin = input.safety_margin;
    let required = (w_gpu + kv + act) * margin + runtime;
    let budget = (available - runtime) / margin - w_gpu - act;
    let max_concurrency = if budget > 0.0 {
        (budget / seq(input.context)).floor() as u64
    } else {
        0
    };
    let max_context = largest(m.max_context, |c| {
        seq(c) * input.concurrency as f64 <= budget
    });

    let per_token = kv_bytes_per_token_per_gpu_dp(m, input.placement.kv, tp, dp_in, pp);
    let engine_kv = engine_kv_bytes(
        input.engine.kv_basis,
        available,
        input.gpu_memory_utilization,
        w_gpu,
        act,
        non_torch,
    );
    let block_bytes = per_token * input.engine.block_size as f64;
    let engine_kv_blocks = if engine_kv > 0.0 {
        (engine_kv / block_bytes).floor() as u64
    } else {
        0
    };
    let engine_tokens = (engine_kv_blocks * input.engine.block_size) as f64;
    let engine_max_concurrency = engine_tokens / input.context as f64;
    // One sequence must fit on one attention rank (its share of the cache).
    let engine_fits = engine_tokens / f64::from(dp) >= input.context as f64;
    let fits = required <= available;

    if neuron {
        warnings.push(NEURON_NOTE.to_owned());
    } else if matches!(input.placement.gpu.arch, Arch::Cdna3 | Arch::Other) {
        warnings.push(format!(
            "{} is not an NVIDIA GPU: the activation and runtime figures are vLLM-on-CUDA measurements",
            input.placement.gpu.name
        ));
    }
    if input.placement.gpu.memory_is_nominal() {
        warnings.push(format!(
            "{}: usable memory not published; the nominal size is used as GiB (GDDR parts report up to 7% less)",
            input.placement.gpu.name
        ));
    }
    if input.concurrency > input.engine.max_num_seqs {
        warnings.push(format!(
            "concurrency {} exceeds max_num_seqs {}: the rest queue",
            input.concurrency, input.engine.max_num_seqs
        ));
    }
    if let Some(w) = &m.window {
        if input.context > w.tokens {
            warnings.push(format!(
                "{} of {} layers attend to a {}-token window: the safety view counts them at the window, vLLM's reported concurrency at full length",
                w.layers, m.layers, w.tokens
            ));
        }
    }
    if fits && !engine_fits {
        warnings.push("fits under the safety margin, but vLLM at this gpu_memory_utilization leaves too little KV cache for one full-length sequence".to_owned());
    } else if !fits && engine_fits && engine_max_concurrency >= input.concurrency as f64 {
        warnings.push(format!(
            "vLLM would start and hold {engine_max_concurrency:.1} sequences, but without the {margin}× safety margin"
        ));
    }
    let mut seen = std::collections::BTreeSet::new();
    warnings.retain(|w| seen.insert(w.clone()));
    Ok(FitReport {
        fits,
        weights_gib: w_total / GIB,
        weights_gib_per_gpu: w_gpu / GIB,
        kv_cache_gib_per_gpu: kv / GIB,
        activations_gib_per_gpu: act / GIB,
        runtime_overhead_gib_per_gpu: runtime / GIB,
        required_gib_per_gpu: required / GIB,
        available_gib_per_gpu: input.placement.gpu_mem_gib,
        headroom_gib_per_gpu: (available - required) / GIB,
        max_concurrency,
        max_context,
        tp,
        pp,
        gpus: tp * pp,
        weights_dtype: input.placement.weights,
        kv_dtype: input.placement.kv,
        context: input.context,
        concurrency: input.concurrency,
        safety_margin: margin,
        gpu_memory_utilization: input.gpu_memory_utilization,
        kv_bytes_per_token_per_gpu: per_token,
        engine_kv_cache_gib_per_gpu: engine_kv / GIB,
        engine_kv_blocks,
        engine_max_concurrency,
        engine_fits,
        engine_limits: input.engine,
        warnings,
    })
}

/// Largest `x` in `0..=hi` with `ok(x)`, for a predicate that is true up to some point.
fn largest(hi: u64, ok: impl Fn(u64) -> bool) -> u64 {
    if !ok(1) {
        return 0;
    }
    let (mut lo, mut hi) = (1u64, hi);
    while lo < hi {
        let mid = lo + (hi - lo).div_ceil(2);
        if ok(mid) {
            lo = mid;
        } else {
            hi = mid - 1;
        }
    }
    lo
}
