//! Which serving pattern fits the workload (article 003's routing matrix): a real-time
//! endpoint with warm capacity, an async endpoint with a queue, a batch job, or a shared
//! multi-model endpoint.

use crate::candidate::Candidate;
use crate::workload::{Mode, Workload};
use serde::{Deserialize, Serialize};

/// A serving pattern.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
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
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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

/// What the advice is drawn from, for LLM requests and diffusion jobs alike.
#[derive(Debug, Clone, PartialEq)]
pub struct Situation {
    /// Interactive, async or batch.
    pub mode: Mode,
    /// Async deadline, seconds.
    pub deadline_s: Option<f64>,
    /// Whether responses stream (a TTFT limit): the caller sees output long before the end.
    pub streams: bool,
    /// Models served with this traffic each.
    pub models: u32,
    /// Mean requests (or jobs) per second of each model.
    pub rate_per_model: f64,
    /// End-to-end latency at the SLO percentile of the best deployment, seconds.
    pub e2e_p_s: Option<f64>,
    /// Utilisation of the best deployment.
    pub utilization: Option<f64>,
    /// What arrives: `requests` or `jobs`.
    pub unit: &'static str,
}

/// The pattern for a workload, given its cheapest deployment (if any).
pub fn advise(w: &Workload, best: Option<&Candidate>) -> EndpointAdvice {
    advise_situation(&Situation {
        mode: w.slo.mode,
        deadline_s: w.slo.deadline_s,
        streams: w.slo.ttft_ms.is_some(),
        models: w.traffic.models,
        rate_per_model: w.traffic.rate_rps,
        e2e_p_s: best.map(|c| c.e2e_p99_ms / 1e3),
        utilization: best.map(|c| c.utilization),
        unit: "requests",
    })
}

/// The pattern for a situation.
pub fn advise_situation(s: &Situation) -> EndpointAdvice {
    let models = s.models.max(1);
    let unit = s.unit;
    if models > 1 && s.utilization.is_some_and(|u| u < SHARED_BELOW_UTILIZATION) {
        return EndpointAdvice {
            pattern: Pattern::MultiModel,
            reason: format!(
                "{models} models with {:.2} {unit}/s each would keep a dedicated endpoint per model at {:.0} % utilisation: host them together. The many-models comparison (`multi_model`) prices a shared pool that loads models on demand (with its model-swap cold starts against the SLO), multi-LoRA on one base, MIG slices and fractional GPUs against dedicated endpoints.",
                s.rate_per_model,
                s.utilization.unwrap_or(0.0) * 100.0
            ),
        };
    }
    match s.mode {
        Mode::Batch => EndpointAdvice {
            pattern: Pattern::Batch,
            reason: "throughput only, no caller waiting: run batch jobs (batch transform or EKS job workers) on spot capacity that exist only while the backlog does.".to_owned(),
        },
        Mode::Async => EndpointAdvice {
            pattern: Pattern::Async,
            reason: format!(
                "results may wait{}: a queue absorbs bursts and the replicas scale on its depth, down to zero when it is empty only where the queue is outside the servers (SQS, a SageMaker async endpoint); the LLM deployment `render` writes on EKS queues in the engine and keeps its minimum warm.",
                s.deadline_s
                    .map_or_else(String::new, |d| format!(" up to {d:.0} s"))
            ),
        },
        Mode::Interactive => match s.e2e_p_s {
            Some(t) if t > SYNC_LIMIT_S && !s.streams => EndpointAdvice {
                pattern: Pattern::Async,
                reason: format!(
                    "a {} takes {t:.0} s at the SLO percentile and nothing streams before it ends, beyond the ~{SYNC_LIMIT_S:.0} s a synchronous call survives (client and load-balancer timeouts, retries that amplify load): accept it, return an id at once, deliver the result later (queue plus polling or a callback), while keeping the warm capacity the latency promise needs.",
                    unit.trim_end_matches('s')
                ),
            },
            _ => EndpointAdvice {
                pattern: Pattern::RealTime,
                reason: format!(
                    "a caller waits for every response{}: a real-time endpoint with warm capacity (minimum replicas for the daily baseline, scale-in cooldown long enough to ride out the next rise){}.",
                    s.e2e_p_s
                        .map_or_else(String::new, |t| format!(" ({t:.1} s end to end at the SLO percentile)")),
                    if s.streams { ", streaming tokens as they come" } else { "" }
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
