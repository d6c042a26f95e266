//! IL119 `missing-readiness-probe`.

use super::super::{finding, Context, Finding, Rule, Severity};

inferplan_plan::declare_rule! {
    /// **What it checks.** When a Service of the same run selects the pods of a Deployment,
    /// StatefulSet, ReplicaSet or LeaderWorkerSet (every key of its `spec.selector` is a label of
    /// the pod template), the serving container of those pods (a recognised engine, else the first
    /// container with a GPU; for a LeaderWorkerSet the leader, which takes the traffic) has a
    /// `readinessProbe`. Jobs, bare Pods and the custom resources of serving operators (KServe,
    /// KubeRay, KAITO), which add their own probes, are not checked.
    ///
    /// **Why it matters.** Without a readiness probe a pod is ready as soon as its containers start,
    /// so its Service sends requests while the engine is still loading the weights, allocating the
    /// KV cache and capturing CUDA graphs (one to several minutes): clients get connection errors or
    /// 502s at every scale-out and rollout, and a rolling update takes down old pods before the new
    /// ones can serve. A startup or liveness probe does not gate traffic.
    ///
    /// **Example.**
    ///
    /// > Container `vllm` serves vLLM without a readinessProbe: Service `llm` sends it requests while
    /// > it is still loading the model, and a rollout retires old pods before the new ones serve.
    /// > Add a readinessProbe on the engine's health endpoint (vLLM: `GET /health` on port 8000).
    ///
    /// **Fix.** Add a `readinessProbe` on the engine's health endpoint (vLLM and SGLang `/health`,
    /// TGI `/health`, TensorRT-LLM `trtllm-serve` `/health`, LMDeploy `/health`, Triton
    /// `/v2/health/ready`), with a
    /// short period (5-10 s); keep a startup probe for the load time.
    pub struct MissingReadinessProbe {
        code: "IL119",
        name: "missing-readiness-probe",
        severity: Warning,
        summary: "a GPU server needs a readiness probe, or traffic reaches it while it loads",
        docs: "docs/lint.md#il119-missing-readiness-probe",
    }
}

impl Rule for MissingReadinessProbe {
    fn check(&self, ctx: &Context<'_>) -> Vec<Finding> {
        let mut out = Vec::new();
        for w in &ctx.workloads {
            let served = matches!(
                w.object.kind.as_str(),
                "Deployment" | "StatefulSet" | "ReplicaSet" | "LeaderWorkerSet"
            );
            if !served || w.operator.is_some() {
                continue;
            }
            let Some(pod) = w.main_pod() else {
                continue;
            };
            let Some(c) = pod.server() else {
                continue;
            };
            if c.readiness.is_some() || !c.is_inference() {
                continue;
            }
            let Some(service) = ctx.services.iter().find(|svc| {
                let sel = svc.node.at("spec").at("selector").entries();
                svc.same_namespace(&w.object)
                    && !sel.is_empty()
                    && sel.iter().all(|e| {
                        let want = e.value.text().unwrap_or_default();
                        pod.labels.iter().any(|(k, v)| *k == e.key && *v == want)
                    })
            }) else {
                continue;
            };
            let what = c
                .engine
                .as_ref()
                .map_or_else(|| "a model on a GPU".to_owned(), |e| e.kind.to_string());
            let endpoint = match c.engine.as_ref().map(|e| e.kind) {
                Some(super::EngineKind::Vllm) => " (vLLM: `GET /health` on port 8000)",
                Some(super::EngineKind::Sglang) => " (SGLang: `GET /health` on port 30000)",
                Some(super::EngineKind::Tgi) => " (TGI: `GET /health`)",
                Some(super::EngineKind::TrtLlm) => " (trtllm-serve: `GET /health` on port 8000)",
                Some(super::EngineKind::Lmdeploy) => " (LMDeploy: `GET /health` on port 23333)",
                Some(super::EngineKind::Triton) => {
                    " (Triton: `GET /v2/health/ready` on its HTTP port, 8000 by default)"
                }
                None => "",
            };
            out.push(finding(
                self,
                Severity::Warning,
                &w.object,
                c.line,
                format!(
                    "Container `{}` serves {what} without a readinessProbe: Service `{}` sends it \
                     requests while it is still loading the model, and a rollout retires old \
                     pods before the new ones serve. Add a readinessProbe on the engine's health \
                     endpoint{endpoint}.",
                    c.name, service.name
                ),
            ));
        }
        out
    }
}
