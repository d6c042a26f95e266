//! Order statistics of samples, for every crate: medians, interpolated quantiles, nearest-rank
//! percentiles and means. Each takes values sorted ascending (`sort_by(f64::total_cmp)`) where
//! its name says so and answers `None` for no values, so that the caller decides what an empty
//! input means (a missing field, `NaN`, or 0).

/// Median of sorted values: the middle one, or the mean of the two middle ones for an even
/// count.
pub fn median_sorted(v: &[f64]) -> Option<f64> {
    match v.len() {
        0 => None,
        n if n % 2 == 1 => Some(v[n / 2]),
        n => Some((v[n / 2 - 1] + v[n / 2]) / 2.0),
    }
}

/// Lower median of sorted values: the middle one, or the lower of the two middle ones for an
/// even count (always one of the values, never between two).
pub fn lower_median_sorted(v: &[f64]) -> Option<f64> {
    (!v.is_empty()).then(|| v[(v.len() - 1) / 2])
}

/// Quantile `q` of sorted values by linear interpolation between the closest ranks (`q`
/// clamped to `[0, 1]`): `q = 0.5` is [`median_sorted`], 0 the minimum, 1 the maximum.
pub fn quantile_sorted(sorted: &[f64], q: f64) -> Option<f64> {
    match sorted.len() {
        0 => None,
        1 => Some(sorted[0]),
        n => {
            let pos = q.clamp(0.0, 1.0) * (n - 1) as f64;
            let lo = pos.floor() as usize;
            let hi = pos.ceil() as usize;
            Some(sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo as f64))
        }
    }
}

/// Nearest-rank percentile of sorted values: the value of rank ⌈q·n⌉ (1-based, at least 1),
/// the smallest value that at least a share `q` of the values do not exceed. `q` is rounded
/// to thousandths and the rank computed in integers, so that 0.99 × 100 is rank 99, not 100.
pub fn nearest_rank<T: Copy>(sorted: &[T], q: f64) -> Option<T> {
    let n = sorted.len();
    if n == 0 {
        return None;
    }
    let per_mille = (q * 1000.0).round() as usize;
    let rank = (per_mille * n).div_ceil(1000).clamp(1, n);
    Some(sorted[rank - 1])
}

/// Arithmetic mean.
pub fn mean(v: &[f64]) -> Option<f64> {
    (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn medians_of_odd_and_even_counts() {
        assert_eq!(median_sorted(&[]), None);
        assert_eq!(median_sorted(&[1.0, 2.0, 9.0]), Some(2.0));
        assert_eq!(median_sorted(&[1.0, 2.0, 4.0, 9.0]), Some(3.0));
        assert_eq!(lower_median_sorted(&[]), None);
        assert_eq!(lower_median_sorted(&[1.0, 2.0, 9.0]), Some(2.0));
        assert_eq!(lower_median_sorted(&[1.0, 2.0, 4.0, 9.0]), Some(2.0));
    }

    #[test]
    fn quantiles_interpolate() {
        assert_eq!(quantile_sorted(&[], 0.5), None);
        assert_eq!(quantile_sorted(&[7.0], 0.9), Some(7.0));
        let v = [1.0, 2.0, 3.0, 4.0, 5.0];
        assert_eq!(quantile_sorted(&v, 0.5), Some(3.0));
        assert_eq!(quantile_sorted(&v, 0.625), Some(3.5));
        assert_eq!(quantile_sorted(&v, -1.0), Some(1.0));
        assert_eq!(quantile_sorted(&v, 2.0), Some(5.0));
    }

    #[test]
    fn nearest_rank_percentiles() {
        let v: Vec<u64> = (1..=100).collect();
        assert_eq!(nearest_rank(&v, 0.5), Some(50));
        assert_eq!(nearest_rank(&v, 0.99), Some(99));
        assert_eq!(nearest_rank(&[7], 0.99), Some(7));
        let v: Vec<u64> = (1..=10).collect();
        assert_eq!(nearest_rank(&v, 0.99), Some(10));
        assert_eq!(nearest_rank(&v, 0.5), Some(5));
        assert_eq!(nearest_rank::<f64>(&[], 0.95), None);
    }

    #[test]
    fn means() {
        assert_eq!(mean(&[]), None);
        assert_eq!(mean(&[1.0, 2.0, 6.0]), Some(3.0));
    }
}
