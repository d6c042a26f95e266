//! One engine step composed from kernel curves, layer by layer: the GEMMs of the dense
//! weights, the routed experts (one fused MoE call per layer where the GPU has a MoE table for
//! the weight format, else two grouped GEMMs on the dense curve), decode and prefill attention, the KV-cache writes, and
//! two all-reduces per layer under TP. Kernels run one after another, so their times add
//! (where the roofline takes the larger of memory and math time for the whole step). The
//! engine's efficiencies multiply the curves' fractions ([`KernelScale`]).

use super::{Curve, Kernels, Multipliers, Peaks};
use crate::memory::attention_split;
use crate::step::{
    comm_share, experts_touched, flops, kv_read, kv_write_and_state, step_comm, weights_read,
    Batch, Bound, Efficiency, KernelScale, Layout, Rates, StepTime,
};
use inferplan_catalog::ModelSpec;

/// GEMM calls per layer of dense weights: QKV, output projection, gate/up, down.
const DENSE_GEMMS_PER_LAYER: f64 = 4.0;
/// Grouped GEMM calls per MoE layer: gate/up, down.
const EXPERT_GEMMS_PER_LAYER: f64 = 2.0;

/// The work of one MoE layer on one GPU: `tokens` tokens each routed to `top_k` of `experts`
/// experts (uniformly, [`experts_touched`]), whose gated FFNs (gate, up and down projections,
/// `3 × hidden × inter` weights each) hold `inter` columns on this GPU in a format of
/// `weight_bytes` per value. Returns (FLOPs, bytes, rows per touched expert); the bytes are the
/// touched experts' weights plus the bf16 activations in and out of both grouped GEMMs. The
/// step ([`step_time`]) computes the same quantities from the model's parameter counts.
pub fn moe_work(
    tokens: f64,
    experts: u64,
    top_k: u64,
    hidden: f64,
    inter: f64,
    weight_bytes: f64,
) -> (f64, f64, f64) {
    let touched = experts_touched(experts, top_k, tokens).max(1.0);
    let routed = tokens * top_k as f64;
    let flops = 2.0 * routed * 3.0 * hidden * inter;
    let bytes =
        touched * 3.0 * hidden * inter * weight_bytes + moe_activation_bytes(tokens, top_k, hidden);
    (flops, bytes, routed / touched)
}

/// Bf16 activations in and out of the two grouped GEMMs of one MoE layer.
pub fn moe_activation_bytes(tokens: f64, top_k: u64, hidden: f64) -> f64 {
    4.0 * tokens * hidden * 2.0 * top_k as f64
}

/// Time of the memory-bound and of the compute-bound calls.
#[derive(Debug, Clone, Copy, Default)]
struct Split {
    memory_s: f64,
    compute_s: f64,
}

impl Split {
    /// Adds `calls` calls of one curve doing `work` = (FLOPs, bytes, size) in all.
    fn add(&mut self, calls: f64, c: &Curve, work: (f64, f64, f64), p: &Peaks, m: &Multipliers) {
        let (flops, bytes, size) = work;
        if calls <= 0.0 || size <= 0.0 {
            return;
        }
        let t = c.time(flops / calls, bytes / calls, size, p, m) * calls;
        let math = flops * (size + c.half) / (size * p.flops_s * c.compute * m.compute);
        if math > bytes / (p.bytes_s * c.bandwidth * m.bandwidth) {
            self.compute_s += t;
        } else {
            self.memory_s += t;
        }
    }
}

/// Time of one step on a GPU with kernel curves.
pub fn step_time(
    m: &ModelSpec,
    l: &Layout,
    b: &Batch,
    r: &Rates,
    k: &Kernels,
    e: &Efficiency,
) -> StepTime {
    let s: KernelScale = e.kernel;
    let mult = Multipliers {
        compute: s.compute,
        bandwidth: s.bandwidth,
        floor: s.floor,
    };
    let pp = f64::from(l.pp.max(1));
    let tp = f64::from(l.tp.max(1));
    let tokens = b.tokens();
    // With attention data parallelism a GPU's kernels run its rank's share of the batch
    // (`1 / dp` of the tokens and sequences) over whole heads, and the experts are spread over
    // the GPUs: each receives `tokens × top_k / tp` routed rows. Without it every GPU runs the
    // whole batch over its slice of every weight.
    let (_, dp) = attention_split(l.tp, l.attention_dp);
    let dp = f64::from(dp);
    let local = tokens / dp;
    let layers = (m.layers as f64 / pp).ceil();
    let attn_layers = (m.attention_layers as f64 / pp).ceil().max(1.0);
    let f = flops(m, l, b);
    let w = weights_read(m, l, tokens);
    let (kv_decode, kv_prefill) = kv_read(m, l, b);
    let gemm = Peaks {
        flops_s: k.gemm_flops_s,
        bytes_s: r.mem_bytes_s,
    };
    let attention = Peaks {
        flops_s: k.attention_flops_s,
        bytes_s: r.mem_bytes_s,
    };
    let mut split = Split::default();
    // Activations in and out of each GEMM (bf16), per call.
    let hidden_bytes = tokens * m.hidden as f64 * 2.0;
    let local_hidden_bytes = local * m.hidden as f64 * 2.0;
    let dense_calls = DENSE_GEMMS_PER_LAYER * layers + 1.0;
    split.add(
        dense_calls,
        &k.gemm,
        (
            f.linear,
            w.dense.max(0.0) + dense_calls * 2.0 * local_hidden_bytes,
            local,
        ),
        &gemm,
        &mult,
    );
    if let Some(moe) = &m.moe {
        let moe_layers = (moe.moe_layers as f64 / pp).ceil();
        let touched = experts_touched(moe.experts, moe.top_k, tokens).max(1.0);
        let rows_per_expert = tokens * moe.top_k as f64 / touched;
        // Tokens whose activations pass through this GPU's experts: all of them when the
        // experts' columns are split (TP), `1 / tp` when the experts are (attention DP + EP).
        let through = if dp > 1.0 { tokens / tp } else { tokens };
        match &k.moe {
            // One fused MoE call per layer, measured as a whole.
            Some(c) => {
                let act = moe_layers * moe_activation_bytes(through, moe.top_k, m.hidden as f64);
                let peaks = Peaks {
                    flops_s: c.flops_s,
                    bytes_s: r.mem_bytes_s,
                };
                split.add(
                    moe_layers,
                    &c.curve,
                    (f.experts, w.experts + act, rows_per_expert),
                    &peaks,
                    &mult,
                );
            }
            None => {
                let calls = EXPERT_GEMMS_PER_LAYER * moe_layers;
                let act = calls * 2.0 * (through * m.hidden as f64 * 2.0) * moe.top_k as f64;
                split.add(
                    calls,
                    &k.gemm,
                    (f.experts, w.experts + act, rows_per_expert),
                    &gemm,
                    &mult,
                );
            }
        }
    }
    // Queries in and outputs out of attention, per layer.
    let q_bytes = |t: f64| t * 2.0 * (m.heads * m.head_dim) as f64 / tp * 2.0 * attn_layers;
    split.add(
        attn_layers,
        &k.decode,
        (
            f.decode_attention,
            kv_decode + q_bytes(b.decode_seqs),
            b.decode_seqs / dp,
        ),
        &attention,
        &mult,
    );
    split.add(
        attn_layers,
        &k.prefill,
        (
            f.prefill_attention,
            kv_prefill + q_bytes(b.prefill_tokens) * 2.0,
            b.prefill_tokens / dp,
        ),
        &attention,
        &mult,
    );
    split.memory_s +=
        kv_write_and_state(m, l, b) / (r.mem_bytes_s * k.decode.bandwidth * s.bandwidth);
    let comm_s = match (&k.all_reduce, l.tp > 1) {
        (Some(c), true) => {
            let link = Peaks {
                flops_s: 1.0,
                bytes_s: r.link_bytes_s,
            };
            let scale = Multipliers {
                compute: 1.0,
                bandwidth: s.comm,
                floor: s.floor,
            };
            let bytes = 2.0 * (tp - 1.0) / tp * hidden_bytes;
            2.0 * layers * c.time(0.0, bytes, tokens, &link, &scale) * comm_share(m, l, b)
        }
        (None, true) => step_comm(m, l, b, r, &Efficiency { comm: s.link, ..*e }),
        _ => 0.0,
    };
    let bound = if comm_s > split.memory_s.max(split.compute_s) {
        Bound::Communication
    } else if split.compute_s > split.memory_s {
        Bound::Compute
    } else {
        Bound::MemoryBandwidth
    };
    StepTime {
        total_s: split.memory_s + split.compute_s + comm_s + s.step_overhead_s,
        memory_s: split.memory_s,
        compute_s: split.compute_s,
        comm_s,
        overhead_s: s.step_overhead_s,
        bound,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_moe_work_fitted_is_the_work_a_step_does() {
        // The fit turns a table row into (FLOPs, bytes, rows per expert) with `moe_work`; the
        // step derives the same from the model's parameter counts. One layer of Qwen3
        // 30B-A3B at TP 2 must agree on both.
        use crate::step::{flops, weights_read};
        use inferplan_catalog::{Catalog, Dtype};
        let c = Catalog::embedded().unwrap();
        let m = c.model("Qwen3 30B-A3B").unwrap();
        let moe = m.moe.as_ref().unwrap();
        let l = Layout {
            tp: 2,
            attention_dp: 1,
            pp: 1,
            weights: Dtype::Fp8,
            kv: Dtype::Fp8,
        };
        let b = Batch {
            decode_seqs: 48.0,
            decode_context: 48.0 * 1000.0,
            ..Batch::default()
        };
        let tokens = b.tokens();
        let (work_flops, work_bytes, rows) = moe_work(
            tokens,
            moe.experts,
            moe.top_k,
            m.hidden as f64,
            moe.expert_intermediate as f64 / 2.0,
            Dtype::Fp8.bytes(),
        );
        let layers = moe.moe_layers as f64;
        let step_flops = flops(m, &l, &b).experts / layers;
        let step_bytes = weights_read(m, &l, tokens).experts / layers
            + moe_activation_bytes(tokens, moe.top_k, m.hidden as f64);
        // Expert biases and the router are the only parameters the table's shape leaves out.
        assert!(
            (step_flops / work_flops - 1.0).abs() < 0.01,
            "{step_flops} {work_flops}"
        );
        assert!(
            (step_bytes / work_bytes - 1.0).abs() < 0.01,
            "{step_bytes} {work_bytes}"
        );
        let touched = experts_touched(moe.experts, moe.top_k, tokens);
        assert!((rows - tokens * moe.top_k as f64 / touched).abs() < 1e-9);
    }
}
