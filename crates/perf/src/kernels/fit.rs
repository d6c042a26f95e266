//! Fits the kernel curves to the measured kernel points of `data/perf/kernels.csv`.
//!
//! Each (GPU, op, format, GPU count) gets its own curve, minimising the mean absolute log
//! error by a pattern search in log space from a few starts. Points the datasheet cannot
//! explain are left out: a GEMM or attention call that moved its bytes faster than the
//! memory's peak was measured with its working set in a warm L2 cache (small shapes on L40S
//! and RTX PRO), which a serving step of a whole model does not see.

use super::step::moe_work;
use super::{moe_math, Curve, CurveSet, Entry, Multipliers, Op, Peaks};
use crate::estimate::pcie_bytes_s;
use inferplan_catalog::stats::quantile_sorted;
use inferplan_catalog::table::Table;
use inferplan_catalog::{Catalog, Dtype, Gpu};
use std::collections::BTreeMap;

/// The columns a kernel file has.
pub const KERNEL_COLUMNS: [&str; 16] = [
    "gpu",
    "op",
    "dtype",
    "m",
    "n",
    "k",
    "batch",
    "context",
    "heads",
    "kv_heads",
    "head_dim",
    "gpus",
    "message_elements",
    "experts",
    "top_k",
    "latency_ms",
];

/// One measured kernel call, as work and peaks.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Point {
    /// FLOPs of the call.
    pub flops: f64,
    /// Bytes it moves (memory, or over the link).
    pub bytes: f64,
    /// The op's size variable.
    pub size: f64,
    /// Peaks of the GPU.
    pub peaks: Peaks,
    /// Measured seconds.
    pub seconds: f64,
}

/// A kernel file that cannot be read.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{origin}: {message}")]
pub struct KernelFileError {
    /// File name.
    pub origin: String,
    /// What is wrong, with the line and field.
    pub message: String,
}

type Group = (String, Op, Dtype, u32);

/// Reads a kernel file into points grouped by (GPU, op, format, GPUs). Rows of GPUs the
/// catalog does not have, or whose peaks it does not publish, are errors.
pub fn read_points(
    text: &str,
    origin: &str,
    catalog: &Catalog,
) -> Result<BTreeMap<Group, Vec<Point>>, KernelFileError> {
    let err = |message: String| KernelFileError {
        origin: origin.to_owned(),
        message,
    };
    let table = Table::parse(text, origin).map_err(|e| err(e.to_string()))?;
    table
        .require(&KERNEL_COLUMNS)
        .map_err(|e| err(e.to_string()))?;
    let mut out: BTreeMap<Group, Vec<Point>> = BTreeMap::new();
    for r in table.rows() {
        let line = r.line();
        let fail = |e: inferplan_catalog::CatalogError| err(e.to_string());
        let num = |c: &str| r.req_f64(c).map_err(fail);
        let gpu_name = r.req("gpu").map_err(fail)?;
        let gpu = catalog
            .gpu(gpu_name)
            .map_err(|e| err(format!("line {line}: field `gpu`: {e}")))?;
        let op_text = r.req("op").map_err(fail)?;
        let op = Op::parse(op_text)
            .ok_or_else(|| err(format!("line {line}: field `op`: unknown op `{op_text}`")))?;
        let dtype_text = r.req("dtype").map_err(fail)?;
        let dtype: Dtype = dtype_text.parse().map_err(|_| {
            err(format!(
                "line {line}: field `dtype`: unknown format `{dtype_text}`"
            ))
        })?;
        let missing = |what: &str| {
            err(format!(
                "line {line}: {}: {what} is not in the catalog",
                gpu.name
            ))
        };
        let mem = gpu
            .mem_bandwidth_gbs
            .ok_or_else(|| missing("memory bandwidth"))?
            * 1e9;
        let tflops = |d: Dtype| {
            gpu.tflops(d)
                .map(|t| t * 1e12)
                .ok_or_else(|| missing(&format!("{d} tensor throughput")))
        };
        let seconds = num("latency_ms")? / 1e3;
        let (point, gpus) = match op {
            Op::Gemm => {
                let (m, n, k) = (num("m")?, num("n")?, num("k")?);
                let act = if dtype == Dtype::Bf16 { 2.0 } else { 1.0 };
                let point = Point {
                    flops: 2.0 * m * n * k,
                    bytes: k * n * dtype.bytes() + m * k * act + m * n * 2.0,
                    size: m,
                    peaks: Peaks {
                        flops_s: tflops(dtype)?,
                        bytes_s: mem,
                    },
                    seconds,
                };
                (point, 1)
            }
            Op::DecodeAttention | Op::PrefillAttention => {
                let (batch, ctx) = (num("batch")?, num("context")?);
                let (heads, kv_heads, hd) = (num("heads")?, num("kv_heads")?, num("head_dim")?);
                let peaks = Peaks {
                    flops_s: tflops(Dtype::Bf16)?,
                    bytes_s: mem,
                };
                let point = if op == Op::DecodeAttention {
                    Point {
                        flops: 4.0 * batch * ctx * heads * hd,
                        bytes: batch * ctx * 2.0 * kv_heads * hd * dtype.bytes()
                            + batch * 2.0 * heads * hd * 2.0,
                        size: batch,
                        peaks,
                        seconds,
                    }
                } else {
                    Point {
                        flops: 4.0 * heads * hd * batch * ctx * (ctx + 1.0) / 2.0,
                        bytes: batch * ctx * (2.0 * heads + 2.0 * kv_heads) * hd * 2.0,
                        size: batch * ctx,
                        peaks,
                        seconds,
                    }
                };
                (point, 1)
            }
            Op::Moe => {
                let (tokens, inter, hidden) = (num("m")?, num("n")?, num("k")?);
                let whole = |c: &str| -> Result<u64, KernelFileError> {
                    match r.u64(c).map_err(fail)? {
                        Some(v) if v > 0 => Ok(v),
                        _ => Err(err(format!(
                            "line {line}: field `{c}`: must be a positive whole number"
                        ))),
                    }
                };
                let (experts, top_k) = (whole("experts")?, whole("top_k")?);
                if top_k > experts {
                    return Err(err(format!(
                        "line {line}: field `top_k`: {top_k} is more than the {experts} experts"
                    )));
                }
                let (flops, bytes, size) =
                    moe_work(tokens, experts, top_k, hidden, inter, dtype.bytes());
                let point = Point {
                    flops,
                    bytes,
                    size,
                    peaks: Peaks {
                        flops_s: tflops(moe_math(gpu, dtype))?,
                        bytes_s: mem,
                    },
                    seconds,
                };
                (point, 1)
            }
            Op::AllReduce => {
                let n = num("gpus")?;
                if !(2.0..=1024.0).contains(&n) {
                    return Err(err(format!(
                        "line {line}: field `gpus`: {n} is not 2..1024"
                    )));
                }
                let point = Point {
                    flops: 0.0,
                    // bf16 elements, 2 bytes each; each rank sends 2 (n - 1) / n of the buffer.
                    bytes: num("message_elements")? * 2.0 * 2.0 * (n - 1.0) / n,
                    size: 1.0,
                    peaks: Peaks {
                        flops_s: 1.0,
                        bytes_s: link_bytes_s(gpu),
                    },
                    seconds,
                };
                (point, n as u32)
            }
        };
        if !(point.seconds > 0.0 && point.seconds.is_finite()) {
            return Err(err(format!(
                "line {line}: field `latency_ms`: must be a positive number"
            )));
        }
        out.entry((gpu.name.clone(), op, dtype, gpus))
            .or_default()
            .push(point);
    }
    Ok(out)
}

/// One-way bytes/s of the GPU's own fabric: NVLink when it has it, else PCIe (as `estimate`
/// assumes for a deployment on that fabric).
pub fn link_bytes_s(g: &Gpu) -> f64 {
    g.nvlink_gbs
        .map_or_else(|| pcie_bytes_s(g), |bw| bw / 2.0 * 1e9)
}

/// Bounds of the parameters (floor in µs, compute fraction, half size, bandwidth fraction).
const LO: [f64; 4] = [0.1, 0.01, 1e-3, 0.01];
const HI: [f64; 4] = [1e5, 1.0, 1e9, 1.0];

fn curve_of(v: &[f64; 4]) -> Curve {
    let x = |i: usize| v[i].exp().clamp(LO[i], HI[i]);
    Curve {
        floor_s: x(0) / 1e6,
        compute: x(1),
        half: x(2),
        bandwidth: x(3),
    }
}

fn log_error(c: &Curve, p: &Point) -> f64 {
    let t = c.time(p.flops, p.bytes, p.size, &p.peaks, &Multipliers::ONE);
    (t / p.seconds).ln().abs()
}

/// Fits one curve to `points` (those the datasheet can explain).
pub fn fit_curve(points: &[Point]) -> Curve {
    let usable: Vec<Point> = points
        .iter()
        .copied()
        .filter(|p| p.bytes / p.seconds <= p.peaks.bytes_s)
        .collect();
    let pts = if usable.is_empty() {
        points.to_vec()
    } else {
        usable
    };
    let loss = |v: &[f64; 4]| {
        let c = curve_of(v);
        pts.iter().map(|p| log_error(&c, p)).sum::<f64>() / pts.len() as f64
    };
    let fastest = pts.iter().map(|p| p.seconds).fold(f64::INFINITY, f64::min);
    let mut best: Option<([f64; 4], f64)> = None;
    for half in [1.0, 32.0, 1024.0, 32768.0] {
        let start = [(fastest * 0.5e6).max(LO[0]), 0.7, half, 0.7].map(f64::ln);
        let (x, f) = pattern_search(start, &loss);
        if best.is_none_or(|(_, b)| f < b) {
            best = Some((x, f));
        }
    }
    curve_of(&best.map_or([0.0; 4], |(x, _)| x))
}

/// Compass search in log space within the bounds.
fn pattern_search(mut x: [f64; 4], f: &impl Fn(&[f64; 4]) -> f64) -> ([f64; 4], f64) {
    let mut best = f(&x);
    let mut step = 1.0;
    while step > 1e-3 {
        let mut improved = false;
        for d in 0..4 {
            for dir in [1.0, -1.0] {
                let mut y = x;
                y[d] = (y[d] + dir * step).clamp(LO[d].ln(), HI[d].ln());
                let v = f(&y);
                if v < best - 1e-12 {
                    best = v;
                    x = y;
                    improved = true;
                }
            }
        }
        if !improved {
            step /= 2.0;
        }
    }
    (x, best)
}

/// Fits every group of `points`; `fitted_on` is the provenance written with each curve.
pub fn fit(points: &BTreeMap<Group, Vec<Point>>, fitted_on: &str) -> CurveSet {
    let groups: Vec<(&Group, &Vec<Point>)> = points.iter().collect();
    let fitted = crate::parallel::map(&groups, &|_, _| {}, |(_, pts)| fit_curve(pts));
    let entries = groups
        .iter()
        .zip(fitted)
        .map(|((key, pts), curve)| {
            let mut apes: Vec<f64> = pts
                .iter()
                .map(|p| {
                    let t = curve.time(p.flops, p.bytes, p.size, &p.peaks, &Multipliers::ONE);
                    (t / p.seconds - 1.0).abs() * 100.0
                })
                .collect();
            apes.sort_by(f64::total_cmp);
            Entry {
                gpu: key.0.clone(),
                op: key.1,
                dtype: key.2,
                gpus: key.3,
                curve,
                rows: pts.len(),
                median_ape: quantile_sorted(&apes, 0.5).unwrap_or(0.0),
                p90_ape: quantile_sorted(&apes, 0.9).unwrap_or(0.0),
                fitted_on: fitted_on.to_owned(),
            }
        })
        .collect();
    CurveSet { entries }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fit_recovers_the_curve_that_made_its_points() {
        let truth = Curve {
            floor_s: 8e-6,
            compute: 0.75,
            half: 100.0,
            bandwidth: 0.85,
        };
        let peaks = Peaks {
            flops_s: 1e15,
            bytes_s: 3e12,
        };
        let points: Vec<Point> = [1.0, 4.0, 16.0, 64.0, 256.0, 1024.0, 4096.0, 16384.0]
            .iter()
            .flat_map(|&m| {
                [(4096.0, 4096.0), (8192.0, 16384.0)].map(|(n, k)| {
                    let (flops, bytes) = (2.0 * m * n * k, 2.0 * (n * k + m * (n + k)));
                    Point {
                        flops,
                        bytes,
                        size: m,
                        peaks,
                        seconds: truth.time(flops, bytes, m, &peaks, &Multipliers::ONE),
                    }
                })
            })
            .collect();
        let c = fit_curve(&points);
        for p in &points {
            let t = c.time(p.flops, p.bytes, p.size, &p.peaks, &Multipliers::ONE);
            assert!((t / p.seconds - 1.0).abs() < 0.03, "{c:?}");
        }
    }

    #[test]
    fn kernel_files_name_the_line_and_field_of_an_error() {
        let c = Catalog::embedded().unwrap();
        let head = KERNEL_COLUMNS.join(",");
        let e = read_points(
            &format!("{head}\nNo Such GPU,gemm,bf16,1,1,1,,,,,,,,,,0.1\n"),
            "k.csv",
            &c,
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("k.csv") && e.contains("line 2") && e.contains("`gpu`"),
            "{e}"
        );
        let e = read_points(
            &format!("{head}\nL40S,gemm,bf16,1,1,1,,,,,,,,,,-1\n"),
            "k.csv",
            &c,
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("k.csv:2") && e.contains("latency_ms"), "{e}");
        let ok = read_points(
            &format!("{head}\nL40S,all_reduce,bf16,,,,,,,,,2,1024,,,0.01\n"),
            "k.csv",
            &c,
        )
        .unwrap();
        assert_eq!(ok.values().map(Vec::len).sum::<usize>(), 1);
    }
}
