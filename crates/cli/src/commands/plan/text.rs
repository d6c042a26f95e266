//! Text both kinds of plan print: rejections, findings, the endpoint pattern.

use inferplan_plan::endpoint::EndpointAdvice;
use inferplan_plan::search::Rejection;
use inferplan_plan::{Finding, Severity};
use std::collections::BTreeMap;

/// The rejected configurations by reason: `reason: count, ...`.
pub fn rejected_text(rejected: &BTreeMap<&'static str, usize>) -> String {
    let parts: Vec<String> = rejected.iter().map(|(k, v)| format!("{k}: {v}")).collect();
    parts.join(", ")
}

/// A severity as printed.
pub fn severity(s: Severity) -> &'static str {
    match s {
        Severity::Info => "info",
        Severity::Warning => "warning",
        Severity::Error => "error",
    }
}

/// The findings of the best option, one per line.
pub fn findings_text(findings: &[Finding]) -> String {
    let mut s = String::new();
    if !findings.is_empty() {
        s += "\nfindings for #1:\n";
        for f in findings {
            s += &format!(
                "  [{}] {} {}: {} ({})\n",
                severity(f.severity),
                f.code,
                f.name,
                f.message,
                f.docs
            );
        }
    }
    s
}

/// The first rejection of each reason (`--explain`).
pub fn explain_text(rejections: &[Rejection], rejected: &BTreeMap<&'static str, usize>) -> String {
    let mut s = String::from("\nrejected configurations (first of each reason):\n");
    let mut seen = std::collections::BTreeSet::new();
    for r in rejections {
        if seen.insert(r.reason) {
            s += &format!(
                "  {} ({}×): {} {}: {}\n",
                r.reason, rejected[r.reason], r.instance, r.setup, r.detail
            );
        }
    }
    s
}

/// The endpoint pattern and why.
pub fn endpoint_text(e: &EndpointAdvice) -> String {
    let name = serde_json::to_value(e.pattern)
        .ok()
        .and_then(|v| v.as_str().map(|s| s.replace('_', "-")))
        .unwrap_or_default();
    format!("{name}: {}", e.reason)
}
