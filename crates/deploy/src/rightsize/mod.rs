//! Rightsizing from GPU metrics (`inferplan rightsize`): read utilisation and framebuffer
//! samples (a CSV export or Prometheus range queries of DCGM metrics), summarise them per GPU
//! and over the fleet, judge them by the practitioners' thresholds, and, given the model and
//! the traffic, pick the cheaper or the safer deployment from [`inferplan_plan::plan`].
//!
//! ```text
//! read_file / read_files / parse ──► Metrics { samples, sources }
//!                                        │ analyze (Options: fallback framebuffer size)
//!                                        ▼
//!                                      Report { window_s, avg/p95/max util and memory, gpus[], verdicts[] }
//!                                        │ suggest (Workload, plan Inputs, current $/h)
//!                                        ▼
//!                                      Suggestion { action, candidate, saving, reason }
//! ```
//!
//! The thresholds, their sources and the report fields are documented in `docs/rightsize.md`.
//! The practitioner articles cited are in `../shared/reference/articles/`: B is
//! `001_4ea85242b943520f.txt` (G7e decision record: alert levels), C is
//! `003_fa54cd130345dd47.txt` (AI infrastructure on AWS: "Right-Sizing Inference Instances").
//!
//! Modules: `metrics` (the samples and their joining), the readers `csv_reader` (with
//! `timestamp`) and `prometheus`, `statistics`, `thresholds`, `verdict`, `analysis`
//! ([`analyze`], [`Report`]), `suggestion` ([`suggest`]) and `error`; this file holds the
//! entry points [`read_file`], [`read_files`] and [`parse`].

mod analysis;
mod csv_reader;
mod error;
mod metrics;
mod prometheus;
mod statistics;
mod suggestion;
mod thresholds;
mod timestamp;
mod verdict;

pub use analysis::{analyze, catalog_fb_total_mib, GpuReport, Options, Report};
pub use csv_reader::read_csv;
pub use error::RightsizeError;
pub use metrics::{Format, Metrics, Sample, Source, UtilUnit};
pub use prometheus::read_prometheus;
pub use statistics::{Stats, TotalSource};
pub use suggestion::{suggest, suggest_from_plan, Action, Current, MeasuredSizing, Suggestion};
pub use thresholds::{
    Thresholds, FLAT_MEMORY_PCT, FULL_WINDOW_S, HOT_DAY_MIN_SHARE_PCT, HOT_UTIL_PCT,
    IMBALANCE_SPREAD_PCT, MEMORY_RISK_PCT, OVER_AVG_UTIL_PCT, PREALLOCATED_MAX_PCT,
    SAFE_SLO_HEADROOM, TARGET_UTIL_PCT, UNDER_HOT_DAYS_PCT, UNDER_MIN_DAYS, UNDER_MIN_SHARE_PCT,
};
pub use verdict::{Verdict, VerdictCode};

use error::input_error;
use inferplan_plan::error::shown;
use metrics::above_total;
use std::path::Path;

/// Reads one metrics file, CSV or Prometheus JSON (see [`parse`]).
pub fn read_file(path: &Path, unit: UtilUnit) -> Result<Metrics, RightsizeError> {
    let bytes = std::fs::read(path).map_err(|error| RightsizeError::Io {
        path: path.to_owned(),
        error,
    })?;
    let origin = path.display().to_string();
    let text = String::from_utf8(bytes).map_err(|e| {
        let valid = &e.as_bytes()[..e.utf8_error().valid_up_to()];
        let line = valid.iter().filter(|&&b| b == b'\n').count() as u64 + 1;
        input_error(&origin, Some(line), None, "not UTF-8 text")
    })?;
    parse(&origin, &text, unit)
}

/// Reads several metrics files and joins them (a CSV per host, or one Prometheus export per
/// metric). At least one path is needed.
pub fn read_files<P: AsRef<Path>>(paths: &[P], unit: UtilUnit) -> Result<Metrics, RightsizeError> {
    let parts = paths
        .iter()
        .map(|p| read_file(p.as_ref(), unit))
        .collect::<Result<Vec<_>, _>>()?;
    join(parts)
}

/// [`read_files`] of files already read: `(origin, text)` each.
pub fn parse_files(files: &[(String, String)], unit: UtilUnit) -> Result<Metrics, RightsizeError> {
    let parts = files
        .iter()
        .map(|(origin, text)| parse(origin, text, unit))
        .collect::<Result<Vec<_>, _>>()?;
    join(parts)
}

/// The metrics of several files joined, checked across files.
fn join(parts: Vec<Metrics>) -> Result<Metrics, RightsizeError> {
    let mut out = Metrics::default();
    for m in parts {
        out.merge(m);
    }
    // Each file is checked on its own; this catches a total and a use from different files.
    for s in &out.samples {
        if let Some((field, v)) = above_total(s.fb_used_mib, s.fb_free_mib, s.fb_total_mib) {
            let files: Vec<&str> = out.sources.iter().map(|f| f.file.as_str()).collect();
            return Err(input_error(
                &files.join(", "),
                None,
                Some(field),
                format!(
                    "{v} MiB is above the framebuffer total {} MiB of {}/{} at unix time {} s",
                    s.fb_total_mib.unwrap_or_default(),
                    shown(&s.instance),
                    shown(&s.gpu),
                    s.timestamp_s
                ),
            ));
        }
    }
    Ok(out)
}

/// Reads metrics from text: Prometheus JSON when the first character (after a byte-order
/// mark and white space) is `{` or `[`, CSV otherwise. `origin` names the file in errors.
pub fn parse(origin: &str, text: &str, unit: UtilUnit) -> Result<Metrics, RightsizeError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    match text.trim_start().chars().next() {
        Some('{' | '[') => read_prometheus(origin, text, unit),
        _ => read_csv(origin, text, unit),
    }
}
