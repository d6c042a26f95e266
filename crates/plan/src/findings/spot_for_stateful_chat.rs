//! IP104 `spot-for-stateful-chat`.

use super::{finding, num, Context, Finding, Rule, Severity};
use crate::workload::Mode;

crate::declare_rule! {
    /// **What it checks.** The workload is interactive (`slo.mode = "interactive"`, which covers chat
    /// and other conversational serving) and the purchase mix puts at least one instance on spot.
    ///
    /// **Why it matters.** EC2 reclaims a spot instance with a two-minute interruption notice, and the
    /// GPU memory goes with it, including the KV cache of every conversation on that instance. Without
    /// KV-cache checkpointing, each of those conversations re-prefills its whole history on another
    /// replica, at the moment capacity has just shrunk, and streams in flight break. [A]: "Using Spot
    /// Instances for stateful inference without KV cache checkpointing: ... interruptions destroy the
    /// in-memory KV cache. For conversational inference with long history, either use On-Demand/Savings
    /// Plans, or implement KV cache offload to local NVMe with fast serialization." The workload file
    /// has no field saying that KV-cache checkpointing is in place, so the rule flags every
    /// interactive deployment with spot capacity; the planner itself buys spot only for async and
    /// batch work.
    ///
    /// **What to do.**
    ///
    /// - Keep interactive capacity on a savings plan and on demand; use spot for async and batch work.
    /// - If spot must serve interactive traffic: checkpoint or offload the KV cache (local NVMe, host
    ///   memory or a peer), watch the instance metadata for the interruption notice, stop routing new
    ///   requests to the instance and drain or migrate its sessions within the two minutes.
    ///
    /// **Example.**
    ///
    /// > 3 of 10 instances (30 %) are spot for interactive serving: a spot interruption (2-minute
    /// > notice) drops the in-memory KV cache of every conversation on the instance, so their next
    /// > turn re-prefills the whole history and streams in flight fail. Keep interactive capacity on
    /// > savings plan / on-demand, or checkpoint the KV cache (offload to NVMe or a peer) and drain on
    /// > the interruption notice; use spot for async and batch work.
    pub struct SpotForStatefulChat {
        code: "IP104",
        name: "spot-for-stateful-chat",
        severity: Warning,
        summary: "spot instances serve interactive traffic",
        docs: "docs/findings.md#ip104-spot-for-stateful-chat",
    }
}

impl Rule for SpotForStatefulChat {
    fn check(&self, ctx: &Context<'_>) -> Option<Finding> {
        let mix = &ctx.candidate.purchase_mix;
        if ctx.workload.slo.mode != Mode::Interactive || mix.spot_instances == 0 {
            return None;
        }
        let total = (mix.spot_instances + mix.on_demand_instances + mix.savings_plan_instances)
            .max(ctx.candidate.instances)
            .max(mix.spot_instances);
        let share = 100.0 * f64::from(mix.spot_instances) / f64::from(total);
        Some(finding(
            self,
            Severity::Warning,
            format!(
                "{spot} of {total} instances ({share} %) are spot for interactive serving: a \
                 spot interruption (2-minute notice) drops the in-memory KV cache of every \
                 conversation on the instance, so their next turn re-prefills the whole \
                 history and streams in flight fail. Keep interactive capacity on savings plan \
                 / on-demand, or checkpoint the KV cache (offload to NVMe or a peer) and drain \
                 on the interruption notice; use spot for async and batch work.",
                spot = mix.spot_instances,
                share = num(share, 0),
            ),
        ))
    }
}
