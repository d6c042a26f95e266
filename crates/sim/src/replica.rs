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
//! request can be admitted, pausing the decodes for that step.

use crate::step_times::{StepKey, StepTimes};
use inferplan_perf::Replica;
use std::collections::VecDeque;

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
        }
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
    /// Sequences preempted so far.
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

impl ReplicaSim {
    /// A replica of a prepared deployment; its steps take the times of a [`StepTimes`] of
    /// the same deployment.
    pub fn new(model: &Replica) -> ReplicaSim {
        let limits = model.limits();
        let block = limits.block_size.max(1) as u32;
        let blocks_total = (model.kv_cache_tokens() / f64::from(block))
            .floor()
            .max(1.0) as u32;
        ReplicaSim {
            block,
            max_seqs: limits.max_num_seqs.max(1) as usize,
            budget: limits.max_num_batched_tokens.max(1) as u32,
            blocks_total,
            blocks_free: blocks_total,
            waiting: VecDeque::new(),
            running: Vec::new(),
            step: Step::default(),
            stepping: false,
            prefill_first: !model.engine().mixes_prefill_and_decode(),
            preemptions: 0,
            busy_us: 0,
        }
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

    /// Plans the next step; returns its duration in µs (from `times`, the step times of this
    /// replica's deployment), or `None` when there is nothing to do.
    pub fn start_step(&mut self, times: &mut StepTimes) -> Option<u64> {
        debug_assert!(!self.stepping);
        // Decodes first: every running sequence past its prompt needs room for one token
        // (unless a prefill-first engine has a prompt to admit: then this step is prompts only).
        let admit = self.waiting.front().is_some_and(|s| {
            self.running.len() < self.max_seqs
                && self.blocks_for(s.computed + (s.prompt - s.computed).min(self.budget))
                    <= self.blocks_free
        });
        let prompts_only = self.prefill_first && admit;
        self.step.decodes.clear();
        self.step.chunks.clear();
        self.step.admitted.clear();
        // The batch in integers (see [`StepKey`]).
        let mut key = StepKey::default();
        let mut i = 0;
        // Whether a running sequence is still in its prompt (when the decodes were planned).
        let mut prompting = prompts_only;
        while i < self.running.len() && !prompts_only {
            let s = self.running[i];
            if s.computed < s.prompt {
                prompting = true;
                i += 1;
                continue;
            }
            // A new block only when the held ones are full (no division otherwise).
            let t = u64::from(s.tokens() + 1);
            let held = u64::from(s.blocks) * u64::from(self.block);
            let need = if held >= t {
                0
            } else if held + u64::from(self.block) >= t {
                1
            } else {
                self.blocks_for(s.tokens() + 1).saturating_sub(s.blocks)
            };
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
        while room > 0 && self.running.len() < self.max_seqs {
            let Some(s) = self.waiting.front() else { break };
            let take = (s.prompt - s.computed).min(room);
            let need = self.blocks_for(s.computed + take);
            if need > self.blocks_free {
                break;
            }
            let Some(mut s) = self.waiting.pop_front() else {
                break;
            };
            self.blocks_free -= need;
            s.blocks = need;
            self.step.admitted.push(s.work);
            self.running.push(s);
            self.step.chunks.push((self.running.len() - 1, take));
            room -= take;
        }
        if self.step.decodes.is_empty() && self.step.chunks.is_empty() {
            return None;
        }
        for &(idx, take) in &self.step.chunks {
            let (take, past) = (u64::from(take), u64::from(self.running[idx].computed));
            key.prefill_tokens += take;
            key.prefill_past += past;
            key.prefill_pairs += take * past + take * (take + 1) / 2;
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
