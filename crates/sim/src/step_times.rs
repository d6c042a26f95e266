//! The duration of an engine step, by its exact batch, memoized for every replica of a fleet.
//!
//! The step-time model ([`Replica::iteration`]) is a pure function of the batch, and every
//! replica of a fleet runs the same deployment with the same efficiencies, so one memo serves
//! them all. A lookup needs the whole batch equal, so the memo changes no result, only how
//! often the model runs.
//!
//! Decode-only steps (no prompt chunk), almost every step of a simulation, are keyed by their
//! sequences `n` and the sum of their contexts, in pages of consecutive context sums per `n`:
//! a replica's next decode step has the same `n` and a context sum `n` higher, so it is read
//! from the page it just used. Other steps go to a small direct-mapped memo.

use inferplan_perf::step::{Batch, Efficiency};
use inferplan_perf::Replica;

/// A batch in whole numbers: prompt tokens, their cached past, their causal query-key pairs,
/// decoding sequences and the sum of their contexts. Every field of the perf crate's
/// [`Batch`] the scheduler builds is a sum of such integers (below 2^53, so exact in `f64`
/// in any order), so two steps with the same key take the same time to the bit.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct StepKey {
    pub(crate) prefill_tokens: u64,
    pub(crate) prefill_past: u64,
    pub(crate) prefill_pairs: u64,
    pub(crate) decode_seqs: u64,
    pub(crate) decode_context: u64,
}

impl StepKey {
    /// Slot of the key in the direct-mapped memo: a multiply-rotate hash of its integers,
    /// finished by MurmurHash3's mixer.
    fn slot(&self) -> usize {
        let mut h = 0u64;
        for v in [
            self.prefill_tokens,
            self.prefill_past,
            self.prefill_pairs,
            self.decode_seqs,
            self.decode_context,
        ] {
            h = (h.rotate_left(5) ^ v).wrapping_mul(0x517c_c1b7_2722_0a95);
        }
        h ^= h >> 33;
        h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
        h ^= h >> 33;
        (h as usize) & (MEMO_SLOTS - 1)
    }

    /// True for a step without prompt tokens.
    fn decode_only(&self) -> bool {
        self.prefill_tokens == 0
    }

    fn batch(&self) -> Batch {
        Batch {
            prefill_tokens: self.prefill_tokens as f64,
            prefill_past: self.prefill_past as f64,
            prefill_pairs: self.prefill_pairs as f64,
            decode_seqs: self.decode_seqs as f64,
            decode_context: self.decode_context as f64,
        }
    }
}

/// Entries of the direct-mapped memo (a power of two; 48 bytes each).
const MEMO_SLOTS: usize = 1 << 14;
/// Context sums per page of the decode memo (a power of two; 4 bytes each).
const PAGE: usize = 1 << 10;
/// Most bytes of the decode memo (its pages and their pointers); decode steps past them use
/// the direct-mapped memo.
const MAX_BYTES: usize = 32 << 20;

/// Step durations of one deployment, memoized.
#[derive(Debug, Clone)]
pub struct StepTimes {
    model: Replica,
    eff: Efficiency,
    /// Decode-only steps.
    decode: DecodeMemo,
    /// Other steps, direct-mapped by [`StepKey::slot`]; duration 0 marks an empty slot.
    mixed: Vec<(StepKey, u64)>,
}

impl StepTimes {
    /// The step times of `model` with efficiencies `eff`, none computed yet.
    pub fn new(model: &Replica, eff: Efficiency) -> StepTimes {
        StepTimes {
            model: model.clone(),
            eff,
            decode: DecodeMemo::default(),
            mixed: Vec::new(),
        }
    }

    /// Microseconds of a step of batch `key`: the model's seconds, rounded up, at least 1.
    pub(crate) fn us(&mut self, key: &StepKey) -> u64 {
        if key.decode_only() {
            return self.decode_us(key.decode_seqs, key.decode_context);
        }
        self.mixed_us(key)
    }

    /// [`StepTimes::us`] of a step of `n` decoding sequences whose contexts sum to `context`
    /// (and no prompt tokens).
    pub(crate) fn decode_us(&mut self, n: u64, context: u64) -> u64 {
        if let Some(entry) = self.decode.entry(n, context) {
            if *entry == 0 {
                let key = StepKey {
                    decode_seqs: n,
                    decode_context: context,
                    ..StepKey::default()
                };
                let us = compute(&self.model, &self.eff, &key);
                *entry = u32::try_from(us).unwrap_or(0);
                return us;
            }
            return u64::from(*entry);
        }
        self.mixed_us(&StepKey {
            decode_seqs: n,
            decode_context: context,
            ..StepKey::default()
        })
    }

    /// [`StepTimes::us`] from the direct-mapped memo.
    fn mixed_us(&mut self, key: &StepKey) -> u64 {
        if self.mixed.is_empty() {
            self.mixed = vec![(StepKey::default(), 0); MEMO_SLOTS];
        }
        let slot = &mut self.mixed[key.slot()];
        if slot.1 > 0 && slot.0 == *key {
            return slot.1;
        }
        let us = compute(&self.model, &self.eff, key);
        *slot = (*key, us);
        us
    }
}

/// Durations of decode-only steps: `pages[n][context_sum / PAGE][context_sum % PAGE]`, µs; 0
/// marks an empty entry (a step takes at least 1 µs), as does a duration above `u32::MAX` µs,
/// which is never stored.
#[derive(Debug, Clone, Default)]
struct DecodeMemo {
    pages: Vec<Vec<Option<Box<[u32]>>>>,
    /// Bytes held.
    bytes: usize,
}

impl DecodeMemo {
    /// The entry of `n` sequences with contexts summing to `context`, `None`
    /// when its page cannot be allocated (the memo is full, or the indices do not fit).
    fn entry(&mut self, n: u64, context: u64) -> Option<&mut u32> {
        let n = usize::try_from(n).ok()?;
        let context = usize::try_from(context).ok()?;
        let (page, at) = (context / PAGE, context % PAGE);
        let pointer = std::mem::size_of::<Option<Box<[u32]>>>();
        if self.pages.len() <= n {
            let more = (n + 1 - self.pages.len()) * std::mem::size_of::<Vec<u8>>();
            if self.bytes + more > MAX_BYTES {
                return None;
            }
            self.bytes += more;
            self.pages.resize_with(n + 1, Vec::new);
        }
        let pages = &mut self.pages[n];
        if pages.len() <= page {
            let more = (page + 1 - pages.len()) * pointer;
            if self.bytes + more > MAX_BYTES {
                return None;
            }
            self.bytes += more;
            pages.resize_with(page + 1, || None);
        }
        let p = &mut pages[page];
        if p.is_none() {
            let more = PAGE * std::mem::size_of::<u32>();
            if self.bytes + more > MAX_BYTES {
                return None;
            }
            self.bytes += more;
            *p = Some(vec![0u32; PAGE].into_boxed_slice());
        }
        p.as_mut().map(|p| &mut p[at])
    }
}

fn compute(model: &Replica, eff: &Efficiency, key: &StepKey) -> u64 {
    let (secs, _) = model.iteration(&key.batch(), eff);
    (secs * 1e6).ceil().max(1.0) as u64
}

#[cfg(test)]
mod tests {
    use super::*;
    use inferplan_catalog::{Catalog, Dtype, Interconnect};
    use inferplan_perf::efficiency::EfficiencyTable;
    use inferplan_perf::{Deployment, Engine, MemoryParams, Placement};
    use proptest::prelude::*;

    fn times() -> StepTimes {
        let c = Catalog::embedded().unwrap();
        let gpu = c.gpu("H100").unwrap();
        let mem = gpu.memory_gib().unwrap();
        let d = Engine::Vllm.defaults(mem, gpu.arch);
        let replica = Replica::new(
            &Deployment {
                placement: Placement {
                    model: c.model("llama-3.1-8b").unwrap(),
                    gpu,
                    gpu_mem_gib: mem,
                    gpus: 1,
                    interconnect: Interconnect::Single,
                    tp: 1,
                    attention_dp: 1,
                    pp: 1,
                    weights: Dtype::Bf16,
                    kv: Dtype::Bf16,
                },
                engine: Engine::Vllm,
                limits: d.limits,
                kv_memory_fraction: d.kv_memory_fraction,
            },
            8192,
            &MemoryParams::embedded().unwrap(),
        )
        .unwrap();
        let eff = EfficiencyTable::embedded()
            .unwrap()
            .lookup(gpu.arch, Engine::Vllm, Dtype::Bf16)
            .eff;
        StepTimes::new(&replica, eff)
    }

    fn key(prefill: (u64, u64), decode: (u64, u64)) -> StepKey {
        let (take, past) = prefill;
        StepKey {
            prefill_tokens: take,
            prefill_past: if take > 0 { past } else { 0 },
            prefill_pairs: take * past + take * (take + 1) / 2,
            decode_seqs: decode.0,
            decode_context: decode.0 * decode.1,
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// Every lookup, first or repeated, decode-only or mixed, answers what the model
        /// computes for the batch.
        #[test]
        fn the_memo_answers_what_the_model_computes(
            batches in proptest::collection::vec(
                ((0u64..3, 0u64..4096), (0u64..300, 0u64..20_000)),
                1..60,
            ),
        ) {
            let mut t = times();
            let fresh = times();
            for _ in 0..2 {
                for &((chunks, past), decode) in &batches {
                    let k = key((chunks * 512, past), decode);
                    let want = compute(&fresh.model, &fresh.eff, &k);
                    prop_assert_eq!(t.us(&k), want);
                    if k.decode_only() {
                        prop_assert_eq!(t.decode_us(k.decode_seqs, k.decode_context), want);
                    }
                }
            }
        }
    }

    #[test]
    fn a_full_decode_memo_still_answers() {
        let mut t = times();
        // Far context sums, each on a page of its own, until the pages are spent.
        let pages = MAX_BYTES / (PAGE * 4) + 16;
        let fresh = times();
        for p in 0..pages as u64 {
            let (n, context) = (1 + p % 7, p * PAGE as u64 * 3);
            let k = key((0, 0), (n, 0));
            let k = StepKey {
                decode_context: context,
                ..k
            };
            assert_eq!(
                t.decode_us(n, context),
                compute(&fresh.model, &fresh.eff, &k)
            );
        }
        assert!(t.decode.bytes <= MAX_BYTES);
    }
}
