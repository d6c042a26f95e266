//! IL108 `spot-for-stateful-inference`.

use super::super::context::Capacity;
use super::super::{finding, Context, Finding, Rule, Severity};

inferplan_plan::declare_rule! {
    /// **What it checks.** A Deployment, StatefulSet, LeaderWorkerSet or Pod that runs an inference
    /// server and can land on spot capacity: its node selection, node affinity or Karpenter NodePool
    /// allows it (`karpenter.sh/capacity-type: spot`, `eks.amazonaws.com/capacityType: SPOT`,
    /// `cloud.google.com/gke-spot`, `kubernetes.azure.com/scalesetpriority: spot`), or it tolerates a
    /// spot taint. Jobs and CronJobs (batch work) are not flagged, nor a workload that declares its
    /// pods tolerate interruption: the annotation `inferplan.io/interruption-tolerant: "true"` on
    /// the object or its pod template, with the reason in `inferplan.io/interruption-tolerant-reason`
    /// (`render` writes both when the plan buys spot for async or batch work).
    ///
    /// **Why it matters.** A spot interruption gives two minutes' notice on AWS, less elsewhere.
    /// Every in-flight request on the node fails and the KV cache (prompt caches, long conversations)
    /// is lost; [A] lists "using Spot Instances for stateful inference without KV cache checkpointing"
    /// as an anti-pattern. The replacement takes minutes (node, image, model), and interruptions come
    /// in waves when a capacity pool is reclaimed, often when demand is high. When a NodePool allows
    /// both spot and on-demand, Karpenter launches spot first. The planner's IP104
    /// ([findings.md](findings.md#ip104-spot-for-stateful-chat)) says the same about plans.
    ///
    /// **Example.**
    ///
    /// > Runs an inference server on capacity that can be spot (NodePool gpu
    /// > `karpenter.sh/capacity-type: spot, on-demand`; with spot and on-demand both allowed,
    /// > Karpenter launches spot first): an interruption ends every in-flight request and its KV
    /// > cache, and a new replica takes minutes to load the model. Run interactive inference on
    /// > on-demand or reserved capacity, and keep spot for batch work or for overflow replicas above
    /// > an on-demand floor that meets the SLO.
    ///
    /// **Fix.** On-demand or reserved capacity (Savings Plans) for interactive serving; spot in a
    /// separate NodePool for async and batch work, or for overflow replicas above an on-demand floor;
    /// handle the interruption notice (stop admitting requests, drain, retry elsewhere). Async and
    /// batch servers on spot are a deliberate choice: once their requests are retryable (queued
    /// and re-sent when a pod is interrupted), say so with the annotation
    /// `inferplan.io/interruption-tolerant: "true"` and a reason in
    /// `inferplan.io/interruption-tolerant-reason`, and the warning no longer fires.
    pub struct SpotForStatefulInference {
        code: "IL108",
        name: "spot-for-stateful-inference",
        severity: Warning,
        summary: "interactive inference on spot capacity loses in-flight requests and KV cache",
        docs: "docs/lint.md#il108-spot-for-stateful-inference",
    }
}

impl Rule for SpotForStatefulInference {
    fn check(&self, ctx: &Context<'_>) -> Vec<Finding> {
        let mut out = Vec::new();
        for w in &ctx.workloads {
            if matches!(w.object.kind.as_str(), "Job" | "CronJob")
                || !w.is_inference()
                || w.interruption_tolerant().is_some()
            {
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
            out.push(finding(
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
