//! IL101 `gpu-request-limit-mismatch`.

use super::super::{Context, Finding, Rule, Severity};

/// IL101 `gpu-request-limit-mismatch`: GPU requests and limits that Kubernetes rejects.
///
/// **What it checks.** Every container and init container of every workload: a GPU request
/// (`nvidia.com/gpu`, `amd.com/gpu`) without a limit, a request that differs from the limit,
/// or a GPU count that is not a positive whole number.
///
/// **Why it matters.** GPUs are extended resources: they cannot be overcommitted or shared
/// through requests. Kubernetes uses the limit as the request, accepts both only when they
/// are equal, and rejects a request without a limit. The API server refuses the pod (or the
/// controller cannot create it), so the Deployment never gets a replica.
///
/// **Example.** `Container `vllm` requests 2 nvidia.com/gpu but limits 1: Kubernetes rejects
/// the pod (GPUs cannot be overcommitted, so requests must equal limits). Set `limits` to the
/// GPUs the engine uses and drop the request (it defaults to the limit), or make both equal.`
///
/// **Fix.** Put the GPU count in `resources.limits`; leave `requests` out (it defaults to
/// the limit) or set it to the same whole number.
pub struct GpuRequestLimitMismatch;

impl Rule for GpuRequestLimitMismatch {
    fn code(&self) -> &'static str {
        "IL101"
    }

    fn name(&self) -> &'static str {
        "gpu-request-limit-mismatch"
    }

    fn severity(&self) -> Severity {
        Severity::Error
    }

    fn summary(&self) -> &'static str {
        "GPU requests must equal GPU limits (or be left out), as whole numbers"
    }

    fn docs(&self) -> &'static str {
        "docs/lint.md#il101-gpu-request-limit-mismatch"
    }

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
                            out.push(Finding::new(
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
                        (Some(req), None) => out.push(Finding::new(
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
                            out.push(Finding::new(
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
