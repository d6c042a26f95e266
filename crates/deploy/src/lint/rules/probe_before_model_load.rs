//! IL104 `probe-before-model-load`.

use super::super::context::{Container, PodTemplate, VolumeKind};
use super::super::{finding, num, Context, Finding, Rule, Severity};
use super::{download, model_source, ModelSource, Server};
use crate::yaml::Node;
use inferplan_serving::cold_start::{cold_start_s, engine_start_s, Delivery, Node as Start};

inferplan_plan::declare_rule! {
    /// **What it checks.** A serving container (a recognised engine, or any container with a GPU)
    /// has a `livenessProbe`. The time the probes allow before the first restart is the
    /// `startupProbe`'s `initialDelaySeconds + failureThreshold × periodSeconds` when there is one,
    /// else the liveness probe's (Kubernetes defaults: 0 + 3 × 10 s = 30 s). That is compared with
    /// the start of the container on a running node, from the cold-start model the planner (IP105)
    /// and the renderer's startup probe use (`cold_start_s` in `crates/serving/src/cold_start.rs`,
    /// without the instance boot): the engine start, 64 s with warm `torch.compile` and CUDA-graph
    /// caches (`ENGINE_START_S`, tensorfuse.io), plus 136 s more when no compile cache survives the
    /// container (`COLD_COMPILE_EXTRA_S` in `crates/serving/src/startup.rs`: no persistent volume at
    /// `VLLM_CACHE_ROOT` or `~/.cache/vllm`), plus the checkpoint read from where it is: a Hub id or
    /// `s3://` URI the engine downloads is read over the network (`s3`), a persistent claim as FSx
    /// (`fsx`), a hostPath or emptyDir on the node (pre-fetched by an init container) from local NVMe
    /// (`nvme`, 1.9 GB/s). When the node's instance type is unknown the weights are read at the NVMe
    /// rate (`least_start_s`); when the model is not in the catalog only the engine start counts.
    /// A container without a recognised LLM engine whose environment names a model of the
    /// diffusion catalog (`MODEL_ID=stabilityai/stable-diffusion-xl-base-1.0`, as the queue
    /// workers `render` writes for diffusion workloads) is a diffusion worker: its pipeline starts
    /// without graph compilation, the 64 s the cold-start model gives it (`engine_start_s(None,
    /// ..)`), and its weights' read is not counted.
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
    /// > failureThreshold 3 × periodSeconds 10 s), but vLLM needs at least 72 s to load Llama 3.1 8B
    /// > (64 s engine start + 16.1 GB of bf16 weights at 1.9 GB/s from local NVMe; more from the
    /// > network): it is killed before it serves. Add a startupProbe on the health endpoint allowing
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
                    let (needed, why, model_name) = start(ctx, w, pod, c);
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

/// Seconds a container needs to start on a running node, how that adds up, and the model's
/// name (with a leading space) when it is known. One cold-start model with the planner and the
/// renderer (`cold_start_s`): the engine start (without a persistent compile cache, the cold
/// figure), plus a download the container does itself, plus reading the weights from where
/// they are.
fn start(
    ctx: &Context<'_>,
    w: &super::super::context::Workload<'_>,
    pod: &PodTemplate<'_>,
    c: &Container<'_>,
) -> (f64, String, String) {
    let warm = compile_cache(pod, c);
    // Every recognised engine starts like vLLM in the cold-start model (the only published
    // figures are vLLM's; `engine_start_s` says so).
    let engine_s = engine_start_s(Some(inferplan_perf::Engine::Vllm), warm);
    let compile = if warm {
        String::new()
    } else {
        " without a persistent compile cache".to_owned()
    };
    let engine_only = (
        engine_s,
        format!("{} s engine start{compile}", num(engine_s, 0)),
        String::new(),
    );
    let Some(e) = &c.engine else {
        // A diffusion worker starts its pipeline without graph compilation (the cold-start
        // model's figure for it); reading its weights is not counted (a lower bound).
        if let Some(m) = c.diffusion_model() {
            let s = engine_start_s(None, warm);
            return (
                s,
                format!("{} s pipeline start of a diffusion worker", num(s, 0)),
                format!(" {}", m.name),
            );
        }
        return engine_only;
    };
    let Some((m, from_name)) = ctx.model(e) else {
        return engine_only;
    };
    let s = Server {
        workload: w,
        pod,
        container: c,
        engine: e,
    };
    let d = download(ctx, &s, m, from_name);
    // What this pod reads: its share of a replica spread over several GPU pods.
    let pods = w.gpu_pods_per_replica().max(1);
    let bytes = d.bytes / f64::from(pods);
    let (delivery, fetch_in_container) = delivery(&s);
    let hw = ctx.hardware(pod, pod.gpus());
    let inst = hw.instances.first().copied();
    // A new node pays the copy to the node; a download the container does itself is inside the
    // probe's budget, one done by an init container or a DaemonSet is not.
    let node = if fetch_in_container {
        Start::New
    } else {
        Start::Running
    };
    let cs = cold_start_s(delivery, bytes, engine_s, inst, node);
    let fetch = if fetch_in_container { cs.fetch_s } else { 0.0 };
    let fetch_part = if fetch > 0.0 {
        format!(
            " + {} s downloading into the container's cache",
            num(fetch, 0)
        )
    } else {
        String::new()
    };
    (
        cs.engine_start_s + fetch + cs.load_s,
        format!(
            "{} s engine start{compile}{fetch_part} + {} GB of {} weights {} at {} GB/s{}",
            num(cs.engine_start_s, 0),
            num(bytes / 1e9, 1),
            d.format,
            delivery.describe(),
            num(cs.read_gbs, 2),
            inst.map_or_else(String::new, |i| format!(" on {}", i.name)),
        ),
        format!(" {}", m.name),
    )
}

/// How a server gets its weights at start, as the cold-start model names it, and whether the
/// container downloads them itself (no init container or DaemonSet filled its cache): a
/// streamed `s3://` URI (`--load-format runai_streamer`), a Hub id or object-storage URI it
/// downloads itself, a persistent claim (FSx), or a volume on the node filled beforehand.
fn delivery(s: &Server<'_, '_>) -> (Delivery, bool) {
    let Some(model) = s.engine.model() else {
        return (Delivery::NvmePrepull, false);
    };
    let source = model_source(&model.text);
    if source == ModelSource::ObjectStorage && s.engine.load_format() == Some("runai_streamer") {
        return (Delivery::S3Stream, false);
    }
    let remote = source != ModelSource::Local;
    let path = s.weights_dir(&model.text);
    let (volume, prefetched) = s.volume_at(&path);
    let on_node = volume.is_some_and(|v| {
        s.pod
            .spec
            .at("volumes")
            .items()
            .iter()
            .find(|n| n.get("name").and_then(Node::text).as_deref() == Some(&v.name))
            .is_some_and(|n| n.get("hostPath").is_some() || n.get("local").is_some())
    });
    let remote_delivery = if source == ModelSource::ObjectStorage {
        Delivery::S3ToNodeCache
    } else {
        Delivery::HubToNodeCache
    };
    match volume.map(|v| &v.kind) {
        Some(VolumeKind::Persistent) if on_node => (Delivery::NvmePrepull, false),
        Some(VolumeKind::Persistent) => (Delivery::FsxVolume, false),
        _ if prefetched || !remote => (Delivery::NvmePrepull, false),
        _ => (remote_delivery, true),
    }
}

/// True when a persistent volume holds vLLM's compile cache (`VLLM_CACHE_ROOT`, else
/// `~/.cache/vllm`), so a restarted container starts warm.
fn compile_cache(pod: &PodTemplate<'_>, c: &Container<'_>) -> bool {
    let dir = c
        .env("VLLM_CACHE_ROOT")
        .map_or_else(|| "/root/.cache/vllm".to_owned(), str::to_owned);
    c.mount_for(&dir)
        .and_then(|m| pod.volume(&m.name))
        .is_some_and(|v| v.kind == VolumeKind::Persistent)
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

#[cfg(test)]
mod tests {
    use crate::lint::{lint_with, Rule};
    use inferplan_catalog::Catalog;

    /// A GPU container with an exec startup probe allowing `budget_s`, and `env`.
    fn pod(env: &str, budget_s: u32) -> Vec<String> {
        let yaml = format!(
            "apiVersion: apps/v1
kind: Deployment
metadata: {{name: w}}
spec:
  template:
    spec:
      containers:
        - name: worker
          image: registry.example/worker:1.0
          env: [{env}]
          resources:
            limits: {{nvidia.com/gpu: 1}}
          startupProbe:
            exec: {{command: [sh, -c, test -f /tmp/ready]}}
            periodSeconds: 10
            failureThreshold: {}
          livenessProbe:
            exec: {{command: [sh, -c, test -f /tmp/alive]}}
",
            budget_s / 10
        );
        let rules: Vec<Box<dyn Rule>> = vec![Box::new(super::ProbeBeforeModelLoad)];
        lint_with(
            &[("a.yaml".to_owned(), yaml)],
            &Catalog::embedded().unwrap(),
            &rules,
        )
        .unwrap()
        .into_iter()
        .map(|f| f.message)
        .collect()
    }

    /// A diffusion worker (its environment names a diffusion catalog model) starts its
    /// pipeline in the cold-start model's 64 s, not an LLM engine's 200 s without compile
    /// caches; an unknown GPU container keeps the LLM figure.
    #[test]
    fn a_diffusion_worker_starts_like_one() {
        let sdxl = "{name: MODEL_ID, value: stabilityai/stable-diffusion-xl-base-1.0}";
        assert!(pod(sdxl, 90).is_empty());
        let f = pod(sdxl, 30);
        assert_eq!(f.len(), 1, "{f:?}");
        assert!(
            f[0].contains("64 s pipeline start of a diffusion worker")
                && f[0].contains("Stable Diffusion XL 1.0 base"),
            "{f:?}"
        );
        let other = "{name: MODEL_ID, value: my-org/my-model}";
        let f = pod(other, 90);
        assert_eq!(f.len(), 1, "{f:?}");
        assert!(f[0].contains("200 s engine start"), "{f:?}");
    }
}
