//! IP110 `one-instance-holds-every-replica`.

use super::{finding, Context, Finding, Rule, Severity};

/// IP110 `one-instance-holds-every-replica`: the whole deployment runs on one instance.
///
/// **What it checks.** Every replica (at the peak) is packed onto a single instance (or, for
/// a replica split across instances by pipeline parallelism, a single replica).
///
/// **Why it matters.** One host failure, reboot, driver fault, AZ event or node drain takes the
/// whole service down, and N+1 redundancy on the same host protects against a crashed engine
/// but not against losing the host. Two smaller instances in two AZs cost about the same per
/// GPU and survive the loss of either.
///
/// **Example.** `All 4 replicas run on one p6-b200.48xlarge: losing it stops the service.
/// Spread the replicas over at least two instances in different AZs (e.g. 2 × 2 replicas),
/// even if that leaves GPUs idle, or accept the outage risk explicitly.`
pub struct OneInstanceHoldsEveryReplica;

impl Rule for OneInstanceHoldsEveryReplica {
    fn code(&self) -> &'static str {
        "IP110"
    }

    fn name(&self) -> &'static str {
        "one-instance-holds-every-replica"
    }

    fn docs(&self) -> &'static str {
        "docs/findings.md#ip110-one-instance-holds-every-replica"
    }

    fn check(&self, ctx: &Context<'_>) -> Option<Finding> {
        let c = ctx.candidate;
        if c.instances > c.pp.max(1) {
            return None;
        }
        let spare = if ctx.workload.constraints.redundancy {
            " The N+1 spare shares the host, so it does not cover a host failure."
        } else {
            ""
        };
        let (severity, what) = if c.replicas > 1 {
            (
                Severity::Warning,
                format!(
                    "All {} replicas run on one {}",
                    c.replicas, ctx.instance.name
                ),
            )
        } else {
            (
                Severity::Warning,
                format!("The only replica runs on one {}", ctx.instance.name),
            )
        };
        Some(finding(
            self,
            severity,
            format!(
                "{what}: losing it stops the service.{spare} Spread the replicas over at least \
                 two instances in different AZs, even if that leaves GPUs idle, or accept the \
                 outage risk explicitly."
            ),
        ))
    }
}
