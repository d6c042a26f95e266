//! IP109 `retries-need-idempotency-keys`.

use super::{finding, num, Context, Finding, Rule, Severity};
use crate::workload::Mode;

crate::declare_rule! {
    /// **What it checks.** Reported (info) for every interactive and async workload, whose clients
    /// time out and retry. Batch work is left out: its runner paces its own submissions.
    ///
    /// **Why it matters.** Under overload, clients time out while the server is still generating their
    /// answer. A retry without an idempotency key is a new, independent request: the work is done
    /// twice, and one retry per timeout doubles the offered load exactly when there is no headroom, so
    /// a slowdown becomes an outage (a retry storm). [A]: "Without idempotency keys at API Gateway and
    /// deduplication logic at the inference server, retries double the load exactly when the system
    /// is most fragile."
    ///
    /// **What to do.** Send an idempotency key with every request; deduplicate at the gateway or router
    /// (return the result of the request already in flight, or its cached result); cap retries with a
    /// retry budget (for example 10 % of requests); back off exponentially with jitter; and set client
    /// timeouts above the end-to-end latency at the SLO percentile.
    ///
    /// **Example.**
    ///
    /// > At the peak the 10 replicas serve up to 20 req/s; when they saturate, clients that time out
    /// > and retry resend work the servers are still doing, and one retry per timeout doubles the
    /// > offered load (40 req/s) exactly when there is no headroom. Send an idempotency key with each
    /// > request and deduplicate in the gateway or router (return the in-flight result), cap retries
    /// > with a budget (about 10 % of requests) and back off exponentially with jitter.
    pub struct RetriesNeedIdempotencyKeys {
        code: "IP109",
        name: "retries-need-idempotency-keys",
        severity: Info,
        summary: "interactive and async workloads",
        docs: "docs/findings.md#ip109-retries-need-idempotency-keys",
    }
}

impl Rule for RetriesNeedIdempotencyKeys {
    fn check(&self, ctx: &Context<'_>) -> Option<Finding> {
        if ctx.workload.slo.mode == Mode::Batch {
            return None;
        }
        let c = ctx.candidate;
        let capacity = f64::from(c.replicas) * c.max_rps_per_replica.max(0.0);
        let load = if capacity > 0.0 && capacity.is_finite() {
            format!(
                "At the peak the {} replica{} serve up to {} req/s; when they saturate, clients \
                 that time out and retry resend work the servers are still doing, and one retry \
                 per timeout doubles the offered load ({} req/s) exactly when there is no \
                 headroom.",
                c.replicas,
                if c.replicas == 1 { "" } else { "s" },
                num(capacity, 1),
                num(2.0 * capacity, 1),
            )
        } else {
            "When replicas saturate, clients that time out and retry resend work the servers \
             are still doing, and one retry per timeout doubles the offered load exactly when \
             there is no headroom."
                .to_owned()
        };
        Some(finding(
            self,
            Severity::Info,
            format!(
                "{load} Send an idempotency key with each request and deduplicate in the \
                 gateway or router (return the in-flight result), cap retries with a budget \
                 (about 10 % of requests) and back off exponentially with jitter."
            ),
        ))
    }
}
