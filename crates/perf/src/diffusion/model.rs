//! Work, time and memory of one diffusion job.

use super::catalog::{Attention, Denoiser, DiffusionModel};
use super::{perr, GIB};
use crate::efficiency::arch_name;
use crate::error::PerfError;
use crate::estimate::pcie_bytes_s;
use crate::step::Bound;
use inferplan_catalog::bounds;
use inferplan_catalog::table::Table;
use inferplan_catalog::{Arch, Dtype, Gpu};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

const EFFICIENCY_CSV: &str = include_str!("../../../../data/perf/diffusion_efficiency.csv");

/// Activation bytes held per latent token per unit of hidden width during one denoiser
/// evaluation (residual stream, a few live projections and the FFN intermediate in 16 bit,
/// with flash attention so nothing is quadratic): 24 bytes × hidden × tokens.
pub const ACTIVATION_BYTES_PER_TOKEN_HIDDEN: f64 = 24.0;
/// VAE decode peak bytes per output pixel per frame decoded at once: a 128-channel 16-bit
/// feature map at full resolution, about three live copies (128 × 2 × 3).
pub const VAE_BYTES_PER_PIXEL: f64 = 768.0;

/// Parameter-weighted token share and spatial and temporal attention coefficients of a UNet,
/// from the catalog (derived from the published layouts: see `unet_token_fraction` in
/// data/models/diffusion/SOURCES.md). SD 1.5: 0.0947, 22.8; SDXL: 0.0765, 8.75; SVD: the SD 1.5
/// layout plus temporal attention, 35.25. The catalog refuses a UNet row without them.
pub fn unet_shape(m: &DiffusionModel) -> (f64, f64, f64) {
    (
        m.unet_token_fraction.unwrap_or(0.0),
        m.unet_attn_coeff.unwrap_or(0.0),
        m.unet_temporal_attn_coeff.unwrap_or(0.0),
    )
}

/// One generation job.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct DiffusionJob {
    /// Output width in pixels.
    pub width: u64,
    /// Output height in pixels.
    pub height: u64,
    /// Frames (1 for images).
    pub frames: u64,
    /// Frames per second of a video (`None` for images).
    pub fps: Option<f64>,
    /// Denoising steps.
    pub steps: u64,
    /// Images or videos generated together.
    pub batch: u64,
    /// Whether an unconditional pass runs (the model's `cfg` by default; off for distilled
    /// variants).
    pub cfg: bool,
}

impl DiffusionJob {
    /// The model's default job (batch 1).
    pub fn default_for(m: &DiffusionModel) -> DiffusionJob {
        DiffusionJob {
            width: m.default_resolution.0,
            height: m.default_resolution.1,
            frames: if m.video {
                m.default_frames.unwrap_or(1)
            } else {
                1
            },
            fps: if m.video { m.default_fps } else { None },
            steps: m.default_steps,
            batch: 1,
            cfg: m.cfg,
        }
    }

    /// Seconds of video of one clip: frames / fps, less the extra first frame of causal video
    /// VAEs (Wan's 81 frames at 16 fps are 5 s).
    pub fn clip_seconds(&self, m: &DiffusionModel) -> Option<f64> {
        let fps = self.fps.filter(|f| *f > 0.0)?;
        let causal = m.vae_temporal.is_some_and(|t| t > 1.0);
        let frames = if causal {
            self.frames.saturating_sub(1).max(1)
        } else {
            self.frames
        };
        Some(frames as f64 / fps)
    }
}

/// A job as a user describes it (`--width`, `[job]` of a workload file); what is not given
/// takes the model's default.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JobSpec {
    /// Output width in pixels.
    #[serde(default)]
    pub width: Option<u64>,
    /// Output height in pixels.
    #[serde(default)]
    pub height: Option<u64>,
    /// Frames of a clip (video models).
    #[serde(default)]
    pub frames: Option<u64>,
    /// Length of a clip in seconds, instead of `frames` (video models).
    #[serde(default)]
    pub seconds: Option<f64>,
    /// Frames per second (video models; default: the model's).
    #[serde(default)]
    pub fps: Option<f64>,
    /// Denoising steps.
    #[serde(default)]
    pub steps: Option<u64>,
    /// Images or clips generated together.
    #[serde(default)]
    pub batch: Option<u64>,
    /// Classifier-free guidance (an unconditional pass per step); `false` for guidance- or
    /// step-distilled variants.
    #[serde(default)]
    pub cfg: Option<bool>,
}

impl JobSpec {
    /// The job on `m`. Errors name the field (`width`, `seconds`, ...).
    pub fn resolve(&self, m: &DiffusionModel) -> Result<DiffusionJob, PerfError> {
        let mut job = DiffusionJob::default_for(m);
        let positive = |field: &'static str, v: Option<u64>, default: u64| match v {
            Some(v) => within(field, bound_of(field), v as f64).map(|_| v),
            None => Ok(default),
        };
        let unit = (m.vae_spatial * m.patch) as u64;
        job.width = positive("width", self.width, job.width)?;
        job.height = positive("height", self.height, job.height)?;
        for (field, v) in [("width", job.width), ("height", job.height)] {
            if v < unit || v > 16_384 {
                return Err(PerfError::refused(
                    field,
                    format!("{v} px is outside {unit}-16384 px for {}", m.name),
                ));
            }
        }
        job.steps = positive("steps", self.steps, job.steps)?;
        job.batch = positive("batch", self.batch, job.batch)?;
        if let Some(cfg) = self.cfg {
            job.cfg = cfg;
        }
        if !m.video {
            for (field, given) in [
                ("frames", self.frames.is_some()),
                ("seconds", self.seconds.is_some()),
                ("fps", self.fps.is_some()),
            ] {
                if given {
                    return Err(PerfError::refused(
                        field,
                        format!("{} makes images, not clips", m.name),
                    ));
                }
            }
            return Ok(job);
        }
        if let Some(fps) = self.fps {
            within("fps", bounds::FPS, fps)?;
            job.fps = Some(fps);
        }
        match (self.frames, self.seconds) {
            (Some(_), Some(_)) => {
                return Err(PerfError::refused(
                    "seconds",
                    "give frames or seconds, not both",
                ))
            }
            (Some(f), None) => job.frames = positive("frames", Some(f), 1)?,
            (None, Some(s)) => {
                let fps = job.fps.ok_or_else(|| {
                    PerfError::refused("fps", format!("{} has no default fps; give one", m.name))
                })?;
                within("seconds", bounds::CLIP_SECONDS, s)?;
                let causal = m.vae_temporal.is_some_and(|t| t > 1.0);
                job.frames = (s * fps).ceil() as u64 + u64::from(causal);
                if job.frames as f64 > bounds::FRAMES.max {
                    return Err(PerfError::refused(
                        "seconds",
                        format!(
                            "{s} s at {fps} frames/s is {} frames, above the {} frames a clip may \
                             have",
                            job.frames,
                            bounds::FRAMES.max
                        ),
                    ));
                }
            }
            (None, None) => {}
        }
        Ok(job)
    }
}

/// The bound of a whole-number job field.
fn bound_of(field: &str) -> bounds::Bound {
    match field {
        "width" | "height" => bounds::PIXELS,
        "steps" => bounds::STEPS,
        "batch" => bounds::BATCH,
        _ => bounds::FRAMES,
    }
}

/// Checks a job value against its bound; the refusal names the field and the range.
fn within(field: &'static str, bound: bounds::Bound, v: f64) -> Result<(), PerfError> {
    bound
        .check(v)
        .map(|_| ())
        .map_err(|m| PerfError::refused(field, m))
}

/// Frames one pass of the model generates: its default clip length, the length it was trained
/// for. Longer clips are made of consecutive segments of at most this many frames, each
/// conditioned on the end of the previous one, as long-video pipelines built on Wan and
/// HunyuanVideo do; attention stays within a segment. Images: 1.
pub fn max_frames_per_pass(m: &DiffusionModel) -> u64 {
    if m.video {
        m.default_frames.unwrap_or(u64::MAX).max(1)
    } else {
        1
    }
}

/// The frames of each pass of a clip of `frames` frames: full segments, then the rest.
pub fn passes(m: &DiffusionModel, frames: u64) -> (u64, u64, u64) {
    let per = max_frames_per_pass(m);
    let frames = frames.max(1);
    (frames / per, per, frames % per)
}

/// FLOP and token counts of a job.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct DiffusionWork {
    /// Passes (segments) of the denoiser per step: 1 unless the clip is longer than the model
    /// generates at once ([`max_frames_per_pass`]).
    pub passes: u64,
    /// Latent frames of the longest pass.
    pub latent_frames: f64,
    /// Tokens (latent positions after patching) of the longest pass of one sample.
    pub tokens: f64,
    /// FLOPs of one denoiser evaluation of the longest pass of one sample.
    pub flops_per_eval: f64,
    /// FLOPs of one denoising step (every pass × CFG × batch).
    pub flops_per_step: f64,
    /// Activation traffic of one denoising step in units of width × tokens (every pass × CFG
    /// × batch); bytes = this × [`DiffusionEfficiency::activation_bytes`].
    pub activation_units_per_step: f64,
    /// Text encoder FLOPs (whole batch).
    pub text_flops: f64,
    /// VAE decode FLOPs (whole batch; overlapping decoder calls count twice).
    pub vae_flops: f64,
    /// Output frames one VAE decoder call holds ([`vae_decode`]).
    pub vae_live_frames: u64,
    /// VAE decoder calls per sample (each reads the VAE weights).
    pub vae_calls: u64,
    /// All FLOPs.
    pub total_flops: f64,
}

/// Latent frames of `frames` output frames.
pub fn latent_frames(m: &DiffusionModel, frames: u64) -> f64 {
    match m.vae_temporal {
        Some(t) if m.video && frames > 1 && t > 1.0 => 1.0 + ((frames - 1) as f64 / t).floor(),
        Some(_) if m.video => frames.max(1) as f64,
        _ => 1.0,
    }
}

/// Self-attention FLOPs of one evaluation over `positions` latent positions per frame and
/// `frames` latent frames, per unit of width (× hidden for the model's FLOPs).
///
/// `Full`: one attention over all `positions × frames` tokens, quadratic in them. Factorised
/// (`SpatialTemporal`): spatial attention within each frame (`positions² × frames`) plus
/// temporal attention across the frames at each position (`positions × frames²`).
fn attention_flops(m: &DiffusionModel, positions: f64, frames: f64) -> f64 {
    let (spatial, temporal) = match m.denoiser {
        // `hidden` is the base channel count; the coefficients already count the blocks.
        Denoiser::Unet => {
            let (_, attn, attn_t) = unet_shape(m);
            (attn, attn_t)
        }
        // QKᵀ and PV (2 × 2 × hidden FLOPs per token pair) in every block.
        Denoiser::Dit | Denoiser::Mmdit => (4.0 * m.layers, 4.0 * m.layers),
    };
    match m.attention {
        Attention::Full => {
            let tokens = positions * frames;
            spatial * tokens * tokens
        }
        Attention::SpatialTemporal => {
            spatial * positions * positions * frames + temporal * positions * frames * frames
        }
    }
}

/// Activation traffic of one evaluation over `tokens` tokens, in units of width × tokens
/// (bytes = units × [`DiffusionEfficiency::activation_bytes`]): every block reads and writes
/// its activations (norms, residual adds, activation functions, attention inputs and outputs)
/// once or a few times, about in proportion to its width and tokens. UNets: the catalog's
/// `unet_activation_coeff` × base channels × tokens; DiTs: layers × hidden × tokens.
fn activation_units(m: &DiffusionModel, tokens: f64) -> f64 {
    let per_token = match m.denoiser {
        Denoiser::Unet => m.unet_activation_coeff.unwrap_or(0.0),
        Denoiser::Dit | Denoiser::Mmdit => m.layers,
    };
    per_token * m.hidden * tokens
}

/// Tokens and FLOPs of one denoiser evaluation of a pass of `frames` frames.
fn pass_work(m: &DiffusionModel, width: u64, height: u64, frames: u64) -> (f64, f64, f64) {
    let lf = latent_frames(m, frames);
    let lw = (width as f64 / m.vae_spatial).floor();
    let lh = (height as f64 / m.vae_spatial).floor();
    let positions = lw * lh / (m.patch * m.patch);
    let token_frames = lf / m.patch_t;
    let tokens = positions * token_frames;
    let share = match m.denoiser {
        Denoiser::Unet => unet_shape(m).0,
        Denoiser::Dit | Denoiser::Mmdit => 1.0,
    };
    let flops = 2.0 * m.denoiser_params * tokens * share
        + attention_flops(m, positions, token_frames) * m.hidden;
    (lf, tokens, flops)
}

/// How the VAE decodes a clip: output frames live in one decoder call, decoder calls, and
/// frames decoded (more than the clip's when calls overlap).
///
/// The catalog's `vae_decode_chunk_frames` is what the pipeline decodes at once by default
/// (diffusers' `decode_chunk_size` and its VAEs' frame-wise decoding); without it, all frames
/// of one pass ([`max_frames_per_pass`]) at once. Each pass is decoded on its own. Images: one
/// call per batch.
pub fn vae_decode(m: &DiffusionModel, frames: u64) -> (u64, u64, f64) {
    if !m.video {
        return (1, 1, 1.0);
    }
    let (full, per, rest) = passes(m, frames);
    let chunk = m.vae_decode_chunk_frames.unwrap_or(per).clamp(1, per);
    let stride = m.vae_decode_stride_frames.unwrap_or(chunk).clamp(1, chunk);
    let one = |f: u64| -> (u64, f64) {
        if f <= chunk {
            (1, f as f64)
        } else {
            (f.div_ceil(stride), f as f64 * chunk as f64 / stride as f64)
        }
    };
    let (calls_full, decoded_full) = one(per);
    let (calls_rest, decoded_rest) = if rest > 0 { one(rest) } else { (0, 0.0) };
    let longest = if full > 0 { per } else { rest };
    (
        chunk.min(longest),
        full * calls_full + calls_rest,
        full as f64 * decoded_full + decoded_rest,
    )
}

/// Token and FLOP counts of `job` on `m`.
pub fn work(m: &DiffusionModel, job: &DiffusionJob) -> DiffusionWork {
    let (full, per, rest) = passes(m, job.frames);
    let frames_longest = if full > 0 { per } else { rest };
    let (lf, tokens, flops_per_eval) = pass_work(m, job.width, job.height, frames_longest);
    let mut flops_all_passes = full as f64 * flops_per_eval;
    if full > 0 && rest > 0 {
        flops_all_passes += pass_work(m, job.width, job.height, rest).2;
    } else if full == 0 {
        flops_all_passes = flops_per_eval;
    }
    let batch = job.batch.max(1) as f64;
    let evals = if job.cfg { 2.0 } else { 1.0 };
    let flops_per_step = flops_all_passes * evals * batch;
    let tokens_all_passes = if full > 0 {
        full as f64 * tokens
            + if rest > 0 {
                pass_work(m, job.width, job.height, rest).1
            } else {
                0.0
            }
    } else {
        tokens
    };
    let activation_units_per_step = activation_units(m, tokens_all_passes) * evals * batch;
    let text_flops = 2.0 * m.text_encoder_params * m.text_tokens() * batch;
    let (vae_live_frames, vae_calls, decoded) = vae_decode(m, job.frames);
    let vae_flops = 2.0 * m.vae_params * (job.width * job.height) as f64 * decoded / 16.0 * batch;
    DiffusionWork {
        passes: full + u64::from(rest > 0),
        latent_frames: lf,
        tokens,
        flops_per_eval,
        flops_per_step,
        activation_units_per_step,
        text_flops,
        vae_flops,
        vae_live_frames,
        vae_calls,
        total_flops: job.steps as f64 * flops_per_step + text_flops + vae_flops,
    }
}

/// Fitted efficiencies of the diffusion model.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct DiffusionEfficiency {
    /// Share of the measured large-GEMM rate ([`gemm_ceiling`] × the dense tensor peak)
    /// reached.
    pub compute: f64,
    /// Share of the memory bandwidth reached (weight streaming floor).
    pub bandwidth: f64,
    /// Fixed time per denoising step, ms.
    pub step_overhead_ms: f64,
    /// Bytes of activation traffic per unit of width × tokens (see `activation_units`), read
    /// and written at the memory bandwidth besides the math: what makes small-width,
    /// high-resolution UNet levels slow on GPUs with little bandwidth per FLOP.
    pub activation_bytes: f64,
    /// Share of [`Self::activation_bytes`] a compiling engine still moves
    /// ([`Execution::Compiled`]: `torch.compile`, ONNX Runtime, OneFlow, stable-fast fuse
    /// elementwise ops (norms, activation functions, residual adds) into neighbouring kernels,
    /// so fewer intermediate tensors reach memory).
    pub compiled_activation_share: f64,
    /// Share of [`Self::activation_bytes`] a TensorRT engine still moves
    /// ([`Execution::TensorRt`]: built ahead of time for static shapes, with fused
    /// convolution + bias + activation, GroupNorm and attention kernels).
    pub tensorrt_activation_share: f64,
    /// CPU time to dispatch one denoising step of an eager pipeline
    /// ([`Execution::Eager`]), ms: PyTorch launches each of a UNet's ~2,000 kernels from
    /// Python, so a small step cannot run faster than its launches however fast the GPU is.
    pub eager_dispatch_ms: f64,
}

/// How a pipeline runs its kernels: the software half of a step's time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Execution {
    /// Eager PyTorch (diffusers, ComfyUI, LightX2V): every op is its own kernel, launched
    /// from Python; intermediates go through memory and a step is bounded by its dispatch.
    Eager,
    /// A compiler or graph runtime over PyTorch-style kernels (`torch.compile`, ONNX Runtime,
    /// OneFlow, stable-fast): elementwise ops fused, launches from C++ or CUDA graphs.
    Compiled,
    /// A TensorRT engine (alone, under ONNX Runtime's TensorRT provider, or NVIDIA's MLPerf
    /// harness).
    TensorRt,
}

impl Execution {
    /// The execution an engine name describes: TensorRT when it names it, compiled for the
    /// other compilers and graph runtimes (`no compile` stays eager), eager otherwise.
    pub fn of_engine(engine: &str) -> Execution {
        let e = engine.to_ascii_lowercase();
        if e.contains("tensorrt") {
            Execution::TensorRt
        } else if (e.contains("compile") && !e.contains("no compile"))
            || ["onnxruntime", "oneflow", "stable fast", "stable-fast"]
                .iter()
                .any(|k| e.contains(k))
        {
            Execution::Compiled
        } else {
            Execution::Eager
        }
    }
}

/// The fitted efficiencies: a global row (`arch = *`) and rows for GPU architectures with
/// enough measured rows, each pulled towards the global one (see [`super::fit_efficiencies`]).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DiffusionEfficiencies {
    /// For every architecture without a row of its own.
    pub global: DiffusionEfficiency,
    /// By architecture name (`ampere`, `hopper`, ...).
    pub by_arch: BTreeMap<String, DiffusionEfficiency>,
}

impl DiffusionEfficiencies {
    /// The fitted figures of `data/perf/diffusion_efficiency.csv`.
    pub fn embedded() -> &'static DiffusionEfficiencies {
        static E: std::sync::OnceLock<DiffusionEfficiencies> = std::sync::OnceLock::new();
        E.get_or_init(|| {
            Self::parse(EFFICIENCY_CSV, "data/perf/diffusion_efficiency.csv")
                .expect("embedded diffusion efficiency parses")
        })
    }

    /// Reads a `diffusion_efficiency.csv`: `arch,compute_efficiency,bandwidth_efficiency,
    /// step_overhead_ms,...`, one `*` row and any architecture rows.
    pub fn parse(text: &str, origin: &str) -> Result<DiffusionEfficiencies, PerfError> {
        let t = Table::parse(text, origin).map_err(|e| perr(origin, e.to_string()))?;
        let mut global = None;
        let mut by_arch = BTreeMap::new();
        for r in t.rows() {
            let f = |c: &str| {
                r.req_f64(c)
                    .map_err(|e| perr(origin, format!("line {}: column `{c}`: {e}", r.line())))
            };
            let opt = |c: &str, default: f64| {
                r.f64(c)
                    .map(|v| v.unwrap_or(default))
                    .map_err(|e| perr(origin, format!("line {}: column `{c}`: {e}", r.line())))
            };
            let e = DiffusionEfficiency {
                compute: f("compute_efficiency")?,
                bandwidth: f("bandwidth_efficiency")?,
                step_overhead_ms: f("step_overhead_ms")?,
                activation_bytes: f("activation_bytes")?,
                // Files written before the execution terms: neutral (every engine eager
                // without a dispatch bound, fused engines moving all activations).
                compiled_activation_share: opt("compiled_activation_share", 1.0)?,
                tensorrt_activation_share: opt("tensorrt_activation_share", 1.0)?,
                eager_dispatch_ms: opt("eager_dispatch_ms", 0.0)?,
            };
            match r.get("arch").unwrap_or("*") {
                "*" => global = Some(e),
                a => {
                    by_arch.insert(a.to_owned(), e);
                }
            }
        }
        Ok(DiffusionEfficiencies {
            global: global.ok_or_else(|| perr(origin, "no `*` row".to_owned()))?,
            by_arch,
        })
    }

    /// The efficiencies for a GPU architecture.
    pub fn lookup(&self, arch: Arch) -> DiffusionEfficiency {
        self.by_arch
            .get(&arch_name(arch))
            .copied()
            .unwrap_or(self.global)
    }
}

/// Where the weights live while a job runs. Offloading trades PCIe transfers for memory: it is
/// what lets a model bigger than the GPU run at all, and what makes it slow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Offload {
    /// Every component resident on the GPU.
    None,
    /// One component on the GPU at a time (diffusers `enable_model_cpu_offload`): text
    /// encoders, then the denoiser, then the VAE, each moved over PCIe once per job.
    Model,
    /// Denoiser blocks streamed from host memory during every evaluation (diffusers
    /// `enable_sequential_cpu_offload`, block offload in LightX2V): only one block and the
    /// activations are resident.
    Sequential,
}

impl Offload {
    /// All modes, least offloading first.
    pub const ALL: [Offload; 3] = [Offload::None, Offload::Model, Offload::Sequential];

    /// Lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            Offload::None => "none",
            Offload::Model => "model",
            Offload::Sequential => "sequential",
        }
    }
}

/// Share of the PCIe x16 peak a host-to-device copy of weights reaches. An assumption: pinned
/// copies measure about 80 % of the link peak (CUDA `bandwidthTest` on gen4 x16: ~25 of
/// 32 GB/s); pageable copies are slower, so offloaded runs may be slower than predicted.
pub const PCIE_COPY_EFFICIENCY: f64 = 0.8;

/// Bytes per parameter of each component for `dtype`: the denoiser in `dtype`, text encoders
/// and VAE in 16 bit (quantized pipelines usually quantize the denoiser only).
fn component_bytes(m: &DiffusionModel, dtype: Dtype) -> (f64, f64, f64) {
    (
        m.denoiser_params * dtype.bytes(),
        m.text_encoder_params * 2.0,
        m.vae_params * 2.0,
    )
}

/// Predicted time of a job.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct DiffusionTime {
    /// One denoising step (all CFG passes, whole batch), s.
    pub step_s: f64,
    /// Text encoding, s.
    pub text_s: f64,
    /// VAE decode, s.
    pub vae_s: f64,
    /// Weight transfers over PCIe for offloading (0 without), s; included in the others.
    pub offload_s: f64,
    /// What limits a denoising step: compute, or reading the weights from memory.
    pub bound: Bound,
    /// End to end, s.
    pub e2e_s: f64,
}

/// Peak dense TFLOPS for math in `dtype` (BF16 falls back to FP16 and back).
pub fn peak_tflops(gpu: &Gpu, dtype: Dtype) -> Option<f64> {
    match dtype {
        Dtype::Fp8 => gpu
            .tflops(Dtype::Fp8)
            .or_else(|| peak_tflops(gpu, Dtype::Bf16)),
        Dtype::Fp16 => gpu.tflops(Dtype::Fp16).or(gpu.tflops(Dtype::Bf16)),
        _ => gpu.tflops(Dtype::Bf16).or(gpu.tflops(Dtype::Fp16)),
    }
}

/// The share of the dense peak that large GEMMs reach on `gpu` in `dtype`'s math format, from
/// the kernel curves fitted to measured GEMMs (`data/perf/kernel_curves.csv`, the `compute` of
/// its `gemm` curve: 0.856 on an A100, 0.806 on an H100 in BF16). A denoiser's math runs at
/// most this fast; the fitted diffusion compute efficiency is a share of it. GPUs without a
/// curve for the format take the median over the GPUs that have one.
pub fn gemm_ceiling(gpu: &Gpu, dtype: Dtype) -> f64 {
    static MEDIANS: std::sync::OnceLock<BTreeMap<String, f64>> = std::sync::OnceLock::new();
    let math = match dtype {
        Dtype::Fp8 => Dtype::Fp8,
        _ => Dtype::Bf16,
    };
    let Ok(curves) = crate::kernels::CurveSet::embedded() else {
        return 1.0;
    };
    let gemm = |e: &&crate::kernels::Entry| e.op == crate::kernels::Op::Gemm && e.gpus == 1;
    if let Some(e) = curves
        .entries
        .iter()
        .filter(gemm)
        .find(|e| e.gpu == gpu.name && e.dtype == math)
    {
        return e.curve.compute;
    }
    let medians = MEDIANS.get_or_init(|| {
        let mut by: BTreeMap<String, Vec<f64>> = BTreeMap::new();
        for e in curves.entries.iter().filter(gemm) {
            by.entry(format!("{:?}", e.dtype))
                .or_default()
                .push(e.curve.compute);
        }
        by.into_iter()
            .map(|(k, mut v)| {
                v.sort_by(f64::total_cmp);
                (
                    k,
                    inferplan_catalog::stats::median_sorted(&v).unwrap_or(1.0),
                )
            })
            .collect()
    });
    medians
        .get(&format!("{math:?}"))
        .or_else(|| medians.get(&format!("{:?}", Dtype::Bf16)))
        .copied()
        .unwrap_or(1.0)
}

/// Time of `job` on one `gpu` with the denoiser in `dtype` and weights placed as `offload`
/// says; `None` when the GPU's peak or bandwidth is not published.
///
/// Each phase takes max(FLOPs / compute rate, resident weight bytes / memory bandwidth).
/// `Model` offload adds one PCIe copy of every component per job; `Sequential` adds a copy
/// of the denoiser per evaluation, not overlapped with compute (diffusers' hooks are
/// synchronous).
pub fn time(
    m: &DiffusionModel,
    job: &DiffusionJob,
    gpu: &Gpu,
    dtype: Dtype,
    offload: Offload,
    e: &DiffusionEfficiency,
) -> Option<DiffusionTime> {
    time_of(
        m,
        job,
        &work(m, job),
        gpu,
        dtype,
        offload,
        Execution::Eager,
        e,
    )
}

/// [`time`] of a job whose [`work`] is already counted (the fit predicts the same rows many
/// times), run as `execution` says: an eager step takes at least its dispatch time, a
/// compiled or TensorRT one moves its share of the activation traffic.
#[allow(clippy::too_many_arguments)]
pub fn time_of(
    m: &DiffusionModel,
    job: &DiffusionJob,
    w: &DiffusionWork,
    gpu: &Gpu,
    dtype: Dtype,
    offload: Offload,
    execution: Execution,
    e: &DiffusionEfficiency,
) -> Option<DiffusionTime> {
    let flops_s = peak_tflops(gpu, dtype)? * 1e12 * gemm_ceiling(gpu, dtype) * e.compute;
    let bytes_s = gpu.mem_bandwidth_gbs? * 1e9 * e.bandwidth;
    let pcie_s = pcie_bytes_s(gpu) * PCIE_COPY_EFFICIENCY;
    let (den, text, vae) = component_bytes(m, dtype);
    let evals = if job.cfg { 2.0 } else { 1.0 };
    let passes = w.passes as f64;
    let stream = match offload {
        Offload::Sequential => den * evals * passes / pcie_s,
        _ => 0.0,
    };
    let (activation_bytes, dispatch_s) = match execution {
        Execution::Eager => (e.activation_bytes, e.eager_dispatch_ms / 1e3 * passes),
        Execution::Compiled => (e.activation_bytes * e.compiled_activation_share, 0.0),
        Execution::TensorRt => (e.activation_bytes * e.tensorrt_activation_share, 0.0),
    };
    let (compute_s, read_s) = (
        w.flops_per_step / flops_s + w.activation_units_per_step * activation_bytes / bytes_s,
        den * evals * passes / bytes_s,
    );
    let gpu_step_s = compute_s.max(read_s) + e.step_overhead_ms / 1e3 * passes;
    let step_s = gpu_step_s.max(dispatch_s) + stream;
    let text_s = (w.text_flops / flops_s).max(text / bytes_s);
    let vae_s = (w.vae_flops / flops_s).max(w.vae_calls as f64 * vae / bytes_s);
    let moves = match offload {
        Offload::None => 0.0,
        Offload::Model => (den + text + vae) / pcie_s,
        Offload::Sequential => (text + vae) / pcie_s,
    };
    let steps = job.steps as f64;
    Some(DiffusionTime {
        step_s,
        text_s,
        vae_s,
        offload_s: moves + steps * stream,
        bound: if compute_s >= read_s {
            Bound::Compute
        } else {
            Bound::MemoryBandwidth
        },
        e2e_s: steps * step_s + text_s + vae_s + moves,
    })
}

/// GPU memory of a job.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct DiffusionMemory {
    /// Where the weights live.
    pub offload: Offload,
    /// Weights of denoiser, text encoders and VAE, GiB.
    pub weights_gib: f64,
    /// Weights on the GPU at the peak, GiB.
    pub resident_weights_gib: f64,
    /// Denoiser activations (flash attention: linear in tokens), GiB.
    pub activations_gib: f64,
    /// VAE decode peak, GiB.
    pub vae_decode_gib: f64,
    /// CUDA context, library workspaces and allocator slack, GiB.
    pub runtime_gib: f64,
    /// The peak: runtime plus the largest phase (resident weights and transients), GiB.
    pub total_gib: f64,
}

impl DiffusionMemory {
    /// Whether it fits in `gpu_mem_gib`.
    pub fn fits(&self, gpu_mem_gib: f64) -> bool {
        self.total_gib <= gpu_mem_gib
    }

    /// Weights kept in host memory while a job runs (offloaded), GiB.
    pub fn offloaded_gib(&self) -> f64 {
        (self.weights_gib - self.resident_weights_gib).max(0.0)
    }

    /// Host memory of the worker process while a job runs, GiB: the offloaded weights plus
    /// [`HOST_RUNTIME_GIB`].
    pub fn host_gib(&self) -> f64 {
        self.offloaded_gib() + HOST_RUNTIME_GIB
    }
}

/// Host memory of a diffusion worker process besides offloaded weights, GiB: the Python
/// interpreter, the PyTorch and CUDA libraries and the pinned staging buffers of offloading.
/// An assumption (a CUDA PyTorch process holds a few GiB before any weights; no measurement
/// in the data).
pub const HOST_RUNTIME_GIB: f64 = 4.0;

/// CUDA context, cuBLAS/cuDNN workspaces and allocator slack of a PyTorch pipeline, GiB. An
/// assumption (no measurement in the data separates it).
pub const RUNTIME_GIB: f64 = 1.0;

/// Memory of `job` with the denoiser in `dtype` and weights placed as `offload` says.
///
/// Activations: [`ACTIVATION_BYTES_PER_TOKEN_HIDDEN`] × hidden × tokens × batch × CFG passes
/// (UNets: at base width over the full-resolution tokens). VAE decode: [`VAE_BYTES_PER_PIXEL`]
/// × pixels × frames one decoder call holds ([`vae_decode`]: the pipeline's default chunk, at
/// most one pass's frames) × batch. Denoising and decoding do not overlap. Peak over the
/// phases (text encoding, denoising, decoding) of the weights resident in that phase plus its
/// transient: without offloading all weights stay; `Model` keeps one component; `Sequential`
/// one denoiser block (denoiser / layers).
pub fn memory(
    m: &DiffusionModel,
    job: &DiffusionJob,
    dtype: Dtype,
    offload: Offload,
) -> DiffusionMemory {
    let w = work(m, job);
    let batch = job.batch.max(1) as f64;
    let evals = if job.cfg { 2.0 } else { 1.0 };
    let act = ACTIVATION_BYTES_PER_TOKEN_HIDDEN * m.hidden * w.tokens * batch * evals;
    let vae_peak =
        VAE_BYTES_PER_PIXEL * (job.width * job.height) as f64 * w.vae_live_frames as f64 * batch;
    let (den, text, vae) = component_bytes(m, dtype);
    let (resident, phase_peak) = match offload {
        Offload::None => {
            let all = den + text + vae;
            (all, all + act.max(vae_peak))
        }
        Offload::Model => (
            den.max(text).max(vae),
            text.max(den + act).max(vae + vae_peak),
        ),
        Offload::Sequential => {
            let block = den / m.layers.max(1.0);
            let text_block = text / 24.0;
            (
                block.max(vae),
                text_block.max(block + act).max(vae + vae_peak),
            )
        }
    };
    DiffusionMemory {
        offload,
        weights_gib: (den + text + vae) / GIB,
        resident_weights_gib: resident / GIB,
        activations_gib: act / GIB,
        vae_decode_gib: vae_peak / GIB,
        runtime_gib: RUNTIME_GIB,
        total_gib: RUNTIME_GIB + phase_peak / GIB,
    }
}

/// The least offloading with which `job` fits in `gpu_mem_gib`, and its memory; `None` when
/// it does not fit even streaming the denoiser.
pub fn fit(
    m: &DiffusionModel,
    job: &DiffusionJob,
    dtype: Dtype,
    gpu_mem_gib: f64,
) -> Option<DiffusionMemory> {
    Offload::ALL
        .into_iter()
        .map(|o| memory(m, job, dtype, o))
        .find(|mem| mem.fits(gpu_mem_gib))
}
