//! Request generation: when requests arrive and how many tokens they carry.
//!
//! A [`TrafficSpec`] names an arrival process ([`Arrivals`]: Poisson, gamma-renewal with a
//! chosen burstiness, a 24-hour rate profile, or the replay of a recorded [`Trace`]), a
//! prompt-length and an output-length distribution ([`LengthDist`]) and where to stop
//! ([`Limit`]). [`Traffic`] turns it into a lazy, deterministic stream of [`Request`]s:
//! memory does not grow with the number of requests (a replayed trace is held once, shared).
//!
//! Arrival times are integer microseconds since the start of the simulation. The arrival
//! process, the prompt lengths and the output lengths draw from three separate streams split
//! from the seed, so changing a length distribution leaves the arrival times unchanged
//! (common random numbers when comparing configurations).
//!
//! Distributions and arrival processes parse from short strings, as a command line would
//! give them: `800`, `uniform:lo=100,hi=900`, `normal:mean=500,sd=100`,
//! `lognormal:mean=800,p99=6000`; `poisson`, `poisson:rate=20`, `gamma:cv=2,rate=20`,
//! `profile:hourly=r0/r1/…/r23,cv=1`. Their `Display` writes the same form back.

use crate::rng::Rng;
use inferplan_catalog::bounds;
use inferplan_perf::portable;
use inferplan_plan::error::shown;
use inferplan_plan::workload::Length;
use inferplan_plan::{PlanError, Trace, Workload};
use std::fmt;
use std::iter::FusedIterator;
use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;

/// One request offered to the fleet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Request {
    /// Position in the stream: 0, 1, 2, … in order of arrival.
    pub id: u64,
    /// Arrival time, microseconds since the start of the simulation.
    pub arrival_us: u64,
    /// Prompt tokens (at least 1).
    pub input_tokens: u32,
    /// Tokens to generate (at least 1).
    pub output_tokens: u32,
}

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

/// The standard normal 99th percentile, z₀.₉₉.
const Z99: f64 = 2.326_347_874_040_841;

// --- Lengths ---------------------------------------------------------------------------------

/// A distribution of token counts. Samples are whole numbers of at least 1.
#[derive(Debug, Clone, PartialEq)]
pub enum LengthDist {
    /// Always this many tokens (`800`).
    Fixed(u32),
    /// Uniform on the integers `lo..=hi` (`uniform:lo=100,hi=900`).
    Uniform {
        /// Fewest tokens.
        lo: u32,
        /// Most tokens.
        hi: u32,
    },
    /// Normal, rounded to whole tokens and truncated at 1: values that would round below 1
    /// are drawn again (`normal:mean=500,sd=100`).
    Normal {
        /// Mean of the untruncated normal, tokens.
        mean: f64,
        /// Standard deviation of the untruncated normal, tokens.
        sd: f64,
    },
    /// Log-normal with the given mean and 99th percentile, rounded to whole tokens
    /// (`lognormal:mean=800,p99=6000`).
    ///
    /// σ is the smaller root of σ²/2 − z₀.₉₉ σ + ln(p99/mean) = 0 and μ = ln mean − σ²/2,
    /// as in the planner. A p99 more than e^(z₀.₉₉²/2) ≈ 14.96 times the mean has no
    /// log-normal; it gets the widest one (σ = z₀.₉₉), whose p99 is lower than asked.
    LogNormal {
        /// Mean tokens.
        mean: f64,
        /// 99th-percentile tokens (at least the mean).
        p99: f64,
    },
    /// Uniform over the values of a sample, such as the lengths of a trace (see
    /// [`LengthDist::trace_input`]); zeros count as 1.
    Empirical(Vec<u32>),
}

/// μ and σ of the log-normal with the given mean and 99th percentile.
fn lognormal_params(mean: f64, p99: f64) -> (f64, f64) {
    let disc = Z99 * Z99 - 2.0 * portable::ln(p99 / mean);
    // A p99 below the mean (refused by validation) would give σ < 0: use a point mass.
    let sigma = (Z99 - disc.max(0.0).sqrt()).max(0.0);
    let mu = portable::ln(mean) - sigma * sigma / 2.0;
    (mu, sigma)
}

/// `x` rounded to whole tokens, at least 1, at most `u32::MAX` (NaN gives 1).
fn tokens(x: f64) -> u32 {
    let r = x.round();
    if r >= 1.0 {
        r as u32
    } else {
        1
    }
}

/// A count from a trace as tokens: at least 1, at most `u32::MAX`.
fn trace_tokens(n: u64) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX).max(1)
}

fn lognormal_tokens(rng: &mut Rng, mu: f64, sigma: f64) -> u32 {
    tokens(rng.lognormal(mu, sigma))
}

/// Complementary error function (the Chebyshev fit of Numerical Recipes' `erfcc`; relative
/// error below 1.2 × 10⁻⁷).
fn erfc(x: f64) -> f64 {
    let z = x.abs();
    let t = 1.0 / (1.0 + 0.5 * z);
    let poly = -1.265_512_23
        + t * (1.000_023_68
            + t * (0.374_091_96
                + t * (0.096_784_18
                    + t * (-0.186_288_06
                        + t * (0.278_868_07
                            + t * (-1.135_203_98
                                + t * (1.488_515_87 + t * (-0.822_152_23 + t * 0.170_872_77))))))));
    let r = t * portable::exp(-z * z + poly);
    if x >= 0.0 {
        r
    } else {
        2.0 - r
    }
}

impl LengthDist {
    /// Draws a token count (at least 1). Never panics, even for values that
    /// [`TrafficSpec::validate`] would refuse (an empty sample gives 1).
    pub fn sample(&self, rng: &mut Rng) -> u32 {
        match *self {
            LengthDist::Fixed(n) => n.max(1),
            LengthDist::Uniform { lo, hi } => {
                let (a, b) = (u64::from(lo.min(hi)), u64::from(lo.max(hi)));
                // At most u32::MAX: the sum cannot leave u32.
                let x = a + rng.below(b - a + 1);
                u32::try_from(x).unwrap_or(u32::MAX).max(1)
            }
            LengthDist::Normal { mean, sd } => {
                // Rejection: with mean ≥ 1 (as validated) at least half the draws pass.
                for _ in 0..64 {
                    let x = rng.normal(mean, sd).round();
                    if x >= 1.0 {
                        return tokens(x);
                    }
                }
                1
            }
            LengthDist::LogNormal { mean, p99 } => {
                let (mu, sigma) = lognormal_params(mean, p99);
                lognormal_tokens(rng, mu, sigma)
            }
            LengthDist::Empirical(ref values) => {
                if values.is_empty() {
                    1
                } else {
                    values[rng.below(values.len() as u64) as usize].max(1)
                }
            }
        }
    }

    /// Mean tokens of the samples: exact for fixed, uniform and empirical lengths; for the
    /// normal, the mean of the truncated distribution (to within rounding); for the
    /// log-normal, the mean asked for (rounding and the floor of 1 token move it by less
    /// than a token). O(n) for an empirical sample.
    pub fn mean(&self) -> f64 {
        match *self {
            LengthDist::Fixed(n) => f64::from(n.max(1)),
            LengthDist::Uniform { lo, hi } => {
                let (a, b) = (f64::from(lo.min(hi)), f64::from(lo.max(hi)));
                let floor_correction = if a == 0.0 { 1.0 / (b - a + 1.0) } else { 0.0 };
                (a + b) / 2.0 + floor_correction
            }
            LengthDist::Normal { mean, sd } => {
                if sd.is_nan() || sd <= 0.0 {
                    return f64::from(tokens(mean));
                }
                // Draws below 0.5 round below 1 and are redrawn: the mean of the normal
                // truncated at 0.5 is μ + σ φ(α) / (1 − Φ(α)), α = (0.5 − μ) / σ.
                let alpha = (0.5 - mean) / sd;
                let tail = 0.5 * erfc(alpha / std::f64::consts::SQRT_2);
                let density =
                    portable::exp(-alpha * alpha / 2.0) / (2.0 * std::f64::consts::PI).sqrt();
                let m = mean + sd * density / tail;
                if m.is_finite() {
                    m.max(1.0)
                } else {
                    1.0
                }
            }
            LengthDist::LogNormal { mean, .. } => mean.max(1.0),
            LengthDist::Empirical(ref values) => {
                if values.is_empty() {
                    return 1.0;
                }
                let sum: u64 = values.iter().map(|&v| u64::from(v.max(1))).sum();
                sum as f64 / values.len() as f64
            }
        }
    }

    /// The prompt lengths of a trace, as an empirical distribution.
    pub fn trace_input(trace: &Trace) -> LengthDist {
        LengthDist::Empirical(
            trace
                .requests
                .iter()
                .map(|r| trace_tokens(r.input_tokens))
                .collect(),
        )
    }

    /// The output lengths of a trace, as an empirical distribution.
    pub fn trace_output(trace: &Trace) -> LengthDist {
        LengthDist::Empirical(
            trace
                .requests
                .iter()
                .map(|r| trace_tokens(r.output_tokens))
                .collect(),
        )
    }

    /// Checks the parameters; on error, the offending parameter (none for a fixed length)
    /// and what is wrong with it.
    fn check(&self) -> Result<(), (Option<&'static str>, String)> {
        match *self {
            LengthDist::Fixed(n) => {
                if n == 0 {
                    return Err((None, "must be at least 1 token, found 0".to_owned()));
                }
            }
            LengthDist::Uniform { lo, hi } => {
                if lo == 0 {
                    return Err((Some("lo"), "must be at least 1 token, found 0".to_owned()));
                }
                if hi < lo {
                    return Err((
                        Some("hi"),
                        format!("must be at least lo ({lo}), found {hi}"),
                    ));
                }
            }
            LengthDist::Normal { mean, sd } => {
                if !(mean.is_finite() && mean >= 1.0) {
                    return Err((
                        Some("mean"),
                        format!("must be a finite number of at least 1 token, found {mean}"),
                    ));
                }
                if !(sd.is_finite() && sd >= 0.0) {
                    return Err((
                        Some("sd"),
                        format!("must be finite and not negative, found {sd}"),
                    ));
                }
            }
            LengthDist::LogNormal { mean, p99 } => {
                if !(mean.is_finite() && mean >= 1.0) {
                    return Err((
                        Some("mean"),
                        format!("must be a finite number of at least 1 token, found {mean}"),
                    ));
                }
                if !p99.is_finite() {
                    return Err((Some("p99"), format!("must be finite, found {p99}")));
                }
                if p99 < mean {
                    return Err((
                        Some("p99"),
                        format!("must be at least the mean ({mean}), found {p99}"),
                    ));
                }
            }
            LengthDist::Empirical(ref values) => {
                if values.is_empty() {
                    return Err((None, "the empirical sample has no values".to_owned()));
                }
            }
        }
        let (key, high) = match *self {
            LengthDist::Fixed(n) => (None, f64::from(n)),
            LengthDist::Uniform { hi, .. } => (Some("hi"), f64::from(hi)),
            LengthDist::Normal { mean, sd } => (Some("mean"), mean + sd),
            LengthDist::LogNormal { p99, .. } => (Some("p99"), p99),
            LengthDist::Empirical(ref values) => {
                (None, values.iter().copied().max().map_or(0.0, f64::from))
            }
        };
        if high > bounds::TOKENS.max {
            return Err((
                key,
                format!(
                    "must stay within {} tokens, found {high}",
                    bounds::TOKENS.max
                ),
            ));
        }
        Ok(())
    }

    /// Checks the parameters; `field` names this distribution in the error
    /// (`input`, `output`).
    pub fn validate(&self, field: &str) -> Result<(), TrafficError> {
        self.check()
            .map_err(|(key, message)| TrafficError::Invalid {
                field: match key {
                    Some(key) => format!("{field}.{key}"),
                    None => field.to_owned(),
                },
                message,
            })
    }
}

impl From<Length> for LengthDist {
    /// A workload length: a fixed count stays fixed; a mean and p99 become the log-normal the
    /// planner assumes (a p99 below the mean is raised to the mean, as the planner does).
    fn from(length: Length) -> LengthDist {
        match length {
            Length::Fixed(n) => LengthDist::Fixed(trace_tokens(n)),
            Length::Dist { mean, p99 } => LengthDist::LogNormal {
                mean,
                p99: p99.max(mean),
            },
        }
    }
}

impl fmt::Display for LengthDist {
    /// The string form [`LengthDist::from_str`] reads; an empirical sample is written as
    /// `empirical:n=COUNT`, which does not parse back.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LengthDist::Fixed(n) => write!(f, "{n}"),
            LengthDist::Uniform { lo, hi } => write!(f, "uniform:lo={lo},hi={hi}"),
            LengthDist::Normal { mean, sd } => write!(f, "normal:mean={mean},sd={sd}"),
            LengthDist::LogNormal { mean, p99 } => write!(f, "lognormal:mean={mean},p99={p99}"),
            LengthDist::Empirical(values) => write!(f, "empirical:n={}", values.len()),
        }
    }
}

const LENGTH_FORMS: &str = "a token count such as `800`, `uniform:lo=…,hi=…`, \
                            `normal:mean=…,sd=…` or `lognormal:mean=…,p99=…`";

impl FromStr for LengthDist {
    type Err = TrafficError;

    /// Reads `800`, `uniform:lo=100,hi=900`, `normal:mean=500,sd=100` or
    /// `lognormal:mean=800,p99=6000` (kinds and keys ignore case; spaces around parts are
    /// allowed) and checks the values.
    fn from_str(s: &str) -> Result<LengthDist, TrafficError> {
        parse_with(s, "length distribution", |spec| {
            let dist = match spec.kind.to_ascii_lowercase().as_str() {
                "" => return Err(format!("empty (expected {LENGTH_FORMS})")),
                "uniform" => {
                    let usage = "uniform:lo=…,hi=…";
                    spec.allow(&["lo", "hi"], usage)?;
                    LengthDist::Uniform {
                        lo: spec.whole("lo", usage)?,
                        hi: spec.whole("hi", usage)?,
                    }
                }
                "normal" => {
                    let usage = "normal:mean=…,sd=…";
                    spec.allow(&["mean", "sd"], usage)?;
                    LengthDist::Normal {
                        mean: spec.number("mean", usage)?,
                        sd: spec.number("sd", usage)?,
                    }
                }
                "lognormal" => {
                    let usage = "lognormal:mean=…,p99=…";
                    spec.allow(&["mean", "p99"], usage)?;
                    LengthDist::LogNormal {
                        mean: spec.number("mean", usage)?,
                        p99: spec.number("p99", usage)?,
                    }
                }
                kind if looks_numeric(kind) => {
                    if !spec.pairs.is_empty() || s.contains(':') {
                        return Err(format!("expected {LENGTH_FORMS}"));
                    }
                    LengthDist::Fixed(
                        parse_whole(kind)
                            .ok_or_else(|| format!("`{}` {NOT_WHOLE}", shown(kind)))?,
                    )
                }
                kind => {
                    return Err(format!(
                        "unknown kind `{}` (expected {LENGTH_FORMS})",
                        shown(kind)
                    ))
                }
            };
            dist.check().map_err(|(key, message)| match key {
                Some(key) => format!("`{key}` {message}"),
                None => message,
            })?;
            Ok(dist)
        })
    }
}

// --- Arrivals --------------------------------------------------------------------------------

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
        /// Prompt lengths from the trace; when false, from [`TrafficSpec::input`].
        input_from_trace: bool,
        /// Output lengths from the trace; when false, from [`TrafficSpec::output`].
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

    /// Whether the prompt lengths come from [`TrafficSpec::input`] (not from a trace).
    fn samples_input(&self) -> bool {
        !matches!(
            self,
            Arrivals::Trace {
                input_from_trace: true,
                ..
            }
        )
    }

    /// Whether the output lengths come from [`TrafficSpec::output`] (not from a trace).
    fn samples_output(&self) -> bool {
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

// --- Parsing helpers -------------------------------------------------------------------------

/// Splits `s` as a [`Spec`] and builds a value from it; a message from either step becomes a
/// [`TrafficError::Parse`] that quotes the input.
fn parse_with<T>(
    s: &str,
    what: &'static str,
    build: impl FnOnce(&Spec) -> Result<T, String>,
) -> Result<T, TrafficError> {
    Spec::parse(s)
        .and_then(|spec| build(&spec))
        .map_err(|message| TrafficError::Parse {
            what,
            input: shown(s),
            message,
        })
}

/// `kind[:key=value,…]`, split but not interpreted.
struct Spec<'a> {
    kind: &'a str,
    pairs: Vec<(&'a str, &'a str)>,
}

const NOT_WHOLE: &str = "is not a whole number of tokens";

impl<'a> Spec<'a> {
    fn parse(s: &'a str) -> Result<Spec<'a>, String> {
        let s = s.trim();
        let (kind, rest) = match s.split_once(':') {
            Some((kind, rest)) => (kind.trim(), rest),
            None => (s, ""),
        };
        let mut pairs: Vec<(&str, &str)> = Vec::new();
        if !rest.trim().is_empty() {
            for part in rest.split(',') {
                let part = part.trim();
                let (key, value) = part
                    .split_once('=')
                    .ok_or_else(|| format!("expected `key=value`, found `{}`", shown(part)))?;
                let (key, value) = (key.trim(), value.trim());
                if key.is_empty() {
                    return Err(format!("missing key before `={}`", shown(value)));
                }
                if pairs.iter().any(|(k, _)| k.eq_ignore_ascii_case(key)) {
                    return Err(format!("`{}` is given twice", shown(key)));
                }
                pairs.push((key, value));
            }
        }
        Ok(Spec { kind, pairs })
    }

    /// Refuses keys outside `keys`.
    fn allow(&self, keys: &[&str], usage: &str) -> Result<(), String> {
        match self
            .pairs
            .iter()
            .find(|(k, _)| !keys.iter().any(|known| known.eq_ignore_ascii_case(k)))
        {
            Some((key, _)) => Err(format!("unknown key `{}` (expected `{usage}`)", shown(key))),
            None => Ok(()),
        }
    }

    fn get(&self, key: &str) -> Option<&'a str> {
        self.pairs
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| *v)
    }

    fn required(&self, key: &str, usage: &str) -> Result<&'a str, String> {
        self.get(key)
            .ok_or_else(|| format!("missing key `{key}` (expected `{usage}`)"))
    }

    fn number(&self, key: &str, usage: &str) -> Result<f64, String> {
        parse_number(key, self.required(key, usage)?)
    }

    fn number_or(&self, key: &str, default: f64) -> Result<f64, String> {
        self.get(key)
            .map_or(Ok(default), |text| parse_number(key, text))
    }

    fn whole(&self, key: &str, usage: &str) -> Result<u32, String> {
        let text = self.required(key, usage)?;
        parse_whole(text).ok_or_else(|| format!("`{key}`: `{}` {NOT_WHOLE}", shown(text)))
    }
}

/// A finite number.
fn parse_number(key: &str, text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(x) if x.is_finite() => Ok(x),
        _ => Err(format!("`{key}`: `{}` is not a finite number", shown(text))),
    }
}

/// Whole tokens: decimal digits only, within `u32`.
fn parse_whole(text: &str) -> Option<u32> {
    let digits = text.strip_prefix('+').unwrap_or(text);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// Whether a kind is meant as a number (`800`, `-3`, `1.5`, `.5`).
fn looks_numeric(kind: &str) -> bool {
    kind.starts_with(|c: char| c.is_ascii_digit() || matches!(c, '+' | '-' | '.'))
}

// --- Specification ---------------------------------------------------------------------------

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

// --- Generation ------------------------------------------------------------------------------

/// A lazy, deterministic stream of requests: arrivals non-decreasing, ids 0, 1, 2, …
///
/// Memory is constant (a replayed trace is shared, not copied); each request costs a few
/// tens of nanoseconds.
#[derive(Debug)]
pub struct Traffic {
    source: Source,
    input: Sampler,
    output: Sampler,
    input_rng: Rng,
    output_rng: Rng,
    max_requests: u64,
    end_us: u64,
    next_id: u64,
    last_us: u64,
    done: bool,
}

/// A length distribution with its log-normal parameters solved once.
#[derive(Debug)]
struct Sampler {
    dist: LengthDist,
    mu: f64,
    sigma: f64,
}

impl Sampler {
    fn new(dist: LengthDist) -> Sampler {
        let (mu, sigma) = match dist {
            LengthDist::LogNormal { mean, p99 } => lognormal_params(mean, p99),
            _ => (0.0, 0.0),
        };
        Sampler { dist, mu, sigma }
    }

    #[inline]
    fn sample(&self, rng: &mut Rng) -> u32 {
        match self.dist {
            LengthDist::LogNormal { .. } => lognormal_tokens(rng, self.mu, self.sigma),
            ref dist => dist.sample(rng),
        }
    }
}

/// One arrival before it becomes a request: time in microseconds (not yet rounded) and
/// the lengths a trace gives.
struct Arrival {
    time_us: f64,
    input: Option<u32>,
    output: Option<u32>,
}

#[derive(Debug)]
enum Source {
    Renewal(Renewal),
    Replay(Replay),
}

/// A renewal process with unit-mean gaps, run in "expected-count time" and mapped to real
/// time by a clock.
#[derive(Debug)]
struct Renewal {
    rng: Rng,
    gaps: Gaps,
    clock: Clock,
    /// Expected arrivals so far (the sum of the gaps).
    count: f64,
}

/// Gaps with mean 1.
#[derive(Debug, Clone, Copy)]
enum Gaps {
    Constant,
    Exponential,
    Gamma { shape: f64, scale: f64 },
}

impl Gaps {
    fn with_cv(cv: f64) -> Gaps {
        if cv == 0.0 {
            Gaps::Constant
        } else if cv == 1.0 {
            Gaps::Exponential
        } else {
            let shape = 1.0 / (cv * cv);
            Gaps::Gamma {
                shape,
                scale: 1.0 / shape,
            }
        }
    }

    #[inline]
    fn sample(self, rng: &mut Rng) -> f64 {
        match self {
            Gaps::Constant => 1.0,
            Gaps::Exponential => rng.exp(1.0),
            Gaps::Gamma { shape, scale } => rng.gamma(shape, scale),
        }
    }
}

/// Maps expected-count time to microseconds.
#[derive(Debug)]
enum Clock {
    /// A constant rate.
    Constant { us_per_request: f64 },
    /// Piecewise-constant hourly rates.
    Hourly(Box<Hourly>),
}

const US_PER_HOUR: f64 = 3_600_000_000.0;

#[derive(Debug)]
struct Hourly {
    /// Expected requests in each hour of the day.
    per_hour: [f64; 24],
    /// Expected requests in a day.
    per_day: f64,
    /// The hour (since the start) the last arrival fell in.
    hour: u64,
    /// Expected requests before that hour.
    before_hour: f64,
}

impl Clock {
    /// The time of the arrival at expected count `count` (never less than the previous one).
    #[inline]
    fn time_us(&mut self, count: f64) -> f64 {
        match self {
            Clock::Constant { us_per_request } => count * *us_per_request,
            Clock::Hourly(h) => {
                // Whole days at once (a long gap at a low rate), then hour by hour.
                let ahead = count - h.before_hour;
                if ahead > 2.0 * h.per_day {
                    let days = (ahead / h.per_day).floor() - 1.0;
                    h.hour += 24 * days as u64;
                    h.before_hour += days * h.per_day;
                }
                loop {
                    let in_hour = h.per_hour[(h.hour % 24) as usize];
                    if in_hour > 0.0 && count < h.before_hour + in_hour {
                        let into = ((count - h.before_hour) / in_hour).max(0.0);
                        return (h.hour as f64 + into) * US_PER_HOUR;
                    }
                    h.before_hour += in_hour;
                    h.hour += 1;
                }
            }
        }
    }
}

/// The replay of a trace, `repeat` times.
#[derive(Debug)]
struct Replay {
    trace: Arc<Trace>,
    next: u64,
    total: u64,
    /// Microseconds from the start of one pass to the start of the next.
    period_us: f64,
    time_scale: f64,
    input_from_trace: bool,
    output_from_trace: bool,
}

impl Replay {
    fn new(
        trace: Arc<Trace>,
        time_scale: f64,
        repeat: u32,
        input_from_trace: bool,
        output_from_trace: bool,
    ) -> Replay {
        let n = trace.requests.len();
        let span = match (trace.requests.first(), trace.requests.last()) {
            (Some(a), Some(b)) => (b.arrival_us - a.arrival_us).max(0) as f64,
            _ => 0.0,
        };
        let mean_gap = if n >= 2 { span / (n - 1) as f64 } else { 0.0 };
        Replay {
            total: n as u64 * u64::from(repeat),
            trace,
            next: 0,
            period_us: span + mean_gap,
            time_scale,
            input_from_trace,
            output_from_trace,
        }
    }

    fn remaining(&self) -> u64 {
        self.total - self.next
    }
}

impl Source {
    #[inline]
    fn next(&mut self) -> Option<Arrival> {
        match self {
            Source::Renewal(r) => {
                r.count += r.gaps.sample(&mut r.rng);
                Some(Arrival {
                    time_us: r.clock.time_us(r.count),
                    input: None,
                    output: None,
                })
            }
            Source::Replay(p) => {
                if p.next >= p.total {
                    return None;
                }
                let n = p.trace.requests.len() as u64;
                let (pass, index) = (p.next / n, (p.next % n) as usize);
                p.next += 1;
                let request = &p.trace.requests[index];
                let time_us =
                    (pass as f64 * p.period_us + request.arrival_us as f64) / p.time_scale;
                Some(Arrival {
                    time_us,
                    input: p
                        .input_from_trace
                        .then(|| trace_tokens(request.input_tokens)),
                    output: p
                        .output_from_trace
                        .then(|| trace_tokens(request.output_tokens)),
                })
            }
        }
    }
}

impl Traffic {
    /// The stream of `spec` for `seed`, after [`TrafficSpec::validate`].
    pub fn new(spec: TrafficSpec, seed: u64) -> Result<Traffic, TrafficError> {
        spec.validate()?;
        let mut root = Rng::new(seed);
        let arrival_rng = root.split();
        let input_rng = root.split();
        let output_rng = root.split();
        let renewal = |gaps: Gaps, clock: Clock| {
            Source::Renewal(Renewal {
                rng: arrival_rng.clone(),
                gaps,
                clock,
                count: 0.0,
            })
        };
        let constant = |rate_rps: f64| Clock::Constant {
            us_per_request: 1e6 / rate_rps,
        };
        let source = match spec.arrivals {
            Arrivals::Poisson { rate_rps } => renewal(Gaps::Exponential, constant(rate_rps)),
            Arrivals::Gamma { rate_rps, cv } => renewal(Gaps::with_cv(cv), constant(rate_rps)),
            Arrivals::Profile { hourly_rps, cv } => {
                let per_hour = hourly_rps.map(|r| r * 3600.0);
                renewal(
                    Gaps::with_cv(cv),
                    Clock::Hourly(Box::new(Hourly {
                        per_hour,
                        per_day: per_hour.iter().sum(),
                        hour: 0,
                        before_hour: 0.0,
                    })),
                )
            }
            Arrivals::Trace {
                trace,
                time_scale,
                repeat,
                input_from_trace,
                output_from_trace,
            } => Source::Replay(Replay::new(
                trace,
                time_scale,
                repeat,
                input_from_trace,
                output_from_trace,
            )),
        };
        let (max_requests, end_us) = match spec.limit {
            Limit::Requests(n) => (n, u64::MAX),
            Limit::DurationUs(d) => (u64::MAX, d),
        };
        Ok(Traffic {
            source,
            input: Sampler::new(spec.input),
            output: Sampler::new(spec.output),
            input_rng,
            output_rng,
            max_requests,
            end_us,
            next_id: 0,
            last_us: 0,
            done: false,
        })
    }
}

impl Iterator for Traffic {
    type Item = Request;

    #[inline]
    fn next(&mut self) -> Option<Request> {
        if self.done || self.next_id >= self.max_requests {
            self.done = true;
            return None;
        }
        let Some(arrival) = self.source.next() else {
            self.done = true;
            return None;
        };
        // Saturating: NaN → 0, beyond u64 → u64::MAX; never before the previous arrival.
        let arrival_us = (arrival.time_us.round() as u64).max(self.last_us);
        if arrival_us >= self.end_us {
            self.done = true;
            return None;
        }
        self.last_us = arrival_us;
        let input_tokens = match arrival.input {
            Some(n) => n,
            None => self.input.sample(&mut self.input_rng),
        };
        let output_tokens = match arrival.output {
            Some(n) => n,
            None => self.output.sample(&mut self.output_rng),
        };
        let id = self.next_id;
        self.next_id += 1;
        Some(Request {
            id,
            arrival_us,
            input_tokens,
            output_tokens,
        })
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        if self.done {
            return (0, Some(0));
        }
        let mut upper = (self.max_requests != u64::MAX).then(|| self.max_requests - self.next_id);
        if let Source::Replay(p) = &self.source {
            upper = Some(upper.map_or(p.remaining(), |u| u.min(p.remaining())));
        }
        (0, upper.and_then(|u| usize::try_from(u).ok()))
    }
}

impl FusedIterator for Traffic {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn erfc_matches_known_values() {
        for (x, want) in [
            (0.0, 1.0),
            (0.5, 0.479_500_122_186_953_5),
            (1.0, 0.157_299_207_050_285_1),
            (2.0, 0.004_677_734_981_047_266),
            (-1.0, 1.842_700_792_949_715),
        ] {
            assert!(
                (erfc(x) - want).abs() <= 2e-7 * want,
                "erfc({x}) = {}",
                erfc(x)
            );
        }
    }

    #[test]
    fn lognormal_params_reproduce_mean_and_p99() {
        let (mu, sigma) = lognormal_params(800.0, 6000.0);
        assert!(((mu + sigma * sigma / 2.0).exp() - 800.0).abs() < 1e-6);
        assert!(((mu + Z99 * sigma).exp() - 6000.0).abs() < 1e-6);
        // p99 = mean: a point mass.
        let (mu, sigma) = lognormal_params(500.0, 500.0);
        assert_eq!(sigma, 0.0);
        assert!((mu.exp() - 500.0).abs() < 1e-9);
    }

    #[test]
    fn hourly_clock_skips_zero_hours_and_whole_days() {
        let mut per_hour = [0.0; 24];
        per_hour[5] = 10.0;
        let mut clock = Clock::Hourly(Box::new(Hourly {
            per_hour,
            per_day: 10.0,
            hour: 0,
            before_hour: 0.0,
        }));
        // Half of hour 5's expected count: half-way through hour 5.
        assert_eq!(clock.time_us(5.0), 5.5 * US_PER_HOUR);
        // 100 days later, same place in the day.
        let t = clock.time_us(1005.0);
        assert!((t - (100.0 * 24.0 + 5.5) * US_PER_HOUR).abs() < 1.0, "{t}");
    }
}
