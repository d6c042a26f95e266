//! The lazy request stream ([`Traffic`]) and the requests it yields.

use super::arrivals::Arrivals;
use super::error::TrafficError;
use super::lengths::{lognormal_params, lognormal_tokens, trace_tokens, LengthDist};
use super::spec::{Limit, TrafficSpec};
use crate::rng::Rng;
use inferplan_plan::Trace;
use std::iter::FusedIterator;
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
