//! IL106 `missing-pod-disruption-budget`.

use super::super::context::Workload;
use super::super::{Context, Finding, Rule, Severity};
use crate::yaml::Node;

/// IL106 `missing-pod-disruption-budget`: replicated inference servers without a
/// PodDisruptionBudget.
///
/// **What it checks.** A Deployment, StatefulSet or LeaderWorkerSet that runs an inference
/// server (a recognised engine or a GPU) with 2 or more replicas (`spec.replicas`, or the
/// `maxReplicas` of its autoscaler), and no PodDisruptionBudget among the linted files in its
/// namespace whose selector matches its pod labels. LeaderWorkerSet pods also carry the
/// `leaderworkerset.sigs.k8s.io/name` label. Single-replica workloads are not flagged: a
/// budget that forbids evicting the only replica blocks node drains instead.
///
/// **Why it matters.** Node upgrades, drains and Karpenter consolidation evict pods through
/// the eviction API, which only a budget limits. Without one, every replica on the drained
/// nodes goes at once, and each takes minutes to come back (node start, image pull, model
/// load), so capacity drops to zero. Article B lists "not configuring PodDisruptionBudget"
/// among the failure patterns: updates interrupt in-flight inference jobs, which are redone.
///
/// **Example.** `Runs 3 replicas of an inference server but no PodDisruptionBudget selects its
/// pods: a node drain, upgrade or consolidation can evict them all at once, and each takes
/// minutes to load the model again. Add a PodDisruptionBudget with maxUnavailable: 1 and
/// selector app=llm.`
///
/// **Fix.** Add a `policy/v1` PodDisruptionBudget with `maxUnavailable: 1` (or a
/// `minAvailable` that keeps the capacity the SLO needs) selecting the pods' labels. Lint it
/// together with the workload (same run) so this rule sees it.
pub struct MissingPodDisruptionBudget;

impl Rule for MissingPodDisruptionBudget {
    fn code(&self) -> &'static str {
        "IL106"
    }

    fn name(&self) -> &'static str {
        "missing-pod-disruption-budget"
    }

    fn severity(&self) -> Severity {
        Severity::Warning
    }

    fn summary(&self) -> &'static str {
        "replicated inference servers need a PodDisruptionBudget"
    }

    fn docs(&self) -> &'static str {
        "docs/lint.md#il106-missing-pod-disruption-budget"
    }

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
            out.push(Finding::new(
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
