//! Lint Kubernetes manifests of GPU inference servers: rules with stable codes that find what
//! breaks or risks a deployment (GPU counts against engine parallelism, KV cache against GPU
//! memory, probes against model load time, autoscaling signals, disruption budgets, spot,
//! image tags, ...). One rule per file under `rules/`; each explains itself in
//! `docs/lint.md`.
//!
//! | code | name | severity |
//! |---|---|---|
//! | IL101 | `gpu-request-limit-mismatch` | error |
//! | IL102 | `gpu-count-parallelism-mismatch` | error (warning when GPUs sit idle) |
//! | IL103 | `missing-dev-shm` | warning |
//! | IL104 | `probe-before-model-load` | warning |
//! | IL105 | `autoscale-on-gpu-utilization` | warning |
//! | IL106 | `missing-pod-disruption-budget` | warning |
//! | IL107 | `weights-from-object-storage-at-start` | warning |
//! | IL108 | `spot-for-stateful-inference` | warning |
//! | IL109 | `kv-cache-cannot-fit` | error |
//! | IL110 | `fp8-without-native-support` | error (warning on Ampere) |
//! | IL111 | `tensor-parallel-not-dividing-heads` | error |
//! | IL112 | `ephemeral-storage-below-weights` | error |
//! | IL113 | `multi-node-without-placement` | warning |
//! | IL114 | `mutable-image-tag` | warning |
//! | IL115 | `single-gpu-pods-on-large-nodes` | info |
//! | IL116 | `count-out-of-range` | error |
//!
//! Inputs are `(origin, text)` pairs ([`crate::yaml::collect`] reads paths). Every file is
//! parsed first ([`crate::yaml::parse`]); a malformed file is an error naming the file and
//! line. Objects of all files form one [`Context`], so a PodDisruptionBudget or autoscaler in
//! another file of the same run counts. Unknown kinds and custom resources are skipped.
//!
//! To add a rule: a new file in `rules/` with a unit struct implementing [`Rule`] (the next
//! free code, a kebab-case name, a `docs/lint.md#<code>-<name>` anchor, a doc comment with
//! **What it checks**, **Why it matters**, **Example** and **Fix**), an entry at the end of
//! [`all`], a section `## <CODE> <name>` in `docs/lint.md`, a fixture
//! `crates/deploy/tests/fixtures/lint/<name>.yaml` with its expected output
//! `<name>.expected`. Codes are never reused or renumbered.

pub mod context;
pub mod engine;
pub mod rules;
pub mod sarif;
pub mod text;

pub use context::{Container, Context, Hardware, Object, PodTemplate, Workload};
pub use engine::{EngineArgs, EngineKind};
pub use sarif::sarif;
pub use text::text;

use crate::yaml::{self, YamlError};
use inferplan_catalog::Catalog;
use inferplan_perf::MemoryParams;
use serde::Serialize;
use std::fmt;

/// How much a finding matters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Advice.
    Info,
    /// A risk to handle.
    Warning,
    /// The deployment breaks (does not start, is rejected, or is evicted).
    Error,
}

impl Severity {
    /// `info`, `warning`, `error`.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One problem found in a manifest. In JSON:
/// `{"rule": "IL101", "name": "gpu-request-limit-mismatch", "severity": "error",
/// "file": "deploy.yaml", "line": 23, "message": "...", "object": "Deployment/llm",
/// "snippet": "nvidia.com/gpu: 2", "docs": "docs/lint.md#il101-..."}` (plus `template`
/// for Helm output).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// Stable code, e.g. `IL101`.
    #[serde(rename = "rule")]
    pub code: &'static str,
    /// Stable kebab-case name.
    pub name: &'static str,
    /// How much it matters.
    pub severity: Severity,
    /// File the finding is in (`<stdin>` for standard input).
    pub file: String,
    /// 1-based line.
    pub line: usize,
    /// What is wrong, with the numbers, and how to fix it.
    pub message: String,
    /// The object, `Kind/name`.
    pub object: String,
    /// The text of that line, trimmed.
    pub snippet: String,
    /// The Helm template the object was rendered from, when the file says.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub template: Option<String>,
    /// Where the rule is explained (`docs/lint.md#...`).
    pub docs: &'static str,
}

impl Finding {
    /// A finding of `rule` about `object` at `line` (the object's line when 0).
    pub fn new(
        rule: &dyn Rule,
        severity: Severity,
        object: &Object<'_>,
        line: usize,
        message: String,
    ) -> Finding {
        Finding {
            code: rule.code(),
            name: rule.name(),
            severity,
            file: object.file.to_owned(),
            line: if line == 0 { object.line } else { line },
            message,
            object: object.id(),
            snippet: String::new(),
            template: object.template.map(str::to_owned),
            docs: rule.docs(),
        }
    }
}

/// A lint rule.
pub trait Rule {
    /// Stable code (`IL1xx`).
    fn code(&self) -> &'static str;
    /// Stable kebab-case name.
    fn name(&self) -> &'static str;
    /// Severity of its findings (some rules lower it for milder cases).
    fn severity(&self) -> Severity;
    /// One line saying what it finds.
    fn summary(&self) -> &'static str;
    /// Where it is explained: `docs/lint.md#<code in lower case>-<name>`.
    fn docs(&self) -> &'static str;
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
    ]
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

/// Lints with the given rules only (for `--select` / `--ignore`).
pub fn lint_with(
    files: &[(String, String)],
    catalog: &Catalog,
    rules: &[Box<dyn Rule>],
) -> Result<Vec<Finding>, LintError> {
    let params = MemoryParams::embedded().map_err(|e| LintError::Params(e.to_string()))?;
    let mut parsed = Vec::with_capacity(files.len());
    for (origin, text) in files {
        parsed.push((origin.clone(), yaml::parse(text, origin)?));
    }
    let ctx = Context::new(&parsed, catalog, &params);
    let mut findings: Vec<Finding> = rules.iter().flat_map(|r| r.check(&ctx)).collect();
    for f in &mut findings {
        if let Some((_, text)) = files.iter().find(|(o, _)| *o == f.file) {
            f.snippet = text
                .lines()
                .nth(f.line.saturating_sub(1))
                .unwrap_or_default()
                .trim()
                .to_owned();
        }
    }
    findings.sort_by(|a, b| {
        (a.file.as_str(), a.line, a.code, &a.message).cmp(&(
            b.file.as_str(),
            b.line,
            b.code,
            &b.message,
        ))
    });
    findings.dedup();
    Ok(findings)
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
        for (i, r) in all().iter().enumerate() {
            assert_eq!(r.code(), format!("IL{}", 101 + i));
            let want = format!(
                "docs/lint.md#{}-{}",
                r.code().to_ascii_lowercase(),
                r.name()
            );
            assert_eq!(r.docs(), want);
        }
    }

    #[test]
    fn numbers() {
        assert_eq!(num(2.0, 1), "2");
        assert_eq!(num(2.26, 1), "2.3");
        assert_eq!(num(0.5, 2), "0.5");
    }
}
