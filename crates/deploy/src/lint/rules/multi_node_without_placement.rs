//! IL113 `multi-node-without-placement`.

use super::super::{finding, Context, Finding, Rule, Severity};
use super::{parallelism, servers};
use crate::yaml::Node;

inferplan_plan::declare_rule! {
    /// **What it checks.** A model replica spans nodes when more than one pod of a group holds GPUs (a
    /// LeaderWorkerSet group, a KServe predictor with a `workerSpec`, an LLMInferenceService with a
    /// `worker`), whatever the engine (vLLM, SGLang, TensorRT-LLM, Triton, or one lint does not
    /// recognise), or when the engine says so (`--nnodes` above 1; for a Ray cluster only then, since
    /// its worker groups are usually separate replicas). Such a workload needs
    ///
    /// - placement: the LeaderWorkerSet annotation `leaderworkerset.sigs.k8s.io/exclusive-topology`
    ///   (or `subgroup-exclusive-topology`), a required pod affinity with a `topologyKey`, or a node
    ///   requirement pinning one zone (`topology.kubernetes.io/zone` with one value) or a placement
    ///   group (a label key containing `placement-group`), in the pod or its NodePool;
    /// - EFA: when every candidate instance type has EFA, a `vpc.amazonaws.com/efa` resource in its
    ///   containers.
    ///
    /// **Why it matters.** Tensor and pipeline parallelism across nodes exchange activations every
    /// layer or stage. Spread over racks or zones, and over TCP instead of EFA with GPUDirect RDMA,
    /// that traffic dominates each step. [A]: without a cluster placement group "all-reduce latency
    /// can increase 10x, making model sharding economically unviable", and GPUDirect RDMA over EFA
    /// needs the nodes in one AZ ("do not distribute a single multi-node cluster across AZs").
    /// Cross-zone traffic is also billed. The planner's IP102 says the same about plans.
    ///
    /// **Example.**
    ///
    /// > Spans 2 nodes per replica (TP 8 × PP 2) but nothing keeps a group together (no
    /// > exclusive-topology annotation, required pod affinity, zone or placement-group pin), and its
    /// > containers request no EFA interfaces (vpc.amazonaws.com/efa) although p5.48xlarge has EFA:
    /// > cross-node all-reduce over a spread placement or TCP can be 10× slower. Add
    /// > leaderworkerset.sigs.k8s.io/exclusive-topology: topology.kubernetes.io/zone (or a
    /// > placement-group label) and run the nodes in a cluster placement group in one AZ. Request
    /// > vpc.amazonaws.com/efa in every pod of the group.
    ///
    /// **Fix.** As in `clean-multinode.yaml`: annotate the LeaderWorkerSet with
    /// `leaderworkerset.sigs.k8s.io/exclusive-topology: topology.kubernetes.io/zone`, launch the
    /// nodes from a dedicated NodePool in a cluster placement group in one AZ, and request
    /// `vpc.amazonaws.com/efa` (all the instance's interfaces) in every pod of the group.
    pub struct MultiNodeWithoutPlacement {
        code: "IL113",
        name: "multi-node-without-placement",
        severity: Warning,
        summary: "a replica spanning nodes needs one zone or placement group and EFA",
        docs: "docs/lint.md#il113-multi-node-without-placement",
    }
}

impl Rule for MultiNodeWithoutPlacement {
    fn check(&self, ctx: &Context<'_>) -> Vec<Finding> {
        let mut out = Vec::new();
        let all = servers(ctx);
        for w in &ctx.workloads {
            // The engine of the group, when one is recognised.
            let s = all
                .iter()
                .find(|s| std::ptr::eq(s.workload, w) && s.pod.role != "worker")
                .or_else(|| all.iter().find(|s| std::ptr::eq(s.workload, w)));
            let nnodes = s.and_then(|s| s.engine.nnodes()).map_or(1, |n| n.0);
            // Pods of one replica that hold GPUs; a Ray cluster's worker groups are separate
            // replicas unless the engine says it spans nodes.
            let pods = if w.operator == Some("KubeRay") {
                1
            } else {
                w.gpu_pods_per_replica()
            };
            let nodes = pods.max(nnodes);
            if nodes < 2 || w.gpu_pods_per_replica() == 0 {
                continue;
            }
            let annotations = w.object.node.path(&["metadata", "annotations"]);
            let exclusive = annotations.is_some_and(|a| {
                a.entries().iter().any(|e| {
                    e.key == "leaderworkerset.sigs.k8s.io/exclusive-topology"
                        || e.key == "leaderworkerset.sigs.k8s.io/subgroup-exclusive-topology"
                })
            });
            let mut placed = exclusive;
            let mut efa = false;
            let mut efa_capable = false;
            for pod in &w.pods {
                let affinity = pod
                    .spec
                    .path(&[
                        "affinity",
                        "podAffinity",
                        "requiredDuringSchedulingIgnoredDuringExecution",
                    ])
                    .map(Node::items)
                    .unwrap_or_default()
                    .iter()
                    .any(|t| t.get("topologyKey").is_some());
                let hw = ctx.hardware(pod, pod.gpus());
                let pinned = hw.requirements.iter().any(|r| {
                    let k = r.key.to_ascii_lowercase();
                    (r.operator == "In"
                        && r.values.len() == 1
                        && (k == "topology.kubernetes.io/zone"
                            || k == "failure-domain.beta.kubernetes.io/zone"))
                        || k.contains("placement-group")
                        || k.contains("placementgroup")
                });
                placed |= affinity || pinned;
                efa |= pod.containers.iter().any(|c| {
                    let r = c.node.at("resources");
                    r.at("limits").get("vpc.amazonaws.com/efa").is_some()
                        || r.at("requests").get("vpc.amazonaws.com/efa").is_some()
                });
                efa_capable |= !hw.instances.is_empty() && hw.instances.iter().all(|i| i.efa);
            }
            let missing_efa = efa_capable && !efa;
            if placed && !missing_efa {
                continue;
            }
            let layout = match s {
                Some(s) => parallelism(s).map_or_else(
                    || "parallel degrees not readable".to_owned(),
                    |p| format!("{} {}", s.engine.kind, p.describe()),
                ),
                None => "engine not recognised".to_owned(),
            };
            let main = w.main_pod().or(w.pods.first());
            let hw = match main {
                Some(p) => ctx.hardware(p, p.gpus()),
                None => continue,
            };
            let mut problems = Vec::new();
            if !placed {
                problems.push(
                    "nothing keeps a group together (no exclusive-topology annotation, required \
                     pod affinity, zone or placement-group pin)"
                        .to_owned(),
                );
            }
            if missing_efa {
                problems.push(format!(
                    "its containers request no EFA interfaces (vpc.amazonaws.com/efa) although \
                     {} has EFA",
                    hw.names()
                ));
            }
            let mut fixes = Vec::new();
            if !placed {
                fixes.push(
                    "Add leaderworkerset.sigs.k8s.io/exclusive-topology: \
                     topology.kubernetes.io/zone (or a placement-group label) and run the nodes \
                     in a cluster placement group in one AZ.",
                );
            }
            if missing_efa {
                fixes.push("Request vpc.amazonaws.com/efa in every pod of the group.");
            }
            let line = w
                .object
                .node
                .path(&["spec", "leaderWorkerTemplate"])
                .and_then(|t| t.entry("size"))
                .map(|e| e.line)
                .or_else(|| s.and_then(|s| s.engine.nnodes()).map(|n| n.1))
                .unwrap_or(w.object.line);
            out.push(finding(
                self,
                Severity::Warning,
                &w.object,
                line,
                format!(
                    "Spans {nodes} nodes per replica ({}) but {}: cross-node all-reduce over \
                     a spread placement or TCP can be 10× slower. {}",
                    layout,
                    problems.join(", and "),
                    fixes.join(" ")
                ),
            ));
        }
        out
    }
}
