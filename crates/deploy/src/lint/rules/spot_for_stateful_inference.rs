//! IL108 `spot-for-stateful-inference`.

use super::super::context::Capacity;
use super::super::{Context, Finding, Rule, Severity};

/// IL108 `spot-for-stateful-inference`: an inference server that runs on spot capacity.
///
/// **What it checks.** A Deployment, StatefulSet, LeaderWorkerSet or Pod that runs an
/// inference server (a recognised engine or a GPU) and whose node selection, node affinity or
/// Karpenter NodePool allows spot capacity (`karpenter.sh/capacity-type`,
/// `eks.amazonaws.com/capacityType`, `cloud.google.com/gke-spot`, Azure's
/// `kubernetes.azure.com/scalesetpriority`), or that tolerates a spot taint. Jobs and CronJobs
/// (batch work) are not flagged.
///
/// **Why it matters.** A spot interruption gives two minutes' notice (AWS) or less. Every
/// in-flight request on the node fails, and the KV cache (prompt caches, long conversations)
/// is lost: article A lists "using Spot Instances for stateful inference without KV cache
/// checkpointing" as an anti-pattern. The replacement takes minutes (node start, image pull,
/// model load), and interruptions come in waves when a capacity pool is reclaimed, often
/// when demand is high. When a NodePool allows both spot and on-demand, Karpenter launches
/// spot first.
///
/// **Example.** `Runs an inference server on spot capacity
/// (`karpenter.sh/capacity-type: spot`): an interruption ends every in-flight request and its
/// KV cache, and a new replica takes minutes to load the model. Run interactive inference on
/// on-demand or reserved capacity, and keep spot for batch work or for overflow replicas above
/// an on-demand floor that meets the SLO.`
///
/// **Fix.** Use on-demand or reserved capacity (Savings Plans) for interactive serving; put
/// spot in a separate NodePool for batch/async work or overflow replicas above an on-demand
/// floor; handle the interruption notice (stop admitting, drain, retry elsewhere).
pub struct SpotForStatefulInference;

impl Rule for SpotForStatefulInference {
    fn code(&self) -> &'static str {
        "IL108"
    }

    fn name(&self) -> &'static str {
        "spot-for-stateful-inference"
    }

    fn severity(&self) -> Severity {
        Severity::Warning
    }

    fn summary(&self) -> &'static str {
        "interactive inference on spot capacity loses in-flight requests and KV cache"
    }

    fn docs(&self) -> &'static str {
        "docs/lint.md#il108-spot-for-stateful-inference"
    }

    fn check(&self, ctx: &Context<'_>) -> Vec<Finding> {
        let mut out = Vec::new();
        for w in &ctx.workloads {
            if matches!(w.object.kind.as_str(), "Job" | "CronJob") || !w.is_inference() {
                continue;
            }
            let Some(pod) = w.main_pod() else {
                continue;
            };
            let hw = ctx.hardware(pod, pod.gpus());
            let (how, also) = match hw.capacity {
                Capacity::Spot => ("on spot capacity", ""),
                Capacity::MaybeSpot => (
                    "on capacity that can be spot",
                    "; with spot and on-demand both allowed, Karpenter launches spot first",
                ),
                _ => continue,
            };
            // In the pod, or where the pod selects its nodes (the NodePool says spot).
            let line = if hw.capacity_line > 0 {
                hw.capacity_line
            } else {
                pod.node_requirements.first().map_or(pod.line, |r| r.line)
            };
            out.push(Finding::new(
                self,
                Severity::Warning,
                &w.object,
                line,
                format!(
                    "Runs an inference server {how} ({}{also}): an interruption ends every \
                     in-flight request and its KV cache, and a new replica takes minutes to \
                     load the model. Run interactive inference on on-demand or reserved \
                     capacity, and keep spot for batch work or for overflow replicas above an \
                     on-demand floor that meets the SLO.",
                    hw.capacity_basis
                ),
            ));
        }
        out
    }
}
