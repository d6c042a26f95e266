//! Accelerators: memory, bandwidth, tensor throughput per format, interconnect.

use crate::dtype::Dtype;
use crate::error::Result;
use crate::table::Row;
use serde::Serialize;

/// GPU generation, which decides what formats run natively.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Arch {
    /// NVIDIA Volta (V100).
    Volta,
    /// NVIDIA Turing (T4).
    Turing,
    /// NVIDIA Ampere (A10, A10G, A100).
    Ampere,
    /// NVIDIA Ada Lovelace (L4, L40S).
    Ada,
    /// NVIDIA Hopper (H100, H200).
    Hopper,
    /// NVIDIA Blackwell (B200, GB200, B300, RTX PRO 6000/4500).
    Blackwell,
    /// AMD CDNA 3 (MI300X, MI325X).
    Cdna3,
    /// AWS Inferentia/Trainium.
    Neuron,
    /// Anything else.
    Other,
}

impl Arch {
    /// Derives the generation from the catalog's `architecture` text.
    pub fn from_text(s: &str) -> Arch {
        let l = s.to_ascii_lowercase();
        if l.starts_with("volta") {
            Arch::Volta
        } else if l.starts_with("turing") {
            Arch::Turing
        } else if l.starts_with("ampere") {
            Arch::Ampere
        } else if l.starts_with("ada") {
            Arch::Ada
        } else if l.starts_with("hopper") {
            Arch::Hopper
        } else if l.starts_with("blackwell") {
            Arch::Blackwell
        } else if l.starts_with("cdna 3") || l.starts_with("cdna3") {
            Arch::Cdna3
        } else if l.starts_with("neuroncore") {
            Arch::Neuron
        } else {
            Arch::Other
        }
    }
}

/// How well a GPU runs a format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Support {
    /// Tensor cores run it.
    Native,
    /// Weights are stored in it and converted to 16 bit for the math (weight-only).
    WeightOnly,
    /// Runs only through emulation or slow fallback kernels.
    Emulated,
    /// Cannot run at all.
    Unsupported,
}

/// One accelerator model, per GPU (or per chip).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Gpu {
    /// Catalog name, e.g. `L40S`.
    pub name: String,
    /// `NVIDIA`, `AMD`, `AWS`, ...
    pub vendor: String,
    /// Architecture text as published, e.g. `Ada Lovelace (AD102)`.
    pub architecture: String,
    /// Generation derived from `architecture`.
    pub arch: Arch,
    /// Marketing memory size in GB.
    pub memory_gb_nominal: Option<f64>,
    /// Usable memory as EC2 or nvidia-smi reports it, in GiB.
    pub memory_gib_reported: Option<f64>,
    /// Peak memory bandwidth in GB/s.
    pub mem_bandwidth_gbs: Option<f64>,
    /// Dense FP32 TFLOPS.
    pub fp32_tflops: Option<f64>,
    /// Dense BF16 tensor TFLOPS.
    pub bf16_tflops: Option<f64>,
    /// Dense FP16 tensor TFLOPS.
    pub fp16_tflops: Option<f64>,
    /// Dense FP8 tensor TFLOPS.
    pub fp8_tflops: Option<f64>,
    /// Dense INT8 tensor TOPS.
    pub int8_tops: Option<f64>,
    /// Dense FP4 tensor TFLOPS.
    pub fp4_tflops: Option<f64>,
    /// Board power in W.
    pub tdp_w: Option<f64>,
    /// NVLink (or equivalent scale-up link) present.
    pub nvlink: bool,
    /// NVLink bandwidth per GPU in GB/s (bidirectional, as published).
    pub nvlink_gbs: Option<f64>,
    /// PCIe generation.
    pub pcie_gen: Option<u64>,
    /// Most MIG instances, when MIG is supported.
    pub mig_max_instances: Option<u64>,
    /// Where the numbers come from.
    pub source: String,
    /// Caveats from the catalog.
    pub notes: String,
}

impl Gpu {
    /// Reads a `gpus.csv` row.
    pub fn from_row(r: &Row<'_>) -> Result<Gpu> {
        let architecture = r.get("architecture").unwrap_or_default().to_owned();
        let mig = r.get("mig_support").unwrap_or("no").to_ascii_lowercase();
        let mig_max_instances = if mig.starts_with("yes") {
            r.get("mig_max_instances")
                .and_then(|s| s.split_whitespace().next())
                .and_then(|s| s.parse().ok())
        } else {
            None
        };
        Ok(Gpu {
            name: r.req("name")?.to_owned(),
            vendor: r.get("vendor").unwrap_or_default().to_owned(),
            arch: Arch::from_text(&architecture),
            architecture,
            memory_gb_nominal: r.f64("memory_gb_nominal")?,
            memory_gib_reported: r.f64("memory_gib_reported")?,
            mem_bandwidth_gbs: r.f64("mem_bandwidth_gbs")?,
            fp32_tflops: r.f64("fp32_tflops")?,
            bf16_tflops: r.f64("bf16_dense_tflops")?,
            fp16_tflops: r.f64("fp16_dense_tflops")?,
            fp8_tflops: r.f64("fp8_dense_tflops")?,
            int8_tops: r.f64("int8_dense_tops")?,
            fp4_tflops: r.f64("fp4_dense_tflops")?,
            tdp_w: r.f64("tdp_w")?,
            nvlink: r
                .get("nvlink")
                .is_some_and(|s| s.to_ascii_lowercase().starts_with("yes")),
            nvlink_gbs: r.f64("nvlink_gbs")?,
            pcie_gen: r.u64("pcie_gen")?,
            mig_max_instances,
            source: r.get("source_url").unwrap_or_default().to_owned(),
            notes: r.get("notes").unwrap_or_default().to_owned(),
        })
    }

    /// Usable memory per GPU in GiB: the reported figure, else the nominal one (flagged by
    /// [`Gpu::memory_is_nominal`]).
    pub fn memory_gib(&self) -> Option<f64> {
        self.memory_gib_reported.or(self.memory_gb_nominal)
    }

    /// True when only the nominal (marketing) memory size is known.
    pub fn memory_is_nominal(&self) -> bool {
        self.memory_gib_reported.is_none() && self.memory_gb_nominal.is_some()
    }

    /// Cores per chip of an AWS Neuron device (`NeuronCore-v2 (2 cores/chip)`), where TP
    /// degrees are published in cores; `None` for GPUs.
    pub fn cores_per_chip(&self) -> Option<u32> {
        let (_, rest) = self.architecture.split_once('(')?;
        let n = rest.strip_suffix(')').unwrap_or(rest).trim();
        n.strip_suffix("cores/chip")?.trim().parse().ok()
    }

    /// Dense tensor throughput for math in `dtype`, in TFLOPS, when published.
    pub fn tflops(&self, dtype: Dtype) -> Option<f64> {
        match dtype {
            Dtype::Fp32 => self.fp32_tflops,
            Dtype::Bf16 => self.bf16_tflops,
            Dtype::Fp16 => self.fp16_tflops,
            Dtype::Fp8 => self.fp8_tflops,
            Dtype::Int8 => self.int8_tops,
            Dtype::Fp4 | Dtype::Mxfp4 => self.fp4_tflops,
            Dtype::Int4 => None,
        }
    }

    /// Whether this GPU runs weights stored in `dtype`.
    ///
    /// FP8 needs Ada, Hopper or Blackwell (or CDNA 3) tensor cores; Ampere runs FP8
    /// checkpoints only as weight-only (Marlin) kernels and anything older cannot. FP4 is
    /// native on Blackwell; elsewhere it is weight-only at best. INT4 (GPTQ/AWQ) is
    /// weight-only everywhere but on Neuron chips, where NxD Inference has no INT4 path. BF16
    /// needs Ampere or newer; Volta and Turing fall back to FP16.
    pub fn support(&self, dtype: Dtype) -> Support {
        use Arch::*;
        let modern = matches!(
            self.arch,
            Ampere | Ada | Hopper | Blackwell | Cdna3 | Neuron | Other
        );
        match dtype {
            Dtype::Fp32 | Dtype::Fp16 => Support::Native,
            Dtype::Bf16 => {
                if self.bf16_tflops.is_some() || modern {
                    Support::Native
                } else {
                    Support::Emulated
                }
            }
            Dtype::Fp8 => {
                if self.fp8_tflops.is_some() || matches!(self.arch, Ada | Hopper | Blackwell) {
                    Support::Native
                } else if self.arch == Ampere {
                    Support::WeightOnly
                } else {
                    Support::Unsupported
                }
            }
            Dtype::Int8 => {
                if self.int8_tops.is_some() || modern || self.arch == Turing {
                    Support::Native
                } else {
                    Support::WeightOnly
                }
            }
            // NxD Inference quantizes weights to INT8 or FP8 only (aws-neuron-sdk
            // libraries/nxd-inference/developer_guides/feature-guide.rst @81ce03ae,
            // "Model Weight Quantization"): no GPTQ/AWQ INT4 kernels on Neuron chips.
            Dtype::Int4 if self.arch == Neuron => Support::Unsupported,
            Dtype::Int4 => Support::WeightOnly,
            Dtype::Fp4 | Dtype::Mxfp4 => {
                if self.fp4_tflops.is_some() || self.arch == Blackwell {
                    Support::Native
                } else if matches!(self.arch, Ampere | Ada | Hopper | Cdna3) {
                    Support::WeightOnly
                } else {
                    Support::Unsupported
                }
            }
        }
    }
}
