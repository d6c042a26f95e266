//! Token-count distributions ([`LengthDist`]): sampling, means, checks and the string form.

use super::error::TrafficError;
use super::parse::{looks_numeric, parse_whole, parse_with, NOT_WHOLE};
use crate::rng::Rng;
use inferplan_catalog::bounds;
use inferplan_perf::portable;
use inferplan_plan::error::shown;
use inferplan_plan::workload::Length;
use inferplan_plan::Trace;
use std::fmt;
use std::str::FromStr;

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
pub(super) fn lognormal_params(mean: f64, p99: f64) -> (f64, f64) {
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
pub(super) fn trace_tokens(n: u64) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX).max(1)
}

pub(super) fn lognormal_tokens(rng: &mut Rng, mu: f64, sigma: f64) -> u32 {
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
    /// [`TrafficSpec::validate`](crate::traffic::TrafficSpec::validate) would refuse (an
    /// empty sample gives 1).
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
}
