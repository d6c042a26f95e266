//! Lint Kubernetes manifests of GPU inference servers: rules with stable codes that find what
//! breaks or risks a deployment (GPU counts against engine parallelism, KV cache against GPU
//! memory, probes against model load time, autoscaling signals, disruption budgets, spot,
//! image tags, ...). One rule per file under `rules/`; its doc comment is its section of
//! `docs/lint.md`, and the table there lists them all ([`metas`]).
//!
//! Inputs are `(origin, text)` pairs ([`crate::yaml::collect`] reads paths). Every file is
//! parsed first ([`crate::yaml::parse`]); a malformed file is an error naming the file and
//! line, and [`lint_each`] lints the other files all the same. Objects of all files form one
//! [`Context`], so a PodDisruptionBudget or autoscaler in another file of the same run counts.
//! Pod templates inside the custom resources of KubeRay, KServe, KAITO and LeaderWorkerSet
//! are read; a document with GPU pods that cannot be read is reported (IL121), other kinds
//! are skipped.
//!
//! Findings are [`Diagnostic`]s at a [`Location`], with the severity, key names and rule
//! metadata the planner's findings use ([`inferplan_plan::diagnostic`]).
//!
//! To add a rule: a new file in `rules/` with a rule declared by
//! [`inferplan_plan::declare_rule!`] (the next free code, a kebab-case name, a
//! `docs/lint.md#<code>-<name>` anchor, a one-line summary, a doc comment with **What it
//! checks.**, **Why it matters.**, **Example.** and **Fix.**: it is the rule's section of
//! `docs/lint.md`) and implementing [`Rule`], an entry at the end of [`all`], `UPDATE_DOCS=1
//! cargo test -p inferplan-deploy --lib` to write its section and table row, a fixture
//! `crates/deploy/tests/fixtures/lint/<name>.yaml` with its expected output
//! `crates/deploy/tests/snapshots/lint/<name>.expected`.
//! Codes are never reused or renumbered.

pub mod context;
pub mod engine;
pub mod rules;
pub mod sarif;
pub mod text;

pub use context::{Container, Context, Hardware, Object, PodTemplate, Workload};
pub use engine::{EngineArgs, EngineKind};
pub use sarif::sarif;
pub use text::text;

pub use inferplan_plan::diagnostic::Severity;

use crate::yaml::{self, YamlError};
use inferplan_catalog::Catalog;
use inferplan_perf::MemoryParams;
use inferplan_plan::diagnostic::{Diagnostic, Meta, RuleMeta};
use serde::Serialize;

/// Where a lint finding is. In JSON its fields are keys of the finding:
/// `{"code": "IL101", "name": "gpu-request-limit-mismatch", "severity": "error",
/// "file": "deploy.yaml", "line": 23, "object": "Deployment/llm",
/// "snippet": "nvidia.com/gpu: 2", "message": "...", "docs": "docs/lint.md#il101-..."}`
/// (plus `template` for Helm output).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Location {
    /// File the finding is in (`<stdin>` for standard input).
    pub file: String,
    /// 1-based line.
    pub line: usize,
    /// The object, `Kind/name`.
    pub object: String,
    /// The text of that line, trimmed.
    pub snippet: String,
    /// The Helm template the object was rendered from, when the file says.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub template: Option<String>,
}

/// One problem found in a manifest: a [`Diagnostic`] at a [`Location`].
pub type Finding = Diagnostic<Location>;

/// A finding of `rule` about `object` at `line` (the object's line when 0).
pub fn finding(
    rule: &dyn Meta,
    severity: Severity,
    object: &Object<'_>,
    line: usize,
    message: String,
) -> Finding {
    let location = Location {
        file: object.file.to_owned(),
        line: if line == 0 { object.line } else { line },
        object: object.id(),
        snippet: String::new(),
        template: object.template.map(str::to_owned),
    };
    rule.meta().diagnostic(severity, location, message)
}

/// A lint rule: what it is ([`Meta`], from [`inferplan_plan::declare_rule!`]) and what it
/// checks.
pub trait Rule: Meta {
    /// Its findings.
    fn check(&self, ctx: &Context<'_>) -> Vec<Finding>;
}

/// Every rule, in code order. The order is stable: new rules are appended.
pub fn all() -> Vec<Box<dyn Rule>> {
    use rules::*;
    vec![
        Box::new(GpuRequestLimitMismatch),
        Box::new(GpuCountParallelismMismatch),
        Box::new(MissingDevShm),
        Box::new(ProbeBeforeModelLoad),
        Box::new(AutoscaleOnGpuUtilization),
        Box::new(MissingPodDisruptionBudget),
        Box::new(WeightsFromObjectStorageAtStart),
        Box::new(SpotForStatefulInference),
        Box::new(KvCacheCannotFit),
        Box::new(Fp8WithoutNativeSupport),
        Box::new(TensorParallelNotDividingHeads),
        Box::new(EphemeralStorageBelowWeights),
        Box::new(MultiNodeWithoutPlacement),
        Box::new(MutableImageTag),
        Box::new(SingleGpuPodsOnLargeNodes),
        Box::new(CountOutOfRange),
        Box::new(AutoscalerWillFlap),
        Box::new(OnlineQuantizationCannotLoad),
        Box::new(MissingReadinessProbe),
        Box::new(ClaimedCacheBelowDownload),
        Box::new(GpuDocumentNotLinted),
    ]
}

/// What every lint rule is, in code order.
pub fn metas() -> Vec<&'static RuleMeta> {
    all().iter().map(|r| r.meta()).collect()
}

/// Why linting could not run.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum LintError {
    /// A file is malformed or unreadable (names the file and line).
    #[error(transparent)]
    Yaml(#[from] YamlError),
    /// The embedded engine memory parameters did not load.
    #[error("engine memory parameters: {0}")]
    Params(String),
}

/// Lints `(origin, text)` pairs with every rule. Findings are sorted by file, line and code.
pub fn lint(files: &[(String, String)], catalog: &Catalog) -> Result<Vec<Finding>, LintError> {
    lint_with(files, catalog, &all())
}

/// Lints with the given rules only (for `--select` / `--ignore`); the first malformed file is
/// an error.
pub fn lint_with(
    files: &[(String, String)],
    catalog: &Catalog,
    rules: &[Box<dyn Rule>],
) -> Result<Vec<Finding>, LintError> {
    let linted = lint_each(files, catalog, rules)?;
    match linted.malformed.into_iter().next() {
        Some(e) => Err(e.into()),
        None => Ok(linted.findings),
    }
}

/// What [`lint_each`] found.
#[derive(Debug, Clone, PartialEq)]
pub struct Linted {
    /// Findings in the files that could be read, sorted by file, line and code.
    pub findings: Vec<Finding>,
    /// The files that could not be read, in input order (the CLI exits with 2).
    pub malformed: Vec<YamlError>,
}

/// Lints every file that parses, and says which did not: one malformed file does not hide
/// the findings of the others.
pub fn lint_each(
    files: &[(String, String)],
    catalog: &Catalog,
    rules: &[Box<dyn Rule>],
) -> Result<Linted, LintError> {
    let params = MemoryParams::embedded().map_err(|e| LintError::Params(e.to_string()))?;
    let mut parsed = Vec::with_capacity(files.len());
    let mut malformed = Vec::new();
    for (origin, text) in files {
        match yaml::parse(text, origin) {
            Ok(docs) => parsed.push((origin.clone(), docs)),
            Err(e) => malformed.push(e),
        }
    }
    let ctx = Context::new(&parsed, catalog, &params);
    let mut findings: Vec<Finding> = rules.iter().flat_map(|r| r.check(&ctx)).collect();
    for f in &mut findings {
        let at = &mut f.location;
        if let Some((_, text)) = files.iter().find(|(o, _)| *o == at.file) {
            at.snippet = text
                .lines()
                .nth(at.line.saturating_sub(1))
                .unwrap_or_default()
                .trim()
                .to_owned();
        }
    }
    findings.sort_by(|a, b| {
        (
            a.location.file.as_str(),
            a.location.line,
            a.code,
            &a.message,
        )
            .cmp(&(
                b.location.file.as_str(),
                b.location.line,
                b.code,
                &b.message,
            ))
    });
    findings.dedup();
    Ok(Linted {
        findings,
        malformed,
    })
}

/// True when a finding is at error level (the CLI exits with 1).
pub fn has_errors(findings: &[Finding]) -> bool {
    findings.iter().any(|f| f.severity == Severity::Error)
}

/// `1.5`, `2`, `0.27`: a number with up to `digits` decimals, without trailing zeros.
pub(crate) fn num(x: f64, digits: usize) -> String {
    let s = format!("{x:.digits$}");
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_owned()
    } else {
        s
    }
}

/// Bytes in a GiB.
pub(crate) const GIB: f64 = 1024.0 * 1024.0 * 1024.0;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn anchors_follow_code_and_name() {
        for (i, m) in metas().iter().enumerate() {
            assert_eq!(m.code, format!("IL{}", 101 + i));
            assert_eq!(m.docs, m.anchor("lint"));
        }
    }

    /// The table and the sections of `docs/lint.md` are the rules' summaries and doc comments.
    #[test]
    fn docs_show_the_rules() {
        let page = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/lint.md");
        let update = std::env::var_os("UPDATE_DOCS").is_some();
        inferplan_plan::diagnostic::docs::keep_current(
            &page,
            &metas(),
            update,
            "UPDATE_DOCS=1 cargo test -p inferplan-deploy --lib",
        )
        .unwrap();
    }
}
