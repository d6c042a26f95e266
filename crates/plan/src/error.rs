//! Errors of the planner crate.
//!
//! Every input error renders as one line that names where the problem is, for example
//! ``examples/chat.toml:12: field `slo.ttft_ms`: must be positive, got -1``.

use inferplan_catalog::error::located;
use std::path::PathBuf;

/// An error of the planner crate.
#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    /// A file could not be read.
    #[error("{}: {source}", .path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// What the operating system said.
        source: std::io::Error,
    },
    /// A workload description is malformed or invalid.
    #[error("{}", located(.origin, .line.map(|l| l as u64), .field.as_deref(), .message))]
    Workload {
        /// The file name, or `workload` for a workload built in memory (from flags).
        origin: String,
        /// 1-based line in the file, when known.
        line: Option<usize>,
        /// Dotted path of the field (`slo.ttft_ms`, `traffic.daily_profile[3]`), when known.
        field: Option<String>,
        /// What is wrong.
        message: String,
    },
    /// A catalog lookup failed (unknown model, GPU or instance, with suggestions).
    #[error(transparent)]
    Catalog(#[from] inferplan_catalog::CatalogError),
    /// The performance model refused an input or could not load its parameters.
    #[error(transparent)]
    Perf(#[from] inferplan_perf::PerfError),
    /// A request trace is malformed.
    #[error("{}", located(.origin, .line.map(|l| l as u64), .field.as_deref(), .message))]
    Trace {
        /// The trace file name.
        origin: String,
        /// 1-based line in the file, when known.
        line: Option<usize>,
        /// The column, when known.
        field: Option<String>,
        /// What is wrong.
        message: String,
    },
}

impl PlanError {
    /// A workload error about `field`, without a file position (see [`PlanError::locate`]).
    pub fn input(field: impl Into<String>, message: impl Into<String>) -> PlanError {
        PlanError::Workload {
            origin: "workload".to_owned(),
            line: None,
            field: Some(field.into()),
            message: message.into(),
        }
    }

    /// The dotted field path of a workload or trace error, if it has one.
    pub fn field(&self) -> Option<&str> {
        match self {
            PlanError::Workload { field, .. } | PlanError::Trace { field, .. } => field.as_deref(),
            _ => None,
        }
    }

    /// The 1-based line of a workload or trace error, if known.
    pub fn line(&self) -> Option<usize> {
        match self {
            PlanError::Workload { line, .. } | PlanError::Trace { line, .. } => *line,
            _ => None,
        }
    }

    /// Gives a workload error the file it came from and, when its field is written in
    /// `text` (the file's TOML), the line of that field. Other errors are returned unchanged.
    ///
    /// Use it after [`crate::workload::Workload::validate`] when the workload was read from
    /// a file: `workload.validate().map_err(|e| e.locate(path, &text))`.
    pub fn locate(self, origin: &str, text: &str) -> PlanError {
        match self {
            PlanError::Workload {
                line,
                field,
                message,
                ..
            } => {
                let line = line.or_else(|| {
                    field
                        .as_deref()
                        .and_then(|f| crate::toml_location::line_of_field(text, f))
                });
                PlanError::Workload {
                    origin: origin.to_owned(),
                    line,
                    field,
                    message,
                }
            }
            other => other,
        }
    }
}

pub use inferplan_catalog::error::shown;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_one_line() {
        let e = PlanError::Workload {
            origin: "examples/chat.toml".into(),
            line: Some(12),
            field: Some("slo.ttft_ms".into()),
            message: "must be positive".into(),
        };
        assert_eq!(
            e.to_string(),
            "examples/chat.toml:12: field `slo.ttft_ms`: must be positive"
        );
        let e = PlanError::input("traffic.rate_rps", "must be positive");
        assert_eq!(
            e.to_string(),
            "workload: field `traffic.rate_rps`: must be positive"
        );
        let e = PlanError::Trace {
            origin: "t.csv".into(),
            line: Some(3),
            field: None,
            message: "expected 3 fields, found 2".into(),
        };
        assert_eq!(e.to_string(), "t.csv:3: expected 3 fields, found 2");
    }

    #[test]
    fn shown_escapes_and_truncates() {
        assert_eq!(shown("a\tb\n"), "a\\tb\\n");
        assert_eq!(shown(&"x".repeat(40)), "x".repeat(40));
        assert_eq!(shown(&"x".repeat(41)), format!("{}…", "x".repeat(40)));
    }
}
