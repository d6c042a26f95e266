//! The samples the readers produce: one GPU at one moment, joined by GPU and timestamp.

use super::error::{input_error, RightsizeError};
use inferplan_plan::error::shown;
use serde::Serialize;
use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;

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

    /// Checks a framebuffer size from the catalog ([`catalog_fb_total_mib`](super::catalog_fb_total_mib)) against the
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
}

/// Joins samples of the same host, GPU and millisecond, field by field (first value wins),
/// and sorts them.
pub(super) fn join(mut samples: Vec<Sample>) -> Vec<Sample> {
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
pub(super) fn millis(timestamp_s: f64) -> i64 {
    (timestamp_s * 1000.0).round() as i64
}

/// The framebuffer value (`fb_used_mib` or `fb_free_mib`) that exceeds the total, when one
/// does: such a sample comes from another GPU or a broken exporter.
pub(super) fn above_total(
    used: Option<f64>,
    free: Option<f64>,
    total: Option<f64>,
) -> Option<(&'static str, f64)> {
    let total = total?;
    [("fb_used_mib", used), ("fb_free_mib", free)]
        .into_iter()
        .find_map(|(field, v)| v.filter(|v| *v > total).map(|v| (field, v)))
}

pub(super) fn count_gpus(samples: &[Sample]) -> usize {
    samples
        .iter()
        .map(|s| (s.instance.as_str(), s.gpu.as_str()))
        .collect::<BTreeSet<_>>()
        .len()
}
