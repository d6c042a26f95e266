//! IP104 `spot-for-stateful-chat`.

use super::{finding, num, Context, Finding, Rule, Severity};
use crate::workload::Mode;

/// IP104 `spot-for-stateful-chat`: spot capacity serving interactive conversations.
///
/// **What it checks.** The workload is interactive (`slo.mode = "interactive"`: chat and
/// other conversational, latency-bound serving) and the purchase mix puts some instances on
/// spot.
///
/// **Why it matters.** A spot interruption gives two minutes' notice and then removes the
/// instance with everything in GPU memory, including the KV cache of every conversation it
/// holds. Without KV-cache checkpointing (offloading the cache to local NVMe, host memory
/// or a peer, and restoring it), each of those conversations must re-prefill its whole
/// history on another replica at the moment capacity has just shrunk, and streams in flight
/// break. inferplan has no input saying that KV-cache checkpointing is in place, so it flags
/// every interactive deployment with spot capacity.
///
/// **Example.** `3 of 10 instances (30 %) are spot for interactive serving: a spot
/// interruption (2-minute notice) drops the in-memory KV cache of every conversation on the
/// instance, so their next turn re-prefills the whole history and streams in flight fail.
/// Keep interactive capacity on savings plan / on-demand, or checkpoint the KV cache (offload
/// to NVMe or a peer) and drain on the interruption notice; use spot for async and batch
/// work.`
pub struct SpotForStatefulChat;

impl Rule for SpotForStatefulChat {
    fn code(&self) -> &'static str {
        "IP104"
    }

    fn name(&self) -> &'static str {
        "spot-for-stateful-chat"
    }

    fn docs(&self) -> &'static str {
        "docs/findings.md#ip104-spot-for-stateful-chat"
    }

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
