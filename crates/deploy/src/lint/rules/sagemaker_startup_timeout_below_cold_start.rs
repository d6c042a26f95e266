//! IL124 `sagemaker-startup-timeout-below-cold-start`.

use super::super::context::cloudformation::{Eval, SageMakerEndpoint};
use super::super::{finding, num, Context, Finding, Rule, Severity};
use super::sagemaker::variant_weights;
use inferplan_perf::Engine;
use inferplan_serving::cold_start::{cold_start_s, engine_start_s, Delivery, Node};

inferplan_plan::declare_rule! {
    /// **What it checks.** A production variant of a SageMaker endpoint config whose
    /// `ContainerStartupHealthCheckTimeoutInSeconds` is shorter than the cold start of its
    /// model on its instance, or, when the model reads S3 model data (`ModelDataUrl`,
    /// `ModelDataSource`), whose `ModelDataDownloadTimeoutInSeconds` is shorter than reading
    /// those weights. The cold start is the planner's model (`inferplan_serving::cold_start_s`:
    /// instance boot, engine start, and the checkpoint's download from S3 at the instance's
    /// network bandwidth), for the checkpoint named by the container's `HF_MODEL_ID` and the
    /// `ml.` instance type, both looked up in the catalog. A timeout that is an intrinsic
    /// function is reported as not evaluable; an unset one is SageMaker's default and not
    /// checked.
    ///
    /// **Why it matters.** SageMaker gives the container that long to answer `/ping` (and the
    /// download that long to finish); past it the instance is replaced and the endpoint
    /// creation or the scale-out fails, over and over, while each attempt is billed. The LMI
    /// container downloads the checkpoint named by `HF_MODEL_ID` inside that window.
    ///
    /// **Example.**
    ///
    /// > ContainerStartupHealthCheckTimeoutInSeconds of variant 1 is 120 s but
    /// > Qwen/Qwen2.5-32B-Instruct-AWQ (19.3 GB) takes about 197 s to start (boot + engine
    /// > start + weights from S3) on ml.g6e.xlarge (g6e.xlarge: boot 60 s + engine start 64 s
    /// > + 18 GiB from s3 at 0.27 GB/s (2.5 Gbps × 0.85) = 73 s): the health check fails
    /// > before the model is loaded, and SageMaker replaces the instance again and again.
    /// > Allow at least 197 s (`inferplan render --platform sagemaker` writes the cold start +
    /// > compile allowance, × 1.25).
    ///
    /// **Fix.** Raise the timeout (SageMaker accepts 60-3600 s); `inferplan render --platform
    /// sagemaker` writes the same startup budget as the EKS startup probe.
    pub struct SageMakerStartupTimeoutBelowColdStart {
        code: "IL124",
        name: "sagemaker-startup-timeout-below-cold-start",
        severity: Error,
        summary: "SageMaker startup and download timeouts must cover the model's cold start",
        docs: "docs/lint.md#il124-sagemaker-startup-timeout-below-cold-start",
    }
}

impl Rule for SageMakerStartupTimeoutBelowColdStart {
    fn check(&self, ctx: &Context<'_>) -> Vec<Finding> {
        let mut out = Vec::new();
        for t in &ctx.templates {
            for e in SageMakerEndpoint::all(t) {
                let Ok(Some(config)) = e.config else {
                    continue;
                };
                for (i, v) in e.variants().iter().enumerate() {
                    let w = match variant_weights(ctx, &e, v) {
                        Ok(Some(w)) => w,
                        Ok(None) | Err(_) => continue,
                    };
                    // The cold start without the instance boot (one model, one function with
                    // plan and render): with `ModelDataUrl` SageMaker copies the weights from
                    // S3 before the container starts; without it the container downloads them
                    // from the Hub itself. A new instance has no compile cache.
                    let delivery = if w.s3_model_data {
                        Delivery::S3ToNodeCache
                    } else {
                        Delivery::HubToNodeCache
                    };
                    let cold = cold_start_s(
                        delivery,
                        w.bytes as f64,
                        engine_start_s(Some(Engine::Vllm), false),
                        Some(w.instance),
                        Node::New,
                    );
                    let mut checks = vec![(
                        "ContainerStartupHealthCheckTimeoutInSeconds",
                        if w.s3_model_data {
                            cold.in_container_s()
                        } else {
                            cold.seconds - cold.boot_s
                        },
                        "to start (engine start without compile caches + weights)",
                    )];
                    if w.s3_model_data {
                        checks.push((
                            "ModelDataDownloadTimeoutInSeconds",
                            cold.fetch_s,
                            "to download from S3",
                        ));
                    }
                    for (key, need, what) in checks {
                        let at = v
                            .entry(key)
                            .map_or(config.line_of(&["ProductionVariants"]), |x| x.line);
                        match t.int(v.get(key)) {
                            Eval::Value(s) if (s as f64) < need => out.push(finding(
                                self,
                                Severity::Error,
                                &config.object(),
                                at,
                                format!(
                                    "{key} of variant {} is {s} s but {} ({} GB) takes about \
                                     {} s {what} on ml.{} ({}): the health check fails before \
                                     the model is loaded, and SageMaker replaces the instance \
                                     again and again. Allow at least {} s (`inferplan render \
                                     --platform sagemaker` writes the container's start × 1.25).",
                                    i + 1,
                                    w.hf_id,
                                    num(w.bytes as f64 / 1e9, 1),
                                    num(need.ceil(), 0),
                                    w.instance.name,
                                    cold.basis,
                                    num(need.ceil(), 0),
                                ),
                            )),
                            Eval::Opaque(x) => out.push(finding(
                                self,
                                Severity::Info,
                                &config.object(),
                                at,
                                format!(
                                    "Cannot check {key} of variant {} against the cold start \
                                     ({} s): it is `{x}`, which lint does not evaluate.",
                                    i + 1,
                                    num(need.ceil(), 0)
                                ),
                            )),
                            _ => {}
                        }
                    }
                }
            }
        }
        out
    }
}
