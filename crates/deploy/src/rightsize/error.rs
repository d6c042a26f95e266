//! Errors of the readers and of the planner run behind [`suggest`](super::suggest).

use inferplan_catalog::error::located;
use inferplan_plan::PlanError;
use std::path::PathBuf;

/// An error of the rightsizing readers or of the planner run behind [`suggest`](super::suggest).
/// Input errors render as one line naming the file and the line or field, for example
/// ``metrics.csv:7: field `gpu_util`: `abc` is not a number``.
#[derive(Debug, thiserror::Error)]
pub enum RightsizeError {
    /// A file could not be read.
    #[error("{}: {error}", .path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// What the operating system said.
        error: std::io::Error,
    },
    /// A metrics file is malformed.
    #[error("{}", located(.origin, *.line, .field.as_deref(), .message))]
    Input {
        /// The file name.
        origin: String,
        /// 1-based line, when known.
        line: Option<u64>,
        /// The CSV column or the JSON path (`data.result[2].values[17]`), when known.
        field: Option<String>,
        /// What is wrong.
        message: String,
    },
    /// The planner refused the workload (unknown model, bad field).
    #[error(transparent)]
    Plan(#[from] PlanError),
    /// A catalog lookup failed (unknown instance or GPU, with suggestions).
    #[error(transparent)]
    Catalog(#[from] inferplan_catalog::CatalogError),
}

pub(super) fn input_error(
    origin: &str,
    line: Option<u64>,
    field: Option<&str>,
    message: impl Into<String>,
) -> RightsizeError {
    RightsizeError::Input {
        origin: origin.to_owned(),
        line,
        field: field.map(str::to_owned),
        message: message.into(),
    }
}
