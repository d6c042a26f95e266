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
//!   Engines that run a prompt step on its own and pause decoding (SGLang, TGI, LMDeploy) reach
//!   the same steady state, with prompt-only steps, in a closed loop whose output lengths vary
//!   ([`Replica::run_spread`]). A closed loop's clients stay partly in step on every engine:
//!   its prompts arrive in clumps (`Replica::clumped`), with an exponent per kind of engine.
//! * **Rounds** (`Burst`: `n` requests sent at once; `Closed` of fixed lengths on engines that
//!   run a prefill batch on its own and pause decoding): all prompts are prefilled in
//!   budget-sized chunks (a request's TTFT is the mean position of its chunk), then the batch
//!   decodes together, finishes together and comes back together; more requests than fit run
//!   in waves.
//! * **Static batches** (`Static`: the batch is prefilled in one step, then decoded to the end,
//!   as TensorRT-LLM's and LMDeploy's static benchmarks do).
//!
//! Which variant applies to which engine was chosen by validation against the measured
//! closed-loop rows (see VALIDATION.md).

mod percentiles;
mod replica;
mod stats;
mod steady;

pub use replica::{pcie_bytes_s, Replica};
use stats::*;
pub use stats::{erlang_c, gamma_p, normal_cdf, normal_quantile};
use steady::*;

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
    /// Every sequence holds one equal slot of the cache whatever its length: on a Neuron chip,
    /// one of the compiled batch's `max_num_seqs` cache lines of `max_model_len` tokens
    /// (`crate::neuron`), so unequal prompts do not make the occupancy peaked
    /// ([`Estimate::kv_wait`]).
    #[serde(skip)]
    pub equal_slots: bool,
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
    /// prompt steps per request × the time a heavy iteration adds, and the time the met prompt
    /// adds to the request's decode steps by decoding beside it, [`Estimate::prompt_drag_ms`]
    /// over half the mean output): each heavy iteration a request meets stretches its
    /// decode, and more prompts arrive in the stretch, so the count it meets is a busy
    /// period's, wider than a Poisson count (0 in a closed loop).
    pub heavy_growth: f64,
    /// Prompt-carrying iterations per prompt (its chunks of the step budget).
    pub prompt_steps: f64,
    /// Prompt-carrying iterations a decoding request meets together, as one, under open-loop
    /// arrivals: a prefill-first engine runs a chunked prompt's steps back to back (SGLang's
    /// `chunked_req` continues in the next prefill batch while the decodes wait), and an
    /// engine that mixes chunks into its steps carries them in consecutive steps (vLLM's
    /// scheduler continues a partly prefilled request first), so a request that meets one
    /// meets all [`Estimate::prompt_steps`] of them, and the count it meets comes in clumps of
    /// that many, each clump one prompt's work (1: counted one by one; a closed loop).
    pub prompt_clump: f64,
    /// Under open-loop arrivals, how much a prompt a request meets lengthens its decode per
    /// gap it then decodes beside it, ms (the decode slope: the prompt's sequence joins the
    /// batch), for the TPOT tail: a request that meets many prompts also decodes in a larger
    /// batch, the same events, so the batch's growth rides on the count of prompts met
    /// rather than beside it as an independent spread (0 in a closed loop or a full
    /// replica). On every engine: vLLM's mixed step carries the prompt, then its decodes
    /// join the batch, as after SGLang's prefill batch.
    pub prompt_drag_ms: f64,
    /// Under open-loop arrivals, the squared coefficient of variation of the time a met
    /// prompt's steps take (a prefill-first engine's, `Replica::prompt_work`) or add to the
    /// decodes they carry (a mixing engine's, `ExtraCurve::work_cv2`) over the prompt
    /// lengths (a step's time grows faster than its tokens, a longer prompt takes more steps,
    /// and its attention grows with its length), for the TPOT tail's spread of each prompt
    /// met, whose sum is then taken as log-normal; 0: the caller's spread of the prompt
    /// length, a normal sum.
    #[serde(skip)]
    pub prompt_work_cv2: f64,
    /// Under open-loop arrivals on an engine that mixes prompt chunks into its steps, the
    /// time a prompt's attention adds per causal query-key pair, ms: a prompt of `l` tokens
    /// has `l (l + 1) / 2` pairs however it is chunked (each chunk attends to the KV cache of
    /// the chunks before it), so its time grows faster than its tokens. The heavy iteration's
    /// extra per prompt token ([`Estimate::tpot_heavy_ms`]) holds the attention of a prompt of
    /// [`Estimate::prompt_priced_tokens`]; a prompt of `l` tokens takes `prompt_pair_ms × l (l
    /// − prompt_priced_tokens) / 2` more (less when shorter) than its tokens at that extra
    /// (0 elsewhere: the mean prompt's own pairs).
    pub prompt_pair_ms: f64,
    /// The prompt length whose attention the heavy iteration's extra per token holds: the
    /// token-weighted mean length (a token is more likely in a long prompt), tokens.
    pub prompt_priced_tokens: f64,
    /// Under open-loop arrivals on an engine that mixes prompt chunks into its steps, a step
    /// whose prompt room is full beside the decodes, ms: a prompt longer than the room runs in
    /// such steps and a last chunk, each full step at its own time (the extra of prompt tokens
    /// grows faster than linearly towards a full step: `tpot_heavy_ms` prices the mean chunk),
    /// and one whole step more for the last chunk, however small (0 elsewhere).
    pub prompt_full_step_ms: f64,
    /// On an engine that mixes prompt chunks into its decode steps, under open-loop arrivals,
    /// the extra time of one heavy iteration when prompts crowd the steps, ms: the mean
    /// prompt's chunk at the per-token extra of a full step. A step's extra is convex in the
    /// prompt tokens it carries (a small chunk hides under the decode's reads, a full one is
    /// bound by its compute), so the mean extra ([`Estimate::tpot_heavy_ms`] less the light
    /// iteration) is that of steps carrying a varying amount, many of them lightly; a
    /// request that meets many prompts meets them where they queue and share full steps,
    /// and each one more it meets costs the full step's rate. The TPOT tail counts the
    /// prompts met at this extra around their mean work (0: the heavy iteration's extra).
    #[serde(skip)]
    pub crowded_extra_ms: f64,
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
