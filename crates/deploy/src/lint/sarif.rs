//! SARIF 2.1.0 output for code-scanning tools (GitHub code scanning, GitLab, Sonar).

use super::{Finding, Rule, Severity};
use serde_json::{json, Value};

/// The SARIF schema this output follows.
pub const SARIF_SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";

/// A SARIF 2.1.0 log with one run: `tool.driver.rules` lists `rules` (id = code, name,
/// short description, default level, docs anchor), and each finding is a result with its
/// rule, level (`error`, `warning`, `note`), message and `physicalLocation` (file URI,
/// `region.startLine` and the snippet).
pub fn sarif(findings: &[Finding], rules: &[Box<dyn Rule>]) -> Value {
    let rule_list: Vec<Value> = rules
        .iter()
        .map(|r| {
            let r = r.meta();
            json!({
                "id": r.code,
                "name": r.name,
                "shortDescription": {"text": r.summary},
                "fullDescription": {"text": r.summary},
                "help": {"text": format!("See {}", r.docs)},
                "defaultConfiguration": {"level": level(r.severity)},
                "properties": {"docs": r.docs, "tags": ["kubernetes", "gpu-inference"]},
            })
        })
        .collect();
    let results: Vec<Value> = findings
        .iter()
        .map(|f| {
            let at = &f.location;
            let mut region = json!({"startLine": at.line.max(1)});
            if !at.snippet.is_empty() {
                region["snippet"] = json!({"text": at.snippet});
            }
            let mut result = json!({
                "ruleId": f.code,
                "level": level(f.severity),
                "message": {"text": format!("{}: {}", at.object, f.message)},
                "locations": [{
                    "physicalLocation": {
                        "artifactLocation": {"uri": uri(&at.file)},
                        "region": region,
                    }
                }],
                "properties": {"name": f.name, "object": at.object},
            });
            if let Some(i) = rules.iter().position(|r| r.meta().code == f.code) {
                result["ruleIndex"] = json!(i);
            }
            if let Some(t) = &at.template {
                result["properties"]["template"] = json!(t);
            }
            result
        })
        .collect();
    json!({
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "inferplan",
                "version": env!("CARGO_PKG_VERSION"),
                "rules": rule_list,
            }},
            "columnKind": "unicodeCodePoints",
            "results": results,
        }],
    })
}

/// SARIF levels: `error`, `warning`, `note`.
fn level(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "note",
    }
}

/// A relative URI for a file name: forward slashes, spaces and `%` escaped.
fn uri(file: &str) -> String {
    let mut out = String::with_capacity(file.len());
    for c in file.replace('\\', "/").chars() {
        match c {
            ' ' => out.push_str("%20"),
            '%' => out.push_str("%25"),
            '#' => out.push_str("%23"),
            '?' => out.push_str("%3F"),
            c => out.push(c),
        }
    }
    out
}
