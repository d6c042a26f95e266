//! IL102 `gpu-count-parallelism-mismatch`.

use super::super::{finding, Context, Finding, Rule, Severity};
use super::{gpus, parallelism, servers};
use inferplan_serving::flags;

inferplan_plan::declare_rule! {
    /// **What it checks.** For each container running a recognised engine: TP × PP × DP from its
    /// arguments (`--tensor-parallel-size`, `--pipeline-parallel-size`, `--data-parallel-size`; SGLang
    /// `--tp`, `--pp-size`, `--dp`; TGI `--num-shard`; TensorRT-LLM `--tp_size`, `--pp_size`) against
    /// the GPUs of one replica: the pod's GPU limits, or for a LeaderWorkerSet the leader's plus
    /// `size − 1` workers'. Unset degrees are 1; TGI shards over every visible GPU by default. On
    /// AWS Neuron devices (`aws.amazon.com/neuron`) the degrees count NeuronCores: the devices
    /// times the chip's logical cores (2 on Inferentia2 and Trainium, 4 on Trainium2).
    ///
    /// **Why it matters.** With fewer GPUs than the engine needs it fails at start (vLLM: "requires N
    /// GPUs but only M are available"), so the pod crash-loops: error. With more, the extra GPUs sit
    /// idle while the node and its price are reserved for them: warning. On a p5.48xlarge each idle
    /// H100 is an eighth of the instance's price.
    ///
    /// **Example.**
    ///
    /// ```yaml
    /// args: [--tensor-parallel-size, "4", --max-model-len=32768]
    /// resources:
    ///   limits:
    ///     nvidia.com/gpu: 2
    /// ```
    ///
    /// > vLLM runs TP 4 × PP 1 = 4 GPUs but the pod gets 2 (nvidia.com/gpu limit): the engine fails
    /// > at start. Set --tensor-parallel-size to fit 2, or the GPU limit to 4.
    ///
    /// > The pod gets 4 (nvidia.com/gpu limit) but vLLM runs TP 2 × PP 1 = 2 GPUs: 2 GPUs sit idle
    /// > and are paid for. Set --tensor-parallel-size so that TP × PP × DP = 4, or lower the GPU limit
    /// > to 2.
    ///
    /// **Fix.** Make the GPU limit equal TP × PP × DP (per LeaderWorkerSet group for multi-node
    /// servers), or change the degrees to the GPUs the pod gets. `inferplan plan` chooses both
    /// together.
    pub struct GpuCountParallelismMismatch {
        code: "IL102",
        name: "gpu-count-parallelism-mismatch",
        severity: Error,
        severity_note: "warning when GPUs sit idle",
        summary: "the GPUs of a replica must equal TP × PP × DP of the engine arguments",
        docs: "docs/lint.md#il102-gpu-count-parallelism-mismatch",
    }
}

impl Rule for GpuCountParallelismMismatch {
    fn check(&self, ctx: &Context<'_>) -> Vec<Finding> {
        let mut out = Vec::new();
        for s in servers(ctx) {
            let have = s.workload.gpus_per_replica();
            if have == 0 {
                continue;
            }
            let Some(p) = parallelism(&s) else {
                continue;
            };
            let need = p.gpus();
            // On an AWS Neuron device the degrees count NeuronCores: the devices' cores.
            if s.container.is_neuron() {
                let Some(per_chip) = ctx
                    .hardware(s.pod, s.pod.gpus())
                    .gpu(ctx.catalog)
                    .and_then(inferplan_perf::neuron::logical_cores_per_chip)
                else {
                    continue;
                };
                let cores = have.saturating_mul(per_chip);
                if need != cores {
                    let line = if p.tp_line > 0 {
                        p.tp_line
                    } else {
                        s.container.line
                    };
                    let (severity, what) = if need > cores {
                        (Severity::Error, "the engine fails at start")
                    } else {
                        (
                            Severity::Warning,
                            "the other cores sit idle and are paid for",
                        )
                    };
                    out.push(finding(
                        self,
                        severity,
                        &s.workload.object,
                        line,
                        format!(
                            "{} runs {} = {need} NeuronCores but the pod gets {have} Neuron \
                             device(s) ({} limit) of {per_chip} cores = {cores}: {what}. Set \
                             --tensor-parallel-size to {cores}, or the device limit to match.",
                            s.engine.kind,
                            p.describe(),
                            super::super::context::NEURON_RESOURCE,
                        ),
                    ));
                }
                continue;
            }
            if need == have {
                continue;
            }
            let lws = s.workload.group_size > 1;
            let who = if lws {
                format!("each group of {} pods gets {have}", s.workload.group_size)
            } else {
                format!("the pod gets {have}")
            };
            let who_cap = if lws {
                format!("Each group of {} pods gets {have}", s.workload.group_size)
            } else {
                format!("The pod gets {have}")
            };
            let limit_line = s
                .container
                .gpu_limit
                .as_ref()
                .map_or(s.container.line, |g| g.line);
            let line = if p.tp_line > 0 { p.tp_line } else { limit_line };
            let res = s.container.gpu_resource;
            let tp_flag = match s.engine.kind {
                super::EngineKind::Vllm => flags::vllm::TENSOR_PARALLEL,
                super::EngineKind::Sglang => flags::sglang::TENSOR_PARALLEL,
                super::EngineKind::Tgi => flags::tgi::TENSOR_PARALLEL,
                // Triton's TensorRT-LLM engines carry their degree from the build
                // (`--tp_size`), as `trtllm-serve` takes it.
                super::EngineKind::TrtLlm | super::EngineKind::Triton => {
                    flags::trtllm::TENSOR_PARALLEL
                }
                super::EngineKind::Lmdeploy => flags::lmdeploy::TENSOR_PARALLEL,
            }
            .write;
            let (severity, message) = if need > have {
                (
                    Severity::Error,
                    format!(
                        "{} runs {} = {} but {who} ({res} limit): the engine fails at start. \
                         Set {tp_flag} to fit {have}, or the GPU limit to {need}.",
                        s.engine.kind,
                        p.describe(),
                        gpus(need),
                    ),
                )
            } else {
                (
                    Severity::Warning,
                    format!(
                        "{who_cap} ({res} limit) but {} runs {} = {}: {} sit idle and are paid for. \
                         Set {tp_flag} so that TP × PP × DP = {have}, or lower the GPU limit to \
                         {need}.",
                        s.engine.kind,
                        p.describe(),
                        gpus(need),
                        gpus(have - need),
                    ),
                )
            };
            out.push(finding(self, severity, &s.workload.object, line, message));
        }
        out
    }
}
