//! IL104 `probe-before-model-load`.

use super::super::{finding, num, Context, Finding, Rule, Severity};
use super::{weights_bytes, weights_dtype};
use crate::yaml::Node;
use inferplan_serving::cold_start::ENGINE_START_S;
use inferplan_serving::startup::{least_start, least_start_s};

inferplan_plan::declare_rule! {
    /// **What it checks.** A serving container (a recognised engine, or any container with a GPU)
    /// has a `livenessProbe`. The time the probes allow before the first restart is the
    /// `startupProbe`'s `initialDelaySeconds + failureThreshold × periodSeconds` when there is one,
    /// else the liveness probe's (Kubernetes defaults: 0 + 3 × 10 s = 30 s). That is compared with a
    /// lower bound of the start time (`least_start` in `crates/serving/src/startup.rs`, from the
    /// cold-start model `cold_start_s` that the planner's IP105 and the renderer's probes use): a
    /// running node, the engine start without weights with warm `torch.compile` caches, 64 s
    /// (tensorfuse.io; `ENGINE_START_S` in `crates/serving/src/cold_start.rs`), plus the weights
    /// read by the fastest delivery, a stream from S3 at the per-instance ceiling of 6.25 GB/s.
    /// When the model is not in the catalog only the 64 s count.
    ///
    /// **Why it matters.** The engine answers its health endpoint only after the weights are loaded,
    /// the KV cache is allocated and CUDA graphs are captured: one to several minutes for 8B to 70B
    /// models, "5-15 minute cold starts" when a 70B model is pulled from S3 at start ([A]). A liveness
    /// probe that fails first makes the kubelet kill the container, which loads again and is killed
    /// again: a crash loop that never serves. [C]'s example (`initialDelaySeconds: 120`,
    /// `periodSeconds: 30`, no startup probe) allows 210 s, which works only while the model loads
    /// faster than that.
    ///
    /// **Example.**
    ///
    /// ```yaml
    /// livenessProbe:
    ///   httpGet: {path: /health, port: 8000}
    /// ```
    ///
    /// > livenessProbe restarts container `vllm` after 30 s without an answer (initialDelaySeconds 0 +
    /// > failureThreshold 3 × periodSeconds 10 s), but vLLM needs at least 67 s to load Llama 3.1 8B
    /// > (64 s engine start with warm compile caches + 16.1 GB of bf16 weights at 6.25 GB/s, streamed
    /// > from S3 into GPU memory (Run:ai Model Streamer), the fastest delivery; a new node takes
    /// > longer): it is killed before it serves. Add a startupProbe on the health endpoint allowing
    /// > 300 s or more (periodSeconds: 10, failureThreshold: 30) and keep the liveness probe for after
    /// > start.
    ///
    /// **Fix.** Add a `startupProbe` on the same endpoint whose `failureThreshold × periodSeconds`
    /// covers the worst start (a new node pulling the image and the weights); the liveness probe only
    /// starts after it succeeds, so keep it short to catch hangs.
    pub struct ProbeBeforeModelLoad {
        code: "IL104",
        name: "probe-before-model-load",
        severity: Warning,
        summary: "the liveness probe must not fire before the model can load (use a startup probe)",
        docs: "docs/lint.md#il104-probe-before-model-load",
    }
}

impl Rule for ProbeBeforeModelLoad {
    fn check(&self, ctx: &Context<'_>) -> Vec<Finding> {
        let mut out = Vec::new();
        for w in &ctx.workloads {
            for pod in &w.pods {
                for c in &pod.containers {
                    if !c.is_inference() {
                        continue;
                    }
                    let Some(live) = c.liveness else {
                        continue;
                    };
                    // Lower bound of the start time.
                    let mut needed = least_start_s(0.0);
                    let mut why = format!("{} s engine start", num(ENGINE_START_S, 0));
                    let mut model_name = String::new();
                    if let Some(e) = &c.engine {
                        if let Some((m, from_name)) = ctx.model(e) {
                            let dtype = weights_dtype(e, Some(m), from_name);
                            let gb = weights_bytes(m, dtype) / 1e9;
                            let least = least_start(gb);
                            needed = least.seconds;
                            why = format!(
                                "{} s engine start with warm compile caches + {} GB of {dtype} \
                                 weights at {} GB/s, {}, the fastest delivery; a new node \
                                 takes longer",
                                num(ENGINE_START_S, 0),
                                num(gb, 1),
                                num(least.read_gbs, 2),
                                least.delivery.describe()
                            );
                            model_name = format!(" {}", m.name);
                        }
                    }
                    let engine = c
                        .engine
                        .as_ref()
                        .map_or("the server".to_owned(), |e| e.kind.to_string());
                    let (probe, node, key) = match c.startup {
                        Some(sp) => ("startupProbe", sp, "startupProbe"),
                        None => ("livenessProbe", live, "livenessProbe"),
                    };
                    let (budget, detail) = budget(node);
                    if budget >= needed {
                        continue;
                    }
                    let line = c.node.entry(key).map_or(c.line, |e| e.line);
                    let suggest = ((needed * 2.0 / 60.0).ceil() * 60.0).max(300.0);
                    let fix = if c.startup.is_some() {
                        format!(
                            "Raise the startupProbe's failureThreshold × periodSeconds to {} s \
                             or more (periodSeconds: 10, failureThreshold: {}).",
                            num(suggest, 0),
                            num(suggest / 10.0, 0)
                        )
                    } else {
                        format!(
                            "Add a startupProbe on the health endpoint allowing {} s or more \
                             (periodSeconds: 10, failureThreshold: {}) and keep the liveness \
                             probe for after start.",
                            num(suggest, 0),
                            num(suggest / 10.0, 0)
                        )
                    };
                    out.push(finding(
                        self,
                        Severity::Warning,
                        &w.object,
                        line,
                        format!(
                            "{probe} restarts container `{}` after {} s without an answer \
                             ({detail}), but {engine} needs at least {} s to load{model_name} \
                             ({why}): it is killed before it serves. {fix}",
                            c.name,
                            num(budget, 0),
                            num(needed, 0),
                        ),
                    ));
                }
            }
        }
        out
    }
}

/// Seconds a probe allows before its first restart, and how that adds up.
fn budget(probe: &Node) -> (f64, String) {
    let get = |k: &str, default: f64| {
        probe
            .get(k)
            .and_then(Node::as_f64)
            .filter(|x| x.is_finite() && *x >= 0.0)
            .unwrap_or(default)
    };
    let delay = get("initialDelaySeconds", 0.0);
    let period = get("periodSeconds", 10.0).max(1.0);
    let failures = get("failureThreshold", 3.0).max(1.0);
    (
        delay + period * failures,
        format!(
            "initialDelaySeconds {} + failureThreshold {} × periodSeconds {} s",
            num(delay, 0),
            num(failures, 0),
            num(period, 0)
        ),
    )
}
