//! Human-readable output: one block per finding with `file:line`, the rule, the message and
//! the offending line, then a summary line.

use super::{Finding, Severity};
use std::fmt::Write;

/// Renders findings as text:
///
/// ```text
/// deploy.yaml:42: error IL101 gpu-request-limit-mismatch (Deployment/llm): Container `vllm` ...
///    42 | nvidia.com/gpu: 1
///       = from chart/templates/deployment.yaml
/// 1 error, 0 warnings, 0 info
/// ```
///
/// With no findings the text is `no findings`.
pub fn text(findings: &[Finding]) -> String {
    let mut out = String::new();
    for f in findings {
        let _ = writeln!(
            out,
            "{}:{}: {} {} {} ({}): {}",
            f.location.file,
            f.location.line,
            f.severity,
            f.code,
            f.name,
            f.location.object,
            f.message
        );
        let at = &f.location;
        if !at.snippet.is_empty() {
            let _ = writeln!(out, "{:>6} | {}", at.line, at.snippet);
        }
        if let Some(t) = &at.template {
            let _ = writeln!(out, "{:>6} = from {t}", "");
        }
    }
    out.push_str(&summary(findings));
    out.push('\n');
    out
}

/// `2 errors, 1 warning, 0 info`, or `no findings`.
pub fn summary(findings: &[Finding]) -> String {
    if findings.is_empty() {
        return "no findings".to_owned();
    }
    let count = |s: Severity| findings.iter().filter(|f| f.severity == s).count();
    let (e, w, i) = (
        count(Severity::Error),
        count(Severity::Warning),
        count(Severity::Info),
    );
    format!(
        "{e} error{}, {w} warning{}, {i} info",
        if e == 1 { "" } else { "s" },
        if w == 1 { "" } else { "s" }
    )
}
