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
/// without the rest of its sum ([`ExpWait::tail_with_above`]): far beyond the rounding of a
/// sum of a few thousand probabilities (about 1e-13).
pub(super) const DECIDED: f64 = 1e-9;

/// Edges of the cells the exponential wait is cut into, in its means: the trapezoid rule over
/// each cell's probability (the last cell reaches to infinity).
pub(super) const WAIT_EDGES: [f64; 11] = [0.0, 0.3, 0.7, 1.2, 1.8, 2.5, 3.3, 4.2, 5.3, 7.0, 9.0];

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

    /// `P(S + W > x)` for a time `S` whose tail given a wait at the edge `i` of
    /// [`WAIT_EDGES`] is `s(i, y)` (`P(S > y)`, non-increasing in `y`, 1 for `y < 0`; edge 0 is
    /// no wait).
    pub(super) fn tail_with(&self, x: f64, s: &dyn Fn(usize, f64) -> f64) -> f64 {
        let own = s(0, x);
        if self.p <= 0.0 {
            return own;
        }
        let (mut prev_s, mut prev_surv, mut sum) = (own, 1.0, 0.0);
        for (i, &b) in WAIT_EDGES.iter().enumerate().skip(1) {
            let sb = s(i, x - b * self.given);
            let surv = portable::exp(-b);
            sum += (prev_surv - surv) * (prev_s + sb) / 2.0;
            (prev_s, prev_surv) = (sb, surv);
        }
        sum += prev_surv * (prev_s + 1.0) / 2.0;
        (1.0 - self.p) * own + self.p * sum
    }

    /// Whether [`Self::tail_with`] is above `want` for the tail `s(i, y) = Σ_j one(i, j, y) /
    /// n`, the mean over `n = sizes.len()` equally likely terms, each between 0 and 1 and not
    /// decreasing with its size (a longer own prompt: a later first token). The same answer
    /// as comparing the full sum (the same operations in the same order when every term is
    /// needed), found by computing terms only until bounds settle it: the sum is a combination
    /// of the edges' tails with weights of at least 0, and a term not yet computed lies
    /// between those of the nearest smaller and larger sizes computed (0 and 1 beyond them).
    /// Each edge's terms are computed largest size first, then smallest, then halving the
    /// gaps between; each step refines the edge whose bounds leave the widest part of the
    /// sum open. Bounds within [`DECIDED`] of `want` (beyond the rounding of a tail summed to
    /// 1) decide nothing.
    pub(super) fn mean_tail_above(
        &self,
        x: f64,
        sizes: &[f64],
        one: &dyn Fn(usize, usize, f64) -> f64,
        want: f64,
    ) -> bool {
        const EDGES: usize = WAIT_EDGES.len();
        let n = sizes.len();
        let edges = if self.p > 0.0 { EDGES } else { 1 };
        let at = |i: usize| {
            if i == 0 {
                x
            } else {
                x - WAIT_EDGES[i] * self.given
            }
        };
        // The sum's weight of each edge's tail, and its constant part (see `tail_with`).
        let mut weight = [0.0; EDGES];
        let mut constant = 0.0;
        if self.p > 0.0 {
            let surv = WAIT_EDGES.map(|b| portable::exp(-b));
            let p = self.p;
            weight[0] = (1.0 - p) + p * (1.0 - surv[1]) / 2.0;
            for i in 1..EDGES - 1 {
                weight[i] = p * (surv[i - 1] - surv[i + 1]) / 2.0;
            }
            weight[EDGES - 1] = p * surv[EDGES - 2] / 2.0;
            constant = p * surv[EDGES - 1] / 2.0;
        } else {
            weight[0] = 1.0;
        }
        // Terms by size: `order[k]` is the k-th smallest. The steps: the rank computed and the
        // ranks of its computed neighbours then (-1 and n: none, bounds 0 and 1).
        let mut order: Vec<usize> = (0..n).collect();
        order.sort_by(|&a, &b| sizes[a].total_cmp(&sizes[b]));
        let ni = n as isize;
        let mut steps: Vec<(isize, isize, isize)> = Vec::with_capacity(n);
        if n > 0 {
            steps.push((ni - 1, -1, ni));
        }
        if n > 1 {
            steps.push((0, -1, ni - 1));
        }
        let mut k = 0;
        while k < steps.len() {
            // Halve the gaps the steps so far leave, in the order they were made.
            let (r, a, b) = steps[k];
            for (lo, hi) in [(a, r), (r, b)] {
                if lo >= 0 && hi < ni && hi - lo > 1 {
                    steps.push(((lo + hi) / 2, lo, hi));
                }
            }
            k += 1;
        }
        let slack = DECIDED * (1.0 + want.abs());
        // Per edge: the terms by rank, the bounds of their sum, the steps taken.
        let mut value = vec![0.0; edges * n];
        let (mut low_sum, mut high_sum) = ([0.0; EDGES], [n as f64; EDGES]);
        let mut taken = [0usize; EDGES];
        let nf = n.max(1) as f64;
        loop {
            let (mut low, mut high) = (constant, constant);
            let (mut widest, mut open) = (None, 0.0);
            for i in 0..edges {
                low += weight[i] * (low_sum[i] / nf);
                high += weight[i] * (high_sum[i] / nf);
                let gap = weight[i] * (high_sum[i] - low_sum[i]);
                if taken[i] < n && (widest.is_none() || gap > open) {
                    (widest, open) = (Some(i), gap);
                }
            }
            if low > want + slack {
                return true;
            }
            if high < want - slack {
                return false;
            }
            let Some(i) = widest else { break };
            let (r, a, b) = steps[taken[i]];
            let row = &mut value[i * n..(i + 1) * n];
            let v = one(i, order[r as usize], at(i));
            row[r as usize] = v;
            let below = if a < 0 { 0.0 } else { row[a as usize] };
            let above = if b >= ni { 1.0 } else { row[b as usize] };
            let (left, right, both) = ((r - a - 1) as f64, (b - r - 1) as f64, (b - a - 1) as f64);
            low_sum[i] += left * below + right * v + v - both * below;
            high_sum[i] += left * v + right * above + v - both * above;
            taken[i] += 1;
        }
        // Every term: the sum itself, each edge's terms added in the order of `sizes`.
        let mut found = vec![0.0; edges * n];
        for i in 0..edges {
            for (r, &j) in order.iter().enumerate() {
                found[i * n + j] = value[i * n + r];
            }
        }
        let s = |i: usize, _: f64| found[i * n..(i + 1) * n].iter().sum::<f64>() / nf;
        self.tail_with(x, &s) > want
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

    /// The bounded search of `mean_tail_above` answers as the full sum compared: tails of
    /// terms that grow with their size (normal tails of the own size, shifted by the wait's
    /// edge), at waits from none to certain, wants from 1e-4 to 0.5 and points across the
    /// whole tail, including wants met to the last bit; and it computes fewer terms where the
    /// answer is clear.
    #[test]
    fn mean_tail_above_is_the_full_sum_compared() {
        use super::{normal_above, ExpWait};
        use std::cell::Cell;
        let sizes: Vec<f64> = (0..24)
            .map(|j| 100.0 + 37.0 * f64::from(j % 7) + f64::from(j))
            .collect();
        let mut asked = [0usize; 2];
        for (p, given) in [(0.0, 0.0), (0.05, 40.0), (0.4, 120.0), (1.0, 300.0)] {
            let wait = ExpWait::new(p, p * given);
            for spread in [5.0, 60.0] {
                let calls = Cell::new(0usize);
                let one = |i: usize, j: usize, y: f64| {
                    calls.set(calls.get() + 1);
                    normal_above((y - sizes[j] - 3.0 * i as f64) / spread)
                };
                let full = |i: usize, y: f64| {
                    sizes
                        .iter()
                        .enumerate()
                        .map(|(j, _)| one(i, j, y))
                        .sum::<f64>()
                        / 24.0
                };
                for want in [1e-4, 0.01, 0.1, 0.5] {
                    for step in 0..400 {
                        let x = f64::from(step) * 4.0;
                        let tail = wait.tail_with(x, &full);
                        calls.set(0);
                        let above = wait.mean_tail_above(x, &sizes, &one, want);
                        assert_eq!(above, tail > want, "p {p} x {x} want {want}");
                        asked[usize::from(calls.get() < if p > 0.0 { 24 * 11 } else { 24 })] += 1;
                        // A want met exactly: the full sum decides.
                        assert!(!wait.mean_tail_above(x, &sizes, &one, tail));
                        assert_eq!(
                            wait.mean_tail_above(x, &sizes, &one, tail - tail * 1e-15),
                            tail > tail - tail * 1e-15
                        );
                    }
                }
            }
        }
        // Most answers are found from part of the terms.
        assert!(asked[1] > asked[0], "{asked:?}");
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
