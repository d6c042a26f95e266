//! IL116 `count-out-of-range`.

use super::super::{finding, Context, Finding, Object, Rule, Severity};
use super::{servers, DEGREE_FLAGS};
use crate::render::k8s::MAX_REPLICAS;

inferplan_plan::declare_rule! {
    /// **What it checks.** `spec.replicas` of every workload (Deployment, StatefulSet,
    /// LeaderWorkerSet, ReplicaSet, ...), `minReplicas` and `maxReplicas` of HorizontalPodAutoscalers,
    /// and `minReplicaCount` and `maxReplicaCount` of KEDA ScaledObjects: each must be a whole number
    /// from 0 to 2147483647. A container running a recognised engine must not ask for 0 GPUs
    /// (`nvidia.com/gpu: 0` or `amd.com/gpu: 0`, in limits or requests). Each parallel degree of the
    /// engine (`--tensor-parallel-size`/`-tp`, `--pipeline-parallel-size`/`-pp`,
    /// `--data-parallel-size`/`-dp`; SGLang `--tp`, `--pp-size`, `--dp`; TGI `--num-shard`;
    /// TensorRT-LLM `--tp_size`, `--pp_size`) must be a whole number of at least 1.
    ///
    /// **Why it matters.** Replica fields are int32 in the Kubernetes API: the API server refuses a
    /// negative count or one above 2147483647 (often a template or script that computed it), so the
    /// object is never created. A serving container with 0 GPUs starts without a GPU visible to it and
    /// the engine fails at start. vLLM, SGLang and the others refuse a parallel degree of 0 at start.
    /// The other rules do not reason from such values: a replica count or autoscaler bound out of range
    /// is treated as unknown, and a server with a degree below 1 is skipped (IL102 used to read TP 0 as
    /// TP 1).
    ///
    /// **Example.**
    ///
    /// ```yaml
    /// spec:
    ///   replicas: 3000000000
    ///   ...
    ///           args: [--tensor-parallel-size, "0"]
    /// ```
    ///
    /// > `replicas: 3000000000` is above 2147483647, the largest replica count Kubernetes accepts (an
    /// > int32): the API server rejects the Deployment. Set the replicas you need (0 to 2147483647).
    ///
    /// > `--tensor-parallel-size 0` is not a tensor-parallel degree (a whole number of at least 1):
    /// > vLLM refuses to start. Set it to 1 or more, and give the pod TP × PP × DP GPUs.
    ///
    /// **Fix.** Write replica counts between 0 and 2147483647 (autoscaler minimums usually 1 or more),
    /// give each serving container the GPUs its engine uses (TP × PP × DP), and set each parallel
    /// degree to a whole number of at least 1.
    pub struct CountOutOfRange {
        code: "IL116",
        name: "count-out-of-range",
        severity: Error,
        summary: "replica counts must fit Kubernetes' int32, serving containers need GPUs, parallel \
             degrees must be at least 1",
        docs: "docs/lint.md#il116-count-out-of-range",
    }
}

/// Replica fields by kind.
const REPLICA_FIELDS: [(&str, &[&str]); 2] = [
    ("HorizontalPodAutoscaler", &["minReplicas", "maxReplicas"]),
    ("ScaledObject", &["minReplicaCount", "maxReplicaCount"]),
];

impl Rule for CountOutOfRange {
    fn check(&self, ctx: &Context<'_>) -> Vec<Finding> {
        let mut out = Vec::new();
        for w in &ctx.workloads {
            self.replicas(&w.object, &["replicas"], &mut out);
        }
        for a in &ctx.autoscalers {
            for (kind, fields) in REPLICA_FIELDS {
                if a.object.kind == kind {
                    self.replicas(&a.object, fields, &mut out);
                }
            }
        }
        for s in servers(ctx) {
            let c = s.container;
            for g in c.gpu_limit.iter().chain(c.gpu_request.iter()) {
                if g.value.trim().parse::<f64>().is_ok_and(|n| n == 0.0) {
                    out.push(finding(
                        self,
                        Severity::Error,
                        &s.workload.object,
                        g.line,
                        format!(
                            "Container `{}` runs {} but asks for 0 {}: it gets no GPU and the \
                             engine fails at start. Set the GPU limit to the GPUs the engine \
                             uses (TP × PP × DP).",
                            c.name, s.engine.kind, c.gpu_resource
                        ),
                    ));
                }
            }
            for (what, names) in DEGREE_FLAGS {
                if let Some(f) = s.engine.bad_degree(names) {
                    out.push(finding(
                        self,
                        Severity::Error,
                        &s.workload.object,
                        f.line,
                        format!(
                            "`--{} {}` is not a {what} degree (a whole number of at least 1): \
                             {} refuses to start. Set it to 1 or more, and give the pod TP × PP \
                             × DP GPUs.",
                            f.name,
                            f.value.as_deref().unwrap_or_default(),
                            s.engine.kind
                        ),
                    ));
                }
            }
        }
        out
    }
}

impl CountOutOfRange {
    /// Findings for the replica `fields` of `object`'s spec that are numbers outside
    /// 0..=[`MAX_REPLICAS`] or not whole.
    fn replicas(&self, object: &Object<'_>, fields: &[&str], out: &mut Vec<Finding>) {
        let spec = object.node.at("spec");
        for field in fields {
            let Some(e) = spec.entry(field) else {
                continue;
            };
            let Some(v) = e.value.as_f64().filter(|v| !v.is_nan()) else {
                continue;
            };
            let written = e.value.text().unwrap_or_default();
            let why = if v < 0.0 {
                "is negative"
            } else if v > f64::from(MAX_REPLICAS) {
                "is above 2147483647, the largest replica count Kubernetes accepts (an int32)"
            } else if v.fract() != 0.0 {
                "is not a whole number"
            } else {
                continue;
            };
            out.push(finding(
                self,
                Severity::Error,
                object,
                e.line,
                format!(
                    "`{field}: {written}` {why}: the API server rejects the {}. Set the \
                     replicas you need (0 to 2147483647).",
                    object.kind
                ),
            ));
        }
    }
}
