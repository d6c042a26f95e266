//! Why a traffic specification was refused.

use inferplan_plan::PlanError;

/// Why a traffic specification, or a string describing part of one, was refused.
#[derive(Debug, thiserror::Error)]
pub enum TrafficError {
    /// A length distribution or arrival process given as a string could not be parsed.
    #[error("invalid {what} `{input}`: {message}")]
    Parse {
        /// What was being parsed: `length distribution` or `arrival process`.
        what: &'static str,
        /// The string (control characters escaped, cut at 40 characters).
        input: String,
        /// What is wrong, with the expected form.
        message: String,
    },
    /// A value of a [`TrafficSpec`] is out of range.
    #[error("{field}: {message}")]
    Invalid {
        /// Dotted path of the value: `arrivals.rate_rps`, `input.p99`,
        /// `arrivals.hourly_rps[3]`.
        field: String,
        /// What is wrong.
        message: String,
    },
    /// A trace file could not be read.
    #[error(transparent)]
    Trace(#[from] PlanError),
}
