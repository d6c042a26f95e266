//! Request lengths at a quantile: a length given by its mean and p99 is taken as log-normal.

use crate::workload::Length;
use inferplan_perf::estimate::normal_quantile;
use inferplan_perf::portable::{exp, ln};

/// Tokens at quantile `q` (0.5..1) of a length. Fixed lengths are themselves; a mean and p99
/// fit a log-normal (`ln p99 = μ + z₀.₉₉ σ`, `ln mean = μ + σ²/2`).
pub fn quantile_tokens(l: &Length, q: f64) -> f64 {
    let (mean, p99) = (l.mean(), l.p99());
    if p99 <= mean || mean <= 0.0 {
        return mean.max(p99);
    }
    let z99 = normal_quantile(0.99);
    // σ²/2 − z₉₉ σ + ln(p99/mean) = 0, the smaller root; a p99 too far above the mean for a
    // log-normal keeps the largest spread that fits.
    let disc = z99 * z99 - 2.0 * ln(p99 / mean);
    let sigma = z99 - disc.max(0.0).sqrt();
    let mu = ln(mean) - sigma * sigma / 2.0;
    exp(mu + normal_quantile(q) * sigma)
}

/// `k` equally likely token counts standing for a length: its quantiles at the midpoints
/// `(j + ½) / k` (all equal for a fixed length).
pub fn length_grid(l: &Length, k: usize) -> Vec<f64> {
    let (mean, p99) = (l.mean(), l.p99());
    if p99 <= mean || mean <= 0.0 {
        return vec![mean.max(p99); k.max(1)];
    }
    let z99 = normal_quantile(0.99);
    let disc = z99 * z99 - 2.0 * ln(p99 / mean);
    let sigma = z99 - disc.max(0.0).sqrt();
    let mu = ln(mean) - sigma * sigma / 2.0;
    (0..k.max(1))
        .map(|j| {
            let u = (j as f64 + 0.5) / k.max(1) as f64;
            let z = if u >= 0.5 {
                normal_quantile(u)
            } else {
                -normal_quantile(1.0 - u)
            };
            exp(mu + z * sigma)
        })
        .collect()
}

/// Squared coefficient of variation of a length (0 for a fixed length): `e^{σ²} − 1` of its
/// log-normal.
pub fn length_cv2(l: &Length) -> f64 {
    let (mean, p99) = (l.mean(), l.p99());
    if p99 <= mean || mean <= 0.0 {
        return 0.0;
    }
    let z99 = normal_quantile(0.99);
    let disc = z99 * z99 - 2.0 * ln(p99 / mean);
    let sigma = z99 - disc.max(0.0).sqrt();
    exp(sigma * sigma) - 1.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixed_lengths_are_themselves_and_p99_is_p99() {
        assert_eq!(quantile_tokens(&Length::Fixed(500), 0.99), 500.0);
        let d = Length::Dist {
            mean: 800.0,
            p99: 6000.0,
        };
        assert!((quantile_tokens(&d, 0.99) - 6000.0).abs() < 1e-6);
        let median = quantile_tokens(&d, 0.5);
        assert!(median < 800.0 && median > 100.0, "{median}");
    }
}
