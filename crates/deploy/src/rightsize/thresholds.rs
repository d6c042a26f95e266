//! The practitioners' thresholds the verdicts use, with their sources.

use serde::Serialize;

/// Average utilisation below which a GPU is over-provisioned, % (article C: "If average GPU
/// utilization is below 40% over a 7-day window, you are over-provisioned").
pub const OVER_AVG_UTIL_PCT: f64 = 40.0;
/// Window the over-provisioning rule asks for, seconds (7 days, article C). Shorter windows
/// give provisional utilisation verdicts.
pub const FULL_WINDOW_S: f64 = 7.0 * 86_400.0;
/// Utilisation above which a sample is "hot", % (article C: "If it exceeds 80% regularly,
/// you are under-provisioned").
pub const HOT_UTIL_PCT: f64 = 80.0;
/// "Regularly", first reading: at least this share of the samples is hot, %.
pub const UNDER_MIN_SHARE_PCT: f64 = 20.0;
/// A day is hot when more than this share of its samples is hot, % (about 72 minutes of a
/// full day).
pub const HOT_DAY_MIN_SHARE_PCT: f64 = 5.0;
/// "Regularly", second reading: more than this share of the days with data are hot, %.
pub const UNDER_HOT_DAYS_PCT: f64 = 50.0;
/// Days with data the daily reading needs.
pub const UNDER_MIN_DAYS: usize = 2;
/// Framebuffer use above which memory is at risk, % of the total (article B: "VRAM
/// utilization > 85%: indicates the model is approaching memory limits").
pub const MEMORY_RISK_PCT: f64 = 85.0;
/// Spread of the per-GPU average utilisations above which the load is uneven, percentage
/// points (inferplan's own threshold).
pub const IMBALANCE_SPREAD_PCT: f64 = 30.0;
/// SLO headroom a safer deployment must have (the smallest ratio of an SLO limit to the
/// predicted value at the peak).
pub const SAFE_SLO_HEADROOM: f64 = 1.3;

/// The thresholds the analysis used, echoed in every [`Report`](super::Report).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Thresholds {
    /// [`OVER_AVG_UTIL_PCT`].
    pub over_avg_util_pct: f64,
    /// [`FULL_WINDOW_S`].
    pub full_window_s: f64,
    /// [`HOT_UTIL_PCT`].
    pub hot_util_pct: f64,
    /// [`UNDER_MIN_SHARE_PCT`].
    pub under_min_share_pct: f64,
    /// [`HOT_DAY_MIN_SHARE_PCT`].
    pub hot_day_min_share_pct: f64,
    /// [`UNDER_HOT_DAYS_PCT`].
    pub under_hot_days_pct: f64,
    /// [`UNDER_MIN_DAYS`].
    pub under_min_days: usize,
    /// [`MEMORY_RISK_PCT`].
    pub memory_risk_pct: f64,
    /// [`IMBALANCE_SPREAD_PCT`].
    pub imbalance_spread_pct: f64,
    /// [`SAFE_SLO_HEADROOM`].
    pub safe_slo_headroom: f64,
}

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds {
            over_avg_util_pct: OVER_AVG_UTIL_PCT,
            full_window_s: FULL_WINDOW_S,
            hot_util_pct: HOT_UTIL_PCT,
            under_min_share_pct: UNDER_MIN_SHARE_PCT,
            hot_day_min_share_pct: HOT_DAY_MIN_SHARE_PCT,
            under_hot_days_pct: UNDER_HOT_DAYS_PCT,
            under_min_days: UNDER_MIN_DAYS,
            memory_risk_pct: MEMORY_RISK_PCT,
            imbalance_spread_pct: IMBALANCE_SPREAD_PCT,
            safe_slo_headroom: SAFE_SLO_HEADROOM,
        }
    }
}
