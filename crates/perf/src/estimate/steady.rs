//! Steady-state serving of one replica: continuous batching with spread-out or open-loop
//! arrivals, prefill-first rounds and waves, and the time prompt tokens add to decode steps.

use super::*;

impl Replica {
    /// Continuous batching with `b` sequences running and arrivals spread out. An iteration
    /// either decodes only (light) or also carries a prompt chunk (heavy); with random arrivals
    /// a request meets heavy iterations in proportion to the prompt work of the others. Its
    /// own prompt takes its chunks' heavy iterations, plus an M/D/1 wait behind the prompts
    /// ahead of it. When the prompts need more than every iteration's spare budget, the
    /// replica is prompt-bound: every iteration is full, and requests wait for their turn.
    pub(super) fn steady(
        &self,
        b: f64,
        i: f64,
        o: f64,
        len: f64,
        budget: f64,
        e: &Efficiency,
    ) -> Phase {
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
    pub(super) fn steady_open(
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
    pub(super) fn steady_with(
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
            // Under open-loop arrivals the others' prompts are of every length, and their mean
            // time is above the mean prompt's (`Replica::prompt_work`); its own is the mean
            // prompt's (the TTFT quantile adds a long prompt's extra to it).
            let met = match open.and_then(|o| o.prompt_work) {
                Some((mean_s, _)) => mean_s / chunks,
                None => t,
            };
            (met + t_light, chunks * met, chunks * t + in_progress / 2.0)
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
        // The extra of a heavy iteration when prompts crowd the steps: the mean prompt's chunk
        // at the per-token extra of a full step (`Estimate::crowded_extra_ms`); the mean's
        // extra where no curve is drawn.
        let crowd_s = match &curve {
            Some(curve) => (piece.min(room) * curve.at(room) / room).max(t_heavy - t_light),
            None => (t_heavy - t_light).max(0.0),
        };
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
                // A prompt met then decodes beside the request (on every engine: vLLM's
                // mixed step that carries it is followed by its decodes in the same batch),
                // slowing each of its decode steps by the slope for about half the mean
                // output: that stretch lets more arrive too.
                let drag = slope_s * decode_steps / 2.0;
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
            // The attention of a prompt beyond what the heavy iteration's extra per token
            // prices, its full steps and its spread (for the TTFT of a prompt of a given
            // length and the TPOT tail: `Replica::run_lengths`).
            curve: curve.filter(|_| open.is_some()),
            crowd_s,
        }
    }

    /// The time of a prompt run alone, in steps of at most `budget` tokens (a prefill-first
    /// engine's prompt steps carry no decodes; SGLang continues a chunked prompt in the next
    /// prompt step), over log-normal prompt lengths of mean `mean` tokens and squared
    /// coefficient of variation `cv2`: its mean, s, and its squared coefficient of
    /// variation. A step's time grows faster than its tokens (each token attends to those
    /// before it) and a longer prompt takes more steps, so the mean is above the mean
    /// prompt's and the spread above the length's (Qwen3 8B on an L40S, prompts of 6,000
    /// tokens, p99 14,000, 4,096 per step: 378 ms against 364 ms for the mean prompt, squared
    /// coefficient of variation 0.28 against 0.16). Over `PROMPT_WORK_POINTS` equally likely
    /// lengths: the chunk counts make the time a step function of the length, and a handful
    /// of points (the quartiles' midpoints) misses the long prompts' extra steps (364 ms).
    pub(super) fn prompt_work(
        &self,
        mean: f64,
        cv2: f64,
        budget: f64,
        e: &Efficiency,
    ) -> (f64, f64) {
        let alone = |l: f64| {
            let n = (l / budget.max(1.0)).ceil().max(1.0);
            n * self.iteration(&chunk(l / n, l), e).0
        };
        let s2 = portable::ln(1.0 + cv2.max(0.0));
        let s = s2.sqrt();
        let n = PROMPT_WORK_POINTS as f64;
        let (mut sum, mut sq) = (0.0, 0.0);
        for &z in prompt_work_z() {
            let t = alone((mean * portable::exp(s * z - s2 / 2.0)).max(1.0));
            sum += t;
            sq += t * t;
        }
        let m = sum / n;
        let var = (sq / n - m * m).max(0.0);
        (m, if m > 0.0 { var / (m * m) } else { 0.0 })
    }

    /// A closed loop of `running` clients with equal lengths does not spread its arrivals out
    /// as Poisson arrivals would: requests prefilled together decode together and finish
    /// together, so their next prompts arrive together again, and the clients drift apart
    /// only slowly. Prompts arrive in clumps of `running^α` ([`Efficiency::clump_exponent`] on
    /// an engine that mixes prompts into decode steps, [`Efficiency::prefill_clump_exponent`] on
    /// one that pauses decoding for them, whose clients fall out of step only as far as their
    /// varying lengths take them; each fitted on its own kind of engine: 0 spread out, 1
    /// lockstep rounds), and a prompt waits on average for
    /// half of the others of its clump, each its prompt's own prefill (its chunks alone); the
    /// first tokens of a clump spread over the whole clump. The wait is a prompt's, so it is
    /// part of TTFT only: the same prompts are prefilled either way, and throughput and TPOT
    /// are unchanged. Measured on the closed loops of vLLM and TensorRT-LLM, the TTFT left after
    /// the step model grows with the prompt's prefill time in proportion to about `(√c − 1) /
    /// 2` (VALIDATION.md, "Request overhead").
    pub(super) fn clumped(&self, s: &mut Phase, running: f64, i: f64, budget: f64, e: &Efficiency) {
        let alpha = if self.mixes {
            e.clump_exponent
        } else {
            e.prefill_clump_exponent
        };
        let clump = portable::pow(running.max(1.0), alpha.clamp(0.0, 1.0));
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
    pub(super) fn waves(&self, n: f64, i: f64, o: f64, budget: f64, e: &Efficiency) -> Phase {
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
        // On a Neuron chip the decode step runs the compiled batch, however full.
        let rows = self
            .neuron
            .map_or(wave, |s| s.decode((i + o) as u64).0 as f64);
        let (tpot_s, decode_bound) = if o > 1.0 {
            self.iteration(&Batch::decode(rows, i + o / 2.0), e)
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
            curve: None,
            crowd_s: 0.0,
        }
    }
}

/// Equally likely prompt lengths over which [`Replica::prompt_work`] takes a prompt's time.
pub(super) const PROMPT_WORK_POINTS: usize = 48;

/// The standard normal quantiles at the midpoints `(k + ½) / PROMPT_WORK_POINTS`, computed
/// once (the same bits as computing them at each call).
fn prompt_work_z() -> &'static [f64; PROMPT_WORK_POINTS] {
    static Z: std::sync::OnceLock<[f64; PROMPT_WORK_POINTS]> = std::sync::OnceLock::new();
    Z.get_or_init(|| {
        let n = PROMPT_WORK_POINTS as f64;
        std::array::from_fn(|k| {
            let u = (k as f64 + 0.5) / n;
            if u < 0.5 {
                -normal_quantile(1.0 - u)
            } else {
                normal_quantile(u)
            }
        })
    })
}

/// Points of [`ExtraCurve`] across a step's prompt room (beside 0).
pub(super) const EXTRA_POINTS: usize = 4;

/// The standard normal quantiles at the quartiles' midpoints (1/8, 3/8, 5/8, 7/8), at which
/// [`ExtraCurve::per_token`] takes the length-biased prompt lengths.
const LENGTH_Z: [f64; 4] = [
    -1.150_349_380_376_008,
    -0.318_639_363_964_375,
    0.318_639_363_964_375,
    1.150_349_380_376_008,
];

/// The time prompt tokens add to a decode iteration, as a function of how many the step
/// carries: a decode step of a large batch is bound by reading weights and KV cache, and the
/// compute of a small prompt chunk hides under it; a full chunk is bound by its compute. The
/// extra is convex in the tokens (nothing, then linear), so the mean extra of steps that
/// carry a varying amount is above the extra of the mean amount. Taken piecewise linear
/// through the step model at `EXTRA_POINTS` evenly spaced amounts up to the room.
#[derive(Debug, Clone, Copy)]
pub(super) struct ExtraCurve {
    pub(super) room: f64,
    /// Extra time, s, at `room × k / EXTRA_POINTS` tokens, k = 1 ..= EXTRA_POINTS.
    pub(super) extra: [f64; EXTRA_POINTS],
    /// The prompt length whose tokens the curve prices: each attends to `(prompt + 1) / 2`
    /// earlier tokens on average.
    pub(super) prompt: f64,
    /// Extra time per causal query-key pair beyond those, s: a prompt of `l` tokens has
    /// `l (l + 1) / 2` pairs however it is chunked (a later chunk attends to the earlier
    /// chunks' KV cache), `l (l − prompt) / 2` more than the curve prices for its tokens.
    pub(super) pair_s: f64,
}

impl ExtraCurve {
    pub(super) fn new(
        r: &Replica,
        gaps: &Batch,
        room: f64,
        prompt: f64,
        e: &Efficiency,
    ) -> ExtraCurve {
        let room = room.max(1.0);
        let base = r.iteration(gaps, e).0;
        let mut extra = [0.0; EXTRA_POINTS];
        for (k, x) in extra.iter_mut().enumerate() {
            let tokens = room * (k + 1) as f64 / EXTRA_POINTS as f64;
            *x = (r.iteration(&gaps.plus(chunk(tokens, prompt)), e).0 - base).max(0.0);
        }
        // The time of a pair: a full step's chunk after a full step of its prompt (the
        // second chunk of a long prompt, as the simulator builds it) against the full step
        // at the curve's prompt.
        let later = Batch {
            prefill_tokens: room,
            prefill_past: room,
            prefill_pairs: room * room + room * (room + 1.0) / 2.0,
            ..Batch::default()
        };
        let pairs = later.prefill_pairs - chunk(room, prompt).prefill_pairs;
        let pair_s = if pairs > 0.0 {
            let t = r.iteration(&gaps.plus(later), e).0 - base;
            ((t - extra[EXTRA_POINTS - 1]) / pairs).max(0.0)
        } else {
            0.0
        };
        ExtraCurve {
            room,
            extra,
            prompt,
            pair_s,
        }
    }

    /// The extra time of a prompt of `l` tokens's attention beyond what the curve prices for
    /// its tokens, s (negative for a prompt shorter than the curve's).
    pub(super) fn attention(&self, l: f64) -> f64 {
        self.pair_s * l * (l - self.prompt) / 2.0
    }

    /// The squared coefficient of variation of the time a prompt adds to the steps that
    /// carry it, over log-normal prompt lengths of mean `mean` tokens and squared coefficient
    /// of variation `cv2` (`PROMPT_WORK_POINTS` equally likely lengths): its full chunks, its
    /// last chunk and its attention over its own length. Above the length's: a step's extra
    /// grows faster than its tokens, and so does a prompt's attention.
    pub(super) fn work_cv2(&self, mean: f64, cv2: f64) -> f64 {
        if cv2 <= 0.0 {
            // Prompts all alike: no spread (not the rounding of one).
            return 0.0;
        }
        let s2 = portable::ln(1.0 + cv2.max(0.0));
        let s = s2.sqrt();
        let n = PROMPT_WORK_POINTS as f64;
        let (mut sum, mut sq) = (0.0, 0.0);
        for &z in prompt_work_z() {
            let l = (mean * portable::exp(s * z - s2 / 2.0)).max(1.0);
            let full = (l / self.room).floor();
            let t = (full * self.at(self.room) + self.at(l - full * self.room) + self.attention(l))
                .max(0.0);
            sum += t;
            sq += t * t;
        }
        let m = sum / n;
        let var = (sq / n - m * m).max(0.0);
        if m > 0.0 {
            var / (m * m)
        } else {
            0.0
        }
    }

    /// The token-weighted mean prompt length over which [`ExtraCurve::per_token`] prices
    /// prompts of mean `mean` tokens (squared coefficient of variation `cv2`): its extra per
    /// token holds the attention of a prompt of that length.
    pub(super) fn priced_length(mean: f64, cv2: f64) -> f64 {
        let s2 = portable::ln(1.0 + cv2.max(0.0));
        let s = s2.sqrt();
        let biased = mean * (1.0 + cv2.max(0.0));
        LENGTH_Z
            .iter()
            .map(|&z| (biased * portable::exp(s * z - s2 / 2.0)).max(1.0))
            .sum::<f64>()
            / LENGTH_Z.len() as f64
    }

    /// Extra time of a step carrying `tokens` prompt tokens (at most the room), s.
    pub(super) fn at(&self, tokens: f64) -> f64 {
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
    pub(super) fn per_token(&self, mean: f64, cv2: f64, per_step: f64) -> f64 {
        let s2 = portable::ln(1.0 + cv2.max(0.0));
        let s = s2.sqrt();
        let biased = mean * (1.0 + cv2.max(0.0));
        let per_step = per_step.max(0.0);
        let p0 = portable::exp(-per_step);
        let mut total = 0.0;
        for z in LENGTH_Z {
            let l = (biased * portable::exp(s * z - s2 / 2.0)).max(1.0);
            let full = (l / self.room).floor();
            let last = l - full * self.room;
            // Its tokens, then its attention over its own length (each chunk over the chunks
            // before it).
            let mut cost = full * self.at(self.room) + self.attention(l);
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
pub(super) struct Open {
    /// Requests/s.
    pub(super) rate: f64,
    /// Squared coefficient of variation of the output length.
    pub(super) output_cv2: f64,
    /// Squared coefficient of variation of the prompt length.
    pub(super) prompt_cv2: f64,
    /// Sequences running (time average, by Little's law; below one at light load).
    pub(super) running: f64,
    /// The most sequences the replica runs at once.
    pub(super) max_batch: f64,
    /// On a prefill-first engine, a prompt's time alone over the prompt lengths: mean, s, and
    /// squared coefficient of variation (`Replica::prompt_work`).
    pub(super) prompt_work: Option<(f64, f64)>,
}

/// A share of the model's work for one load: times in seconds.
#[derive(Debug, Clone, Copy)]
pub(super) struct Phase {
    pub(super) ttft_s: f64,
    pub(super) tpot_s: f64,
    pub(super) queue_s: f64,
    pub(super) requests_s: f64,
    pub(super) batch: f64,
    pub(super) overloaded: bool,
    pub(super) decode_bound: Bound,
    /// Mean wait of a prompt behind other prompts (part of `ttft_s`).
    pub(super) wait_s: f64,
    /// Sequences holding KV cache on average, and for how long.
    pub(super) kv_held: f64,
    pub(super) kv_hold_s: f64,
    /// Fraction of time the engine is busy with prompts.
    pub(super) rho: f64,
    /// Decode-only and prompt-carrying iterations, and the share of the latter.
    pub(super) light_s: f64,
    pub(super) heavy_s: f64,
    pub(super) share: f64,
    /// Heavy iterations a request meets for the prompts that arrive while its own waits and
    /// prefills.
    pub(super) before: f64,
    /// Heavy iterations arriving during one heavy iteration's extra time.
    pub(super) growth: f64,
    /// Prompt-carrying iterations per prompt (its chunks).
    pub(super) chunks: f64,
    /// Growth of the light iteration per sequence, and the variance of the decode batch.
    pub(super) slope_s: f64,
    pub(super) batch_var: f64,
    /// Width of the uniform spread of first-token times of requests that arrive together.
    pub(super) spread_s: f64,
    /// Under open-loop arrivals on an engine that mixes prompt chunks into its steps, the
    /// extra time prompt tokens add to a step (`ExtraCurve`).
    pub(super) curve: Option<ExtraCurve>,
    /// The extra time of one heavy iteration at the per-token extra of a full step (mixing
    /// engines under open-loop arrivals; see `Estimate::crowded_extra_ms`).
    pub(super) crowd_s: f64,
}

/// `tokens` prompt tokens taken evenly from prompts of `prompt` tokens: each token attends to
/// `(prompt + 1) / 2` earlier tokens on average; chunks smaller than a prompt also read the
/// cached part of it.
pub(super) fn chunk(tokens: f64, prompt: f64) -> Batch {
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
