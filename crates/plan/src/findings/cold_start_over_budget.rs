//! IP105 `cold-start-over-budget`.

use super::cold_start::{cold_start_s, WeightsSource};
use super::{duration, finding, nodes_per_replica, num, Context, Finding, Rule, Severity};

/// IP105 `cold-start-over-budget`: a new replica takes longer to start than the budget.
///
/// **What it checks.** The workload sets `constraints.cold_start_budget_s` and the estimated
/// cold start of a new replica ([`cold_start_s`]: instance boot + engine start + the
/// weights this instance reads over the bandwidth of `constraints.weights_source`) is
/// longer. A replica spread over several instances reads its share on each of them in
/// parallel. Without a budget, or within it, the rule is silent: the estimate itself is
/// part of the plan, not a finding.
///
/// **Why it matters.** Autoscaling only helps if new capacity arrives before the surge has
/// passed. While a replica boots, downloads 100+ GiB and compiles, requests queue on the
/// others; a scale-from-zero path waits the whole time. Loading from S3 at start-up is the
/// usual culprit.
///
/// **Example.** `Cold start ≈ 2 min 27 s, over the 120 s budget by 27 s (p5.48xlarge: boot
/// 60 s + engine start 64 s + 131.4 GiB from s3 at 6.25 GB/s (the per-instance S3 ceiling) =
/// 23 s). Keep a warm pool: pre-started instances with the weights pre-staged on local NVMe
/// (init container with a parallel S3 copy), scaled ahead of demand; scale on queue depth so
/// new capacity is asked for early.`
pub struct ColdStartOverBudget;

impl Rule for ColdStartOverBudget {
    fn code(&self) -> &'static str {
        "IP105"
    }

    fn name(&self) -> &'static str {
        "cold-start-over-budget"
    }

    fn docs(&self) -> &'static str {
        "docs/findings.md#ip105-cold-start-over-budget"
    }

    fn check(&self, ctx: &Context<'_>) -> Option<Finding> {
        let budget = ctx
            .workload
            .constraints
            .cold_start_budget_s
            .filter(|b| b.is_finite() && *b >= 0.0)?;
        let c = ctx.candidate;
        let nodes = nodes_per_replica(c);
        let per_node_gib = c.weights_gib / f64::from(nodes);
        let cs = cold_start_s(
            per_node_gib,
            &ctx.workload.constraints.weights_source,
            ctx.instance,
        );
        if cs.seconds <= budget {
            return None;
        }
        let share = if nodes > 1 {
            format!("; each of the {nodes} instances of a replica reads its share")
        } else {
            String::new()
        };
        let remedy = match cs.source {
            WeightsSource::Nvme => {
                "Keep a warm pool: replicas already running (N+1 or more) absorb the surge \
                 while new ones start; scale on queue depth so new capacity is asked for early."
            }
            WeightsSource::S3 | WeightsSource::Fsx => {
                "Keep a warm pool: pre-started instances with the weights pre-staged on local \
                 NVMe (init container with a parallel S3 copy), scaled ahead of demand; scale \
                 on queue depth so new capacity is asked for early."
            }
        };
        Some(finding(
            self,
            Severity::Warning,
            format!(
                "Cold start ≈ {total}, over the {budget} s budget by {over} ({basis}{share}). \
                 {remedy}",
                total = duration(cs.seconds),
                basis = cs.basis,
                budget = num(budget, 0),
                over = duration(cs.seconds - budget),
            ),
        ))
    }
}
