//! Errors of the performance model.

/// A configuration the model refuses, with the reason.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PerfError {
    /// The request cannot run at all (TP larger than the GPUs, heads not divisible, ...).
    #[error("{field}: {message}")]
    Refused {
        /// The input that makes it impossible (`tp`, `precision`, `context`, ...).
        field: &'static str,
        /// Why.
        message: String,
    },
    /// A parameter file is malformed.
    #[error("{origin}: {message}")]
    Params {
        /// File name.
        origin: String,
        /// What is wrong.
        message: String,
    },
}

impl PerfError {
    pub(crate) fn refused(field: &'static str, message: impl Into<String>) -> Self {
        PerfError::Refused {
            field,
            message: message.into(),
        }
    }
}
