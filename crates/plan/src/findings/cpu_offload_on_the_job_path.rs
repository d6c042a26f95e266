//! IP112 `cpu-offload-on-the-job-path` (diffusion plans).

use crate::diffusion::DiffusionCandidate;
use crate::findings::{Finding, Severity};
use inferplan_perf::diffusion::Offload;

/// IP112 `cpu-offload-on-the-job-path`: a job only fits the GPU with its weights offloaded
/// to host memory.
///
/// **What it checks.** The cheapest way the job fits the candidate's GPU moves weights over
/// PCIe during the job: model offload (one pipeline component on the GPU at a time) or
/// sequential offload (the denoiser streamed block by block every step).
///
/// **Why it matters.** Article 001: on 24 GB GPUs "CPU offloading required for clips > 8s
/// at 720p, predictable latency collapse". The transfer time is in the job time the plan
/// shows, but it depends on pinned host memory and on other jobs sharing the PCIe root
/// complex, so tail latency varies more than the model says. A GPU with more memory, or fp8
/// weights, keeps the weights resident.
///
/// **Example.** `A job needs model CPU offload on L40S (35.7 GiB peak): weights cross PCIe
/// during every job, so latency depends on host memory and PCIe contention and varies from
/// job to job. A GPU with more memory, or fp8 weights, removes it.`
pub fn cpu_offload_on_the_job_path(c: &DiffusionCandidate) -> Option<Finding> {
    if c.offload == Offload::None {
        return None;
    }
    Some(Finding {
        code: "IP112",
        rule: "cpu-offload-on-the-job-path",
        severity: Severity::Warning,
        message: format!(
            "A job needs {} CPU offload on {} ({:.1} GiB peak): weights cross PCIe during every job, so latency depends on host memory and PCIe contention and varies from job to job. A GPU with more memory, or fp8 weights, removes it.",
            c.offload.as_str(),
            c.gpu,
            c.peak_memory_gib
        ),
        docs: "docs/findings.md#ip112-cpu-offload-on-the-job-path",
    })
}
