//! IL107 `weights-from-object-storage-at-start`.

use super::super::context::VolumeKind;
use super::super::{finding, num, Context, Finding, Rule, Severity};
use super::{download, download_dir, model_source, servers, ModelSource};

inferplan_plan::declare_rule! {
    /// **What it checks.** A recognised engine serves a model given as a Hugging Face Hub id
    /// (`org/name`) or an object-storage URI (`s3://`, `gs://`, `az://`, `hf://`), and the directory
    /// it downloads into (`--download-dir`, `HF_HUB_CACHE`, `HUGGINGFACE_HUB_CACHE`, `HF_HOME`,
    /// `TRANSFORMERS_CACHE`, else `/root/.cache/huggingface`, or `/data` for TGI) is not on a
    /// persistent volume (PVC, hostPath, NFS, CSI, a StatefulSet claim template; a generic ephemeral
    /// volume is deleted with its pod, so it is no cache), and no init container pre-fetches into
    /// that volume. `HF_HUB_OFFLINE=1` turns the rule off for
    /// Hub ids. Object-storage URIs are pulled at every start whatever is mounted, except when the
    /// engine streams them into GPU memory (vLLM's `--load-format runai_streamer`, the `s3` delivery
    /// `inferplan render` writes), which writes nothing to cache and reads at the network's rate.
    ///
    /// **Why it matters.** Each restart, reschedule and scale-out waits for the whole model to cross
    /// the network: 16 GB for an 8B model in BF16, 141 GB for a 70B one. [A] reports "5-15 minute cold
    /// starts" for 70B+ models loaded from S3 at pod start, which is also how long autoscaling lags a
    /// burst. The replica depends on the hub or bucket being reachable and not rate-limiting, and
    /// every node pays the transfer again. An `emptyDir` cache is lost when the pod moves.
    ///
    /// **Example.**
    ///
    /// > vLLM downloads meta-llama/Llama-3.1-8B-Instruct (16.1 GB in bf16) from the Hugging Face Hub
    /// > at every start into the container's writable layer: every restart, reschedule and scale-out
    /// > waits for it. Mount a persistent cache at /root/.cache/huggingface (a PVC, FSx for Lustre, or
    /// > hostPath on local NVMe), or pre-fetch to local NVMe with an init container.
    ///
    /// **Fix.** Pre-fetch the weights to the node's NVMe with an init container (parallel `s5cmd`,
    /// as [A] recommends) and point the engine at the local path, as `clean-vllm.yaml` does; or mount
    /// a persistent cache (FSx for Lustre, an EFS/NFS or PVC model store, a hostPath on local NVMe) at
    /// the download directory. Small models can be baked into the image.
    pub struct WeightsFromObjectStorageAtStart {
        code: "IL107",
        name: "weights-from-object-storage-at-start",
        severity: Warning,
        summary: "weights pulled from a hub or object storage at every start, with no persistent cache",
        docs: "docs/lint.md#il107-weights-from-object-storage-at-start",
    }
}

impl Rule for WeightsFromObjectStorageAtStart {
    fn check(&self, ctx: &Context<'_>) -> Vec<Finding> {
        let mut out = Vec::new();
        for s in servers(ctx) {
            let Some(model) = s.engine.model() else {
                continue;
            };
            let source = model_source(&model.text);
            if source == ModelSource::Local {
                continue;
            }
            // A stream from object storage into GPU memory (vLLM's Run:ai Model Streamer) is a
            // deliberate delivery: it reads with concurrent requests at the network's rate and
            // writes nothing to cache; its cold start is what IL104 checks the probes against.
            if source == ModelSource::ObjectStorage
                && s.engine
                    .load_format()
                    .is_some_and(|f| f.eq_ignore_ascii_case("runai_streamer"))
            {
                continue;
            }
            if s.container
                .env("HF_HUB_OFFLINE")
                .is_some_and(|v| v == "1" || v == "true")
                && source == ModelSource::Hub
            {
                continue;
            }
            let dir = download_dir(&s);
            let (volume, prefetched) = s.volume_at(&dir);
            let into = match volume.map(|v| &v.kind) {
                _ if source == ModelSource::ObjectStorage => "straight into GPU memory or a \
                                                             scratch directory"
                    .to_owned(),
                Some(VolumeKind::Persistent) => continue,
                _ if prefetched => continue,
                Some(VolumeKind::EmptyDir { .. }) | Some(VolumeKind::Memory { .. }) => format!(
                    "into emptyDir `{}`, which is lost when the pod moves",
                    volume.map_or("", |v| v.name.as_str())
                ),
                Some(VolumeKind::Ephemeral) => format!(
                    "into generic ephemeral volume `{}`, which is deleted with the pod",
                    volume.map_or("", |v| v.name.as_str())
                ),
                _ => "into the container's writable layer".to_owned(),
            };
            let from = match source {
                ModelSource::Hub => "the Hugging Face Hub",
                _ => "object storage",
            };
            let size = ctx
                .model(s.engine)
                .map(|(m, from_name)| {
                    let d = download(ctx, &s, m, from_name);
                    format!(" ({} GB in {})", num(d.bytes / 1e9, 1), d.format)
                })
                .unwrap_or_default();
            out.push(finding(
                self,
                Severity::Warning,
                &s.workload.object,
                model.line,
                format!(
                    "{} downloads {}{size} from {from} at every start {into}: every restart, \
                     reschedule and scale-out waits for it. Mount a persistent cache at {dir} \
                     (a PVC, FSx for Lustre, or hostPath on local NVMe), or pre-fetch to local \
                     NVMe with an init container.",
                    s.engine.kind, model.text
                ),
            ));
        }
        out
    }
}
