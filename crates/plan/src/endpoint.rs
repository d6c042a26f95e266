//! Which serving pattern fits the workload (article 003's routing matrix): a real-time
//! endpoint with warm capacity, an async endpoint with a queue, a batch job, or a shared
//! multi-model endpoint.

use crate::candidate::Candidate;
use crate::workload::{Mode, Workload};
use serde::Serialize;

/// A serving pattern.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Pattern {
    /// Warm replicas behind a load balancer, answering (or streaming) synchronously.
    RealTime,
    /// A queue in front of the replicas; results delivered later; scale to zero when idle.
    Async,
    /// Jobs that process a backlog and exit (batch transform, EKS job workers).
    Batch,
    /// One endpoint hosting many models, loading them on demand (a shared container).
    MultiModel,
}

/// The advice and why.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EndpointAdvice {
    /// The pattern.
    pub pattern: Pattern,
    /// The reason, with the numbers.
    pub reason: String,
}

/// Seconds beyond which a synchronous request is better served asynchronously: article 003,
/// "Real-time endpoints fail silently when your model needs 30+ seconds per request".
pub const SYNC_LIMIT_S: f64 = 30.0;

/// Utilisation below which a dedicated endpoint per model idles: the share of its capacity
/// one model's traffic uses.
pub const SHARED_BELOW_UTILIZATION: f64 = 0.10;

/// The pattern for a workload, given its cheapest deployment (if any).
pub fn advise(w: &Workload, best: Option<&Candidate>) -> EndpointAdvice {
    let e2e_s = best.map(|c| c.e2e_p99_ms / 1e3);
    let util = best.map(|c| c.utilization);
    let models = w.traffic.models.max(1);
    if models > 1 && util.is_some_and(|u| u < SHARED_BELOW_UTILIZATION) {
        return EndpointAdvice {
            pattern: Pattern::MultiModel,
            reason: format!(
                "{models} models with {:.2} requests/s each would keep a dedicated endpoint per model at {:.0} % utilisation: host them on one multi-model endpoint with a shared container that loads models on demand and caches the busy ones.",
                w.traffic.rate_rps,
                util.unwrap_or(0.0) * 100.0
            ),
        };
    }
    match w.slo.mode {
        Mode::Batch => EndpointAdvice {
            pattern: Pattern::Batch,
            reason: "throughput only, no caller waiting: run batch jobs (batch transform or EKS job workers) on spot capacity that exist only while the backlog does.".to_owned(),
        },
        Mode::Async => EndpointAdvice {
            pattern: Pattern::Async,
            reason: format!(
                "results may wait{}: an async endpoint with a queue absorbs bursts, scales on queue depth and down to zero when the queue is empty.",
                w.slo
                    .deadline_s
                    .map_or_else(String::new, |d| format!(" up to {d:.0} s"))
            ),
        },
        // A TTFT limit means responses stream: the caller sees tokens long before the end.
        Mode::Interactive => match e2e_s {
            Some(t) if t > SYNC_LIMIT_S && w.slo.ttft_ms.is_none() => EndpointAdvice {
                pattern: Pattern::Async,
                reason: format!(
                    "a request takes {t:.0} s at p99 and nothing streams before it ends, beyond the ~{SYNC_LIMIT_S:.0} s a synchronous call survives (client and load-balancer timeouts, retries that amplify load): serve it asynchronously."
                ),
            },
            _ => EndpointAdvice {
                pattern: Pattern::RealTime,
                reason: format!(
                    "a caller waits for every response{}: a real-time endpoint with warm capacity (minimum replicas for the daily baseline, scale-in cooldown long enough to ride out the next rise), streaming tokens as they come.",
                    e2e_s.map_or_else(String::new, |t| format!(" ({t:.1} s end to end at p99)"))
                ),
            },
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workload::Workload;

    fn workload(extra: &str) -> Workload {
        let text = format!("[model]\nname = \"llama-3.1-8b\"\n[traffic]\nrate_rps = 0.05\n{extra}");
        Workload::from_toml(&text, "t.toml").unwrap()
    }

    #[test]
    fn the_routing_matrix() {
        let w = workload("");
        assert_eq!(advise(&w, None).pattern, Pattern::RealTime);
        let w = workload("[slo]\nmode = \"batch\"");
        assert_eq!(advise(&w, None).pattern, Pattern::Batch);
        let w = workload("[slo]\nmode = \"async\"\ndeadline_s = 600");
        assert_eq!(advise(&w, None).pattern, Pattern::Async);
    }
}
