//! Time of one engine step (the roofline core of the performance model).
//!
//! `time = max(bytes / effective bandwidth, FLOPs / effective compute) + TP communication +
//! fixed overhead`, per GPU of one replica. Efficiencies (achieved fractions of the datasheet
//! peaks) are inputs here; fitting them to measured data is the job of calibration.

use crate::kernels::Kernels;
use crate::memory::{
    attention_split, kv_bytes_per_token_per_gpu_dp, recurrent_state_bytes_dp, weight_bytes_dp,
};
use crate::portable;
use inferplan_catalog::{Dtype, ModelSpec};
use serde::Serialize;

/// What bounds a step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Bound {
    /// Reading weights and KV cache from memory.
    MemoryBandwidth,
    /// Tensor-core math.
    Compute,
    /// Tensor-parallel all-reduces.
    Communication,
}

/// Peak rates of one GPU and its link, in SI units.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rates {
    /// Memory bandwidth, bytes/s.
    pub mem_bytes_s: f64,
    /// Dense tensor throughput for the math format, FLOP/s.
    pub flops_s: f64,
    /// GPU-to-GPU bandwidth per direction, bytes/s (ignored when TP = 1).
    pub link_bytes_s: f64,
    /// Latency of one collective step, seconds.
    pub link_latency_s: f64,
    /// Kernel curves of the GPU, which replace the roofline when present.
    pub kernels: Option<Kernels>,
}

/// Achieved fractions of the peaks, and the fixed cost of a step.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Efficiency {
    /// Fraction of peak memory bandwidth achieved.
    pub bandwidth: f64,
    /// Fraction of peak tensor throughput achieved.
    pub compute: f64,
    /// Fraction of link bandwidth achieved by all-reduces.
    pub comm: f64,
    /// Scheduler, launch and sampling time per step, seconds.
    pub step_overhead_s: f64,
    /// Fixed time per request before its first token (API server, tokenization, scheduling),
    /// seconds. Not part of a step; `estimate` adds it to TTFT.
    pub request_overhead_s: f64,
    /// Time per open stream added to a request's first token: the API server and the
    /// benchmark client handle every open stream's token events on one event loop, and a new
    /// request's first token waits behind them, seconds per stream. Shared by the roofline
    /// and the kernel path (it is the serving front end's, not the GPU's).
    pub stream_overhead_s: f64,
    /// Time per decoding sequence added to every step, seconds: the engine's host-side work
    /// that grows with the batch (building each sequence's inputs and block table, sampling,
    /// detokenising and streaming its token), which a fixed step overhead cannot hold: at a
    /// few sequences it is nothing, at hundreds it is milliseconds. Shared by the roofline and
    /// the kernel path (it is the engine's CPU side, not the GPU's); added by
    /// [`crate::estimate::Replica::stage`], so the estimate and the simulator charge the same.
    pub seq_overhead_s: f64,
    /// Exponent `α` of the prompts that arrive together in a closed loop of `c` clients on an
    /// engine that mixes prompts into decode steps: `c^α` of them (0: the clients are spread
    /// out, each prompt alone; 1: they move in lockstep rounds). Fixed lengths keep the
    /// clients of a benchmark partly in step (requests prefilled together finish together),
    /// so a prompt waits for half of the others of its clump. Fitted per engine.
    pub clump_exponent: f64,
    /// The same exponent on an engine that runs a prompt step on its own and pauses decoding
    /// (SGLang, TGI, LMDeploy), in a closed loop whose output lengths vary: requests of a
    /// round end at different steps, so the clients fall out of step, by how much the engine's
    /// own runs say (1: they stay in lockstep rounds). Kept apart from the mixing engines'
    /// (a prompt step pausing every decode holds the clients together far more than a mixed
    /// step does), so neither kind of engine falls back on the other's. With fixed lengths
    /// such a loop runs in rounds whatever this is.
    pub prefill_clump_exponent: f64,
    /// Host time per layer of a request's prompt step, seconds: engines capture decode steps
    /// in CUDA graphs but run a step that carries a prompt eagerly (vLLM, SGLang, TensorRT-LLM's
    /// PyTorch backend), each layer's kernels dispatched one by one from Python, so a prompt's
    /// step has a host floor that grows with the layers whatever the GPU. A MoE layer counts
    /// twice (router, top-k, token permutation, expert GEMMs and combine beside the attention).
    /// Charged once per request with the front end ([`crate::Replica::request_overhead_s`]);
    /// fitted per engine on TTFT rows (VALIDATION.md, "TTFT: the eager prompt step").
    pub eager_layer_s: f64,
    /// The engine's multipliers on measured kernel curves (on GPUs that have them): bandwidth
    /// and compute fractions of GEMMs and attention, all-reduce bandwidth, per-call floors.
    pub kernel: KernelScale,
}

/// Multipliers on the measured kernels' speed (1 = the kernel tables as measured).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct KernelScale {
    /// On bandwidth fractions.
    pub bandwidth: f64,
    /// On compute fractions.
    pub compute: f64,
    /// On all-reduce bandwidth.
    pub comm: f64,
    /// Fraction of link bandwidth achieved by all-reduces without a measured curve (GPUs
    /// without NVLink, whose tables describe one host's PCIe; TP sizes not measured): the
    /// roofline's all-reduce, at a fraction fitted on the kernel path's rows.
    pub link: f64,
    /// On the fixed time of each kernel call.
    pub floor: f64,
    /// Scheduler, launch and sampling time per step on the kernel path, seconds (the
    /// roofline's [`Efficiency::step_overhead_s`] is fitted on roofline GPUs only).
    pub step_overhead_s: f64,
    /// Fixed time per request before its first token on the kernel path, seconds.
    pub request_overhead_s: f64,
}

impl KernelScale {
    /// The kernels as measured.
    pub const ONE: KernelScale = KernelScale {
        bandwidth: 1.0,
        compute: 1.0,
        comm: 1.0,
        link: 1.0,
        floor: 1.0,
        step_overhead_s: 0.0,
        request_overhead_s: 0.0,
    };
}

/// One step's work for one replica. Counts are `f64` so that an analytic model can use
/// averages (a fraction of a prompt per step); the simulator passes whole numbers.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Batch {
    /// Prompt tokens processed in this step (possibly chunks of longer prompts).
    pub prefill_tokens: f64,
    /// KV-cache tokens of earlier chunks of those prompts, read by this step's attention.
    pub prefill_past: f64,
    /// Causal query-key pairs of the prefill tokens (over the past and within the chunk).
    pub prefill_pairs: f64,
    /// Sequences generating one token each.
    pub decode_seqs: f64,
    /// Sum over decoding sequences of their context length.
    pub decode_context: f64,
}

impl Batch {
    /// One chunk of `tokens` prompt tokens whose first `past` tokens are already cached.
    pub fn prefill(tokens: f64, past: f64) -> Batch {
        Batch {
            prefill_tokens: tokens,
            prefill_past: past,
            prefill_pairs: tokens * past + tokens * (tokens + 1.0) / 2.0,
            ..Batch::default()
        }
    }

    /// `seqs` sequences decoding one token each with `context` tokens already cached.
    pub fn decode(seqs: f64, context: f64) -> Batch {
        Batch {
            decode_seqs: seqs,
            decode_context: seqs * context,
            ..Batch::default()
        }
    }

    /// Both batches in one step.
    pub fn plus(self, o: Batch) -> Batch {
        Batch {
            prefill_tokens: self.prefill_tokens + o.prefill_tokens,
            prefill_past: self.prefill_past + o.prefill_past,
            prefill_pairs: self.prefill_pairs + o.prefill_pairs,
            decode_seqs: self.decode_seqs + o.decode_seqs,
            decode_context: self.decode_context + o.decode_context,
        }
    }

    /// Every token this step computes (prompt tokens plus one per decoding sequence).
    pub fn tokens(&self) -> f64 {
        self.prefill_tokens + self.decode_seqs
    }

    /// `factor` times the work (a pipeline micro-batch, or several copies).
    pub fn scaled(self, factor: f64) -> Batch {
        Batch {
            prefill_tokens: self.prefill_tokens * factor,
            prefill_past: self.prefill_past * factor,
            prefill_pairs: self.prefill_pairs * factor,
            decode_seqs: self.decode_seqs * factor,
            decode_context: self.decode_context * factor,
        }
    }
}

/// Layout and formats of the replica.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Layout {
    /// GPUs each layer spreads over (see [`crate::memory::Placement::tp`]).
    pub tp: u32,
    /// Attention data-parallel ranks among the `tp` GPUs (1: plain tensor parallelism): the
    /// batch's sequences split over the ranks, each reading only its own KV cache and its
    /// attention weights whole over `tp / attention_dp` GPUs.
    pub attention_dp: u32,
    /// Pipeline-parallel degree.
    pub pp: u32,
    /// Weight format.
    pub weights: Dtype,
    /// KV-cache format.
    pub kv: Dtype,
}

/// The time of one step and its parts, seconds.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct StepTime {
    /// Whole step.
    pub total_s: f64,
    /// Memory traffic at effective bandwidth.
    pub memory_s: f64,
    /// Math at effective throughput.
    pub compute_s: f64,
    /// TP communication.
    pub comm_s: f64,
    /// Fixed overhead.
    pub overhead_s: f64,
    /// The largest part.
    pub bound: Bound,
}

/// Expected number of distinct routed experts that `tokens` tokens touch in one MoE layer,
/// each picking `top_k` of `experts` uniformly: `E × (1 − (1 − k/E)^tokens)`.
pub fn experts_touched(experts: u64, top_k: u64, tokens: f64) -> f64 {
    if experts == 0 || tokens <= 0.0 {
        return 0.0;
    }
    let e = experts as f64;
    let miss = (1.0 - top_k as f64 / e).max(0.0);
    e * (1.0 - portable::pow(miss, tokens))
}

/// Bytes one GPU reads in a step: its weights (only the routed experts the batch touches) and
/// the KV cache attention reads (windowed layers at most their window) and writes, and the
/// fixed state of linear-attention or Mamba layers.
pub fn step_bytes(m: &ModelSpec, l: &Layout, b: &Batch) -> f64 {
    let w = weights_read(m, l, b.tokens());
    let (decode, prefill) = kv_read(m, l, b);
    (w.dense + w.experts).max(0.0) + decode + prefill + kv_write_and_state(m, l, b)
}

/// Weight bytes one GPU reads in a step, split into routed experts and everything else.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct WeightsRead {
    /// Dense weights (attention, dense FFN, shared experts, output head, norms), bytes.
    pub dense: f64,
    /// Routed experts the batch touches, bytes.
    pub experts: f64,
}

/// The weights a step of `tokens` tokens reads: every dense weight but the input embedding
/// (only its looked-up rows are read), and the routed experts those tokens touch.
pub fn weights_read(m: &ModelSpec, l: &Layout, tokens: f64) -> WeightsRead {
    let (_, mut weights) = weight_bytes_dp(m, l.weights, l.tp, l.attention_dp, l.pp);
    let p = m.params();
    let mut experts = 0.0;
    if let Some(moe) = &m.moe {
        let per_expert_gpu =
            p.experts / (moe.moe_layers * moe.experts).max(1) as f64 / f64::from(l.tp.max(1))
                * l.weights.bytes();
        let stage = (moe.moe_layers as f64 / f64::from(l.pp.max(1))).ceil();
        let all = stage * moe.experts as f64 * per_expert_gpu;
        let untouched = moe.experts as f64 - experts_touched(moe.experts, moe.top_k, tokens);
        weights -= stage * untouched * per_expert_gpu;
        experts = (all - stage * untouched * per_expert_gpu).max(0.0);
        weights -= experts;
    }
    // Only the looked-up rows of the input embedding are read.
    let embed = p.embedding * 2.0 / f64::from(l.tp.max(1));
    if !m.tie_embeddings && l.pp <= 1 {
        weights -= embed;
    }
    WeightsRead {
        dense: weights,
        experts,
    }
}

/// KV-cache bytes one GPU reads in a step: (decoding sequences, prompt chunks over their
/// cached part).
pub fn kv_read(m: &ModelSpec, l: &Layout, b: &Batch) -> (f64, f64) {
    let kv_token = kv_bytes_per_token_per_gpu_dp(m, l.kv, l.tp, l.attention_dp, l.pp);
    (
        kv_token
            * b.decode_seqs
            * rank_imbalance(l, b.decode_seqs)
            * attended(m, per_seq(b.decode_context, b.decode_seqs)),
        kv_token * b.prefill_past * window_share(m, b.prefill_past),
    )
}

/// Bytes one GPU writes to the KV cache, plus the fixed state linear-attention and Mamba
/// layers read and write once per decoding sequence.
pub fn kv_write_and_state(m: &ModelSpec, l: &Layout, b: &Batch) -> f64 {
    let kv_token = kv_bytes_per_token_per_gpu_dp(m, l.kv, l.tp, l.attention_dp, l.pp);
    let state = 2.0 * recurrent_state_bytes_dp(m, l.tp, l.attention_dp) / f64::from(l.pp.max(1))
        * b.decode_seqs;
    kv_token * b.tokens() + state
}

/// The busiest attention rank's decoding sequences over an even split's: each sequence lives
/// on one rank, so with fewer sequences than ranks, or a remainder, one rank carries
/// `ceil(seqs / dp)` and the step waits for it. 1 without attention data parallelism.
pub fn rank_imbalance(l: &Layout, seqs: f64) -> f64 {
    let (_, dp) = attention_split(l.tp, l.attention_dp);
    if dp <= 1 || seqs <= 0.0 {
        return 1.0;
    }
    let dp = f64::from(dp);
    (seqs / dp).ceil() * dp / seqs
}

fn per_seq(total: f64, seqs: f64) -> f64 {
    if seqs > 0.0 {
        total / seqs
    } else {
        0.0
    }
}

/// Context one query attends to, averaged over layers: full layers see `context`, windowed
/// layers at most their window.
fn attended(m: &ModelSpec, context: f64) -> f64 {
    context * window_share(m, context)
}

/// Fraction of the full-context attention work left when windowed layers stop at their window.
fn window_share(m: &ModelSpec, context: f64) -> f64 {
    match &m.window {
        Some(w) if context > 0.0 => {
            let full = m.full_attention_layers() as f64;
            let windowed = w.layers as f64 * (w.tokens as f64).min(context) / context;
            (full + windowed) / m.attention_layers.max(1) as f64
        }
        _ => 1.0,
    }
}

/// FLOPs one GPU does in a step: `2 × active parameters` per token (without the embedding
/// lookup), plus attention scores and values (`4 × layers × heads × head_dim` per query-key
/// pair; windowed layers stop at their window).
pub fn step_flops(m: &ModelSpec, l: &Layout, b: &Batch) -> f64 {
    let f = flops(m, l, b);
    f.linear + f.experts + f.prefill_attention + f.decode_attention
}

/// FLOPs one GPU does in a step, by kind.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Flops {
    /// Matrix multiplies of dense weights.
    pub linear: f64,
    /// Matrix multiplies of routed experts.
    pub experts: f64,
    /// Attention of prompt tokens.
    pub prefill_attention: f64,
    /// Attention of decoding sequences.
    pub decode_attention: f64,
}

/// [`step_flops`] by kind.
pub fn flops(m: &ModelSpec, l: &Layout, b: &Batch) -> Flops {
    let p = m.params();
    let gpus = f64::from(l.tp.max(1) * l.pp.max(1));
    let experts_active = match &m.moe {
        Some(moe) => p.experts / moe.experts.max(1) as f64 * moe.top_k as f64,
        None => 0.0,
    };
    let per_pair =
        4.0 * m.attention_layers as f64 * (m.heads * m.head_dim.max(m.v_head_dim)) as f64;
    let prefill_context = per_seq(b.prefill_pairs, b.prefill_tokens);
    Flops {
        linear: 2.0 * (p.active - p.embedding - experts_active) * b.tokens() / gpus,
        experts: 2.0 * experts_active * b.tokens() / gpus,
        prefill_attention: per_pair * b.prefill_pairs * window_share(m, prefill_context) / gpus,
        decode_attention: per_pair
            * b.decode_seqs
            * rank_imbalance(l, b.decode_seqs)
            * attended(m, per_seq(b.decode_context, b.decode_seqs))
            / gpus,
    }
}

/// Seconds of TP communication: two all-reduces of the activations per layer (each rank sends
/// `2 (tp − 1) / tp` of the buffer; small messages go by a tree, `log2(tp)` latency steps).
pub fn step_comm(m: &ModelSpec, l: &Layout, b: &Batch, r: &Rates, e: &Efficiency) -> f64 {
    let tp = f64::from(l.tp.max(1));
    if l.tp <= 1 {
        return 0.0;
    }
    let buffer = b.tokens() * m.hidden as f64 * 2.0;
    // ⌈log2 tp⌉, in integers: the bits of tp − 1.
    let tree_steps = f64::from(u32::BITS - (l.tp - 1).leading_zeros());
    let per_allreduce =
        2.0 * (tp - 1.0) / tp * buffer / (r.link_bytes_s * e.comm) + tree_steps * r.link_latency_s;
    let layers = (m.layers as f64 / f64::from(l.pp.max(1))).ceil();
    2.0 * layers * per_allreduce * comm_share(m, l, b)
}

/// Bytes a GPU sends per step with attention data parallelism, as a share of what TP's two
/// all-reduces of the whole batch per layer send (1 without attention DP). Each rank
/// all-reduces its own tokens over its `tp / dp` GPUs after attention; a MoE layer sends each
/// token to the GPUs of its `top_k` experts and back (dispatch and combine, an all-to-all of
/// the GPU's `tokens / tp`); a dense layer's FFN gathers and scatters the whole batch over all
/// GPUs (one all-reduce's worth).
pub fn comm_share(m: &ModelSpec, l: &Layout, b: &Batch) -> f64 {
    let (attn_tp, dp) = attention_split(l.tp, l.attention_dp);
    if dp <= 1 || l.tp <= 1 {
        return 1.0;
    }
    let tokens = b.tokens();
    if tokens <= 0.0 {
        return 1.0;
    }
    let all_reduce = |gpus: u32, t: f64| {
        let g = f64::from(gpus.max(1));
        2.0 * (g - 1.0) / g * t
    };
    let tp = f64::from(l.tp);
    let layers = m.layers as f64;
    let (moe_layers, top_k) = m
        .moe
        .as_ref()
        .map_or((0.0, 1.0), |x| (x.moe_layers as f64, x.top_k as f64));
    let attention = layers * all_reduce(attn_tp, tokens / f64::from(dp));
    let dispatch = moe_layers * 2.0 * tokens / tp * top_k.min(tp) * (tp - 1.0) / tp;
    let dense = (layers - moe_layers).max(0.0) * all_reduce(l.tp, tokens);
    (attention + dispatch + dense) / (2.0 * layers * all_reduce(l.tp, tokens))
}

/// Time of one step by the roofline: the larger of memory and math time at flat efficiencies.
/// GPUs with kernel curves compose their step from them instead ([`crate::kernels::step`]).
pub fn step_time(m: &ModelSpec, l: &Layout, b: &Batch, r: &Rates, e: &Efficiency) -> StepTime {
    let memory_s = step_bytes(m, l, b) / (r.mem_bytes_s * e.bandwidth);
    let compute_s = step_flops(m, l, b) / (r.flops_s * e.compute);
    let comm_s = step_comm(m, l, b, r, e);
    let bound = if comm_s > memory_s.max(compute_s) {
        Bound::Communication
    } else if compute_s > memory_s {
        Bound::Compute
    } else {
        Bound::MemoryBandwidth
    };
    StepTime {
        total_s: memory_s.max(compute_s) + comm_s + e.step_overhead_s,
        memory_s,
        compute_s,
        comm_s,
        overhead_s: e.step_overhead_s,
        bound,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use inferplan_catalog::hf_config;

    fn tiny() -> ModelSpec {
        hf_config::parse(
            r#"{"model_type":"llama","num_hidden_layers":2,"hidden_size":1024,"intermediate_size":4096,
                "num_attention_heads":8,"num_key_value_heads":2,"vocab_size":32000,"tie_word_embeddings":false}"#,
            "tiny.json",
            "tiny",
        )
        .unwrap()
    }

    const R: Rates = Rates {
        mem_bytes_s: 1e12,
        flops_s: 1e15,
        link_bytes_s: 1e11,
        link_latency_s: 0.0,
        kernels: None,
    };
    const E: Efficiency = Efficiency {
        bandwidth: 1.0,
        compute: 1.0,
        comm: 1.0,
        step_overhead_s: 0.0,
        request_overhead_s: 0.0,
        stream_overhead_s: 0.0,
        seq_overhead_s: 0.0,
        clump_exponent: 0.0,
        prefill_clump_exponent: 1.0,
        eager_layer_s: 0.0,
        kernel: KernelScale::ONE,
    };
    const L: Layout = Layout {
        tp: 1,
        attention_dp: 1,
        pp: 1,
        weights: Dtype::Bf16,
        kv: Dtype::Bf16,
    };

    #[test]
    fn pure_memory_bound_decode_step() {
        let m = tiny();
        // One sequence, empty context: reads every weight but the input embedding, writes one
        // token of KV (2 layers × 2 heads × 256 values × 2 bytes).
        let b = Batch::decode(1.0, 0.0);
        let p = m.params();
        let bytes = (p.total - p.embedding) * 2.0 + 2048.0;
        let t = step_time(&m, &L, &b, &R, &E);
        assert!(
            (t.memory_s - bytes / 1e12).abs() < 1e-15,
            "{} vs {}",
            t.memory_s,
            bytes / 1e12
        );
        assert_eq!(t.bound, Bound::MemoryBandwidth);
        assert!(t.compute_s < t.memory_s / 100.0);
    }

    #[test]
    fn pure_compute_bound_prefill_step() {
        let m = tiny();
        let b = Batch::prefill(4096.0, 0.0);
        let p = m.params();
        let pairs = 4096.0 * 4097.0 / 2.0;
        let flops = 2.0 * (p.total - p.embedding) * 4096.0 + 4.0 * 2.0 * 1024.0 * pairs;
        let t = step_time(&m, &L, &b, &R, &E);
        assert!((t.compute_s - flops / 1e15).abs() < 1e-12);
        assert_eq!(t.bound, Bound::Compute);
    }

    #[test]
    fn experts_touched_saturates() {
        assert_eq!(experts_touched(8, 2, 0.0), 0.0);
        assert!((experts_touched(8, 2, 1.0) - 2.0).abs() < 1e-12);
        assert!(experts_touched(128, 8, 10_000.0) > 127.99);
        assert!(experts_touched(128, 8, 4.0) < 32.0);
    }

    #[test]
    fn more_bandwidth_never_slows_a_step() {
        let m = tiny();
        for seqs in [1.0, 8.0, 64.0, 512.0] {
            let b = Batch::decode(seqs, 1000.0).plus(Batch::prefill(128.0, 0.0));
            let slow = step_time(&m, &L, &b, &R, &E).total_s;
            let fast = step_time(
                &m,
                &L,
                &b,
                &Rates {
                    mem_bytes_s: 2e12,
                    ..R
                },
                &E,
            )
            .total_s;
            assert!(fast <= slow);
        }
    }

    #[test]
    fn larger_batches_never_lower_throughput() {
        let m = tiny();
        let mut last = 0.0;
        for seqs in [1.0, 2.0, 4.0, 8.0, 16.0, 64.0, 256.0, 1024.0] {
            let b = Batch::decode(seqs, 2048.0);
            let tps = seqs / step_time(&m, &L, &b, &R, &E).total_s;
            assert!(tps >= last, "{seqs}: {tps} < {last}");
            last = tps;
        }
    }

    #[test]
    fn tp_adds_communication() {
        let m = tiny();
        let b = Batch::decode(32.0, 512.0);
        let t = step_time(&m, &Layout { tp: 2, ..L }, &b, &R, &E);
        // 2 layers × 2 all-reduces × (2·1/2 · 32·1024·2 bytes / 1e11).
        assert!((t.comm_s - 4.0 * 65536.0 / 1e11).abs() < 1e-15);
    }
}
