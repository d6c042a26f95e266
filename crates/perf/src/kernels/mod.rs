//! Kernel curves: per-GPU fits of silicon-measured kernel times (GEMMs, decode and prefill
//! attention, all-reduce, fused MoE layers), which replace the flat roofline efficiencies on
//! GPUs that have them.
//!
//! Every curve has one form, `time = floor + max(FLOPs / (peak · compute · x / (x + half)),
//! bytes / (bandwidth peak · bandwidth))`: a fixed cost per call, compute efficiency that
//! saturates with the op's size `x` (tokens of a GEMM, sequences of a decode-attention batch,
//! tokens of a prefill, rows per touched expert of a MoE layer), and a bandwidth fraction. The peaks are the catalog's datasheet
//! figures, so a fitted curve holds fractions, not seconds. The measured points are
//! `data/perf/kernels.csv` (extracted from AIConfigurator by `scripts/extract_aic_kernels.py`);
//! `inferplan calibrate data/perf/kernels.csv` fits `data/perf/kernel_curves.csv`, which is
//! embedded. GPUs without curves keep the roofline ([`crate::step`]).

pub mod fit;
pub mod step;

use crate::error::PerfError;
use inferplan_catalog::csv_writer::to_csv;
use inferplan_catalog::table::Table;
use inferplan_catalog::{Dtype, Gpu, Interconnect};
use std::sync::OnceLock;

const CURVES_CSV: &str = include_str!("../../../../data/perf/kernel_curves.csv");

/// Header of the curve file.
pub const CURVE_COLUMNS: &str =
    "gpu,op,dtype,gpus,floor_us,compute,half,bandwidth,rows,median_ape,p90_ape,fitted_on";

/// A kernel family.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Op {
    /// Dense matrix multiply; size = rows (tokens).
    Gemm,
    /// Attention of one generated token per sequence over its cache; size = sequences.
    DecodeAttention,
    /// Causal attention of prompt tokens; size = tokens.
    PrefillAttention,
    /// All-reduce of a bf16 buffer over `gpus` GPUs; no math.
    AllReduce,
    /// One fused MoE layer (routing, the gated expert GEMMs, the weighted sum) on one GPU, in
    /// its weight format; size = rows per expert the tokens touch (`moe_work` in `step.rs`).
    Moe,
}

impl Op {
    /// The name in the files.
    pub fn as_str(self) -> &'static str {
        match self {
            Op::Gemm => "gemm",
            Op::DecodeAttention => "decode_attention",
            Op::PrefillAttention => "prefill_attention",
            Op::AllReduce => "all_reduce",
            Op::Moe => "moe",
        }
    }

    /// Parses a file name.
    pub fn parse(s: &str) -> Option<Op> {
        [
            Op::Gemm,
            Op::DecodeAttention,
            Op::PrefillAttention,
            Op::AllReduce,
            Op::Moe,
        ]
        .into_iter()
        .find(|o| o.as_str() == s)
    }
}

/// Peak rates a curve is a fraction of, in SI units.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Peaks {
    /// FLOP/s of the op's math format.
    pub flops_s: f64,
    /// Bytes/s (memory, or the link for an all-reduce).
    pub bytes_s: f64,
}

/// One fitted curve.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Curve {
    /// Fixed time per call, seconds.
    pub floor_s: f64,
    /// Largest achieved fraction of peak FLOP/s.
    pub compute: f64,
    /// Size at which half of `compute` is reached.
    pub half: f64,
    /// Achieved fraction of peak bytes/s.
    pub bandwidth: f64,
}

impl Curve {
    /// Seconds for one call of `size` doing `flops` and moving `bytes`, with the engine's
    /// multipliers on the compute and bandwidth fractions.
    pub fn time(&self, flops: f64, bytes: f64, size: f64, p: &Peaks, m: &Multipliers) -> f64 {
        if size <= 0.0 {
            return 0.0;
        }
        let compute = flops * (size + self.half) / (size * p.flops_s * self.compute * m.compute);
        let memory = bytes / (p.bytes_s * self.bandwidth * m.bandwidth);
        self.floor_s * m.floor + compute.max(memory)
    }
}

/// Engine-specific multipliers on a curve's fractions (fitted by `inferplan calibrate` on
/// served rows; 1 is the measured kernel).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Multipliers {
    /// On the compute fraction.
    pub compute: f64,
    /// On the bandwidth fraction.
    pub bandwidth: f64,
    /// On the fixed time per call (engines fuse small kernels and replay them as graphs).
    pub floor: f64,
}

impl Multipliers {
    /// The measured kernels as they are.
    pub const ONE: Multipliers = Multipliers {
        compute: 1.0,
        bandwidth: 1.0,
        floor: 1.0,
    };
}

/// The math format of a fused MoE layer whose weights are in `weights` on `g`: MXFP4 runs with
/// FP8 activations (W4A8) where the GPU has FP4 tensor cores and with 16-bit ones (W4A16)
/// elsewhere, as AIConfigurator's tables name them; other formats run in their own.
pub fn moe_math(g: &Gpu, weights: Dtype) -> Dtype {
    match weights {
        Dtype::Mxfp4 if g.fp4_tflops.is_some() => Dtype::Fp8,
        Dtype::Mxfp4 => Dtype::Bf16,
        Dtype::Fp16 => Dtype::Bf16,
        other => other,
    }
}

/// One curve with what it applies to and how well it fits its points.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// Catalog GPU name.
    pub gpu: String,
    /// Kernel family.
    pub op: Op,
    /// Math (GEMM) or KV-cache (decode attention) format; `bf16` otherwise.
    pub dtype: Dtype,
    /// GPUs of an all-reduce; 1 otherwise.
    pub gpus: u32,
    /// The curve.
    pub curve: Curve,
    /// Measured points fitted.
    pub rows: usize,
    /// Median absolute percentage error of the fit on its points.
    pub median_ape: f64,
    /// 90th-percentile absolute percentage error.
    pub p90_ape: f64,
    /// Data and command that produced it.
    pub fitted_on: String,
}

/// Every fitted curve.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CurveSet {
    /// In file order.
    pub entries: Vec<Entry>,
}

impl CurveSet {
    /// The embedded curves, parsed once.
    pub fn embedded() -> Result<&'static CurveSet, PerfError> {
        static SET: OnceLock<Result<CurveSet, PerfError>> = OnceLock::new();
        SET.get_or_init(|| CurveSet::parse(CURVES_CSV, "data/perf/kernel_curves.csv"))
            .as_ref()
            .map_err(Clone::clone)
    }

    /// Parses a curve file.
    pub fn parse(text: &str, origin: &str) -> Result<CurveSet, PerfError> {
        let err = |message: String| PerfError::Params {
            origin: origin.to_owned(),
            message,
        };
        let table = Table::parse(text, origin).map_err(|e| err(e.to_string()))?;
        let mut entries = Vec::new();
        for r in table.rows() {
            let fail = |e: inferplan_catalog::CatalogError| err(e.to_string());
            let line = r.line();
            let op_text = r.req("op").map_err(fail)?;
            let op = Op::parse(op_text)
                .ok_or_else(|| err(format!("line {line}: field `op`: unknown op `{op_text}`")))?;
            let dtype_text = r.req("dtype").map_err(fail)?;
            let dtype: Dtype = dtype_text.parse().map_err(|_| {
                err(format!(
                    "line {line}: field `dtype`: unknown format `{dtype_text}`"
                ))
            })?;
            let positive = |name: &str, max: f64| -> Result<f64, PerfError> {
                let v = r.req_f64(name).map_err(fail)?;
                if v > 0.0 && v <= max {
                    Ok(v)
                } else {
                    Err(err(format!(
                        "line {line}: field `{name}`: {v} is outside (0, {max}]"
                    )))
                }
            };
            let ape = |name: &str| r.f64(name).map_err(fail).map(|v| v.unwrap_or(f64::NAN));
            entries.push(Entry {
                gpu: r.req("gpu").map_err(fail)?.to_owned(),
                op,
                dtype,
                gpus: r.u64("gpus").map_err(fail)?.unwrap_or(1).max(1) as u32,
                curve: Curve {
                    floor_s: positive("floor_us", 1e5)? / 1e6,
                    compute: positive("compute", 1.0)?,
                    half: positive("half", 1e9)?,
                    bandwidth: positive("bandwidth", 1.0)?,
                },
                rows: r.u64("rows").map_err(fail)?.unwrap_or(0) as usize,
                median_ape: ape("median_ape")?,
                p90_ape: ape("p90_ape")?,
                fitted_on: r.get("fitted_on").unwrap_or_default().to_owned(),
            });
        }
        Ok(CurveSet { entries })
    }

    /// The file text.
    pub fn to_csv(&self) -> String {
        let header = CURVE_COLUMNS.split(',').map(str::to_owned).collect();
        let rows = self.entries.iter().map(|e| {
            vec![
                e.gpu.clone(),
                e.op.as_str().to_owned(),
                e.dtype.as_str().to_owned(),
                e.gpus.to_string(),
                format!("{:.3}", e.curve.floor_s * 1e6),
                format!("{:.4}", e.curve.compute),
                format!("{:.4}", e.curve.half),
                format!("{:.4}", e.curve.bandwidth),
                e.rows.to_string(),
                format!("{:.1}", e.median_ape),
                format!("{:.1}", e.p90_ape),
                e.fitted_on.clone(),
            ]
        });
        to_csv(std::iter::once(header).chain(rows))
    }

    fn find(&self, gpu: &str, op: Op, dtype: Dtype, gpus: u32) -> Option<Curve> {
        self.entries
            .iter()
            .find(|e| e.gpu == gpu && e.op == op && e.dtype == dtype && e.gpus == gpus)
            .map(|e| e.curve)
    }

    /// The curves one replica uses, when the GPU has curves for its math format (GEMMs run in
    /// the weight format when the GPU's tensor cores take it, else in bf16) and its KV format;
    /// `None` keeps the roofline.
    /// The fused MoE curve is looked up in the weight format (`weights`; FP4 and MXFP4 stand
    /// in for each other, FP16 for BF16, INT8 for FP8), and is `None` where the GPU has no table
    /// for it.
    pub fn for_replica(
        &self,
        g: &Gpu,
        math: Dtype,
        weights: Dtype,
        kv: Dtype,
        tp: u32,
        link: Interconnect,
    ) -> Option<Kernels> {
        let math = match math {
            Dtype::Mxfp4 => Dtype::Fp4,
            Dtype::Fp16 => Dtype::Bf16,
            other => other,
        };
        let kv = match kv {
            Dtype::Fp8 | Dtype::Int8 | Dtype::Fp4 | Dtype::Mxfp4 | Dtype::Int4 => Dtype::Fp8,
            _ => Dtype::Bf16,
        };
        let gemm = self.find(&g.name, Op::Gemm, math, 1)?;
        let decode = self
            .find(&g.name, Op::DecodeAttention, kv, 1)
            .or_else(|| self.find(&g.name, Op::DecodeAttention, Dtype::Bf16, 1))?;
        let prefill = self.find(&g.name, Op::PrefillAttention, Dtype::Bf16, 1)?;
        // The all-reduce tables were measured over NVLink, or for GPUs without it over the
        // PCIe topology of one host, which says nothing of another host's: only an NVLink
        // replica of an NVLink GPU uses them; any other keeps the roofline's all-reduce.
        let nvlink =
            matches!(link, Interconnect::NvLink | Interconnect::NvSwitch) && g.nvlink_gbs.is_some();
        let all_reduce = if tp > 1 && nvlink {
            self.find(&g.name, Op::AllReduce, Dtype::Bf16, tp)
        } else {
            None
        };
        let tflops = |d: Dtype| g.tflops(d).map(|t| t * 1e12);
        let moe_format = match weights {
            Dtype::Fp16 => Dtype::Bf16,
            Dtype::Int8 => Dtype::Fp8,
            other => other,
        };
        let stand_in = match moe_format {
            Dtype::Fp4 => Some(Dtype::Mxfp4),
            Dtype::Mxfp4 => Some(Dtype::Fp4),
            _ => None,
        };
        let moe = [Some(moe_format), stand_in]
            .into_iter()
            .flatten()
            .find_map(|d| {
                let c = self.find(&g.name, Op::Moe, d, 1)?;
                Some(MoeCurve {
                    curve: c,
                    flops_s: tflops(moe_math(g, d))?,
                })
            });
        Some(Kernels {
            gemm,
            gemm_flops_s: tflops(math)?,
            decode,
            prefill,
            attention_flops_s: tflops(Dtype::Bf16).or_else(|| tflops(Dtype::Fp16))?,
            all_reduce,
            moe,
        })
    }
}

/// The fused MoE curve of a replica with the peak FLOP/s of its math format.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MoeCurve {
    /// The curve.
    pub curve: Curve,
    /// Peak FLOP/s of [`moe_math`] of its format.
    pub flops_s: f64,
}

/// The curves of one replica, resolved once so that a step evaluates them without lookups.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Kernels {
    /// GEMMs in the replica's math format.
    pub gemm: Curve,
    /// Peak FLOP/s of that format.
    pub gemm_flops_s: f64,
    /// Decode attention in the replica's KV format.
    pub decode: Curve,
    /// Prefill attention (bf16 math).
    pub prefill: Curve,
    /// Peak bf16 FLOP/s (attention math).
    pub attention_flops_s: f64,
    /// All-reduce over the replica's TP group, when measured for that many GPUs over NVLink.
    pub all_reduce: Option<Curve>,
    /// Fused MoE layers in the weight format, when the GPU has a table for it (else routed
    /// experts run as grouped GEMMs on the dense GEMM curve).
    pub moe: Option<MoeCurve>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use inferplan_catalog::Catalog;

    const C: Curve = Curve {
        floor_s: 5e-6,
        compute: 0.8,
        half: 64.0,
        bandwidth: 0.9,
    };
    const P: Peaks = Peaks {
        flops_s: 1e15,
        bytes_s: 1e12,
    };

    #[test]
    fn a_curve_is_its_floor_plus_the_larger_of_math_and_memory() {
        // Memory-bound: 9e8 bytes at 0.9 TB/s is 1 ms.
        let t = C.time(1e9, 9e8, 1.0, &P, &Multipliers::ONE);
        assert!((t - (5e-6 + 1e-3)).abs() < 1e-12, "{t}");
        // Compute-bound at size = half: half the compute fraction.
        let t = C.time(8e11, 0.0, 64.0, &P, &Multipliers::ONE);
        assert!((t - (5e-6 + 2e-3)).abs() < 1e-12, "{t}");
        // Multipliers act on the fractions; nothing to do takes no time.
        let slow = Multipliers {
            compute: 0.5,
            bandwidth: 0.5,
            floor: 1.0,
        };
        assert!(C.time(1e9, 9e8, 1.0, &P, &slow) > 2e-3);
        assert_eq!(C.time(1e9, 9e8, 0.0, &P, &Multipliers::ONE), 0.0);
    }

    #[test]
    fn the_embedded_curves_parse_and_cover_the_measured_gpus() {
        let set = CurveSet::embedded().unwrap();
        let c = Catalog::embedded().unwrap();
        for name in [
            "H100 SXM",
            "B200 (HGX/DGX B200, per GPU)",
            "L40S",
            "A100 80GB SXM4",
        ] {
            let g = c.gpu(name).unwrap();
            let k = set.for_replica(
                g,
                Dtype::Bf16,
                Dtype::Bf16,
                Dtype::Bf16,
                2,
                Interconnect::NvSwitch,
            );
            assert!(k.is_some(), "{name}");
        }
        // No tables: the roofline.
        let mi300 = c.gpu("MI300X").unwrap();
        assert!(set
            .for_replica(
                mi300,
                Dtype::Bf16,
                Dtype::Bf16,
                Dtype::Bf16,
                1,
                Interconnect::Single
            )
            .is_none());
        // The PCIe all-reduce tables describe one host: a GPU without NVLink keeps the
        // roofline's all-reduce, an NVLink GPU over NVLink uses its table.
        let l40s = c.gpu("L40S").unwrap();
        for link in [Interconnect::Pcie, Interconnect::NvSwitch] {
            let k = set.for_replica(l40s, Dtype::Bf16, Dtype::Bf16, Dtype::Bf16, 4, link);
            assert!(k.unwrap().all_reduce.is_none(), "{link:?}");
        }
        let h100 = c.gpu("H100 SXM").unwrap();
        let k = set.for_replica(
            h100,
            Dtype::Bf16,
            Dtype::Bf16,
            Dtype::Bf16,
            4,
            Interconnect::NvSwitch,
        );
        assert!(k.unwrap().all_reduce.is_some());
        let again = CurveSet::parse(&set.to_csv(), "round trip").unwrap();
        assert_eq!(again.entries.len(), set.entries.len());
    }

    #[test]
    fn moe_layers_use_the_fused_moe_curve_of_their_weight_format() {
        let set = CurveSet::embedded().unwrap();
        let c = Catalog::embedded().unwrap();
        let moe = |gpu: &str, weights: Dtype| {
            let g = c.gpu(gpu).unwrap();
            // The dense GEMMs' format, as `estimate` picks it.
            let math = match weights {
                Dtype::Fp4 | Dtype::Fp8 if g.tflops(weights).is_some() => weights,
                _ => Dtype::Bf16,
            };
            set.for_replica(g, math, weights, Dtype::Fp8, 1, Interconnect::Single)
                .unwrap()
                .moe
        };
        let b200 = "B200 (HGX/DGX B200, per GPU)";
        // Each format its own table; NVFP4 and MXFP4 stand in for each other: B200 has no
        // NVFP4 table (data/perf/KERNELS.md), the RTX PRO 6000 has both.
        let fp4 = moe(b200, Dtype::Fp4).unwrap();
        let mxfp4 = moe(b200, Dtype::Mxfp4).unwrap();
        assert_eq!(fp4, mxfp4);
        let rtx = "RTX PRO 6000 Blackwell Server Edition";
        assert_ne!(moe(rtx, Dtype::Fp4), moe(rtx, Dtype::Mxfp4));
        // MXFP4 computes with FP8 activations on Blackwell, 16-bit ones on Hopper.
        let g = c.gpu(b200).unwrap();
        assert_eq!(mxfp4.flops_s, g.tflops(Dtype::Fp8).unwrap() * 1e12);
        let h200 = moe("H200 SXM", Dtype::Mxfp4).unwrap();
        assert_eq!(
            h200.flops_s,
            c.gpu("H200 SXM").unwrap().tflops(Dtype::Bf16).unwrap() * 1e12
        );
        assert!(moe("H200 SXM", Dtype::Fp8).is_some());
        // 4-bit weights on Hopper run weight-only, as the W4A16 MXFP4 table measured.
        assert_eq!(moe("H200 SXM", Dtype::Fp4), Some(h200));
        // No table (INT4 experts; no 4-bit MoE table on L40S): grouped GEMMs on the dense
        // curve.
        assert!(moe(b200, Dtype::Int4).is_none());
        assert!(moe("L40S", Dtype::Fp4).is_none());
    }

    #[test]
    fn a_bad_curve_names_its_line_and_field() {
        let e = CurveSet::parse(
            &format!("{CURVE_COLUMNS}\nL40S,gemm,bf16,1,5,1.5,10,0.8,1,1,1,x\n"),
            "k.csv",
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("k.csv") && e.contains("line 2") && e.contains("compute"),
            "{e}"
        );
        let e = CurveSet::parse(
            &format!("{CURVE_COLUMNS}\nL40S,conv,bf16,1,5,0.5,10,0.8,1,1,1,x\n"),
            "k.csv",
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("line 2") && e.contains("`op`"), "{e}");
    }
}
