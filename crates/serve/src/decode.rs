//! Request decoders: the flags of a JSON object or a query string, and workload files sent as
//! TOML or JSON. Pure functions over bytes, so they are fuzzed directly (never a panic, every
//! refusal a 400 naming the field).

use crate::ApiError;
use axum::http::StatusCode;

/// Flags the API never takes from a request: they name files or directories on the server
/// (`--catalog-dir`, `--prices`, `--params`, `--model-config`, `--out`, `--plot`, `--deploy`, `--trace`,
/// `--output`), files the request sends in its body instead (`--workload`, `--plan`), the
/// output format (the endpoint's), or help text.
pub const DENIED: &[&str] = &[
    "catalog-dir",
    "prices",
    "params",
    "model-config",
    "out",
    "plot",
    "deploy",
    "trace",
    "output",
    "workload",
    "plan",
    "format",
    "help",
    "version",
];

/// Longest flag name and value taken (a flag's value is a name or a number).
const MAX_KEY: usize = 64;
const MAX_VALUE: usize = 4096;
/// Most flags in one request.
const MAX_FLAGS: usize = 128;

/// A flag's name as the command line spells it: `rate_rps` and `rate-rps` are `rate-rps`.
/// Refused (400) when not `[a-z][a-z0-9_-]*` or a [`DENIED`] flag.
pub fn flag_name(key: &str) -> Result<String, ApiError> {
    let ok = !key.is_empty()
        && key.len() <= MAX_KEY
        && key.starts_with(|c: char| c.is_ascii_lowercase())
        && key
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-');
    if !ok {
        return Err(ApiError::bad_field(
            &printable(key),
            format!(
                "`{}` is not a flag name (lower-case letters, digits, `_` or `-`)",
                printable(key)
            ),
        ));
    }
    let name = key.replace('_', "-");
    if DENIED.contains(&name.as_str()) {
        return Err(ApiError::bad_field(
            key,
            format!(
                "`{key}` is not taken by the API: it names a file on the server or the output \
                 format (send files in the request body; see /api/openapi.json)"
            ),
        ));
    }
    Ok(name)
}

/// A key or value cut short and stripped of control characters, for messages.
fn printable(s: &str) -> String {
    s.chars()
        .filter(|c| !c.is_control())
        .take(MAX_KEY)
        .collect()
}

/// One flag's value checked: not too long, no control characters.
fn check_value(key: &str, v: &str) -> Result<(), ApiError> {
    if v.len() > MAX_VALUE || v.chars().any(char::is_control) {
        return Err(ApiError::bad_field(
            key,
            format!(
                "`{key}`: a value must be at most {MAX_VALUE} bytes without control characters"
            ),
        ));
    }
    Ok(())
}

/// The command-line arguments of a JSON object's fields: a string or number is `--name=value`,
/// `true` is `--name`, `false` and `null` are left out, a list repeats the flag once per item.
/// Anything else (an object, a nested list, not an object at the top) is a 400.
pub fn json_flags(body: &[u8]) -> Result<Vec<String>, ApiError> {
    let value: serde_json::Value = serde_json::from_slice(body).map_err(|e| {
        let mut err = ApiError::new(
            StatusCode::BAD_REQUEST,
            format!("the body is not valid JSON: {e}"),
        );
        err.line = Some(e.line() as u64);
        err
    })?;
    let serde_json::Value::Object(fields) = value else {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "the body must be a JSON object of flags, e.g. {\"model\": \"llama-3.1-8b\", \"gpu\": \"H100\"}",
        ));
    };
    let mut out = Vec::new();
    for (key, v) in &fields {
        let name = flag_name(key)?;
        let items: Vec<&serde_json::Value> = match v {
            serde_json::Value::Array(items) => items.iter().collect(),
            other => vec![other],
        };
        for item in items {
            match item {
                serde_json::Value::Null | serde_json::Value::Bool(false) => {}
                serde_json::Value::Bool(true) => out.push(format!("--{name}")),
                serde_json::Value::Number(n) => out.push(format!("--{name}={n}")),
                serde_json::Value::String(s) => {
                    check_value(key, s)?;
                    out.push(format!("--{name}={s}"));
                }
                serde_json::Value::Array(_) | serde_json::Value::Object(_) => {
                    return Err(ApiError::bad_field(
                        key,
                        format!(
                            "`{key}`: expected a string, number, boolean or a list of them, got \
                             {}",
                            kind(item)
                        ),
                    ))
                }
            }
        }
        if out.len() > MAX_FLAGS {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                format!("at most {MAX_FLAGS} flags in one request"),
            ));
        }
    }
    Ok(out)
}

/// What a JSON value is, for messages.
fn kind(v: &serde_json::Value) -> &'static str {
    match v {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "a list",
        serde_json::Value::Object(_) => "an object",
    }
}

/// The pairs of a query string, percent-decoded (`+` is a space), in order.
pub fn query_pairs(query: &str) -> Result<Vec<(String, String)>, ApiError> {
    let mut out = Vec::new();
    for part in query.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = part.split_once('=').unwrap_or((part, ""));
        out.push((percent_decode(k)?, percent_decode(v)?));
    }
    Ok(out)
}

/// Percent-decoding of one query component.
fn percent_decode(s: &str) -> Result<String, ApiError> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = bytes
                    .get(i + 1..i + 3)
                    .and_then(|h| std::str::from_utf8(h).ok())
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
                    .ok_or_else(|| {
                        ApiError::new(
                            StatusCode::BAD_REQUEST,
                            "the query string has a bad `%` escape",
                        )
                    })?;
                out.push(hex);
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out)
        .map_err(|_| ApiError::new(StatusCode::BAD_REQUEST, "the query string is not UTF-8"))
}

/// The flags of query pairs: `name=value` is `--name=value`; an empty value or `true` is the
/// bare flag `--name`, `false` leaves it out.
pub fn query_flags(pairs: &[(String, String)]) -> Result<Vec<String>, ApiError> {
    if pairs.len() > MAX_FLAGS {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            format!("at most {MAX_FLAGS} flags in one request"),
        ));
    }
    let mut out = Vec::new();
    for (k, v) in pairs {
        let name = flag_name(k)?;
        check_value(k, v)?;
        match v.as_str() {
            "" | "true" => out.push(format!("--{name}")),
            "false" => {}
            v => out.push(format!("--{name}={v}")),
        }
    }
    Ok(out)
}

/// A body as text: UTF-8, or a 400.
pub fn text(body: &[u8]) -> Result<&str, ApiError> {
    std::str::from_utf8(body)
        .map_err(|_| ApiError::new(StatusCode::BAD_REQUEST, "the body is not UTF-8 text"))
}

/// Whether a body is JSON rather than TOML or YAML: its first character other than white
/// space (or a byte-order mark) is `{`.
pub fn looks_like_json(body: &str) -> bool {
    body.trim_start_matches('\u{feff}')
        .trim_start()
        .starts_with('{')
}

/// A workload file's TOML from a request body: TOML as sent, or a JSON object of the same
/// fields written as TOML. Refused: a `lengths.trace` (a file on the server).
pub fn workload_toml(body: &str) -> Result<String, ApiError> {
    let text = if looks_like_json(body) {
        let value: serde_json::Value = serde_json::from_str(body).map_err(|e| {
            let mut err = ApiError::new(
                StatusCode::BAD_REQUEST,
                format!("the body is not valid JSON: {e}"),
            );
            err.line = Some(e.line() as u64);
            err
        })?;
        if !value.is_object() {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "a JSON workload must be an object of the workload file's tables",
            ));
        }
        toml::to_string(&value).map_err(|e| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                format!("the JSON workload has no TOML form: {e} (a null, or a list of mixed tables and values)"),
            )
        })?
    } else {
        body.to_owned()
    };
    if let Ok(table) = text.parse::<toml::Table>() {
        let trace = table
            .get("lengths")
            .and_then(|l| l.as_table())
            .is_some_and(|l| l.contains_key("trace"));
        if trace {
            return Err(ApiError::bad_field(
                "lengths.trace",
                "field `lengths.trace`: the API reads no file on the server; give the lengths as \
                 numbers or distributions",
            ));
        }
    }
    Ok(text)
}

/// Caps a simulation's work: `--max-sim-requests` at most `cap` (added when not given), and
/// `--seeds` at most `seeds`. Refused (400) past either, naming the flag.
pub fn cap_simulation(flags: &mut Vec<String>, cap: u64, seeds: u64) -> Result<(), ApiError> {
    for (name, most) in [("max-sim-requests", cap), ("seeds", seeds)] {
        let prefix = format!("--{name}=");
        for f in flags.iter() {
            if let Some(v) = f.strip_prefix(&prefix) {
                if v.trim().parse::<u64>().is_ok_and(|n| n > most) {
                    return Err(ApiError::bad_field(
                        &name.replace('-', "_"),
                        format!("--{name}: at most {most} on this server (got {v})"),
                    ));
                }
            }
        }
    }
    if !flags.iter().any(|f| f.starts_with("--max-sim-requests")) {
        flags.push(format!("--max-sim-requests={cap}"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_fields_become_flags() {
        let f = json_flags(br#"{"model": "llama-3.1-8b", "tp": 2, "saturate": true, "x": null, "autoscale": ["queue:2", "inflight:8"]}"#).unwrap();
        assert_eq!(
            f,
            [
                "--autoscale=queue:2",
                "--autoscale=inflight:8",
                "--model=llama-3.1-8b",
                "--saturate",
                "--tp=2"
            ]
        );
        assert_eq!(
            json_flags(br#"{"out": "/tmp"}"#)
                .unwrap_err()
                .field
                .as_deref(),
            Some("out")
        );
        assert_eq!(
            json_flags(b"[1]").unwrap_err().status,
            StatusCode::BAD_REQUEST
        );
        assert!(json_flags(br#"{"model": {"a": 1}}"#).is_err());
        assert!(json_flags(br#"{"Model": "x"}"#).is_err());
    }

    #[test]
    fn queries_decode() {
        let p = query_pairs("top=3&explain&region=eu-west-1&model=a%2Fb+c").unwrap();
        assert_eq!(
            query_flags(&p).unwrap(),
            [
                "--top=3",
                "--explain",
                "--region=eu-west-1",
                "--model=a/b c"
            ]
        );
        assert!(query_pairs("a=%zz").is_err());
        assert!(query_flags(&[("params".into(), "x".into())]).is_err());
    }

    #[test]
    fn workloads_from_json_and_caps() {
        let t = workload_toml(r#"{"model": {"name": "llama-3.1-8b"}, "traffic": {"rate_rps": 5}}"#)
            .unwrap();
        assert!(t.contains("[model]") && t.contains("rate_rps = 5"), "{t}");
        assert!(workload_toml("[lengths]\ntrace = \"/etc/passwd\"\n").is_err());
        let mut f = vec!["--seeds=3".to_owned()];
        cap_simulation(&mut f, 1000, 4).unwrap();
        assert_eq!(f, ["--seeds=3", "--max-sim-requests=1000"]);
        assert!(cap_simulation(&mut vec!["--seeds=5".into()], 1000, 4).is_err());
        assert!(cap_simulation(&mut vec!["--max-sim-requests=1001".into()], 1000, 4).is_err());
    }
}
