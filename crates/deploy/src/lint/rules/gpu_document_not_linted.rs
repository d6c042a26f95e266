//! IL121 `gpu-document-not-linted`.

use super::super::{finding, Context, Finding, Rule, Severity};

inferplan_plan::declare_rule! {
    /// **What it checks.** Every document that asks for GPUs (`nvidia.com/gpu`, `amd.com/gpu`,
    /// anywhere in it) or is a KAITO Workspace, and that lint could not read as pods: a custom
    /// resource lint does not read, a document without `kind`, a workload without its pod template,
    /// an LLMInferenceService whose pods come from its configs, a KAITO Workspace that runs a
    /// preset. Lint reads the pod templates of Deployments, StatefulSets, DaemonSets, ReplicaSets,
    /// Jobs, CronJobs, Pods, LeaderWorkerSets, KubeRay's RayCluster, RayService and RayJob,
    /// KServe's InferenceService, ServingRuntime, ClusterServingRuntime, LLMInferenceService and
    /// LLMInferenceServiceConfig, and KAITO Workspaces with `inference.template`.
    ///
    /// **Why it matters.** A clean lint run should mean the GPU servers were checked, not that
    /// they were skipped. This note says which documents the other rules did not see and where the
    /// pods to lint are.
    ///
    /// **Example.**
    ///
    /// > Not linted: KAITO generates its pods from preset `falcon-7b` on `Standard_NC24ads_A100_v4`:
    /// > lint the Deployment or StatefulSet it creates (kubectl get deployment,statefulset -o yaml).
    ///
    /// **Fix.** Lint the objects the operator creates (`kubectl get ... -o yaml | inferplan lint -`),
    /// or the configs the resource refers to.
    pub struct GpuDocumentNotLinted {
        code: "IL121",
        name: "gpu-document-not-linted",
        severity: Info,
        summary: "documents with GPU pods that lint could not read, and why",
        docs: "docs/lint.md#il121-gpu-document-not-linted",
    }
}

impl Rule for GpuDocumentNotLinted {
    fn check(&self, ctx: &Context<'_>) -> Vec<Finding> {
        ctx.not_linted
            .iter()
            .map(|(object, why)| {
                finding(
                    self,
                    Severity::Info,
                    object,
                    0,
                    format!("Not linted: {why}."),
                )
            })
            .collect()
    }
}
