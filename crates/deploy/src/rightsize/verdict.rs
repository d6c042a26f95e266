//! The verdicts: statistics judged by the practitioners' thresholds.

use super::statistics::Stats;
use super::thresholds::{
    FULL_WINDOW_S, HOT_DAY_MIN_SHARE_PCT, HOT_UTIL_PCT, MEMORY_RISK_PCT, OVER_AVG_UTIL_PCT,
    UNDER_HOT_DAYS_PCT, UNDER_MIN_DAYS, UNDER_MIN_SHARE_PCT,
};
use serde::Serialize;
use std::fmt;

/// A verdict code. Stable: tools may match on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum VerdictCode {
    /// Average utilisation below 40 % (over at least 7 days, else provisional).
    OverProvisioned,
    /// Utilisation above 80 % regularly: in at least 20 % of the samples, or for more than
    /// 5 % of the day on most days.
    UnderProvisioned,
    /// Framebuffer use above 85 % of the total.
    MemoryAtRisk,
    /// Utilisation between the thresholds and memory below 85 %.
    RightSized,
    /// The GPUs' average utilisations differ by more than 30 points (fleet only).
    Imbalanced,
    /// Framebuffer used is known but not the total.
    MemoryUnknown,
    /// Memory is known but not utilisation.
    UtilizationUnknown,
    /// No usable samples.
    NoData,
}

impl VerdictCode {
    /// The snake_case code, as in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            VerdictCode::OverProvisioned => "over_provisioned",
            VerdictCode::UnderProvisioned => "under_provisioned",
            VerdictCode::MemoryAtRisk => "memory_at_risk",
            VerdictCode::RightSized => "right_sized",
            VerdictCode::Imbalanced => "imbalanced",
            VerdictCode::MemoryUnknown => "memory_unknown",
            VerdictCode::UtilizationUnknown => "utilization_unknown",
            VerdictCode::NoData => "no_data",
        }
    }
}

impl fmt::Display for VerdictCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A judgement with the numbers behind it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Verdict {
    /// Stable code.
    pub code: VerdictCode,
    /// One sentence with the numbers.
    pub message: String,
    /// True for utilisation verdicts over a window shorter than 7 days.
    pub provisional: bool,
}

pub(super) fn pct(v: f64) -> String {
    format!("{v:.1} %")
}

pub(super) fn duration(s: f64) -> String {
    if s >= 86_400.0 {
        format!("{:.1} days", s / 86_400.0)
    } else if s >= 3_600.0 {
        format!("{:.1} hours", s / 3_600.0)
    } else {
        format!("{:.0} minutes", s / 60.0)
    }
}

/// True when the daily reading of "regularly above 80 %" holds.
pub(super) fn hot_on_most_days(s: &Stats) -> bool {
    s.days >= UNDER_MIN_DAYS && s.hot_days as f64 * 100.0 > s.days as f64 * UNDER_HOT_DAYS_PCT
}

pub(super) fn judge(s: &Stats) -> Vec<Verdict> {
    let mut out = Vec::new();
    let provisional = s.window_s < FULL_WINDOW_S;
    let window = if provisional {
        format!(
            " Provisional: the window is {}, the thresholds are for at least 7 days.",
            duration(s.window_s)
        )
    } else {
        String::new()
    };
    let mut problem = false;
    let util_known = s.avg_util_pct.is_some();
    if let (Some(avg), Some(share)) = (s.avg_util_pct, s.share_above_80_pct) {
        let by_share = share >= UNDER_MIN_SHARE_PCT;
        let by_days = hot_on_most_days(s);
        if by_share || by_days {
            problem = true;
            let mut why = Vec::new();
            if by_share {
                why.push(format!(
                    "in {} of the samples (at least {UNDER_MIN_SHARE_PCT:.0} %)",
                    pct(share)
                ));
            }
            if by_days {
                why.push(format!(
                    "for more than {HOT_DAY_MIN_SHARE_PCT:.0} % of the day on {} of {} days",
                    s.hot_days, s.days
                ));
            }
            let peaky = if avg < OVER_AVG_UTIL_PCT {
                format!(
                    " The average is only {}: the load is peaky; scale out at the peaks \
                     (on queue depth) rather than buying the peak for the whole day.",
                    pct(avg)
                )
            } else {
                String::new()
            };
            out.push(Verdict {
                code: VerdictCode::UnderProvisioned,
                message: format!(
                    "utilisation was above {HOT_UTIL_PCT:.0} % {} over {}: under-provisioned, \
                     requests are likely queueing. GPU utilisation is the share of time a \
                     kernel runs, not how full the GPU is (one decoding sequence reads close \
                     to 100 %): confirm with queue depth or TTFT before adding capacity.{peaky}{window}",
                    why.join(" and "),
                    duration(s.window_s)
                ),
                provisional,
            });
        } else if avg < OVER_AVG_UTIL_PCT {
            problem = true;
            out.push(Verdict {
                code: VerdictCode::OverProvisioned,
                message: format!(
                    "average utilisation {} is below {OVER_AVG_UTIL_PCT:.0} % over {}: \
                     over-provisioned; fewer or smaller GPUs would carry this load.{window}",
                    pct(avg),
                    duration(s.window_s)
                ),
                provisional,
            });
        }
    }
    if let (Some(max), Some(p95)) = (s.max_mem_pct, s.p95_mem_pct) {
        if max > MEMORY_RISK_PCT {
            problem = true;
            let how = if p95 > MEMORY_RISK_PCT {
                "consistently (at the 95th percentile)"
            } else {
                "at its peaks"
            };
            let flat = match (s.min_mem_pct, s.avg_mem_pct) {
                (Some(min), Some(avg)) if max - min < 2.0 && avg > 80.0 => format!(
                    " It barely moves (from {} to {}): this looks like an engine's \
                     preallocated KV-cache pool (vLLM reserves --gpu-memory-utilization, 90 % \
                     by default), which shows the reservation, not the need; check the \
                     engine's KV-cache usage (vllm:kv_cache_usage_perc, \
                     vllm:gpu_cache_usage_perc in older releases) before acting.",
                    pct(min),
                    pct(max)
                ),
                _ => String::new(),
            };
            out.push(Verdict {
                code: VerdictCode::MemoryAtRisk,
                message: format!(
                    "framebuffer use reached {} of the total (p95 {}, mean {}), above \
                     {MEMORY_RISK_PCT:.0} % {how}: at risk of running out of memory; lower \
                     the batch or context limits, or move to GPUs with more memory.{flat}",
                    pct(max),
                    pct(p95),
                    pct(s.avg_mem_pct.unwrap_or(max))
                ),
                provisional: false,
            });
        }
    } else if s.avg_fb_used_mib.is_some() {
        out.push(Verdict {
            code: VerdictCode::MemoryUnknown,
            message: "framebuffer use is known but not the GPU's total: give fb_total_mib \
                      or fb_free_mib (DCGM_FI_DEV_FB_FREE), or the instance type or GPU"
                .to_owned(),
            provisional: false,
        });
    }
    if !util_known && s.mem_samples + s.avg_fb_used_mib.map_or(0, |_| 1) > 0 {
        out.push(Verdict {
            code: VerdictCode::UtilizationUnknown,
            message: "no utilisation samples (gpu_util or DCGM_FI_DEV_GPU_UTIL): only memory \
                      was judged"
                .to_owned(),
            provisional: false,
        });
    }
    if util_known && !problem {
        let (avg, share) = (
            s.avg_util_pct.unwrap_or(0.0),
            s.share_above_80_pct.unwrap_or(0.0),
        );
        let mem = s
            .max_mem_pct
            .map(|m| format!(", framebuffer at most {}", pct(m)))
            .unwrap_or_default();
        out.push(Verdict {
            code: VerdictCode::RightSized,
            message: format!(
                "average utilisation {} (between {OVER_AVG_UTIL_PCT:.0} and \
                 {HOT_UTIL_PCT:.0} %), above {HOT_UTIL_PCT:.0} % in {} of the samples{mem} \
                 over {}: right-sized.{window}",
                pct(avg),
                pct(share),
                duration(s.window_s)
            ),
            provisional,
        });
    }
    if out.is_empty() {
        out.push(Verdict {
            code: VerdictCode::NoData,
            message: "no usable samples: no utilisation and no framebuffer values".to_owned(),
            provisional: false,
        });
    }
    out
}
