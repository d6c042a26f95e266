//! IP111 `warm-pool-idle-cost` (diffusion plans).

use crate::diffusion::{DiffusionCandidate, DiffusionWorkload};
use crate::findings::{Finding, Severity};

/// Idle share of the paid GPU-hours from which the rule fires.
pub const IDLE_SHARE_FLAGGED: f64 = 0.5;

crate::declare_rule! {
    /// **What it checks.** A diffusion deployment keeps GPUs warm around the clock (it does not scale
    /// to zero) and they are busy less than half of the GPU-hours paid for (busy = jobs × seconds
    /// per job, summed over the day).
    ///
    /// **Why it matters.** Article [B]: "the real cost is not in the instance hourly price, but in
    /// the idle capacity cost of an oversized warm pool", and its "minimum 2-replica warm pool costs
    /// ~$X/hour 24/7". Jobs last tens of seconds to minutes and arrive unevenly, so a pool sized for
    /// the busiest hour's latency promise idles for much of the day.
    ///
    /// **What to do.** If the latency limit covers a cold start plus a job, deliver results
    /// asynchronously and scale to zero when the queue is empty; otherwise scale on a schedule
    /// outside busy hours (Karpenter/KEDA cron), accept a longer promise at night, or stay on the
    /// managed service while the volume is below the break-even the plan reports.
    ///
    /// **Example message.**
    ///
    /// > The warm pool (4 GPUs around the clock) is busy 32 % of the GPU-hours paid for: about
    /// > $85/day buys idle GPUs. A cold start (273 s) does not fit the latency limit, so scaling to
    /// > zero is not an option at this SLO; scheduled scaling outside busy hours is.
    pub struct WarmPoolIdleCost {
        code: "IP111",
        name: "warm-pool-idle-cost",
        severity: Warning,
        summary: "diffusion: the always-on pool is busy less than half the GPU-hours paid for",
        docs: "docs/findings.md#ip111-warm-pool-idle-cost",
    }
}

/// The IP111 finding about a diffusion candidate, if [`WarmPoolIdleCost`] applies.
pub fn warm_pool_idle_cost(w: &DiffusionWorkload, c: &DiffusionCandidate) -> Option<Finding> {
    if c.scale_to_zero || c.warm_pool_gpus == 0 {
        return None;
    }
    let idle = 1.0 - c.utilization;
    if idle < IDLE_SHARE_FLAGGED {
        return None;
    }
    let idle_usd = c.usd_per_day * idle;
    let async_hint = if c.cold_start_s + c.latency_p_s <= w.limit_s().unwrap_or(0.0) {
        " The latency limit covers a cold start, so an async endpoint that scales to zero would not pay for idle GPUs.".to_owned()
    } else {
        format!(
            " A cold start ({:.0} s) does not fit the latency limit, so scaling to zero is not an option at this SLO; scheduled scaling outside busy hours is.",
            c.cold_start_s
        )
    };
    let managed = match &c.break_even {
        Some(b) => match b.jobs_per_day {
            Some(v) if v > b.managed_usd_per_day / b.managed_usd_per_output => {
                format!(" Below {v:.0} jobs/day the managed service is cheaper.")
            }
            _ => String::new(),
        },
        None => String::new(),
    };
    Some(WarmPoolIdleCost::META.diagnostic(
        Severity::Warning,
        (),
        format!(
            "The warm pool ({} GPU{} around the clock) is busy {:.0} % of the GPU-hours paid for: about ${idle_usd:.0}/day buys idle GPUs.{async_hint}{managed}",
            c.warm_pool_gpus,
            if c.warm_pool_gpus == 1 { "" } else { "s" },
            c.utilization * 100.0
        ),
    ))
}
