//! Arrival processes ([`Arrivals`]): Poisson, gamma renewal, hourly profiles and trace replay.

use super::error::TrafficError;
use super::parse::{parse_number, parse_with};
use inferplan_catalog::bounds;
use inferplan_plan::error::shown;
use inferplan_plan::{Trace, Workload};
use std::fmt;
use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;

/// When requests arrive.
#[derive(Debug, Clone, PartialEq)]
pub enum Arrivals {
    /// A Poisson process: exponential gaps, coefficient of variation 1 (`poisson:rate=20`).
    Poisson {
        /// Mean requests per second.
        rate_rps: f64,
    },
    /// A renewal process with gamma-distributed gaps (`gamma:cv=2,rate=20`): `cv` above 1 is
    /// burstier than Poisson, below 1 more regular, 0 evenly spaced.
    Gamma {
        /// Mean requests per second.
        rate_rps: f64,
        /// Coefficient of variation of the gaps (0 to 10, `bounds::BURSTINESS`).
        cv: f64,
    },
    /// A rate that changes with the hour of a simulated day, which starts at hour 0 and
    /// repeats every 24 hours (`profile:hourly=r0/r1/…/r23,cv=1`).
    ///
    /// Arrivals are a gamma-renewal process of the given `cv` (1: Poisson) run on the
    /// cumulative expected count, so each hour gets requests in proportion to its rate (an
    /// hour at rate 0 gets none) and the piecewise-constant rate is followed exactly.
    Profile {
        /// Mean requests per second in each hour of the day; not negative, not all zero.
        hourly_rps: [f64; 24],
        /// Coefficient of variation of the gaps, in expected-count time (0 to 10).
        cv: f64,
    },
    /// The replay of a recorded trace (see [`Arrivals::replay`]).
    Trace {
        /// The trace (shared: it can be large).
        trace: Arc<Trace>,
        /// Speed-up: arrival times are divided by it (2 replays twice as fast).
        time_scale: f64,
        /// How many times the trace plays, back to back (1: once). Each pass starts one span
        /// of the trace plus one mean gap after the previous one.
        repeat: u32,
        /// Prompt lengths from the trace; when false, from
        /// [`TrafficSpec::input`](crate::traffic::TrafficSpec::input).
        input_from_trace: bool,
        /// Output lengths from the trace; when false, from
        /// [`TrafficSpec::output`](crate::traffic::TrafficSpec::output).
        output_from_trace: bool,
    },
}

impl Arrivals {
    /// The replay of `trace` at its own speed, once, with its own lengths.
    pub fn replay(trace: impl Into<Arc<Trace>>) -> Arrivals {
        Arrivals::Trace {
            trace: trace.into(),
            time_scale: 1.0,
            repeat: 1,
            input_from_trace: true,
            output_from_trace: true,
        }
    }

    /// Reads a trace file (see [`Trace::read`]) and replays it as [`Arrivals::replay`] does.
    pub fn read_trace(path: &Path) -> Result<Arrivals, TrafficError> {
        Ok(Arrivals::replay(Trace::read(path)?))
    }

    /// The arrivals of a workload: its hourly profile when it has one, else a Poisson
    /// process (burstiness 1) or gamma-renewal process at its mean rate, with its burstiness
    /// as the coefficient of variation.
    pub fn of_workload(workload: &Workload) -> Arrivals {
        let traffic = &workload.traffic;
        let cv = traffic.burstiness;
        if traffic.daily_profile.is_some() {
            Arrivals::Profile {
                hourly_rps: workload.hourly_rates(),
                cv,
            }
        } else if cv == 1.0 {
            Arrivals::Poisson {
                rate_rps: traffic.rate_rps,
            }
        } else {
            Arrivals::Gamma {
                rate_rps: traffic.rate_rps,
                cv,
            }
        }
    }

    /// Mean requests per second (over a day for a profile; for a trace, (requests − 1) /
    /// span times the time scale, `None` when all its requests arrive at once).
    pub fn mean_rate_rps(&self) -> Option<f64> {
        match self {
            Arrivals::Poisson { rate_rps } | Arrivals::Gamma { rate_rps, .. } => Some(*rate_rps),
            Arrivals::Profile { hourly_rps, .. } => Some(hourly_rps.iter().sum::<f64>() / 24.0),
            Arrivals::Trace {
                trace, time_scale, ..
            } => trace.stats().mean_rate_rps.map(|rate| rate * time_scale),
        }
    }

    /// The same process at another mean rate: a profile keeps its shape, a trace is sped up
    /// or slowed down (unchanged when its mean rate is undefined or zero).
    pub fn with_mean_rate(self, rate_rps: f64) -> Arrivals {
        match self {
            Arrivals::Poisson { .. } => Arrivals::Poisson { rate_rps },
            Arrivals::Gamma { cv, .. } => Arrivals::Gamma { rate_rps, cv },
            Arrivals::Profile { hourly_rps, cv } => {
                let mean = hourly_rps.iter().sum::<f64>() / 24.0;
                let factor = if mean > 0.0 { rate_rps / mean } else { 1.0 };
                Arrivals::Profile {
                    hourly_rps: hourly_rps.map(|r| r * factor),
                    cv,
                }
            }
            Arrivals::Trace {
                trace,
                time_scale,
                repeat,
                input_from_trace,
                output_from_trace,
            } => {
                let natural = trace.stats().mean_rate_rps.filter(|r| *r > 0.0);
                Arrivals::Trace {
                    time_scale: natural.map_or(time_scale, |n| rate_rps / n),
                    trace,
                    repeat,
                    input_from_trace,
                    output_from_trace,
                }
            }
        }
    }

    /// Whether the prompt lengths come from
    /// [`TrafficSpec::input`](crate::traffic::TrafficSpec::input) (not from a trace).
    pub(super) fn samples_input(&self) -> bool {
        !matches!(
            self,
            Arrivals::Trace {
                input_from_trace: true,
                ..
            }
        )
    }

    /// Whether the output lengths come from
    /// [`TrafficSpec::output`](crate::traffic::TrafficSpec::output) (not from a trace).
    pub(super) fn samples_output(&self) -> bool {
        !matches!(
            self,
            Arrivals::Trace {
                output_from_trace: true,
                ..
            }
        )
    }

    fn check(&self) -> Result<(), (String, String)> {
        let rate = |rate_rps: f64| {
            bounds::RATE_RPS
                .check(rate_rps)
                .map(|_| ())
                .map_err(|m| ("rate_rps".to_owned(), m))
        };
        let cv = |cv: f64| {
            bounds::BURSTINESS
                .check(cv)
                .map(|_| ())
                .map_err(|m| ("cv".to_owned(), m))
        };
        match self {
            Arrivals::Poisson { rate_rps } => rate(*rate_rps),
            Arrivals::Gamma { rate_rps, cv: c } => rate(*rate_rps).and(cv(*c)),
            Arrivals::Profile { hourly_rps, cv: c } => {
                for (hour, &r) in hourly_rps.iter().enumerate() {
                    if r != 0.0 {
                        bounds::RATE_RPS
                            .check(r)
                            .map_err(|m| (format!("hourly_rps[{hour}]"), format!("{m} (or 0)")))?;
                    }
                }
                let day: f64 = hourly_rps.iter().sum();
                if !(day > 0.0 && day.is_finite()) {
                    return Err((
                        "hourly_rps".to_owned(),
                        "at least one hour must have a positive rate".to_owned(),
                    ));
                }
                cv(*c)
            }
            Arrivals::Trace {
                trace,
                time_scale,
                repeat,
                ..
            } => {
                if trace.requests.is_empty() {
                    return Err(("trace".to_owned(), "the trace has no requests".to_owned()));
                }
                if !(time_scale.is_finite() && *time_scale > 0.0) {
                    return Err((
                        "time_scale".to_owned(),
                        format!("must be positive and finite, found {time_scale}"),
                    ));
                }
                if *repeat == 0 {
                    return Err((
                        "repeat".to_owned(),
                        "must be at least 1, found 0".to_owned(),
                    ));
                }
                Ok(())
            }
        }
    }

    /// Checks the parameters; errors name the field as `arrivals.KEY`.
    pub fn validate(&self) -> Result<(), TrafficError> {
        self.check()
            .map_err(|(key, message)| TrafficError::Invalid {
                field: format!("arrivals.{key}"),
                message,
            })
    }
}

impl fmt::Display for Arrivals {
    /// The string form [`Arrivals::from_str`] reads; a trace is described as
    /// `trace:requests=N,time_scale=S,repeat=R`, which does not parse back.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Arrivals::Poisson { rate_rps } => write!(f, "poisson:rate={rate_rps}"),
            Arrivals::Gamma { rate_rps, cv } => write!(f, "gamma:cv={cv},rate={rate_rps}"),
            Arrivals::Profile { hourly_rps, cv } => {
                f.write_str("profile:hourly=")?;
                for (i, r) in hourly_rps.iter().enumerate() {
                    if i > 0 {
                        f.write_str("/")?;
                    }
                    write!(f, "{r}")?;
                }
                write!(f, ",cv={cv}")
            }
            Arrivals::Trace {
                trace,
                time_scale,
                repeat,
                ..
            } => write!(
                f,
                "trace:requests={},time_scale={time_scale},repeat={repeat}",
                trace.requests.len()
            ),
        }
    }
}

const ARRIVAL_FORMS: &str =
    "`poisson[:rate=…]`, `gamma:cv=…[,rate=…]` or `profile:hourly=r0/…/r23[,cv=…]`";

impl FromStr for Arrivals {
    type Err = TrafficError;

    /// Reads `poisson`, `poisson:rate=20`, `gamma:cv=2`, `gamma:cv=2,rate=20` or
    /// `profile:hourly=r0/r1/…/r23,cv=1` (24 rates in requests per second; `cv` is 1 unless
    /// given) and checks the values. A rate left out is 1 request per second: set the real
    /// one with [`Arrivals::with_mean_rate`]. Traces are files: see [`Arrivals::read_trace`].
    fn from_str(s: &str) -> Result<Arrivals, TrafficError> {
        parse_with(s, "arrival process", |spec| {
            let arrivals = match spec.kind.to_ascii_lowercase().as_str() {
                "" => return Err(format!("empty (expected {ARRIVAL_FORMS})")),
                "poisson" => {
                    let usage = "poisson[:rate=…]";
                    spec.allow(&["rate"], usage)?;
                    Arrivals::Poisson {
                        rate_rps: spec.number_or("rate", 1.0)?,
                    }
                }
                "gamma" => {
                    let usage = "gamma:cv=…[,rate=…]";
                    spec.allow(&["cv", "rate"], usage)?;
                    Arrivals::Gamma {
                        rate_rps: spec.number_or("rate", 1.0)?,
                        cv: spec.number("cv", usage)?,
                    }
                }
                "profile" => {
                    let usage = "profile:hourly=r0/…/r23[,cv=…]";
                    spec.allow(&["hourly", "cv"], usage)?;
                    let text = spec.required("hourly", usage)?;
                    let rates: Vec<&str> = text.split('/').map(str::trim).collect();
                    if rates.len() != 24 {
                        return Err(format!(
                            "`hourly` needs 24 rates separated by `/`, found {}",
                            rates.len()
                        ));
                    }
                    let mut hourly_rps = [0.0; 24];
                    for (slot, text) in hourly_rps.iter_mut().zip(rates) {
                        *slot = parse_number("hourly", text)?;
                    }
                    Arrivals::Profile {
                        hourly_rps,
                        cv: spec.number_or("cv", 1.0)?,
                    }
                }
                kind => {
                    return Err(format!(
                        "unknown kind `{}` (expected {ARRIVAL_FORMS})",
                        shown(kind)
                    ))
                }
            };
            arrivals.check().map_err(|(key, message)| {
                let key = match key.as_str() {
                    "rate_rps" => "rate",
                    k if k.starts_with("hourly") => "hourly",
                    k => k,
                };
                format!("`{key}` {message}")
            })?;
            Ok(arrivals)
        })
    }
}
