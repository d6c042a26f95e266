//! What one replica serves within the SLOs: latencies at the SLO quantile for a rate per
//! replica, and the highest such rate (the per-replica capacity the search sizes with, and
//! the figure `inferplan validate --capacity` compares with the simulator's).

use crate::cost::Sizing;
use crate::lengths::{length_cv2, length_grid, quantile_tokens};
use crate::workload::{Mode, Workload};
use inferplan_perf::step::Efficiency;
use inferplan_perf::{Estimate, Load, Replica, Workload as Shape};

/// A rejected configuration: reason code, detail, and for SLO misses how far off.
pub(crate) type Reject = (&'static str, String, Option<f64>);

/// Points of the output-length grid the TPOT quantile is taken over.
const GRID: usize = 24;

/// What the SLOs ask for, at which quantile.
struct Limits {
    q: f64,
    ttft: Option<f64>,
    tpot: Option<f64>,
    e2e: Option<f64>,
}

/// Latencies of a replica at one load, at the SLO quantile.
#[derive(Clone)]
pub(crate) struct AtLoad {
    pub(crate) ttft: f64,
    pub(crate) tpot: f64,
    pub(crate) e2e: f64,
}

/// The analytic model of one replica serving a workload against its SLOs.
pub struct SloModel<'a> {
    replica: &'a Replica,
    eff: &'a Efficiency,
    w: &'a Workload,
    sizing: &'a Sizing,
    limits: Limits,
    /// TTFT of a lone mean-length prompt, ms.
    mean_alone: f64,
    /// Gaps between tokens of equally likely requests (the output length's grid, less one).
    gaps: Vec<f64>,
    /// Squared coefficient of variation of the prompt length.
    prompt_cv2: f64,
    /// Equally likely prompt lengths (the prompt length's grid).
    prompts: Vec<f64>,
    /// Squared coefficient of variation of the output length.
    output_cv2: f64,
}

impl<'a> SloModel<'a> {
    /// The model of `replica` with efficiencies `eff` serving `w`.
    pub fn new(
        replica: &'a Replica,
        eff: &'a Efficiency,
        w: &'a Workload,
        sizing: &'a Sizing,
    ) -> SloModel<'a> {
        let slo = &w.slo;
        let mut m = SloModel {
            replica,
            eff,
            w,
            sizing,
            limits: Limits {
                q: slo.percentile.quantile(),
                ttft: slo.ttft_ms,
                tpot: slo.tpot_ms,
                e2e: slo.e2e_ms,
            },
            mean_alone: 0.0,
            gaps: length_grid(&w.lengths.output_tokens, GRID)
                .into_iter()
                .map(|n| (n.round() - 1.0).max(0.0))
                .collect(),
            prompt_cv2: length_cv2(&w.lengths.input_tokens),
            prompts: length_grid(&w.lengths.input_tokens, GRID),
            output_cv2: length_cv2(&w.lengths.output_tokens),
        };
        m.mean_alone = m.alone(sizing.input_mean);
        m
    }

    fn shape(&self, load: Load) -> Shape {
        Shape {
            input_tokens: self.sizing.input_mean.round().max(1.0) as u64,
            output_tokens: self.sizing.output_mean.round().max(1.0) as u64,
            load,
        }
    }

    /// TTFT of one prompt of `tokens` on an idle replica, ms.
    fn alone(&self, tokens: f64) -> f64 {
        self.replica
            .run(
                &Shape {
                    input_tokens: tokens.max(1.0) as u64,
                    output_tokens: 2,
                    load: Load::Static { batch: 1 },
                },
                self.eff,
            )
            .ttft_ms
    }

    /// Latencies at quantile `q` and a rate per replica.
    pub(crate) fn at_q(&self, rate: f64, q: f64) -> AtLoad {
        let (est, ttft) = self.ttft_at_q(rate, q);
        self.finish_at_q(&est, ttft, q)
    }

    /// The estimate at a rate per replica and the TTFT at quantile `q` (the cheap half of
    /// [`Self::at_q`]).
    fn ttft_at_q(&self, rate: f64, q: f64) -> (Estimate, f64) {
        let w = self.w;
        let est = self.replica.run_spread(
            &self.shape(Load::Poisson { rate_rps: rate }),
            self.eff,
            self.output_cv2,
        );
        // Engines that mix prompt chunks into their steps: the steps a first token waits for
        // (the backlog, then its own step with its neighbours' prompts; its own prompt over
        // the length distribution).
        if self.replica.engine().mixes_prefill_and_decode() {
            let ttft = est.ttft_quantile_steps_ms(
                q,
                &self.prompts,
                self.sizing.input_mean,
                self.prompt_cv2,
                w.traffic.burstiness,
                self.replica.limits().max_num_batched_tokens as f64,
            );
            return (est, ttft);
        }
        // The others: the own prompt of a request at the SLO quantile is longer than the mean
        // one, added to the wait's quantile.
        let long_prompt =
            (self.alone(quantile_tokens(&w.lengths.input_tokens, q)) - self.mean_alone).max(0.0);
        let ttft = est.ttft_quantile_ms(q, w.traffic.burstiness, self.prompt_cv2) + long_prompt;
        (est, ttft)
    }

    /// The rest of [`Self::at_q`]: TPOT (the costly half) and e2e.
    fn finish_at_q(&self, est: &Estimate, ttft: f64, q: f64) -> AtLoad {
        let w = self.w;
        let tpot = est.tpot_quantile_over_ms(q, &self.gaps, self.prompt_cv2, w.traffic.burstiness);
        let output_q = quantile_tokens(&w.lengths.output_tokens, q);
        let e2e = ttft + (output_q - 1.0).max(0.0) * tpot;
        AtLoad { ttft, tpot, e2e }
    }

    /// Latencies at the SLO quantile and at the 99th percentile for one rate per replica
    /// (computed once when the SLO quantile is the 99th).
    pub(crate) fn at_and_p99(&self, rate: f64) -> (AtLoad, AtLoad) {
        let served = self.at(rate);
        let p99 = if self.limits.q == 0.99 {
            served.clone()
        } else {
            self.at_q(rate, 0.99)
        };
        (served, p99)
    }

    /// Latencies at the SLO quantile and a rate per replica.
    pub(crate) fn at(&self, rate: f64) -> AtLoad {
        self.at_q(rate, self.limits.q)
    }

    /// Worst ratio of predicted value to limit (≤ 1 is within the SLOs).
    pub(crate) fn ratio(&self, a: &AtLoad) -> f64 {
        let l = &self.limits;
        [
            l.ttft.map(|l| a.ttft / l),
            l.tpot.map(|l| a.tpot / l),
            l.e2e.map(|l| a.e2e / l),
        ]
        .into_iter()
        .flatten()
        .fold(0.0, f64::max)
    }

    /// Whether `rate` requests/s per replica is within the SLOs and not overloaded: the same
    /// answer as `ratio(&at(rate)) <= 1.0 && !overloaded` (a ratio is within unless it is
    /// above 1; the worst of them ignores NaN), without the TPOT quantile when the load or the
    /// TTFT alone already decides.
    fn within(&self, rate: f64) -> bool {
        let q = self.limits.q;
        let (est, ttft) = self.ttft_at_q(rate, q);
        if est.overloaded || self.limits.ttft.is_some_and(|l| ttft / l > 1.0) {
            return false;
        }
        self.ratio(&self.finish_at_q(&est, ttft, q)) <= 1.0
    }

    /// TTFT, TPOT and e2e at the SLO quantile at `rate` requests/s per replica, ms.
    pub fn latencies_ms(&self, rate: f64) -> [f64; 3] {
        let a = self.at(rate);
        [a.ttft, a.tpot, a.e2e]
    }

    /// Requests/s of the replica when always full.
    pub fn saturated_rps(&self) -> f64 {
        self.replica
            .run(&self.shape(Load::Saturated), self.eff)
            .requests_s
    }

    /// The highest rate per replica within the SLOs (interactive work), or nine tenths of
    /// the saturated rate (async and batch work); an error when no rate is.
    pub(crate) fn capacity(&self) -> Result<f64, Reject> {
        let slo = &self.w.slo;
        let saturated = self.replica.run(&self.shape(Load::Saturated), self.eff);
        let max_rate = saturated.requests_s;
        let capacity = match slo.mode {
            Mode::Interactive => {
                let light = self.at(max_rate * 1e-4);
                if self.ratio(&light) > 1.0 {
                    return Err(self.slo_miss(&light));
                }
                // Bisection on the rate for the highest load within the SLOs.
                let (mut lo, mut hi) = (max_rate * 1e-4, max_rate * 0.999);
                if self.within(hi) {
                    lo = hi;
                } else {
                    for _ in 0..40 {
                        let mid = (lo * hi).sqrt();
                        if self.within(mid) {
                            lo = mid;
                        } else {
                            hi = mid;
                        }
                        if hi / lo < 1.001 {
                            break;
                        }
                    }
                }
                lo
            }
            Mode::Async | Mode::Batch => {
                if let Some(deadline) = slo.deadline_s {
                    let e2e = saturated.e2e_ms - saturated.queue_ms;
                    if e2e > deadline * 1e3 {
                        return Err((
                            "slo_unreachable_deadline",
                            format!(
                                "one request takes {:.0} s at full load, over the {deadline} s deadline",
                                e2e / 1e3
                            ),
                            Some(e2e / (deadline * 1e3)),
                        ));
                    }
                }
                if slo.mode == Mode::Batch {
                    // A batch job keeps its replicas' queues full: full throughput; restarts
                    // and interruptions are in its finish time (`job::plan_job`).
                    max_rate
                } else {
                    // Keep a tenth of headroom for bursts and restarts.
                    max_rate * 0.9
                }
            }
        };
        if capacity <= 0.0 || !capacity.is_finite() {
            return Err((
                "no_capacity",
                "the replica serves no requests within the SLOs".to_owned(),
                None,
            ));
        }
        Ok(capacity)
    }

    fn slo_miss(&self, a: &AtLoad) -> Reject {
        let limits = &self.limits;
        let mut parts = Vec::new();
        let mut reason = "slo_unreachable";
        for (name, value, limit, code) in [
            ("TTFT", a.ttft, limits.ttft, "slo_unreachable_ttft"),
            ("TPOT", a.tpot, limits.tpot, "slo_unreachable_tpot"),
            ("e2e", a.e2e, limits.e2e, "slo_unreachable_e2e"),
        ] {
            if let Some(l) = limit {
                if value > l {
                    parts.push(format!("{name} {value:.0} ms > {l:.0} ms"));
                    if reason == "slo_unreachable" {
                        reason = code;
                    }
                }
            }
        }
        (
            reason,
            format!("even at the lightest load: {}", parts.join(", ")),
            Some(self.ratio(a)),
        )
    }
}
