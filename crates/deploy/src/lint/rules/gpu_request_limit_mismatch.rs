//! IL101 `gpu-request-limit-mismatch`.

use super::super::{finding, Context, Finding, Rule, Severity};

inferplan_plan::declare_rule! {
    /// **What it checks.** Every container and init container of every workload: a GPU request
    /// (`nvidia.com/gpu`, `amd.com/gpu`) without a limit, a request that differs from the limit, or a
    /// GPU count that is not a whole number.
    ///
    /// **Why it matters.** GPUs are extended resources. Kubernetes cannot overcommit them: it uses
    /// the limit as the request, accepts both only when they are equal, and rejects a request without
    /// a limit. The API server refuses the pod, so the workload never gets a replica. [C]: "You cannot
    /// set GPU requests lower than limits. Set them equal."
    ///
    /// **Example.**
    ///
    /// ```yaml
    /// resources:
    ///   limits:
    ///     nvidia.com/gpu: 1
    ///   requests:
    ///     nvidia.com/gpu: 2
    /// ```
    ///
    /// > Container `vllm` requests 2 nvidia.com/gpu but limits 1: Kubernetes rejects the pod (GPUs
    /// > cannot be overcommitted, so requests must equal limits). Set `limits` to the GPUs the engine
    /// > uses and drop the request (it defaults to the limit), or make both equal.
    ///
    /// **Fix.** Put the GPU count in `resources.limits` and leave `requests` out, or set both to the
    /// same whole number. For fractions of a GPU use MIG or time-slicing resources.
    pub struct GpuRequestLimitMismatch {
        code: "IL101",
        name: "gpu-request-limit-mismatch",
        severity: Error,
        summary: "GPU requests must equal GPU limits (or be left out), as whole numbers",
        docs: "docs/lint.md#il101-gpu-request-limit-mismatch",
    }
}

impl Rule for GpuRequestLimitMismatch {
    fn check(&self, ctx: &Context<'_>) -> Vec<Finding> {
        let mut out = Vec::new();
        for w in &ctx.workloads {
            for pod in &w.pods {
                for c in pod.containers.iter().chain(pod.init_containers.iter()) {
                    let res = c.gpu_resource;
                    let fix = "Set `limits` to the GPUs the engine uses and drop the request \
                               (it defaults to the limit), or make both equal.";
                    for g in c.gpu_limit.iter().chain(c.gpu_request.iter()) {
                        let ok = g
                            .value
                            .trim()
                            .parse::<u64>()
                            .is_ok_and(|n| n > 0 || g.value.trim() == "0");
                        if !ok {
                            out.push(finding(
                                self,
                                Severity::Error,
                                &w.object,
                                g.line,
                                format!(
                                    "Container `{}` asks for `{}` {res}: GPU counts must be \
                                     whole numbers (a GPU cannot be split through requests; \
                                     use MIG or time-slicing resources for fractions).",
                                    c.name, g.value
                                ),
                            ));
                        }
                    }
                    match (&c.gpu_request, &c.gpu_limit) {
                        (Some(req), None) => out.push(finding(
                            self,
                            Severity::Error,
                            &w.object,
                            req.line,
                            format!(
                                "Container `{}` requests {} {res} without a limit: Kubernetes \
                                 rejects the pod (GPUs must be given in limits). {fix}",
                                c.name, req.value
                            ),
                        )),
                        (Some(req), Some(lim))
                            if req.value.trim() != lim.value.trim()
                                && req.value.trim().parse::<f64>().ok()
                                    != lim.value.trim().parse::<f64>().ok() =>
                        {
                            out.push(finding(
                                self,
                                Severity::Error,
                                &w.object,
                                req.line,
                                format!(
                                    "Container `{}` requests {} {res} but limits {}: \
                                     Kubernetes rejects the pod (GPUs cannot be overcommitted, \
                                     so requests must equal limits). {fix}",
                                    c.name, req.value, lim.value
                                ),
                            ))
                        }
                        _ => {}
                    }
                }
            }
        }
        out
    }
}
