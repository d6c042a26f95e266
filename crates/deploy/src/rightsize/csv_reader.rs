//! The CSV reader: `timestamp,instance,gpu,gpu_util,fb_used_mib[,fb_total_mib][,fb_free_mib]`.

use super::error::{input_error, RightsizeError};
use super::metrics::{above_total, count_gpus, join, Format, Metrics, Sample, Source, UtilUnit};
use super::timestamp::parse_timestamp;
use inferplan_catalog::table::duplicate_column;
use inferplan_plan::error::shown;
use std::collections::BTreeSet;

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
