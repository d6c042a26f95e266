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

mod calibrate;
mod catalog;
mod model;
mod validate;

pub use calibrate::*;
pub use catalog::*;
pub use model::*;
pub use validate::*;

use crate::error::PerfError;

const GIB: f64 = 1024.0 * 1024.0 * 1024.0;

fn perr(origin: &str, message: impl Into<String>) -> PerfError {
    PerfError::Params {
        origin: origin.to_owned(),
        message: message.into(),
    }
}
