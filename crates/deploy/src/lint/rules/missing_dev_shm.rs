//! IL103 `missing-dev-shm`.

use super::super::context::VolumeKind;
use super::super::{finding, Context, Finding, Rule, Severity};
use super::{parallelism, servers};

inferplan_plan::declare_rule! {
    /// **What it checks.** A container runs an engine with TP × PP > 1 (TGI: more than one GPU), and
    /// its pod has neither `hostIPC: true` nor an `emptyDir` with `medium: Memory` mounted at
    /// `/dev/shm` in that container. For a LeaderWorkerSet every pod with GPUs is checked.
    ///
    /// **Why it matters.** Container runtimes give a container a 64 MiB `/dev/shm`. NCCL, which the
    /// engines use to all-reduce between the GPUs of a node, and PyTorch's worker processes put
    /// their buffers there. With 64 MiB, NCCL fails at start or under load ("Bus error", "unhandled
    /// system error", `failed to extend /dev/shm`) and the engine crashes when the first large batch
    /// arrives. vLLM's Docker instructions ask for `--ipc=host` or a large `--shm-size` for this
    /// reason. [B]'s reference architecture also gives its inference pods a memory-backed `/dev/shm`.
    ///
    /// **Example.**
    ///
    /// > vLLM runs TP 2 × PP 1 but in container `vllm` /dev/shm is the container runtime's 64 MiB
    /// > default: NCCL fails with a bus error or "unhandled system error" at start or under load.
    /// > Mount an emptyDir with medium: Memory at /dev/shm (sizeLimit 16Gi or more), or set hostIPC:
    /// > true.
    ///
    /// **Fix.**
    ///
    /// ```yaml
    /// volumes:
    ///   - name: dshm
    ///     emptyDir: {medium: Memory, sizeLimit: 16Gi}
    /// containers:
    ///   - name: vllm
    ///     volumeMounts:
    ///       - {name: dshm, mountPath: /dev/shm}
    /// ```
    ///
    /// Memory used there counts against the container's memory limit; size both accordingly. Or set
    /// `hostIPC: true` where the security policy allows it.
    pub struct MissingDevShm {
        code: "IL103",
        name: "missing-dev-shm",
        severity: Warning,
        summary: "tensor or pipeline parallelism needs a memory-backed /dev/shm for NCCL",
        docs: "docs/lint.md#il103-missing-dev-shm",
    }
}

impl Rule for MissingDevShm {
    fn check(&self, ctx: &Context<'_>) -> Vec<Finding> {
        let mut out = Vec::new();
        let mut seen = Vec::new();
        for s in servers(ctx) {
            let Some(p) = parallelism(&s) else {
                continue;
            };
            if p.tp * p.pp <= 1 {
                continue;
            }
            let key = s.workload.object.id() + s.workload.object.file;
            if seen.contains(&key) {
                continue;
            }
            seen.push(key);
            for pod in &s.workload.pods {
                if pod.host_ipc {
                    continue;
                }
                for c in &pod.containers {
                    let is_server = std::ptr::eq(c, s.container) || c.gpus() > 0;
                    // A Neuron device's collectives run between its cores, not through NCCL.
                    if !is_server || c.is_neuron() {
                        continue;
                    }
                    let shm = c
                        .mounts
                        .iter()
                        .find(|m| m.path.trim_end_matches('/') == "/dev/shm");
                    let backed = shm.and_then(|m| pod.volume(&m.name)).map(|v| &v.kind);
                    let problem = match backed {
                        Some(VolumeKind::Memory { .. }) => continue,
                        Some(_) => format!(
                            "/dev/shm is mounted from volume `{}`, which is not memory-backed",
                            shm.map_or("", |m| m.name.as_str())
                        ),
                        None => "/dev/shm is the container runtime's 64 MiB default".to_owned(),
                    };
                    out.push(finding(
                        self,
                        Severity::Warning,
                        &s.workload.object,
                        shm.map_or(c.line, |m| m.line),
                        format!(
                            "{} runs {} but in container `{}` {problem}: NCCL fails with a bus \
                             error or \"unhandled system error\" at start or under load. Mount an \
                             emptyDir with medium: Memory at /dev/shm (sizeLimit 16Gi or more), \
                             or set hostIPC: true.",
                            s.engine.kind,
                            p.describe(),
                            c.name
                        ),
                    ));
                }
            }
        }
        out
    }
}
