//! Percentiles of an [`Estimate`]: TTFT, TPOT, ITL and end-to-end latency at a quantile,
//! from the steady-state means and the tail terms of `stats`.

use super::*;

impl Estimate {
    /// TTFT at quantile `q` of an engine that mixes prompt chunks into its decode steps (vLLM,
    /// TensorRT-LLM), under open-loop arrivals whose inter-arrival times are gamma with
    /// coefficient of variation `arrival_cv` (1 = Poisson), prompts of the equally likely
    /// lengths `prompts` (mean `mean`, squared coefficient of variation `cv2`, log-normal) and
    /// steps of `budget` tokens. The scheduler takes the waiting prompts, first come first
    /// served, into each step up to the budget, so a request's first token is:
    ///
    /// * the front end's time ([`Estimate::request_overhead_ms`]);
    /// * the rest of the step in progress ([`StepInProgress`]: a light one, or one carrying
    ///   the prompts of others that arrived before; the step of `y` prompt tokens takes
    ///   `light + c × y` within the room, `(light / room + c) × y` beyond, `c` the prefill
    ///   time per token from the heavy iteration's extra);
    /// * its own step: its prompt and those of the others that arrived since the step in
    ///   progress started and until it ends, counted as an arrival sees them (for gamma
    ///   arrivals of shape `k = 1 / cv²` and scale `θ`, `P(N ≥ n) = P(n k, window / θ)`, the
    ///   regularised incomplete gamma; Poisson for `k = 1`), their tokens and its own summed
    ///   as a log-normal (Fenton-Wilkinson), its own alone over `prompts`;
    /// * past what the steps carry (prompt tokens at 95 % of the room), a backlog that grows
    ///   without bound;
    /// * the wait for KV room ([`Estimate::kv_wait`]).
    ///
    /// The TTFT is at the quantile of the rest of the step in progress and the own step
    /// together. The step in progress was a prompt queue's wait before (Kingman's mean with an
    /// exponential tail, and half a mean step): its tail was too long, since a step that
    /// takes every waiting prompt leaves no queue beyond itself (Llama 3.3 70B TP8 vLLM chat
    /// at 4.1 req/s, CV 1.5: p99 of the wait 270 ms planned, 194 ms simulated); KV room's
    /// quantile is added.
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
        let rate = self.requests_s / 1e3;
        let ca2 = (arrival_cv * arrival_cv).max(MIN_CLUMP);
        // Past what the steps carry (prompt tokens per step at least 95 % of the room): the
        // wait grows without bound.
        let per_token = t0 / room + c;
        let service = mean * per_token;
        let backlog = if rate * service >= 0.95 {
            service * 0.95 / 0.1 * portable::ln(95.0)
        } else {
            0.0
        };
        // The time `y` prompt tokens take to pass: one step within the room, full steps
        // beyond; and its inverse, the tokens through in `x` ms of steps.
        let step_of = move |y: f64| -> f64 {
            if y <= room {
                t0 + c * y
            } else {
                y * per_token
            }
        };
        let tokens = move |x: f64| -> f64 {
            if x <= t0 + c * room {
                (x - t0) / c.max(1e-12)
            } else {
                x / per_token
            }
        };
        let in_progress = StepInProgress::new(rate, ca2, t0, mean, cv2, &step_of);
        let own = OwnStep::new(in_progress.most(), mean, cv2);
        // A prompt of `l` tokens attends over its own length (each chunk over the chunks
        // before it), beyond its tokens at `c`, whose extra holds the attention of a prompt of
        // `prompt_priced_tokens`; one longer than the room runs in full steps first, then its
        // last chunk shares a step with the others. Alone, its own step is taken as the tokens
        // of a step as long as the full steps, the attention and the last chunk's step.
        let (pair, priced, full_step) = (
            self.prompt_pair_ms,
            self.prompt_priced_tokens,
            self.prompt_full_step_ms,
        );
        let effective = |l: f64| -> f64 {
            let attention = pair * l * (l - priced) / 2.0;
            let full = if full_step > 0.0 && l > room {
                ((l / room).ceil() - 1.0).max(0.0)
            } else {
                0.0
            };
            let last = l - full * room;
            tokens(full * full_step + attention + step_of(last)).max(0.0)
        };
        let mut sorted: Vec<f64> = prompts.iter().map(|&l| effective(l)).collect();
        sorted.sort_by(f64::total_cmp);
        // P(own step > x): the own prompt over its equally likely lengths when it is alone,
        // the sum of its and the others' tokens when it is not.
        let tail = |counts: &[f64], x: f64| -> f64 {
            let y = tokens(x);
            own.tail(counts, share_above(&sorted, y), y)
        };
        let (p, given) = self.kv_wait(arrival_cv, cv2);
        let room_q = if p > 1.0 - q && p > 0.0 {
            given * portable::ln(p / (1.0 - q))
        } else {
            0.0
        };
        let overhead = self.request_overhead_ms;
        let ttft = move |x: f64| overhead + x + backlog + room_q;
        // The quantile of the rest of the step in progress and the own step together.
        let want = 1.0 - q;
        let bracket = Bracket {
            start: (t0, t0 + c * mean * 4.0 + t0),
            widen: |hi: f64| (hi < 1e7).then_some(hi * 2.0),
            halvings: 50,
            close: |lo: f64, hi: f64| hi - lo < 1e-4 * hi,
        };
        let found = bisect::search(
            bracket,
            |x| in_progress.tail_above(x, &tail, want),
            ttft,
            test,
        );
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
    /// of `z` times fewer slots at the same utilisation (Hayward's approximation). Equal
    /// slots ([`Estimate::equal_slots`], a Neuron chip's) leave the arrivals' peakedness only.
    pub fn kv_wait(&self, arrival_cv: f64, size_cv2: f64) -> (f64, f64) {
        let size_cv2 = if self.equal_slots { 0.0 } else { size_cv2 };
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
        let (rest, room, together) = self.ttft_besides_wait(q, arrival_cv, service_cv2);
        rest + tail + room + together
    }

    /// TTFT at quantile `q` on a prefill-first engine (SGLang) under open-loop arrivals whose
    /// inter-arrival times have coefficient of variation `arrival_cv`, prompts of `mean`
    /// tokens (log-normal, squared coefficient of variation `cv2`) whose own prompt takes one
    /// of the equally likely `alone` (ms, a prompt step of it alone), prompt steps of `fixed`
    /// ms and `per_token` ms a token, at most `budget` tokens. Its scheduler runs every
    /// prompt waiting when a step ends in one prefill batch, which pauses the decodes; a
    /// prompt's first token comes when that batch ends. So a first token waits for the step
    /// in progress ([`StepInProgress`]: a decode step, or a prompt step carrying the others
    /// that arrived before), then its own prompt step, which also carries the prompts of the
    /// others that arrived since the step in progress started and until it ends, at
    /// `per_token` each. The front end's time and the quantile of the wait for KV room
    /// ([`Estimate::kv_wait`]) are added.
    #[allow(clippy::too_many_arguments)]
    pub fn ttft_quantile_batched_ms(
        &self,
        q: f64,
        arrival_cv: f64,
        cv2: f64,
        mean: f64,
        alone: &[f64],
        fixed: f64,
        per_token: f64,
        budget: f64,
    ) -> f64 {
        let rate = self.requests_s / 1e3;
        let ca2 = arrival_cv * arrival_cv;
        let (fixed, per_token, budget) = (fixed.max(0.0), per_token.max(1e-12), budget.max(1.0));
        // The prompts of a step: one prefill batch within the budget, full ones beyond.
        let step_of = move |y: f64| -> f64 {
            if y <= budget {
                fixed + per_token * y
            } else {
                y / budget * (fixed + per_token * budget)
            }
        };
        let in_progress = StepInProgress::new(rate, ca2, self.tpot_light_ms, mean, cv2, &step_of);
        let own = OwnStep::new(in_progress.most(), mean, cv2);
        let mut sorted = alone.to_vec();
        sorted.sort_by(f64::total_cmp);
        // P(own step > x): the own prompt over its equally likely times alone when no other
        // shares its step, the batch's tokens at `per_token` each when others do.
        let tail = |counts: &[f64], x: f64| -> f64 {
            own.tail(counts, share_above(&sorted, x), (x - fixed) / per_token)
        };
        let want = 1.0 - q;
        let lo = alone.iter().copied().fold(f64::INFINITY, f64::min).max(0.0);
        let bracket = Bracket {
            start: (lo.min(1.0), lo + 1.0),
            widen: |hi: f64| (hi < 1e7).then_some(hi * 2.0),
            halvings: 60,
            close: |lo: f64, hi: f64| hi - lo < 1e-4 * hi.abs().max(1.0),
        };
        let both = |x: f64| x;
        let x = match bisect::search(
            bracket,
            |x| in_progress.tail_above(x, &tail, want),
            both,
            None,
        ) {
            Found::Hi(x) => x,
            Found::Passes(_) => unreachable!("a search without a test finds its quantile"),
        };
        let (p, given) = self.kv_wait(arrival_cv, cv2);
        let room = if p > 1.0 - q && p > 0.0 {
            given * portable::ln(p / (1.0 - q))
        } else {
            0.0
        };
        self.request_overhead_ms + x + room
    }

    /// TTFT at quantile `q` as [`Self::ttft_quantile_ms`], of a request whose own prompt takes
    /// one of the equally likely `extras` (ms) longer than the mean prompt (shorter where
    /// negative): the quantile of the prompt wait and the own prompt's extra together
    /// (independent), not the sum of their quantiles. Prefill-first engines under open-loop
    /// arrivals, whose prompts run alone, one per step (NxD Inference on a Neuron chip).
    pub fn ttft_quantile_over_ms(
        &self,
        q: f64,
        arrival_cv: f64,
        service_cv2: f64,
        extras: &[f64],
    ) -> f64 {
        let wait = self.prompt_wait(arrival_cv, service_cv2);
        let want = 1.0 - q;
        let lo = extras
            .iter()
            .copied()
            .fold(f64::INFINITY, f64::min)
            .min(0.0);
        let hi = extras.iter().copied().fold(0.0, f64::max)
            + wait.given * portable::ln(wait.p.max(want) / want).max(0.0);
        let bracket = Bracket {
            start: (lo, hi + 1.0),
            widen: |hi: f64| (hi < 1e7).then_some(hi * 2.0),
            halvings: 60,
            close: |lo: f64, hi: f64| hi - lo < 1e-4 * hi.abs().max(1.0),
        };
        let both = |x: f64| x;
        let x = match bisect::search(bracket, |x| wait.tail_over(x, extras) > want, both, None) {
            Found::Hi(x) => x,
            Found::Passes(_) => unreachable!("a search without a test finds its quantile"),
        };
        let (rest, room, together) = self.ttft_besides_wait(q, arrival_cv, service_cv2);
        rest + x + room + together
    }

    /// The prompt wait of [`Self::ttft_quantile_ms`]: with probability ρ, exponential of
    /// Kingman's mean given ρ.
    fn prompt_wait(&self, arrival_cv: f64, service_cv2: f64) -> ExpWait {
        let mean_wait = self.prompt_wait_ms * (arrival_cv * arrival_cv + service_cv2.max(0.0));
        ExpWait::new(self.prompt_utilization, mean_wait)
    }

    /// The parts of [`Self::ttft_quantile_ms`] besides the prompt wait's quantile: the mean
    /// TTFT less the mean waits, the quantile of the wait for KV room, and the spread of
    /// requests that arrive together.
    fn ttft_besides_wait(&self, q: f64, arrival_cv: f64, service_cv2: f64) -> (f64, f64, f64) {
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
        (
            self.ttft_ms - self.prompt_wait_ms - room_mean,
            room,
            together,
        )
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
        // Each met prompt's work varies with its size: under open-loop arrivals, its time's
        // spread over the lengths (`prompt_work_cv2`), and the sum of the few met is skewed as
        // each one is (a long prompt's steps), not normal; else its length's spread.
        let skewed = self.prompt_work_cv2 > 0.0;
        let cv2 = if skewed {
            self.prompt_work_cv2
        } else {
            prompt_cv2.max(0.0)
        };
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
        // Under gamma arrivals where met prompts are skewed, the count of arrivals in the window
        // itself rather than a clumped Poisson count of its mean and its chance of at least
        // one: `P(N ≥ n) = P(n k, s / θ)` (n gaps within s), n = 1, 2, … until negligible.
        // Two neighbours are likelier than clumps of that mean and chance make them (Llama
        // 3.1 405B, 0.0086 req/s, CV 1.5, a 6.4 s window: 3.9 % against 2.5 %), and two whole
        // prompts in a short answer's gaps make its TPOT tail.
        let renewal = |first: f64, ln: &mut LnTables| -> Option<Vec<f64>> {
            let rate = self.requests_s / 1e3;
            if (arrival_cv - 1.0).abs() < 1e-9 || first <= 0.0 || rate <= 0.0 {
                return None;
            }
            let chunks = self.prompt_steps.max(1.0);
            let (k, theta) = (1.0 / clump, clump / rate);
            let x = first / (chunks * rate) / theta;
            let ln_x = portable::ln(x);
            let mut at_least = Vec::new();
            for n in 1..=10_000 {
                let p_n = gamma_p_series(n as f64 * k, x, ln_x, ln.gamma(n));
                at_least.push(p_n);
                if p_n < 1e-9 {
                    break;
                }
            }
            Some(at_least)
        };
        // Under open-loop arrivals a prompt's steps come in clumps of its chunks (back to back
        // on a prefill-first engine, consecutive mixed steps on the others), one prompt's work
        // each: its size's spread is that of the whole clump (`together² cv2`
        // per prompt, `together × cv2` per extra).
        let together = self.prompt_clump.max(1.0);
        // A prompt met then decodes beside the request for the rest of its life (about half
        // of it, or of the mean output when that is shorter), each gap slower by the decode
        // slope: each heavy iteration met carries its share of that drag, and the light
        // iterations lose its mean (the met prompts' part of the mean batch). Per gap count:
        // the light iteration and the extra of one heavy iteration.
        let mean_gaps = ((self.e2e_ms - self.ttft_ms) / self.tpot_ms.max(1e-9)).max(1.0);
        // Each prompt met beyond the mean count costs the extra of crowded steps
        // (`crowded_extra_ms`), the mean work staying the mean's: the light iterations lose
        // the difference over the mean count, as for the drag.
        let crowd = self.crowded_extra_ms.max(extra);
        let units: Vec<(f64, f64)> = gaps
            .iter()
            .map(|&m| {
                let drag = self.prompt_drag_ms.max(0.0) * m.min(mean_gaps) / 2.0 / together;
                (light - p * drag - p * (crowd - extra), crowd + drag)
            })
            .collect();
        let terms: Vec<TailTerms> = gaps
            .iter()
            .zip(&units)
            .map(|(&m, &(_, unit))| {
                let scale = extra / unit;
                let vb = batch_var(m) * scale * scale;
                // The busy period's growth over a window of m steps (its mean kept).
                let r_m = window_growth(r, m);
                // The size spread is the prompt's, not the drag's (1 where there is none).
                let size = (crowd / unit) * (crowd / unit);
                if skewed {
                    if let Some(at_least) = renewal(p * m * (1.0 - r) + before, &mut ln) {
                        return TailTerms::renewal(
                            &at_least,
                            together / (1.0 - r),
                            cv2 * together * size / ((1.0 - r_m) * (1.0 - r_m)),
                            vb,
                        );
                    }
                }
                let (first, c) = palm(p * m * (1.0 - r) + before, &mut ln);
                let first = first * (1.0 - r_m) / (1.0 - r);
                TailTerms::new(
                    first,
                    r_m,
                    c * together,
                    cv2 * together * size,
                    vb,
                    skewed,
                    &mut ln,
                )
            })
            .collect();
        // Whether the tail at `x` is above `want`: the mean of the gap counts' tails.
        let tails = MeanTails::default();
        let gap_tail = |k: usize, x: f64| {
            let (light, unit) = units[k];
            terms[k].above((x - light) * gaps[k] / unit)
        };
        let above = |x: f64| tails.above(x, gaps.len(), &gap_tail, want);
        // Bracket: from the light iteration up until the tail is small enough.
        let bracket = Bracket {
            start: (light, light + extra),
            widen: |hi: f64| (hi < light + extra * 1e3).then_some(light + (hi - light) * 2.0),
            halvings: 40,
            close: |lo: f64, hi: f64| hi - lo < 1e-3 * light.max(1e-9),
        };
        bisect::search(bracket, above, |hi| hi.max(self.tpot_ms), test)
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
