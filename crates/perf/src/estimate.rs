//! Latency and throughput of one replica serving a workload, from the step-time model.
//!
//! A [`Replica`] is prepared once per deployment (layout, peak rates, engine limits and the KV
//! cache the memory budget leaves); [`Replica::run`] then answers for a workload and a set of
//! efficiencies in microseconds, which is what lets calibration evaluate thousands of rows
//! many times.
//!
//! Serving is modelled in steady state, not simulated:
//! * **Continuous batching with spread-out arrivals** (`Saturated`, `Poisson`, and `Closed` on
//!   engines that mix prompt chunks with decodes: vLLM, TensorRT-LLM): `b` sequences run at
//!   once (at most the engine's `max_num_seqs` and what the KV cache holds). An iteration
//!   decodes every running sequence and is light, or also carries a prompt chunk and is heavy;
//!   a request meets heavy iterations in proportion to the other requests' prompt work, so its
//!   TPOT is the mix. Its TTFT is its own prompt's chunks plus an M/D/1 wait behind the prompts
//!   ahead of it. When prompts need more than the spare step budget, every iteration is full
//!   and throughput is bound by the prompts.
//! * **Rounds** (`Burst`: `n` requests sent at once; `Closed` on engines that run a prefill
//!   batch on its own and pause decoding: SGLang, TGI, LMDeploy): all prompts are prefilled in
//!   budget-sized chunks (a request's TTFT is the mean position of its chunk), then the batch
//!   decodes together; more requests than fit run in waves.
//! * **Static batches** (`Static`: the batch is prefilled in one step, then decoded to the end,
//!   as TensorRT-LLM's and LMDeploy's static benchmarks do).
//!
//! Which variant applies to which engine was chosen by validation against the measured
//! closed-loop rows (see VALIDATION.md).

use crate::bisect::{self, Bracket, Found};
use crate::engine::Engine;
use crate::error::PerfError;
use crate::kernels::{self, CurveSet};
use crate::memory::{fit, EngineLimits, FitInput, Placement};
use crate::params::MemoryParams;
use crate::portable;
use crate::step::{step_time, Batch, Bound, Efficiency, Layout, Rates, StepTime};
use inferplan_catalog::{Dtype, Gpu, Interconnect, ModelSpec, Support};
use serde::Serialize;

/// Latency of one step of an all-reduce over NVLink/NVSwitch or Infinity Fabric, seconds.
const LINK_LATENCY_S: f64 = 5e-6;
/// Latency of one step of an all-reduce over PCIe through the host, seconds.
const PCIE_LATENCY_S: f64 = 15e-6;

/// A serving deployment: where the model runs, and the engine that serves it.
#[derive(Debug, Clone)]
pub struct Deployment<'a> {
    /// Model, GPUs, layout and formats.
    pub placement: Placement<'a>,
    /// Serving engine.
    pub engine: Engine,
    /// Scheduler limits.
    pub limits: EngineLimits,
    /// Fraction of GPU memory the engine budgets (vLLM's `--gpu-memory-utilization`).
    pub kv_memory_fraction: f64,
}

/// How requests arrive.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Load {
    /// Closed loop: `concurrency` requests always in flight (a new one as one finishes).
    Closed {
        /// Requests in flight.
        concurrency: u64,
    },
    /// Every request queued at once, many more than fit (offline throughput benchmarks).
    Saturated,
    /// `requests` sent at once to a continuous-batching engine, measured until all finish.
    Burst {
        /// Requests in the burst.
        requests: u64,
    },
    /// A static batch: prefilled in one step, decoded together to the end.
    Static {
        /// Batch size.
        batch: u64,
    },
    /// Open loop: Poisson arrivals.
    Poisson {
        /// Mean arrival rate, requests/s.
        rate_rps: f64,
    },
}

/// Request shape and arrival.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Workload {
    /// Prompt tokens per request.
    pub input_tokens: u64,
    /// Generated tokens per request.
    pub output_tokens: u64,
    /// Arrivals.
    pub load: Load,
}

/// The answer for one replica.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Estimate {
    /// Time to first token (mean), ms, including queueing.
    pub ttft_ms: f64,
    /// Time per output token after the first (mean), ms.
    pub tpot_ms: f64,
    /// End-to-end latency of a request (mean), ms.
    pub e2e_ms: f64,
    /// Time spent waiting for a batch slot (mean), ms.
    pub queue_ms: f64,
    /// Generated tokens/s of the replica.
    pub output_tok_s: f64,
    /// Prompt plus generated tokens/s of the replica.
    pub total_tok_s: f64,
    /// `output_tok_s` per GPU.
    pub output_tok_s_per_gpu: f64,
    /// `total_tok_s` per GPU.
    pub total_tok_s_per_gpu: f64,
    /// Completed requests/s.
    pub requests_s: f64,
    /// Sequences running in one batch (mean).
    pub batch: f64,
    /// Most sequences that can run at once (engine limit and KV cache at the mean context).
    pub max_batch: f64,
    /// KV-cache capacity of the replica, tokens.
    pub kv_cache_tokens: f64,
    /// The arrival rate exceeds what the replica serves: latencies grow without bound and the
    /// figures are those of a saturated replica.
    pub overloaded: bool,
    /// Mean wait of a prompt behind the prompts ahead of it (part of `ttft_ms`), ms.
    pub prompt_wait_ms: f64,
    /// Fraction of time the replica is busy with prompts (the M/D/1 utilisation).
    pub prompt_utilization: f64,
    /// Under open-loop arrivals, the sequences holding KV cache on average: each holds it from
    /// admission to its last token, `rate × lifetime` of them (Little's law; 0 in a closed loop
    /// or a full replica). At most [`Estimate::max_batch`] fit (the KV cache at the mean
    /// context, or `max_num_seqs`), and an arrival that finds them full waits for a departure:
    /// see [`Estimate::kv_wait`].
    pub kv_held: f64,
    /// Mean time a sequence holds its KV cache (admission to last token), ms.
    pub kv_hold_ms: f64,
    /// The front end's time before the replica sees a request (part of `ttft_ms`), ms.
    pub request_overhead_ms: f64,
    /// A decode-only iteration, ms.
    pub tpot_light_ms: f64,
    /// An iteration that also carries a prompt chunk, ms.
    pub tpot_heavy_ms: f64,
    /// Share of a request's iterations that carry other prompts.
    pub heavy_share: f64,
    /// Prompt-carrying iterations of the others a request meets besides its decode
    /// iterations' share: under open-loop arrivals the prompts that arrive while its own waits
    /// and prefills are prefilled after it, in its first gaps (a count, on top of
    /// `heavy_share` per gap; 0 in a closed loop or a full replica).
    pub heavy_before: f64,
    /// Prompt-carrying iterations of the others that arrive during one (open-loop rate ×
    /// prompt steps per request × the time a heavy iteration adds; on a prefill-first engine
    /// also the time the met prompt adds to the request's decode steps by decoding beside
    /// it, [`Estimate::prompt_drag_ms`] over half the mean output): each heavy iteration a
    /// request meets stretches its decode, and more prompts arrive in the stretch, so the
    /// count it meets is a busy period's, wider than a Poisson count (0 in a closed loop).
    pub heavy_growth: f64,
    /// Prompt-carrying iterations per prompt (its chunks of the step budget).
    pub prompt_steps: f64,
    /// Prompt-carrying iterations a decoding request meets together, as one: a prefill-first
    /// engine runs a chunked prompt's steps back to back (SGLang's `chunked_req` continues
    /// in the next prefill batch while the decodes wait), so a request that meets one meets
    /// all [`Estimate::prompt_steps`] of them, and the count it meets comes in clumps of that
    /// many, each clump one prompt's work (1: counted one by one).
    pub prompt_clump: f64,
    /// On a prefill-first engine under open-loop arrivals, how much a prompt a request meets
    /// lengthens its decode per gap it then decodes beside it, ms (the decode slope: the
    /// prompt's sequence joins the batch), for the TPOT tail: a request that meets many
    /// prompts also decodes in a larger batch (0: not counted).
    pub prompt_drag_ms: f64,
    /// How much a decode-only iteration lengthens per sequence added to the batch a request
    /// decodes in, ms (steep for MoE models, whose larger batches touch more experts).
    pub decode_slope_ms: f64,
    /// Variance of the count of sequences decoding beside a request: under Poisson arrivals
    /// that count is Poisson, its variance its mean; a closed loop or a full replica holds it
    /// fixed (0).
    pub batch_variance: f64,
    /// Width of the spread of first-token times when requests arrive together (a burst, a
    /// static batch, closed-loop rounds): the first prompt of a round has its first token
    /// after one prefill step, the last after all of them, and later waves wait whole waves.
    /// Taken as uniform around the mean, ms.
    pub ttft_spread_ms: f64,
    /// What bounds a decode iteration.
    pub decode_bound: Bound,
    /// What bounds a prefill step.
    pub prefill_bound: Bound,
    /// GPUs of the replica.
    pub gpus: u32,
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
const EXACT_POISSON_MEAN: f64 = 20.0;

/// The most heavy iterations one heavy iteration's extra time brings (the busy period of the
/// TPOT tail is taken as finite below 1).
const MAX_GROWTH: f64 = 0.9;

/// The smallest clump of arrivals the TPOT tail counts in (arrivals smoother than Poisson
/// narrow the count's spread, down to this share of a Poisson one).
const MIN_CLUMP: f64 = 0.1;

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
fn window_growth(r: f64, m: f64) -> f64 {
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
enum TailTerms {
    /// A large mean count: one normal tail of the count's mean and spread.
    Normal { mean: f64, sd: f64 },
    /// A small mean count: Σ_j P(j clumps) × P(clump × j extras + the batch's share > d),
    /// the terms in order of j, each with its weight, its count of extras and the spread of
    /// their sum (`None`: no spread).
    Exact(Vec<(f64, f64, Option<f64>)>),
}

impl TailTerms {
    /// `first` is the count's mean in the light part of the decode plus the prompts before
    /// (not yet in clumps), `r` the busy period's growth, `vb` the batch's variance.
    fn new(first: f64, r: f64, clump: f64, cv2: f64, vb: f64, ln: &mut LnTables) -> TailTerms {
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
        let term = |weight: f64, k: f64| {
            let var = k * cv2 + vb;
            (weight, k, (var > 0.0).then(|| var.sqrt()))
        };
        if a <= 0.0 {
            // Weight 1: the product below is the tail itself, bit for bit.
            return TailTerms::Exact(vec![term(1.0, 0.0)]);
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
        TailTerms::Exact(terms)
    }

    /// P(TPOT > x) with `d` the time above the light iterations in extras.
    fn above(&self, d: f64) -> f64 {
        let beyond = |k: f64, sd: Option<f64>| match sd {
            Some(sd) => normal_above((d - k) / sd),
            None if k > d => 1.0,
            None => 0.0,
        };
        match self {
            TailTerms::Normal { mean, sd } => normal_above((d - mean) / sd),
            TailTerms::Exact(terms) => {
                let mut total = 0.0;
                for (i, &(weight, k, sd)) in terms.iter().enumerate() {
                    let term = weight * beyond(k, sd);
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
const SURE_TAIL_SD: f64 = 9.0;

/// `1 − Φ(x)`, bit for bit `1.0 - normal_cdf(x)`, without the exponential where the answer is
/// exactly 0 or 1 (the TPOT tail's far terms).
fn normal_above(x: f64) -> f64 {
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
fn kv_wait(slots: f64, held: f64, hold: f64, z: f64) -> (f64, f64) {
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
fn gamma_p_series(a: f64, x: f64, ln_x: f64, ln_gamma_a: f64) -> f64 {
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
struct LnTables {
    k: f64,
    gamma: Vec<f64>,
    factorial: Vec<f64>,
}

impl LnTables {
    fn new(k: f64) -> LnTables {
        LnTables {
            k,
            gamma: Vec::new(),
            factorial: vec![0.0],
        }
    }

    /// ln Γ(n k), n ≥ 1.
    fn gamma(&mut self, n: usize) -> f64 {
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
fn ln_gamma(x: f64) -> f64 {
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

impl Estimate {
    /// TTFT at quantile `q` of an engine that mixes prompt chunks into its decode steps (vLLM,
    /// TensorRT-LLM), under open-loop arrivals whose inter-arrival times are gamma with
    /// coefficient of variation `arrival_cv` (1 = Poisson), prompts of the equally likely
    /// lengths `prompts` (mean `mean`, squared coefficient of variation `cv2`, log-normal) and
    /// steps of `budget` tokens. The scheduler takes the waiting prompts, first come first
    /// served, into each step up to the budget, so a request's first token is:
    ///
    /// * the front end's time ([`Estimate::request_overhead_ms`]);
    /// * the rest of the step in progress, half of the length-biased step (light or heavy in
    ///   the shares of [`Estimate::heavy_share`]);
    /// * the backlog: prompt tokens of earlier steps still to go, a queue of tokens served
    ///   `room` per full step (`light / room + c` per token, `c` the prefill time per token,
    ///   from the heavy iteration's extra), its wait Kingman's with an exponential tail given
    ///   that it waits, as in [`Estimate::ttft_quantile_ms`];
    /// * its own step: its prompt and those of the others that arrive within a step of it,
    ///   each with its full work (`light + c × tokens` within one step, `(light / room + c) ×
    ///   tokens` beyond). An arrival sees its neighbours at the Palm rate: for gamma arrivals of
    ///   shape `k = 1 / cv²` and scale `θ`, `P(N ≥ n) = P(n k, step / θ)` (the regularised
    ///   incomplete gamma; Poisson for `k = 1`), a third of the time one more within 34 ms at
    ///   CV 1.5 and 3.3 req/s, where `rate × step` is 0.11. The count's prompts are summed as a
    ///   log-normal of their mean and variance (Fenton-Wilkinson), and the quantile is taken
    ///   over the mixture of own lengths and counts;
    /// * the wait for KV room ([`Estimate::kv_wait`]).
    ///
    /// The backlog's, the own step's and KV room's quantiles are added (an upper bound).
    pub fn ttft_quantile_steps_ms(
        &self,
        q: f64,
        prompts: &[f64],
        mean: f64,
        cv2: f64,
        arrival_cv: f64,
        budget: f64,
    ) -> f64 {
        match self.ttft_steps(q, prompts, mean, cv2, arrival_cv, budget, None) {
            (hi, Found::Hi(own)) => hi(own),
            (_, Found::Passes(_)) => unreachable!("a search without a test finds its quantile"),
        }
    }

    /// Whether `ok` holds for [`Self::ttft_quantile_steps_ms`], for an `ok` that holds up to
    /// some TTFT and not beyond: the same answer, from a search that stops as soon as its
    /// bracket decides it.
    #[allow(clippy::too_many_arguments)]
    pub fn ttft_quantile_steps_within(
        &self,
        q: f64,
        prompts: &[f64],
        mean: f64,
        cv2: f64,
        arrival_cv: f64,
        budget: f64,
        ok: &dyn Fn(f64) -> bool,
    ) -> bool {
        match self.ttft_steps(q, prompts, mean, cv2, arrival_cv, budget, Some(ok)) {
            (_, Found::Passes(passes)) => passes,
            (hi, Found::Hi(own)) => ok(hi(own)),
        }
    }

    /// The search of [`Self::ttft_quantile_steps_ms`], and the TTFT as a function of the own
    /// step's quantile.
    #[allow(clippy::too_many_arguments)]
    fn ttft_steps(
        &self,
        q: f64,
        prompts: &[f64],
        mean: f64,
        cv2: f64,
        arrival_cv: f64,
        budget: f64,
        test: Option<&dyn Fn(f64) -> bool>,
    ) -> (impl Fn(f64) -> f64, Found) {
        let t0 = self.tpot_light_ms;
        let th = self.tpot_heavy_ms.max(t0);
        // The budget less the decodes; a heavy iteration carries a chunk of the mean prompt.
        let room = (budget - self.batch).max(budget / 2.0);
        let c = (th - t0) / mean.min(room).max(1.0);
        // The step in progress, length-biased.
        let f = self.heavy_share.clamp(0.0, 1.0);
        let step = ((1.0 - f) * t0 * t0 + f * th * th) / ((1.0 - f) * t0 + f * th).max(1e-9);
        let rate = self.requests_s / 1e3;
        let ca2 = (arrival_cv * arrival_cv).max(MIN_CLUMP);
        let (k, theta) = (1.0 / ca2, ca2 / rate.max(1e-12));
        // P(N = n) others within a step of the arrival, n = 0, 1, ... (the last term: more).
        let mut pn = Vec::new();
        let mut above = 1.0;
        let mut n = 1.0;
        loop {
            let next = gamma_p(n * k, step / theta);
            pn.push(above - next);
            above = next;
            if above < 1e-7 || n > 200.0 {
                pn.push(above);
                break;
            }
            n += 1.0;
        }
        // P(n prompts' tokens > y), their sum log-normal of its mean and variance: the log
        // mean and spread of each count n >= 1 (at n - 1), which do not depend on y.
        let s2 = portable::ln(1.0 + cv2.max(1e-9));
        let sums: Vec<(f64, f64)> = (1..pn.len())
            .map(|n| {
                let nf = n as f64;
                let m = nf * mean;
                let var = nf * mean * mean * cv2.max(1e-9);
                let sn2 = portable::ln(1.0 + var / (m * m)).max(s2 / nf);
                (portable::ln(m) - sn2 / 2.0, sn2.sqrt())
            })
            .collect();
        // `ln_y` is ln(y), computed once for every count.
        let beyond = |n: usize, y: f64, ln_y: f64| -> f64 {
            if n == 0 {
                return if y < 0.0 { 1.0 } else { 0.0 };
            }
            if y <= 0.0 {
                return 1.0;
            }
            let (mu, sd) = sums[n - 1];
            normal_above((ln_y - mu) / sd)
        };
        // The tokens through in `x` ms of steps.
        let tokens = |x: f64| -> f64 {
            if x <= t0 + c * room {
                (x - t0) / c.max(1e-12)
            } else {
                x / (t0 / room + c)
            }
        };
        // P(own step > x) over the own lengths and the counts.
        let tail = |x: f64| -> f64 {
            let y = tokens(x);
            prompts
                .iter()
                .map(|&l| {
                    let y = y - l;
                    let ln_y = if y <= 0.0 { 0.0 } else { portable::ln(y) };
                    pn.iter()
                        .enumerate()
                        .map(|(n, p)| p * beyond(n, y, ln_y))
                        .sum::<f64>()
                })
                .sum::<f64>()
                / prompts.len().max(1) as f64
        };
        // The backlog: prompt tokens of earlier steps, served `room` per full step.
        let per_token = t0 / room + c;
        let service = mean * per_token;
        let rho = rate * service;
        let backlog = if rho >= 0.95 {
            // Past what the steps carry: the wait grows without bound.
            service * 0.95 / 0.1 * portable::ln(95.0)
        } else if rho > 1.0 - q {
            let w = rho / (1.0 - rho) * (ca2 + cv2.max(0.0)) / 2.0 * service;
            w / rho * portable::ln(rho / (1.0 - q))
        } else {
            0.0
        };
        let (p, given) = self.kv_wait(arrival_cv, cv2);
        let room_q = if p > 1.0 - q && p > 0.0 {
            given * portable::ln(p / (1.0 - q))
        } else {
            0.0
        };
        let overhead = self.request_overhead_ms;
        let ttft = move |own: f64| overhead + step / 2.0 + own + backlog + room_q;
        // The own step's quantile.
        let want = 1.0 - q;
        let bracket = Bracket {
            start: (t0, t0 + c * mean * 4.0 + step),
            widen: |hi: f64| (hi < 1e7).then_some(hi * 2.0),
            halvings: 50,
            close: |lo: f64, hi: f64| hi - lo < 1e-4 * hi,
        };
        let found = bisect::search(bracket, |x| tail(x) > want, ttft, test);
        (ttft, found)
    }

    /// The wait for room to be admitted under open-loop arrivals whose inter-arrival times
    /// have coefficient of variation `arrival_cv` and sequences whose KV sizes (their prompts)
    /// have squared coefficient of variation `size_cv2`: the probability that an arrival
    /// waits and the mean wait of those that do, ms. The count of sequences holding KV beside
    /// an arrival is Poisson around [`Estimate::kv_held`] for Poisson arrivals of equal
    /// sizes: an M/M/c system of [`Estimate::max_batch`] slots, Erlang's C formula. Bursty
    /// arrivals and unequal sizes make the occupancy peaked, its variance `z` times its mean,
    /// `z = (1 + ca²) / 2 × (1 + cs²)` (the peakedness of renewal arrivals at many slots
    /// times the size's second moment over its mean squared), and the system is taken as one
    /// of `z` times fewer slots at the same utilisation (Hayward's approximation).
    pub fn kv_wait(&self, arrival_cv: f64, size_cv2: f64) -> (f64, f64) {
        let z = (1.0 + arrival_cv * arrival_cv) / 2.0 * (1.0 + size_cv2.max(0.0));
        kv_wait(self.max_batch, self.kv_held, self.kv_hold_ms, z)
    }

    /// TTFT at quantile `q` (0.5, 0.9, 0.99, ...) for arrivals whose inter-arrival times have
    /// coefficient of variation `arrival_cv` (1 = Poisson) and prompts whose service times have
    /// squared coefficient of variation `service_cv2` (0 = all alike). The prompt wait scales
    /// as Kingman's formula, `(ca² + cs²) / 2 × ρ / (1 − ρ) × service` (the mean wait of the
    /// estimate is the M/D/1 one, ca² = 1 and cs² = 0), and, given that a prompt waits (with
    /// probability ρ), is exponential: `W_q = (W̄ / ρ) ln(ρ / (1 − q))` for `ρ > 1 − q`.
    /// Requests that arrive together (rounds, bursts, waves) spread uniformly over
    /// [`Estimate::ttft_spread_ms`] around the mean. Under open-loop arrivals the wait for
    /// room to be admitted ([`Estimate::kv_wait`]: with its probability, exponential) adds its
    /// own quantile.
    pub fn ttft_quantile_ms(&self, q: f64, arrival_cv: f64, service_cv2: f64) -> f64 {
        let mean_wait = self.prompt_wait_ms * (arrival_cv * arrival_cv + service_cv2.max(0.0));
        let rho = self.prompt_utilization;
        let tail = if rho > 1.0 - q && rho > 0.0 {
            mean_wait / rho * portable::ln(rho / (1.0 - q))
        } else {
            0.0
        };
        let together = (q.clamp(0.0, 1.0) - 0.5) * self.ttft_spread_ms;
        // The wait for room to be admitted: the mean (Poisson arrivals, equal sizes) is in
        // `ttft_ms`; the quantile is that of peaked traffic (see `Estimate::kv_wait`).
        let (p, given) = self.kv_wait(1.0, 0.0);
        let room_mean = p * given;
        let (p, given) = self.kv_wait(arrival_cv, service_cv2);
        let room = if p > 1.0 - q && p > 0.0 {
            given * portable::ln(p / (1.0 - q))
        } else {
            0.0
        };
        self.ttft_ms - self.prompt_wait_ms - room_mean + tail + room + together
    }

    /// Inter-token latency at quantile `q`: the gap between two tokens of a stream is one
    /// iteration, light (decodes only) or heavy (also carrying another request's prompt chunk,
    /// a share [`Estimate::heavy_share`] of the iterations). The quantile of single gaps is
    /// the heavy iteration once heavy ones are more than `1 − q` of them, else the light one;
    /// the mean gap is the mean TPOT.
    pub fn itl_quantile_ms(&self, q: f64) -> f64 {
        if self.heavy_share > 1.0 - q {
            self.tpot_heavy_ms
        } else {
            self.tpot_light_ms
        }
    }

    /// Mean TPOT of one request at quantile `q`: a request of `output_tokens` meets heavy
    /// iterations with probability `heavy_share` each (normal approximation of the binomial
    /// mean), never beyond every iteration being heavy.
    pub fn tpot_quantile_ms(&self, q: f64, output_tokens: u64) -> f64 {
        let n = output_tokens.saturating_sub(1).max(1) as f64;
        let p = self.heavy_share.clamp(0.0, 1.0);
        let spread = (self.tpot_heavy_ms - self.tpot_light_ms).max(0.0);
        let sd = spread * (p * (1.0 - p) / n).sqrt();
        let worst = self.tpot_ms.max(self.tpot_heavy_ms);
        (self.tpot_ms + normal_quantile(q) * sd).min(worst)
    }

    /// Mean TPOT of one request at quantile `q` over requests of many lengths. A request with
    /// `m` gaps between tokens meets the prompts of the others that arrive during its life,
    /// each adding the extra time of a heavy iteration scaled by its prompt's size (squared
    /// coefficient of variation `prompt_cv2`), so its TPOT is `light + (k extras) / m`. The
    /// count `k` starts from the prompts arriving in the light part of its decode (`heavy_share
    /// × m × (1 − r)`) and while its own prompt waits and prefills (`heavy_before`: they are
    /// prefilled after it, in its first gaps), and each heavy iteration lets `r =
    /// heavy_growth` more arrive (a busy period: Consul's generalised Poisson count, mean
    /// `a / (1 − r)`, variance `a / (1 − r)³`). Arrivals whose inter-arrival times have
    /// coefficient of variation `arrival_cv` (gamma) are counted as an arrival sees them: the
    /// renewal function over the window from its arrival, in clumps of up to `arrival_cv²`
    /// (Poisson arrivals: `a` in clumps of 1); the same arrivals make the batch a request
    /// decodes in peaked (its variance and its length-biased excess grow by Whitt's
    /// peakedness, see below). Short answers that meet long prompts spread most. The quantile is that of the mixture over `gaps` (equally likely
    /// gap counts, e.g. quantiles of the output length minus one): the count's terms summed
    /// exactly for a small mean count, the sum of `k` extras taken as normal; a normal TPOT for
    /// a large one.
    pub fn tpot_quantile_over_ms(
        &self,
        q: f64,
        gaps: &[f64],
        prompt_cv2: f64,
        arrival_cv: f64,
    ) -> f64 {
        match self.tpot_over(q, gaps, prompt_cv2, arrival_cv, None) {
            Found::Hi(hi) => hi.max(self.tpot_ms),
            Found::Passes(_) => unreachable!("a search without a test finds its quantile"),
        }
    }

    /// Whether `ok` holds for [`Self::tpot_quantile_over_ms`], for an `ok` that holds up to
    /// some TPOT and not beyond: the same answer, from a search that stops as soon as its
    /// bracket decides it.
    pub fn tpot_quantile_over_within(
        &self,
        q: f64,
        gaps: &[f64],
        prompt_cv2: f64,
        arrival_cv: f64,
        ok: &dyn Fn(f64) -> bool,
    ) -> bool {
        match self.tpot_over(q, gaps, prompt_cv2, arrival_cv, Some(ok)) {
            Found::Hi(hi) => ok(hi.max(self.tpot_ms)),
            Found::Passes(passes) => passes,
        }
    }

    /// The search of [`Self::tpot_quantile_over_ms`], whose quantile is the highest end found
    /// or the mean TPOT, whichever is higher.
    fn tpot_over(
        &self,
        q: f64,
        gaps: &[f64],
        prompt_cv2: f64,
        arrival_cv: f64,
        test: Option<&dyn Fn(f64) -> bool>,
    ) -> Found {
        let p = self.heavy_share.clamp(0.0, 1.0);
        let extra = (self.tpot_heavy_ms - self.tpot_light_ms).max(0.0);
        let cv2 = prompt_cv2.max(0.0);
        let clump = (arrival_cv * arrival_cv).max(MIN_CLUMP);
        let gaps: Vec<f64> = gaps.iter().copied().filter(|&m| m >= 1.0).collect();
        if gaps.is_empty() || extra <= 0.0 || p <= 0.0 || q <= 0.5 {
            // The mean TPOT.
            return Found::Hi(self.tpot_ms);
        }
        // Peakedness of the count of others in the replica. Gamma arrivals of coefficient of
        // variation `cv` into a replica whose requests stay long beside the gaps between
        // arrivals are a G/G/∞ queue: its count's variance is `z = 1 + (cv² − 1) η` times its
        // mean, `η = E[min(S₁, S₂)] / E[S]` over two lifetimes (Whitt's heavy-traffic
        // peakedness; ½ for exponential lifetimes, 1 for equal ones; `z = 1` for Poisson
        // arrivals), the lifetimes `ttft + gaps × tpot` over the equally likely gap counts. A
        // running request is in the length-biased batch, `E[N²] / E[N] = b + z` with itself:
        // `z − 1` more than beside a Poisson count.
        let z = if self.batch_variance > 0.0 {
            let lives: Vec<f64> = gaps
                .iter()
                .map(|&m| self.ttft_ms + m * self.tpot_ms)
                .collect();
            let n = lives.len() as f64;
            let mean = lives.iter().sum::<f64>() / n;
            let mut shorter = 0.0;
            for a in &lives {
                for b in &lives {
                    shorter += a.min(*b);
                }
            }
            let eta = if mean > 0.0 {
                shorter / (n * n) / mean
            } else {
                1.0
            };
            1.0 + (arrival_cv * arrival_cv - 1.0) * eta
        } else {
            1.0
        };
        let light =
            self.tpot_light_ms.min(self.tpot_ms) + (z - 1.0) * self.decode_slope_ms.max(0.0);
        let want = 1.0 - q;
        let r = self.heavy_growth.clamp(0.0, MAX_GROWTH);
        // Variance, in units of one extra, of the light iterations' sum over m gaps: the
        // decode batch's count of others varies (`batch_variance`), and a request's life of
        // m gaps averages it over time; taking the others' time in the replica as exponential
        // of the mean request lifetime L, the variance of the average over a life d is
        // `var × 2 (x − 1 + e^−x) / x²` with x = d / L (the whole variance for a short life,
        // about 2 L / d of it for a long one).
        let life = self.e2e_ms.max(self.tpot_ms);
        let batch_var = |m: f64| -> f64 {
            if self.batch_variance <= 0.0 || self.decode_slope_ms <= 0.0 {
                return 0.0;
            }
            let x = (m * self.tpot_ms / life).max(1e-6);
            let averaged = if x < 1e-3 {
                1.0
            } else if self.prompt_drag_ms > 0.0 {
                // Only the others there when it arrives (each stays min(T, d) of its life d):
                // those arriving later are the prompts it meets, whose drag the count below
                // carries.
                2.0 * (1.0 - portable::exp(-x) * (1.0 + x)) / (x * x)
            } else {
                2.0 * (x - 1.0 + portable::exp(-x)) / (x * x)
            };
            let per_gap = m * self.decode_slope_ms / extra;
            per_gap * per_gap * self.batch_variance * z * averaged
        };
        // P(TPOT > x) for a request of m gaps is a sum of normal tails whose weights and
        // spreads do not depend on x: they are computed once per gap count here, so the search
        // for x below only evaluates the tails (the same operations in the same order as
        // computing everything at each x, so the same bits).
        let before = self.heavy_before.max(0.0);
        // The others a request meets arrive within a window that starts at its own arrival
        // (its wait, its prompt, its decode). Seen from an arrival, gamma arrivals are not a
        // time average: their clumps put its neighbours close to it, so the count in the
        // window is the renewal function `H(s) = Σ_n P(n k, s / θ)` (the Palm count, as for
        // the TTFT step, [`Self::ttft_quantile_steps_ms`]; `rate × s` for Poisson arrivals),
        // taken as a clumped Poisson count with that mean and the renewal's chance of at
        // least one, `P(k, s / θ)`: clumps of `H / −ln(1 − P(k, s / θ))` arrivals, between 1
        // (a short window: one neighbour at most) and `arrival_cv²` (a long one).
        let mut ln = LnTables::new(1.0 / clump);
        let palm = |first: f64, ln: &mut LnTables| -> (f64, f64) {
            let rate = self.requests_s / 1e3;
            if (arrival_cv - 1.0).abs() < 1e-9 || first <= 0.0 || rate <= 0.0 {
                return (first, clump);
            }
            let chunks = self.prompt_steps.max(1.0);
            let (k, theta) = (1.0 / clump, clump / rate);
            let x = first / (chunks * rate) / theta;
            // gamma_p(n k, x), with ln x and ln Γ(n k) computed once.
            let ln_x = portable::ln(x);
            let mut p_nk = |n: usize| {
                let a = n as f64 * k;
                if x <= 0.0 || a <= 0.0 {
                    0.0
                } else {
                    gamma_p_series(a, x, ln_x, ln.gamma(n))
                }
            };
            let at_least_one = p_nk(1);
            let mut h = 0.0;
            let mut n = 1;
            loop {
                let term = if n == 1 { at_least_one } else { p_nk(n) };
                h += term;
                if term < 1e-9 || n > 10_000 {
                    break;
                }
                n += 1;
            }
            let size = if at_least_one < 1.0 - 1e-12 {
                (h / -portable::ln(1.0 - at_least_one)).clamp(clump.min(1.0), clump.max(1.0))
            } else {
                clump
            };
            (chunks * h, size)
        };
        // A prefill-first engine's prompt steps come in clumps of a prompt's chunks, one
        // prompt's work each: its size's spread is that of the whole clump (`together² cv2`
        // per prompt, `together × cv2` per extra).
        let together = self.prompt_clump.max(1.0);
        // A prompt met on a prefill-first engine then decodes beside the request for the rest
        // of its life (about half of it, or of the mean output when that is shorter), each
        // gap slower by the decode slope: each heavy iteration met carries its share of that
        // drag, and the light iterations lose its mean (the met prompts' part of the mean
        // batch). Per gap count: the light iteration and the extra of one heavy iteration.
        let mean_gaps = ((self.e2e_ms - self.ttft_ms) / self.tpot_ms.max(1e-9)).max(1.0);
        let units: Vec<(f64, f64)> = gaps
            .iter()
            .map(|&m| {
                let drag = self.prompt_drag_ms.max(0.0) * m.min(mean_gaps) / 2.0 / together;
                (light - p * drag, extra + drag)
            })
            .collect();
        let terms: Vec<TailTerms> = gaps
            .iter()
            .zip(&units)
            .map(|(&m, &(_, unit))| {
                let (first, c) = palm(p * m * (1.0 - r) + before, &mut ln);
                let scale = extra / unit;
                let vb = batch_var(m) * scale * scale;
                // The busy period's growth over a window of m steps (its mean kept).
                let r_m = window_growth(r, m);
                let first = first * (1.0 - r_m) / (1.0 - r);
                TailTerms::new(first, r_m, c * together, cv2 * together, vb, &mut ln)
            })
            .collect();
        let tail = |x: f64| {
            gaps.iter()
                .zip(&terms)
                .zip(&units)
                .map(|((&m, gap), &(light, unit))| gap.above((x - light) * m / unit))
                .sum::<f64>()
                / gaps.len() as f64
        };
        // Bracket: from the light iteration up until the tail is small enough.
        let bracket = Bracket {
            start: (light, light + extra),
            widen: |hi: f64| (hi < light + extra * 1e3).then_some(light + (hi - light) * 2.0),
            halvings: 40,
            close: |lo: f64, hi: f64| hi - lo < 1e-3 * light.max(1e-9),
        };
        bisect::search(bracket, |x| tail(x) > want, |hi| hi.max(self.tpot_ms), test)
    }

    /// End-to-end latency at quantile `q` (the two quantiles added: an upper bound).
    pub fn e2e_quantile_ms(&self, q: f64, arrival_cv: f64, output_tokens: u64) -> f64 {
        let n = output_tokens.saturating_sub(1) as f64;
        self.ttft_quantile_ms(q, arrival_cv, 0.0) + n * self.tpot_quantile_ms(q, output_tokens)
    }

    /// Cost of a million generated tokens at `usd_per_hour` for the replica's machine share.
    pub fn usd_per_million_output_tokens(&self, usd_per_hour: f64) -> Option<f64> {
        (self.output_tok_s > 0.0).then(|| usd_per_hour / (self.output_tok_s * 3600.0) * 1e6)
    }
}

/// A deployment prepared for fast estimates.
#[derive(Debug, Clone)]
pub struct Replica {
    model: ModelSpec,
    layout: Layout,
    rates: Rates,
    limits: EngineLimits,
    kv_tokens: f64,
    gpus: u32,
    engine: Engine,
    mixes: bool,
    /// On a Neuron chip, the compiled graphs' shapes: one whole prompt per context-encoding
    /// step, padded to its sequence bucket; token-generation steps at the longest sequence's
    /// bucket; every sequence's KV cache reserved at full length (`crate::neuron`).
    neuron: Option<crate::neuron::Shapes>,
}

impl Replica {
    /// Prepares a deployment for sequences of up to `context` tokens: peak rates for the math
    /// format, and the KV cache the engine's memory budget leaves (the `fit` engine view).
    pub fn new(
        d: &Deployment<'_>,
        context: u64,
        params: &MemoryParams,
    ) -> Result<Replica, PerfError> {
        let p = &d.placement;
        if let Some(why) = crate::neuron::refusal(d.engine, p.model, p.gpu) {
            return Err(PerfError::refused("engine", why));
        }
        // The engine's own memory rule (`limits.kv_basis`) sizes the KV cache inside `fit`.
        let input = FitInput {
            placement: p.clone(),
            context: context.max(1),
            concurrency: 1,
            gpu_memory_utilization: d.kv_memory_fraction,
            safety_margin: 1.0,
            engine: d.limits,
        };
        let report = fit(&input, params)?;
        if !report.engine_fits {
            return Err(PerfError::refused(
                "memory",
                format!(
                    "{} on {}× {} ({:.1} GiB weights per GPU) leaves no KV cache for one {context}-token sequence",
                    p.model.name, p.tp * p.pp, p.gpu.name, report.weights_gib_per_gpu
                ),
            ));
        }
        let rates = rates(p)?;
        let kv_tokens = report.engine_kv_blocks * d.limits.block_size;
        let mut limits = d.limits;
        let neuron = (p.gpu.arch == inferplan_catalog::Arch::Neuron).then(|| {
            // The batch compiled for `context`-token sequences, as render writes it.
            limits.max_num_seqs =
                crate::neuron::max_num_seqs(kv_tokens, context.max(1), limits.max_num_seqs);
            crate::neuron::Shapes {
                max_num_seqs: limits.max_num_seqs,
                max_model_len: context.max(1),
            }
        });
        if d.engine == Engine::Sglang {
            limits.max_num_seqs =
                limits
                    .max_num_seqs
                    .min(crate::engine::sglang_max_running_requests(
                        kv_tokens,
                        p.model.max_context,
                    ));
        }
        Ok(Replica {
            model: p.model.clone(),
            layout: Layout {
                tp: p.tp,
                attention_dp: p.attention_dp,
                pp: p.pp,
                weights: p.weights,
                kv: p.kv,
            },
            rates,
            limits,
            kv_tokens: kv_tokens as f64,
            gpus: p.tp * p.pp,
            engine: d.engine,
            // NxD Inference runs context encoding and token generation as separate graphs.
            mixes: d.engine.mixes_prefill_and_decode() && neuron.is_none(),
            neuron,
        })
    }

    /// KV-cache capacity of the replica, tokens.
    pub fn kv_cache_tokens(&self) -> f64 {
        self.kv_tokens
    }

    /// The engine's scheduler limits.
    pub fn limits(&self) -> EngineLimits {
        self.limits
    }

    /// The serving engine.
    pub fn engine(&self) -> Engine {
        self.engine
    }

    /// On a Neuron chip, the shapes of the compiled graphs every step runs as (the simulator
    /// schedules and prices its steps with them); `None` on GPUs.
    pub fn neuron_shapes(&self) -> Option<crate::neuron::Shapes> {
        self.neuron
    }

    /// Whether prompts run in steps of their own, pausing the decodes: the engines that do not
    /// mix them ([`Engine::mixes_prefill_and_decode`]) and NxD Inference on a Neuron chip.
    pub fn prefill_first(&self) -> bool {
        !self.mixes
    }

    /// A decode step of `seqs` sequences of `context` tokens on average, whole sequences of
    /// `len` tokens on average: on a Neuron chip, every sequence at the bucket of the longest
    /// ([`crate::neuron::Shapes::decode`]). The longest of `n` is taken as the expected
    /// maximum of `n` lengths whose excess over the mean is exponential with its 99th
    /// percentile at `max_model_len` (the planner's p99 prompt + p99 output): the mean plus
    /// `(max_model_len − len) × H(n) / ln 100`, `H(n) ≈ ln n + γ`, within `max_model_len`;
    /// with fixed lengths `len` is `max_model_len` and so the longest.
    fn decode_batch(&self, seqs: f64, context: f64, len: f64) -> Batch {
        match self.neuron {
            Some(shapes) => {
                let cap = shapes.max_model_len as f64;
                let h = portable::ln(seqs.max(1.0)) + 0.577_215_664_9;
                let longest = (len + (cap - len).max(0.0) * h / portable::ln(100.0)).min(cap);
                let (_, bucket) = shapes.decode(1, longest.ceil() as u64);
                Batch::decode(seqs.min(shapes.max_num_seqs as f64), bucket as f64)
            }
            None => Batch::decode(seqs, context),
        }
    }

    /// GPUs of the replica.
    pub fn gpus(&self) -> u32 {
        self.gpus
    }

    /// Whether steps are composed from kernel curves (else the roofline).
    pub fn has_kernels(&self) -> bool {
        self.rates.kernels.is_some()
    }

    /// The same replica with its steps by the roofline, kernel curves or not.
    pub fn on_roofline(&self) -> Replica {
        let mut r = self.clone();
        r.rates.kernels = None;
        r
    }

    /// Time a request spends before its first token beyond the GPU work of its prompt, when
    /// `other_streams` other requests are open on the replica: a fixed part per request (HTTP,
    /// tokenization, scheduling; the kernel path's or the roofline's, each fitted on its own
    /// GPUs), the host's dispatch of its eager prompt step ([`Replica::eager_prompt_s`]) and a
    /// part per open stream (the front end and the client handle every open stream's token
    /// events on one event loop, and the new request's first token waits behind them). An idle
    /// replica costs the fixed part and the dispatch only. The simulator charges the same, with
    /// the streams open when the request arrives.
    pub fn request_overhead_s(&self, e: &Efficiency, other_streams: f64) -> f64 {
        let fixed = if self.has_kernels() {
            e.kernel.request_overhead_s
        } else {
            e.request_overhead_s
        };
        fixed + self.eager_prompt_s(e) + e.stream_overhead_s * other_streams.max(0.0)
    }

    /// Host time of a prompt step run eagerly (no CUDA graph): `eager_layer_s` per layer, a
    /// MoE layer twice ([`Efficiency::eager_layer_s`]). Measured on the AIConfigurator closed
    /// loops of at most four clients, the TTFT left after the prompt's GPU time grows with the
    /// layers, MoE layers about twice as much as dense ones (0.6 / 1.5 ms per dense / MoE
    /// layer on TensorRT-LLM, 0.6 / 0.9 ms on vLLM; VALIDATION.md). A Neuron graph is compiled
    /// ahead of time: nothing is dispatched per layer.
    pub fn eager_prompt_s(&self, e: &Efficiency) -> f64 {
        if self.neuron.is_some() {
            return 0.0;
        }
        let moe = self.model.moe.as_ref().map_or(0, |m| m.moe_layers);
        e.eager_layer_s * (self.model.layers + moe) as f64
    }

    /// Time of one pipeline stage for `b`: composed from kernel curves where the GPU has them,
    /// else the roofline, plus the engine's host-side time per decoding sequence.
    pub fn stage(&self, b: &Batch, e: &Efficiency) -> StepTime {
        let (m, l, r) = (&self.model, &self.layout, &self.rates);
        let mut t = match &r.kernels {
            Some(k) => kernels::step::step_time(m, l, b, r, k, e),
            None => step_time(m, l, b, r, e),
        };
        // The engine's host-side work per decoding sequence (`Efficiency::seq_overhead_s`).
        let per_seq = e.seq_overhead_s * b.decode_seqs.max(0.0);
        t.total_s += per_seq;
        t.overhead_s += per_seq;
        t
    }

    /// Seconds for every sequence of `b` to advance one step: with PP the batch is split into
    /// one micro-batch per stage, and each micro-batch passes every stage.
    pub fn iteration(&self, b: &Batch, e: &Efficiency) -> (f64, Bound) {
        let pp = f64::from(self.layout.pp.max(1));
        let t = self.stage(&b.scaled(1.0 / pp), e);
        (t.total_s * pp, t.bound)
    }

    /// Most sequences that run at once with `input` + `output` tokens each: the engine's
    /// `max_num_seqs`, and what the KV cache holds: at the mean context `input + output / 2`
    /// for engines that allocate blocks as sequences grow, at the full context for
    /// TensorRT-LLM, whose default scheduler admits a request only when its whole KV cache can
    /// be reserved (`guaranteed_no_evict`).
    pub fn max_batch(&self, input: u64, output: u64) -> f64 {
        let context = if self.engine == Engine::Trtllm || self.neuron.is_some() {
            (input + output) as f64
        } else {
            input as f64 + output as f64 / 2.0
        };
        (self.kv_tokens / context)
            .floor()
            .clamp(1.0, self.limits.max_num_seqs as f64)
    }

    /// Batch and step-token limits for a load. `trtllm-bench` sizes a saturated run from the
    /// lengths: up to 4096 requests (what the KV cache holds) and `requests × (1 + input /
    /// output)` tokens per step, within 2048..32768 (see `data/perf/engines.csv`).
    /// TensorRT-LLM does not chunk prompts by default, so a step takes at least one prompt.
    fn limits_for(&self, load: &Load, i: f64, o: f64) -> (f64, f64) {
        let mut batch = self.max_batch(i as u64, o as u64);
        let mut budget = self.limits.max_num_batched_tokens as f64;
        if self.engine == Engine::Trtllm {
            if matches!(load, Load::Saturated) {
                batch = (self.kv_tokens / (i + o)).floor().clamp(1.0, 4096.0);
                budget = (batch * (1.0 + i / o)).clamp(2048.0, 32768.0);
            }
            budget = budget.max(i + 1.0);
        }
        // NxD Inference encodes one whole prompt per step (`ctx_batch_size = 1`), in a step of
        // its own.
        if self.neuron.is_some() {
            budget = i + batch;
        }
        (batch, budget)
    }

    /// The estimate for a workload.
    pub fn run(&self, w: &Workload, e: &Efficiency) -> Estimate {
        self.run_spread(w, e, 0.0)
    }

    /// The estimate for a workload whose output lengths vary around `w.output_tokens` with
    /// squared coefficient of variation `output_cv2`. Under open-loop (Poisson) arrivals the
    /// sequences running at any time are the long ones more often (each is there for as long
    /// as it generates), so a decode step reads the KV cache of `prompt + E[o²] / 2E[o]` tokens
    /// per sequence on average, `prompt + mean (1 + cv²) / 2`, not `prompt + mean / 2`.
    pub fn run_spread(&self, w: &Workload, e: &Efficiency, output_cv2: f64) -> Estimate {
        self.run_lengths(w, e, output_cv2, 0.0)
    }

    /// [`Replica::run_spread`] with prompts whose lengths have squared coefficient of
    /// variation `prompt_cv2` (log-normal): under open-loop arrivals a step carries the
    /// prompt tokens waiting when it starts, a varying amount, and its time is not linear in
    /// them (the extra time of its prompt tokens is convex: `ExtraCurve`).
    pub fn run_lengths(
        &self,
        w: &Workload,
        e: &Efficiency,
        output_cv2: f64,
        prompt_cv2: f64,
    ) -> Estimate {
        let spread = output_cv2.max(0.0);
        let (input, o) = (w.input_tokens.max(1) as f64, w.output_tokens.max(1) as f64);
        // A Neuron graph runs the prompt padded to its context-encoding bucket.
        let i = if let Some(shapes) = self.neuron {
            shapes.prompt(w.input_tokens.max(1)) as f64
        } else {
            input
        };
        let (max_batch, budget) = self.limits_for(&w.load, i, o);
        // A whole sequence's mean length, prompt and output (a Neuron decode step runs at the
        // bucket of the longest running one).
        let len = input + o;
        let (_, prefill_bound) = self.iteration(&chunk(budget.min(i), i), e);
        let mut out = match w.load {
            Load::Static { batch } => self.waves(batch as f64, i, o, f64::INFINITY, e),
            Load::Burst { requests } => self.waves(requests as f64, i, o, budget, e),
            // A prefill batch runs on its own and pauses decoding: clients move in rounds, each
            // prefilling every prompt, then decoding the batch to the end.
            Load::Closed { concurrency } if !self.mixes => {
                self.waves(concurrency as f64, i, o, budget, e)
            }
            Load::Closed { concurrency } => {
                let c = concurrency.max(1) as f64;
                let mut s = self.steady(c.min(max_batch), i, o, len, budget, e);
                let seqs = self.limits.max_num_seqs as f64;
                // When outputs outgrow prompts, requests are admitted while their prompts fit
                // and preempted as they grow: all progress, at the pace the cache allows.
                // When prompts dominate, admission is what the cache limits: the rest queue.
                // TensorRT-LLM reserves whole sequences, so it always queues.
                let grows = o > i && self.engine != Engine::Trtllm;
                if c > max_batch && c <= seqs && grows {
                    let stretch = c / max_batch;
                    s.tpot_s *= stretch;
                    s.light_s *= stretch;
                    s.heavy_s *= stretch;
                } else if c > max_batch {
                    s.queue_s = (c - max_batch) / s.requests_s;
                }
                self.clumped(&mut s, c.min(max_batch), i, budget, e);
                s
            }
            Load::Saturated => self.steady(max_batch, i, o, len, budget, e),
            Load::Poisson { rate_rps } => {
                let full = self.steady(max_batch, i, o, len, budget, e);
                if rate_rps >= full.requests_s {
                    Phase {
                        overloaded: true,
                        ..full
                    }
                } else {
                    // Little's law: running = rate × lifetime, iterated to a fixed point (at
                    // least one sequence runs while the replica is busy).
                    let mut open = Open {
                        rate: rate_rps,
                        output_cv2: spread,
                        prompt_cv2: prompt_cv2.max(0.0),
                        running: 0.0,
                        max_batch,
                    };
                    let mut s = self.steady_open(1.0, open, i, o, len, budget, e);
                    for _ in 0..20 {
                        let lifetime = s.ttft_s + (o - 1.0) * s.tpot_s;
                        let next = (rate_rps * lifetime).min(max_batch);
                        if (next - open.running).abs() < 1e-3 {
                            break;
                        }
                        open.running = next;
                        s = self.steady_open(next.max(1.0), open, i, o, len, budget, e);
                    }
                    // Room to be admitted: a sequence holds its KV cache from admission to
                    // its last token; `rate × lifetime` are in the replica on average and at
                    // most `max_batch` fit. With that many or more on offer the replica
                    // cannot keep up whatever its step times; below, an arrival may wait for a
                    // departure (`Estimate::kv_wait`; its mean is in the queue time).
                    let hold = s.ttft_s + (o - 1.0) * s.tpot_s;
                    let held = rate_rps * hold;
                    if held >= max_batch {
                        Phase {
                            overloaded: true,
                            ..full
                        }
                    } else {
                        let (p, given) = kv_wait(max_batch, held, hold, 1.0);
                        Phase {
                            requests_s: rate_rps,
                            queue_s: s.queue_s + p * given,
                            kv_held: held,
                            kv_hold_s: hold,
                            ..s
                        }
                    }
                }
            }
        };
        // Offline static-batch benchmarks call the engine directly: no API server in front.
        // Otherwise the streams open beside a request: the other clients of a closed loop or
        // a burst, the running batch under Poisson arrivals or saturation.
        let api = match w.load {
            Load::Static { .. } => 0.0,
            Load::Closed { concurrency } => self.request_overhead_s(e, concurrency as f64 - 1.0),
            Load::Burst { requests } => self.request_overhead_s(e, requests as f64 - 1.0),
            // A request arriving at random finds the time-average count open (all of them
            // others): by Little's law, the rate times the time a request is open, its
            // lifetime plus this overhead, which grows with the count: `n = rate (life +
            // fixed + per_stream n)`.
            Load::Poisson { rate_rps } if !out.overloaded => {
                let life = out.ttft_s + out.queue_s + (o - 1.0) * out.tpot_s;
                let (fixed, per_stream) = (
                    self.request_overhead_s(e, 0.0),
                    self.request_overhead_s(e, 1.0) - self.request_overhead_s(e, 0.0),
                );
                let n = rate_rps * (life + fixed) / (1.0 - rate_rps * per_stream).max(0.5);
                self.request_overhead_s(e, n)
            }
            Load::Poisson { .. } | Load::Saturated => self.request_overhead_s(e, out.batch - 1.0),
        };
        out.ttft_s += out.queue_s + api;
        // A prefill-first engine under open-loop arrivals: the prompts a decoding request
        // meets come whole, their chunks back to back.
        let together = matches!(w.load, Load::Poisson { .. }) && !self.mixes && !out.overloaded;
        let gpus = f64::from(self.gpus.max(1));
        let output_tok_s = out.requests_s * o;
        let total_tok_s = out.requests_s * (input + o);
        Estimate {
            ttft_ms: out.ttft_s * 1e3,
            tpot_ms: out.tpot_s * 1e3,
            e2e_ms: (out.ttft_s + (o - 1.0) * out.tpot_s) * 1e3,
            queue_ms: out.queue_s * 1e3,
            output_tok_s,
            total_tok_s,
            output_tok_s_per_gpu: output_tok_s / gpus,
            total_tok_s_per_gpu: total_tok_s / gpus,
            requests_s: out.requests_s,
            batch: out.batch,
            max_batch,
            kv_cache_tokens: self.kv_tokens,
            overloaded: out.overloaded,
            prompt_wait_ms: out.wait_s * 1e3,
            prompt_utilization: out.rho,
            kv_held: out.kv_held,
            kv_hold_ms: out.kv_hold_s * 1e3,
            tpot_light_ms: out.light_s * 1e3,
            tpot_heavy_ms: out.heavy_s * 1e3,
            heavy_share: out.share,
            heavy_before: out.before,
            heavy_growth: out.growth,
            prompt_steps: out.chunks,
            prompt_clump: if together { out.chunks.max(1.0) } else { 1.0 },
            prompt_drag_ms: if together { out.slope_s * 1e3 } else { 0.0 },
            decode_slope_ms: out.slope_s * 1e3,
            batch_variance: out.batch_var,
            ttft_spread_ms: out.spread_s * 1e3,
            request_overhead_ms: api * 1e3,
            decode_bound: out.decode_bound,
            prefill_bound,
            gpus: self.gpus,
        }
    }

    /// Continuous batching with `b` sequences running and arrivals spread out. An iteration
    /// either decodes only (light) or also carries a prompt chunk (heavy); with random arrivals
    /// a request meets heavy iterations in proportion to the prompt work of the others. Its
    /// own prompt takes its chunks' heavy iterations, plus an M/D/1 wait behind the prompts
    /// ahead of it. When the prompts need more than every iteration's spare budget, the
    /// replica is prompt-bound: every iteration is full, and requests wait for their turn.
    fn steady(&self, b: f64, i: f64, o: f64, len: f64, budget: f64, e: &Efficiency) -> Phase {
        self.steady_with(b, None, i, o, len, budget, e)
    }

    /// [`Replica::steady`] with arrivals at `rate` requests/s independent of the request
    /// (open loop): the prompts a request meets while it decodes are those arriving in that
    /// time, `rate × decode time`, not the `b − 1` others of a closed loop (with one request
    /// running, a closed loop has none; an open loop still has arrivals). The batch also
    /// fluctuates: the others running beside a request are a Poisson count of mean `b` (the
    /// time average, which an arriving request sees), so while it decodes a request is in a
    /// batch of one more than the time average (itself and the others), the length-biased
    /// batch; its decode iterations are priced there, its own prompt beside the time average.
    // The step's lengths positionally: padded prompt, output, whole mean sequence.
    #[allow(clippy::too_many_arguments)]
    fn steady_open(
        &self,
        b: f64,
        open: Open,
        i: f64,
        o: f64,
        len: f64,
        budget: f64,
        e: &Efficiency,
    ) -> Phase {
        self.steady_with(b, Some(open), i, o, len, budget, e)
    }

    // The step's lengths positionally: padded prompt, output, whole mean sequence.
    #[allow(clippy::too_many_arguments)]
    fn steady_with(
        &self,
        b: f64,
        open: Option<Open>,
        i: f64,
        o: f64,
        len: f64,
        budget: f64,
        e: &Efficiency,
    ) -> Phase {
        let output_cv2 = open.map_or(0.0, |o| o.output_cv2);
        let decode_steps = o - 1.0;
        // The mean context a running sequence has: length-biased when outputs vary.
        let context = i + o * (1.0 + output_cv2) / 2.0;
        let room_for = |decoding: f64| (budget - decoding).max(budget / 2.0);
        let chunks = (i / room_for(b)).ceil().max(1.0);
        let decoding = b * decode_steps / (decode_steps + chunks);
        let room = room_for(decoding);
        let piece = i / chunks;
        let decode = self.decode_batch(decoding, context, len);
        // The decode batch a request is in while it decodes: the time average in a closed
        // loop (its `b − 1` others and itself); one more in an open loop, whose others are a
        // Poisson count of mean `b` (see `steady_open`), within the engine's limit.
        let seen = match open {
            Some(open) => {
                let others = open.running * decode_steps / (decode_steps + chunks);
                (others + 1.0).min(open.max_batch.max(decoding))
            }
            None => decoding,
        };
        let gaps = self.decode_batch(seen, context, len);
        let (t_light, decode_bound) = self.iteration(&gaps, e);
        // The light iteration's slope around that batch, and the spread of the batch.
        let (slope_s, batch_var) = match open {
            Some(_) => {
                let (lo, hi) = ((seen - 1.0).max(1.0), seen + 1.0);
                let t = |n: f64| self.iteration(&self.decode_batch(n, context, len), e).0;
                ((t(hi) - t(lo)) / (hi - lo), seen - 1.0)
            }
            None => (0.0, 0.0),
        };
        // Engines that mix prompt chunks with decodes run both in one iteration: a prompt takes
        // its chunks' heavy iterations (beside the time-average batch, which it arrives to).
        // The others run a prompt step alone as soon as a prompt waits, pausing the decodes:
        // the prompt waits for the decode step in progress (half of one on average), then
        // takes its prompt steps; a decoding request sees a prompt step and then its decode
        // step.
        let (t_heavy, prompt_s, own) = if self.mixes {
            let t = self.iteration(&gaps.plus(chunk(piece, i)), e).0;
            let p = self.iteration(&decode.plus(chunk(piece, i)), e).0;
            (t, chunks * p, chunks * p)
        } else {
            let t = self.iteration(&chunk(piece, i), e).0;
            let in_progress = self.iteration(&decode, e).0;
            (t + t_light, chunks * t, chunks * t + in_progress / 2.0)
        };
        // Heavy iterations of the others per request lifetime, shared over its decode steps.
        let others = (b - 1.0).max(0.0) * chunks;
        let mut share = if decode_steps > 0.0 {
            (others / decode_steps).min(1.0)
        } else {
            1.0
        };
        let mut t_heavy = t_heavy;
        let mut tpot_s = share * t_heavy + (1.0 - share) * t_light;
        let curve = (self.mixes && open.is_some() && decode_steps > 0.0)
            .then(|| ExtraCurve::new(self, &gaps, room, i, e));
        if let (
            Some(Open {
                rate, prompt_cv2, ..
            }),
            true,
        ) = (open, decode_steps > 0.0)
        {
            // Open loop: `rate × tpot × chunks` heavy iterations per decode step, to a fixed
            // point of the TPOT they make. A step carries the prompt tokens waiting when it
            // starts, not one mean chunk: the heavy iteration is one chunk's worth of the mean
            // extra time per prompt token over what the steps carry (mixing engines).
            for _ in 0..8 {
                if let Some(curve) = &curve {
                    let per_token = curve.per_token(i, prompt_cv2, rate * tpot_s);
                    t_heavy = t_light + piece.min(room) * per_token;
                }
                share = (rate * tpot_s * chunks).min(1.0);
                tpot_s = share * t_heavy + (1.0 - share) * t_light;
            }
        }
        let service = own + decode_steps * tpot_s;
        // Prompt-bound: all prompt tokens pass in full iterations of `room` tokens.
        let (t_full, _) = self.iteration(&decode.plus(chunk(room.max(piece), i)), e);
        let round = service.max(b * i / room.max(piece) * t_full);
        let rho = (b - 1.0).max(0.0) * prompt_s / round;
        let wait = if rho < 0.95 {
            prompt_s * rho / (2.0 * (1.0 - rho))
        } else {
            prompt_s * 0.95 / 0.1
        };
        let wait = wait.max(round - service);
        // Open loop, engines that mix prompt chunks into their steps: a prompt does not wait
        // for a whole heavy step per other request open (the closed loop's rounds above), but
        // for the step in progress (half of one, when one is: a Poisson count of `running`
        // sequences is not zero) and the prompt tokens ahead of it, a queue served `room`
        // tokens per step (Kingman's mean wait, as the TTFT quantile's backlog,
        // `Estimate::ttft_quantile_steps_ms`): the prompts arriving meanwhile share steps.
        let wait = match open {
            Some(Open {
                rate,
                prompt_cv2,
                running,
                ..
            }) if self.mixes && decode_steps > 0.0 => {
                let per_token = t_light / room.max(piece) + (t_heavy - t_light).max(0.0) / piece;
                let service = i * per_token;
                let rho = rate * service;
                let backlog = if rho < 0.95 {
                    rho / (1.0 - rho) * (1.0 + prompt_cv2) / 2.0 * service
                } else {
                    service * 0.95 / 0.1
                };
                let busy = 1.0 - portable::exp(-running.max(0.0));
                busy * tpot_s / 2.0 + backlog
            }
            _ => wait,
        };
        // Open loop: the prompts arriving while a request's own prompt waits and prefills are
        // prefilled after it (first come, first served), in its first gaps; a time average of
        // the heavy iterations over its decode time misses them, since its own prompt keeps
        // the others' out of that time.
        let (before, growth) = match open {
            Some(Open { rate, .. }) if decode_steps > 0.0 => {
                // A prompt met on a prefill-first engine then decodes beside the request,
                // slowing each of its decode steps by the slope for about half the mean
                // output: that stretch lets more arrive too.
                let drag = if self.mixes {
                    0.0
                } else {
                    slope_s * decode_steps / 2.0
                };
                (
                    rate * (own + wait) * chunks,
                    (rate * (chunks * (t_heavy - t_light).max(0.0) + drag)).min(MAX_GROWTH),
                )
            }
            _ => (0.0, 0.0),
        };
        if decode_steps > 0.0 {
            // Each of those stretches the decode in turn (see `Estimate::heavy_growth`).
            tpot_s += before / (1.0 - growth) * (t_heavy - t_light).max(0.0) / decode_steps;
        }
        Phase {
            ttft_s: own + wait,
            tpot_s,
            queue_s: 0.0,
            requests_s: b / round,
            batch: b,
            overloaded: false,
            decode_bound,
            wait_s: wait,
            kv_held: 0.0,
            kv_hold_s: 0.0,
            rho: rho.min(0.95),
            light_s: t_light,
            heavy_s: t_heavy,
            share,
            before,
            growth,
            chunks,
            slope_s,
            batch_var,
            spread_s: 0.0,
        }
    }

    /// A closed loop of `running` clients with equal lengths does not spread its arrivals out
    /// as Poisson arrivals would: requests prefilled together decode together and finish
    /// together, so their next prompts arrive together again, and the clients drift apart
    /// only slowly. Prompts arrive in clumps of `running^α` ([`Efficiency::clump_exponent`],
    /// fitted per engine: 0 spread out, 1 lockstep rounds), and a prompt waits on average for
    /// half of the others of its clump, each its prompt's own prefill (its chunks alone); the
    /// first tokens of a clump spread over the whole clump. The wait is a prompt's, so it is
    /// part of TTFT only: the same prompts are prefilled either way, and throughput and TPOT
    /// are unchanged. Measured on the closed loops of vLLM and TensorRT-LLM, the TTFT left after
    /// the step model grows with the prompt's prefill time in proportion to about `(√c − 1) /
    /// 2` (VALIDATION.md, "Request overhead").
    fn clumped(&self, s: &mut Phase, running: f64, i: f64, budget: f64, e: &Efficiency) {
        let clump = portable::pow(running.max(1.0), e.clump_exponent.clamp(0.0, 1.0));
        if clump <= 1.0 {
            return;
        }
        let piece = budget.min(i).max(1.0);
        let chunks = (i / piece).ceil().max(1.0);
        let prompt = chunks * self.iteration(&chunk(piece, i), e).0;
        let ahead = (clump - 1.0) / 2.0 * prompt;
        s.ttft_s += ahead;
        s.spread_s = s.spread_s.max((clump - 1.0) * prompt);
    }

    /// `n` requests at once, in waves of what fits; prompts prefilled in chunks of `budget`
    /// tokens (all at once for a static batch), then decoded together.
    fn waves(&self, n: f64, i: f64, o: f64, budget: f64, e: &Efficiency) -> Phase {
        let n = n.max(1.0);
        // A static batch is sized by its caller; the KV cache still bounds it.
        let fits = if budget.is_finite() {
            self.max_batch(i as u64, o as u64)
        } else {
            (self.kv_tokens / (i + o / 2.0)).floor().max(1.0)
        };
        let wave = n.min(fits);
        let waves = (n / wave).ceil();
        let tokens = wave * i;
        let step_tokens = tokens.min(budget);
        let prefill_steps = tokens / step_tokens;
        let (t_prefill, _) = self.iteration(&chunk(step_tokens, i), e);
        // Request k of the wave has its first token after ceil((k + 1) i / budget) steps.
        let first_token_steps = if prefill_steps <= 1.0 {
            1.0
        } else {
            (prefill_steps + 1.0) / 2.0
        };
        let (tpot_s, decode_bound) = if o > 1.0 {
            self.iteration(&Batch::decode(wave, i + o / 2.0), e)
        } else {
            (0.0, Bound::MemoryBandwidth)
        };
        // Full budget-sized steps, then one step with the rest of the prompt tokens.
        let full = prefill_steps.floor();
        let rest = tokens - full * step_tokens;
        let t_rest = if rest > 0.5 {
            self.iteration(&chunk(rest, i), e).0
        } else {
            0.0
        };
        let wave_s = full * t_prefill + t_rest + (o - 1.0) * tpot_s;
        // First tokens after 1 ..= prefill_steps steps within a wave, and whole waves apart.
        let spread_s = (prefill_steps.ceil() - 1.0).max(0.0) * t_prefill + (waves - 1.0) * wave_s;
        Phase {
            ttft_s: first_token_steps * t_prefill,
            tpot_s,
            queue_s: (waves - 1.0) / 2.0 * wave_s,
            requests_s: n / (waves * wave_s),
            batch: wave,
            overloaded: false,
            decode_bound,
            wait_s: 0.0,
            kv_held: 0.0,
            kv_hold_s: 0.0,
            rho: 0.0,
            light_s: tpot_s,
            heavy_s: tpot_s,
            share: 0.0,
            before: 0.0,
            growth: 0.0,
            chunks: 1.0,
            slope_s: 0.0,
            batch_var: 0.0,
            spread_s,
        }
    }
}

/// Points of [`ExtraCurve`] across a step's prompt room (beside 0).
const EXTRA_POINTS: usize = 4;

/// The time prompt tokens add to a decode iteration, as a function of how many the step
/// carries: a decode step of a large batch is bound by reading weights and KV cache, and the
/// compute of a small prompt chunk hides under it; a full chunk is bound by its compute. The
/// extra is convex in the tokens (nothing, then linear), so the mean extra of steps that
/// carry a varying amount is above the extra of the mean amount. Taken piecewise linear
/// through the step model at `EXTRA_POINTS` evenly spaced amounts up to the room.
struct ExtraCurve {
    room: f64,
    /// Extra time, s, at `room × k / EXTRA_POINTS` tokens, k = 1 ..= EXTRA_POINTS.
    extra: [f64; EXTRA_POINTS],
}

impl ExtraCurve {
    fn new(r: &Replica, gaps: &Batch, room: f64, prompt: f64, e: &Efficiency) -> ExtraCurve {
        let room = room.max(1.0);
        let base = r.iteration(gaps, e).0;
        let mut extra = [0.0; EXTRA_POINTS];
        for (k, x) in extra.iter_mut().enumerate() {
            let tokens = room * (k + 1) as f64 / EXTRA_POINTS as f64;
            *x = (r.iteration(&gaps.plus(chunk(tokens, prompt)), e).0 - base).max(0.0);
        }
        ExtraCurve { room, extra }
    }

    /// Extra time of a step carrying `tokens` prompt tokens (at most the room), s.
    fn at(&self, tokens: f64) -> f64 {
        let width = self.room / EXTRA_POINTS as f64;
        let x = (tokens / width).clamp(0.0, EXTRA_POINTS as f64);
        let k = (x.floor() as usize).min(EXTRA_POINTS - 1);
        let lo = if k == 0 { 0.0 } else { self.extra[k - 1] };
        lo + (self.extra[k] - lo) * (x - k as f64)
    }

    /// Mean extra time per prompt token, s, over the steps that carry prompts of mean `mean`
    /// tokens (log-normal, squared coefficient of variation `cv2`) arriving `per_step` per
    /// iteration on average. A token's step carries its own prompt's chunk (a prompt longer
    /// than the room runs in full steps and a last chunk) and the prompts of the others that
    /// arrive within the same iteration (a Poisson count of `per_step`, each of the mean
    /// length), up to the room; the steps' extra over the tokens they carry, weighted by
    /// tokens (a token is more likely in a long prompt: the length-biased log-normal, over
    /// the four quartiles' midpoints).
    fn per_token(&self, mean: f64, cv2: f64, per_step: f64) -> f64 {
        const Z: [f64; 2] = [0.318_639_363_964_375, 1.150_349_380_376_008];
        let s2 = portable::ln(1.0 + cv2.max(0.0));
        let s = s2.sqrt();
        let biased = mean * (1.0 + cv2.max(0.0));
        let per_step = per_step.max(0.0);
        let p0 = portable::exp(-per_step);
        let mut total = 0.0;
        for z in [-Z[1], -Z[0], Z[0], Z[1]] {
            let l = (biased * portable::exp(s * z - s2 / 2.0)).max(1.0);
            let full = (l / self.room).floor();
            let last = l - full * self.room;
            let mut cost = full * self.at(self.room);
            if last > 0.0 {
                // Others in the step of the last chunk: k = 0, 1, 2, 3 and more.
                let (mut pk, mut left, mut shared) = (p0, 1.0, 0.0);
                for k in 0..4 {
                    let weight = if k == 3 { left } else { pk };
                    let p = (last + k as f64 * mean).min(self.room);
                    shared += weight * self.at(p) * last / p;
                    left -= pk;
                    pk *= per_step / (k + 1) as f64;
                }
                cost += shared;
            }
            total += cost / l;
        }
        total / 4.0
    }
}

/// Open-loop arrivals at a replica.
#[derive(Debug, Clone, Copy)]
struct Open {
    /// Requests/s.
    rate: f64,
    /// Squared coefficient of variation of the output length.
    output_cv2: f64,
    /// Squared coefficient of variation of the prompt length.
    prompt_cv2: f64,
    /// Sequences running (time average, by Little's law; below one at light load).
    running: f64,
    /// The most sequences the replica runs at once.
    max_batch: f64,
}

/// A share of the model's work for one load: times in seconds.
#[derive(Debug, Clone, Copy)]
struct Phase {
    ttft_s: f64,
    tpot_s: f64,
    queue_s: f64,
    requests_s: f64,
    batch: f64,
    overloaded: bool,
    decode_bound: Bound,
    /// Mean wait of a prompt behind other prompts (part of `ttft_s`).
    wait_s: f64,
    /// Sequences holding KV cache on average, and for how long.
    kv_held: f64,
    kv_hold_s: f64,
    /// Fraction of time the engine is busy with prompts.
    rho: f64,
    /// Decode-only and prompt-carrying iterations, and the share of the latter.
    light_s: f64,
    heavy_s: f64,
    share: f64,
    /// Heavy iterations a request meets for the prompts that arrive while its own waits and
    /// prefills.
    before: f64,
    /// Heavy iterations arriving during one heavy iteration's extra time.
    growth: f64,
    /// Prompt-carrying iterations per prompt (its chunks).
    chunks: f64,
    /// Growth of the light iteration per sequence, and the variance of the decode batch.
    slope_s: f64,
    batch_var: f64,
    /// Width of the uniform spread of first-token times of requests that arrive together.
    spread_s: f64,
}

/// `tokens` prompt tokens taken evenly from prompts of `prompt` tokens: each token attends to
/// `(prompt + 1) / 2` earlier tokens on average; chunks smaller than a prompt also read the
/// cached part of it.
fn chunk(tokens: f64, prompt: f64) -> Batch {
    if tokens <= 0.0 {
        return Batch::default();
    }
    Batch {
        prefill_tokens: tokens,
        prefill_past: ((prompt - tokens) / 2.0).max(0.0),
        prefill_pairs: tokens * (prompt + 1.0) / 2.0,
        ..Batch::default()
    }
}

/// Peak rates of the deployment's GPU for its math format and link.
fn rates(d: &Placement<'_>) -> Result<Rates, PerfError> {
    let g = d.gpu;
    let missing = |what: &str| {
        PerfError::refused(
            "gpu",
            format!("{}: {what} is not published, so speed cannot be estimated (add it with --catalog-dir)", g.name),
        )
    };
    let mem = g
        .mem_bandwidth_gbs
        .ok_or_else(|| missing("memory bandwidth"))?;
    // Weight-only formats (and FP8/FP4 without tensor-core support) compute in 16 bit.
    let math = match g.support(d.weights) {
        Support::Native if d.weights.bytes() < 2.0 => d.weights,
        _ if g.bf16_tflops.is_some() => Dtype::Bf16,
        _ => Dtype::Fp16,
    };
    let tflops = g
        .tflops(math)
        .or_else(|| g.tflops(Dtype::Fp16))
        .ok_or_else(|| missing("tensor throughput"))?;
    let pcie = pcie_bytes_s(g);
    let (link_bytes_s, link_latency_s) = match (d.interconnect, g.nvlink_gbs) {
        (Interconnect::NvLink | Interconnect::NvSwitch | Interconnect::NeuronLink, Some(bw)) => {
            (bw / 2.0 * 1e9, LINK_LATENCY_S)
        }
        _ => (pcie, PCIE_LATENCY_S),
    };
    // Kernel curves where the GPU has them for the math and KV formats and the embedded
    // file parses (it is checked by the tests); the roofline otherwise.
    // An MXFP4 MoE checkpoint quantizes only its experts (`memory::weight_bytes`): its dense
    // GEMMs run in 16 bit.
    let dense_math = if d.weights == Dtype::Mxfp4 && d.model.moe.is_some() {
        Dtype::Bf16
    } else {
        math
    };
    let kernels = CurveSet::embedded()
        .ok()
        .and_then(|set| set.for_replica(g, dense_math, d.weights, d.kv, d.tp, d.interconnect));
    Ok(Rates {
        mem_bytes_s: mem * 1e9,
        flops_s: tflops * 1e12,
        link_bytes_s,
        link_latency_s,
        kernels,
    })
}

/// Peak bytes/s of the GPU's PCIe x16 link one way: 2^(gen+1) GB/s (gen4 32, gen5 64);
/// gen4 when the catalog does not say.
pub fn pcie_bytes_s(g: &Gpu) -> f64 {
    g.pcie_gen
        .map_or(32e9, |gen| 2f64.powi(gen as i32 + 1) * 1e9)
}

#[cfg(test)]
mod tests {
    use super::normal_quantile as z;

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
