//! A first performance and memory model for image and video diffusion (issue 7), and its
//! validation against `shared/data/measured/diffusion_latency.csv`.
//!
//! Work of one job (`width × height`, `frames`, `steps`, `batch`):
//!
//! - latent tokens = (W / vae_spatial) × (H / vae_spatial) × latent_frames / (patch² × patch_t),
//!   latent_frames = 1 + (frames − 1) / vae_temporal for video VAEs, 1 for images;
//! - one denoiser evaluation, DiT/MMDiT: 2 × params × tokens + 4 × layers × hidden × tokens²
//!   (QKᵀ and PV over the full sequence; text tokens and cross-attention are left out);
//! - one denoiser evaluation, UNet: params are spread over resolution levels, so
//!   2 × params × tokens × `token_fraction` + `attn_coeff` × hidden × tokens², with both
//!   constants derived from the published UNet layout (see [`unet_shape`]), not fitted;
//! - × 2 evaluations per step with classifier-free guidance (`cfg = yes`), × batch;
//! - text encoders: 2 × params × 77 tokens (CLIP only) or 512 (T5 / UMT5 / LLM encoders);
//! - VAE decode: 2 × vae_params × pixels × frames / 16 (one parameter-MAC per 16 output pixels:
//!   the SD KL-f8 decoder is about 1.3 TMAC at 512², which this reproduces).
//!
//! Time of a phase = max(FLOPs / (peak × compute efficiency), weight bytes / (bandwidth ×
//! bandwidth efficiency)); each denoising step adds a fixed overhead. Peak is the GPU's dense
//! BF16 tensor figure (FP16 where BF16 is not published, FP8 when the row runs FP8). The
//! efficiencies live in `data/perf/diffusion_efficiency.csv`, fitted by [`fit_efficiency`].

use crate::error::PerfError;
use crate::measured::Family;
use crate::validation::{ape, stats, stats_by, tally_skipped, ErrorStats};
use inferplan_catalog::names::key;
use inferplan_catalog::prices::median_sorted;
use inferplan_catalog::table::{Row, Table};
use inferplan_catalog::{Catalog, Dtype, Gpu};
use serde::Serialize;
use std::collections::BTreeMap;

const MODELS_CSV: &str = include_str!("../../../data/models/diffusion/diffusion_models.csv");
const EFFICIENCY_CSV: &str = include_str!("../../../data/perf/diffusion_efficiency.csv");

const GIB: f64 = 1024.0 * 1024.0 * 1024.0;

/// Activation bytes held per latent token per unit of hidden width during one denoiser
/// evaluation (residual stream, a few live projections and the FFN intermediate in 16 bit,
/// with flash attention so nothing is quadratic): 24 bytes × hidden × tokens.
pub const ACTIVATION_BYTES_PER_TOKEN_HIDDEN: f64 = 24.0;
/// VAE decode peak bytes per output pixel per frame decoded at once: a 128-channel 16-bit
/// feature map at full resolution, about three live copies (128 × 2 × 3).
pub const VAE_BYTES_PER_PIXEL: f64 = 768.0;
/// Text tokens for CLIP-only pipelines.
pub const CLIP_TOKENS: f64 = 77.0;
/// Text tokens for pipelines with a T5, UMT5 or LLM text encoder.
pub const LONG_TEXT_TOKENS: f64 = 512.0;

/// Denoiser family.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Denoiser {
    /// Convolutional UNet with transformer blocks (SD 1.5, SDXL, SVD).
    Unet,
    /// Diffusion transformer (Wan).
    Dit,
    /// Multimodal DiT (SD3, FLUX, HunyuanVideo, Qwen-Image).
    Mmdit,
}

/// One diffusion model of `data/models/diffusion/diffusion_models.csv`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DiffusionModel {
    /// Catalog name.
    pub name: String,
    /// Hugging Face id.
    pub hf_id: String,
    /// Other names.
    pub aliases: Vec<String>,
    /// True for video models.
    pub video: bool,
    /// Denoiser family.
    pub denoiser: Denoiser,
    /// Denoiser parameters.
    pub denoiser_params: f64,
    /// Transformer width (UNets: base channels).
    pub hidden: f64,
    /// Transformer blocks.
    pub layers: f64,
    /// Spatial patch on the latent (1 for UNets).
    pub patch: f64,
    /// Temporal patch (1 when absent).
    pub patch_t: f64,
    /// VAE spatial compression.
    pub vae_spatial: f64,
    /// VAE temporal compression (video VAEs), `None` for images.
    pub vae_temporal: Option<f64>,
    /// VAE parameters.
    pub vae_params: f64,
    /// Text encoder names.
    pub text_encoders: String,
    /// Text encoder parameters (sum).
    pub text_encoder_params: f64,
    /// Default steps.
    pub default_steps: u64,
    /// Default (width, height).
    pub default_resolution: (u64, u64),
    /// Default frames (video).
    pub default_frames: Option<u64>,
    /// Default frames per second (video).
    pub default_fps: Option<f64>,
    /// Classifier-free guidance with a separate unconditional evaluation.
    pub cfg: bool,
}

fn perr(origin: &str, message: impl Into<String>) -> PerfError {
    PerfError::Params {
        origin: origin.to_owned(),
        message: message.into(),
    }
}

fn parse_resolution(s: &str) -> Option<(u64, u64)> {
    let s = s.trim();
    let l = s.to_ascii_lowercase();
    if l.starts_with("480p") {
        return Some((832, 480));
    }
    if l.starts_with("720p") {
        return Some((1280, 720));
    }
    if l.starts_with("1080p") {
        return Some((1920, 1080));
    }
    let head = s.split_whitespace().next()?;
    let (w, h) = head.split_once(['x', 'X', '*'])?;
    Some((w.parse().ok()?, h.parse().ok()?))
}

impl DiffusionModel {
    fn from_row(r: &Row<'_>) -> Result<DiffusionModel, PerfError> {
        let origin = r.origin().to_owned();
        let e = |c: &str| perr(&origin, format!("line {}: column `{c}`", r.line()));
        let f = |c: &str| r.f64(c).map_err(|_| e(c));
        let denoiser = match r.get("denoiser_type").unwrap_or_default() {
            "unet" => Denoiser::Unet,
            "dit" => Denoiser::Dit,
            "mmdit" => Denoiser::Mmdit,
            _ => return Err(e("denoiser_type")),
        };
        Ok(DiffusionModel {
            name: r.req("name").map_err(|_| e("name"))?.to_owned(),
            hf_id: r.get("hf_id").unwrap_or_default().to_owned(),
            aliases: r
                .get("aliases")
                .unwrap_or_default()
                .split(';')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect(),
            video: r.get("kind") == Some("video"),
            denoiser,
            denoiser_params: f("denoiser_params_b")?.ok_or_else(|| e("denoiser_params_b"))? * 1e9,
            hidden: f("denoiser_hidden")?.unwrap_or(0.0),
            layers: f("denoiser_layers")?.unwrap_or(0.0),
            patch: f("patch_size")?.unwrap_or(1.0),
            patch_t: f("patch_size_t")?.unwrap_or(1.0),
            vae_spatial: f("vae_spatial_compression")?.unwrap_or(8.0),
            vae_temporal: f("vae_temporal_compression")?,
            vae_params: f("vae_params_m")?.unwrap_or(0.0) * 1e6,
            text_encoders: r.get("text_encoders").unwrap_or_default().to_owned(),
            text_encoder_params: f("text_encoder_params_b")?.unwrap_or(0.0) * 1e9,
            default_steps: f("default_steps")?.unwrap_or(50.0) as u64,
            default_resolution: parse_resolution(r.get("default_resolution").unwrap_or_default())
                .unwrap_or((1024, 1024)),
            default_frames: f("default_frames")?.map(|v| v as u64),
            default_fps: f("default_fps")?,
            cfg: r.get("cfg") == Some("yes"),
        })
    }

    /// Weight bytes of denoiser, text encoders and VAE at `bytes_per_param`.
    pub fn weight_bytes(&self, bytes_per_param: f64) -> f64 {
        (self.denoiser_params + self.text_encoder_params + self.vae_params) * bytes_per_param
    }

    /// Text tokens the encoders see.
    pub fn text_tokens(&self) -> f64 {
        let l = self.text_encoders.to_ascii_lowercase();
        if l.contains("t5") || l.contains("llama") || l.contains("qwen") {
            LONG_TEXT_TOKENS
        } else {
            CLIP_TOKENS
        }
    }
}

/// Parameter-weighted token share and attention coefficient of a UNet, from its published
/// layout (channel_mult, transformer depth, 2 res blocks down / 3 up per level).
///
/// Each res block or transformer block counts as about 18 c² parameters at its level's width
/// c; a level at depth l sees tokens / 4^l. `token_fraction` = Σ params_l / 4^l / Σ params_l.
/// `attn_coeff` = Σ 4 × blocks_l × mult_l / 16^l (self-attention QKᵀ and PV at width
/// 320 × mult_l over tokens / 4^l). SD 1.5 (mult 1,2,4,4, one transformer block per res block
/// on the first three levels) gives 0.0947 and 22.8; SDXL (mult 1,2,4, transformer depth
/// 0,2,10 plus a 10-deep mid block) gives 0.0765 and 8.75. Unknown UNets use the SD 1.5
/// share and no attention term (params only).
pub fn unet_shape(m: &DiffusionModel) -> (f64, f64) {
    let k = key(&m.name);
    if k.contains("xl") {
        (0.0765, 8.75)
    } else if k.contains("stablediffusion15") || k.contains("sd15") {
        (0.0947, 22.8)
    } else if k.contains("videodiffusion") {
        // SVD: SD 1.5 layout with a temporal block next to every spatial one; temporal
        // attention is over frames only, so its cost is left out.
        (0.0947, 22.8)
    } else {
        (0.0947, 0.0)
    }
}

/// The embedded diffusion model catalog.
#[derive(Debug, Clone)]
pub struct DiffusionCatalog {
    models: Vec<DiffusionModel>,
    index: BTreeMap<String, usize>,
}

impl DiffusionCatalog {
    /// Parses a `diffusion_models.csv`.
    pub fn parse(text: &str, origin: &str) -> Result<DiffusionCatalog, PerfError> {
        let t = Table::parse(text, origin).map_err(|e| perr(origin, e.to_string()))?;
        let mut models = Vec::new();
        let mut index = BTreeMap::new();
        for r in t.rows() {
            let m = DiffusionModel::from_row(&r)?;
            let i = models.len();
            let mut names = vec![m.name.clone(), m.hf_id.clone()];
            names.extend(m.aliases.iter().cloned());
            if let Some(repo) = m.hf_id.rsplit('/').next() {
                names.push(repo.to_owned());
            }
            for n in names {
                let k = key(&n);
                if !k.is_empty() {
                    index.entry(k).or_insert(i);
                }
            }
            models.push(m);
        }
        Ok(DiffusionCatalog { models, index })
    }

    /// The catalog built into the binary.
    pub fn embedded() -> &'static DiffusionCatalog {
        static CAT: std::sync::OnceLock<DiffusionCatalog> = std::sync::OnceLock::new();
        CAT.get_or_init(|| {
            DiffusionCatalog::parse(MODELS_CSV, "data/models/diffusion/diffusion_models.csv")
                .expect("embedded diffusion catalog parses")
        })
    }

    /// All models.
    pub fn models(&self) -> &[DiffusionModel] {
        &self.models
    }

    /// Looks a model up by name, Hugging Face id or alias (case and punctuation ignored); a
    /// trailing parenthesis such as `(image-to-video)` is tried without it too.
    pub fn model(&self, name: &str) -> Option<&DiffusionModel> {
        let try_one = |s: &str| self.index.get(&key(s)).map(|&i| &self.models[i]);
        try_one(name).or_else(|| {
            let base = name.split_once(" (").map(|(b, _)| b)?;
            try_one(base)
        })
    }
}

/// Looks a diffusion model up in the embedded catalog.
pub fn diffusion_model(name: &str) -> Option<&'static DiffusionModel> {
    DiffusionCatalog::embedded().model(name)
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
            steps: m.default_steps,
            batch: 1,
            cfg: m.cfg,
        }
    }
}

/// FLOP and token counts of a job.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct DiffusionWork {
    /// Latent frames.
    pub latent_frames: f64,
    /// Tokens (latent positions after patching) of one sample.
    pub tokens: f64,
    /// FLOPs of one denoiser evaluation of one sample.
    pub flops_per_eval: f64,
    /// FLOPs of one denoising step (× CFG × batch).
    pub flops_per_step: f64,
    /// Text encoder FLOPs (whole batch).
    pub text_flops: f64,
    /// VAE decode FLOPs (whole batch).
    pub vae_flops: f64,
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

/// Token and FLOP counts of `job` on `m`.
pub fn work(m: &DiffusionModel, job: &DiffusionJob) -> DiffusionWork {
    let lf = latent_frames(m, job.frames);
    let lw = (job.width as f64 / m.vae_spatial).floor();
    let lh = (job.height as f64 / m.vae_spatial).floor();
    let tokens = lw * lh * lf / (m.patch * m.patch * m.patch_t);
    let flops_per_eval = match m.denoiser {
        Denoiser::Unet => {
            let (share, attn) = unet_shape(m);
            // For UNets `hidden` is the base channel count; `attn` already counts the blocks.
            2.0 * m.denoiser_params * tokens * share + attn * m.hidden * tokens * tokens
        }
        Denoiser::Dit | Denoiser::Mmdit => {
            2.0 * m.denoiser_params * tokens + 4.0 * m.layers * m.hidden * tokens * tokens
        }
    };
    let batch = job.batch.max(1) as f64;
    let evals = if job.cfg { 2.0 } else { 1.0 };
    let flops_per_step = flops_per_eval * evals * batch;
    let text_flops = 2.0 * m.text_encoder_params * m.text_tokens() * batch;
    let pixels = (job.width * job.height) as f64 * job.frames.max(1) as f64;
    let vae_flops = 2.0 * m.vae_params * pixels / 16.0 * batch;
    DiffusionWork {
        latent_frames: lf,
        tokens,
        flops_per_eval,
        flops_per_step,
        text_flops,
        vae_flops,
        total_flops: job.steps as f64 * flops_per_step + text_flops + vae_flops,
    }
}

/// Fitted efficiencies of the diffusion model.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct DiffusionEfficiency {
    /// Share of the dense tensor peak reached.
    pub compute: f64,
    /// Share of the memory bandwidth reached (weight streaming floor).
    pub bandwidth: f64,
    /// Fixed time per denoising step, ms.
    pub step_overhead_ms: f64,
}

impl DiffusionEfficiency {
    /// The fitted figures of `data/perf/diffusion_efficiency.csv`.
    pub fn embedded() -> DiffusionEfficiency {
        Self::parse(EFFICIENCY_CSV, "data/perf/diffusion_efficiency.csv")
            .expect("embedded diffusion efficiency parses")
    }

    /// Reads the first row of a `diffusion_efficiency.csv`.
    pub fn parse(text: &str, origin: &str) -> Result<DiffusionEfficiency, PerfError> {
        let t = Table::parse(text, origin).map_err(|e| perr(origin, e.to_string()))?;
        let r = t
            .rows()
            .next()
            .ok_or_else(|| perr(origin, "no rows".to_owned()))?;
        let f = |c: &str| {
            r.req_f64(c)
                .map_err(|e| perr(origin, format!("column `{c}`: {e}")))
        };
        Ok(DiffusionEfficiency {
            compute: f("compute_efficiency")?,
            bandwidth: f("bandwidth_efficiency")?,
            step_overhead_ms: f("step_overhead_ms")?,
        })
    }
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

/// Time of `job` on one `gpu` with math and weights in `dtype`.
pub fn time(
    m: &DiffusionModel,
    job: &DiffusionJob,
    gpu: &Gpu,
    dtype: Dtype,
    e: &DiffusionEfficiency,
) -> Option<DiffusionTime> {
    let w = work(m, job);
    let flops_s = peak_tflops(gpu, dtype)? * 1e12 * e.compute;
    let bytes_s = gpu.mem_bandwidth_gbs? * 1e9 * e.bandwidth;
    let bpp = dtype.bytes();
    let evals = if job.cfg { 2.0 } else { 1.0 };
    let step_s = (w.flops_per_step / flops_s).max(m.denoiser_params * bpp * evals / bytes_s)
        + e.step_overhead_ms / 1e3;
    let text_s = (w.text_flops / flops_s).max(m.text_encoder_params * bpp / bytes_s);
    let vae_s = (w.vae_flops / flops_s).max(m.vae_params * bpp / bytes_s);
    Some(DiffusionTime {
        step_s,
        text_s,
        vae_s,
        e2e_s: job.steps as f64 * step_s + text_s + vae_s,
    })
}

/// GPU memory of a job.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct DiffusionMemory {
    /// Weights of denoiser, text encoders and VAE, GiB.
    pub weights_gib: f64,
    /// Denoiser activations (flash attention: linear in tokens), GiB.
    pub activations_gib: f64,
    /// VAE decode peak, GiB.
    pub vae_decode_gib: f64,
    /// Weights plus the larger of the two transient peaks, GiB.
    pub total_gib: f64,
}

impl DiffusionMemory {
    /// Whether it fits in `gpu_mem_gib`.
    pub fn fits(&self, gpu_mem_gib: f64) -> bool {
        self.total_gib <= gpu_mem_gib
    }
}

/// Memory of `job` with weights at `bytes_per_param` (2 for BF16/FP16).
///
/// Activations: [`ACTIVATION_BYTES_PER_TOKEN_HIDDEN`] × hidden × tokens × batch × CFG passes
/// (UNets: at base width over the full-resolution tokens). VAE decode: [`VAE_BYTES_PER_PIXEL`]
/// × pixels × frames decoded at once × batch; video VAEs decode causally in chunks, so at most
/// 1 + vae_temporal frames are live. Denoising and decoding do not overlap, so the total is
/// weights + max(activations, decode).
pub fn memory(m: &DiffusionModel, job: &DiffusionJob, bytes_per_param: f64) -> DiffusionMemory {
    let w = work(m, job);
    let batch = job.batch.max(1) as f64;
    let evals = if job.cfg { 2.0 } else { 1.0 };
    let act = ACTIVATION_BYTES_PER_TOKEN_HIDDEN * m.hidden * w.tokens * batch * evals;
    let live_frames = match m.vae_temporal {
        Some(t) if m.video && t > 1.0 => job.frames.max(1).min(1 + t as u64),
        _ => job.frames.max(1),
    };
    let vae = VAE_BYTES_PER_PIXEL * (job.width * job.height) as f64 * live_frames as f64 * batch;
    let weights = m.weight_bytes(bytes_per_param);
    DiffusionMemory {
        weights_gib: weights / GIB,
        activations_gib: act / GIB,
        vae_decode_gib: vae / GIB,
        total_gib: (weights + act.max(vae)) / GIB,
    }
}

// ---------------------------------------------------------------------------------------
// Validation
// ---------------------------------------------------------------------------------------

/// Columns that identify `diffusion_latency.csv`.
pub const DIFFUSION_COLUMNS: [&str; 7] = [
    "model",
    "gpu",
    "resolution",
    "steps",
    "metric",
    "value",
    "unit",
];

/// What a row measured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DiffusionMetric {
    /// Seconds per image / batch / video, end to end.
    E2eS,
    /// Denoising iterations per second (one step of the whole batch).
    DenoiseItS,
    /// Images or queries per second of the whole system.
    ImagesS,
}

impl DiffusionMetric {
    /// Lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            DiffusionMetric::E2eS => "e2e_s",
            DiffusionMetric::DenoiseItS => "denoise_it_s",
            DiffusionMetric::ImagesS => "images_s",
        }
    }

    /// The family (as in the LLM validation).
    pub fn family(self) -> Family {
        match self {
            DiffusionMetric::E2eS | DiffusionMetric::DenoiseItS => Family::E2e,
            DiffusionMetric::ImagesS => Family::Throughput,
        }
    }
}

/// Why a diffusion row is not scored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DiffusionSkip {
    /// The model is not in `diffusion_models.csv`.
    UnknownModel,
    /// The GPU is not in the catalog.
    UnknownGpu,
    /// The GPU has no published peak or bandwidth.
    NoGpuFigures,
    /// Step caching (TeaCache, Cache-DiT, DBCache, TaylorSeer) skips denoiser work.
    CacheTrick,
    /// A different decoder (tiny VAE, consistency decoder) replaces the model's VAE.
    DecoderSwap,
    /// The weights cannot fit the GPU, so the run offloaded them to the CPU.
    CpuOffload,
    /// The number of steps is not stated.
    UnstatedSteps,
    /// Resolution, batch or value cannot be read.
    Unparsable,
    /// A metric this model does not predict.
    UnknownMetric,
}

impl DiffusionSkip {
    /// snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            DiffusionSkip::UnknownModel => "unknown_model",
            DiffusionSkip::UnknownGpu => "unknown_gpu",
            DiffusionSkip::NoGpuFigures => "no_gpu_figures",
            DiffusionSkip::CacheTrick => "cache_trick",
            DiffusionSkip::DecoderSwap => "decoder_swap",
            DiffusionSkip::CpuOffload => "cpu_offload",
            DiffusionSkip::UnstatedSteps => "unstated_steps",
            DiffusionSkip::Unparsable => "unparsable",
            DiffusionSkip::UnknownMetric => "unknown_metric",
        }
    }
}

/// A measured row ready to predict.
#[derive(Debug, Clone)]
pub struct DiffusionCase {
    /// Row id.
    pub id: String,
    /// Source (id prefix).
    pub source: String,
    /// Engine as written.
    pub engine: String,
    /// Catalog model.
    pub model: &'static DiffusionModel,
    /// Catalog GPU.
    pub gpu: Gpu,
    /// GPUs of the measured system.
    pub gpus: u64,
    /// Math and weight format assumed.
    pub dtype: Dtype,
    /// The job.
    pub job: DiffusionJob,
    /// Metric.
    pub metric: DiffusionMetric,
    /// Measured value.
    pub value: f64,
}

impl DiffusionCase {
    /// Predicted value of the row's metric.
    pub fn predict(&self, e: &DiffusionEfficiency) -> f64 {
        let Some(t) = time(self.model, &self.job, &self.gpu, self.dtype, e) else {
            return f64::NAN;
        };
        match self.metric {
            DiffusionMetric::E2eS => t.e2e_s,
            DiffusionMetric::DenoiseItS => 1.0 / t.step_s,
            DiffusionMetric::ImagesS => self.gpus as f64 * self.job.batch as f64 / t.e2e_s,
        }
    }
}

/// A row not scored.
#[derive(Debug, Clone, Serialize)]
pub struct DiffusionSkipped {
    /// Row id.
    pub id: String,
    /// Reason.
    pub reason: DiffusionSkip,
    /// What exactly.
    pub detail: String,
}

fn leading_number(s: &str) -> Option<f64> {
    let t: String = s
        .trim()
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == '.')
        .collect();
    t.parse().ok()
}

/// Reads `diffusion_latency.csv` rows into cases and skipped rows.
pub fn prepare_diffusion(
    text: &str,
    origin: &str,
    catalog: &Catalog,
) -> Result<(Vec<DiffusionCase>, Vec<DiffusionSkipped>), PerfError> {
    let t = Table::parse(text, origin).map_err(|e| perr(origin, e.to_string()))?;
    t.require(&DIFFUSION_COLUMNS)
        .map_err(|e| perr(origin, e.to_string()))?;
    let dcat = DiffusionCatalog::embedded();
    let mut cases = Vec::new();
    let mut skipped = Vec::new();
    for r in t.rows() {
        let g = |c: &str| r.get(c).unwrap_or_default();
        let id = g("id").to_owned();
        let mut skip = |reason, detail: String| {
            skipped.push(DiffusionSkipped {
                id: id.clone(),
                reason,
                detail,
            })
        };
        let metric = match g("metric") {
            "e2e_s" | "e2e_s_mean" | "e2e_s_p50" => DiffusionMetric::E2eS,
            "denoise_it_s" => DiffusionMetric::DenoiseItS,
            "images_s" | "queries_s" => DiffusionMetric::ImagesS,
            other => {
                skip(DiffusionSkip::UnknownMetric, format!("metric `{other}`"));
                continue;
            }
        };
        let Some(model) = dcat.model(g("model")) else {
            skip(
                DiffusionSkip::UnknownModel,
                format!("model `{}`", g("model")),
            );
            continue;
        };
        let gpu = match catalog.gpu(g("gpu")) {
            Ok(gpu) => gpu.clone(),
            Err(e) => {
                skip(DiffusionSkip::UnknownGpu, e.to_string());
                continue;
            }
        };
        let engine = g("engine").to_owned();
        let context = format!("{} {}", engine, g("notes")).to_ascii_lowercase();
        if ["teacache", "cache-dit", "dbcache", "taylorseer"]
            .iter()
            .any(|k| context.contains(k))
        {
            skip(DiffusionSkip::CacheTrick, format!("engine `{engine}`"));
            continue;
        }
        let el = engine.to_ascii_lowercase();
        if el.contains("tiny vae") || el.contains("consistency decoder") {
            skip(DiffusionSkip::DecoderSwap, format!("engine `{engine}`"));
            continue;
        }
        let steps_cell = g("steps");
        let Some(steps) = leading_number(steps_cell)
            .map(|v| v as u64)
            .filter(|&s| s > 0)
        else {
            skip(
                DiffusionSkip::UnstatedSteps,
                format!("steps `{steps_cell}`"),
            );
            continue;
        };
        let Some((width, height)) = parse_resolution(g("resolution")) else {
            skip(
                DiffusionSkip::Unparsable,
                format!("resolution `{}`", g("resolution")),
            );
            continue;
        };
        let Some(value) = leading_number(g("value")).filter(|v| *v > 0.0) else {
            skip(DiffusionSkip::Unparsable, format!("value `{}`", g("value")));
            continue;
        };
        let batch = leading_number(g("batch_size")).map_or(1, |v| v.max(1.0) as u64);
        let gpus = leading_number(g("gpu_count")).map_or(1, |v| v.max(1.0) as u64);
        // Frames: a number, "N s video" (N × fps + 1, Wan's 81 = 5 s × 16 + 1), else default.
        let frames_cell = g("frames");
        let frames = if !model.video {
            1
        } else if let Some(n) = leading_number(frames_cell) {
            if frames_cell.contains(" s ") || frames_cell.trim_end().ends_with(" s") {
                (n * model.default_fps.unwrap_or(16.0)) as u64 + 1
            } else {
                n as u64
            }
        } else {
            model.default_frames.unwrap_or(1)
        };
        // Format: FP8 when the engine or precision says so, FP16 when stated, else BF16.
        let p = format!("{} {}", g("precision"), engine).to_ascii_lowercase();
        let dtype = if el.contains("fp8") {
            Dtype::Fp8
        } else if p.contains("fp16") {
            Dtype::Fp16
        } else {
            Dtype::Bf16
        };
        // Distilled variants: no unconditional pass.
        let cfg = model.cfg && !el.contains("distill") && !context.contains("enable_cfg=false");
        let job = DiffusionJob {
            width,
            height,
            frames,
            steps,
            batch,
            cfg,
        };
        let Some(mem_gib) = gpu.memory_gib() else {
            skip(
                DiffusionSkip::NoGpuFigures,
                format!("memory of {}", gpu.name),
            );
            continue;
        };
        if peak_tflops(&gpu, dtype).is_none() || gpu.mem_bandwidth_gbs.is_none() {
            skip(DiffusionSkip::NoGpuFigures, format!("peak of {}", gpu.name));
            continue;
        }
        let weights_gib = model.denoiser_params * dtype.bytes() / GIB;
        if weights_gib > mem_gib {
            skip(
                DiffusionSkip::CpuOffload,
                format!(
                    "{} denoiser {weights_gib:.1} GiB > {} {mem_gib:.0} GiB",
                    model.name, gpu.name
                ),
            );
            continue;
        }
        cases.push(DiffusionCase {
            source: id
                .rsplit_once('-')
                .map_or(id.as_str(), |(s, _)| s)
                .to_owned(),
            id,
            engine,
            model,
            gpu,
            gpus,
            dtype,
            job,
            metric,
            value,
        });
    }
    Ok((cases, skipped))
}

/// One scored row.
#[derive(Debug, Clone, Serialize)]
pub struct DiffusionScored {
    /// Row id.
    pub id: String,
    /// Source.
    pub source: String,
    /// Catalog model.
    pub model: String,
    /// Catalog GPU.
    pub gpu: String,
    /// Metric.
    pub metric: DiffusionMetric,
    /// Measured.
    pub measured: f64,
    /// Predicted.
    pub predicted: f64,
    /// Absolute percentage error, %.
    pub ape: f64,
}

/// The diffusion validation report.
#[derive(Debug, Clone, Serialize)]
pub struct DiffusionReport {
    /// File read.
    pub origin: String,
    /// Rows read.
    pub rows_total: usize,
    /// Rows scored.
    pub rows_evaluated: usize,
    /// Skipped rows by reason.
    pub skipped: BTreeMap<String, usize>,
    /// Skipped rows by reason, with their details and counts.
    pub skipped_details: BTreeMap<String, Vec<(String, usize)>>,
    /// Efficiencies used.
    pub efficiency: DiffusionEfficiency,
    /// Over every scored row.
    pub overall: ErrorStats,
    /// By metric.
    pub by_metric: BTreeMap<String, ErrorStats>,
    /// By catalog GPU.
    pub by_gpu: BTreeMap<String, ErrorStats>,
    /// By model.
    pub by_model: BTreeMap<String, ErrorStats>,
    /// By source.
    pub by_source: BTreeMap<String, ErrorStats>,
    /// Every scored row, worst first.
    pub rows: Vec<DiffusionScored>,
}

/// Scores cases with efficiencies `e`.
pub fn report_diffusion(
    origin: &str,
    cases: &[DiffusionCase],
    skipped: &[DiffusionSkipped],
    e: &DiffusionEfficiency,
) -> DiffusionReport {
    let mut rows: Vec<DiffusionScored> = cases
        .iter()
        .map(|c| {
            let p = c.predict(e);
            DiffusionScored {
                id: c.id.clone(),
                source: c.source.clone(),
                model: c.model.name.clone(),
                gpu: c.gpu.name.clone(),
                metric: c.metric,
                measured: c.value,
                predicted: p,
                ape: ape(p, c.value),
            }
        })
        .collect();
    let group =
        |k: &dyn Fn(&DiffusionScored) -> String| stats_by(&rows, k, |s| (s.predicted, s.measured));
    let by_metric = group(&|s| s.metric.as_str().to_owned());
    let by_gpu = group(&|s| s.gpu.clone());
    let by_model = group(&|s| s.model.clone());
    let by_source = group(&|s| s.source.clone());
    let all: Vec<(f64, f64)> = rows.iter().map(|s| (s.predicted, s.measured)).collect();
    let (reasons, details) = tally_skipped(
        skipped
            .iter()
            .map(|s| (s.reason.as_str(), s.detail.as_str())),
    );
    rows.sort_by(|a, b| b.ape.total_cmp(&a.ape).then_with(|| a.id.cmp(&b.id)));
    DiffusionReport {
        origin: origin.to_owned(),
        rows_total: cases.len() + skipped.len(),
        rows_evaluated: cases.len(),
        skipped: reasons,
        skipped_details: details
            .into_iter()
            .map(|(k, v)| (k, v.into_iter().collect()))
            .collect(),
        efficiency: *e,
        overall: stats(&all),
        by_metric,
        by_gpu,
        by_model,
        by_source,
        rows,
    }
}

/// Reads `diffusion_latency.csv` text, predicts every row it can map with the embedded
/// efficiencies and reports the errors.
pub fn validate_diffusion(
    text: &str,
    origin: &str,
    catalog: &Catalog,
) -> Result<DiffusionReport, PerfError> {
    let (cases, skipped) = prepare_diffusion(text, origin, catalog)?;
    Ok(report_diffusion(
        origin,
        &cases,
        &skipped,
        &DiffusionEfficiency::embedded(),
    ))
}

/// Median |ln(predicted / measured)| over the cases.
pub fn median_abs_log_error(cases: &[DiffusionCase], e: &DiffusionEfficiency) -> f64 {
    let mut v: Vec<f64> = cases
        .iter()
        .map(|c| (c.predict(e) / c.value).ln().abs())
        .filter(|x| x.is_finite())
        .collect();
    v.sort_by(f64::total_cmp);
    median_sorted(&v).unwrap_or(f64::NAN)
}

/// Fits compute efficiency (0.05–1.00 by 0.01) and per-step overhead (0–40 ms by 0.25) by
/// grid search, minimising the median |log error| over all cases at once; the bandwidth
/// efficiency is held at `bandwidth`. Ties keep the first (lowest) values.
pub fn fit_efficiency(cases: &[DiffusionCase], bandwidth: f64) -> (DiffusionEfficiency, f64) {
    let mut best = (
        DiffusionEfficiency {
            compute: 0.5,
            bandwidth,
            step_overhead_ms: 0.0,
        },
        f64::INFINITY,
    );
    for ci in 5..=100 {
        for oi in 0..=160 {
            let e = DiffusionEfficiency {
                compute: f64::from(ci) / 100.0,
                bandwidth,
                step_overhead_ms: f64::from(oi) * 0.25,
            };
            let err = median_abs_log_error(cases, &e);
            if err < best.1 {
                best = (e, err);
            }
        }
    }
    best
}
