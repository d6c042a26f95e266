//! IP111 `warm-pool-idle-cost` (diffusion plans).

use crate::diffusion::{DiffusionCandidate, DiffusionWorkload};
use crate::findings::{Finding, Severity};

/// Idle share of the paid GPU-hours from which the rule fires.
pub const IDLE_SHARE_FLAGGED: f64 = 0.5;

/// IP111 `warm-pool-idle-cost`: the always-on pool of a diffusion deployment idles most of the
/// GPU-hours it is paid for.
///
/// **What it checks.** The pool does not scale to zero, and its GPUs are busy less than half
/// of the hours paid for (busy = jobs × seconds per job).
///
/// **Why it matters.** Article 001: "the real cost is not in the instance hourly price, but
/// in the idle capacity cost of an oversized warm pool". Jobs take tens of seconds to
/// minutes and arrive unevenly, so a pool sized for the busiest hour's latency idles the rest
/// of the day. Scaling to zero (async delivery, when the limit covers a cold start),
/// scheduled scaling outside busy hours, or a managed service below the break-even volume
/// avoid paying for it.
///
/// **Example.** `The warm pool (4 GPUs around the clock) is busy 32 % of the GPU-hours paid
/// for: about $85/day buys idle GPUs. A cold start (273 s) does not fit the latency limit, so
/// scaling to zero is not an option at this SLO; scheduled scaling outside busy hours is.`
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
    Some(Finding {
        code: "IP111",
        rule: "warm-pool-idle-cost",
        severity: Severity::Warning,
        message: format!(
            "The warm pool ({} GPU{} around the clock) is busy {:.0} % of the GPU-hours paid for: about ${idle_usd:.0}/day buys idle GPUs.{async_hint}{managed}",
            c.warm_pool_gpus,
            if c.warm_pool_gpus == 1 { "" } else { "s" },
            c.utilization * 100.0
        ),
        docs: "docs/findings.md#ip111-warm-pool-idle-cost",
    })
}
