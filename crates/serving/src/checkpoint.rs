//! Weight and KV-cache formats: which format a server runs, how the renderer asks vLLM for
//! one ([`quantization`]), and how the linter recognises one in a manifest ([`format_of`],
//! [`kv_format_of`]). The flag values the two sides write and read are the tables below.

use inferplan_catalog::Dtype;

/// `--dtype` values and the 16- or 32-bit weight format each means; the first of each row
/// is the one the renderer writes. Anything else (`auto`, nothing) is read as BF16.
const DTYPE_VALUES: [(Dtype, &[&str]); 3] = [
    (Dtype::Bf16, &["bfloat16"]),
    (Dtype::Fp16, &["float16", "half", "fp16"]),
    (Dtype::Fp32, &["float32", "float", "fp32"]),
];

/// `--quantization` / `--quantize` values (lower case, `_` for `-`) and the weight format
/// each means; the first of the FP8 row is the one the renderer writes for online FP8.
const QUANTIZATION_VALUES: [(Dtype, &[&str]); 5] = [
    (
        Dtype::Fp8,
        &[
            "fp8",
            "fbgemm_fp8",
            "modelopt",
            "ptpc_fp8",
            "fp8_e4m3",
            "deepspeedfp",
        ],
    ),
    (
        Dtype::Int4,
        &[
            "awq",
            "awq_marlin",
            "gptq",
            "gptq_marlin",
            "marlin",
            "bitsandbytes",
            "bitsandbytes_nf4",
            "bitsandbytes_fp4",
            "exl2",
            "gguf",
        ],
    ),
    (Dtype::Fp4, &["modelopt_fp4", "nvfp4", "fp4"]),
    (Dtype::Mxfp4, &["mxfp4"]),
    (
        Dtype::Int8,
        &[
            "int8",
            "w8a8",
            "smoothquant",
            "experts_int8",
            "eetq",
            "bitsandbytes_8bit",
        ],
    ),
];

/// `--kv-cache-dtype` value of an FP8 KV cache as the renderer writes it; any value that
/// starts with it (`fp8_e4m3`, `fp8_e5m2`) is read as FP8.
pub const KV_FP8: &str = "fp8";

/// How vLLM loads weights of one format, and whether a pre-quantized checkpoint is needed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Quantization {
    /// 16- or 32-bit weights: `--dtype` with this value.
    Dtype(&'static str),
    /// vLLM quantizes a 16-bit checkpoint to FP8 at load (`--quantization` [`online_fp8`]).
    OnlineFp8,
    /// The checkpoint is already in the format; vLLM reads its `quantization_config`.
    FromCheckpoint,
    /// A pre-quantized checkpoint (AWQ/GPTQ for INT4, compressed-tensors W8A8 for INT8,
    /// ModelOpt NVFP4 for FP4, ...) is needed; the catalog's checkpoint is not one.
    NeedsCheckpoint,
}

/// How the weights of `precision` are loaded from a checkpoint stored as `native`.
pub fn quantization(precision: Dtype, native: Option<Dtype>) -> Quantization {
    if native == Some(precision) && precision.is_quantized() {
        return Quantization::FromCheckpoint;
    }
    match precision {
        Dtype::Bf16 | Dtype::Fp16 | Dtype::Fp32 => Quantization::Dtype(dtype_value(precision)),
        Dtype::Fp8 => Quantization::OnlineFp8,
        Dtype::Int8 | Dtype::Int4 | Dtype::Fp4 | Dtype::Mxfp4 => Quantization::NeedsCheckpoint,
    }
}

/// The `--quantization` value that makes vLLM quantize 16-bit weights to FP8 at load.
pub fn online_fp8() -> &'static str {
    QUANTIZATION_VALUES[0].1[0]
}

/// The `--dtype` value of a 16- or 32-bit format (`bfloat16` for any other).
fn dtype_value(d: Dtype) -> &'static str {
    DTYPE_VALUES
        .iter()
        .find(|(f, _)| *f == d)
        .unwrap_or(&DTYPE_VALUES[0])
        .1[0]
}

/// The weight format a `--quantization` / `--quantize` value means, when it says.
pub fn quantization_format(value: &str) -> Option<Dtype> {
    let v = value.trim().to_ascii_lowercase().replace('-', "_");
    QUANTIZATION_VALUES
        .iter()
        .find(|(_, names)| names.contains(&v.as_str()))
        .map(|(d, _)| *d)
}

/// The weight format a `--dtype` value means: FP16 or FP32 when it says so, else BF16.
pub fn dtype_format(value: Option<&str>) -> Dtype {
    let v = value.map(str::to_ascii_lowercase);
    DTYPE_VALUES
        .iter()
        .find(|(_, names)| v.as_deref().is_some_and(|v| names.contains(&v)))
        .map_or(Dtype::Bf16, |(d, _)| *d)
}

/// What a server's manifest and the catalog say about the weights it runs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Served<'a> {
    /// The `--quantization` / `--quantize` value.
    pub quantization: Option<&'a str>,
    /// The format the model's name carried when the catalog resolved it (`-FP8`, `-AWQ`).
    pub named: Option<Dtype>,
    /// The model argument as written (a hub id or a path), whose suffix may name a format.
    pub model: Option<&'a str>,
    /// The format the model ships in (`native_weights` in the catalog: DeepSeek-V3 ships FP8).
    pub native: Option<Dtype>,
    /// The `--dtype` value.
    pub dtype: Option<&'a str>,
}

/// The weight format a server runs, first that says: `--quantization`, the checkpoint's
/// name (`-FP8`, `-AWQ`, as resolved, then as written), the model's own format, `--dtype`,
/// else BF16.
pub fn format_of(s: &Served<'_>) -> Dtype {
    if let Some(d) = s.quantization.and_then(quantization_format) {
        return d;
    }
    if let Some(d) = s.named {
        return d;
    }
    if let Some(name) = s.model {
        if let (_, Some(d)) = inferplan_catalog::names::split_quantized(name) {
            return d;
        }
    }
    if let Some(d) = s.native {
        return d;
    }
    dtype_format(s.dtype)
}

/// The KV-cache format of a server running `weights` with `--kv-cache-dtype` `value`:
/// FP8 when the value starts with [`KV_FP8`]; otherwise the activations' 16-bit format
/// (`auto`): FP16 or FP32 weights keep theirs, anything else is BF16.
pub fn kv_format_of(value: Option<&str>, weights: Dtype) -> Dtype {
    match value.map(str::to_ascii_lowercase) {
        Some(v) if v.starts_with(KV_FP8) => Dtype::Fp8,
        _ if matches!(weights, Dtype::Fp16 | Dtype::Fp32) => weights,
        _ => Dtype::Bf16,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantization_per_format() {
        assert_eq!(
            quantization(Dtype::Bf16, None),
            Quantization::Dtype("bfloat16")
        );
        assert_eq!(quantization(Dtype::Fp8, None), Quantization::OnlineFp8);
        assert_eq!(
            quantization(Dtype::Fp8, Some(Dtype::Fp8)),
            Quantization::FromCheckpoint
        );
        assert_eq!(
            quantization(Dtype::Int4, Some(Dtype::Bf16)),
            Quantization::NeedsCheckpoint
        );
    }

    #[test]
    fn what_the_renderer_writes_the_linter_reads_back() {
        assert_eq!(quantization_format(online_fp8()), Some(Dtype::Fp8));
        for d in [Dtype::Bf16, Dtype::Fp16, Dtype::Fp32] {
            let Quantization::Dtype(v) = quantization(d, None) else {
                panic!("{d} is written with --dtype");
            };
            assert_eq!(dtype_format(Some(v)), d);
        }
        assert_eq!(kv_format_of(Some(KV_FP8), Dtype::Bf16), Dtype::Fp8);
    }

    #[test]
    fn formats_a_manifest_says() {
        assert_eq!(quantization_format(" AWQ-Marlin "), Some(Dtype::Int4));
        assert_eq!(quantization_format("mxfp4"), Some(Dtype::Mxfp4));
        assert_eq!(quantization_format("none"), None);
        let named = Served {
            model: Some("org/Llama-3.1-8B-Instruct-FP8"),
            dtype: Some("half"),
            ..Served::default()
        };
        assert_eq!(format_of(&named), Dtype::Fp8);
        let q = Served {
            quantization: Some("gptq"),
            ..named
        };
        assert_eq!(format_of(&q), Dtype::Int4);
        let plain = Served {
            dtype: Some("half"),
            ..Served::default()
        };
        assert_eq!(format_of(&plain), Dtype::Fp16);
        assert_eq!(format_of(&Served::default()), Dtype::Bf16);
        assert_eq!(kv_format_of(Some("auto"), Dtype::Fp16), Dtype::Fp16);
        assert_eq!(kv_format_of(None, Dtype::Fp8), Dtype::Bf16);
    }
}
