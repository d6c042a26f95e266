//! IL106 `missing-pod-disruption-budget`.

use super::super::context::Workload;
use super::super::{finding, Context, Finding, Rule, Severity};
use crate::yaml::Node;

inferplan_plan::declare_rule! {
    /// **What it checks.** A Deployment, StatefulSet or LeaderWorkerSet that runs an inference server
    /// with 2 or more replicas (`spec.replicas`, or the `maxReplicas` of an autoscaler that targets
    /// it), and no PodDisruptionBudget among the linted files in its namespace whose selector matches
    /// its pod labels (LeaderWorkerSet pods also carry `leaderworkerset.sigs.k8s.io/name`). A single
    /// replica is not flagged: a budget that forbids evicting the only replica blocks node drains.
    ///
    /// **Why it matters.** Node upgrades, drains and Karpenter consolidation evict pods through the
    /// eviction API, which only a budget limits. Without one, every replica on the drained nodes goes
    /// at once, and each takes minutes to come back (node start, image pull, model load). [B] lists
    /// "not configuring PodDisruptionBudget" among its failure patterns: node updates interrupt
    /// in-progress inference jobs, which are then reprocessed.
    ///
    /// **Example.**
    ///
    /// > Runs 3 replicas of an inference server but no PodDisruptionBudget selects its pods: a node
    /// > drain, upgrade or consolidation can evict them all at once, and each takes minutes to load
    /// > the model again. Add a PodDisruptionBudget with maxUnavailable: 1 and selector app=llm.
    ///
    /// **Fix.**
    ///
    /// ```yaml
    /// apiVersion: policy/v1
    /// kind: PodDisruptionBudget
    /// metadata: {name: llm}
    /// spec:
    ///   maxUnavailable: 1
    ///   selector:
    ///     matchLabels: {app: llm}
    /// ```
    ///
    /// Or a `minAvailable` that keeps the capacity the SLO needs. Lint it in the same run as the
    /// workload.
    pub struct MissingPodDisruptionBudget {
        code: "IL106",
        name: "missing-pod-disruption-budget",
        severity: Warning,
        summary: "replicated inference servers need a PodDisruptionBudget",
        docs: "docs/lint.md#il106-missing-pod-disruption-budget",
    }
}

impl Rule for MissingPodDisruptionBudget {
    fn check(&self, ctx: &Context<'_>) -> Vec<Finding> {
        let mut out = Vec::new();
        for w in &ctx.workloads {
            if !matches!(
                w.object.kind.as_str(),
                "Deployment" | "StatefulSet" | "LeaderWorkerSet"
            ) || !w.is_inference()
            {
                continue;
            }
            let max = ctx.max_replicas(w);
            if max < 2 {
                continue;
            }
            let labels = labels(w);
            let covered = ctx.pdbs.iter().any(|p| {
                p.object.same_namespace(&w.object)
                    && p.selector.is_some_and(|s| selects(s, &labels))
            });
            if covered {
                continue;
            }
            let selector = labels
                .iter()
                .find(|(k, _)| k != "leaderworkerset.sigs.k8s.io/name")
                .or(labels.first())
                .map(|(k, v)| format!(" and selector {k}={v}"))
                .unwrap_or_default();
            let replicas = if max == w.replica_count() {
                format!("{max} replicas")
            } else {
                format!("up to {max} replicas")
            };
            out.push(finding(
                self,
                Severity::Warning,
                &w.object,
                w.object.node.entry("kind").map_or(0, |e| e.line),
                format!(
                    "Runs {replicas} of an inference server but no PodDisruptionBudget selects \
                     its pods: a node drain, upgrade or consolidation can evict them all at \
                     once, and each takes minutes to load the model again. Add a \
                     PodDisruptionBudget with maxUnavailable: 1{selector}."
                ),
            ));
        }
        out
    }
}

/// Labels of the workload's pods.
fn labels(w: &Workload<'_>) -> Vec<(String, String)> {
    let mut l: Vec<(String, String)> = w.main_pod().map(|p| p.labels.clone()).unwrap_or_default();
    if w.object.kind == "LeaderWorkerSet" {
        l.push((
            "leaderworkerset.sigs.k8s.io/name".to_owned(),
            w.object.name.clone(),
        ));
    }
    l
}

/// True when a label selector matches `labels` (an empty selector matches every pod).
fn selects(selector: &Node, labels: &[(String, String)]) -> bool {
    let has = |k: &str| {
        labels
            .iter()
            .find(|(lk, _)| lk == k)
            .map(|(_, v)| v.as_str())
    };
    let match_labels = selector.at("matchLabels").entries().iter().all(|e| {
        let want = e.value.text().unwrap_or_default();
        has(&e.key) == Some(want.as_str())
    });
    let exprs = selector.at("matchExpressions").items().iter().all(|x| {
        let key = x.get("key").and_then(Node::text).unwrap_or_default();
        let op = x.get("operator").and_then(Node::text).unwrap_or_default();
        let values: Vec<String> = x
            .at("values")
            .items()
            .iter()
            .filter_map(Node::text)
            .collect();
        let v = has(&key);
        match op.as_str() {
            "In" => v.is_some_and(|v| values.iter().any(|x| x == v)),
            "NotIn" => v.is_none_or(|v| !values.iter().any(|x| x == v)),
            "Exists" => v.is_some(),
            "DoesNotExist" => v.is_none(),
            _ => false,
        }
    });
    match_labels && exprs
}
