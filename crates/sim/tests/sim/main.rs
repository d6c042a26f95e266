//! The test binary of `inferplan-sim`: one module per area.
//!
//! Proptest keeps the failing cases it finds in `tests/proptest-regressions/<module>.txt`
//! and replays them first; commit them.

#[path = "../../../../tests/planner.rs"]
mod planner;
#[path = "../../../../tests/support.rs"]
mod support;

mod capacity;
mod day;
mod fleet;
mod managed;
mod metrics;
mod scheduler;
mod traffic;
