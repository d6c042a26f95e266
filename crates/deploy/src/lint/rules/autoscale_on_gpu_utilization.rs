//! IL105 `autoscale-on-gpu-utilization`.

use super::super::context::Signal;
use super::super::{finding, Context, Finding, Rule, Severity};

inferplan_plan::declare_rule! {
    /// **What it checks.** Each HorizontalPodAutoscaler (`autoscaling/v1` or `v2`) and KEDA
    /// ScaledObject. A metric or trigger on GPU utilisation (`DCGM_FI_DEV_GPU_UTIL`,
    /// `GPUUtilization`, duty cycle, `DCGM_FI_PROF_GR_ENGINE_ACTIVE`) is flagged whatever it targets.
    /// One on CPU or memory utilisation is flagged when its target runs an inference server; an
    /// `autoscaling/v2` HPA without metrics counts as CPU, its default (80 %).
    ///
    /// **Why it matters.** GPU utilisation says a kernel ran during the sample, not how much work
    /// waits. A server with one active sequence reads near 100 %, so the autoscaler scales out at low
    /// load and never back in; a server blocked on I/O reads 0 %. [A]: "GPU util% is a presence
    /// metric, not a saturation metric." CPU and memory of an inference server follow tokenisation
    /// and HTTP handling, not the GPU queue; [C]: "Standard HPA on CPU utilization does not make sense
    /// for GPU inference." Either way, replicas do not follow the latency users see.
    ///
    /// **Example.**
    ///
    /// > Scales Deployment/llm (vLLM) on cpu utilization 70 %: CPU and memory of an inference server
    /// > track tokenisation and HTTP, not the GPU queue, so replicas do not follow the load. Scale on
    /// > requests waiting (vllm:num_requests_waiting), KV-cache usage (vllm:kv_cache_usage_perc) or
    /// > time to first token, for example with a KEDA prometheus trigger.
    ///
    /// **Fix.** Scale on the engine's queue (vLLM `vllm:num_requests_waiting`, SGLang
    /// `sglang:num_queue_reqs`, TGI `tgi_queue_size`), KV-cache usage, a latency percentile, or the
    /// depth of a request queue (SQS, Kafka lag), with KEDA or an HPA on external metrics:
    ///
    /// ```yaml
    /// triggers:
    ///   - type: prometheus
    ///     metadata:
    ///       query: sum(vllm:num_requests_waiting{model_name="llama"})
    ///       threshold: "8"
    /// ```
    pub struct AutoscaleOnGpuUtilization {
        code: "IL105",
        name: "autoscale-on-gpu-utilization",
        severity: Warning,
        summary: "inference servers should scale on queue depth or latency, not GPU or CPU utilisation",
        docs: "docs/lint.md#il105-autoscale-on-gpu-utilization",
    }
}

impl Rule for AutoscaleOnGpuUtilization {
    fn check(&self, ctx: &Context<'_>) -> Vec<Finding> {
        let mut out = Vec::new();
        for a in &ctx.autoscalers {
            let target = ctx.workloads.iter().find(|w| {
                w.object.name == a.target_name
                    && w.object.kind == a.target_kind
                    && w.object.same_namespace(&a.object)
            });
            let inference = target.is_some_and(|w| w.is_inference());
            let engine = target
                .and_then(|w| w.main_pod())
                .and_then(|p| p.server())
                .and_then(|c| c.engine.as_ref())
                .map(|e| format!(" ({})", e.kind))
                .unwrap_or_default();
            for m in &a.metrics {
                let why = match m.signal {
                    Signal::GpuUtilization => {
                        "GPU utilisation says a kernel ran, not how much work waits: one \
                         active sequence reads near 100 %, so it scales out at low load and \
                         never back in"
                    }
                    Signal::Cpu | Signal::Memory if inference => {
                        "CPU and memory of an inference server track tokenisation and HTTP, \
                         not the GPU queue, so replicas do not follow the load"
                    }
                    _ => continue,
                };
                out.push(finding(
                    self,
                    Severity::Warning,
                    &a.object,
                    m.line,
                    format!(
                        "Scales {}/{}{engine} on {}: {why}. Scale on requests waiting \
                         (vllm:num_requests_waiting), KV-cache usage (vllm:kv_cache_usage_perc) \
                         or time to first token, for example with a KEDA prometheus trigger.",
                        a.target_kind, a.target_name, m.description
                    ),
                ));
            }
        }
        out
    }
}
