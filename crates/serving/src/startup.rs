//! What a startup probe must allow before Kubernetes restarts a server that is still loading.
//!
//! Two figures, both built on [`cold_start`](crate::cold_start):
//!
//! - [`probe_budget_s`]: the startup probe the renderer writes, the cold-start estimate of a
//!   new node plus the compile time of an engine without caches, with a margin.
//! - [`least_start_s`]: the least any start takes (engine start + the weights from local
//!   NVMe on a running instance). The linter's IL104 flags a probe that allows less.

use crate::cold_start::{ColdStart, ENGINE_START_S, NVME_DEVICE_GBS};

/// Extra engine start without warm `torch.compile` and CUDA-graph caches, seconds.
///
/// tensorfuse.io ("Reducing GPU cold start time when using vLLM", 2025-09-01) measured 200 s
/// for vLLM's engine start without caches against 64 s with them
/// ([`ENGINE_START_S`], which the cold-start estimate uses): 136 s more.
pub const COLD_COMPILE_EXTRA_S: f64 = 136.0;

/// Factor on the expected start in [`probe_budget_s`]: a quarter more, so that a slower
/// start does not restart a replica still loading (an assumption).
pub const PROBE_MARGIN: f64 = 1.25;

/// Shortest startup probe [`probe_budget_s`] gives, seconds (an assumption).
pub const MIN_PROBE_BUDGET_S: f64 = 60.0;

/// Seconds the rendered startup probe allows: the cold-start estimate plus the compile time
/// of an engine without its caches ([`COLD_COMPILE_EXTRA_S`]: the rendered pods keep none),
/// times [`PROBE_MARGIN`], at least [`MIN_PROBE_BUDGET_S`].
pub fn probe_budget_s(cold_start: &ColdStart) -> u32 {
    ((cold_start.seconds + COLD_COMPILE_EXTRA_S) * PROBE_MARGIN)
        .ceil()
        .max(MIN_PROBE_BUDGET_S) as u32
}

/// The least time a server takes to start with `weights_gb` GB (10^9 bytes) of weights, in
/// seconds: [`ENGINE_START_S`] plus the weights read at [`NVME_DEVICE_GBS`], as from the
/// local NVMe of a running instance. Pass 0 when the weights are unknown.
pub fn least_start_s(weights_gb: f64) -> f64 {
    ENGINE_START_S + weights_gb / NVME_DEVICE_GBS
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cold_start::WeightsSource;

    fn cold(seconds: f64) -> ColdStart {
        ColdStart {
            seconds,
            boot_s: 0.0,
            engine_start_s: ENGINE_START_S,
            load_s: 0.0,
            read_gbs: NVME_DEVICE_GBS,
            source: WeightsSource::Nvme,
            basis: String::new(),
        }
    }

    #[test]
    fn probe_budget_adds_the_compile_time_and_a_quarter() {
        assert_eq!(probe_budget_s(&cold(64.0)), 250);
        assert_eq!(probe_budget_s(&cold(100.1)), 296);
        assert_eq!(probe_budget_s(&cold(-1000.0)), 60);
    }

    #[test]
    fn least_start_is_engine_start_plus_nvme_read() {
        assert_eq!(least_start_s(0.0), ENGINE_START_S);
        assert!((least_start_s(19.0) - 74.0).abs() < 1e-12);
    }
}
