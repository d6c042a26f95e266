//! What defines a traffic stream ([`TrafficSpec`]) and where it stops ([`Limit`]).

use super::arrivals::Arrivals;
use super::error::TrafficError;
use super::lengths::LengthDist;
use inferplan_plan::Workload;

/// Where a traffic stream stops.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limit {
    /// After this many requests.
    Requests(u64),
    /// Before the first request arriving at or after this many microseconds.
    DurationUs(u64),
}

/// Everything that defines a traffic stream, apart from the seed.
#[derive(Debug, Clone, PartialEq)]
pub struct TrafficSpec {
    /// When requests arrive.
    pub arrivals: Arrivals,
    /// Prompt lengths (unused when a replayed trace supplies them).
    pub input: LengthDist,
    /// Output lengths (unused when a replayed trace supplies them).
    pub output: LengthDist,
    /// Where to stop; a replayed trace also stops at its end (after its repeats).
    pub limit: Limit,
}

impl TrafficSpec {
    /// The traffic of a workload: its arrivals ([`Arrivals::of_workload`]) and lengths
    /// ([`LengthDist::from`] its input and output lengths).
    pub fn of_workload(workload: &Workload, limit: Limit) -> TrafficSpec {
        TrafficSpec {
            arrivals: Arrivals::of_workload(workload),
            input: workload.lengths.input_tokens.into(),
            output: workload.lengths.output_tokens.into(),
            limit,
        }
    }

    /// Checks every value that will be used; the error names the first bad one
    /// (`arrivals.cv`, `input.p99`, …).
    pub fn validate(&self) -> Result<(), TrafficError> {
        self.arrivals.validate()?;
        if self.arrivals.samples_input() {
            self.input.validate("input")?;
        }
        if self.arrivals.samples_output() {
            self.output.validate("output")?;
        }
        Ok(())
    }
}
