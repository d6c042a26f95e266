//! Flapping: an autoscaler that keeps reversing direction, and why.

use super::config::{FleetConfig, ScaleMetric};
use serde::Serialize;

/// More scale reversals per hour than this is flapping (two full swings up and down).
pub const FLAPPING_REVERSALS_PER_HOUR: f64 = 4.0;

/// An autoscaler that flapped.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Flapping {
    /// Reversals (a scale-up after a scale-down or the other way) per simulated hour (per
    /// hour of at least one hour, so short runs are not inflated).
    pub reversals_per_hour: f64,
    /// Why, one sentence each, most likely first.
    pub causes: Vec<String>,
}

/// The flapping of a run with `reversals` over `simulated_s`, if it flapped.
pub fn diagnose(cfg: &FleetConfig, reversals: u64, simulated_s: f64) -> Option<Flapping> {
    let a = cfg.autoscaler.as_ref()?;
    let per_hour = reversals as f64 / (simulated_s / 3600.0).max(1.0);
    if per_hour <= FLAPPING_REVERSALS_PER_HOUR {
        return None;
    }
    let mut causes = Vec::new();
    let has = |m: ScaleMetric| a.triggers.iter().any(|t| t.metric == m);
    if has(ScaleMetric::QueueDepth) && !has(ScaleMetric::InFlight) {
        causes.push(
            "the queue is the only load trigger: it reads zero whenever the replicas have room, \
             so it cannot say how many replicas are enough; the scale-down window passes on \
             zeros, replicas go until requests queue again, and the queue then asks for many at \
             once. Add a trigger on requests in flight (running + waiting, \
             `--autoscale inflight:N` beside `--autoscale queue:N`, as `render` writes) with N \
             below what one replica holds at its SLO"
                .to_owned(),
        );
    }
    if has(ScaleMetric::GpuUtilization) {
        causes.push(
            "GPU utilisation reads near 100 % with a single request decoding, so it does not \
             follow the load; scale on requests in flight instead"
                .to_owned(),
        );
    }
    let window = f64::from(a.behavior.scale_down.stabilization_window_s);
    // A replica on a new node waits for the node first.
    let cold_start_s = cfg.cold_start_s + cfg.nodes.map_or(0.0, |n| n.start_s);
    if window < cold_start_s {
        causes.push(format!(
            "the scale-down stabilization window ({window:.0} s) is shorter than a replica's \
             cold start ({:.0} s): a lull that short removes replicas the next rise needs \
             before they could be back; use a window of at least the cold start \
             (`--scale-down-stabilization-s`)",
            cold_start_s
        ));
    }
    if causes.is_empty() {
        causes.push(
            "the metrics cross their targets back and forth; a longer scale-down window \
             (`--scale-down-stabilization-s`) keeps the highest recent recommendation"
                .to_owned(),
        );
    }
    Some(Flapping {
        reversals_per_hour: per_hour,
        causes,
    })
}
