//! Numeric formats of weights, KV cache and tensor math.

use serde::Serialize;
use std::fmt;
use std::str::FromStr;

/// A numeric format for weights, KV cache or tensor-core math.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Dtype {
    /// IEEE single precision.
    Fp32,
    /// bfloat16.
    Bf16,
    /// IEEE half precision.
    Fp16,
    /// 8-bit floating point (E4M3).
    Fp8,
    /// 8-bit integer (W8A8 or weight-only).
    Int8,
    /// 4-bit integer weights with group scales (GPTQ/AWQ, group size 128).
    Int4,
    /// 4-bit floating point (NVFP4, scale per 16 values).
    Fp4,
    /// 4-bit floating point, OCP microscaling (MXFP4, scale per 32 values).
    Mxfp4,
}

impl Dtype {
    /// Every format, in display order.
    pub const ALL: [Dtype; 8] = [
        Dtype::Fp32,
        Dtype::Bf16,
        Dtype::Fp16,
        Dtype::Fp8,
        Dtype::Int8,
        Dtype::Int4,
        Dtype::Fp4,
        Dtype::Mxfp4,
    ];

    /// Bytes per value, including the block scales that quantized formats carry.
    ///
    /// INT4 (GPTQ/AWQ) stores a 16-bit scale and a packed 4-bit zero point per group of 128;
    /// NVFP4 stores an FP8 scale per 16 values; MXFP4 an 8-bit exponent per 32 values;
    /// FP8 and INT8 per-channel scales are negligible.
    pub fn bytes(self) -> f64 {
        match self {
            Dtype::Fp32 => 4.0,
            Dtype::Bf16 | Dtype::Fp16 => 2.0,
            Dtype::Fp8 | Dtype::Int8 => 1.0,
            Dtype::Int4 => 0.5 + 2.0 / 128.0 + 0.5 / 128.0,
            Dtype::Fp4 => 0.5 + 1.0 / 16.0,
            Dtype::Mxfp4 => 0.5 + 1.0 / 32.0,
        }
    }

    /// The lower-case name used on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Dtype::Fp32 => "fp32",
            Dtype::Bf16 => "bf16",
            Dtype::Fp16 => "fp16",
            Dtype::Fp8 => "fp8",
            Dtype::Int8 => "int8",
            Dtype::Int4 => "int4",
            Dtype::Fp4 => "fp4",
            Dtype::Mxfp4 => "mxfp4",
        }
    }

    /// True for formats smaller than 16 bits.
    pub fn is_quantized(self) -> bool {
        self.bytes() < 2.0
    }
}

impl fmt::Display for Dtype {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Dtype {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s.trim().to_ascii_lowercase().as_str() {
            "fp32" | "float32" | "float" => Dtype::Fp32,
            "bf16" | "bfloat16" => Dtype::Bf16,
            "fp16" | "float16" | "half" => Dtype::Fp16,
            "fp8" | "fp8_e4m3" | "e4m3" | "float8" => Dtype::Fp8,
            "int8" | "w8a8" | "w8a16" => Dtype::Int8,
            "int4" | "w4a16" | "gptq" | "awq" => Dtype::Int4,
            "fp4" | "nvfp4" => Dtype::Fp4,
            "mxfp4" => Dtype::Mxfp4,
            other => {
                return Err(format!(
                    "unknown precision `{other}`; expected one of: {}",
                    Dtype::ALL.map(Dtype::as_str).join(", ")
                ))
            }
        })
    }
}

/// Reads the names [`FromStr`] accepts (the plan JSON writes [`Dtype::as_str`]).
impl<'de> serde::Deserialize<'de> for Dtype {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = <String as serde::Deserialize>::deserialize(deserializer)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_roundtrip() {
        for d in Dtype::ALL {
            assert_eq!(d.as_str().parse::<Dtype>(), Ok(d));
        }
        assert_eq!("BFloat16".parse::<Dtype>(), Ok(Dtype::Bf16));
        assert!("fp5".parse::<Dtype>().is_err());
    }

    #[test]
    fn quantized_sizes_include_scales() {
        assert!(Dtype::Int4.bytes() > 0.5 && Dtype::Int4.bytes() < 0.53);
        assert!(Dtype::Fp4.bytes() > Dtype::Mxfp4.bytes());
        assert!(!Dtype::Bf16.is_quantized());
    }
}
