//! IL120 `claimed-cache-below-download`.

use super::super::context::VolumeKind;
use super::super::{finding, num, Context, Finding, Rule, Severity, GIB};
use super::{download, gib, model_source, servers, ModelSource};

inferplan_plan::declare_rule! {
    /// **What it checks.** Where a server's weights land (the download directory of a Hub or
    /// object-storage model, as in IL107, or the path of a local model) is a claimed volume whose
    /// size the manifests say: a PersistentVolumeClaim of the same run named by
    /// `persistentVolumeClaim.claimName`, a StatefulSet's `volumeClaimTemplates`, or a generic
    /// ephemeral volume's `volumeClaimTemplate` (`resources.requests.storage`). The rule fires when
    /// that size is below the checkpoint's download, counted as in IL112 (a 16-bit download for
    /// online FP8).
    ///
    /// **Why it matters.** The download stops with "No space left on device" and the server exits;
    /// the pod restarts and fails again, never serving. A volume sized for the FP8 weights cannot
    /// hold the 16-bit checkpoint an engine quantizes at load (141 GB for Llama 3.3 70B, against
    /// 71 GB in FP8).
    ///
    /// **Example.**
    ///
    /// > Llama 3.1 8B: meta-llama/Llama-3.1-8B-Instruct (bf16, 16.1 GB) is 15 GiB, downloaded into
    /// > PersistentVolumeClaim `model-cache` (claim.yaml) of volume `hf`, which asks for 10 GiB: the
    /// > download fails with "No space left on device" and the server never starts. Ask for at
    /// > least 17 GiB (download + 10 %).
    ///
    /// **Fix.** Ask for the checkpoint's download plus 10 % (more when several models share the
    /// volume), or serve a smaller checkpoint.
    pub struct ClaimedCacheBelowDownload {
        code: "IL120",
        name: "claimed-cache-below-download",
        severity: Error,
        summary: "a claimed volume that receives the weights must hold the checkpoint's download",
        docs: "docs/lint.md#il120-claimed-cache-below-download",
    }
}

impl Rule for ClaimedCacheBelowDownload {
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
            let Some(v) = s.volume_at(&path).0 else {
                continue;
            };
            if !matches!(v.kind, VolumeKind::Persistent | VolumeKind::Ephemeral) {
                continue;
            }
            let Some(size) = &v.claim_size else {
                continue;
            };
            let d = download(ctx, &s, m, from_name);
            if size.bytes >= d.bytes {
                continue;
            }
            // A claim in another file is reported at the pod's volume.
            let line = if size.what.starts_with("PersistentVolumeClaim") {
                v.line
            } else {
                size.line
            };
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
                    "{}: {} is {} GiB, {verb} {} of volume `{}`, which asks for {} GiB: the \
                     download fails with \"No space left on device\" and the server never \
                     starts. Ask for at least {} GiB (download + 10 %).",
                    m.name,
                    d.describe(),
                    gib(d.bytes),
                    size.what,
                    v.name,
                    gib(size.bytes),
                    num((d.bytes * 1.1 / GIB).ceil(), 0),
                ),
            ));
        }
        out
    }
}
