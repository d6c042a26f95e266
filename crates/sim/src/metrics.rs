//! Streaming metrics with fixed memory: a log-linear [`Histogram`] of durations in
//! microseconds, its millisecond [`Summary`], and a bounded time [`Series`].
//!
//! The simulator records every request into these structures as it completes, so memory depends
//! on how many metrics are tracked, never on how many requests were served. Everything here is
//! integer arithmetic or plain IEEE operations, so results are identical on every platform.

use serde::Serialize;
use std::fmt;

/// Number of mantissa bits kept per power of two: 2^6 = 64 linear sub-buckets per octave.
const SUB_BITS: u32 = 6;
/// Linear sub-buckets per power of two.
const SUB: u64 = 1 << SUB_BITS;
/// Buckets covering the whole `u64` range: values below 128 exactly, then 64 per octave.
const BUCKETS: usize = (SUB + (64 - SUB_BITS as u64) * SUB) as usize;

/// A histogram of non-negative values (microseconds) with fixed memory and bounded error.
///
/// Values are counted in log-linear buckets (HDR style): every value below 128 has its own
/// bucket, and every power of two above is split into 64 equal sub-buckets, across the whole
/// `u64` range ([`Histogram::BUCKETS`] counters, about 30 KB, allocated once). A quantile is
/// reported as the midpoint of its bucket, so its relative error is at most 1/128 (< 0.8 %).
/// The count, sum (hence [`mean`](Self::mean)), [`min`](Self::min) and [`max`](Self::max) are
/// exact. Counts saturate instead of overflowing, so no input can panic.
#[derive(Clone, PartialEq, Eq)]
pub struct Histogram {
    counts: Box<[u64]>,
    count: u64,
    sum: u128,
    min: u64,
    max: u64,
}

impl Histogram {
    /// Number of buckets every histogram holds, whatever it records.
    pub const BUCKETS: usize = BUCKETS;

    /// An empty histogram.
    pub fn new() -> Self {
        Self {
            counts: vec![0; BUCKETS].into_boxed_slice(),
            count: 0,
            sum: 0,
            min: u64::MAX,
            max: 0,
        }
    }

    /// Records one value.
    pub fn record(&mut self, v: u64) {
        self.record_n(v, 1);
    }

    /// Records `n` occurrences of the value `v` (nothing if `n` is 0).
    pub fn record_n(&mut self, v: u64, n: u64) {
        if n == 0 {
            return;
        }
        let i = bucket_index(v);
        self.counts[i] = self.counts[i].saturating_add(n);
        self.count = self.count.saturating_add(n);
        self.sum = self.sum.saturating_add(u128::from(v) * u128::from(n));
        self.min = self.min.min(v);
        self.max = self.max.max(v);
    }

    /// Adds every value recorded in `other` to this histogram; the result is the same as if
    /// all values had been recorded here.
    pub fn merge(&mut self, other: &Histogram) {
        if other.count == 0 {
            return;
        }
        for (a, b) in self.counts.iter_mut().zip(other.counts.iter()) {
            *a = a.saturating_add(*b);
        }
        self.count = self.count.saturating_add(other.count);
        self.sum = self.sum.saturating_add(other.sum);
        self.min = self.min.min(other.min);
        self.max = self.max.max(other.max);
    }

    /// Forgets every value, keeping the allocation (for reuse per time window).
    pub fn clear(&mut self) {
        self.counts.fill(0);
        self.count = 0;
        self.sum = 0;
        self.min = u64::MAX;
        self.max = 0;
    }

    /// Number of values recorded.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// Whether no value has been recorded.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Exact sum of the values recorded.
    pub fn sum(&self) -> u128 {
        self.sum
    }

    /// Exact arithmetic mean (from the running sum); 0 when empty.
    pub fn mean(&self) -> f64 {
        if self.count == 0 {
            0.0
        } else {
            self.sum as f64 / self.count as f64
        }
    }

    /// Smallest value recorded (exact); 0 when empty.
    pub fn min(&self) -> u64 {
        if self.count == 0 {
            0
        } else {
            self.min
        }
    }

    /// Largest value recorded (exact); 0 when empty.
    pub fn max(&self) -> u64 {
        self.max
    }

    /// The `q`-quantile by nearest rank: the representative (midpoint) of the bucket holding the
    /// value of rank ⌈q·count⌉, clamped to [`min`](Self::min)..=[`max`](Self::max).
    ///
    /// `q` is clamped to `[0, 1]` (NaN counts as 0); `quantile(0.0)` is the exact minimum and
    /// `quantile(1.0)` the exact maximum. Returns 0 when empty. Monotone in `q`.
    pub fn quantile(&self, q: f64) -> u64 {
        if self.count == 0 {
            return 0;
        }
        let q = if q.is_nan() { 0.0 } else { q.clamp(0.0, 1.0) };
        if q <= 0.0 {
            return self.min;
        }
        if q >= 1.0 {
            return self.max;
        }
        let count = u128::from(self.count);
        // `as` saturates for floats; the clamp keeps the rank within 1..=count.
        let rank = ((q * self.count as f64).ceil() as u128).clamp(1, count);
        let (lo, hi) = (bucket_index(self.min), bucket_index(self.max));
        let mut seen: u128 = 0;
        for (i, &c) in self.counts[lo..=hi].iter().enumerate() {
            seen += u128::from(c);
            if seen >= rank {
                return bucket_value(lo + i).clamp(self.min, self.max);
            }
        }
        self.max
    }

    /// Mean, p50, p90, p99, p99.9 and max, converted from microseconds to milliseconds.
    pub fn summary_ms(&self) -> Summary {
        let ms = |us: u64| us as f64 / 1000.0;
        Summary {
            mean: self.mean() / 1000.0,
            p50: ms(self.quantile(0.5)),
            p90: ms(self.quantile(0.9)),
            p99: ms(self.quantile(0.99)),
            p999: ms(self.quantile(0.999)),
            max: ms(self.max()),
        }
    }

    /// Number of buckets held: always [`Histogram::BUCKETS`], whatever was recorded.
    pub fn bucket_count(&self) -> usize {
        self.counts.len()
    }

    /// Bytes used on the heap (the bucket counters); constant for the histogram's lifetime.
    pub fn heap_bytes(&self) -> usize {
        std::mem::size_of_val(&*self.counts)
    }
}

impl Default for Histogram {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for Histogram {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Histogram")
            .field("count", &self.count)
            .field("mean", &self.mean())
            .field("min", &self.min())
            .field("max", &self.max())
            .finish()
    }
}

/// The bucket a value falls in: the value itself below 128, then 64 sub-buckets per octave.
fn bucket_index(v: u64) -> usize {
    if v < SUB {
        return v as usize;
    }
    let exp = 63 - v.leading_zeros(); // >= SUB_BITS
    let shift = exp - SUB_BITS;
    let mantissa = (v >> shift) - SUB; // 0..SUB
    (SUB + u64::from(shift) * SUB + mantissa) as usize
}

/// The value reported for a bucket: the midpoint of the integers it covers.
fn bucket_value(i: usize) -> u64 {
    let i = i as u64;
    if i < SUB {
        return i;
    }
    let shift = (i - SUB) / SUB;
    let mantissa = (i - SUB) % SUB;
    let low = (SUB + mantissa) << shift;
    let width = 1u64 << shift;
    low + (width - 1) / 2
}

/// Latency summary in milliseconds, from [`Histogram::summary_ms`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct Summary {
    /// Exact mean.
    pub mean: f64,
    /// Median.
    pub p50: f64,
    /// 90th percentile.
    pub p90: f64,
    /// 99th percentile.
    pub p99: f64,
    /// 99.9th percentile.
    pub p999: f64,
    /// Exact maximum.
    pub max: f64,
}

/// How a [`Series`] combines two adjacent samples when it runs out of room.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Downsample {
    /// Keep the larger value (and its time): peaks survive any amount of downsampling.
    #[default]
    Max,
    /// Keep the later sample: a gauge's latest reading.
    Last,
}

/// A time series of `(time_us, value)` samples holding at most a fixed number of points.
///
/// When the series is full, adjacent pairs of points are merged (by [`Downsample`]), halving
/// the number of points and doubling the number of raw samples each point stands for; later
/// samples are combined in groups of that size, so the resolution stays uniform over time.
/// Points stay in push order.
#[derive(Clone, Debug, PartialEq)]
pub struct Series {
    capacity: usize,
    mode: Downsample,
    /// Raw samples per stored point.
    stride: u64,
    points: Vec<(u64, f64)>,
    /// The point being built from the latest samples, and how many samples it holds.
    pending: Option<(u64, f64)>,
    pending_n: u64,
}

impl Series {
    /// Default number of points kept.
    pub const DEFAULT_CAPACITY: usize = 2000;

    /// An empty series keeping at most `capacity` points (rounded down to an even number, at
    /// least 2), downsampling by `mode`.
    pub fn new(capacity: usize, mode: Downsample) -> Self {
        let capacity = (capacity.max(2)) & !1;
        Self {
            capacity,
            mode,
            stride: 1,
            points: Vec::new(),
            pending: None,
            pending_n: 0,
        }
    }

    /// Adds a sample taken at `t_us` microseconds of simulated time.
    pub fn push(&mut self, t_us: u64, v: f64) {
        let sample = (t_us, v);
        let merged = match self.pending {
            None => sample,
            Some(prev) => combine(self.mode, prev, sample),
        };
        self.pending_n += 1;
        if self.pending_n < self.stride {
            self.pending = Some(merged);
            return;
        }
        self.pending = None;
        self.pending_n = 0;
        self.points.push(merged);
        if self.points.len() >= self.capacity {
            let mode = self.mode;
            let halved: Vec<(u64, f64)> = self
                .points
                .chunks(2)
                .map(|pair| match *pair {
                    [a, b] => combine(mode, a, b),
                    [a] => a,
                    _ => unreachable!("chunks(2) yields one or two points"),
                })
                .collect();
            self.points.clear();
            self.points.extend(halved);
            self.stride = self.stride.saturating_mul(2);
        }
    }

    /// The points kept, oldest first (including the one still being filled).
    pub fn points(&self) -> Vec<(u64, f64)> {
        let mut out = self.points.clone();
        out.extend(self.pending);
        out
    }

    /// The points with time converted to seconds, ready for [`crate::plot::Line`].
    pub fn points_secs(&self) -> Vec<(f64, f64)> {
        self.points()
            .into_iter()
            .map(|(t, v)| (t as f64 / 1e6, v))
            .collect()
    }

    /// Number of points kept (at most [`capacity`](Self::capacity)).
    pub fn len(&self) -> usize {
        self.points.len() + usize::from(self.pending.is_some())
    }

    /// Whether no sample has been pushed.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The most points this series keeps.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// How adjacent points are combined.
    pub fn mode(&self) -> Downsample {
        self.mode
    }
}

impl Default for Series {
    fn default() -> Self {
        Self::new(Self::DEFAULT_CAPACITY, Downsample::Max)
    }
}

/// Combines two adjacent samples, `a` before `b`.
fn combine(mode: Downsample, a: (u64, f64), b: (u64, f64)) -> (u64, f64) {
    match mode {
        Downsample::Last => b,
        Downsample::Max => {
            if a.1.is_nan() || b.1 > a.1 {
                b
            } else {
                a
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_contiguous_and_cover_u64() {
        assert_eq!(bucket_index(0), 0);
        assert_eq!(bucket_index(127), 127);
        assert_eq!(bucket_index(u64::MAX), BUCKETS - 1);
        let mut prev = 0;
        for v in (0..200_000u64).chain([u64::MAX / 3, u64::MAX - 1, u64::MAX]) {
            let i = bucket_index(v);
            assert!(i == prev || i == prev + 1 || v > 200_000, "gap at {v}");
            prev = i;
            let r = bucket_value(i);
            assert_eq!(
                bucket_index(r),
                i,
                "representative of {v} leaves its bucket"
            );
            assert!(r.abs_diff(v) as f64 <= v as f64 / 128.0, "error at {v}");
        }
    }
}
