//! Utilisation and memory statistics of one GPU or of the fleet.

use super::metrics::Sample;
use super::thresholds::{HOT_DAY_MIN_SHARE_PCT, HOT_UTIL_PCT};
use inferplan_catalog::stats::{lower_median_sorted, mean, nearest_rank};
use serde::Serialize;
use std::collections::BTreeMap;

/// Where the framebuffer total of a GPU's memory percentages came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TotalSource {
    /// The `fb_total_mib` column or `DCGM_FI_DEV_FB_TOTAL`.
    Reported,
    /// `fb_used_mib + fb_free_mib` (`DCGM_FI_DEV_FB_USED + DCGM_FI_DEV_FB_FREE`).
    UsedPlusFree,
    /// [`Options::fb_total_mib`](super::Options::fb_total_mib) (the catalog).
    Fallback,
}

/// Utilisation and memory statistics of one GPU or of the whole fleet.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Stats {
    /// Length of the window: last − first timestamp + one sampling interval, seconds.
    pub window_s: f64,
    /// First timestamp, unix seconds.
    pub start_unix_s: Option<f64>,
    /// Last timestamp, unix seconds.
    pub end_unix_s: Option<f64>,
    /// Median interval between samples, seconds (over the fleet: the median of the GPUs').
    pub interval_s: Option<f64>,
    /// Samples with a utilisation value.
    pub util_samples: usize,
    /// Samples with a memory percentage (framebuffer used and a total).
    pub mem_samples: usize,
    /// Mean utilisation of the samples, %.
    pub avg_util_pct: Option<f64>,
    /// 95th percentile utilisation (nearest rank), %.
    pub p95_util_pct: Option<f64>,
    /// Highest utilisation, %.
    pub max_util_pct: Option<f64>,
    /// Share of the utilisation samples above 80 %, %.
    pub share_above_80_pct: Option<f64>,
    /// UTC calendar days with utilisation samples.
    pub days: usize,
    /// Days on which more than 5 % of the samples were above 80 %.
    pub hot_days: usize,
    /// Mean framebuffer use, % of the total.
    pub avg_mem_pct: Option<f64>,
    /// 95th percentile framebuffer use (nearest rank), % of the total.
    pub p95_mem_pct: Option<f64>,
    /// Highest framebuffer use, % of the total.
    pub max_mem_pct: Option<f64>,
    /// Lowest framebuffer use, % of the total.
    pub min_mem_pct: Option<f64>,
    /// Mean framebuffer used, MiB.
    pub avg_fb_used_mib: Option<f64>,
    /// Highest framebuffer used, MiB.
    pub max_fb_used_mib: Option<f64>,
    /// Largest framebuffer total seen, MiB.
    pub fb_total_mib: Option<f64>,
    /// Where most of the totals came from.
    pub fb_total_source: Option<TotalSource>,
}

/// Median of the finite intervals (between samples, or the GPUs' over the fleet): the lower
/// median, so that the interval is one that was observed.
pub(super) fn median_interval(mut v: Vec<f64>) -> Option<f64> {
    v.retain(|x| x.is_finite());
    v.sort_by(f64::total_cmp);
    lower_median_sorted(&v)
}

pub(super) fn positive(v: Option<f64>) -> Option<f64> {
    v.filter(|x| x.is_finite() && *x > 0.0)
}

pub(super) fn compute(samples: &[&Sample], fallback: Option<f64>, interval: Option<f64>) -> Stats {
    let mut ts: Vec<f64> = samples.iter().map(|s| s.timestamp_s).collect();
    ts.sort_by(f64::total_cmp);
    ts.dedup();
    let interval =
        interval.or_else(|| median_interval(ts.windows(2).map(|w| w[1] - w[0]).collect()));
    let (start, end) = (ts.first().copied(), ts.last().copied());
    let window_s = match (start, end) {
        (Some(a), Some(b)) => b - a + interval.unwrap_or(0.0),
        _ => 0.0,
    };

    let mut util = Vec::new();
    let mut days: BTreeMap<i64, (usize, usize)> = BTreeMap::new();
    let mut mem = Vec::new();
    let mut used = Vec::new();
    let mut totals: BTreeMap<TotalSource, usize> = BTreeMap::new();
    let mut max_total: Option<f64> = None;
    for s in samples {
        if let Some(u) = s.util_pct.filter(|u| u.is_finite() && *u >= 0.0) {
            util.push(u);
            let day = days
                .entry((s.timestamp_s / 86_400.0).floor() as i64)
                .or_default();
            day.0 += 1;
            if u > HOT_UTIL_PCT {
                day.1 += 1;
            }
        }
        let Some(u) = s.fb_used_mib.filter(|u| u.is_finite() && *u >= 0.0) else {
            continue;
        };
        used.push(u);
        let free_total = s
            .fb_free_mib
            .filter(|f| f.is_finite() && *f >= 0.0)
            .map(|f| u + f);
        let total = positive(s.fb_total_mib)
            .map(|t| (t, TotalSource::Reported))
            .or_else(|| positive(free_total).map(|t| (t, TotalSource::UsedPlusFree)))
            .or_else(|| fallback.map(|t| (t, TotalSource::Fallback)));
        if let Some((t, src)) = total {
            mem.push(u / t * 100.0);
            *totals.entry(src).or_default() += 1;
            max_total = Some(max_total.map_or(t, |m: f64| m.max(t)));
        }
    }
    let share = (!util.is_empty()).then(|| {
        util.iter().filter(|&&u| u > HOT_UTIL_PCT).count() as f64 * 100.0 / util.len() as f64
    });
    let hot_days = days
        .values()
        .filter(|(n, hot)| *hot as f64 * 100.0 > *n as f64 * HOT_DAY_MIN_SHARE_PCT)
        .count();
    let (avg_util, avg_mem, avg_used) = (mean(&util), mean(&mem), mean(&used));
    util.sort_by(f64::total_cmp);
    mem.sort_by(f64::total_cmp);
    used.sort_by(f64::total_cmp);
    Stats {
        window_s,
        start_unix_s: start,
        end_unix_s: end,
        interval_s: interval,
        util_samples: util.len(),
        mem_samples: mem.len(),
        avg_util_pct: avg_util,
        p95_util_pct: nearest_rank(&util, 0.95),
        max_util_pct: util.last().copied(),
        share_above_80_pct: share,
        days: days.len(),
        hot_days,
        avg_mem_pct: avg_mem,
        p95_mem_pct: nearest_rank(&mem, 0.95),
        max_mem_pct: mem.last().copied(),
        min_mem_pct: mem.first().copied(),
        avg_fb_used_mib: avg_used,
        max_fb_used_mib: used.last().copied(),
        fb_total_mib: max_total,
        fb_total_source: totals
            .iter()
            .max_by_key(|(src, n)| (**n, std::cmp::Reverse(**src)))
            .map(|(src, _)| *src),
    }
}
