//! IL110 `fp8-without-native-support`.

use super::super::{finding, Context, Finding, Rule, Severity};
use super::{kv_dtype, servers, weights_dtype};
use inferplan_catalog::{Dtype, Support};
use inferplan_serving::flags;

inferplan_plan::declare_rule! {
    /// **What it checks.** A server's weights are FP8 (`--quantization fp8`, a checkpoint named
    /// `...-FP8...`, or a model that ships in FP8 such as DeepSeek-V3) or its KV cache is
    /// (`--kv-cache-dtype fp8*`), and every instance type its pod can land on has a GPU without
    /// native FP8. FP8 needs Ada, Hopper or Blackwell tensor cores; Ampere (A100, A10G) runs FP8
    /// checkpoints only as weight-only kernels; Volta and Turing (V100, T4) cannot run them
    /// (`Gpu::support` in the catalog).
    ///
    /// **Why it matters.** On Volta and Turing the FP8 checkpoint does not load: the pod crash-loops
    /// (error). On Ampere the weights are stored in 8 bits and converted to 16 bits for every matrix
    /// multiply: memory halves, but compute stays at the BF16 rate, large batches pay for the
    /// conversion, and speed and accuracy are not those measured on H100 (warning). An FP8 KV cache
    /// without FP8 hardware is converted in software in attention, which costs speed and needs an
    /// engine version with such kernels (warning; error on Volta and Turing). [A]: native FP8 is what
    /// makes a single new-generation GPU outrun older multi-GPU setups. The planner's IP106 is the
    /// same check on plans.
    ///
    /// **Example.**
    ///
    /// > FP8 weights on g5.xlarge (A10G, Ampere) run as weight-only kernels: memory halves but compute
    /// > stays at the BF16 rate (no FP8 tensor cores). Use an instance with native FP8 (L4, L40S,
    /// > H100, ...), or INT8 W8A8 / BF16 weights on this one.
    ///
    /// > FP8 weights on g4dn.xlarge (T4, Turing): this GPU cannot run FP8 checkpoints (no FP8 tensor
    /// > cores, no weight-only FP8 kernels), so the engine fails to load them. Use FP16 or INT4
    /// > weights here, or a GPU with native FP8 (Ada, Hopper, Blackwell).
    ///
    /// **Fix.** Move FP8 checkpoints to Ada, Hopper or Blackwell GPUs (g6, g6e, p5, p5e, p5en, g7,
    /// g7e, p6); on Ampere prefer INT8 W8A8, AWQ/GPTQ INT4 or BF16; on Volta and Turing use FP16 or
    /// INT4 weight-only checkpoints and a 16-bit KV cache.
    pub struct Fp8WithoutNativeSupport {
        code: "IL110",
        name: "fp8-without-native-support",
        severity: Error,
        severity_note: "warning on Ampere",
        summary: "FP8 weights or KV cache need a GPU with FP8 tensor cores (Ada, Hopper, Blackwell)",
        docs: "docs/lint.md#il110-fp8-without-native-support",
    }
}

impl Rule for Fp8WithoutNativeSupport {
    fn check(&self, ctx: &Context<'_>) -> Vec<Finding> {
        let mut out = Vec::new();
        for s in servers(ctx) {
            let model = ctx.model(s.engine);
            let weights = weights_dtype(s.engine, model.map(|m| m.0), model.and_then(|m| m.1));
            let kv = kv_dtype(s.engine, weights);
            let w8 = weights == Dtype::Fp8;
            let kv8 = kv == Dtype::Fp8;
            if !w8 && !kv8 {
                continue;
            }
            let hw = ctx.hardware(s.pod, s.pod.gpus());
            let mut gpus: Vec<_> = hw
                .instances
                .iter()
                .filter_map(|i| ctx.catalog.instance_gpu(i))
                .collect();
            // GKE and AKS nodes: the GPU their label names.
            gpus.extend(hw.labelled_gpu.filter(|_| hw.instances.is_empty()));
            if gpus.is_empty()
                || gpus
                    .iter()
                    .any(|g| g.support(Dtype::Fp8) == Support::Native)
            {
                continue;
            }
            // The most capable of the candidates decides.
            let support = if gpus
                .iter()
                .any(|g| g.support(Dtype::Fp8) == Support::WeightOnly)
            {
                Support::WeightOnly
            } else {
                Support::Unsupported
            };
            let gpu = gpus
                .iter()
                .find(|g| g.support(Dtype::Fp8) == support)
                .copied()
                .unwrap_or(gpus[0]);
            let arch = gpu
                .architecture
                .split(['(', ','])
                .next()
                .unwrap_or("")
                .trim()
                .to_owned();
            let on = format!("{} ({}, {arch})", hw.names(), gpu.name);
            let line = if w8 {
                s.engine
                    .quantization()
                    .map(|f| f.line)
                    .or_else(|| s.engine.model().map(|w| w.line))
                    .unwrap_or(s.engine.line)
            } else {
                s.engine.kv_cache_dtype().map_or(s.engine.line, |f| f.line)
            };
            let (severity, message) = match (w8, support) {
                (true, Support::WeightOnly) => (
                    Severity::Warning,
                    format!(
                        "FP8 weights on {on} run as weight-only kernels: memory halves but \
                         compute stays at the BF16 rate (no FP8 tensor cores). Use an instance \
                         with native FP8 (L4, L40S, H100, ...), or INT8 W8A8 / BF16 weights on \
                         this one."
                    ),
                ),
                (true, _) => (
                    Severity::Error,
                    format!(
                        "FP8 weights on {on}: this GPU cannot run FP8 checkpoints (no FP8 tensor \
                         cores, no weight-only FP8 kernels), so the engine fails to load them. \
                         Use FP16 or INT4 weights here, or a GPU with native FP8 (Ada, Hopper, \
                         Blackwell)."
                    ),
                ),
                (false, Support::WeightOnly) => (
                    Severity::Warning,
                    format!(
                        "An FP8 KV cache on {on} is converted in software in attention: it saves \
                         memory but costs attention speed and needs an engine version with \
                         such kernels. Check the engine supports it, or keep the KV cache in 16 \
                         bits."
                    ),
                ),
                (false, _) => (
                    Severity::Error,
                    format!(
                        "An FP8 KV cache on {on}: this GPU has no FP8 support, so the engine \
                         refuses it. Remove {} or set it to auto.",
                        flags::vllm::KV_CACHE_DTYPE.write
                    ),
                ),
            };
            out.push(finding(self, severity, &s.workload.object, line, message));
        }
        out
    }
}
