//! IP110 `one-instance-holds-every-replica`.

use super::{finding, Context, Finding, Rule, Severity};

crate::declare_rule! {
    /// **What it checks.** Every replica needed at the peak is packed onto one instance (for
    /// example 4 TP2 replicas on one 8-GPU p6-b200.48xlarge), or the only replica runs on one
    /// instance.
    ///
    /// **Why it matters.** The cheapest layout often fills one large instance, and then one host
    /// failure, reboot, driver fault, AZ event or node drain stops the service. `redundancy = true`
    /// (N+1) adds a spare replica, but a spare on the same host protects against a crashed engine,
    /// not against losing the host. Article [A] asks to treat the AZ dependency of a GPU cluster "as
    /// an explicit architectural decision with a documented failover runbook"; a service packed on one
    /// node has the same dependency, on one host.
    ///
    /// **What to do.** Spread the replicas over at least two instances in different AZs (for
    /// example 2 × 2 replicas on two instances), even if that leaves GPUs idle, and compare that
    /// cost with the plan's (rerun with a smaller instance family via `--families`); or accept the
    /// outage risk explicitly in the decision record.
    ///
    /// **Example message.**
    ///
    /// > All 4 replicas run on one p6-b200.48xlarge: losing it stops the service. Spread the replicas
    /// > over at least two instances in different AZs, even if that leaves GPUs idle, or accept the
    /// > outage risk explicitly.
    pub struct OneInstanceHoldsEveryReplica {
        code: "IP110",
        name: "one-instance-holds-every-replica",
        severity: Warning,
        summary: "every replica runs on a single instance",
        docs: "docs/findings.md#ip110-one-instance-holds-every-replica",
    }
}

impl Rule for OneInstanceHoldsEveryReplica {
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
