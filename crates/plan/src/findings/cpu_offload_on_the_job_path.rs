//! IP112 `cpu-offload-on-the-job-path` (diffusion plans).

use crate::diffusion::DiffusionCandidate;
use crate::findings::{Finding, Severity};
use inferplan_perf::diffusion::Offload;

crate::declare_rule! {
    /// **What it checks.** The job fits the candidate's GPU only with its weights offloaded to host
    /// memory: model offload (one pipeline component on the GPU at a time, each copied over PCIe once
    /// per job) or sequential offload (the denoiser streamed block by block at every step).
    ///
    /// **Why it matters.** Article [B]: on 24 GB GPUs "CPU offloading required for clips > 8s at
    /// 720p, predictable latency collapse". The plan's job time includes the transfers at 80 % of the
    /// PCIe x16 peak, but real transfers depend on pinned host memory and on other GPUs of the host
    /// sharing the PCIe root complex, so the tail varies more than predicted.
    ///
    /// **What to do.** Prefer a GPU with more memory or FP8 weights where the plan shows one at a
    /// similar cost; otherwise measure the job time on the target instance before committing to the
    /// latency promise.
    ///
    /// **Example message.**
    ///
    /// > A job needs model CPU offload on L40S (35.7 GiB peak): weights cross PCIe during every job,
    /// > so latency depends on host memory and PCIe contention and varies from job to job. A GPU with
    /// > more memory, or fp8 weights, removes it.
    pub struct CpuOffloadOnTheJobPath {
        code: "IP112",
        name: "cpu-offload-on-the-job-path",
        severity: Warning,
        summary: "diffusion: a job fits the GPU only with weights offloaded to host memory",
        docs: "docs/findings.md#ip112-cpu-offload-on-the-job-path",
    }
}

/// The IP112 finding about a diffusion candidate, if [`CpuOffloadOnTheJobPath`] applies.
pub fn cpu_offload_on_the_job_path(c: &DiffusionCandidate) -> Option<Finding> {
    if c.offload == Offload::None {
        return None;
    }
    Some(CpuOffloadOnTheJobPath::META.diagnostic(
        Severity::Warning,
        (),
        format!(
            "A job needs {} CPU offload on {} ({:.1} GiB peak): weights cross PCIe during every job, so latency depends on host memory and PCIe contention and varies from job to job. A GPU with more memory, or fp8 weights, removes it.",
            c.offload.as_str(),
            c.gpu,
            c.peak_memory_gib
        ),
    ))
}
