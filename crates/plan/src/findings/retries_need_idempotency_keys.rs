//! IP109 `retries-need-idempotency-keys`.

use super::{finding, num, Context, Finding, Rule, Severity};
use crate::workload::Mode;

/// IP109 `retries-need-idempotency-keys`: client retries without deduplication.
///
/// **What it checks.** Always reported (info) for interactive and async workloads, whose
/// clients time out and retry. Batch work is left out: its runner paces its own
/// submissions.
///
/// **Why it matters.** Under overload, requests time out at the client while the server is
/// still generating them. A retry without an idempotency key is a second, independent
/// request: the work is done twice, and one retry per timeout doubles the offered load
/// exactly when there is no headroom, which turns a slowdown into an outage (a retry storm).
/// An idempotency key lets the gateway or router return the result of the request already in
/// flight instead of starting another; a retry budget and exponential backoff with jitter
/// keep the retries themselves bounded.
///
/// **Example.** `At the peak the 10 replicas serve up to 21 req/s; when they saturate,
/// clients that time out and retry resend work the servers are still doing, and one retry
/// per timeout doubles the offered load (42 req/s) exactly when there is no headroom. Send an
/// idempotency key with each request and deduplicate in the gateway or router (return the
/// in-flight result), cap retries with a budget (about 10 % of requests) and back off
/// exponentially with jitter.`
pub struct RetriesNeedIdempotencyKeys;

impl Rule for RetriesNeedIdempotencyKeys {
    fn code(&self) -> &'static str {
        "IP109"
    }

    fn name(&self) -> &'static str {
        "retries-need-idempotency-keys"
    }

    fn docs(&self) -> &'static str {
        "docs/findings.md#ip109-retries-need-idempotency-keys"
    }

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
