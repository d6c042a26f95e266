//! A request length ([`Length`]): a fixed count, a mean and p99, or a histogram, and how it
//! is read from TOML.

use serde::{de, Deserialize, Serialize};
use std::fmt;

/// A length: a fixed number of tokens, or a distribution given by its mean and p99.
///
/// In TOML: `input_tokens = 1000`, `input_tokens = { mean = 1000, p99 = 4000 }`, or a
/// histogram `input_tokens = { histogram = [[tokens, weight], ...] }`. A histogram is read
/// as a distribution: its weighted mean and its 99th percentile (the smallest bin whose
/// cumulative weight reaches 99 %) become a [`Length::Dist`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Length {
    /// Always this many tokens.
    Fixed(u64),
    /// Mean and 99th percentile.
    Dist {
        /// Mean tokens.
        mean: f64,
        /// 99th-percentile tokens.
        p99: f64,
    },
}

impl Length {
    /// Mean tokens.
    pub fn mean(&self) -> f64 {
        match *self {
            Length::Fixed(n) => n as f64,
            Length::Dist { mean, .. } => mean,
        }
    }

    /// 99th-percentile tokens.
    pub fn p99(&self) -> f64 {
        match *self {
            Length::Fixed(n) => n as f64,
            Length::Dist { p99, .. } => p99,
        }
    }

    /// The distribution of a histogram of `(tokens, weight)` bins: weighted mean and the
    /// smallest bin whose cumulative weight reaches 99 % of the total.
    ///
    /// Errors (as a message) when the histogram is empty, a bin has fewer than one token or a
    /// negative or non-finite weight, or the weights sum to zero.
    pub fn from_histogram(bins: &[(f64, f64)]) -> Result<Length, String> {
        if bins.is_empty() {
            return Err("a histogram needs at least one `[tokens, weight]` bin".to_owned());
        }
        for (i, &(tokens, weight)) in bins.iter().enumerate() {
            if !(tokens.is_finite() && tokens >= 1.0) {
                return Err(format!(
                    "histogram bin {i}: tokens must be at least 1, got {tokens}"
                ));
            }
            if !(weight.is_finite() && weight >= 0.0) {
                return Err(format!(
                    "histogram bin {i}: weight must be a non-negative number, got {weight}"
                ));
            }
        }
        let total: f64 = bins.iter().map(|b| b.1).sum();
        if !(total > 0.0 && total.is_finite()) {
            return Err("histogram weights must have a positive, finite sum".to_owned());
        }
        let mean = bins.iter().map(|&(t, w)| t * w).sum::<f64>() / total;
        let mut sorted = bins.to_vec();
        sorted.sort_by(|a, b| a.0.total_cmp(&b.0));
        let target = 0.99 * total;
        let mut cumulative = 0.0;
        let mut p99 = sorted[sorted.len() - 1].0;
        for &(tokens, weight) in &sorted {
            cumulative += weight;
            // A relative tolerance, so that weights given as percentages summing to 99 reach it.
            if cumulative >= target * (1.0 - 1e-12) {
                p99 = tokens;
                break;
            }
        }
        Ok(Length::Dist { mean, p99 })
    }
}

const LENGTH_KEYS: &[&str] = &["mean", "p99", "histogram"];
const LENGTH_EXPECTING: &str = "a whole number of tokens, `{ mean = .., p99 = .. }` or \
     `{ histogram = [[tokens, weight], ...] }`";

impl<'de> Deserialize<'de> for Length {
    fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(LengthVisitor)
    }
}

struct LengthVisitor;

impl<'de> de::Visitor<'de> for LengthVisitor {
    type Value = Length;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(LENGTH_EXPECTING)
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Length, E> {
        Ok(Length::Fixed(v))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Length, E> {
        u64::try_from(v)
            .map(Length::Fixed)
            .map_err(|_| E::custom(format!("a length must be at least 1 token, got {v}")))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Length, E> {
        if v.is_finite() && v >= 0.0 && v.fract() == 0.0 && v < 1e15 {
            Ok(Length::Fixed(v as u64))
        } else {
            Err(E::custom(format!(
                "a fixed length is a whole number of tokens, got {v}; write \
                 `{{ mean = .., p99 = .. }}` for a distribution"
            )))
        }
    }

    fn visit_map<A: de::MapAccess<'de>>(self, mut map: A) -> Result<Length, A::Error> {
        let mut mean: Option<f64> = None;
        let mut p99: Option<f64> = None;
        let mut histogram: Option<Vec<Vec<f64>>> = None;
        while let Some(key) = map.next_key_seed(LengthKeySeed)? {
            match key {
                LengthKey::Mean => mean = Some(map.next_value()?),
                LengthKey::P99 => p99 = Some(map.next_value()?),
                LengthKey::Histogram => histogram = Some(map.next_value()?),
            }
        }
        match (mean, p99, histogram) {
            (None, None, Some(bins)) => {
                let mut pairs = Vec::with_capacity(bins.len());
                for (i, bin) in bins.iter().enumerate() {
                    match bin[..] {
                        [tokens, weight] => pairs.push((tokens, weight)),
                        _ => {
                            return Err(de::Error::custom(format!(
                                "histogram bin {i}: expected `[tokens, weight]`, got {} numbers",
                                bin.len()
                            )))
                        }
                    }
                }
                Length::from_histogram(&pairs).map_err(de::Error::custom)
            }
            (Some(_), _, Some(_)) | (_, Some(_), Some(_)) => Err(de::Error::custom(
                "give either `histogram` or `mean` and `p99`, not both",
            )),
            (Some(mean), Some(p99), None) => Ok(Length::Dist { mean, p99 }),
            (Some(_), None, None) => Err(de::Error::missing_field("p99")),
            (None, Some(_), None) => Err(de::Error::missing_field("mean")),
            (None, None, None) => Err(de::Error::custom(format!(
                "empty table; expected {LENGTH_EXPECTING}"
            ))),
        }
    }
}

/// The keys of a length table.
enum LengthKey {
    Mean,
    P99,
    Histogram,
}

/// Reads a key of a length table, so that an unknown key is reported at the key itself.
struct LengthKeySeed;

impl<'de> de::DeserializeSeed<'de> for LengthKeySeed {
    type Value = LengthKey;

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<LengthKey, D::Error> {
        deserializer.deserialize_identifier(self)
    }
}

impl<'de> de::Visitor<'de> for LengthKeySeed {
    type Value = LengthKey;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("`mean`, `p99` or `histogram`")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<LengthKey, E> {
        match v {
            "mean" => Ok(LengthKey::Mean),
            "p99" => Ok(LengthKey::P99),
            "histogram" => Ok(LengthKey::Histogram),
            other => Err(E::unknown_field(other, LENGTH_KEYS)),
        }
    }
}
