//! What one replica serves within the SLOs: latencies at the SLO quantile for a rate per
//! replica, and the highest such rate (the per-replica capacity the search sizes with, and
//! the figure `inferplan validate --capacity` compares with the simulator's).

use crate::cost::Sizing;
use crate::lengths::{length_cv2, length_grid, quantile_tokens};
use crate::workload::{Mode, Workload};
use inferplan_perf::step::Efficiency;
use inferplan_perf::{Estimate, Load, Replica, Workload as Shape};
use std::cell::{Cell, RefCell};
use std::collections::HashMap;

/// A rejected configuration: reason code, detail, and for SLO misses how far off.
pub(crate) type Reject = (&'static str, String, Option<f64>);

/// Points of the output-length grid the TPOT quantile is taken over.
const GRID: usize = 24;
/// Points of the prompt-length grid a prefill-first engine's TTFT quantile is taken over
/// (fine enough that its top point, the 99.5th percentile, is beyond a p99 SLO's).
const EXTRA_GRID: usize = 100;

/// What the SLOs ask for, at which quantile.
struct Limits {
    q: f64,
    ttft: Option<f64>,
    tpot: Option<f64>,
    e2e: Option<f64>,
}

/// What one search already found for a replica model: its capacity and its latencies at the
/// rates asked, by the replica's content (model, layout, rates, engine limits, KV cache) and
/// efficiencies, for one workload. Instance types that differ only in what the replica does not
/// see (the host's vCPUs and memory, its price, its name) share a replica model, and the answer
/// is the same computation's: e.g. the sizes of a single-GPU family, or a Neuron batch priced
/// once while choosing the compiled batch and again as the candidate.
#[derive(Default)]
pub(crate) struct Memo {
    capacity: RefCell<HashMap<String, Result<f64, Reject>>>,
    at: RefCell<HashMap<(String, u64), (AtLoad, AtLoad)>>,
}

impl Memo {
    /// The key of `replica` with `eff`: every field, `f64`s written to round trip (equal text,
    /// equal bits).
    pub(crate) fn key(replica: &Replica, eff: &Efficiency) -> String {
        format!("{replica:?} {eff:?}")
    }

    /// [`SloModel::capacity`] of the replica of `key`, from `find` the first time.
    pub(crate) fn capacity(
        &self,
        key: &str,
        find: impl FnOnce() -> Result<f64, Reject>,
    ) -> Result<f64, Reject> {
        if let Some(found) = self.capacity.borrow().get(key) {
            return found.clone();
        }
        let found = find();
        self.capacity
            .borrow_mut()
            .insert(key.to_owned(), found.clone());
        found
    }

    /// [`SloModel::at_and_p99`] of the replica of `key` at `rate`, from `find` the first time.
    pub(crate) fn at_and_p99(
        &self,
        key: &str,
        rate: f64,
        find: impl FnOnce() -> (AtLoad, AtLoad),
    ) -> (AtLoad, AtLoad) {
        let k = (key.to_owned(), rate.to_bits());
        if let Some(found) = self.at.borrow().get(&k) {
            return found.clone();
        }
        let found = find();
        self.at.borrow_mut().insert(k, found.clone());
        found
    }
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
    /// How much longer than the mean prompt each of [`EXTRA_GRID`] equally likely prompts
    /// takes alone, ms (shorter where negative; it does not depend on the rate).
    prompt_extras: Vec<f64>,
    /// How long each of them takes alone, ms.
    prompt_alone: Vec<f64>,
    /// A prompt step of its own: its fixed time and its time per prompt token, ms.
    prompt_step: (f64, f64),
    /// [`Self::output_gaps`] at the SLO quantile.
    slo_output_gaps: f64,
    /// Whether the last rate [`Self::meets`] refused failed the TPOT test (then tried first:
    /// the two tests are independent without an e2e limit, and near the capacity the same
    /// one fails, so the other's search is saved).
    tpot_failed: Cell<bool>,
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
            prompt_extras: Vec::new(),
            prompt_alone: Vec::new(),
            prompt_step: (0.0, 0.0),
            slo_output_gaps: 0.0,
            tpot_failed: Cell::new(false),
        };
        m.mean_alone = m.alone(sizing.input_mean);
        if replica.prefill_first() {
            m.prompt_alone = length_grid(&w.lengths.input_tokens, EXTRA_GRID)
                .into_iter()
                .map(|l| m.alone(l))
                .collect();
            m.prompt_extras = m.prompt_alone.iter().map(|a| a - m.mean_alone).collect();
            // A prefill batch of prompts of the mean length: linear through one and two
            // prompts' tokens.
            let mean = sizing.input_mean.max(1.0);
            let one = replica.prompt_step_ms(mean, mean, eff);
            let per_token = (replica.prompt_step_ms(2.0 * mean, mean, eff) - one) / mean;
            m.prompt_step = ((one - per_token * mean).max(0.0), per_token.max(0.0));
        }
        m.slo_output_gaps = m.output_gaps(m.limits.q);
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
        self.latencies(&self.estimate(rate), q)
    }

    /// Latencies of `est` at quantile `q`.
    fn latencies(&self, est: &Estimate, q: f64) -> AtLoad {
        let ttft = self.ttft_of(est, q);
        let tpot = est.tpot_quantile_over_ms(q, &self.gaps, self.prompt_cv2, self.burstiness());
        let e2e = ttft + self.output_gaps(q) * tpot;
        AtLoad { ttft, tpot, e2e }
    }

    /// The estimate at a rate per replica.
    fn estimate(&self, rate: f64) -> Estimate {
        self.replica.run_lengths(
            &self.shape(Load::Poisson { rate_rps: rate }),
            self.eff,
            self.output_cv2,
            self.prompt_cv2,
        )
    }

    fn burstiness(&self) -> f64 {
        self.w.traffic.burstiness
    }

    /// Gaps between the tokens of an output of the length at quantile `q`.
    fn output_gaps(&self, q: f64) -> f64 {
        (quantile_tokens(&self.w.lengths.output_tokens, q) - 1.0).max(0.0)
    }

    /// The TTFT at quantile `q` of `est`.
    fn ttft_of(&self, est: &Estimate, q: f64) -> f64 {
        // Engines that mix prompt chunks into their steps: the steps a first token waits for
        // (the backlog, then its own step with its neighbours' prompts; its own prompt over
        // the length distribution). Not NxD Inference on a Neuron chip, whatever the engine's
        // name: its prompts run alone (`Replica::prefill_first`).
        if !self.replica.prefill_first() {
            return est.ttft_quantile_steps_ms(
                q,
                &self.prompts,
                self.sizing.input_mean,
                self.prompt_cv2,
                self.burstiness(),
                self.budget(),
            );
        }
        // NxD Inference on a Neuron chip runs one prompt per step: the own prompt over the
        // length distribution, together with the prompt wait.
        if self.replica.neuron_shapes().is_some() {
            return est.ttft_quantile_over_ms(
                q,
                self.burstiness(),
                self.prompt_cv2,
                &self.prompt_extras,
            );
        }
        // The others: a prefill batch takes every prompt waiting when it starts; the own
        // prompt over the length distribution.
        let (fixed, per_token) = self.prompt_step;
        est.ttft_quantile_batched_ms(
            q,
            self.burstiness(),
            self.prompt_cv2,
            self.sizing.input_mean,
            &self.prompt_alone,
            fixed,
            per_token,
            self.budget(),
        )
    }

    /// Whether `ok` holds for [`Self::ttft_of`], for an `ok` that holds up to some TTFT and
    /// not beyond (the TTFT searched only as far as `ok` needs).
    fn ttft_passes(&self, est: &Estimate, q: f64, ok: &dyn Fn(f64) -> bool) -> bool {
        if self.replica.prefill_first() {
            return ok(self.ttft_of(est, q));
        }
        est.ttft_quantile_steps_within(
            q,
            &self.prompts,
            self.sizing.input_mean,
            self.prompt_cv2,
            self.burstiness(),
            self.budget(),
            ok,
        )
    }

    /// Prompt tokens per step.
    fn budget(&self) -> f64 {
        self.replica.limits().max_num_batched_tokens as f64
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

    /// Whether `rate` requests/s per replica is within the SLOs and not overloaded.
    fn within(&self, rate: f64) -> bool {
        let est = self.estimate(rate);
        !est.overloaded && self.meets(&est)
    }

    /// Whether the latencies of `est` are within the SLOs: the same answer as
    /// `ratio(&latencies(est, q)) <= 1.0` (a ratio is within unless it is above 1; the worst
    /// of them ignores NaN), without the quantiles the SLOs do not ask for, and with each
    /// searched only until its limit decides (each test holds up to some value and not
    /// beyond: a limit is not negative, and e2e grows with TPOT).
    fn meets(&self, est: &Estimate) -> bool {
        let (q, l) = (self.limits.q, &self.limits);
        let fits = |value: f64, limit: Option<f64>| {
            limit.is_none_or(|l| value / l <= 1.0 || (value / l).is_nan())
        };
        if [l.ttft, l.tpot, l.e2e].iter().flatten().any(|&l| l < 0.0) {
            // No such test: the latencies in full.
            let a = self.latencies(est, q);
            return fits(a.ttft, l.ttft) && fits(a.tpot, l.tpot) && fits(a.e2e, l.e2e);
        }
        let gaps = self.slo_output_gaps;
        if l.e2e.is_none() && l.tpot.is_some() {
            // The TTFT and TPOT tests apart, the one that failed last first.
            let tpot_ok = || {
                let ok = |tpot: f64| fits(tpot, l.tpot);
                let passes = est.tpot_quantile_over_within(
                    q,
                    &self.gaps,
                    self.prompt_cv2,
                    self.burstiness(),
                    &ok,
                );
                if !passes {
                    self.tpot_failed.set(true);
                }
                passes
            };
            let ttft_ok = || {
                let passes = l.ttft.is_none() || self.ttft_passes(est, q, &|t| fits(t, l.ttft));
                if !passes {
                    self.tpot_failed.set(false);
                }
                passes
            };
            let tests: [&dyn Fn() -> bool; 2] = if self.tpot_failed.get() {
                [&tpot_ok, &ttft_ok]
            } else {
                [&ttft_ok, &tpot_ok]
            };
            return tests.iter().all(|passes| passes());
        }
        // The TTFT in full only where the e2e limit adds the TPOT to it.
        let ttft = match l.e2e {
            Some(_) => {
                let ttft = self.ttft_of(est, q);
                if !fits(ttft, l.ttft) {
                    return false;
                }
                ttft
            }
            None => {
                if l.ttft.is_some() && !self.ttft_passes(est, q, &|t| fits(t, l.ttft)) {
                    return false;
                }
                f64::NAN
            }
        };
        if l.tpot.is_none() && l.e2e.is_none() {
            return true;
        }
        let ok = |tpot: f64| fits(tpot, l.tpot) && fits(ttft + gaps * tpot, l.e2e);
        est.tpot_quantile_over_within(q, &self.gaps, self.prompt_cv2, self.burstiness(), &ok)
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
                let light = self.estimate(max_rate * 1e-4);
                if !self.meets(&light) {
                    return Err(self.slo_miss(&self.latencies(&light, self.limits.q)));
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

#[cfg(test)]
mod tests {
    use super::SloModel;
    use crate::cost::Sizing;
    use crate::search::{analytic_capacity, Inputs, LayoutChoice};
    use crate::workload::{Percentile, Workload};
    use inferplan_catalog::{Catalog, Dtype};
    use inferplan_perf::efficiency::EfficiencyTable;
    use inferplan_perf::{Engine, MemoryParams};

    /// The capacity search's test of a rate (quantiles searched only until their limits
    /// decide, none the SLOs do not ask for) gives the answer of the latencies in full, at
    /// rates from idle to overloaded, for TTFT and TPOT limits, an e2e limit, all three at
    /// p90, and mixing and non-mixing engines.
    #[test]
    fn within_is_the_full_latencies_compared() {
        let catalog = Catalog::embedded().unwrap();
        let efficiency = EfficiencyTable::embedded().unwrap();
        let memory = MemoryParams::embedded().unwrap();
        let inputs = Inputs {
            catalog: &catalog,
            efficiency: &efficiency,
            memory: &memory,
        };
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples");
        let chat = Workload::load(&dir.join("chat-70b-fp8.toml")).unwrap();
        let fraud = Workload::load(&dir.join("fraud-scoring-small.toml")).unwrap();
        let mut all_three = chat.clone();
        all_three.slo.e2e_ms = Some(9000.0);
        all_three.slo.percentile = Percentile::P90;
        let layout = |instance: &str, tp, precision, engine| LayoutChoice {
            instance: instance.to_owned(),
            tp,
            pp: 1,
            precision,
            engine,
        };
        let mut decided = [0, 0];
        for (w, instance, tp, precision) in [
            (&chat, "p5.48xlarge", 8, Dtype::Fp8),
            (&all_three, "p5.48xlarge", 8, Dtype::Fp8),
            (&fraud, "g6e.xlarge", 1, Dtype::Bf16),
        ] {
            for engine in [Engine::Vllm, Engine::Sglang, Engine::Trtllm] {
                let l = layout(instance, tp, precision, engine);
                let Ok((replica, eff, _)) = analytic_capacity(&inputs, w, &l) else {
                    continue;
                };
                let sizing = Sizing::of(w);
                let m = SloModel::new(&replica, &eff, w, &sizing);
                let saturated = m.saturated_rps();
                for i in 0..=80 {
                    let rate = saturated * 1e-4 * (1.1e4f64).powf(f64::from(i) / 80.0);
                    let full = !m.estimate(rate).overloaded && m.ratio(&m.at(rate)) <= 1.0;
                    assert_eq!(m.within(rate), full, "{engine} on {instance} at {rate}");
                    decided[usize::from(full)] += 1;
                }
            }
        }
        // Both answers were met, many times each.
        assert!(decided.iter().all(|&n| n > 50), "{decided:?}");
    }
}
