//! IL112 `ephemeral-storage-below-weights`.

use super::super::context::VolumeKind;
use super::super::{finding, num, Context, Finding, Rule, Severity, GIB};
use super::{download, gib, model_source, servers, ModelSource};

inferplan_plan::declare_rule! {
    /// **What it checks.** For a server whose model is in the catalog, where its weights land: a Hub
    /// or object-storage model is downloaded into its download directory (as in IL107); a local path
    /// lives on the volume mounted there. When that is an `emptyDir` on disk, its `sizeLimit` and the
    /// pod's ephemeral-storage limit (the sum of its containers' `limits.ephemeral-storage`, when every
    /// container sets one) apply; when it is the container's writable layer, the container's
    /// `limits.ephemeral-storage` applies. The rule fires when the smallest of these is below the
    /// checkpoint's download: the catalog's size of the checkpoint named (the engine's Hub id, or
    /// the one an init container pre-fetches), else the model's weights in the format stored. FP8
    /// served with `--quantization fp8` from a 16-bit checkpoint downloads the 16-bit weights,
    /// twice the FP8 size. Claimed volumes are IL120's; weights in the image are not checked.
    ///
    /// **Why it matters.** The kubelet evicts a pod whose emptyDir grows past its `sizeLimit`, or whose
    /// writable layers and emptyDirs grow past its ephemeral-storage limit. The download never
    /// completes: the pod is evicted, rescheduled, downloads again and is evicted again. [C]'s example
    /// mounts a 50 GiB emptyDir model cache: enough for an 8B model (16 GB), not for a 70B one
    /// (141 GB).
    ///
    /// **Example.** An init container copies Llama 3.3 70B into a 50 GiB emptyDir:
    ///
    /// > Llama 3.3 70B: the bf16 checkpoint (141.1 GB) is 131.4 GiB, stored in emptyDir `models`
    /// > (sizeLimit), limited to 50 GiB: the kubelet evicts the pod before the weights are in place.
    /// > Raise the limit to at least 145 GiB (download + 10 %), or keep the weights on a persistent
    /// > volume or local NVMe.
    ///
    /// **Fix.** Size `sizeLimit` and `ephemeral-storage` to the weights plus 10 % (and check the
    /// node's disk holds them: on instances with NVMe instance store, put the kubelet's ephemeral
    /// storage on it), or keep the weights on a persistent volume (PVC, FSx for Lustre, hostPath on
    /// local NVMe).
    pub struct EphemeralStorageBelowWeights {
        code: "IL112",
        name: "ephemeral-storage-below-weights",
        severity: Error,
        summary: "ephemeral storage that receives the weights must be larger than the weights",
        docs: "docs/lint.md#il112-ephemeral-storage-below-weights",
    }
}

impl Rule for EphemeralStorageBelowWeights {
    fn check(&self, ctx: &Context<'_>) -> Vec<Finding> {
        let mut out = Vec::new();
        for s in servers(ctx) {
            let Some(model) = s.engine.model() else {
                continue;
            };
            let Some((m, from_name)) = ctx.model(s.engine) else {
                continue;
            };
            let remote = model_source(&model.text) != ModelSource::Local;
            let path = s.weights_dir(&model.text);
            let volume = s.volume_at(&path).0;
            // Every limit that applies: (bytes, line, what).
            let mut limits: Vec<(f64, usize, String)> = Vec::new();
            match volume.map(|v| (&v.kind, v)) {
                Some((VolumeKind::EmptyDir { size_limit }, v)) => {
                    if let Some(l) = size_limit {
                        limits.push((
                            *l,
                            v.size_limit_line,
                            format!("emptyDir `{}` (sizeLimit)", v.name),
                        ));
                    }
                    let all: Option<Vec<f64>> = s
                        .pod
                        .containers
                        .iter()
                        .map(|c| c.ephemeral_limit.as_ref().map(|l| l.value))
                        .collect();
                    if let (Some(all), Some(l)) = (all, &s.container.ephemeral_limit) {
                        limits.push((
                            all.iter().sum(),
                            l.line,
                            format!(
                                "the pod's ephemeral storage (emptyDir `{}` counts against the \
                                 sum of its containers' ephemeral-storage limits)",
                                v.name
                            ),
                        ));
                    }
                }
                None if remote => {
                    if let Some(l) = &s.container.ephemeral_limit {
                        limits.push((
                            l.value,
                            l.line,
                            format!(
                                "the writable layer of container `{}` (limits.ephemeral-storage)",
                                s.container.name
                            ),
                        ));
                    }
                }
                _ => continue,
            }
            let Some((limit, line, what)) = limits.into_iter().min_by(|a, b| a.0.total_cmp(&b.0))
            else {
                continue;
            };
            let d = download(ctx, &s, m, from_name);
            let bytes = d.bytes;
            if limit >= bytes {
                continue;
            }
            let verb = if remote {
                "downloaded into"
            } else {
                "stored in"
            };
            out.push(finding(
                self,
                Severity::Error,
                &s.workload.object,
                line,
                format!(
                    "{}: {} is {} GiB, {verb} {what}, limited to {} GiB: the kubelet evicts the \
                     pod before the weights are in place. Raise the limit to at least {} GiB \
                     (download + 10 %), or keep the weights on a persistent volume or local \
                     NVMe.",
                    m.name,
                    d.describe(),
                    gib(bytes),
                    gib(limit),
                    num((bytes * 1.1 / GIB).ceil(), 0),
                ),
            ));
        }
        out
    }
}
