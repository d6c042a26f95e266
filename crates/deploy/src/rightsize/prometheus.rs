//! The Prometheus reader: HTTP API range-query responses of DCGM metrics.

use super::error::{input_error, RightsizeError};
use super::metrics::{
    above_total, count_gpus, join, millis, Format, Metrics, Sample, Source, UtilUnit,
};
use inferplan_plan::error::shown;
use serde::de::IgnoredAny;
use serde::Deserialize;
use std::collections::{BTreeMap, BTreeSet};

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
