//! One replica of the deployment: a vLLM-style continuous-batching scheduler over a paged KV
//! cache, whose steps take the time of the perf crate's step-time model.
//!
//! Each step: the running sequences that are past their prompt decode one token (a sequence
//! that needs a new KV block and finds none preempts the most recently admitted one, which
//! frees its blocks and goes back to the front of the queue to be recomputed); then prompt
//! chunks fill what is left of `max_num_batched_tokens`, continuing partly prefilled prompts
//! first and admitting waiting ones while `max_num_seqs` and free blocks allow.
//!
//! Engines that do not mix prompts with decodes (SGLang, TGI, LMDeploy:
//! `Engine::mixes_prefill_and_decode`) run a step of prompt chunks alone whenever a waiting
//! request can be admitted or a partly prefilled prompt can continue, pausing the decodes for
//! that step.
//!
//! How a request is admitted and how room is made when the cache runs out follows the engine
//! ([`Admission`]): vLLM's blocks on demand with preemption of the newest sequence; SGLang's
//! reservation of `new_token_ratio` × the running requests' remaining outputs, with retraction
//! of the requests that generated least; TensorRT-LLM's `GUARANTEED_NO_EVICT`, which reserves a
//! request's whole sequence at admission and never evicts (and, without chunked context, its
//! whole prompt in one step).
//!
//! On an AWS Neuron chip ([`Replica::neuron_shapes`]) the replica runs NxD Inference's
//! compiled graphs, as vLLM's Neuron backend drives them: at most the compiled `max_num_seqs`
//! sequences, a prompt step encodes one whole prompt alone (`ctx_batch_size = 1`) and costs its
//! sequence bucket, and a decode step runs the compiled batch, `max_num_seqs` rows however
//! many sequences run (NxD Inference pads the rest), at the bucket of the longest one
//! (`inferplan_perf::neuron::Shapes`, the shapes the planner's estimate prices too).
//!
//! A prefix-cache hit rate ([`ReplicaSim::with_prefix_hit_rate`]) marks that share of each
//! prompt (whole blocks, at least one token left to compute) as already in the cache when the
//! request is admitted: its prefill compute is skipped, its KV blocks are still held.

use crate::step_times::{StepKey, StepTimes};
use inferplan_perf::neuron::Shapes;
use inferplan_perf::{Engine, Replica};
use std::collections::VecDeque;

/// SGLang's scheduler constants (sgl-project/sglang v0.5.9, the version of most measured
/// SGLang rows; read in the PyPI wheel `sglang-0.5.9-py3-none-any.whl`, also in
/// `data/perf/engines.csv`). `SGLANG_INIT_NEW_TOKEN_RATIO` 0.7 × `schedule_conservativeness`
/// 1.0, `SGLANG_MIN_NEW_TOKEN_RATIO_FACTOR` 0.14, `SGLANG_NEW_TOKEN_RATIO_DECAY_STEPS` 600,
/// `SGLANG_RETRACT_DECODE_STEPS` 20, `SGLANG_CLIP_MAX_NEW_TOKENS_ESTIMATION` 4096
/// (`python/sglang/srt/environ.py`; used in `managers/scheduler.py` `init_new_token_ratio`,
/// `update_running_batch`, `managers/schedule_policy.py` `PrefillAdder`,
/// `managers/schedule_batch.py` `retract_decode`).
mod sglang {
    /// Parts per million of the ratios below.
    pub(super) const PPM: u64 = 1_000_000;
    /// `init_new_token_ratio`: 0.7.
    pub(super) const INIT_RATIO_PPM: u64 = 700_000;
    /// `min_new_token_ratio`: 0.7 × 0.14.
    pub(super) const MIN_RATIO_PPM: u64 = 98_000;
    /// `new_token_ratio_decay` per decode step: (init − min) / 600.
    pub(super) const DECAY_PPM: u64 = (INIT_RATIO_PPM - MIN_RATIO_PPM) / 600;
    /// Decode steps counted ahead for each kept request when the ratio is re-estimated after
    /// a retraction.
    pub(super) const RETRACT_DECODE_STEPS: u64 = 20;
    /// Remaining output tokens are counted up to this many when reserving.
    pub(super) const CLIP_MAX_NEW_TOKENS: u32 = 4096;
}

/// How an engine admits a waiting request and makes room when a decode finds no KV block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    /// vLLM (and the engines modelled like it: TGI, LMDeploy, Neuron): a request is admitted
    /// while the blocks of its first chunk are free; a decode that finds no block preempts the
    /// most recently admitted sequence, which is recomputed from the front of the queue.
    OnDemand,
    /// SGLang: each running request reserves `new_token_ratio` × its remaining output (up to
    /// 4096 tokens); a waiting request is admitted only when its prompt and whole remaining
    /// output fit in what is free beyond those reservations, and after a refusal none is tried
    /// again until a running request finishes or is retracted (`batch_is_full`). The ratio
    /// starts at 0.7 and falls
    /// by 1/600 of the way to 0.098 with each decode step; when a decode step finds no room,
    /// the requests that generated least (the longest prompt first among equals) are retracted
    /// to the back of the queue until the rest fit, and the ratio is re-estimated from the
    /// progress of those kept.
    Reserve,
    /// TensorRT-LLM's default capacity scheduler, `GUARANTEED_NO_EVICT`: a request is admitted
    /// only when the blocks of its whole sequence (prompt and output) can be reserved beside
    /// what the running ones will still need, first come first served (the first that does not
    /// fit stops admission); nothing is ever evicted. Without chunked context (the default) a
    /// prompt is prefilled whole in one step.
    WholeSequence,
}

impl Admission {
    /// The policy of an engine's default scheduler.
    pub fn of(engine: Engine) -> Admission {
        match engine {
            Engine::Sglang => Admission::Reserve,
            Engine::Trtllm => Admission::WholeSequence,
            _ => Admission::OnDemand,
        }
    }
}

/// A sequence on this replica.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Seq {
    /// The fleet's handle of the work item.
    pub work: usize,
    /// Prompt tokens.
    pub prompt: u32,
    /// Tokens to generate.
    pub output: u32,
    /// Prompt tokens already in the KV cache.
    pub computed: u32,
    /// Tokens generated so far.
    pub generated: u32,
    /// KV blocks held.
    pub blocks: u32,
    /// The first token was already sent (before a preemption).
    pub first_sent: bool,
    /// Tokens generated and sent before the last preemption (their KV is now part of
    /// `prompt`).
    pub emitted: u32,
}

impl Seq {
    /// A new sequence.
    pub fn new(work: usize, prompt: u32, output: u32) -> Seq {
        Seq {
            work,
            prompt: prompt.max(1),
            output: output.max(1),
            computed: 0,
            generated: 0,
            blocks: 0,
            first_sent: false,
            emitted: 0,
        }
    }

    /// Output tokens still to generate.
    fn remaining(&self) -> u32 {
        self.output.saturating_sub(self.generated)
    }

    fn tokens(&self) -> u32 {
        self.computed + self.generated
    }

    /// Its prompt is in the KV cache and every token is generated.
    fn done(&self) -> bool {
        self.computed >= self.prompt && self.generated >= self.output
    }
}

/// What a finished step did, for the fleet to record.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct StepOutcome {
    /// Work items that got their first token in this step.
    pub first_tokens: Vec<usize>,
    /// Work items that got a later token in this step.
    pub next_tokens: Vec<usize>,
    /// Work items that finished in this step.
    pub finished: Vec<usize>,
    /// Work items admitted from the queue into the running batch by this step.
    pub admitted: Vec<usize>,
    /// Prompt tokens computed (including recomputation after preemption).
    pub prefill_tokens: u64,
}

/// A replica's scheduler state.
#[derive(Debug, Clone)]
pub struct ReplicaSim {
    block: u32,
    max_seqs: usize,
    budget: u32,
    blocks_total: u32,
    blocks_free: u32,
    waiting: VecDeque<Seq>,
    running: Vec<Seq>,
    /// The batch of the step in progress (indices into `running`) and its prompt tokens, when
    /// `stepping`; its buffers are reused from step to step.
    step: Step,
    stepping: bool,
    /// Prompt steps pause decoding (prefill-first engines).
    prefill_first: bool,
    /// On a Neuron chip, the compiled graphs' shapes: one whole prompt per prompt step, every
    /// step priced as its padded shape.
    neuron: Option<Shapes>,
    /// How requests are admitted and room is made.
    admission: Admission,
    /// SGLang's `new_token_ratio`, parts per million ([`Admission::Reserve`]).
    ratio_ppm: u64,
    /// Share of each prompt found in the prefix cache, parts per million.
    prefix_hit_ppm: u64,
    /// SGLang's `batch_is_full`: an admission was refused, and none is tried again until a
    /// running request finishes or is retracted.
    full: bool,
    /// Sequences preempted (or retracted) so far.
    pub preemptions: u64,
    /// Microseconds spent in steps.
    pub busy_us: u64,
}

#[derive(Debug, Clone, Default)]
struct Step {
    /// (index in `running`, prompt tokens this step) for prefill chunks.
    chunks: Vec<(usize, u32)>,
    /// Indices in `running` that decode this step.
    decodes: Vec<usize>,
    /// Work items admitted from the queue by this step.
    admitted: Vec<usize>,
}

/// What a step may carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// Decodes and prompt chunks together (engines that mix them).
    Mixed,
    /// Prompt chunks alone (a prefill-first engine with a prompt to run).
    Prompts,
    /// Decodes alone (a prefill-first engine with no prompt it can run).
    Decodes,
}

impl ReplicaSim {
    /// A replica of a prepared deployment; its steps take the times of a [`StepTimes`] of
    /// the same deployment.
    pub fn new(model: &Replica) -> ReplicaSim {
        let limits = model.limits();
        let block = limits.block_size.max(1) as u32;
        let blocks_total = (model.kv_cache_tokens() / f64::from(block))
            .floor()
            .max(1.0) as u32;
        let neuron = model.neuron_shapes();
        ReplicaSim {
            block,
            max_seqs: limits.max_num_seqs.max(1) as usize,
            // A Neuron prompt step takes one whole prompt, however long.
            budget: if neuron.is_some() {
                u32::MAX
            } else {
                limits.max_num_batched_tokens.max(1) as u32
            },
            blocks_total,
            blocks_free: blocks_total,
            waiting: VecDeque::new(),
            running: Vec::new(),
            step: Step::default(),
            stepping: false,
            prefill_first: model.prefill_first(),
            neuron,
            admission: Admission::of(model.engine()),
            ratio_ppm: sglang::INIT_RATIO_PPM,
            prefix_hit_ppm: 0,
            full: false,
            preemptions: 0,
            busy_us: 0,
        }
    }

    /// The same replica with a prefix cache that holds `rate` (0 to 1) of each prompt when the
    /// request is admitted (a token-weighted hit rate, as vLLM's `prefix_cache_hits /
    /// prefix_cache_queries` and SGLang's `cache_hit_rate` count it).
    pub fn with_prefix_hit_rate(mut self, rate: f64) -> ReplicaSim {
        let rate = if rate.is_finite() {
            rate.clamp(0.0, 1.0)
        } else {
            0.0
        };
        self.prefix_hit_ppm = (rate * sglang::PPM as f64).round() as u64;
        self
    }

    /// The admission policy (the engine's default).
    pub fn admission(&self) -> Admission {
        self.admission
    }

    /// Adds a request to the waiting queue.
    pub fn enqueue(&mut self, seq: Seq) {
        self.waiting.push_back(seq);
    }

    /// Requests waiting plus running.
    pub fn outstanding(&self) -> usize {
        self.waiting.len() + self.running.len()
    }

    /// Requests waiting for admission.
    pub fn queued(&self) -> usize {
        self.waiting.len()
    }

    /// Requests admitted and not finished.
    pub fn running(&self) -> usize {
        self.running.len()
    }

    /// Fraction of KV blocks in use.
    pub fn kv_load(&self) -> f64 {
        1.0 - f64::from(self.blocks_free) / f64::from(self.blocks_total)
    }

    /// KV blocks in use and in total.
    pub fn kv_blocks(&self) -> (u32, u32) {
        (self.blocks_total - self.blocks_free, self.blocks_total)
    }

    /// True while a step runs.
    pub fn busy(&self) -> bool {
        self.stepping
    }

    /// Takes every sequence off the replica (it is lost), returning their work handles.
    pub fn evict_all(&mut self) -> Vec<usize> {
        self.stepping = false;
        self.full = false;
        self.blocks_free = self.blocks_total;
        let mut out: Vec<usize> = self.running.drain(..).map(|s| s.work).collect();
        out.extend(self.waiting.drain(..).map(|s| s.work));
        out
    }

    /// Removes a waiting (not yet running) work item, e.g. a cancelled duplicate.
    pub fn cancel_waiting(&mut self, work: usize) -> bool {
        match self.waiting.iter().position(|s| s.work == work) {
            Some(i) => {
                self.waiting.remove(i);
                true
            }
            None => false,
        }
    }

    fn blocks_for(&self, tokens: u32) -> u32 {
        tokens.div_ceil(self.block)
    }

    /// Prompt tokens of `s` in the cache when it is admitted: what it computed before, or the
    /// prefix cache's share of its prompt in whole blocks, leaving at least one token to
    /// compute (the engine samples the first token from the last prompt token's step).
    fn cached(&self, s: &Seq) -> u32 {
        if self.prefix_hit_ppm == 0 || s.computed > 0 {
            return s.computed;
        }
        let hit = (u64::from(s.prompt) * self.prefix_hit_ppm / sglang::PPM) as u32;
        (hit / self.block * self.block).min(s.prompt - 1)
    }

    /// KV blocks `s` needs to decode its next token.
    fn decode_need(&self, s: &Seq) -> u32 {
        // A new block only when the held ones are full (no division otherwise).
        let t = u64::from(s.tokens() + 1);
        let held = u64::from(s.blocks) * u64::from(self.block);
        if held >= t {
            0
        } else if held + u64::from(self.block) >= t {
            1
        } else {
            self.blocks_for(s.tokens() + 1).saturating_sub(s.blocks)
        }
    }

    /// SGLang's reservation for the running requests: `new_token_ratio` × their remaining
    /// outputs (each up to 4096 tokens), in tokens.
    fn reserved_tokens(&self) -> u64 {
        if self.admission != Admission::Reserve {
            return 0;
        }
        let sum: u64 = self
            .running
            .iter()
            .filter(|s| s.computed >= s.prompt)
            .map(|s| u64::from(s.remaining().min(sglang::CLIP_MAX_NEW_TOKENS)))
            .sum();
        sum * self.ratio_ppm / sglang::PPM
    }

    /// Whether the waiting request `s` may be admitted now, `promised` tokens being reserved
    /// beyond the blocks already held (SGLang). With nothing running, a request whose first
    /// chunk fits is always admitted (so no request waits forever for an empty replica).
    fn admissible(&self, s: &Seq, promised: u64) -> bool {
        if self.running.len() >= self.max_seqs {
            return false;
        }
        let start = self.cached(s);
        let rest = s.prompt - start;
        let first = self.blocks_for(start + rest.min(self.budget));
        if first > self.blocks_free {
            return false;
        }
        if self.running.is_empty() {
            return true;
        }
        match self.admission {
            Admission::OnDemand => true,
            Admission::Reserve => {
                let free = u64::from(self.blocks_free) * u64::from(self.block);
                let need =
                    u64::from(rest) + u64::from(s.remaining().min(sglang::CLIP_MAX_NEW_TOKENS));
                need < free.saturating_sub(promised)
            }
            Admission::WholeSequence => {
                self.blocks_for(s.prompt + s.remaining()) <= self.blocks_free
            }
        }
    }

    /// Plans the next step; returns its duration in µs (from `times`, the step times of this
    /// replica's deployment), or `None` when there is nothing to do.
    pub fn start_step(&mut self, times: &mut StepTimes) -> Option<u64> {
        debug_assert!(!self.stepping);
        if !self.prefill_first {
            return self.plan(times, Mode::Mixed);
        }
        // A prefill-first engine runs prompts alone when one can be admitted or a partly
        // prefilled one continues (SGLang's `chunked_req`), else decodes alone.
        let reserve = if self.waiting.is_empty() {
            0
        } else {
            self.reserved_tokens()
        };
        let admit = !self.full
            && self
                .waiting
                .front()
                .is_some_and(|s| self.admissible(s, reserve));
        if !admit && !self.waiting.is_empty() && self.admission == Admission::Reserve {
            self.full = true;
        }
        if admit || self.running.iter().any(|s| s.computed < s.prompt) {
            if let Some(us) = self.plan(times, Mode::Prompts) {
                return Some(us);
            }
        }
        if self.admission == Admission::Reserve {
            self.retract_for_decode();
        }
        self.plan(times, Mode::Decodes)
    }

    /// Builds the batch of one step of `mode` and starts it.
    fn plan(&mut self, times: &mut StepTimes, mode: Mode) -> Option<u64> {
        self.step.decodes.clear();
        self.step.chunks.clear();
        self.step.admitted.clear();
        // The batch in integers (see [`StepKey`]).
        let mut key = StepKey::default();
        let mut i = 0;
        // Whether a running sequence is still in its prompt (when the decodes were planned).
        let mut prompting = mode == Mode::Prompts;
        // Decodes first: every running sequence past its prompt needs room for one token.
        while i < self.running.len() && mode != Mode::Prompts {
            let s = self.running[i];
            if s.computed < s.prompt {
                prompting = true;
                i += 1;
                continue;
            }
            let need = self.decode_need(&s);
            if need <= self.blocks_free {
                self.blocks_free -= need;
                self.running[i].blocks += need;
                self.step.decodes.push(i);
                key.decode_context += u64::from(s.tokens());
                i += 1;
            } else if let Some(victim) = self.preempt_one(i) {
                // The victim was after `i`, or was `i` itself.
                if victim == i {
                    continue;
                }
            } else {
                i += 1;
            }
        }
        key.decode_seqs = self.step.decodes.len() as u64;
        if mode == Mode::Decodes {
            prompting = false;
        }
        let mut room = self.budget.saturating_sub(self.step.decodes.len() as u32);
        // Prompt chunks: partly prefilled running sequences, then waiting ones.
        for (idx, s) in self.running.iter_mut().enumerate() {
            if room == 0 || !prompting {
                break;
            }
            if s.computed < s.prompt {
                let take = (s.prompt - s.computed).min(room);
                let need = (s.computed + take)
                    .div_ceil(self.block)
                    .saturating_sub(s.blocks);
                if need > self.blocks_free {
                    continue;
                }
                self.blocks_free -= need;
                s.blocks += need;
                self.step.chunks.push((idx, take));
                room -= take;
            }
        }
        if mode != Mode::Decodes {
            self.admit(&mut room);
        }
        if self.step.decodes.is_empty() && self.step.chunks.is_empty() {
            return None;
        }
        for &(idx, take) in &self.step.chunks {
            let (mut take, past) = (u64::from(take), u64::from(self.running[idx].computed));
            if let Some(shapes) = self.neuron {
                // The prompt's context-encoding bucket.
                take = shapes.prompt(past + take) - past.min(shapes.prompt(past + take));
            }
            key.prefill_tokens += take;
            key.prefill_past += past;
            key.prefill_pairs += take * past + take * (take + 1) / 2;
        }
        if let (Some(shapes), false) = (self.neuron, self.step.decodes.is_empty()) {
            // The compiled batch (a partly full step is padded to it), every row at the
            // longest sequence's bucket.
            let longest = self
                .step
                .decodes
                .iter()
                .map(|&i| u64::from(self.running[i].tokens()) + 1)
                .max()
                .unwrap_or(1);
            let (rows, len) = shapes.decode(longest);
            key.decode_seqs = rows;
            key.decode_context = rows * len;
        }
        let us = if self.step.chunks.is_empty() {
            times.decode_us(key.decode_seqs, key.decode_context)
        } else {
            times.us(&key)
        };
        self.busy_us += us;
        self.stepping = true;
        Some(us)
    }

    /// Admits waiting requests into the step while `room` (prompt tokens), `max_num_seqs`,
    /// the KV blocks and the engine's admission policy allow, first come first served.
    fn admit(&mut self, room: &mut u32) {
        let mut promised = if self.waiting.is_empty() {
            0
        } else {
            self.reserved_tokens()
        };
        let whole_prompt = self.admission == Admission::WholeSequence;
        while *room > 0 && self.running.len() < self.max_seqs {
            let Some(s) = self.waiting.front() else { break };
            if self.admission == Admission::Reserve && self.full {
                break;
            }
            if self.admission != Admission::OnDemand && !self.admissible(s, promised) {
                self.full = self.admission == Admission::Reserve;
                break;
            }
            let start = self.cached(s);
            let rest = s.prompt - start;
            // Without chunked context a prompt runs whole: in a step of its own when it is
            // longer than the step's budget.
            let take = if whole_prompt {
                if rest > *room && !self.step.chunks.is_empty() {
                    break;
                }
                rest
            } else {
                rest.min(*room)
            };
            let mut need = self.blocks_for(start + take);
            if whole_prompt {
                // The whole sequence is reserved at admission, so its decodes never wait.
                let all = self.blocks_for(s.prompt + s.remaining());
                if all <= self.blocks_free {
                    need = all;
                }
            }
            if need > self.blocks_free {
                break;
            }
            let Some(mut s) = self.waiting.pop_front() else {
                break;
            };
            if start + take >= s.prompt {
                promised += u64::from(s.remaining().min(sglang::CLIP_MAX_NEW_TOKENS));
            }
            self.blocks_free -= need;
            s.computed = start;
            s.blocks = need;
            self.step.admitted.push(s.work);
            self.running.push(s);
            self.step.chunks.push((self.running.len() - 1, take));
            *room = room.saturating_sub(take);
            // NxD Inference encodes one prompt per step (`ctx_batch_size = 1`).
            if self.neuron.is_some() {
                break;
            }
        }
    }

    /// SGLang's `check_decode_mem` and `retract_decode` before a decode step: when the running
    /// requests need more blocks for their next token than are free, those that generated
    /// least (the longest prompt first among equals) go back to the end of the queue, their
    /// blocks freed, until the rest fit (one always stays), and `new_token_ratio` becomes the
    /// progress of those kept (tokens generated and 20 steps each, over their outputs);
    /// otherwise the ratio decays by one step.
    fn retract_for_decode(&mut self) {
        let decoding = |s: &Seq| s.computed >= s.prompt;
        let mut need: u64 = self
            .running
            .iter()
            .filter(|s| decoding(s))
            .map(|s| u64::from(self.decode_need(s)))
            .sum();
        if need <= u64::from(self.blocks_free) {
            self.ratio_ppm = self
                .ratio_ppm
                .saturating_sub(sglang::DECAY_PPM)
                .max(sglang::MIN_RATIO_PPM);
            return;
        }
        let mut order: Vec<usize> = (0..self.running.len())
            .filter(|&i| decoding(&self.running[i]))
            .collect();
        order.sort_by_key(|&i| {
            let s = &self.running[i];
            (
                s.emitted + s.generated,
                std::cmp::Reverse(s.prompt - s.emitted),
                i,
            )
        });
        let mut kept = order.len();
        let mut victims = Vec::new();
        for &i in &order {
            if need <= u64::from(self.blocks_free) || kept <= 1 {
                break;
            }
            let s = self.running[i];
            need -= u64::from(self.decode_need(&s));
            self.blocks_free += s.blocks;
            kept -= 1;
            victims.push(i);
        }
        self.full = false;
        let retracted: Vec<Seq> = victims.iter().map(|&i| self.running[i]).collect();
        victims.sort_unstable_by(|a, b| b.cmp(a));
        for i in victims {
            self.running.remove(i);
        }
        for mut s in retracted {
            s.blocks = 0;
            s.computed = 0;
            s.prompt += s.generated;
            s.output -= s.generated;
            s.emitted += s.generated;
            s.generated = 0;
            self.waiting.push_back(s);
            self.preemptions += 1;
        }
        let (mut done, mut outputs, mut n) = (0u64, 0u64, 0u64);
        for s in self.running.iter().filter(|s| decoding(s)) {
            done += u64::from(s.emitted + s.generated);
            outputs += u64::from(s.output + s.emitted);
            n += 1;
        }
        self.ratio_ppm = ((done + sglang::RETRACT_DECODE_STEPS * n) * sglang::PPM / (outputs + 1))
            .min(sglang::PPM);
    }

    /// Preempts the most recently admitted running sequence other than those already decoding
    /// this step (recompute: its blocks are freed and it returns to the front of the queue).
    /// Returns the index it had, or `None` when nothing can be preempted.
    fn preempt_one(&mut self, current: usize) -> Option<usize> {
        let victim = self.running.len().checked_sub(1)?;
        if victim < current {
            return None;
        }
        let mut s = self.running.remove(victim);
        self.blocks_free += s.blocks;
        s.blocks = 0;
        s.computed = 0;
        // The generated tokens stay sent: recomputation rebuilds their KV as prompt, and the
        // sequence then generates what is left.
        s.prompt += s.generated;
        s.output -= s.generated;
        s.emitted += s.generated;
        s.generated = 0;
        self.waiting.push_front(s);
        self.preemptions += 1;
        Some(victim)
    }

    /// Applies the step in progress.
    pub fn finish_step(&mut self) -> StepOutcome {
        let mut out = StepOutcome::default();
        self.finish_step_into(&mut out);
        out
    }

    /// [`ReplicaSim::finish_step`] into `out` (cleared first), reusing its buffers.
    pub fn finish_step_into(&mut self, out: &mut StepOutcome) {
        out.first_tokens.clear();
        out.next_tokens.clear();
        out.finished.clear();
        out.admitted.clear();
        out.prefill_tokens = 0;
        if !self.stepping {
            return;
        }
        self.stepping = false;
        let step = &self.step;
        out.admitted.extend_from_slice(&step.admitted);
        // Only the sequences of this step change, so only they can have finished.
        let mut any_done = false;
        for &(idx, take) in &step.chunks {
            let s = &mut self.running[idx];
            s.computed += take;
            out.prefill_tokens += u64::from(take);
            if s.computed >= s.prompt && s.generated == 0 {
                // The step that completes the prompt samples a token: the first one, or the
                // next one of a recomputed sequence.
                s.generated = 1;
                if s.first_sent {
                    out.next_tokens.push(s.work);
                } else {
                    s.first_sent = true;
                    out.first_tokens.push(s.work);
                }
            }
            any_done |= s.done();
        }
        for &idx in &step.decodes {
            let s = &mut self.running[idx];
            s.generated += 1;
            out.next_tokens.push(s.work);
            any_done |= s.done();
        }
        if !any_done {
            return;
        }
        self.full = false;
        let blocks_free = &mut self.blocks_free;
        self.running.retain(|s| {
            let done = s.done();
            if done {
                *blocks_free += s.blocks;
                out.finished.push(s.work);
            }
            !done
        });
    }
}
