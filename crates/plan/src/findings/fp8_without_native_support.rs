//! IP106 `fp8-without-native-support`.

use super::{finding, num, Context, Finding, Rule, Severity};
use inferplan_catalog::{Dtype, Support};

/// IP106 `fp8-without-native-support`: FP8 weights or KV cache on a GPU without FP8 tensor
/// cores.
///
/// **What it checks.** The candidate stores its weights or its KV cache in FP8, and the GPU
/// does not run FP8 natively ([`Gpu::support`](inferplan_catalog::Gpu::support) is not
/// `Native`: FP8 needs Ada, Hopper or Blackwell; Ampere runs FP8 checkpoints as weight-only
/// kernels; Volta and Turing cannot run them).
///
/// **Why it matters.** On Ampere (A100, A10G) FP8 weights are converted to 16 bits for the
/// math: the memory saving is real, but the FP8 compute rate is not there, the conversion
/// costs time at large batches, and quality and speed are not those measured on H100. On
/// older GPUs the checkpoint does not load at all (error). An FP8 KV cache on such GPUs
/// needs conversion kernels, which not every engine version has.
///
/// **Example.** `FP8 weights on A100 80GB SXM4 (Ampere) run as weight-only kernels: the
/// weights are stored in 8 bits and converted to 16 bits for the math, so memory halves but
/// compute stays at the BF16 rate (312 TFLOPS dense; no FP8 tensor cores). Use a GPU with
/// native FP8 (Ada, Hopper, Blackwell), or INT8 W8A8 / BF16 on this one.`
pub struct Fp8WithoutNativeSupport;

impl Rule for Fp8WithoutNativeSupport {
    fn code(&self) -> &'static str {
        "IP106"
    }

    fn name(&self) -> &'static str {
        "fp8-without-native-support"
    }

    fn docs(&self) -> &'static str {
        "docs/findings.md#ip106-fp8-without-native-support"
    }

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
