//! IP106 `fp8-without-native-support`.

use super::{finding, num, Context, Finding, Rule, Severity};
use inferplan_catalog::{Dtype, Support};

crate::declare_rule! {
    /// **What it checks.** The weights (`precision`) or the KV cache (`kv_dtype`) are FP8 and the GPU
    /// has no FP8 tensor cores. FP8 runs natively on Ada (L4, L40S), Hopper (H100, H200), Blackwell
    /// and CDNA 3; Ampere (A100, A10G) runs FP8 checkpoints only through weight-only kernels; Volta
    /// and Turing (V100, T4) cannot run them (`Gpu::support` in `crates/catalog/src/gpu.rs`).
    ///
    /// **Why it matters.** On Ampere, FP8 weights are converted to 16 bits before the math: memory
    /// halves, but the matrix multiplications run at the BF16 rate and the conversion costs time at
    /// large batches, so throughput and latency measured on H100 or L40S do not carry over. On Volta
    /// and Turing the checkpoint does not load at all (error). An FP8 KV cache on such GPUs is
    /// converted in software inside attention and needs an engine version that has those kernels.
    /// [A] counts native FP8 among the changes that matter for inference; [B]'s G6 section rightly
    /// credits the L4 with native FP8.
    ///
    /// **What to do.** Use a GPU with native FP8 for FP8 checkpoints, or on Ampere serve BF16, INT8
    /// (W8A8) or INT4 weight-only checkpoints, whose kernels are mature there. Keep the KV cache in 16
    /// bits unless the engine documents FP8 KV support for the GPU.
    ///
    /// **Example.**
    ///
    /// > FP8 weights on A100 80GB SXM4 (Ampere) run as weight-only kernels: the weights are stored in
    /// > 8 bits and converted to 16 bits for the math, so memory halves but compute stays at the BF16
    /// > rate (312 TFLOPS dense; no FP8 tensor cores). Use a GPU with native FP8 (Ada, Hopper,
    /// > Blackwell), or INT8 W8A8 / BF16 on this one.
    ///
    /// On a T4 (error):
    ///
    /// > FP8 weights on T4 (Turing): this GPU cannot run FP8 checkpoints (no FP8 tensor cores and no
    /// > weight-only FP8 kernels). Use BF16/FP16, INT8 or INT4 weights here, or a GPU with native FP8
    /// > (Ada, Hopper, Blackwell).
    pub struct Fp8WithoutNativeSupport {
        code: "IP106",
        name: "fp8-without-native-support",
        severity: Warning,
        severity_note: "error when unsupported",
        summary: "FP8 weights or KV cache on a GPU without native FP8",
        docs: "docs/findings.md#ip106-fp8-without-native-support",
    }
}

impl Rule for Fp8WithoutNativeSupport {
    fn check(&self, ctx: &Context<'_>) -> Option<Finding> {
        let c = ctx.candidate;
        let weights = c.precision == Dtype::Fp8;
        let kv = c.kv_dtype == Dtype::Fp8;
        let support = ctx.gpu.support(Dtype::Fp8);
        if !(weights || kv) || support == Support::Native {
            return None;
        }
        let gpu = format!("{} ({})", ctx.gpu.name, arch_name(ctx));
        let what = match (weights, kv) {
            (true, true) => "FP8 weights and KV cache",
            (true, false) => "FP8 weights",
            _ => "An FP8 KV cache",
        };
        let bf16 = ctx
            .gpu
            .bf16_tflops
            .map(|t| format!(" ({} TFLOPS dense; no FP8 tensor cores)", num(t, 0)))
            .unwrap_or_else(|| " (no FP8 tensor cores)".to_owned());
        let (severity, body) = match support {
            Support::WeightOnly if weights => (
                Severity::Warning,
                format!(
                    "{what} on {gpu} run as weight-only kernels: the weights are stored in 8 \
                     bits and converted to 16 bits for the math, so memory halves but compute \
                     stays at the BF16 rate{bf16}. Use a GPU with native FP8 (Ada, Hopper, \
                     Blackwell), or INT8 W8A8 / BF16 on this one."
                ),
            ),
            _ if weights => (
                Severity::Error,
                format!(
                    "{what} on {gpu}: this GPU cannot run FP8 checkpoints (no FP8 tensor \
                     cores and no weight-only FP8 kernels). Use BF16/FP16, INT8 or INT4 \
                     weights here, or a GPU with native FP8 (Ada, Hopper, Blackwell)."
                ),
            ),
            _ => (
                Severity::Warning,
                format!(
                    "{what} on {gpu} is converted in software for attention: it saves \
                     memory but costs attention speed, and needs an engine version with such \
                     kernels. Check the engine supports it, or keep the KV cache in 16 bits."
                ),
            ),
        };
        Some(finding(self, severity, body))
    }
}

/// The architecture family, e.g. `Ampere` from `Ampere (GA100)`.
fn arch_name(ctx: &Context<'_>) -> String {
    let a = ctx.gpu.architecture.trim();
    let short = a.split(['(', ',']).next().unwrap_or(a).trim();
    if short.is_empty() {
        format!("{:?}", ctx.gpu.arch)
    } else {
        short.to_owned()
    }
}
