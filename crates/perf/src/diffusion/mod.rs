//! A first performance and memory model for image and video diffusion (issue 7), and its
//! validation against `shared/data/measured/diffusion_latency.csv`.
//!
//! Work of one job (`width × height`, `frames`, `steps`, `batch`):
//!
//! - latent tokens = (W / vae_spatial) × (H / vae_spatial) × latent_frames / (patch² × patch_t),
//!   latent_frames = 1 + (frames − 1) / vae_temporal for video VAEs, 1 for images;
//! - one denoiser evaluation: 2 × params × tokens (UNets: × `unet_token_fraction`, the
//!   parameter-weighted share of the full-resolution tokens, since their params are spread over
//!   resolution levels) plus self-attention as the catalog's `attention` says: `full` (images,
//!   video DiTs with 3D attention) quadratic in the pass's tokens, 4 × layers × hidden × tokens²
//!   for DiTs (QKᵀ and PV; text tokens and cross-attention are left out) and
//!   `unet_attn_coeff` × hidden × tokens² for UNets; `spatial_temporal` (SVD) spatial attention
//!   within each frame (× positions² × frames) plus temporal attention across the frames at each
//!   position (`unet_temporal_attn_coeff` × hidden × positions × frames²). The UNet constants
//!   are derived from the published layouts, not fitted (see [`unet_shape`]);
//! - × 2 evaluations per step with classifier-free guidance (`cfg = yes`), × batch;
//! - text encoders: 2 × params × 77 tokens (CLIP only) or 512 (T5 / UMT5 / LLM encoders);
//! - VAE decode: 2 × vae_params × pixels × frames decoded / 16 (one parameter-MAC per 16 output
//!   pixels: the SD KL-f8 decoder is about 1.3 TMAC at 512², which this reproduces), in the
//!   chunks the pipeline decodes by default ([`vae_decode`]: diffusers' `decode_chunk_size`,
//!   frame-wise VAE decoding), which bound its memory.
//!
//! Time of a phase = max(FLOPs / (peak × compute efficiency), weight bytes / (bandwidth ×
//! bandwidth efficiency)); each denoising step adds a fixed overhead. Peak is the GPU's dense
//! BF16 tensor figure (FP16 where BF16 is not published, FP8 when the row runs FP8). The
//! efficiencies are fitted by `inferplan calibrate` ([`fit_efficiencies`]) and checked
//! leave-one-source-out ([`cross_validate`]).

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
