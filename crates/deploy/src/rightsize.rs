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

use inferplan_catalog::table::duplicate_column;
use inferplan_catalog::Catalog;
use inferplan_plan::error::shown;
use inferplan_plan::search::{plan, Inputs, Plan};
use inferplan_plan::trace::{days_from_civil, days_in_month};
use inferplan_plan::{Candidate, PlanError, Workload};
use serde::de::IgnoredAny;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

// ---------------------------------------------------------------------------------------------
// Thresholds

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

/// The thresholds the analysis used, echoed in every [`Report`].
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

// ---------------------------------------------------------------------------------------------
// Errors

/// An error of the rightsizing readers or of the planner run behind [`suggest`]. Input errors
/// render as one line naming the file and the line or field, for example
/// ``metrics.csv:7: field `gpu_util`: `abc` is not a number``.
#[derive(Debug, thiserror::Error)]
pub enum RightsizeError {
    /// A file could not be read.
    #[error("{}: {error}", .path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// What the operating system said.
        error: std::io::Error,
    },
    /// A metrics file is malformed.
    #[error("{}", located(.origin, *.line, .field.as_deref(), .message))]
    Input {
        /// The file name.
        origin: String,
        /// 1-based line, when known.
        line: Option<u64>,
        /// The CSV column or the JSON path (`data.result[2].values[17]`), when known.
        field: Option<String>,
        /// What is wrong.
        message: String,
    },
    /// The planner refused the workload (unknown model, bad field).
    #[error(transparent)]
    Plan(#[from] PlanError),
    /// A catalog lookup failed (unknown instance or GPU, with suggestions).
    #[error(transparent)]
    Catalog(#[from] inferplan_catalog::CatalogError),
}

fn located(origin: &str, line: Option<u64>, field: Option<&str>, message: &str) -> String {
    let mut s = origin.to_owned();
    if let Some(l) = line {
        s.push_str(&format!(":{l}"));
    }
    s.push_str(": ");
    if let Some(f) = field {
        s.push_str(&format!("field `{f}`: "));
    }
    s.push_str(message);
    s
}

fn input_error(
    origin: &str,
    line: Option<u64>,
    field: Option<&str>,
    message: impl Into<String>,
) -> RightsizeError {
    RightsizeError::Input {
        origin: origin.to_owned(),
        line,
        field: field.map(str::to_owned),
        message: message.into(),
    }
}

// ---------------------------------------------------------------------------------------------
// Inputs

/// How `gpu_util` values are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum UtilUnit {
    /// Detect: CSV values are a fraction when every value is at most 1 and at least one has
    /// a fractional part, percent otherwise; Prometheus values are percent (DCGM's unit).
    #[default]
    Auto,
    /// 0–100.
    Percent,
    /// 0–1, converted to percent.
    Fraction,
}

impl UtilUnit {
    /// The name used in files and flags: `auto`, `percent` or `fraction`.
    pub fn as_str(self) -> &'static str {
        match self {
            UtilUnit::Auto => "auto",
            UtilUnit::Percent => "percent",
            UtilUnit::Fraction => "fraction",
        }
    }
}

impl fmt::Display for UtilUnit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for UtilUnit {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "auto" => Ok(UtilUnit::Auto),
            "percent" | "pct" | "%" => Ok(UtilUnit::Percent),
            "fraction" | "ratio" => Ok(UtilUnit::Fraction),
            other => Err(format!(
                "unknown utilisation unit `{}`; expected `auto`, `percent` or `fraction`",
                shown(other)
            )),
        }
    }
}

/// The format of a metrics file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Format {
    /// `timestamp,instance,gpu,gpu_util,fb_used_mib[,fb_total_mib][,fb_free_mib]`.
    Csv,
    /// A Prometheus HTTP API range-query response (or a JSON array of them).
    Prometheus,
}

/// One GPU at one moment. Readers fill what their file has; samples of the same GPU and
/// timestamp from several series or files are joined into one.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Sample {
    /// Seconds since 1970-01-01 UTC.
    pub timestamp_s: f64,
    /// Host: the CSV `instance` column, or the `Hostname` (else `instance`) label.
    pub instance: String,
    /// GPU on the host: the CSV `gpu` column, or the `gpu` (else `UUID`, `device`) label.
    pub gpu: String,
    /// Utilisation, % (0–100).
    pub util_pct: Option<f64>,
    /// Framebuffer used, MiB.
    pub fb_used_mib: Option<f64>,
    /// Framebuffer free, MiB.
    pub fb_free_mib: Option<f64>,
    /// Framebuffer total, MiB.
    pub fb_total_mib: Option<f64>,
}

/// What was read from one file.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Source {
    /// The file name.
    pub file: String,
    /// Its format.
    pub format: Format,
    /// CSV data rows, or Prometheus points of the series used.
    pub records: usize,
    /// Distinct GPUs (host and GPU) in the file.
    pub gpus: usize,
    /// Empty or `NaN` values (CSV cells; Prometheus `NaN` and `±Inf` points), left out.
    pub missing: usize,
    /// Columns (CSV) or metric names (Prometheus) that were not used.
    pub ignored: Vec<String>,
    /// The unit the `gpu_util` values were read in (`percent` or `fraction`); `None` when
    /// the file has no utilisation values.
    pub util_unit: Option<UtilUnit>,
    /// How the unit was chosen, when it was detected from values that could be either.
    pub util_unit_note: Option<String>,
}

/// Samples from one or more files, joined by GPU and timestamp and sorted.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Metrics {
    /// The samples, sorted by host, GPU and time.
    pub samples: Vec<Sample>,
    /// One entry per file read.
    pub sources: Vec<Source>,
}

impl Metrics {
    /// Adds the samples and sources of `other`, joining samples of the same GPU and
    /// timestamp (to the millisecond); where both have a value, the first read wins.
    pub fn merge(&mut self, other: Metrics) {
        let mut all = std::mem::take(&mut self.samples);
        all.extend(other.samples);
        self.samples = join(all);
        self.sources.extend(other.sources);
    }

    /// Checks a framebuffer size from the catalog ([`catalog_fb_total_mib`]) against the
    /// samples it would apply to (those with neither a total nor a free value): a GPU that
    /// uses more than it means the metrics come from another GPU, an error naming `given`
    /// (the flag and value the size came from, e.g. `--instance g6.xlarge`).
    pub fn check_fallback(
        &self,
        fb_total_mib: Option<f64>,
        given: &str,
    ) -> Result<(), RightsizeError> {
        let Some(total) = fb_total_mib else {
            return Ok(());
        };
        let over = self
            .samples
            .iter()
            .filter(|s| s.fb_total_mib.is_none() && s.fb_free_mib.is_none())
            .filter_map(|s| Some((s, s.fb_used_mib.filter(|u| *u > total)?)))
            .max_by(|a, b| a.1.total_cmp(&b.1));
        match over {
            None => Ok(()),
            Some((s, used)) => Err(input_error(
                given,
                None,
                None,
                format!(
                    "its GPU has {total} MiB, but fb_used_mib reaches {used} MiB on {}/{}: the \
                     metrics come from another GPU; name the instance type or GPU they were \
                     taken on",
                    shown(&s.instance),
                    shown(&s.gpu)
                ),
            )),
        }
    }

    /// [`analyze`] these samples, with the sources echoed in the report.
    pub fn analyze(&self, options: &Options) -> Report {
        let mut r = analyze(&self.samples, options);
        r.sources = self.sources.clone();
        r
    }
}

/// Joins samples of the same host, GPU and millisecond, field by field (first value wins),
/// and sorts them.
fn join(mut samples: Vec<Sample>) -> Vec<Sample> {
    let ms = |s: &Sample| millis(s.timestamp_s);
    // A stable sort keeps the samples read first ahead of later ones with the same key.
    samples.sort_by(|a, b| {
        a.instance
            .cmp(&b.instance)
            .then_with(|| a.gpu.cmp(&b.gpu))
            .then_with(|| ms(a).cmp(&ms(b)))
    });
    let mut out: Vec<Sample> = Vec::with_capacity(samples.len());
    for s in samples {
        match out.last_mut() {
            Some(a) if a.instance == s.instance && a.gpu == s.gpu && ms(a) == ms(&s) => {
                a.util_pct = a.util_pct.or(s.util_pct);
                a.fb_used_mib = a.fb_used_mib.or(s.fb_used_mib);
                a.fb_free_mib = a.fb_free_mib.or(s.fb_free_mib);
                a.fb_total_mib = a.fb_total_mib.or(s.fb_total_mib);
            }
            _ => out.push(s),
        }
    }
    out
}

/// A timestamp to the millisecond: the key samples are joined on.
fn millis(timestamp_s: f64) -> i64 {
    (timestamp_s * 1000.0).round() as i64
}

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
    let mut out = Metrics::default();
    for p in paths {
        out.merge(read_file(p.as_ref(), unit)?);
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

// ---------------------------------------------------------------------------------------------
// CSV

const REQUIRED: [&str; 5] = ["timestamp", "instance", "gpu", "gpu_util", "fb_used_mib"];

/// Reads the CSV format: a header with `timestamp,instance,gpu,gpu_util,fb_used_mib` (any
/// order, any case) and optionally `fb_total_mib` and `fb_free_mib`; other columns are ignored.
/// Timestamps are RFC 3339 (without an offset: UTC) or unix seconds. Empty or `NaN` values are
/// missing. `unit` says how `gpu_util` is written ([`UtilUnit::Auto`] detects it by the values).
pub fn read_csv(origin: &str, text: &str, unit: UtilUnit) -> Result<Metrics, RightsizeError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut rdr = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let header = rdr.headers().map_err(|e| csv_error(origin, &e))?.clone();
    let names: Vec<&str> = header.iter().collect();
    if let Some(d) = duplicate_column(&names, true) {
        return Err(input_error(origin, Some(1), None, d.to_string()));
    }
    let col = |name: &str| header.iter().position(|h| h.eq_ignore_ascii_case(name));
    let mut idx = [0usize; 5];
    for (i, name) in REQUIRED.iter().enumerate() {
        idx[i] = col(name).ok_or_else(|| {
            let found: Vec<String> = header.iter().take(6).map(shown).collect();
            input_error(
                origin,
                Some(1),
                Some(name),
                format!(
                    "missing column; the header needs {} (found `{}`)",
                    REQUIRED.join(","),
                    found.join(",")
                ),
            )
        })?;
    }
    let total_col = col("fb_total_mib");
    let free_col = col("fb_free_mib");
    let used: BTreeSet<usize> = idx
        .iter()
        .copied()
        .chain(total_col)
        .chain(free_col)
        .collect();
    let ignored = header
        .iter()
        .enumerate()
        .filter(|(i, _)| !used.contains(i))
        .map(|(_, h)| shown(h))
        .collect();

    let mut samples = Vec::new();
    let mut util_lines = Vec::new();
    let mut missing = 0;
    for rec in rdr.records() {
        let rec = rec.map_err(|e| csv_error(origin, &e))?;
        let line = rec.position().map(|p| p.line());
        let cell = |i: usize| rec.get(i).unwrap_or("");
        let bad = |field: &str, m: String| input_error(origin, line, Some(field), m);
        let timestamp_s = parse_timestamp(cell(idx[0])).map_err(|m| bad("timestamp", m))?;
        let mut number = |field: &'static str, i: usize| -> Result<Option<f64>, RightsizeError> {
            let v = cell_number(cell(i)).map_err(|m| bad(field, m))?;
            if v.is_none() {
                missing += 1;
            }
            Ok(v)
        };
        let util = number("gpu_util", idx[3])?;
        let fb_used = number("fb_used_mib", idx[4])?;
        let fb_total = match total_col {
            Some(i) => number("fb_total_mib", i)?,
            None => None,
        };
        let fb_free = match free_col {
            Some(i) => number("fb_free_mib", i)?,
            None => None,
        };
        if let Some(u) = util {
            if !(0.0..=100.0).contains(&u) {
                return Err(bad(
                    "gpu_util",
                    format!("{u} is outside 0–100 (percent) and 0–1 (fraction)"),
                ));
            }
            util_lines.push((u, line));
        }
        for (field, v, positive) in [
            ("fb_used_mib", fb_used, false),
            ("fb_free_mib", fb_free, false),
            ("fb_total_mib", fb_total, true),
        ] {
            if let Some(v) = v {
                if v < 0.0 || (positive && v == 0.0) {
                    return Err(bad(
                        field,
                        format!(
                            "{v} MiB: must be {}",
                            if positive { "positive" } else { "≥ 0" }
                        ),
                    ));
                }
            }
        }
        if let (Some(total), Some((field, v))) = (fb_total, above_total(fb_used, fb_free, fb_total))
        {
            return Err(bad(
                field,
                format!("{v} MiB is above fb_total_mib {total} MiB"),
            ));
        }
        samples.push(Sample {
            timestamp_s,
            instance: cell(idx[1]).to_owned(),
            gpu: cell(idx[2]).to_owned(),
            util_pct: util,
            fb_used_mib: fb_used,
            fb_free_mib: fb_free,
            fb_total_mib: fb_total,
        });
    }
    if samples.is_empty() {
        return Err(input_error(
            origin,
            Some(2),
            None,
            "no data rows after the header",
        ));
    }
    let (applied, note) = util_unit(unit, util_lines.iter().map(|&(u, _)| u));
    if applied == Some(UtilUnit::Fraction) {
        if let Some(&(u, line)) = util_lines.iter().find(|&&(u, _)| u > 1.0) {
            return Err(input_error(
                origin,
                line,
                Some("gpu_util"),
                format!("{u} is above 1, but the values were declared a fraction (0–1)"),
            ));
        }
        for s in &mut samples {
            s.util_pct = s.util_pct.map(|u| u * 100.0);
        }
    }
    let records = samples.len();
    let samples = join(samples);
    Ok(Metrics {
        sources: vec![Source {
            file: origin.to_owned(),
            format: Format::Csv,
            records,
            gpus: count_gpus(&samples),
            missing,
            ignored,
            util_unit: applied,
            util_unit_note: note,
        }],
        samples,
    })
}

/// The framebuffer value (`fb_used_mib` or `fb_free_mib`) that exceeds the total, when one
/// does: such a sample comes from another GPU or a broken exporter.
fn above_total(
    used: Option<f64>,
    free: Option<f64>,
    total: Option<f64>,
) -> Option<(&'static str, f64)> {
    let total = total?;
    [("fb_used_mib", used), ("fb_free_mib", free)]
        .into_iter()
        .find_map(|(field, v)| v.filter(|v| *v > total).map(|v| (field, v)))
}

fn csv_error(origin: &str, e: &csv::Error) -> RightsizeError {
    let line = e.position().map(|p| p.line());
    let message = match e.kind() {
        csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => format!("{len} fields where the header has {expected_len}"),
        csv::ErrorKind::Utf8 { .. } => "not UTF-8 text".to_owned(),
        _ => e.to_string().replace(['\n', '\r'], " "),
    };
    input_error(origin, line, None, message)
}

/// A numeric cell: `None` when empty or `NaN`; an error when not a finite number.
fn cell_number(cell: &str) -> Result<Option<f64>, String> {
    if cell.is_empty() || cell.eq_ignore_ascii_case("nan") {
        return Ok(None);
    }
    let v: f64 = cell
        .parse()
        .map_err(|_| format!("`{}` is not a number", shown(cell)))?;
    if !v.is_finite() {
        return Err(format!("`{}` is not a finite number", shown(cell)));
    }
    Ok(Some(v))
}

/// The unit applied to utilisation values, and a note when it was detected from values that
/// could be read either way.
fn util_unit(
    unit: UtilUnit,
    values: impl Iterator<Item = f64>,
) -> (Option<UtilUnit>, Option<String>) {
    let mut max = f64::NEG_INFINITY;
    let mut fractional = false;
    let mut any = false;
    for v in values {
        any = true;
        max = max.max(v);
        fractional |= v.fract() != 0.0;
    }
    if !any {
        return (None, None);
    }
    match unit {
        UtilUnit::Percent | UtilUnit::Fraction => (Some(unit), None),
        UtilUnit::Auto if max > 1.0 => (Some(UtilUnit::Percent), None),
        UtilUnit::Auto if fractional => (
            Some(UtilUnit::Fraction),
            Some(format!(
                "gpu_util read as a fraction (0–1) and converted to percent: every value is at \
                 most 1 (largest {max}) and some have decimals; give the unit `percent` if they \
                 are percentages"
            )),
        ),
        UtilUnit::Auto => (
            Some(UtilUnit::Percent),
            Some(
                "gpu_util read as percent: every value is 0 or 1, which could also be a \
                 fraction; give the unit `fraction` if it is"
                    .to_owned(),
            ),
        ),
    }
}

fn count_gpus(samples: &[Sample]) -> usize {
    samples
        .iter()
        .map(|s| (s.instance.as_str(), s.gpu.as_str()))
        .collect::<BTreeSet<_>>()
        .len()
}

// ---------------------------------------------------------------------------------------------
// Timestamps

/// Unix seconds (≥ 0) or RFC 3339 (`2024-05-01T10:00:00Z`, `…+02:00`, `…` with a space for the
/// `T`, fractional seconds; without an offset, UTC) as seconds since 1970.
fn parse_timestamp(cell: &str) -> Result<f64, String> {
    if cell.is_empty() {
        return Err("empty; expected RFC 3339 or unix seconds".to_owned());
    }
    if let Ok(v) = cell.parse::<f64>() {
        if !v.is_finite() || v < 0.0 {
            return Err(format!(
                "`{}` is not a time: unix seconds must be finite and ≥ 0",
                shown(cell)
            ));
        }
        if v > 1e11 {
            return Err(format!(
                "`{}` looks like milliseconds since 1970; give seconds",
                shown(cell)
            ));
        }
        return Ok(v);
    }
    parse_rfc3339(cell.as_bytes())
        .filter(|t| *t >= 0.0)
        .ok_or_else(|| {
            format!(
                "`{}` is not RFC 3339 (`2024-05-01T10:00:00Z`) or unix seconds",
                shown(cell)
            )
        })
}

fn parse_rfc3339(b: &[u8]) -> Option<f64> {
    fn digits(b: &[u8]) -> Option<i64> {
        if b.is_empty() || b.len() > 9 || !b.iter().all(u8::is_ascii_digit) {
            return None;
        }
        Some(b.iter().fold(0i64, |n, d| n * 10 + i64::from(d - b'0')))
    }
    let sep = |i: usize, c: &[u8]| b.get(i).is_some_and(|x| c.contains(x));
    if !(sep(4, b"-") && sep(7, b"-") && sep(10, b"Tt ") && sep(13, b":") && sep(16, b":")) {
        return None;
    }
    let (year, month, day) = (
        digits(b.get(0..4)?)?,
        digits(b.get(5..7)?)?,
        digits(b.get(8..10)?)?,
    );
    let (hour, minute, second) = (
        digits(b.get(11..13)?)?,
        digits(b.get(14..16)?)?,
        digits(b.get(17..19)?)?,
    );
    if !(1..=12).contains(&month)
        || day < 1
        || day > days_in_month(year, month)
        || hour > 23
        || minute > 59
        || second > 60
    {
        return None;
    }
    let mut rest = b.get(19..)?;
    let mut frac = 0.0;
    if let [b'.', tail @ ..] = rest {
        let n = tail.iter().take_while(|c| c.is_ascii_digit()).count();
        if n == 0 {
            return None;
        }
        let mut scale = 0.1;
        for &d in &tail[..n] {
            frac += f64::from(d - b'0') * scale;
            scale /= 10.0;
        }
        rest = &tail[n..];
    }
    let offset_s = match rest {
        [] | [b'Z' | b'z'] => 0,
        [sign @ (b'+' | b'-'), h1, h2, b':', m1, m2] => {
            let h = digits(&[*h1, *h2])?;
            let m = digits(&[*m1, *m2])?;
            if h > 23 || m > 59 {
                return None;
            }
            let s = (h * 60 + m) * 60;
            if *sign == b'+' {
                s
            } else {
                -s
            }
        }
        _ => return None,
    };
    let days = days_from_civil(year, month, day);
    let secs = ((days * 24 + hour) * 60 + minute) * 60 + second - offset_s;
    Some(secs as f64 + frac)
}

// ---------------------------------------------------------------------------------------------
// Prometheus

/// DCGM metrics read from Prometheus, and the sample field each fills.
const DCGM_UTIL: &str = "DCGM_FI_DEV_GPU_UTIL";
const DCGM_USED: &str = "DCGM_FI_DEV_FB_USED";
const DCGM_FREE: &str = "DCGM_FI_DEV_FB_FREE";
const DCGM_TOTAL: &str = "DCGM_FI_DEV_FB_TOTAL";

#[derive(Deserialize)]
struct Head {
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    data: Option<HeadData>,
    #[serde(default, rename = "errorType")]
    error_type: Option<String>,
    #[serde(default)]
    error: Option<String>,
}

#[derive(Deserialize)]
struct HeadData {
    #[serde(default, rename = "resultType")]
    result_type: Option<String>,
    #[serde(default)]
    #[allow(dead_code)]
    result: IgnoredAny,
}

#[derive(Deserialize)]
struct Response {
    #[serde(default)]
    data: Option<Data>,
}

#[derive(Deserialize)]
struct Data {
    #[serde(default)]
    result: Vec<Series>,
}

#[derive(Deserialize)]
struct Series {
    #[serde(default)]
    metric: BTreeMap<String, String>,
    #[serde(default)]
    values: Vec<(Num, Num)>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Num {
    F(f64),
    S(String),
}

impl Num {
    /// The number, `Ok(None)` for `NaN` and `±Inf` (how Prometheus writes gaps), or the text
    /// that is not a number.
    fn value(&self) -> Result<Option<f64>, String> {
        let v = match self {
            Num::F(v) => *v,
            Num::S(s) => s
                .trim()
                .parse::<f64>()
                .map_err(|_| format!("`{}` is not a number", shown(s)))?,
        };
        Ok(v.is_finite().then_some(v))
    }
}

fn json_error(origin: &str, e: &serde_json::Error) -> RightsizeError {
    let mut message = e.to_string();
    if let Some(i) = message.rfind(" at line ") {
        message.truncate(i);
    }
    let line = (e.line() > 0).then_some(e.line() as u64);
    if e.column() > 0 {
        message.push_str(&format!(" (column {})", e.column()));
    }
    input_error(origin, line, None, message.replace(['\n', '\r'], " "))
}

/// Reads a Prometheus HTTP API response to a range query (`/api/v1/query_range`,
/// `resultType` `matrix`), or a JSON array of such responses. Series of
/// `DCGM_FI_DEV_GPU_UTIL` (percent), `DCGM_FI_DEV_FB_USED`, `DCGM_FI_DEV_FB_FREE` and
/// `DCGM_FI_DEV_FB_TOTAL` (MiB) are read, by their `__name__` label; others are ignored. The
/// host is the `Hostname` label (else `instance`), the GPU the `gpu` label (else `UUID`,
/// `device`). `NaN` and `±Inf` points are gaps. [`UtilUnit::Auto`] reads percent.
pub fn read_prometheus(
    origin: &str,
    text: &str,
    unit: UtilUnit,
) -> Result<Metrics, RightsizeError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let array = text.trim_start().starts_with('[');
    let heads: Vec<Head> = if array {
        serde_json::from_str(text).map_err(|e| json_error(origin, &e))?
    } else {
        vec![serde_json::from_str(text).map_err(|e| json_error(origin, &e))?]
    };
    if heads.is_empty() {
        return Err(input_error(
            origin,
            None,
            None,
            "an empty JSON array; expected Prometheus query_range responses",
        ));
    }
    for (k, h) in heads.iter().enumerate() {
        let prefix = if array {
            format!("[{k}].")
        } else {
            String::new()
        };
        let field = |f: &str| format!("{prefix}{f}");
        match h.status.as_deref() {
            Some("success") => {}
            Some("error") => {
                return Err(input_error(
                    origin,
                    None,
                    Some(&field("status")),
                    format!(
                        "the query failed: {}: {}",
                        shown(h.error_type.as_deref().unwrap_or("error")),
                        shown(h.error.as_deref().unwrap_or("no message"))
                    ),
                ))
            }
            Some(other) => {
                return Err(input_error(
                    origin,
                    None,
                    Some(&field("status")),
                    format!("`{}`; expected `success`", shown(other)),
                ))
            }
            None => {
                return Err(input_error(
                    origin,
                    None,
                    Some(&field("status")),
                    "missing; expected a Prometheus HTTP API response \
                     ({\"status\":\"success\",\"data\":{...}})",
                ))
            }
        }
        let Some(d) = &h.data else {
            return Err(input_error(origin, None, Some(&field("data")), "missing"));
        };
        match d.result_type.as_deref() {
            Some("matrix") => {}
            Some("vector") => {
                return Err(input_error(
                    origin,
                    None,
                    Some(&field("data.resultType")),
                    "`vector` is the answer of an instant query; export a range query \
                     (/api/v1/query_range with start, end and step)",
                ))
            }
            Some(other) => {
                return Err(input_error(
                    origin,
                    None,
                    Some(&field("data.resultType")),
                    format!("`{}`; expected `matrix` (a range query)", shown(other)),
                ))
            }
            None => {
                return Err(input_error(
                    origin,
                    None,
                    Some(&field("data.resultType")),
                    "missing; expected `matrix`",
                ))
            }
        }
    }
    let responses: Vec<Response> = if array {
        serde_json::from_str(text).map_err(|e| json_error(origin, &e))?
    } else {
        vec![serde_json::from_str(text).map_err(|e| json_error(origin, &e))?]
    };

    let mut samples = Vec::new();
    let mut util_raw: Vec<(f64, String)> = Vec::new();
    let mut ignored = BTreeSet::new();
    let mut records = 0;
    let mut missing = 0;
    let mut series_seen = 0;
    // Where the first framebuffer point of each GPU, millisecond and metric is, for errors.
    let mut fb_points: BTreeMap<(String, String, i64, usize), String> = BTreeMap::new();
    for (k, r) in responses.iter().enumerate() {
        let prefix = if array {
            format!("[{k}].")
        } else {
            String::new()
        };
        let Some(d) = &r.data else { continue };
        for (i, s) in d.result.iter().enumerate() {
            series_seen += 1;
            let path = format!("{prefix}data.result[{i}]");
            let Some(name) = s.metric.get("__name__") else {
                return Err(input_error(
                    origin,
                    None,
                    Some(&format!("{path}.metric.__name__")),
                    "missing: the series has no metric name (a function such as \
                     avg_over_time drops it); query the raw DCGM series, or keep the name \
                     with label_replace(EXPR, \"__name__\", \"DCGM_FI_DEV_GPU_UTIL\", \"\", \"\")",
                ));
            };
            let kind = match name.as_str() {
                DCGM_UTIL => 0,
                DCGM_USED => 1,
                DCGM_FREE => 2,
                DCGM_TOTAL => 3,
                other => {
                    ignored.insert(shown(other));
                    continue;
                }
            };
            let label = |keys: &[&str]| {
                keys.iter()
                    .find_map(|k| s.metric.get(*k))
                    .cloned()
                    .unwrap_or_default()
            };
            let instance = label(&["Hostname", "instance"]);
            let gpu = label(&["gpu", "UUID", "device"]);
            for (j, (t, v)) in s.values.iter().enumerate() {
                records += 1;
                let at = |m: String| {
                    input_error(
                        origin,
                        None,
                        Some(&format!("{path}.values[{j}]")),
                        format!("{m} ({name} of {}/{})", shown(&instance), shown(&gpu)),
                    )
                };
                let ts = match t.value().map_err(at)? {
                    Some(ts) if ts >= 0.0 => ts,
                    _ => return Err(at("the timestamp is not a finite time ≥ 0".to_owned())),
                };
                let Some(v) = v.value().map_err(at)? else {
                    missing += 1;
                    continue;
                };
                let mut sample = Sample {
                    timestamp_s: ts,
                    instance: instance.clone(),
                    gpu: gpu.clone(),
                    util_pct: None,
                    fb_used_mib: None,
                    fb_free_mib: None,
                    fb_total_mib: None,
                };
                match kind {
                    0 => {
                        if !(0.0..=100.0).contains(&v) {
                            return Err(at(format!("utilisation {v} is outside 0–100 %")));
                        }
                        util_raw.push((v, format!("{path}.values[{j}]")));
                        sample.util_pct = Some(v);
                    }
                    _ => {
                        if v < 0.0 || (kind == 3 && v == 0.0) {
                            return Err(at(format!("{v} MiB is not a framebuffer size")));
                        }
                        fb_points
                            .entry((instance.clone(), gpu.clone(), millis(ts), kind))
                            .or_insert_with(|| format!("{path}.values[{j}]"));
                        match kind {
                            1 => sample.fb_used_mib = Some(v),
                            2 => sample.fb_free_mib = Some(v),
                            _ => sample.fb_total_mib = Some(v),
                        }
                    }
                }
                samples.push(sample);
            }
        }
    }
    if samples.is_empty() {
        let message = if series_seen == 0 {
            "`data.result` is empty: the query matched no series".to_owned()
        } else if missing > 0 && ignored.is_empty() {
            "every point of the DCGM series is NaN or infinite".to_owned()
        } else {
            format!(
                "no {DCGM_UTIL}, {DCGM_USED} or {DCGM_FREE} series (found: {})",
                ignored.iter().cloned().collect::<Vec<_>>().join(", ")
            )
        };
        return Err(input_error(origin, None, None, message));
    }
    let applied = match unit {
        UtilUnit::Auto | UtilUnit::Percent => UtilUnit::Percent,
        UtilUnit::Fraction => UtilUnit::Fraction,
    };
    if applied == UtilUnit::Fraction {
        if let Some((v, field)) = util_raw.iter().find(|(v, _)| *v > 1.0) {
            return Err(input_error(
                origin,
                None,
                Some(field),
                format!("{v} is above 1, but the values were declared a fraction (0–1)"),
            ));
        }
        for s in &mut samples {
            s.util_pct = s.util_pct.map(|u| u * 100.0);
        }
    }
    let samples = join(samples);
    for s in &samples {
        if let Some((field, v)) = above_total(s.fb_used_mib, s.fb_free_mib, s.fb_total_mib) {
            let (metric, kind) = if field == "fb_used_mib" {
                (DCGM_USED, 1)
            } else {
                (DCGM_FREE, 2)
            };
            let key = (
                s.instance.clone(),
                s.gpu.clone(),
                millis(s.timestamp_s),
                kind,
            );
            return Err(input_error(
                origin,
                None,
                fb_points.get(&key).map(String::as_str),
                format!(
                    "{v} MiB is above {DCGM_TOTAL} {} MiB at the same time ({metric} of {}/{})",
                    s.fb_total_mib.unwrap_or_default(),
                    shown(&s.instance),
                    shown(&s.gpu)
                ),
            ));
        }
    }
    Ok(Metrics {
        sources: vec![Source {
            file: origin.to_owned(),
            format: Format::Prometheus,
            records,
            gpus: count_gpus(&samples),
            missing,
            ignored: ignored.into_iter().collect(),
            util_unit: (!util_raw.is_empty()).then_some(applied),
            util_unit_note: None,
        }],
        samples,
    })
}

// ---------------------------------------------------------------------------------------------
// Analysis

/// Settings of [`analyze`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Options {
    /// Framebuffer size of one GPU in MiB, for samples with neither a total nor a free value
    /// (from the catalog when the instance type or GPU is known: see
    /// [`catalog_fb_total_mib`]).
    pub fb_total_mib: Option<f64>,
}

/// Where the framebuffer total of a GPU's memory percentages came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TotalSource {
    /// The `fb_total_mib` column or `DCGM_FI_DEV_FB_TOTAL`.
    Reported,
    /// `fb_used_mib + fb_free_mib` (`DCGM_FI_DEV_FB_USED + DCGM_FI_DEV_FB_FREE`).
    UsedPlusFree,
    /// [`Options::fb_total_mib`] (the catalog).
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

/// One GPU's statistics and verdicts.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GpuReport {
    /// Host.
    pub instance: String,
    /// GPU on the host.
    pub gpu: String,
    /// Statistics (flattened into this object in JSON).
    #[serde(flatten)]
    pub stats: Stats,
    /// Verdicts for this GPU.
    pub verdicts: Vec<Verdict>,
}

/// The answer of [`analyze`]: fleet statistics (flattened into the top level in JSON), each
/// GPU's, and the verdicts.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    /// Statistics over every sample of every GPU.
    #[serde(flatten)]
    pub overall: Stats,
    /// Per GPU, sorted by host and GPU.
    pub gpus: Vec<GpuReport>,
    /// Fleet verdicts.
    pub verdicts: Vec<Verdict>,
    /// Framebuffer size assumed where the data had none ([`Options::fb_total_mib`]), MiB.
    pub fb_total_fallback_mib: Option<f64>,
    /// The thresholds used.
    pub thresholds: Thresholds,
    /// The files read (empty when [`analyze`] is called on samples directly).
    pub sources: Vec<Source>,
}

impl Report {
    /// The fleet verdict with this code, if any.
    pub fn verdict(&self, code: VerdictCode) -> Option<&Verdict> {
        self.verdicts.iter().find(|v| v.code == code)
    }

    /// True when the fleet has this verdict.
    pub fn has(&self, code: VerdictCode) -> bool {
        self.verdict(code).is_some()
    }

    /// True when the fleet needs action: over- or under-provisioned, or memory at risk.
    pub fn needs_action(&self) -> bool {
        self.has(VerdictCode::OverProvisioned)
            || self.has(VerdictCode::UnderProvisioned)
            || self.has(VerdictCode::MemoryAtRisk)
    }
}

/// Summarises samples per GPU (host and GPU) and over the fleet, and judges them. Never
/// panics: samples with a non-finite timestamp are left out, as are non-finite or negative
/// values.
pub fn analyze(samples: &[Sample], options: &Options) -> Report {
    let fallback = options.fb_total_mib.filter(|t| t.is_finite() && *t > 0.0);
    let usable: Vec<&Sample> = samples
        .iter()
        .filter(|s| s.timestamp_s.is_finite())
        .collect();
    let mut groups: BTreeMap<(&str, &str), Vec<&Sample>> = BTreeMap::new();
    for s in &usable {
        groups
            .entry((s.instance.as_str(), s.gpu.as_str()))
            .or_default()
            .push(s);
    }
    let gpus: Vec<GpuReport> = groups
        .into_iter()
        .map(|((instance, gpu), ss)| {
            let stats = compute(&ss, fallback, None);
            let verdicts = judge(&stats);
            GpuReport {
                instance: instance.to_owned(),
                gpu: gpu.to_owned(),
                stats,
                verdicts,
            }
        })
        .collect();
    let intervals: Vec<f64> = gpus.iter().filter_map(|g| g.stats.interval_s).collect();
    let overall = compute(&usable, fallback, median(intervals));
    let mut verdicts = judge(&overall);
    let avgs: Vec<(&GpuReport, f64)> = gpus
        .iter()
        .filter_map(|g| g.stats.avg_util_pct.map(|a| (g, a)))
        .collect();
    if avgs.len() >= 2 {
        let lo = avgs.iter().min_by(|a, b| a.1.total_cmp(&b.1));
        let hi = avgs.iter().max_by(|a, b| a.1.total_cmp(&b.1));
        if let (Some(lo), Some(hi)) = (lo, hi) {
            if hi.1 - lo.1 > IMBALANCE_SPREAD_PCT {
                verdicts.push(Verdict {
                    code: VerdictCode::Imbalanced,
                    message: format!(
                        "the GPUs' average utilisation ranges from {} ({}) to {} ({}), more \
                         than {IMBALANCE_SPREAD_PCT:.0} points apart: the load is uneven; fix \
                         the routing or the replica layout before resizing",
                        pct(lo.1),
                        gpu_name(lo.0),
                        pct(hi.1),
                        gpu_name(hi.0)
                    ),
                    provisional: false,
                });
            }
        }
    }
    Report {
        overall,
        gpus,
        verdicts,
        fb_total_fallback_mib: fallback,
        thresholds: Thresholds::default(),
        sources: Vec::new(),
    }
}

fn gpu_name(g: &GpuReport) -> String {
    format!("{}/{}", g.instance, g.gpu)
}

fn pct(v: f64) -> String {
    format!("{v:.1} %")
}

fn duration(s: f64) -> String {
    if s >= 86_400.0 {
        format!("{:.1} days", s / 86_400.0)
    } else if s >= 3_600.0 {
        format!("{:.1} hours", s / 3_600.0)
    } else {
        format!("{:.0} minutes", s / 60.0)
    }
}

fn median(mut v: Vec<f64>) -> Option<f64> {
    v.retain(|x| x.is_finite());
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    Some(v[(v.len() - 1) / 2])
}

/// Nearest rank: the smallest value that at least `p` % of the values do not exceed.
fn percentile(sorted: &[f64], p: f64) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    Some(sorted[rank.clamp(1, sorted.len()) - 1])
}

fn mean(v: &[f64]) -> Option<f64> {
    (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64)
}

fn positive(v: Option<f64>) -> Option<f64> {
    v.filter(|x| x.is_finite() && *x > 0.0)
}

fn compute(samples: &[&Sample], fallback: Option<f64>, interval: Option<f64>) -> Stats {
    let mut ts: Vec<f64> = samples.iter().map(|s| s.timestamp_s).collect();
    ts.sort_by(f64::total_cmp);
    ts.dedup();
    let interval = interval.or_else(|| median(ts.windows(2).map(|w| w[1] - w[0]).collect()));
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
        p95_util_pct: percentile(&util, 95.0),
        max_util_pct: util.last().copied(),
        share_above_80_pct: share,
        days: days.len(),
        hot_days,
        avg_mem_pct: avg_mem,
        p95_mem_pct: percentile(&mem, 95.0),
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

/// True when the daily reading of "regularly above 80 %" holds.
fn hot_on_most_days(s: &Stats) -> bool {
    s.days >= UNDER_MIN_DAYS && s.hot_days as f64 * 100.0 > s.days as f64 * UNDER_HOT_DAYS_PCT
}

fn judge(s: &Stats) -> Vec<Verdict> {
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

/// Framebuffer size of one GPU in MiB from the catalog: the instance type's GPU memory as the
/// cloud reports it (else its GPU's), or the GPU's. `None` when neither is given or the
/// catalog has no figure; an error for an unknown name (with suggestions).
pub fn catalog_fb_total_mib(
    catalog: &Catalog,
    instance: Option<&str>,
    gpu: Option<&str>,
) -> Result<Option<f64>, RightsizeError> {
    if let Some(name) = instance {
        let inst = catalog.instance(name)?;
        if let Some(m) = positive(inst.gpu_mem_mib) {
            return Ok(Some(m));
        }
        if let Some(g) = catalog.instance_gpu(inst).and_then(|g| g.memory_gib()) {
            return Ok(Some(g * 1024.0));
        }
    }
    if let Some(name) = gpu {
        return Ok(catalog.gpu(name)?.memory_gib().map(|g| g * 1024.0));
    }
    Ok(None)
}

// ---------------------------------------------------------------------------------------------
// Suggestion

/// What the suggestion asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Over-provisioned: move to the cheapest deployment that meets the SLOs.
    Cheaper,
    /// Under-provisioned or memory at risk: move to a deployment with SLO headroom.
    Safer,
    /// Right-sized, or nothing cheaper: keep the deployment.
    Keep,
    /// No deployment meets the workload's SLOs.
    NoCandidate,
    /// The metrics have no usable samples.
    NoData,
}

/// The deployment [`suggest`] picks and why.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Suggestion {
    /// What to do.
    pub action: Action,
    /// Why, with the numbers, in a few sentences.
    pub reason: String,
    /// The deployment picked (the planner's cheapest for reference when keeping).
    pub candidate: Option<Candidate>,
    /// 1-based rank of the candidate in the plan (cheapest first).
    pub rank: Option<usize>,
    /// The current cost, when given, $/hour.
    pub current_usd_per_hour: Option<f64>,
    /// Current cost − the candidate's, $/hour (negative: the candidate costs more).
    pub saving_usd_per_hour: Option<f64>,
    /// The saving as a share of the current cost, %.
    pub saving_pct: Option<f64>,
    /// Deployments that meet the SLOs.
    pub candidates: usize,
    /// Configurations the planner considered.
    pub considered: usize,
}

/// Plans `workload` with [`inferplan_plan::plan`] and picks from the answer
/// ([`suggest_from_plan`]). An error when the planner refuses the workload (unknown model).
pub fn suggest(
    report: &Report,
    workload: &Workload,
    inputs: &Inputs<'_>,
    current_usd_per_hour: Option<f64>,
) -> Result<Suggestion, RightsizeError> {
    let p = plan(inputs, workload)?;
    Ok(suggest_from_plan(report, &p, current_usd_per_hour))
}

fn describe(c: &Candidate, rank: usize) -> String {
    let layout = if c.pp > 1 {
        format!("TP{} PP{}", c.tp, c.pp)
    } else {
        format!("TP{}", c.tp)
    };
    format!(
        "#{rank} {} {layout} {} {} ×{} replica{} (${:.2}/h, SLO headroom {:.2})",
        c.instance,
        c.precision,
        c.engine,
        c.replicas,
        if c.replicas == 1 { "" } else { "s" },
        c.usd_per_hour,
        c.slo_headroom
    )
}

/// Picks a deployment from a plan by the report's fleet verdicts:
///
/// - under-provisioned or memory at risk (safety first, even when the average is low): the
///   cheapest candidate with SLO headroom ≥ 1.3, else the one with the most headroom;
/// - over-provisioned: the cheapest candidate, with the saving against the current cost when
///   known (`keep` when it is not cheaper);
/// - right-sized: `keep`, with the planner's cheapest for reference.
///
/// A current cost that is not a positive finite number is ignored.
pub fn suggest_from_plan(
    report: &Report,
    plan: &Plan,
    current_usd_per_hour: Option<f64>,
) -> Suggestion {
    let current = positive(current_usd_per_hour);
    let mut out = Suggestion {
        action: Action::Keep,
        reason: String::new(),
        candidate: None,
        rank: None,
        current_usd_per_hour: current,
        saving_usd_per_hour: None,
        saving_pct: None,
        candidates: plan.candidates.len(),
        considered: plan.considered,
    };
    let o = &report.overall;
    if report.has(VerdictCode::NoData) {
        out.action = Action::NoData;
        out.reason = "the metrics have no usable samples, so there is nothing to judge".to_owned();
        return out;
    }
    if plan.candidates.is_empty() {
        out.action = Action::NoCandidate;
        let reasons: Vec<String> = plan
            .rejected
            .iter()
            .map(|(r, n)| format!("{r}: {n}"))
            .collect();
        out.reason = format!(
            "no deployment of {} meets the workload's SLOs ({} configurations considered; \
             rejected: {}); relax the SLOs or the constraints and plan again",
            plan.model,
            plan.considered,
            reasons.join(", ")
        );
        return out;
    }
    let under = report.verdict(VerdictCode::UnderProvisioned);
    let memory = report.verdict(VerdictCode::MemoryAtRisk);
    let over = report.verdict(VerdictCode::OverProvisioned);
    let provisional = if [under, over].iter().flatten().any(|v| v.provisional) {
        format!(
            " The utilisation verdict is provisional: {} of metrics, the thresholds are for \
             at least 7 days.",
            duration(o.window_s)
        )
    } else {
        String::new()
    };
    let pick = |out: &mut Suggestion, i: usize| {
        let c = &plan.candidates[i];
        out.candidate = Some(c.clone());
        out.rank = Some(i + 1);
        if let Some(cur) = current {
            let saving = cur - c.usd_per_hour;
            out.saving_usd_per_hour = Some(saving);
            out.saving_pct = Some(saving / cur * 100.0);
        }
    };
    let cost_vs_current = |c: &Candidate| match current {
        Some(cur) if c.usd_per_hour < cur => format!(
            ", saving ${:.2}/h ({:.0} %) against the current ${cur:.2}/h",
            cur - c.usd_per_hour,
            (cur - c.usd_per_hour) / cur * 100.0
        ),
        Some(cur) => format!(
            ", ${:.2}/h ({:.0} %) more than the current ${cur:.2}/h",
            c.usd_per_hour - cur,
            (c.usd_per_hour - cur) / cur * 100.0
        ),
        None => String::new(),
    };
    if under.is_some() || memory.is_some() {
        out.action = Action::Safer;
        let mut causes = Vec::new();
        if under.is_some() {
            let share = o.share_above_80_pct.unwrap_or(0.0);
            let mut why = Vec::new();
            if share >= UNDER_MIN_SHARE_PCT {
                why.push(format!("in {} of the samples", pct(share)));
            }
            if hot_on_most_days(o) {
                why.push(format!("on {} of {} days", o.hot_days, o.days));
            }
            causes.push(format!(
                "under-provisioned (above {HOT_UTIL_PCT:.0} % {})",
                why.join(" and ")
            ));
        }
        if memory.is_some() {
            causes.push(format!(
                "memory at risk (framebuffer up to {}, p95 {})",
                pct(o.max_mem_pct.unwrap_or(0.0)),
                pct(o.p95_mem_pct.unwrap_or(0.0))
            ));
        }
        let safe = plan
            .candidates
            .iter()
            .position(|c| c.slo_headroom >= SAFE_SLO_HEADROOM);
        let (i, why) = match safe {
            Some(i) => (
                i,
                format!("the cheapest deployment with SLO headroom ≥ {SAFE_SLO_HEADROOM}"),
            ),
            None => {
                let i = plan
                    .candidates
                    .iter()
                    .enumerate()
                    .max_by(|a, b| {
                        a.1.slo_headroom
                            .total_cmp(&b.1.slo_headroom)
                            .then(b.0.cmp(&a.0))
                    })
                    .map_or(0, |(i, _)| i);
                (
                    i,
                    format!(
                        "no deployment reaches SLO headroom {SAFE_SLO_HEADROOM}; this one has \
                         the most"
                    ),
                )
            }
        };
        pick(&mut out, i);
        let c = &plan.candidates[i];
        let mem_note = if memory.is_some() {
            " Every planned deployment holds the weights and the KV cache of a p99 request \
             within the engine's memory limits."
        } else {
            ""
        };
        out.reason = format!(
            "{}: {} is {why}{}.{mem_note}{provisional}",
            causes.join(" and "),
            describe(c, i + 1),
            cost_vs_current(c)
        );
        return out;
    }
    let c = &plan.candidates[0];
    if over.is_some() {
        pick(&mut out, 0);
        match current {
            Some(cur) if c.usd_per_hour >= cur => {
                out.action = Action::Keep;
                out.reason = format!(
                    "over-provisioned (average utilisation {}), but the cheapest deployment \
                     that meets the SLOs, {}, costs no less than the current ${cur:.2}/h: check \
                     that the workload's traffic matches what these metrics saw.{provisional}",
                    pct(o.avg_util_pct.unwrap_or(0.0)),
                    describe(c, 1)
                );
            }
            _ => {
                out.action = Action::Cheaper;
                let tight = if c.slo_headroom < SAFE_SLO_HEADROOM {
                    match plan
                        .candidates
                        .iter()
                        .position(|x| x.slo_headroom >= SAFE_SLO_HEADROOM)
                    {
                        Some(i) => format!(
                            " It runs close to the SLOs (headroom {:.2}); with headroom ≥ \
                             {SAFE_SLO_HEADROOM} the cheapest is {}.",
                            c.slo_headroom,
                            describe(&plan.candidates[i], i + 1)
                        ),
                        None => format!(
                            " It runs close to the SLOs (headroom {:.2}).",
                            c.slo_headroom
                        ),
                    }
                } else {
                    String::new()
                };
                out.reason = format!(
                    "over-provisioned (average utilisation {} over {}): {} is the cheapest \
                     deployment that meets the SLOs{}.{tight}{provisional}",
                    pct(o.avg_util_pct.unwrap_or(0.0)),
                    duration(o.window_s),
                    describe(c, 1),
                    cost_vs_current(c)
                );
            }
        }
        return out;
    }
    pick(&mut out, 0);
    out.action = Action::Keep;
    let status = if report.has(VerdictCode::RightSized) {
        format!(
            "right-sized (average utilisation {})",
            pct(o.avg_util_pct.unwrap_or(0.0))
        )
    } else {
        "no utilisation verdict".to_owned()
    };
    out.reason = format!(
        "{status}: keep the deployment; for reference, the planner's cheapest is {}{}.",
        describe(c, 1),
        cost_vs_current(c)
    );
    out
}
