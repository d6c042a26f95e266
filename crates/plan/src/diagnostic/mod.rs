//! The diagnostic model shared by the planner's findings (`IP1xx`, [`crate::findings`]) and the
//! manifest linter (`IL1xx`, `inferplan_deploy::lint`).
//!
//! - [`Severity`]: how much a diagnostic matters.
//! - [`RuleMeta`]: what a rule is: code, name, default severity, one-line summary, docs anchor
//!   and explanation. [`declare_rule!`](crate::declare_rule) writes it from the rule's doc
//!   comment, so the comment is the rule's documentation ([`docs`] assembles the pages).
//! - [`Diagnostic`]: one diagnostic of a rule, with its message and where it is. In JSON the
//!   keys are `code`, `name`, `severity`, the location's keys, `message` and `docs`, in both
//!   families. A plan finding sits inside its candidate, so it has no location keys
//!   (`Diagnostic<()>`); a lint finding has the file, line and object.
//!
//! The rule traits stay with their families (plan rules read a candidate, lint rules read
//! manifests); both extend [`Meta`].

pub mod docs;

use serde::{Deserialize, Serialize};
use std::fmt;

/// How much a diagnostic matters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Advice: good practice, money or blast radius.
    Info,
    /// A risk to handle.
    Warning,
    /// The deployment breaks: a constraint of the workload, or it does not start, is rejected
    /// or is evicted.
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

/// What a rule is, written once by [`declare_rule!`](crate::declare_rule).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RuleMeta {
    /// Stable code, `IP105` or `IL104`. Never reused or renumbered.
    pub code: &'static str,
    /// Stable kebab-case name, `cold-start-over-budget`.
    pub name: &'static str,
    /// Severity of its diagnostics (some rules raise or lower it for some cases).
    pub severity: Severity,
    /// When the severity differs, and to what (`warning when GPUs sit idle`); empty when never.
    pub severity_note: &'static str,
    /// One line saying what it checks.
    pub summary: &'static str,
    /// Where it is explained: `docs/<page>.md#<code in lower case>-<name>`.
    pub docs: &'static str,
    /// The rule's doc comment, one `#[doc]` line per line (each with rustdoc's leading space).
    pub doc: &'static str,
}

impl RuleMeta {
    /// The explanation: the doc comment as Markdown, without rustdoc's leading spaces.
    pub fn explanation(&self) -> String {
        let mut out = String::new();
        for line in self.doc.lines() {
            out.push_str(line.strip_prefix(' ').unwrap_or(line));
            out.push('\n');
        }
        out
    }

    /// The anchor `docs` should have: `docs/<page>.md#<code in lower case>-<name>`.
    pub fn anchor(&self, page: &str) -> String {
        format!(
            "docs/{page}.md#{}-{}",
            self.code.to_ascii_lowercase(),
            self.name
        )
    }

    /// A diagnostic of this rule.
    pub fn diagnostic<L>(&self, severity: Severity, location: L, message: String) -> Diagnostic<L> {
        Diagnostic {
            code: self.code,
            name: self.name,
            severity,
            location,
            message,
            docs: self.docs,
        }
    }
}

/// A rule that knows what it is: implemented by [`declare_rule!`](crate::declare_rule).
pub trait Meta {
    /// Its code, name, severity, summary, docs anchor and explanation.
    fn meta(&self) -> &'static RuleMeta;
}

/// One diagnostic of a rule. `L` is where it is: `()` for a plan finding (it sits inside its
/// candidate), the file, line and object for a lint finding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Diagnostic<L = ()> {
    /// Stable code, `IP105`, `IL104`.
    pub code: &'static str,
    /// Stable kebab-case name, `cold-start-over-budget`.
    pub name: &'static str,
    /// How much it matters.
    pub severity: Severity,
    /// Where it is (its fields are keys of the JSON object).
    #[serde(flatten)]
    pub location: L,
    /// What was found, with the numbers, and what to do.
    pub message: String,
    /// Where the rule is explained (`docs/findings.md#...`, `docs/lint.md#...`).
    pub docs: &'static str,
}

/// Declares a rule: a unit struct whose doc comment is its documentation, with its
/// [`RuleMeta`] as `META` and an implementation of [`Meta`].
///
/// ```
/// inferplan_plan::declare_rule! {
///     /// **What it checks.** Nothing.
///     pub struct Example {
///         code: "IX999",
///         name: "example",
///         severity: Info,
///         summary: "an example",
///         docs: "docs/example.md#ix999-example",
///     }
/// }
/// use inferplan_plan::diagnostic::Meta;
/// assert_eq!(Example.meta().explanation(), "**What it checks.** Nothing.\n");
/// ```
///
/// `severity_note: "..."` after `severity` says when the severity differs.
#[macro_export]
macro_rules! declare_rule {
    (
        $(#[doc = $doc:literal])*
        $vis:vis struct $rule:ident {
            code: $code:literal,
            name: $name:literal,
            severity: $severity:ident,
            $(severity_note: $note:literal,)?
            summary: $summary:literal,
            docs: $docs:literal $(,)?
        }
    ) => {
        $(#[doc = $doc])*
        $vis struct $rule;

        impl $rule {
            /// What this rule is; the doc comment above is its explanation.
            pub const META: $crate::diagnostic::RuleMeta = $crate::diagnostic::RuleMeta {
                code: $code,
                name: $name,
                severity: $crate::diagnostic::Severity::$severity,
                severity_note: concat!("" $(, $note)?),
                summary: $summary,
                docs: $docs,
                doc: concat!($($doc, "\n"),*),
            };
        }

        impl $crate::diagnostic::Meta for $rule {
            fn meta(&self) -> &'static $crate::diagnostic::RuleMeta {
                &Self::META
            }
        }
    };
}
