//! Findings: rules with stable codes that flag risks of a deployment choice. One rule per file;
//! each explains itself in `docs/findings.md`.

use crate::candidate::Candidate;
use crate::workload::Workload;
use inferplan_catalog::{Gpu, Instance, ModelSpec};
use serde::Serialize;

/// How much a finding matters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Good practice to keep in mind.
    Info,
    /// A risk to handle.
    Warning,
    /// Breaks a constraint of the workload.
    Error,
}

/// One finding about a candidate.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Finding {
    /// Stable code, e.g. `IP101`.
    pub code: &'static str,
    /// Stable kebab-case name, e.g. `isolated-tenant-without-mig`.
    pub rule: &'static str,
    /// How much it matters.
    pub severity: Severity,
    /// What was found, with the numbers, and what to do.
    pub message: String,
    /// Where the rule is explained (`docs/findings.md#...`).
    pub docs: &'static str,
}

/// What a rule looks at.
pub struct Context<'a> {
    /// The workload.
    pub workload: &'a Workload,
    /// The candidate deployment (findings not yet filled).
    pub candidate: &'a Candidate,
    /// Its instance type.
    pub instance: &'a Instance,
    /// Its GPU.
    pub gpu: &'a Gpu,
    /// The model.
    pub model: &'a ModelSpec,
}

/// A finding rule.
pub trait Rule {
    /// Stable code.
    fn code(&self) -> &'static str;
    /// Stable kebab-case name.
    fn name(&self) -> &'static str;
    /// The finding, if the rule applies.
    fn check(&self, ctx: &Context<'_>) -> Option<Finding>;
}
