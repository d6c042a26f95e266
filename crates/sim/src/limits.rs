//! Ceilings on the work of one simulation, checked before it starts (`docs/limits.md`).
//!
//! A simulation's cost grows with the requests it serves, the simulated time it covers (the
//! sampler and the autoscaler tick through it), the replicas it routes over and the clients it
//! keeps. [`check`] estimates the first two from the traffic's mean rate and refuses a run that
//! would pass a ceiling, with a message that says which knob to turn; `simulate` and
//! `plan --verify` both call it, so they share the limits.

use crate::fleet::FleetConfig;
use crate::traffic::{Arrivals, Limit, TrafficSpec};
use inferplan_catalog::bounds;

/// A simulation that would do more work than allowed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct WorkError {
    /// What is too large: `requests`, `duration`, `replicas`, `clients`, `autoscaler`.
    pub field: &'static str,
    /// How large, the ceiling, and what to do.
    pub message: String,
}

/// The expected size of a simulation.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Work {
    /// Requests it will generate (expected; exact for a request limit).
    pub requests: f64,
    /// Simulated seconds until the last arrival (expected; 0 when unknown, as in a closed
    /// loop, whose pace the replicas set).
    pub horizon_s: f64,
}

/// Estimates the requests and simulated time of `spec` (run as a closed loop when
/// `closed_loop`).
pub fn expected(spec: &TrafficSpec, closed_loop: bool) -> Work {
    // A replayed trace: its rows over its passes, and its span at its speed.
    let trace = match &spec.arrivals {
        Arrivals::Trace {
            trace,
            time_scale,
            repeat,
            ..
        } => {
            let passes = f64::from(*repeat);
            Some((
                trace.requests.len() as f64 * passes,
                trace.duration_s() * passes / time_scale,
            ))
        }
        _ => None,
    };
    let rate = spec.arrivals.mean_rate_rps().filter(|r| *r > 0.0);
    let (requests, horizon_s) = match (spec.limit, trace) {
        (Limit::Requests(n), Some((rows, span))) => {
            let n = (n as f64).min(rows);
            (n, span * n / rows.max(1.0))
        }
        (Limit::Requests(n), None) => (n as f64, rate.map_or(0.0, |r| n as f64 / r)),
        (Limit::DurationUs(d), Some((rows, span))) => {
            let d = d as f64 / 1e6;
            (rate.map_or(rows, |r| (r * d).min(rows)), d.min(span))
        }
        (Limit::DurationUs(d), None) => {
            let d = d as f64 / 1e6;
            (rate.map_or(0.0, |r| r * d), d)
        }
    };
    // Closed-loop clients send as fast as they are answered: the generator's clock only
    // paces lengths, so it says nothing of simulated time.
    let horizon_s = match (closed_loop, spec.limit) {
        (true, Limit::DurationUs(d)) => d as f64 / 1e6,
        (true, Limit::Requests(_)) => 0.0,
        (false, _) => horizon_s,
    };
    Work {
        requests,
        horizon_s,
    }
}

/// Refuses a simulation of `spec` on `cfg` that would serve more than `max_requests`
/// requests, cover more than [`bounds::SIM_SECONDS`], or keep more replicas or clients than
/// [`bounds::REPLICAS`] and [`bounds::CLIENTS`] allow.
pub fn check(cfg: &FleetConfig, spec: &TrafficSpec, max_requests: u64) -> Result<Work, WorkError> {
    let too_many = |field: &'static str, what: &str, value: u64, bound: bounds::Bound| {
        bound.check_u64(value).map(|_| ()).map_err(|m| WorkError {
            field,
            message: format!("{what} {m}"),
        })
    };
    // A fleet that scales to zero may start with none (a batch run before its opening).
    let from_zero = cfg.replicas == 0 && cfg.autoscaler.as_ref().is_some_and(|a| a.min == 0);
    if !from_zero {
        too_many(
            "replicas",
            "the initial replicas",
            u64::from(cfg.replicas),
            bounds::REPLICAS,
        )?;
    }
    if let Some(a) = &cfg.autoscaler {
        too_many(
            "autoscaler",
            "the most replicas",
            u64::from(a.max),
            bounds::REPLICAS,
        )?;
        bounds::SCALE_INTERVAL
            .check(a.interval_s)
            .map_err(|m| WorkError {
                field: "autoscaler",
                message: format!("the interval between decisions {m}"),
            })?;
    }
    if let Some(m) = &cfg.managed {
        too_many(
            "autoscaler",
            "the most instances",
            u64::from(m.max),
            bounds::REPLICAS,
        )?;
    }
    if let Some(clients) = cfg.closed_loop {
        too_many(
            "clients",
            "the closed-loop clients",
            u64::from(clients),
            bounds::CLIENTS,
        )?;
    }
    let work = expected(spec, cfg.closed_loop.is_some());
    if let Some(message) = over_ceiling(work.requests, max_requests) {
        return Err(WorkError {
            field: "requests",
            message,
        });
    }
    if work.horizon_s > bounds::SIM_SECONDS.max {
        return Err(WorkError {
            field: "duration",
            message: format!(
                "the run would cover about {:.0} simulated s (the requests at the traffic's rate), \
                 above the ceiling of {} s (31 days): give fewer requests or a higher rate",
                work.horizon_s,
                bounds::SIM_SECONDS.max
            ),
        });
    }
    Ok(work)
}

/// Why `requests` (expected) are too many for a ceiling of `max_requests`, with what to do;
/// `None` within it.
pub fn over_ceiling(requests: f64, max_requests: u64) -> Option<String> {
    (requests > max_requests as f64).then(|| {
        format!(
            "the run would serve about {requests:.0} requests, above the ceiling of \
             {max_requests} (about {:.0} s of one core): give fewer requests or a shorter \
             duration, or raise --max-sim-requests",
            requests / 180_000.0
        )
    })
}
