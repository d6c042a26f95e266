//! A deployment prepared for fast estimates, and the entry points that answer a workload.

use super::*;

/// Latency of one step of an all-reduce over NVLink/NVSwitch or Infinity Fabric, seconds.
const LINK_LATENCY_S: f64 = 5e-6;
/// Latency of one step of an all-reduce over PCIe through the host, seconds.
const PCIE_LATENCY_S: f64 = 15e-6;

/// A deployment prepared for fast estimates.
#[derive(Debug, Clone)]
pub struct Replica {
    pub(super) model: ModelSpec,
    pub(super) layout: Layout,
    pub(super) rates: Rates,
    pub(super) limits: EngineLimits,
    pub(super) kv_tokens: f64,
    pub(super) gpus: u32,
    pub(super) engine: Engine,
    pub(super) mixes: bool,
    /// On a Neuron chip, the compiled graphs' shapes: one whole prompt per context-encoding
    /// step, padded to its sequence bucket; token-generation steps at the longest sequence's
    /// bucket; every sequence's KV cache reserved at full length (`crate::neuron`).
    pub(super) neuron: Option<crate::neuron::Shapes>,
}

impl Replica {
    /// Prepares a deployment for sequences of up to `context` tokens: peak rates for the math
    /// format, and the KV cache the engine's memory budget leaves (the `fit` engine view).
    pub fn new(
        d: &Deployment<'_>,
        context: u64,
        params: &MemoryParams,
    ) -> Result<Replica, PerfError> {
        if let Some(why) = crate::neuron::refusal(d.engine, d.placement.model, d.placement.gpu) {
            return Err(PerfError::refused("engine", why));
        }
        // An engine that ignores the model's sliding window unless told to attends over, and
        // caches, the whole context on every layer.
        let unwindowed;
        let mut placement = d.placement.clone();
        if d.limits.full_context_windows && placement.model.window.is_some() {
            unwindowed = ModelSpec {
                window: None,
                ..placement.model.clone()
            };
            placement.model = &unwindowed;
        }
        let p = &placement;
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
    /// `len` tokens on average: on a Neuron chip, the compiled batch (NxD Inference pads a
    /// partly full step to it), every row at the bucket of the longest
    /// ([`crate::neuron::Shapes::decode`], which the simulator prices its steps by too). The longest of `n` is taken as the expected
    /// maximum of `n` lengths whose excess over the mean is exponential with its 99th
    /// percentile at `max_model_len` (the planner's p99 prompt + p99 output): the mean plus
    /// `(max_model_len − len) × H(n) / ln 100`, `H(n) ≈ ln n + γ`, within `max_model_len`;
    /// with fixed lengths `len` is `max_model_len` and so the longest.
    pub(super) fn decode_batch(&self, seqs: f64, context: f64, len: f64) -> Batch {
        match self.neuron {
            Some(shapes) => {
                let cap = shapes.max_model_len as f64;
                let h = portable::ln(seqs.max(1.0)) + 0.577_215_664_9;
                let longest = (len + (cap - len).max(0.0) * h / portable::ln(100.0)).min(cap);
                let (rows, bucket) = shapes.decode(longest.ceil() as u64);
                Batch::decode(rows as f64, bucket as f64)
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
    /// MoE layer twice ([`Efficiency::eager_layer_s`]), and an MLA or linear-attention layer
    /// once more ([`Replica::heavy_attention_layers`]). Measured on the AIConfigurator closed
    /// loops of at most four clients, the TTFT left after the prompt's GPU time grows with the
    /// layers, MoE layers about twice as much as dense ones (0.6 / 1.5 ms per dense / MoE
    /// layer on TensorRT-LLM, 0.6 / 0.9 ms on vLLM; VALIDATION.md). A Neuron graph is compiled
    /// ahead of time: nothing is dispatched per layer.
    pub fn eager_prompt_s(&self, e: &Efficiency) -> f64 {
        if self.neuron.is_some() {
            return 0.0;
        }
        let moe = self.model.moe.as_ref().map_or(0, |m| m.moe_layers);
        e.eager_layer_s * (self.model.layers + moe + self.heavy_attention_layers()) as f64
    }

    /// Layers whose token mixing dispatches about twice a GQA layer's kernels in a prompt step,
    /// counted once more by [`Replica::eager_prompt_s`]: multi-head latent attention (vLLM's
    /// `MultiHeadLatentAttentionWrapper.forward`, vllm-project/vllm
    /// `vllm/model_executor/layers/mla.py` @00b9b7ad: fused q/kv down-projection, two norms,
    /// q up-projection, rotary, the prompt's kv up-projection `kv_b_proj` inside the attention
    /// and the output projection, against a GQA layer's qkv projection, rotary, attention and
    /// output projection), and linear-attention or state-space layers (a Gated DeltaNet layer's
    /// projections, causal convolution, gating, the chunked delta rule's several kernels and a
    /// gated norm). Measured, the TTFT left after the step model on the AIConfigurator loops of
    /// at most eight clients is 1.3–2.3 ms per layer and MoE layer on MLA and hybrid models
    /// (DeepSeek-R1/V3, GLM-5, Kimi K2.5, Qwen3.5) against 0.4–0.9 ms on GQA models (MiniMax
    /// M2.5, gpt-oss, Llama 3.1 70B), whichever engine serves them (VALIDATION.md, "TTFT under
    /// cross-validation").
    pub fn heavy_attention_layers(&self) -> u64 {
        let mla = if self.model.mla.is_some() {
            self.model.attention_layers
        } else {
            0
        };
        mla + self.model.recurrent.as_ref().map_or(0, |r| r.layers)
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

    /// A prompt step of its own (a prefill-first engine's prefill batch) carrying `tokens`
    /// prompt tokens of prompts of `prompt` tokens each, ms.
    pub fn prompt_step_ms(&self, tokens: f64, prompt: f64, e: &Efficiency) -> f64 {
        self.iteration(&chunk(tokens, prompt), e).0 * 1e3
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
    pub(super) fn limits_for(&self, load: &Load, i: f64, o: f64) -> (f64, f64) {
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
    /// per sequence on average, `prompt + mean (1 + cv²) / 2`, not `prompt + mean / 2`. In a
    /// closed loop on an engine that pauses decoding for prompt steps, varying outputs break
    /// the lockstep rounds that fixed ones keep.
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
        // A prefill-first engine runs the others' prompts alone, each in its own steps: their
        // mean time and its spread over the prompt lengths (open loop; not a Neuron graph,
        // whose prompt is padded to its bucket).
        let prompt_work = (matches!(w.load, Load::Poisson { .. })
            && !self.mixes
            && self.neuron.is_none()
            && prompt_cv2 > 0.0)
            .then(|| self.prompt_work(input, prompt_cv2, budget, e));
        let mut out = match w.load {
            Load::Static { batch } => self.waves(batch as f64, i, o, f64::INFINITY, e),
            Load::Burst { requests } => self.waves(requests as f64, i, o, budget, e),
            // A prefill batch runs on its own and pauses decoding: clients whose requests all
            // end at the same step move in rounds, each prefilling every prompt, then decoding
            // the batch to the end. Varying outputs end a round's requests at different steps
            // and the clients fall out of step: the steady state below, in clumps.
            Load::Closed { concurrency } if !self.mixes && spread <= 0.0 => {
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
                        prompt_work,
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
        // Under open-loop arrivals a prompt a decoding request meets then decodes beside it,
        // on every engine (`Estimate::prompt_drag_ms`); on a prefill-first engine the prompts
        // it meets also come whole, their chunks back to back.
        let open = matches!(w.load, Load::Poisson { .. }) && !out.overloaded;
        let together = open && !self.mixes;
        // On an engine that mixes prompt chunks into its steps: a prompt's attention over its
        // own length beyond what the heavy iteration prices, its full steps, and the spread
        // of a met prompt's time over the lengths (above its length's).
        let mixed = match out.curve {
            Some(curve) if open && self.mixes => Some(Mixed {
                pair_s: curve.pair_s,
                priced_length: ExtraCurve::priced_length(i, prompt_cv2),
                full_s: out.light_s + curve.at(curve.room),
                work_cv2: curve.work_cv2(i, prompt_cv2),
            }),
            _ => None,
        };
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
            equal_slots: self.neuron.is_some(),
            tpot_light_ms: out.light_s * 1e3,
            tpot_heavy_ms: out.heavy_s * 1e3,
            heavy_share: out.share,
            heavy_before: out.before,
            heavy_growth: out.growth,
            prompt_steps: out.chunks,
            prompt_clump: if open { out.chunks.max(1.0) } else { 1.0 },
            prompt_drag_ms: if open { out.slope_s * 1e3 } else { 0.0 },
            prompt_work_cv2: match (prompt_work, mixed) {
                (Some((_, cv2)), _) if together => cv2,
                (_, Some(m)) => m.work_cv2,
                _ => 0.0,
            },
            prompt_pair_ms: mixed.map_or(0.0, |m| m.pair_s * 1e3),
            prompt_priced_tokens: mixed.map_or(i, |m| m.priced_length),
            prompt_full_step_ms: mixed.map_or(0.0, |m| m.full_s * 1e3),
            crowded_extra_ms: if open && self.mixes {
                out.crowd_s * 1e3
            } else {
                0.0
            },
            decode_slope_ms: out.slope_s * 1e3,
            batch_variance: out.batch_var,
            ttft_spread_ms: out.spread_s * 1e3,
            request_overhead_ms: api * 1e3,
            decode_bound: out.decode_bound,
            prefill_bound,
            gpus: self.gpus,
        }
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

/// What an engine that mixes prompt chunks into its steps exports of its prompts' pricing
/// under open-loop arrivals (`Estimate::prompt_pair_ms`, `prompt_priced_tokens`,
/// `prompt_full_step_ms`, `prompt_work_cv2`).
#[derive(Clone, Copy)]
struct Mixed {
    pair_s: f64,
    priced_length: f64,
    full_s: f64,
    work_cv2: f64,
}
