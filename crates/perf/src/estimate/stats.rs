//! Distributions and queueing formulas the estimate's percentiles are built from.

use super::*;

/// A wait that happens with probability `p` and, given that it happens, is exponential of
/// mean `given` ms: the prompt wait of Kingman's formula with its exponential tail.
#[derive(Debug, Clone, Copy)]
pub(super) struct ExpWait {
    pub(super) p: f64,
    pub(super) given: f64,
}

/// How far from the wanted probability a bound of a tail must be to decide a comparison
/// without the rest of its sum ([`MeanTails::above`]): far beyond the rounding of a
/// sum of a few thousand probabilities (about 1e-13).
pub(super) const DECIDED: f64 = 1e-9;

impl ExpWait {
    /// No wait.
    pub(super) const NONE: ExpWait = ExpWait { p: 0.0, given: 0.0 };

    /// The wait of mean `mean` ms that happens with probability `p`.
    pub(super) fn new(p: f64, mean: f64) -> ExpWait {
        if p > 0.0 && mean > 0.0 {
            let p = p.min(1.0);
            ExpWait { p, given: mean / p }
        } else {
            ExpWait::NONE
        }
    }

    /// `P(E + W > x)` for an `E` of the equally likely values `extras` (ms).
    pub(super) fn tail_over(&self, x: f64, extras: &[f64]) -> f64 {
        extras
            .iter()
            .map(|&e| {
                if x < e {
                    1.0
                } else if self.p > 0.0 {
                    self.p * portable::exp(-(x - e) / self.given)
                } else {
                    0.0
                }
            })
            .sum::<f64>()
            / extras.len().max(1) as f64
    }
}

/// Tails found by a search over `x` of the mean of `n` equally likely tails, each between 0
/// and 1 and not increasing in `x` (a bisection's tries): a tail found at one `x` bounds it
/// at every other, from above for a larger `x` and from below for a smaller one.
#[derive(Default)]
pub(super) struct MeanTails {
    seen: std::cell::RefCell<Vec<(f64, Vec<Option<f64>>)>>,
}

impl MeanTails {
    /// Whether the mean of the `n` tails `tail(k, x)` is above `want` at `x`: the same answer
    /// as comparing the full mean (summed in the order of `k`), found by computing tails,
    /// those left most open by the tails found at other `x` first, only until the bounds
    /// settle it (bounds within [`DECIDED`] of `want` decide nothing).
    pub(super) fn above(
        &self,
        x: f64,
        n: usize,
        tail: &dyn Fn(usize, f64) -> f64,
        want: f64,
    ) -> bool {
        let mut seen = self.seen.borrow_mut();
        let (mut low, mut high) = (vec![0.0f64; n], vec![1.0f64; n]);
        for (at, found) in seen.iter() {
            for (k, v) in found.iter().enumerate() {
                if let Some(v) = *v {
                    if *at <= x {
                        high[k] = high[k].min(v);
                    }
                    if *at >= x {
                        low[k] = low[k].max(v);
                    }
                }
            }
        }
        let mut found = vec![None; n];
        let slack = DECIDED * (1.0 + want.abs());
        let nf = n as f64;
        let decided = loop {
            let (lo, hi) = (low.iter().sum::<f64>() / nf, high.iter().sum::<f64>() / nf);
            if lo > want + slack {
                break Some(true);
            }
            if hi < want - slack {
                break Some(false);
            }
            let open = (0..n).filter(|&k| found[k].is_none()).max_by(|&a, &b| {
                (high[a] - low[a])
                    .total_cmp(&(high[b] - low[b]))
                    .then(b.cmp(&a))
            });
            let Some(k) = open else { break None };
            let v = tail(k, x);
            found[k] = Some(v);
            (low[k], high[k]) = (v, v);
        };
        let answer = decided
            .unwrap_or_else(|| found.iter().map(|v| v.unwrap_or(0.0)).sum::<f64>() / nf > want);
        seen.push((x, found));
        answer
    }
}

/// `P(N = n)` others within `window` ms on one side of an arrival, n = 0, 1, … (the last
/// term: that many or more), for gamma arrivals of shape `k` and scale `theta` ms, as an
/// arrival sees them: `P(N ≥ n) = P(n k, window / θ)` (the regularised incomplete gamma;
/// Poisson for `k = 1`). `ln` holds ln Γ(n k).
pub(super) fn palm_counts(window: f64, theta: f64, ln: &mut LnTables) -> Vec<f64> {
    let x = window / theta;
    if x <= 0.0 || !x.is_finite() {
        return vec![1.0];
    }
    let ln_x = portable::ln(x);
    let mut pn = Vec::new();
    let mut above = 1.0;
    let mut n = 1;
    loop {
        let next = gamma_p_series(n as f64 * ln.k, x, ln_x, ln.gamma(n));
        pn.push(above - next);
        above = next;
        if above < 1e-7 || n > 200 {
            pn.push(above);
            break;
        }
        n += 1;
    }
    pn
}

/// The law of the sum of two independent counts.
fn convolve(a: &[f64], b: &[f64]) -> Vec<f64> {
    let mut out = vec![0.0; a.len() + b.len() - 1];
    for (i, x) in a.iter().enumerate() {
        for (j, y) in b.iter().enumerate() {
            out[i + j] += x * y;
        }
    }
    out
}

/// The windows of the table of counts a [`StepInProgress`] reads grow by this factor.
const WINDOW_GROWTH: f64 = 1.5;

/// Points each step in progress is cut into (the arrival's place in it).
const IN_STEP_POINTS: usize = 4;

/// Three-point Gauss-Hermite rule (probabilists'): nodes and weights.
const HERMITE3: [(f64, f64); 3] = [
    (-1.732_050_807_568_877_2, 1.0 / 6.0),
    (0.0, 2.0 / 3.0),
    (1.732_050_807_568_877_2, 1.0 / 6.0),
];

/// The step an arrival finds in progress on an engine whose next step takes every prompt
/// waiting when it starts (vLLM's mixed steps within the budget, SGLang's prefill batch): it
/// waits for the rest of that step, and its own step carries its prompt and those of the
/// others that arrived since that step started or arrive before it ends. Each part is a
/// weight, the wait (the rest of the step in progress, ms) and the law of the count of those
/// others.
///
/// The step in progress is a light one (no prompts: the arrival's place in it uniform) unless
/// others arrived within a prompt step before it (`P(N ≥ 1)` over the step of a mean prompt
/// and half a light step, counted as an arrival sees them), whose prompts it carries: `n` of
/// them with probability `P(N = n)`, their tokens log-normal (Fenton-Wilkinson, three
/// Gauss-Hermite points). Under bursty arrivals an arrival comes soon after the others of its
/// clump, so early in the step theirs started: the time it has run is taken as the gap back
/// to them, whose law from an arrival is `P(k, a / θ)` (conditioned to fall within the step;
/// uniform for Poisson arrivals), and the arrival waits the rest. The others in its own step
/// are counted on both sides of it: since that step started, and until it ends.
pub(super) struct StepInProgress {
    parts: Vec<(f64, f64, Vec<f64>)>,
}

impl StepInProgress {
    /// For arrivals at `rate` per ms with inter-arrival times of squared coefficient of
    /// variation `ca2`, light steps of `light` ms, prompts of `mean` tokens (log-normal,
    /// squared coefficient of variation `cv2`) and `step_of(tokens)`, the time the prompts
    /// of a step take to pass, ms.
    pub(super) fn new(
        rate: f64,
        ca2: f64,
        light: f64,
        mean: f64,
        cv2: f64,
        step_of: &dyn Fn(f64) -> f64,
    ) -> StepInProgress {
        let ca2 = ca2.max(MIN_CLUMP);
        let (k, theta) = (1.0 / ca2, ca2 / rate.max(1e-12));
        let mut ln = LnTables::new(k);
        let points = IN_STEP_POINTS as f64;
        let before = palm_counts(step_of(mean) + light / 2.0, theta, &mut ln);
        // The counts on each side, from a table over windows growing by a constant factor,
        // mixed between the two windows around (linear in the window's log; from none at 0).
        let s2 = portable::ln(1.0 + cv2.max(1e-9));
        let longest = before.len().max(1) as f64;
        let widest = step_of(longest * mean * portable::exp(3.0 * s2.sqrt())).max(light);
        let first = (light / 8.0).max(1e-6);
        let mut windows = vec![first];
        while windows[windows.len() - 1] < widest {
            let next = windows[windows.len() - 1] * WINDOW_GROWTH;
            windows.push(next);
        }
        let table: Vec<Vec<f64>> = windows
            .iter()
            .map(|&w| palm_counts(w, theta, &mut ln))
            .collect();
        let counts_in = |w: f64| -> Vec<f64> {
            if w <= first {
                let t = (w / first).clamp(0.0, 1.0);
                let mut out: Vec<f64> = table[0].iter().map(|p| p * t).collect();
                out[0] += 1.0 - t;
                return out;
            }
            let i = windows.partition_point(|&v| v <= w).min(windows.len() - 1);
            let (lo, hi) = (&table[i - 1], &table[i]);
            let t =
                (portable::ln(w / windows[i - 1]) / portable::ln(WINDOW_GROWTH)).clamp(0.0, 1.0);
            (0..lo.len().max(hi.len()))
                .map(|n| {
                    (1.0 - t) * lo.get(n).copied().unwrap_or(0.0)
                        + t * hi.get(n).copied().unwrap_or(0.0)
                })
                .collect()
        };
        let both = |since: f64, rest: f64| {
            let mut out = convolve(&counts_in(since), &counts_in(rest));
            while out.len() > 1 && out[out.len() - 1] < 1e-10 {
                out.pop();
            }
            out
        };
        let mut parts = Vec::new();
        // A light step in progress: the arrival anywhere in it.
        for j in 0..IN_STEP_POINTS {
            let rest = light * (j as f64 + 0.5) / points;
            let counts = both(light - rest, rest);
            parts.push((before[0] / points, rest, counts));
        }
        for (n, &p) in before.iter().enumerate().skip(1) {
            if p <= 1e-9 {
                continue;
            }
            let nf = n as f64;
            let sn2 = portable::ln(1.0 + cv2.max(1e-9) / nf).max(s2 / nf);
            let mu = portable::ln(nf * mean) - sn2 / 2.0;
            for (z, wz) in HERMITE3 {
                let d = step_of(portable::exp(mu + sn2.sqrt() * z));
                // The time it has run: the gap back to the clump, within the step, cut into
                // cells of about equal probability.
                let x = d / theta;
                let top = gamma_p(k, x);
                let mut below = 0.0;
                for j in 0..IN_STEP_POINTS {
                    let edge = if j + 1 == IN_STEP_POINTS {
                        1.0
                    } else if top > 0.0 {
                        gamma_p(k, x * portable::pow((j + 1) as f64 / points, 1.0 / k)) / top
                    } else {
                        (j + 1) as f64 / points
                    };
                    let since = d * portable::pow((j as f64 + 0.5) / points, 1.0 / k);
                    let counts = both(since, d - since);
                    parts.push((p * wz * (edge - below), d - since, counts));
                    below = edge;
                }
            }
        }
        StepInProgress { parts }
    }

    /// The most others any part counts, plus one.
    pub(super) fn most(&self) -> usize {
        self.parts.iter().map(|p| p.2.len()).max().unwrap_or(1)
    }

    /// Whether `P(R + S > x)`, the rest of the step in progress `R` and the own step `S` (whose
    /// tail given the law of the others it carries is `own(counts, y)`, between 0 and 1), is
    /// above `want`: the sum over the parts, taken only until the sum so far, or the sum so far
    /// with every part left at its weight, settles it (bounds within [`DECIDED`] of `want`
    /// decide nothing).
    pub(super) fn tail_above(&self, x: f64, own: &dyn Fn(&[f64], f64) -> f64, want: f64) -> bool {
        let slack = DECIDED * (1.0 + want.abs());
        let mut left: f64 = self.parts.iter().map(|p| p.0).sum();
        let mut sum = 0.0;
        for (w, rest, counts) in &self.parts {
            sum += w * own(counts, x - rest);
            left -= w;
            if sum > want + slack {
                return true;
            }
            if sum + left < want - slack {
                return false;
            }
        }
        sum > want
    }
}

/// The tokens of a step that carries the own prompt and `n ≥ 1` others': `P(n + 1 prompts'
/// tokens > y)`, their sum log-normal of its mean and variance (Fenton-Wilkinson) for prompts
/// of `mean` tokens and squared coefficient of variation `cv2`. With no others, the own
/// prompt's tail is the caller's (its equally likely lengths).
pub(super) struct OwnStep {
    /// The log mean and spread of each count n ≥ 1 (at n − 1).
    sums: Vec<(f64, f64)>,
}

impl OwnStep {
    /// For counts of up to `most − 1` others.
    pub(super) fn new(most: usize, mean: f64, cv2: f64) -> OwnStep {
        let s2 = portable::ln(1.0 + cv2.max(1e-9));
        let sums = (1..most)
            .map(|n| {
                let nf = (n + 1) as f64;
                let sn2 = portable::ln(1.0 + cv2.max(1e-9) / nf).max(s2 / nf);
                (portable::ln(nf * mean) - sn2 / 2.0, sn2.sqrt())
            })
            .collect();
        OwnStep { sums }
    }

    /// `P(own step > ·)` for the others' count law `counts` (`P(N = n)`): `alone`, the own
    /// prompt's tail alone, with no others; `P(own and n others' tokens > y)` with `n`.
    pub(super) fn tail(&self, counts: &[f64], alone: f64, y: f64) -> f64 {
        let first = counts.first().copied().unwrap_or(1.0) * alone;
        if y <= 0.0 {
            return first + counts.iter().skip(1).sum::<f64>();
        }
        let ln_y = portable::ln(y);
        first
            + counts
                .iter()
                .enumerate()
                .skip(1)
                .map(|(n, p)| {
                    let (mu, sd) = self.sums[n - 1];
                    p * normal_above((ln_y - mu) / sd)
                })
                .sum::<f64>()
    }
}

/// The share of the equally likely values `sorted` (ascending) above `x`.
pub(super) fn share_above(sorted: &[f64], x: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let at_most = sorted.partition_point(|&v| v <= x);
    (sorted.len() - at_most) as f64 / sorted.len() as f64
}

/// Standard normal quantile for `q` in [0.5, 1) (P. J. Acklam's rational approximation,
/// relative error below 1.2e-9).
pub fn normal_quantile(q: f64) -> f64 {
    const A: [f64; 6] = [
        -3.969_683_028_665_376e1,
        2.209_460_984_245_205e2,
        -2.759_285_104_469_687e2,
        1.383_577_518_672_69e2,
        -3.066_479_806_614_716e1,
        2.506_628_277_459_239,
    ];
    const B: [f64; 5] = [
        -5.447_609_879_822_406e1,
        1.615_858_368_580_409e2,
        -1.556_989_798_598_866e2,
        6.680_131_188_771_972e1,
        -1.328_068_155_288_572e1,
    ];
    const C: [f64; 6] = [
        -7.784_894_002_430_293e-3,
        -3.223_964_580_411_365e-1,
        -2.400_758_277_161_838,
        -2.549_732_539_343_734,
        4.374_664_141_464_968,
        2.938_163_982_698_783,
    ];
    const D: [f64; 4] = [
        7.784_695_709_041_462e-3,
        3.224_671_290_700_398e-1,
        2.445_134_137_142_996,
        3.754_408_661_907_416,
    ];
    let q = q.clamp(0.5, 1.0 - 1e-12);
    if q <= 0.975_75 {
        let x = q - 0.5;
        let r = x * x;
        (((((A[0] * r + A[1]) * r + A[2]) * r + A[3]) * r + A[4]) * r + A[5]) * x
            / (((((B[0] * r + B[1]) * r + B[2]) * r + B[3]) * r + B[4]) * r + 1.0)
    } else {
        let t = (-2.0 * portable::ln(1.0 - q)).sqrt();
        -(((((C[0] * t + C[1]) * t + C[2]) * t + C[3]) * t + C[4]) * t + C[5])
            / ((((D[0] * t + D[1]) * t + D[2]) * t + D[3]) * t + 1.0)
    }
}

/// Above this mean count of heavy iterations a request meets, its TPOT is taken as normal.
pub(super) const EXACT_POISSON_MEAN: f64 = 20.0;

/// The most heavy iterations one heavy iteration's extra time brings (the busy period of the
/// TPOT tail is taken as finite below 1).
pub(super) const MAX_GROWTH: f64 = 0.9;

/// The smallest clump of arrivals the TPOT tail counts in (arrivals smoother than Poisson
/// narrow the count's spread, down to this share of a Poisson one).
pub(super) const MIN_CLUMP: f64 = 0.1;

/// Standard normal distribution function Φ(x) (Abramowitz and Stegun 7.1.26 for erfc,
/// absolute error below 1.5e-7).
#[inline]
pub fn normal_cdf(x: f64) -> f64 {
    let z = x.abs() / std::f64::consts::SQRT_2;
    let t = 1.0 / (1.0 + 0.327_591_1 * z);
    let poly = t
        * (0.254_829_592
            + t * (-0.284_496_736
                + t * (1.421_413_741 + t * (-1.453_152_027 + t * 1.061_405_429))));
    let erfc = poly * portable::exp(-z * z);
    if x >= 0.0 {
        1.0 - erfc / 2.0
    } else {
        erfc / 2.0
    }
}

/// The busy period's growth `r` as a request of `m` gaps sees it. The prompts that arrive
/// during a step are carried by the next one, together: a step's extra time is the prompt work
/// that arrived during the step before, `T_n = light + extra × N(rate × T_(n−1))`, so a step's
/// length is an AR(1) series of coefficient `r` whose noise has the Poisson count's variance.
/// The count's mean over the request's m steps is the busy period's, `a / (1 − r)`; its
/// variance is the series' over a window of m steps, `a / (1 − r) × V(m) / m` with `V(m) =
/// (m + 2 Σ_(k<m) (m − k) r^k) / (1 − r²)`: `a / (1 − r)³` for a long window (every prompt
/// that arrives in a stretch lands in the request's own later steps: Consul's busy period),
/// `a / ((1 − r)(1 − r²))` for one step (those arriving in its stretch go to the next
/// request's step). The tail keeps Consul's count, with the growth `r_m` that gives its
/// variance over its mean, `1 / (1 − r_m)² = V(m) / m`, and the mean of `r` (the caller
/// scales the first generation by `(1 − r_m) / (1 − r)`). Prompts that share a step count once
/// per step, not once per prompt.
pub(super) fn window_growth(r: f64, m: f64) -> f64 {
    if r <= 0.0 {
        return 0.0;
    }
    let m = m.max(1.0);
    let one = 1.0 - r;
    let pairs = (m * r * one - r * (1.0 - portable::pow(r, m))) / (one * one);
    let v = (m + 2.0 * pairs) / (1.0 - r * r);
    (1.0 - (m / v).sqrt()).clamp(0.0, r)
}

/// P(TPOT > x) of a request of one gap count, in the form that does not depend on x
/// (see [`Estimate::tpot_quantile_over_ms`]): the tail is a function of `d = (x − light) ×
/// m / extra`, the time above the light iterations in units of one extra.
pub(super) enum TailTerms {
    /// A large mean count: one normal tail of the count's mean and spread.
    Normal { mean: f64, sd: f64 },
    /// A small mean count: Σ_j P(j clumps) × P(clump × j extras + the batch's share > d),
    /// the terms in order of j, each with its weight, its count of extras and the spread of
    /// their sum (`None`: no spread); the sum normal, or, when `skewed` holds the extras'
    /// variance per extra and the batch's variance, the extras' sum log-normal beside the
    /// batch's normal share.
    Exact {
        terms: Vec<(f64, f64, Option<f64>)>,
        skewed: Option<(f64, f64)>,
    },
}

impl TailTerms {
    /// `first` is the count's mean in the light part of the decode plus the prompts before
    /// (not yet in clumps), `r` the busy period's growth, `vb` the batch's variance.
    /// `skewed`: the sum of a few extras is log-normal (Fenton-Wilkinson: the mean and
    /// variance of the sum), not normal; the batch's share stays normal.
    pub(super) fn new(
        first: f64,
        r: f64,
        clump: f64,
        cv2: f64,
        vb: f64,
        skewed: bool,
        ln: &mut LnTables,
    ) -> TailTerms {
        // The first generation, in clumps.
        let a = first / clump;
        let mean_j = a / (1.0 - r);
        if mean_j > EXACT_POISSON_MEAN {
            let mean_k = clump * mean_j;
            let sd = (mean_k * (clump + cv2) / ((1.0 - r) * (1.0 - r)) + vb).sqrt();
            return TailTerms::Normal { mean: mean_k, sd };
        }
        // Extras of mean 1 and variance cv2 each; a larger prompt also lets more arrive
        // while it runs (its offspring are Poisson of `r × size`), which the count's terms
        // miss: the variance per extra `cv2 / (1 − r)²` gives the sum the busy period's
        // variance `a (1 + cv2) / (1 − r)³`, as the normal branch above has it.
        let cv2 = cv2 / ((1.0 - r) * (1.0 - r));
        let skewed = skewed.then_some((cv2, vb));
        let term = |weight: f64, k: f64| {
            let var = k * cv2 + vb;
            (weight, k, (var > 0.0).then(|| var.sqrt()))
        };
        if a <= 0.0 {
            // Weight 1: the product below is the tail itself, bit for bit.
            return TailTerms::Exact {
                terms: vec![term(1.0, 0.0)],
                skewed,
            };
        }
        let last = (mean_j + 8.0 * mean_j.sqrt() / (1.0 - r) + 8.0).ceil() as u32;
        let mut terms = Vec::with_capacity(last as usize + 1);
        terms.push(term(portable::exp(-a), 0.0));
        let ln_a = portable::ln(a);
        for j in 1..=last {
            let jf = f64::from(j);
            let ln_factorial = ln.factorial(j as usize);
            let ln_pj = ln_a + (jf - 1.0) * portable::ln(a + jf * r) - a - jf * r - ln_factorial;
            terms.push(term(portable::exp(ln_pj), clump * jf));
        }
        TailTerms::Exact { terms, skewed }
    }

    /// Exact terms of a count of arrivals with `P(N ≥ n) = at_least[n − 1]`, each bringing
    /// `per` extras (its prompt's steps and, on average, those arriving in their stretch) of
    /// variance `cv2` per extra; their sum log-normal beside the batch's normal share of
    /// variance `vb`.
    pub(super) fn renewal(at_least: &[f64], per: f64, cv2: f64, vb: f64) -> TailTerms {
        let term = |weight: f64, k: f64| {
            let var = k * cv2 + vb;
            (weight, k, (var > 0.0).then(|| var.sqrt()))
        };
        let mut terms = Vec::with_capacity(at_least.len() + 1);
        let mut above = 1.0;
        for (j, &p) in at_least.iter().enumerate() {
            terms.push(term((above - p).max(0.0), j as f64 * per));
            above = p;
        }
        terms.push(term(above, at_least.len() as f64 * per));
        TailTerms::Exact {
            terms,
            skewed: Some((cv2, vb)),
        }
    }

    /// P(TPOT > x) with `d` the time above the light iterations in extras.
    pub(super) fn above(&self, d: f64) -> f64 {
        let beyond = |k: f64, sd: Option<f64>, skewed: Option<(f64, f64)>| match (sd, skewed) {
            (Some(_), Some((cv2, vb))) if k > 0.0 && cv2 > 0.0 => {
                // The extras' sum log-normal of mean k and variance k cv2, the batch's share
                // normal of variance vb: over three Gauss-Hermite points of the latter.
                let s2 = portable::ln(1.0 + cv2 / k);
                let s = s2.sqrt();
                let above_ln = |x: f64| {
                    if x <= 0.0 {
                        1.0
                    } else {
                        normal_above((portable::ln(x / k) + s2 / 2.0) / s)
                    }
                };
                if vb > 0.0 {
                    let h = (3.0 * vb).sqrt();
                    (4.0 * above_ln(d) + above_ln(d - h) + above_ln(d + h)) / 6.0
                } else {
                    above_ln(d)
                }
            }
            (Some(sd), _) => normal_above((d - k) / sd),
            (None, _) if k > d => 1.0,
            (None, _) => 0.0,
        };
        match self {
            TailTerms::Normal { mean, sd } => normal_above((d - mean) / sd),
            TailTerms::Exact { terms, skewed } => {
                let mut total = 0.0;
                for (i, &(weight, k, sd)) in terms.iter().enumerate() {
                    let term = weight * beyond(k, sd, *skewed);
                    total = if i == 0 { term } else { total + term };
                }
                total
            }
        }
    }
}

/// Beyond this many standard deviations, `1 − Φ(x)` is exactly 0 (above) or 1 (below) in
/// `f64`: erfc of `|x| / √2` is below `e^−40.5 ≈ 2.6e−18`, under half an ulp of 1 (`2⁻⁵⁴ ≈
/// 5.6e−17`), so `1 − erfc / 2` rounds to 1.
pub(super) const SURE_TAIL_SD: f64 = 9.0;

/// `1 − Φ(x)`, bit for bit `1.0 - normal_cdf(x)`, without the exponential where the answer is
/// exactly 0 or 1 (the TPOT tail's far terms).
pub(super) fn normal_above(x: f64) -> f64 {
    if x > SURE_TAIL_SD {
        0.0
    } else if x < -SURE_TAIL_SD {
        1.0
    } else {
        1.0 - normal_cdf(x)
    }
}

/// Erlang's C formula: the probability that an arrival waits in an M/M/c system of `c`
/// servers (rounded down, at least one) offered `a` erlangs (`a < c`), through the stable
/// recursion of Erlang's B formula.
pub fn erlang_c(c: f64, a: f64) -> f64 {
    let servers = c.floor().max(1.0);
    if a <= 0.0 {
        return 0.0;
    }
    if a >= servers {
        return 1.0;
    }
    let mut b = 1.0;
    let mut k = 1.0;
    while k <= servers {
        b = a * b / (k + a * b);
        k += 1.0;
    }
    b / (1.0 - a / servers * (1.0 - b))
}

/// Probability of waiting for room and the mean wait of those that wait, seconds (or in the
/// unit of `hold`), of sequences held for `hold` each, `held` of them on average, at most
/// `slots` at once, for traffic of peakedness `z` (1: Poisson arrivals of equal sizes). An
/// M/M/c system, Erlang's C formula, with Hayward's approximation for peaked traffic: `z`
/// times fewer slots at the same utilisation (`held < slots`).
pub(super) fn kv_wait(slots: f64, held: f64, hold: f64, z: f64) -> (f64, f64) {
    if held <= 0.0 || slots <= 0.0 || held >= slots {
        return (0.0, 0.0);
    }
    let servers = (slots / z.max(1.0)).floor().max(1.0);
    let offered = held / slots * servers;
    (erlang_c(servers, offered), hold / (servers - offered))
}

/// The regularised lower incomplete gamma function `P(a, x)` (its series).
pub fn gamma_p(a: f64, x: f64) -> f64 {
    if x <= 0.0 || a <= 0.0 {
        return 0.0;
    }
    gamma_p_series(a, x, portable::ln(x), ln_gamma(a))
}

/// [`gamma_p`] for x > 0 and a > 0, given ln x and ln Γ(a).
pub(super) fn gamma_p_series(a: f64, x: f64, ln_x: f64, ln_gamma_a: f64) -> f64 {
    let mut term = 1.0 / a;
    let mut sum = term;
    let mut n = 1.0;
    while n < 1e4 {
        term *= x / (a + n);
        sum += term;
        if term < sum * 1e-14 {
            break;
        }
        n += 1.0;
    }
    (sum * portable::exp(-x + a * ln_x - ln_gamma_a)).min(1.0)
}

/// ln Γ(n k) for n = 1, 2, … and ln j! for j = 0, 1, …, each computed once for all the gap
/// counts of one TPOT quantile (the same values as computing them for each).
pub(super) struct LnTables {
    k: f64,
    gamma: Vec<f64>,
    factorial: Vec<f64>,
}

impl LnTables {
    pub(super) fn new(k: f64) -> LnTables {
        LnTables {
            k,
            gamma: Vec::new(),
            factorial: vec![0.0],
        }
    }

    /// ln Γ(n k), n ≥ 1.
    pub(super) fn gamma(&mut self, n: usize) -> f64 {
        while self.gamma.len() < n {
            let next = (self.gamma.len() + 1) as f64;
            self.gamma.push(ln_gamma(next * self.k));
        }
        self.gamma[n - 1]
    }

    /// ln j!, summed as ln 1 + ln 2 + … + ln j.
    fn factorial(&mut self, j: usize) -> f64 {
        while self.factorial.len() <= j {
            let last = self.factorial[self.factorial.len() - 1];
            self.factorial
                .push(last + portable::ln(self.factorial.len() as f64));
        }
        self.factorial[j]
    }
}

/// ln Γ(x) for x > 0 (Lanczos, g = 7, nine terms).
pub(super) fn ln_gamma(x: f64) -> f64 {
    const G: [f64; 9] = [
        0.999_999_999_999_809_9,
        676.520_368_121_885_1,
        -1_259.139_216_722_402_8,
        771.323_428_777_653_1,
        -176.615_029_162_140_6,
        12.507_343_278_686_905,
        -0.138_571_095_265_720_12,
        9.984_369_578_019_572e-6,
        1.505_632_735_149_311_6e-7,
    ];
    if x < 0.5 {
        let pi = std::f64::consts::PI;
        return portable::ln(pi / (pi * x).sin()) - ln_gamma(1.0 - x);
    }
    let x = x - 1.0;
    let mut a = G[0];
    let t = x + 7.5;
    for (i, g) in G.iter().enumerate().skip(1) {
        a += g / (x + i as f64);
    }
    0.5 * portable::ln(2.0 * std::f64::consts::PI) + (x + 0.5) * portable::ln(t) - t
        + portable::ln(a)
}

#[cfg(test)]
mod tests {
    use super::normal_quantile as z;

    /// `MeanTails::above` answers as the full mean compared, over the tries of bisections
    /// (each remembering the tails found before), for wants from 1e-4 to 0.5 and wants met to
    /// the last bit, and computes fewer tails than the tries times the count (a fifth fewer
    /// over 60 halvings, most of which end near the want, where every tail is needed).
    #[test]
    fn mean_tails_above_is_the_full_mean_compared() {
        use super::{normal_above, MeanTails};
        use std::cell::Cell;
        let calls = Cell::new(0usize);
        let tail = |k: usize, x: f64| {
            calls.set(calls.get() + 1);
            let k = k as f64;
            0.7 * normal_above((x - 10.0 * k) / (1.0 + k)) + 0.3 * normal_above((x - 50.0) / 20.0)
        };
        let full = |x: f64| (0..24).map(|k| tail(k, x)).sum::<f64>() / 24.0;
        let mut tries = 0;
        calls.set(0);
        for want in [1e-4, 0.01, 0.1, 0.5] {
            let tails = MeanTails::default();
            let (mut lo, mut hi) = (0.0f64, 1000.0f64);
            for _ in 0..60 {
                let mid = (lo + hi) / 2.0;
                let above = tails.above(mid, 24, &tail, want);
                let before = calls.get();
                assert_eq!(above, full(mid) > want, "{want} at {mid}");
                calls.set(before);
                if above {
                    lo = mid;
                } else {
                    hi = mid;
                }
                tries += 1;
            }
            let exact = full(hi);
            let tails = MeanTails::default();
            assert!(!tails.above(hi, 24, &tail, exact));
            assert!(tails.above(hi, 24, &tail, exact - exact * 1e-15) || exact == 0.0);
        }
        assert!(
            calls.get() < tries * 24 * 4 / 5,
            "{} tails for {tries} tries",
            calls.get()
        );
    }

    #[test]
    fn normal_quantiles() {
        for (q, want) in [
            (0.5, 0.0),
            (0.9, 1.281_551_6),
            (0.99, 2.326_347_9),
            (0.999, 3.090_232_3),
        ] {
            assert!((z(q) - want).abs() < 1e-6, "{q}: {}", z(q));
        }
    }

    /// The shortcut of the far tails gives the bits of the full formula, at the threshold
    /// and far beyond it.
    #[test]
    fn normal_above_is_one_minus_normal_cdf_bit_for_bit() {
        use super::{normal_above, normal_cdf, SURE_TAIL_SD};
        let mut x = 0.0f64;
        while x < 60.0 {
            for v in [x, -x, SURE_TAIL_SD + x * 1e-9, -SURE_TAIL_SD - x * 1e-9] {
                assert_eq!(
                    normal_above(v).to_bits(),
                    (1.0 - normal_cdf(v)).to_bits(),
                    "{v}"
                );
            }
            x += 0.001;
        }
        for v in [
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::MAX,
            f64::MIN,
            1e300,
            -1e300,
        ] {
            assert_eq!(
                normal_above(v).to_bits(),
                (1.0 - normal_cdf(v)).to_bits(),
                "{v}"
            );
        }
    }
}
