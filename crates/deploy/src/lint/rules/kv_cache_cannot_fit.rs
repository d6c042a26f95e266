//! IL109 `kv-cache-cannot-fit`.

use super::super::{finding, num, Context, Finding, Rule, Severity, GIB};
use super::{gib, kv_dtype, parallelism, servers, weights_dtype, EngineKind};
use inferplan_catalog::{Gpu, Instance, Interconnect};
use inferplan_perf::memory::{kv_bytes_per_sequence_per_gpu, weight_bytes};
use inferplan_perf::{fit, EngineLimits, FitInput, Placement};
use inferplan_serving::checkpoint::KV_FP8;
use inferplan_serving::flags;

/// The flags the messages name, as vLLM writes them.
const MAX_MODEL_LEN: &str = flags::vllm::MAX_MODEL_LEN.write;
const GPU_MEMORY_UTILIZATION: &str = flags::vllm::GPU_MEMORY_UTILIZATION.write;
const KV_CACHE_DTYPE: &str = flags::vllm::KV_CACHE_DTYPE.write;

/// vLLM's default `--gpu-memory-utilization`.
const DEFAULT_GPU_MEMORY_UTILIZATION: f64 = 0.9;

inferplan_plan::declare_rule! {
    /// **What it checks.** For a vLLM server whose model is in the catalog and whose pod can only run
    /// on instance types the catalog knows (or on GKE or AKS nodes whose accelerator label or VM
    /// size names a catalog GPU: the pod's GPUs over PCIe): `inferplan fit`'s engine view ([fit.md](fit.md)) with the
    /// server's arguments: TP and PP, the weight format (`--quantization`, the checkpoint name, the
    /// model's own format), `--kv-cache-dtype`, `--max-model-len` (default: the model's maximum
    /// context, as in vLLM), `--gpu-memory-utilization` (default 0.9), `--max-num-seqs` and
    /// `--max-num-batched-tokens` (defaults: vLLM's for the GPU). vLLM reserves `memory ×
    /// utilization − weights − activation peak − non-PyTorch memory` per GPU for the KV cache and
    /// refuses to start when one sequence of `--max-model-len` tokens does not fit. With several
    /// candidate instance types, the one with the most memory per GPU is used. For SGLang, TGI and
    /// TensorRT-LLM only the weights are checked against the GPU's memory.
    ///
    /// **Why it matters.** The pod crash-loops at start with "The model's max seq len (131072) is
    /// larger than the maximum number of tokens that can be stored in KV cache", "No available memory
    /// for the cache blocks", or an out-of-memory error while loading the weights. Nothing serves. A
    /// model's maximum context is often far above what the traffic needs: Llama 3.1 8B supports
    /// 131,072 tokens, which alone needs 16 GiB of BF16 KV cache.
    ///
    /// **Example.** Llama 3.1 8B on one L4 (g6.xlarge) without `--max-model-len`:
    ///
    /// > vLLM cannot start Llama 3.1 8B on g6.xlarge (L4, 22.4 GiB per GPU): one 131072-token
    /// > sequence (the model's maximum; --max-model-len is not set) needs 16 GiB of bf16 KV cache per
    /// > GPU, but only 4.4 GiB is left (20.1 GiB at --gpu-memory-utilization 0.9 − 15 GiB of bf16
    /// > weights (TP 1 × PP 1) − 0.5 GiB of activations − 0.2 GiB outside PyTorch), which holds 36352
    /// > tokens. Set --max-model-len to 35840 or less, use an FP8 KV cache (--kv-cache-dtype fp8),
    /// > more GPUs, or a GPU with more memory.
    ///
    /// **Fix.** Set `--max-model-len` to what the traffic needs (at most the figure in the message),
    /// use an FP8 KV cache or FP8/INT4 weights, raise TP to spread the weights, raise
    /// `--gpu-memory-utilization` a little, or choose an instance type with more GPU memory.
    /// `inferplan fit --model ... --instance ...` shows the whole budget.
    pub struct KvCacheCannotFit {
        code: "IL109",
        name: "kv-cache-cannot-fit",
        severity: Error,
        summary: "one full-length sequence must fit in the KV cache the engine can allocate",
        docs: "docs/lint.md#il109-kv-cache-cannot-fit",
    }
}

impl Rule for KvCacheCannotFit {
    fn check(&self, ctx: &Context<'_>) -> Vec<Finding> {
        let mut out = Vec::new();
        for s in servers(ctx) {
            let Some((m, from_name)) = ctx.model(s.engine) else {
                continue;
            };
            let unreadable = s.engine.unreadable(flags::MAX_MODEL_LEN.read)
                || s.engine.unreadable(flags::GPU_MEMORY_UTILIZATION.read);
            if unreadable {
                continue;
            }
            let hw = ctx.hardware(s.pod, s.pod.gpus());
            // The instance type with the most GPU memory among the candidates; on GKE and AKS
            // nodes, the GPU the node label names (its GPUs are the pod's, over PCIe).
            let best: Option<(String, &Gpu, f64, u32, Interconnect)> = hw
                .instances
                .iter()
                .filter_map(|i: &&Instance| {
                    let g = ctx.catalog.instance_gpu(i)?;
                    let mem = i.gpu_mem_gib().or_else(|| g.memory_gib())?;
                    Some((i.name.clone(), g, mem, i.whole_gpus(), i.interconnect))
                })
                .max_by(|a, b| a.2.total_cmp(&b.2))
                .or_else(|| {
                    let g = hw.labelled_gpu.filter(|_| hw.instances.is_empty())?;
                    let where_ = hw.basis.trim_matches('`').to_owned();
                    Some((where_, g, g.memory_gib()?, s.pod.gpus(), Interconnect::Pcie))
                });
            let Some((inst_name, gpu, mem, whole_gpus, interconnect)) = best else {
                continue;
            };
            let Some(p) = parallelism(&s) else {
                continue;
            };
            let weights = weights_dtype(s.engine, Some(m), from_name);
            let kv = kv_dtype(s.engine, weights);
            let model_line = s.engine.model().map_or(s.engine.line, |w| w.line);
            let where_ = format!("{inst_name} ({}, {} GiB per GPU)", gpu.name, num(mem, 1));
            if s.engine.kind != EngineKind::Vllm {
                let (_, per_gpu) = weight_bytes(m, weights, p.tp, p.pp);
                if per_gpu > mem * GIB {
                    out.push(finding(
                        self,
                        Severity::Error,
                        &s.workload.object,
                        model_line,
                        format!(
                            "{} cannot load {} on {where_}: its {weights} weights take {} GiB \
                             per GPU with {}, more than the GPU holds. Use more GPUs (higher \
                             TP), smaller weights (FP8, INT4), or a GPU with more memory.",
                            s.engine.kind,
                            m.name,
                            gib(per_gpu),
                            p.describe()
                        ),
                    ));
                }
                continue;
            }
            let (context, context_line, context_label) = match s.engine.max_model_len() {
                Some((c, l)) => (c, l, format!("{c}-token sequence ({MAX_MODEL_LEN})")),
                None => (
                    m.max_context,
                    model_line,
                    format!(
                        "{}-token sequence (the model's maximum; {MAX_MODEL_LEN} is not set)",
                        m.max_context
                    ),
                ),
            };
            let (gmu, gmu_label) = match s.engine.gpu_memory_utilization() {
                Some((g, _)) => (g, format!("{GPU_MEMORY_UTILIZATION} {}", num(g, 2))),
                None => (
                    DEFAULT_GPU_MEMORY_UTILIZATION,
                    format!(
                        "the default {GPU_MEMORY_UTILIZATION} {}",
                        num(DEFAULT_GPU_MEMORY_UTILIZATION, 2)
                    ),
                ),
            };
            let mut limits = EngineLimits::vllm_default(mem, gpu.arch);
            if let Some(n) = s.engine.max_num_seqs() {
                limits.max_num_seqs = n.max(1);
            }
            if let Some(n) = s.engine.max_num_batched_tokens() {
                limits.max_num_batched_tokens = n.max(1);
            }
            let used = p.tp.saturating_mul(p.pp);
            let placement = Placement {
                model: m,
                gpu,
                gpu_mem_gib: mem,
                gpus: whole_gpus.max(used),
                interconnect: if used > 1 {
                    interconnect
                } else {
                    Interconnect::Single
                },
                tp: p.tp,
                attention_dp: 1,
                pp: p.pp,
                weights,
                kv,
            };
            let input = FitInput {
                placement,
                context,
                concurrency: 1,
                gpu_memory_utilization: gmu,
                safety_margin: 1.0,
                engine: limits,
            };
            let Ok(r) = fit(&input, ctx.params) else {
                continue;
            };
            if r.engine_fits {
                continue;
            }
            let budget = mem * gmu;
            let w = r.weights_gib_per_gpu;
            let act = r.activations_gib_per_gpu;
            let left = r.engine_kv_cache_gib_per_gpu;
            let non_torch = budget - w - act - left;
            let terms = format!(
                "{} GiB at {gmu_label} − {} GiB of {weights} weights ({}) − {} GiB of \
                 activations − {} GiB outside PyTorch",
                num(budget, 1),
                num(w, 1),
                p.describe(),
                num(act, 1),
                num(non_torch, 1)
            );
            let message = if left <= 0.0 {
                format!(
                    "vLLM cannot start {} on {where_}: {terms} leaves no memory for the KV \
                     cache. Use more GPUs (higher TP), smaller weights (FP8, INT4), or a GPU \
                     with more memory.",
                    m.name
                )
            } else {
                let block = limits.block_size.max(1);
                let need = kv_bytes_per_sequence_per_gpu(m, kv, p.tp, p.pp, context, block);
                let tokens = r.engine_kv_blocks * block;
                let suggest = if tokens >= 1024 {
                    format!("Set {MAX_MODEL_LEN} to {} or less", tokens / 1024 * 1024)
                } else {
                    format!("Lower {MAX_MODEL_LEN}")
                };
                format!(
                    "vLLM cannot start {} on {where_}: one {context_label} \
                     needs {} GiB of {kv} KV cache per GPU, but only {} GiB is left ({terms}), \
                     which holds {tokens} tokens. {suggest}, use an FP8 KV cache \
                     ({KV_CACHE_DTYPE} {KV_FP8}), more GPUs, or a GPU with more memory.",
                    m.name,
                    gib(need),
                    num(left, 1),
                )
            };
            out.push(finding(
                self,
                Severity::Error,
                &s.workload.object,
                context_line,
                message,
            ));
        }
        out
    }
}
