//! The diffusion model catalog: `data/models/diffusion/diffusion_models.csv`.

use super::perr;
use crate::error::PerfError;
use inferplan_catalog::names::key;
use inferplan_catalog::table::{Row, Table};
use serde::Serialize;
use std::collections::BTreeMap;

const MODELS_CSV: &str = include_str!("../../../../data/models/diffusion/diffusion_models.csv");

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

/// How a denoiser's self-attention spans a video's tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Attention {
    /// Over every latent token of a pass at once (images; video DiTs with full 3D attention):
    /// FLOPs quadratic in the pass's tokens.
    Full,
    /// Factorised (SVD): spatial attention over each frame's positions, temporal attention over
    /// the frames at each position.
    SpatialTemporal,
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
    /// How self-attention spans the tokens of a pass.
    pub attention: Attention,
    /// UNets: parameter-weighted share of the full-resolution tokens a parameter sees.
    pub unet_token_fraction: Option<f64>,
    /// UNets: spatial self-attention FLOPs = this × base channels × positions².
    pub unet_attn_coeff: Option<f64>,
    /// Factorised video UNets: temporal attention FLOPs = this × base channels × positions ×
    /// frames².
    pub unet_temporal_attn_coeff: Option<f64>,
    /// UNets: activation traffic of one evaluation = this × base channels × tokens (units of
    /// [`super::DiffusionEfficiency::activation_bytes`]).
    pub unet_activation_coeff: Option<f64>,
    /// Output frames one VAE decoder call holds (`None`: all frames of a pass).
    pub vae_decode_chunk_frames: Option<u64>,
    /// New output frames each decoder call adds when calls overlap (`None`: the chunk).
    pub vae_decode_stride_frames: Option<u64>,
}

pub(crate) fn parse_resolution(s: &str) -> Option<(u64, u64)> {
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
        let whole = |c: &str| match f(c)? {
            Some(v) if v >= 1.0 && v.fract() == 0.0 => Ok(Some(v as u64)),
            Some(_) => Err(e(c)),
            None => Ok(None),
        };
        let denoiser = match r.get("denoiser_type").unwrap_or_default() {
            "unet" => Denoiser::Unet,
            "dit" => Denoiser::Dit,
            "mmdit" => Denoiser::Mmdit,
            _ => return Err(e("denoiser_type")),
        };
        let m = DiffusionModel {
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
            attention: match r.get("attention").unwrap_or("full") {
                "" | "full" => Attention::Full,
                "spatial_temporal" => Attention::SpatialTemporal,
                _ => return Err(e("attention")),
            },
            unet_token_fraction: f("unet_token_fraction")?,
            unet_attn_coeff: f("unet_attn_coeff")?,
            unet_temporal_attn_coeff: f("unet_temporal_attn_coeff")?,
            unet_activation_coeff: f("unet_activation_coeff")?,
            vae_decode_chunk_frames: whole("vae_decode_chunk_frames")?,
            vae_decode_stride_frames: whole("vae_decode_stride_frames")?,
        };
        if m.denoiser == Denoiser::Unet {
            // A UNet's FLOPs need its layout's constants; nothing stands in for them.
            let mut needed = vec![
                ("unet_token_fraction", m.unet_token_fraction),
                ("unet_attn_coeff", m.unet_attn_coeff),
                ("unet_activation_coeff", m.unet_activation_coeff),
            ];
            if m.attention == Attention::SpatialTemporal {
                needed.push(("unet_temporal_attn_coeff", m.unet_temporal_attn_coeff));
            }
            if let Some((c, _)) = needed.into_iter().find(|(_, v)| v.is_none()) {
                return Err(e(c));
            }
        }
        Ok(m)
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
