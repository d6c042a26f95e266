//! A shared multi-model pool: replicas of the same size that load whichever model a request
//! asks for, keeping some resident and swapping the others in.
//!
//! The model, stated:
//!
//! - One replica (one engine process) holds one model's weights at a time; a swap restarts the
//!   engine with other weights: `inferplan_serving::cold_start_s` without the instance boot (the
//!   instance runs), from the workload's `constraints.weights_source`.
//! - `S` resident slots keep the `S` busiest models loaded (the best static policy for
//!   independent Poisson requests). A request for another model finds it not resident with
//!   probability `p(S) = Σ rate of the other models / Σ all rates`, and waits a swap.
//! - Each miss occupies a replica for the swap: `p(S) × R × swap_s` replicas are busy swapping
//!   on average at rate `R` (Little's law), added to `max(capacity replicas, S)`.
//! - The SLO accepts a miss when `p(S)` is within the share of requests the percentile lets go
//!   (`1 − 0.99` at p99), or when the swap fits in the limit (a TTFT or e2e limit for
//!   interactive work, the deadline for async work; batch work always waits).
//!
//! The pool takes the `S` with the fewest replicas among those the SLO accepts.

/// What the pool needs for `rates` (per model, any order), at `rate_to_serve` in total.
#[derive(Debug, Clone, PartialEq)]
pub struct Residency {
    /// Models kept resident.
    pub resident: usize,
    /// Probability that a request finds its model not resident.
    pub miss_probability: f64,
    /// Replicas busy swapping on average.
    pub swapping_replicas: u32,
    /// Replicas in all (without N+1 spares).
    pub replicas: u32,
}

/// The smallest pool for `rates`, given the replicas `capacity_replicas` that serve the summed
/// rate, the swap time, the share of requests the SLO percentile may miss, and whether a swap
/// fits within the latency limit.
pub fn size(
    rates: &[f64],
    rate_to_serve: f64,
    capacity_replicas: u32,
    swap_s: f64,
    allowed_miss: f64,
    swap_fits_slo: bool,
) -> Residency {
    let mut sorted: Vec<f64> = rates.to_vec();
    sorted.sort_by(|a, b| b.total_cmp(a));
    let total: f64 = sorted.iter().sum();
    let mut best: Option<Residency> = None;
    for s in 0..=sorted.len() {
        let missed: f64 = sorted[s..].iter().sum();
        let p = if total > 0.0 { missed / total } else { 0.0 };
        // A small tolerance keeps a float sum at exactly the allowed share accepted.
        if !(swap_fits_slo || p <= allowed_miss + 1e-12) {
            continue;
        }
        let swapping = if p > 0.0 {
            (p * rate_to_serve * swap_s).ceil() as u32
        } else {
            0
        };
        let replicas = capacity_replicas.max(s as u32).max(1) + swapping;
        if best.as_ref().is_none_or(|b| replicas < b.replicas) {
            best = Some(Residency {
                resident: s,
                miss_probability: p,
                swapping_replicas: swapping,
                replicas,
            });
        }
    }
    // `s = len` (nothing missed) is always accepted.
    best.unwrap_or(Residency {
        resident: sorted.len(),
        miss_probability: 0.0,
        swapping_replicas: 0,
        replicas: capacity_replicas.max(sorted.len() as u32),
    })
}
