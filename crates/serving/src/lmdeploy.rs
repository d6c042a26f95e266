//! LMDeploy's two backends and what each serves: which backend runs a model, which
//! checkpoints it loads, and which KV-cache format it can hold. The planner rejects a
//! checkpoint the backend cannot load ([`checkpoint::choose`](crate::checkpoint::choose)); the
//! renderer writes `--backend`, `--model-format` and `--quant-policy` from the same answers.
//!
//! Sources: InternLM/lmdeploy at tag `v0.16.0` (commit
//! 1208bf006bbac69f1f012ceafeeeb70f623b632c), the release the renderer pins:
//! - backend: `lmdeploy/turbomind/supported_models.py` (`SUPPORTED_ARCHS`: Llama, Qwen2,
//!   Qwen3, Qwen3-MoE, Mixtral, gpt-oss, InternLM2, ...); `lmdeploy/archs.py`
//!   `autoget_backend` falls back to the PyTorch engine for any other architecture ("Fallback to
//!   pytorch engine because ... not supported by turbomind engine"), and
//!   `docs/en/supported_models/supported_models.md` lists the PyTorch engine's models (Mistral,
//!   Gemma 2/3, Phi-3/3.5/4-mini, DeepSeek-V3, ...). GPT-J is in neither list.
//! - TurboMind's checkpoints: `lmdeploy/turbomind/converter.py` (`get_tm_config`): the
//!   checkpoint's `quantization_config.quant_method` must be `awq` (version `gemm`), `gptq`
//!   (symmetric, no `desc_act`), `fp8` (block 128, `weight_scale_inv`), `mxfp4`, or
//!   `compressed-tensors` in the `pack-quantized` format with 4-bit integers ("compressed-tensors
//!   only supports pack-quantized format"); anything else is "unsupported quant_config". Group
//!   size 128 (32 for MXFP4 and compressed-tensors also). `--model-format` help: "`awq` and `gptq`
//!   refer to 4-bit grouped quantization".
//! - PyTorch engine's checkpoints: `lmdeploy/pytorch/config.py` (`QuantizationConfig`):
//!   `awq`, `smooth_quant` (INT8 W8A8) and `fp8`; anything else is "Unsupported quant method".
//! - KV cache: `lmdeploy/messages.py`: `QuantPolicy` NONE 0, INT4 4, INT8 8, FP8 16, FP8_E5M2
//!   17, TURBO_QUANT 42; `TurbomindEngineConfig.__post_init__` refuses FP8 ("invalid
//!   quant_policy for TurboMind, FP8 quantization is not supported"); the PyTorch engine
//!   accepts every policy on CUDA. `supported_models.md` note 2: "When the head_dim of a model is
//!   not 128 ... turbomind doesn't support its kv cache 4/8 bit quantization".
//!   `docs/en/quantization/kv_quant.md`: INT8 KV "keeps the accuracy", on sm70 and later.
//! - No online FP8: LMDeploy quantizes weights offline (`lmdeploy lite`), never while loading,
//!   so [`online_fp8_load_peak_bytes`](crate::checkpoint::online_fp8_load_peak_bytes) has no
//!   LMDeploy path and a 16-bit checkpoint never serves FP8.

use inferplan_catalog::{Dtype, ModelSpec};

/// The release these facts were read from.
pub const VERSION: &str = "0.16.0";

/// LMDeploy's inference backend (`--backend`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// The C++/CUDA engine, the default and the one LMDeploy's published figures measure.
    TurboMind,
    /// The PyTorch engine, for architectures TurboMind does not implement.
    PyTorch,
}

impl Backend {
    /// The `--backend` value.
    pub fn as_str(self) -> &'static str {
        match self {
            Backend::TurboMind => "turbomind",
            Backend::PyTorch => "pytorch",
        }
    }
}

/// `model_type` values of the catalog whose architecture TurboMind implements.
const TURBOMIND_FAMILIES: [&str; 8] = [
    "llama",
    "qwen2",
    "qwen2_moe",
    "qwen3",
    "qwen3_moe",
    "mixtral",
    "gpt_oss",
    "internlm2",
];

/// `model_type` values of the catalog the PyTorch engine serves (and TurboMind does not).
const PYTORCH_FAMILIES: [&str; 5] = ["mistral", "gemma2", "gemma3_text", "phi3", "deepseek_v3"];

/// The backend that serves `model`: TurboMind where it implements the architecture, else the
/// PyTorch engine where that lists it; `None` when LMDeploy serves it with neither.
pub fn backend(model: &ModelSpec) -> Option<Backend> {
    let family = model.family.to_ascii_lowercase();
    if TURBOMIND_FAMILIES.contains(&family.as_str()) {
        Some(Backend::TurboMind)
    } else if PYTORCH_FAMILIES.contains(&family.as_str()) {
        Some(Backend::PyTorch)
    } else {
        None
    }
}

/// The `--model-format` value of a checkpoint stored as `format` by `method` (the catalog's
/// `method` column), when `backend` loads it; `None` for 16-bit checkpoints (`--dtype` then).
/// `Err` says why the backend cannot load it.
pub fn model_format(
    backend: Backend,
    format: Dtype,
    method: &str,
) -> Result<Option<&'static str>, String> {
    let m = method.trim().to_ascii_lowercase();
    let sixteen = matches!(format, Dtype::Bf16 | Dtype::Fp16 | Dtype::Fp32);
    let found = match (backend, format) {
        _ if sixteen => return Ok(None),
        (_, Dtype::Int4) if m == "awq" => Some("awq"),
        (Backend::TurboMind, Dtype::Int4) if m == "gptq" => Some("gptq"),
        (Backend::TurboMind, Dtype::Int4) if m.starts_with("compressed-tensors") => {
            Some("compressed-tensors")
        }
        (_, Dtype::Fp8) if m.starts_with("fp8") => Some("fp8"),
        (Backend::TurboMind, Dtype::Mxfp4) if m == "mxfp4" => Some("mxfp4"),
        _ => None,
    };
    found.map(Some).ok_or_else(|| {
        let reads = match backend {
            Backend::TurboMind => {
                "16-bit, AWQ, GPTQ or compressed-tensors (pack-quantized) INT4, block-128 FP8 \
                 (`quant_method: fp8`) and MXFP4"
            }
            Backend::PyTorch => "16-bit, AWQ INT4, SmoothQuant INT8 and `quant_method: fp8` FP8",
        };
        format!(
            "LMDeploy {VERSION}'s {} backend reads {reads} checkpoints, not {} {format}",
            backend.as_str(),
            if m.is_empty() { "this" } else { method.trim() },
        )
    })
}

/// The `--quant-policy` value for a KV cache the plan sized in `kv` bytes per element, with
/// the model's `head_dim`; `None` for a 16-bit cache. TurboMind has no FP8 KV cache: a one-byte
/// cache is INT8 there (the same bytes per element, per-head per-token scales), and TurboMind
/// quantizes the KV cache only with 128-wide heads. `Err` says why the cache cannot be held.
pub fn quant_policy(
    backend: Backend,
    kv: Dtype,
    head_dim: u64,
) -> Result<Option<&'static str>, String> {
    if matches!(kv, Dtype::Bf16 | Dtype::Fp16 | Dtype::Fp32) {
        return Ok(None);
    }
    match backend {
        Backend::TurboMind if head_dim != 128 => Err(format!(
            "LMDeploy {VERSION}'s TurboMind quantizes the KV cache only for 128-wide heads \
             (this model's are {head_dim}), and the plan sized a {kv} KV cache"
        )),
        Backend::TurboMind => match kv {
            Dtype::Fp8 | Dtype::Int8 => Ok(Some("int8")),
            Dtype::Int4 => Ok(Some("int4")),
            other => Err(format!("TurboMind has no {other} KV cache")),
        },
        Backend::PyTorch => match kv {
            Dtype::Fp8 => Ok(Some("fp8")),
            Dtype::Int8 => Ok(Some("int8")),
            Dtype::Int4 => Ok(Some("int4")),
            other => Err(format!("LMDeploy's PyTorch engine has no {other} KV cache")),
        },
    }
}

/// The KV-cache format a `--quant-policy` value means (`int8` or `8`, ...); `None` for no
/// quantization or a value LMDeploy does not accept. TurboQuant (K 4-bit, V 2-bit) is read as
/// INT4, an upper bound of its size.
pub fn policy_format(value: &str) -> Option<Dtype> {
    match value.trim().to_ascii_lowercase().as_str() {
        "4" | "int4" | "42" | "turbo_quant" => Some(Dtype::Int4),
        "8" | "int8" => Some(Dtype::Int8),
        "16" | "17" | "fp8" | "fp8_e4m3" | "fp8_e5m2" => Some(Dtype::Fp8),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn turbomind_reads_what_its_converter_accepts() {
        let tm = Backend::TurboMind;
        assert_eq!(model_format(tm, Dtype::Bf16, ""), Ok(None));
        assert_eq!(model_format(tm, Dtype::Int4, "awq"), Ok(Some("awq")));
        assert_eq!(model_format(tm, Dtype::Int4, "gptq"), Ok(Some("gptq")));
        assert_eq!(
            model_format(tm, Dtype::Int4, "compressed-tensors (GPTQ)"),
            Ok(Some("compressed-tensors"))
        );
        assert_eq!(
            model_format(tm, Dtype::Fp8, "fp8 (block 128)"),
            Ok(Some("fp8"))
        );
        assert_eq!(model_format(tm, Dtype::Mxfp4, "mxfp4"), Ok(Some("mxfp4")));
        for (f, m) in [
            (Dtype::Fp8, "compressed-tensors"),
            (Dtype::Fp8, "fbgemm_fp8"),
            (Dtype::Fp4, "modelopt"),
            (Dtype::Int8, "gptq"),
        ] {
            let e = model_format(tm, f, m).unwrap_err();
            assert!(e.contains(m) && e.contains("turbomind"), "{e}");
        }
        let pt = Backend::PyTorch;
        assert_eq!(model_format(pt, Dtype::Int4, "awq"), Ok(Some("awq")));
        assert!(model_format(pt, Dtype::Int4, "gptq").is_err());
    }

    #[test]
    fn the_kv_cache_policy_is_read_back_as_the_format_written() {
        let tm = Backend::TurboMind;
        assert_eq!(quant_policy(tm, Dtype::Bf16, 128), Ok(None));
        assert_eq!(quant_policy(tm, Dtype::Fp8, 128), Ok(Some("int8")));
        assert!(quant_policy(tm, Dtype::Fp8, 64).is_err());
        assert_eq!(
            quant_policy(Backend::PyTorch, Dtype::Fp8, 64),
            Ok(Some("fp8"))
        );
        for kv in [Dtype::Fp8, Dtype::Int8, Dtype::Int4] {
            for b in [Backend::TurboMind, Backend::PyTorch] {
                let v = quant_policy(b, kv, 128).unwrap().unwrap();
                let read = policy_format(v).unwrap();
                assert_eq!(read.bytes(), kv.bytes(), "{v}");
            }
        }
        assert_eq!(policy_format("0"), None);
    }
}
