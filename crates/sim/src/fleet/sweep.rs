//! The same simulation over several seeds.

use super::config::FleetConfig;
use super::report::SimReport;
use super::sim::simulate;
use crate::traffic::{Traffic, TrafficError, TrafficSpec};
use inferplan_perf::parallel::{self, Progress};

/// Simulates the same fleet and traffic for each seed, in parallel across the cores; the
/// reports come back in seed order (each deterministic for its seed).
pub fn sweep(
    cfg: &FleetConfig,
    spec: &TrafficSpec,
    seeds: &[u64],
    progress: Progress<'_>,
) -> Result<Vec<SimReport>, TrafficError> {
    parallel::map(seeds, progress, |&seed| {
        Traffic::new(spec.clone(), seed).map(|tr| simulate(cfg, tr, seed))
    })
    .into_iter()
    .collect()
}
