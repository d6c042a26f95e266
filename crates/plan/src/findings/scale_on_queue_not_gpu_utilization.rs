//! IP108 `scale-on-queue-not-gpu-utilization`.

use super::{finding, num, Context, Finding, Rule, Severity};
use crate::autoscaling;
use crate::workload::Mode;

crate::declare_rule! {
    /// **What it checks.** Reported (info) for every interactive and async workload: these scale with
    /// traffic. Batch work is sized by its deadline instead and gets no finding.
    ///
    /// **Why it matters.** GPU utilization (`DCGM_FI_DEV_GPU_UTIL`, the share of time any kernel runs)
    /// is a presence metric, not a saturation metric. A decoding replica reports close to 100 %
    /// whether it holds one request or a hundred, and a replica stalled on I/O reports 0 % while
    /// blocked, so an autoscaler that watches it adds capacity too late or never. [A]: "GPU util% is a
    /// presence metric, not a saturation metric". [C] scales its self-managed LLM servers with KEDA on
    /// a queue-depth metric and calls CPU-based HPA pointless for GPU inference. GPU utilization still
    /// has uses: averaged over days it shows over-provisioning ([C]'s right-sizing), and a low value at
    /// peak points at a bottleneck outside the GPU ([B]).
    ///
    /// What the SLO depends on is how many requests each replica holds. By Little's law, requests in
    /// flight = arrival rate × mean time in the system. The finding computes it at the replica's
    /// limit: the highest request rate that keeps the SLOs (`max_rps_per_replica`) times the mean
    /// end-to-end latency, taken as the p99 TTFT plus the p99 time per output token over the mean
    /// output (an upper bound of the mean; the p99 end-to-end latency would overstate the requests
    /// in flight by the tail of the output lengths). The target is the one `render` writes
    /// (`inferplan_plan::autoscaling::targets`).
    ///
    /// **What to do.**
    ///
    /// - Interactive: scale out on requests in flight (running + waiting) per replica, with a target
    ///   below the computed limit (80 % in the message), or as soon as requests queue; vLLM exports
    ///   `vllm:num_requests_running` and `vllm:num_requests_waiting`.
    /// - Async: scale on queue depth per replica and on the age of the oldest queued request; a replica
    ///   drains `max_rps_per_replica` requests per second, so a backlog above `rate × deadline` per
    ///   replica cannot finish in time. Scale to zero only if a cold start (IP105) fits in the
    ///   deadline.
    ///
    /// **Example.**
    ///
    /// > Scale on requests in flight per replica or on queue depth, not on GPU utilization (close to
    /// > 100 % whether 1 or 100 requests are decoding): at its SLO limit a replica serves 2 req/s with
    /// > a mean end-to-end of about 6.4 s, about 13 requests in flight (Little's law), so scale out
    /// > above 10 (80 % of that) in flight per replica, or as soon as requests queue.
    pub struct ScaleOnQueueNotGpuUtilization {
        code: "IP108",
        name: "scale-on-queue-not-gpu-utilization",
        severity: Info,
        summary: "interactive and async workloads",
        docs: "docs/findings.md#ip108-scale-on-queue-not-gpu-utilization",
    }
}

impl Rule for ScaleOnQueueNotGpuUtilization {
    fn check(&self, ctx: &Context<'_>) -> Option<Finding> {
        let c = ctx.candidate;
        let rate = c.max_rps_per_replica.max(0.0);
        let head = "Scale on requests in flight per replica or on queue depth, not on GPU \
                    utilization (close to 100 % whether 1 or 100 requests are decoding)";
        let message = match ctx.workload.slo.mode {
            Mode::Batch => return None,
            Mode::Interactive => {
                let e2e_ms = autoscaling::mean_e2e_ms(
                    c.ttft_p99_ms,
                    c.tpot_p99_ms,
                    ctx.workload.lengths.output_tokens.mean(),
                );
                let in_flight = rate * e2e_ms / 1000.0;
                if in_flight > 0.0 && in_flight.is_finite() {
                    let target = ((autoscaling::TARGET_SHARE * in_flight).floor()).max(1.0);
                    format!(
                        "{head}: at its SLO limit a replica serves {} req/s with a mean \
                         end-to-end of about {} s, about {} requests in flight (Little's law), \
                         so scale out above {} (80 % of that) in flight per replica, or as soon \
                         as requests queue.",
                        num(rate, 2),
                        num(e2e_ms / 1000.0, 1),
                        num(in_flight, 0),
                        num(target, 0),
                    )
                } else {
                    format!("{head}: scale out as soon as requests queue.")
                }
            }
            Mode::Async => match ctx.workload.slo.deadline_s.filter(|d| *d > 0.0) {
                Some(deadline) if rate > 0.0 => format!(
                    "{head}: one replica drains about {} req/s, so a backlog above about {} \
                     requests per replica cannot finish within the {} s deadline; scale on \
                     queue depth per replica and the age of the oldest queued request, and to \
                     zero only if a cold start fits in the deadline.",
                    num(rate, 2),
                    num(rate * deadline, 0),
                    num(deadline, 0),
                ),
                _ => format!(
                    "{head}: scale on queue depth per replica and the age of the oldest queued \
                     request; one replica drains about {} req/s.",
                    num(rate, 2)
                ),
            },
        };
        Some(finding(self, Severity::Info, message))
    }
}
