//! IL126 `sagemaker-model-does-not-fit`.

use super::super::context::cloudformation::{Eval, SageMakerEndpoint};
use super::super::{finding, num, Context, Finding, Rule, Severity, GIB};
use super::sagemaker::variant_weights;
use crate::yaml::Node;
use inferplan_catalog::Dtype;
use inferplan_perf::memory::weight_bytes;

inferplan_plan::declare_rule! {
    /// **What it checks.** A production variant of a SageMaker endpoint whose `ml.` instance
    /// cannot hold its model: the weights per GPU (the memory model's `weight_bytes`, as IL109
    /// counts them for engines other than vLLM: the checkpoint's format, or FP8 with
    /// `OPTION_QUANTIZE=fp8`, split over `OPTION_TENSOR_PARALLEL_DEGREE` ×
    /// `OPTION_PIPELINE_PARALLEL_DEGREE`, all the instance's GPUs when unset or `max`) above the
    /// memory of one GPU, or a parallel degree above the instance's GPUs. The model is the
    /// container's `HF_MODEL_ID` looked up in the catalog.
    ///
    /// **Why it matters.** The container fails to load the model with CUDA out of memory, never
    /// answers `/ping`, and SageMaker retries the instance until the endpoint creation fails,
    /// each attempt billed. Nothing in the template is wrong for CloudFormation: cfn-lint
    /// cannot see it.
    ///
    /// **Example.**
    ///
    /// > ml.g6e.xlarge (1 × L40S, 44.7 GiB per GPU) cannot load Qwen/Qwen2.5-32B-Instruct: its
    /// > bf16 weights take 61 GiB per GPU with TP 1 × PP 1. Use an instance with more GPUs
    /// > (and OPTION_TENSOR_PARALLEL_DEGREE), a smaller checkpoint (FP8, INT4), or a GPU with
    /// > more memory.
    ///
    /// **Fix.** `inferplan plan` sizes the instance and TP for the model and the SLOs;
    /// `inferplan render --platform sagemaker` writes them.
    pub struct SageMakerModelDoesNotFit {
        code: "IL126",
        name: "sagemaker-model-does-not-fit",
        severity: Error,
        summary: "a SageMaker variant's instance must hold its model's weights",
        docs: "docs/lint.md#il126-sagemaker-model-does-not-fit",
    }
}

/// A parallel degree from the LMI environment: the value, `max` (all GPUs), or unset.
fn degree(env: &Node, keys: &[&str], all: u32) -> Result<u32, String> {
    for k in keys {
        if let Some(v) = env.get(k) {
            let text = v.text().unwrap_or_default();
            if text.trim() == "max" {
                return Ok(all);
            }
            return text
                .trim()
                .parse::<u32>()
                .ok()
                .filter(|d| *d > 0)
                .ok_or_else(|| format!("{k} is `{text}`"));
        }
    }
    Ok(all)
}

impl Rule for SageMakerModelDoesNotFit {
    fn check(&self, ctx: &Context<'_>) -> Vec<Finding> {
        let mut out = Vec::new();
        for t in &ctx.templates {
            for e in SageMakerEndpoint::all(t) {
                let Ok(Some(config)) = e.config else {
                    continue;
                };
                for v in e.variants() {
                    let Ok(Some(w)) = variant_weights(ctx, &e, v) else {
                        continue;
                    };
                    let Some(gpu) = ctx.catalog.instance_gpu(w.instance) else {
                        continue;
                    };
                    let Some(mem) = w.instance.gpu_mem_gib().or_else(|| gpu.memory_gib()) else {
                        continue;
                    };
                    let gpus = w.instance.whole_gpus();
                    let tp = degree(
                        w.env,
                        &["OPTION_TENSOR_PARALLEL_DEGREE", "TENSOR_PARALLEL_DEGREE"],
                        gpus,
                    );
                    let pp = degree(w.env, &["OPTION_PIPELINE_PARALLEL_DEGREE"], 1);
                    let (Ok(tp), Ok(pp)) = (tp, pp) else {
                        continue;
                    };
                    let line = match t.string(v.get("InstanceType")) {
                        Eval::Value(_) => v.entry("InstanceType").map_or(config.line, |x| x.line),
                        _ => config.line,
                    };
                    let where_ = format!(
                        "ml.{} ({} × {}, {} GiB per GPU)",
                        w.instance.name,
                        gpus,
                        gpu.name,
                        num(mem, 1)
                    );
                    if tp.saturating_mul(pp) > gpus {
                        out.push(finding(
                            self,
                            Severity::Error,
                            &config.object(),
                            line,
                            format!(
                                "{} asks for TP {tp} × PP {pp} on {where_}: the engine cannot \
                                 start with more GPUs than the instance has. Lower the degrees \
                                 or use an instance with more GPUs.",
                                w.hf_id
                            ),
                        ));
                        continue;
                    }
                    let quantize = w
                        .env
                        .get("OPTION_QUANTIZE")
                        .and_then(Node::text)
                        .is_some_and(|q| q.eq_ignore_ascii_case("fp8"));
                    let format = if quantize { Dtype::Fp8 } else { w.format };
                    let (_, per_gpu) = weight_bytes(w.model, format, tp, pp);
                    if per_gpu <= mem * GIB {
                        continue;
                    }
                    out.push(finding(
                        self,
                        Severity::Error,
                        &config.object(),
                        line,
                        format!(
                            "{where_} cannot load {}: its {format} weights take {} GiB per GPU \
                             with TP {tp} × PP {pp}. Use an instance with more GPUs (and \
                             OPTION_TENSOR_PARALLEL_DEGREE), a smaller checkpoint (FP8, INT4), \
                             or a GPU with more memory.",
                            w.hf_id,
                            num(per_gpu / GIB, 1)
                        ),
                    ));
                }
            }
        }
        out
    }
}
