//! IL125 `sagemaker-volume-below-checkpoint`.

use super::super::context::cloudformation::{Eval, SageMakerEndpoint};
use super::super::{finding, num, Context, Finding, Rule, Severity};
use super::sagemaker::variant_weights;

inferplan_plan::declare_rule! {
    /// **What it checks.** A production variant of a SageMaker endpoint config whose
    /// `VolumeSizeInGB` (the EBS volume SageMaker attaches to each instance) is smaller than
    /// the checkpoint its model downloads: the container's `HF_MODEL_ID` looked up in the
    /// catalog (`inferplan_serving::checkpoint::download_size`: the published size, or the
    /// weights derived from the parameters). An intrinsic function is reported as not
    /// evaluable; an unset volume is SageMaker's default and not checked.
    ///
    /// **Why it matters.** The container writes the download to that volume; when it is
    /// full the download fails with "No space left on device", the container never answers
    /// `/ping`, and the endpoint never becomes InService. SageMaker's guide for large model
    /// inference asks for a volume "slightly larger than the size of your model" above 30 GB.
    ///
    /// **Example.**
    ///
    /// > VolumeSizeInGB of variant 1 is 30 GB but Qwen/Qwen2.5-32B-Instruct downloads 65.5 GB
    /// > (derived: the bf16 weights of 32.76B parameters (embeddings and head 16-bit), as the
    /// > memory model counts them; no published size): the download fails with "No space left
    /// > on device" and the endpoint never becomes InService. Ask for at least 73 GB
    /// > (download + 10 %).
    ///
    /// **Fix.** `VolumeSizeInGB` of at least the download plus 10 % (up to 512 GB), or an
    /// instance with a local NVMe instance store.
    pub struct SageMakerVolumeBelowCheckpoint {
        code: "IL125",
        name: "sagemaker-volume-below-checkpoint",
        severity: Error,
        summary: "a SageMaker variant's volume must hold the checkpoint it downloads",
        docs: "docs/lint.md#il125-sagemaker-volume-below-checkpoint",
    }
}

impl Rule for SageMakerVolumeBelowCheckpoint {
    fn check(&self, ctx: &Context<'_>) -> Vec<Finding> {
        let mut out = Vec::new();
        for t in &ctx.templates {
            for e in SageMakerEndpoint::all(t) {
                let Ok(Some(config)) = e.config else {
                    continue;
                };
                for (i, v) in e.variants().iter().enumerate() {
                    let Some(entry) = v.entry("VolumeSizeInGB") else {
                        continue;
                    };
                    let gb = match t.int(Some(&entry.value)) {
                        Eval::Value(gb) => gb,
                        Eval::Opaque(x) => {
                            out.push(finding(
                                self,
                                Severity::Info,
                                &config.object(),
                                entry.line,
                                format!(
                                    "Cannot check VolumeSizeInGB of variant {} against the \
                                     checkpoint: it is `{x}`, which lint does not evaluate.",
                                    i + 1
                                ),
                            ));
                            continue;
                        }
                        _ => continue,
                    };
                    let Ok(Some(w)) = variant_weights(ctx, &e, v) else {
                        continue;
                    };
                    if gb as f64 * 1e9 >= w.bytes as f64 {
                        continue;
                    }
                    out.push(finding(
                        self,
                        Severity::Error,
                        &config.object(),
                        entry.line,
                        format!(
                            "VolumeSizeInGB of variant {} is {gb} GB but {} downloads {} GB \
                             ({}): the download fails with \"No space left on device\" and the \
                             endpoint never becomes InService. Ask for at least {} GB \
                             (download + 10 %).",
                            i + 1,
                            w.hf_id,
                            num(w.bytes as f64 / 1e9, 1),
                            w.basis,
                            num((w.bytes as f64 * 1.1 / 1e9).ceil(), 0)
                        ),
                    ));
                }
            }
        }
        out
    }
}
