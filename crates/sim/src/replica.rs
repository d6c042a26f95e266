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

use inferplan_perf::step::{Batch, Efficiency};
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
    model: Replica,
    eff: Efficiency,
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
    /// Step durations already computed, by exact batch ([`StepKey`]).
    memo: StepMemo,
}

/// A batch in whole numbers: prompt tokens, their cached past, their causal query-key pairs,
/// decoding sequences and the sum of their contexts. Every field of the perf crate's
/// [`Batch`] the scheduler builds is a sum of such integers (below 2^53, so exact in `f64`
/// in any order), so two steps with the same key take the same time to the bit.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct StepKey([u64; 5]);

/// Durations of recent steps (µs), direct-mapped by a hash of the exact batch: a hit needs
/// the whole key equal, so this changes no result, only how often the step-time model (a pure
/// function of the batch) is evaluated. Small enough to stay in the CPU's cache.
#[derive(Debug, Clone)]
struct StepMemo(Vec<(StepKey, u64)>);

/// Entries of the memo (a power of two; 40 bytes each).
const MEMO_SLOTS: usize = 1 << 14;

impl Default for StepMemo {
    fn default() -> Self {
        // Duration 0 marks an empty slot (a step takes at least 1 µs).
        StepMemo(vec![(StepKey::default(), 0); MEMO_SLOTS])
    }
}

impl StepKey {
    /// Slot of the key: a multiply-rotate hash of its integers, finished by MurmurHash3's
    /// mixer.
    fn slot(&self) -> usize {
        let mut h = 0u64;
        for &v in &self.0 {
            h = (h.rotate_left(5) ^ v).wrapping_mul(0x517c_c1b7_2722_0a95);
        }
        h ^= h >> 33;
        h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
        h ^= h >> 33;
        (h as usize) & (MEMO_SLOTS - 1)
    }
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
    /// A replica of a prepared deployment with efficiencies `eff`.
    pub fn new(model: &Replica, eff: Efficiency) -> ReplicaSim {
        let limits = model.limits();
        let block = limits.block_size.max(1) as u32;
        let blocks_total = (model.kv_cache_tokens() / f64::from(block))
            .floor()
            .max(1.0) as u32;
        ReplicaSim {
            model: model.clone(),
            eff,
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
            memo: StepMemo::default(),
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

    /// Plans the next step; returns its duration in µs, or `None` when there is nothing to do.
    pub fn start_step(&mut self) -> Option<u64> {
        debug_assert!(!self.stepping);
        // Decodes first: every running sequence past its prompt needs room for one token
        // (unless a prefill-first engine has a prompt to admit: then this step is prompts only).
        let admit = self.waiting.front().is_some_and(|s| {
            self.running.len() < self.max_seqs
                && self.blocks_for(s.computed + (s.prompt - s.computed).min(self.budget))
                    <= self.blocks_free
        });
        let prompts_only = self.prefill_first && admit;
        let mut decodes = std::mem::take(&mut self.step.decodes);
        decodes.clear();
        let mut i = 0;
        while i < self.running.len() && !prompts_only {
            let s = self.running[i];
            if s.computed < s.prompt {
                i += 1;
                continue;
            }
            let need = self.blocks_for(s.tokens() + 1).saturating_sub(s.blocks);
            if need <= self.blocks_free {
                self.blocks_free -= need;
                self.running[i].blocks += need;
                decodes.push(i);
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
        let mut room = self.budget.saturating_sub(decodes.len() as u32);
        // Prompt chunks: partly prefilled running sequences, then waiting ones.
        let mut chunks = std::mem::take(&mut self.step.chunks);
        chunks.clear();
        let mut admitted = std::mem::take(&mut self.step.admitted);
        admitted.clear();
        for (idx, s) in self.running.iter_mut().enumerate() {
            if room == 0 {
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
                chunks.push((idx, take));
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
            admitted.push(s.work);
            self.running.push(s);
            chunks.push((self.running.len() - 1, take));
            room -= take;
        }
        if decodes.is_empty() && chunks.is_empty() {
            self.step = Step {
                chunks,
                decodes,
                admitted,
            };
            return None;
        }
        // The batch in integers (see [`StepKey`]).
        let mut key = StepKey::default();
        let k = &mut key.0;
        for &(idx, take) in &chunks {
            let (take, past) = (u64::from(take), u64::from(self.running[idx].computed));
            k[0] += take;
            k[1] += past;
            k[2] += take * past + take * (take + 1) / 2;
        }
        k[3] = decodes.len() as u64;
        for &idx in &decodes {
            k[4] += u64::from(self.running[idx].tokens());
        }
        let slot = key.slot();
        let us = match self.memo.0[slot] {
            (k, us) if us > 0 && k == key => us,
            _ => {
                let b = Batch {
                    prefill_tokens: key.0[0] as f64,
                    prefill_past: key.0[1] as f64,
                    prefill_pairs: key.0[2] as f64,
                    decode_seqs: key.0[3] as f64,
                    decode_context: key.0[4] as f64,
                };
                let (secs, _) = self.model.iteration(&b, &self.eff);
                let us = (secs * 1e6).ceil().max(1.0) as u64;
                self.memo.0[slot] = (key, us);
                us
            }
        };
        self.busy_us += us;
        self.step = Step {
            chunks,
            decodes,
            admitted,
        };
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
        }
        for &idx in &step.decodes {
            let s = &mut self.running[idx];
            s.generated += 1;
            out.next_tokens.push(s.work);
        }
        let blocks_free = &mut self.blocks_free;
        self.running.retain(|s| {
            let done = s.computed >= s.prompt && s.generated >= s.output;
            if done {
                *blocks_free += s.blocks;
                out.finished.push(s.work);
            }
            !done
        });
    }
}
