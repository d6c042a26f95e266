//! IL115 `single-gpu-pods-on-large-nodes`.

use super::super::{finding, Context, Finding, Rule, Severity};

/// Fewest GPUs per node for which packing one-GPU pods is flagged.
const LARGE_NODE_GPUS: u32 = 4;

inferplan_plan::declare_rule! {
    /// **What it checks.** An inference workload with 2 or more replicas (or an autoscaler allowing 2
    /// or more) whose pods use one GPU each, and whose node selection (pod or NodePool) allows only
    /// instance types with 4 or more GPUs.
    ///
    /// **Why it matters.** A replica that uses one GPU gains nothing from neighbours on the same host
    /// (no NVLink traffic, no shared memory), but one node failure, reboot, drain or spot interruption
    /// takes several replicas down at once. When fewer replicas are needed, the node keeps running
    /// (and billing) all its GPUs until its last replica leaves, so scale-in saves little. One-GPU
    /// sizes of the same GPU (g6e.xlarge, g6.xlarge, g5.xlarge, p5.4xlarge, ...) keep the blast
    /// radius to one replica, schedule more flexibly and cost about the same per GPU. The planner's
    /// IP103 says the same about plans.
    ///
    /// **Example.**
    ///
    /// > Each pod uses 1 GPU but can only run on g6e.12xlarge (4 GPUs): up to 4 replicas share a node,
    /// > so one node failure or drain takes them down together, and the node's GPUs stay billed until
    /// > its last replica leaves. Prefer a 1-GPU size (g6e.xlarge, g6e.2xlarge, ...), or spread
    /// > replicas with a topologySpreadConstraint on kubernetes.io/hostname.
    ///
    /// **Fix.** Select a one-GPU size (or let Karpenter choose with
    /// `karpenter.k8s.aws/instance-gpu-count: 1`), or spread the replicas over nodes with a
    /// `topologySpreadConstraints` entry on `kubernetes.io/hostname` and keep spare capacity for a
    /// whole node.
    pub struct SingleGpuPodsOnLargeNodes {
        code: "IL115",
        name: "single-gpu-pods-on-large-nodes",
        severity: Info,
        summary: "one-GPU replicas are better on one-GPU instance sizes than packed on large nodes",
        docs: "docs/lint.md#il115-single-gpu-pods-on-large-nodes",
    }
}

impl Rule for SingleGpuPodsOnLargeNodes {
    fn check(&self, ctx: &Context<'_>) -> Vec<Finding> {
        let mut out = Vec::new();
        for w in &ctx.workloads {
            if !w.is_inference() || w.group_size > 1 || w.object.kind == "Job" {
                continue;
            }
            let Some(pod) = w.main_pod() else {
                continue;
            };
            if pod.gpus() != 1 || ctx.max_replicas(w) < 2 {
                continue;
            }
            let hw = ctx.hardware(pod, 1);
            if hw.instances.is_empty()
                || hw
                    .instances
                    .iter()
                    .any(|i| i.whole_gpus() < LARGE_NODE_GPUS)
            {
                continue;
            }
            let most = hw
                .instances
                .iter()
                .map(|i| i.whole_gpus())
                .max()
                .unwrap_or(0);
            let mut small: Vec<&str> = Vec::new();
            for i in ctx.catalog.instances() {
                if i.gpu_count == 1.0
                    && hw
                        .instances
                        .iter()
                        .any(|x| x.gpu == i.gpu && x.family == i.family)
                    && small.len() < 2
                {
                    small.push(&i.name);
                }
            }
            let prefer = if small.is_empty() {
                "Prefer a 1-GPU instance size".to_owned()
            } else {
                format!("Prefer a 1-GPU size ({}, ...)", small.join(", "))
            };
            let gpus_text = if hw.instances.len() == 1 {
                format!("{most} GPUs")
            } else {
                format!("up to {most} GPUs")
            };
            out.push(finding(
                self,
                Severity::Info,
                &w.object,
                if hw.line > 0 { hw.line } else { pod.line },
                format!(
                    "Each pod uses 1 GPU but can only run on {} ({gpus_text}): up to {most} \
                     replicas share a node, so one node failure or drain takes them down \
                     together, and the node's GPUs stay billed until its last replica leaves. \
                     {prefer}, or spread replicas with a topologySpreadConstraint on \
                     kubernetes.io/hostname.",
                    hw.names()
                ),
            ));
        }
        out
    }
}
