//! What a startup probe must allow before Kubernetes restarts a server that is still loading.
//!
//! Two figures, both from [`cold_start_s`](crate::cold_start::cold_start_s):
//!
//! - [`probe_budget_s`]: the startup probe the renderer writes: what happens inside the
//!   engine container of a cold start (engine start and reading the weights; the boot and an
//!   init container's copy come before the container starts), with a margin.
//! - [`least_start`]: the least any start takes: a running node, warm compile caches, and the
//!   fastest delivery. The linter's IL104 flags a probe that allows less.

use crate::cold_start::{
    cold_start_s, ColdStart, Delivery, Node, ENGINE_COLD_START_S, ENGINE_START_S,
};

/// Extra engine start without warm `torch.compile` and CUDA-graph caches, seconds:
/// [`ENGINE_COLD_START_S`] − [`ENGINE_START_S`] (tensorfuse.io, "Reducing GPU cold start time
/// when using vLLM", 2025-09-01: 200 s without caches against 64 s with them).
pub const COLD_COMPILE_EXTRA_S: f64 = ENGINE_COLD_START_S - ENGINE_START_S;

/// Factor on the expected start in [`probe_budget_s`]: a quarter more, so that a slower
/// start does not restart a replica still loading (an assumption).
pub const PROBE_MARGIN: f64 = 1.25;

/// Shortest startup probe [`probe_budget_s`] gives, seconds (an assumption).
pub const MIN_PROBE_BUDGET_S: f64 = 60.0;

/// Seconds the rendered startup probe allows: the part of the cold start inside the engine
/// container ([`ColdStart::in_container_s`]: engine start + reading the weights), times
/// [`PROBE_MARGIN`], at least [`MIN_PROBE_BUDGET_S`]. Pass the cold start with the engine
/// start the pods will have (without compile caches on a new node).
pub fn probe_budget_s(cold_start: &ColdStart) -> u32 {
    let s = cold_start.in_container_s() * PROBE_MARGIN;
    if s.is_finite() {
        s.ceil().max(MIN_PROBE_BUDGET_S).min(f64::from(u32::MAX)) as u32
    } else {
        MIN_PROBE_BUDGET_S as u32
    }
}

/// The least time a server takes to start with `weights_gb` GB (10^9 bytes) of weights: the
/// fastest of every [`Delivery`] on a running node with warm compile caches
/// ([`ENGINE_START_S`]) and no instance known (the per-instance ceilings). Pass 0 when the
/// weights are unknown.
pub fn least_start(weights_gb: f64) -> ColdStart {
    let bytes = weights_gb * 1e9;
    let mut best: Option<ColdStart> = None;
    for d in Delivery::ALL {
        let c = cold_start_s(d, bytes, ENGINE_START_S, None, Node::Running);
        if best.as_ref().is_none_or(|b| c.seconds < b.seconds) {
            best = Some(c);
        }
    }
    best.unwrap_or_else(|| {
        cold_start_s(
            Delivery::NvmePrepull,
            bytes,
            ENGINE_START_S,
            None,
            Node::Running,
        )
    })
}

/// Seconds of [`least_start`].
pub fn least_start_s(weights_gb: f64) -> f64 {
    least_start(weights_gb).seconds
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cold_start::{WeightsSource, S3_CEILING_GBS};

    fn cold(engine: f64, load: f64) -> ColdStart {
        ColdStart {
            seconds: 60.0 + 30.0 + engine + load,
            boot_s: 60.0,
            fetch_s: 30.0,
            engine_start_s: engine,
            load_s: load,
            fetch_gbs: Some(1.0),
            read_gbs: 1.9,
            delivery: Delivery::NvmePrepull,
            source: WeightsSource::Nvme,
            basis: String::new(),
        }
    }

    #[test]
    fn probe_budget_covers_the_container_with_a_quarter_more() {
        assert_eq!(probe_budget_s(&cold(200.0, 0.0)), 250);
        assert_eq!(probe_budget_s(&cold(200.0, 36.9)), 297);
        assert_eq!(probe_budget_s(&cold(-1000.0, 0.0)), 60);
        assert_eq!(probe_budget_s(&cold(f64::NAN, 0.0)), 60);
    }

    #[test]
    fn least_start_is_the_fastest_delivery_on_a_warm_node() {
        assert_eq!(least_start_s(0.0), ENGINE_START_S);
        let l = least_start(62.5);
        assert_eq!(l.delivery, Delivery::S3Stream);
        assert!((l.seconds - (ENGINE_START_S + 62.5 / S3_CEILING_GBS)).abs() < 1e-9);
        // No rendered budget is below it: the budget is the cold container × 1.25.
        for gb in [1.0, 16.0, 140.0, 810.0] {
            for d in Delivery::ALL {
                let c = cold_start_s(d, gb * 1e9, ENGINE_COLD_START_S, None, Node::New);
                assert!(
                    f64::from(probe_budget_s(&c)) >= least_start_s(gb),
                    "{d:?} {gb}"
                );
            }
        }
    }
}
