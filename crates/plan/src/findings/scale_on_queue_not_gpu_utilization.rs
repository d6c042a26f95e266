//! IP108 `scale-on-queue-not-gpu-utilization`.

use super::{finding, num, Context, Finding, Rule, Severity};
use crate::workload::Mode;

/// IP108 `scale-on-queue-not-gpu-utilization`: what the autoscaler should watch.
///
/// **What it checks.** Always reported (info) for interactive and async workloads, which
/// scale with traffic; batch work is sized by its deadline instead.
///
/// **Why it matters.** GPU utilization (`DCGM_FI_DEV_GPU_UTIL`, the share of time a kernel
/// runs) is a presence metric, not a saturation metric: a decoding replica reports close to
/// 100 % with one request or with a hundred, and a replica stalled on I/O reports 0 % while
/// blocked. Scaling on it adds replicas too late or never. Requests in flight per replica
/// (interactive) and queue depth or age of the oldest queued request (async) measure what
/// the SLO depends on. The target comes from Little's law: in flight = rate × latency.
///
/// **Example.** `Scale on requests in flight per replica or on queue depth, not on GPU
/// utilization (close to 100 % whether 1 or 100 requests are decoding): at its SLO limit a
/// replica serves 2.1 req/s with a p99 end-to-end of 18.2 s, about 38 requests in flight
/// (Little's law, an upper bound), so scale out above about 30 (80 % of that) in flight per
/// replica, or as soon as requests queue.`
pub struct ScaleOnQueueNotGpuUtilization;

impl Rule for ScaleOnQueueNotGpuUtilization {
    fn code(&self) -> &'static str {
        "IP108"
    }

    fn name(&self) -> &'static str {
        "scale-on-queue-not-gpu-utilization"
    }

    fn docs(&self) -> &'static str {
        "docs/findings.md#ip108-scale-on-queue-not-gpu-utilization"
    }

    fn check(&self, ctx: &Context<'_>) -> Option<Finding> {
        let c = ctx.candidate;
        let rate = c.max_rps_per_replica.max(0.0);
        let head = "Scale on requests in flight per replica or on queue depth, not on GPU \
                    utilization (close to 100 % whether 1 or 100 requests are decoding)";
        let message = match ctx.workload.slo.mode {
            Mode::Batch => return None,
            Mode::Interactive => {
                let e2e_s = c.e2e_p99_ms.max(0.0) / 1000.0;
                let in_flight = rate * e2e_s;
                if in_flight > 0.0 && in_flight.is_finite() {
                    format!(
                        "{head}: at its SLO limit a replica serves {} req/s with a p99 \
                         end-to-end of {} s, about {} requests in flight (Little's law, an \
                         upper bound), so scale out above about {} (80 % of that) in flight \
                         per replica, or as soon as requests queue.",
                        num(rate, 2),
                        num(e2e_s, 1),
                        num(in_flight, 0),
                        num((0.8 * in_flight).max(1.0), 0),
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
