//! IL118 `online-quantization-cannot-load`.

use super::super::{finding, num, Context, Finding, Rule, Severity, GIB};
use super::{download, gib, parallelism, servers};
use inferplan_catalog::Support;
use inferplan_serving::checkpoint::{online_fp8_load_peak_bytes, ONLINE_FP8_LOAD_FRACTION};

inferplan_plan::declare_rule! {
    /// **What it checks.** A server quantizes a 16-bit checkpoint to FP8 while loading it
    /// (`--quantization fp8` on a checkpoint that is not stored in FP8: the engine's Hub id, the
    /// checkpoint an init container pre-fetches, or the model's own format). The load-time peak
    /// per GPU is the 16-bit checkpoint spread over TP × PP GPUs
    /// (`online_fp8_load_peak_bytes` in `crates/serving/src/checkpoint.rs`, the same figure the
    /// planner rejects candidates with): vLLM up to 0.14 and SGLang load every weight at its
    /// original precision before quantizing. The rule fires when that peak is above 90 % of the
    /// memory of the GPU the pod runs on (`ONLINE_FP8_LOAD_FRACTION`, vLLM's default
    /// `--gpu-memory-utilization`), resolved from its node selection as in IL109.
    ///
    /// **Why it matters.** The FP8 weights would fit, so the manifest looks right, but the server
    /// runs out of memory before it quantizes: "we load the model at original precision before
    /// quantizing down to 8-bits, so you need enough memory to load the whole model" (vLLM's FP8
    /// documentation, quoted in vllm-project/vllm#19967). Llama 2 13B in 16 bits (26 GB) cannot
    /// load on an L4 (22.4 GiB); the pod crash-loops with CUDA out of memory.
    ///
    /// **Example.**
    ///
    /// > vLLM quantizes Llama 2 13B to FP8 while loading: it first holds meta-llama/Llama-2-13b-chat-hf
    /// > (fp16, 26 GB) on 1 GPU, 24.2 GiB per GPU, above 20.1 GiB (90 % of the L4's 22.4 GiB): it
    /// > runs out of memory before it serves. Serve a pre-quantized FP8 checkpoint, or spread the
    /// > load over more GPUs (tensor parallel), or use a GPU with more memory.
    ///
    /// **Fix.** Serve a checkpoint stored in FP8 (`RedHatAI/...-FP8-dynamic`,
    /// `neuralmagic/...-FP8`): it loads at its own size; or raise tensor parallelism so the 16-bit
    /// shards fit; or use a GPU with more memory.
    pub struct OnlineQuantizationCannotLoad {
        code: "IL118",
        name: "online-quantization-cannot-load",
        severity: Error,
        summary: "online FP8 quantization must be able to load the 16-bit checkpoint first",
        docs: "docs/lint.md#il118-online-quantization-cannot-load",
    }
}

impl Rule for OnlineQuantizationCannotLoad {
    fn check(&self, ctx: &Context<'_>) -> Vec<Finding> {
        let mut out = Vec::new();
        for s in servers(ctx) {
            let Some((m, from_name)) = ctx.model(s.engine) else {
                continue;
            };
            let d = download(ctx, &s, m, from_name);
            if !d.online_fp8 {
                continue;
            }
            let Some(p) = parallelism(&s) else {
                continue;
            };
            let shards = p.tp.saturating_mul(p.pp).max(1);
            let engine = match s.engine.kind {
                super::EngineKind::Vllm => "vllm",
                super::EngineKind::Sglang => "sglang",
                _ => continue,
            };
            let Some(peak) = online_fp8_load_peak_bytes(engine, d.bytes as u64, shards) else {
                continue;
            };
            let hw = ctx.hardware(s.pod, s.pod.gpus());
            let Some((gpu, mem)) = hw.gpu_memory(ctx.catalog) else {
                continue;
            };
            // A GPU that cannot run FP8 at all is IL110's error.
            if hw
                .gpu(ctx.catalog)
                .is_some_and(|g| g.support(inferplan_catalog::Dtype::Fp8) == Support::Unsupported)
            {
                continue;
            }
            let budget = mem * GIB * ONLINE_FP8_LOAD_FRACTION;
            if peak <= budget {
                continue;
            }
            let line = s.engine.quantization().map_or(s.engine.line, |f| f.line);
            out.push(finding(
                self,
                Severity::Error,
                &s.workload.object,
                line,
                format!(
                    "{} quantizes {} to FP8 while loading: it first holds {} on {}, {} GiB per \
                     GPU, above {} GiB ({} % of the {gpu}'s {} GiB): it runs out of memory before \
                     it serves. Serve a pre-quantized FP8 checkpoint, or spread the load over more \
                     GPUs (tensor parallel), or use a GPU with more memory.",
                    s.engine.kind,
                    m.name,
                    d.describe(),
                    super::gpus(shards),
                    gib(peak),
                    gib(budget),
                    num(ONLINE_FP8_LOAD_FRACTION * 100.0, 0),
                    num(mem, 1),
                ),
            ));
        }
        out
    }
}
