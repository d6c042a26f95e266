//! What a directory of manifests runs, for `simulate --deploy`: the inference workload's
//! model and engine arguments, its GPUs and instance type, its replicas, its autoscaler (a
//! KEDA ScaledObject or a HorizontalPodAutoscaler: triggers, bounds, polling, `behavior`) and
//! its Karpenter NodePool's consolidation, read with lint's [`Context`]. The result is plain
//! data; the CLI turns it into a simulation. Whatever the simulator cannot model is listed in
//! [`Deployed::unmodelled`], one line each with its file and line, never dropped silently.

use crate::lint::context::{Capacity, Context, Object, PodTemplate, VolumeKind};
use crate::lint::engine::{EngineArgs, EngineKind};
use crate::lint::rules::{kv_dtype, parallelism, servers, weights_dtype};
use crate::yaml::{self, Doc, Node};
use inferplan_catalog::error::located;
use inferplan_catalog::{Catalog, Dtype, Instance, ModelSpec};
use inferplan_perf::{Engine, MemoryParams};
use inferplan_plan::autoscaling::{
    Behavior, PolicyKind, ScalingPolicy, SelectPolicy, KEDA_COOLDOWN_PERIOD_S, POLLING_INTERVAL_S,
};
use inferplan_serving::cold_start::WeightsSource;
use inferplan_serving::flags;
use std::path::Path;

pub mod sagemaker;

/// A manifest the simulation cannot run: `file:line: field `f`: message`.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{0}")]
pub struct DeployedError(pub String);

fn err(file: &str, line: usize, field: &str, message: impl AsRef<str>) -> DeployedError {
    DeployedError(located(
        file,
        (line > 0).then_some(line as u64),
        (!field.is_empty()).then_some(field),
        message.as_ref(),
    ))
}

/// What a trigger measures, as far as the simulator can follow it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    /// Requests running plus waiting (`vllm:num_requests_running` + waiting).
    InFlight,
    /// Requests waiting (`vllm:num_requests_waiting`).
    Queue,
    /// GPU utilisation (DCGM).
    GpuUtilization,
    /// A KEDA `cron` trigger on a daily schedule in UTC: `replicas` from minute `start_minute`
    /// of the day for `minutes` (wrapping over midnight); the simulation's second 0 is 00:00
    /// UTC.
    Schedule {
        /// UTC minute of the day it starts.
        start_minute: u32,
        /// Minutes it lasts (1 to 1439).
        minutes: u32,
        /// `desiredReplicas`.
        replicas: u32,
    },
}

/// One trigger the simulator runs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Trigger {
    /// What it measures.
    pub signal: Signal,
    /// Target per replica (GPU utilisation: a fraction).
    pub threshold: f64,
    /// KEDA's `activationThreshold` (0 when unset).
    pub activation: f64,
}

/// The autoscaler of the workload.
#[derive(Debug, Clone, PartialEq)]
pub struct Scaler {
    /// `ScaledObject/name` or `HorizontalPodAutoscaler/name`, with its file and line.
    pub source: String,
    /// The triggers the simulator follows.
    pub triggers: Vec<Trigger>,
    /// Fewest replicas.
    pub min: u32,
    /// Most replicas.
    pub max: u32,
    /// Seconds between decisions.
    pub polling_s: u32,
    /// KEDA's `cooldownPeriod` (scale to zero), seconds.
    pub cooldown_s: u32,
    /// Scale-up and scale-down rules.
    pub behavior: Behavior,
}

/// The server a deployment runs, as the simulator needs it: the same fields whether a
/// Kubernetes workload or a SageMaker endpoint runs it.
#[derive(Debug, Clone)]
pub struct Served {
    /// The model served.
    pub model: ModelSpec,
    /// Its weight format.
    pub weights: Dtype,
    /// Its KV-cache format.
    pub kv: Dtype,
    /// The engine.
    pub engine: Engine,
    /// Tensor-parallel degree.
    pub tp: u32,
    /// Pipeline-parallel degree.
    pub pp: u32,
    /// The engine's most running sequences (`--max-num-seqs` and its kin), when set.
    pub max_num_seqs: Option<u64>,
    /// The engine's token budget per step (`--max-num-batched-tokens`), when set.
    pub max_num_batched_tokens: Option<u64>,
    /// The engine's context limit (`--max-model-len`), when set.
    pub max_model_len: Option<u64>,
    /// The engine's memory share (`--gpu-memory-utilization`), when set.
    pub gpu_memory_utilization: Option<f64>,
    /// The instance type it runs on.
    pub instance: Instance,
}

/// What the manifests run.
#[derive(Debug, Clone)]
pub struct Deployed {
    /// The workload, `Kind/name (file:line)`.
    pub workload: String,
    /// The server the pods run.
    pub served: Served,
    /// Replicas without an autoscaler (`spec.replicas`, 1 when unset).
    pub replicas: u32,
    /// Nodes one replica spans (a LeaderWorkerSet group).
    pub nodes_per_replica: u32,
    /// Replicas one node holds (its GPUs over the pod's).
    pub replicas_per_node: u32,
    /// The autoscaler, if any.
    pub autoscaler: Option<Scaler>,
    /// The NodePool's `consolidateAfter`, seconds; `None` without a NodePool or with
    /// `Never` (nodes are then never removed).
    pub consolidate_after_s: Option<f64>,
    /// Where a new replica reads the weights from: `nvme` when the weights volume is an
    /// `emptyDir` on nodes whose EC2NodeClass puts the instance store under it (RAID0),
    /// else `s3`.
    pub weights_source: WeightsSource,
    /// The nodes may be spot capacity.
    pub spot: bool,
    /// What the simulator does not model, one line each.
    pub unmodelled: Vec<String>,
}

/// Reads the manifests under `dir` (or the file `dir`).
pub fn read_dir(
    dir: &Path,
    catalog: &Catalog,
    params: &MemoryParams,
) -> Result<Deployed, DeployedError> {
    let texts = yaml::collect(&[dir.to_path_buf()]).map_err(|e| DeployedError(e.to_string()))?;
    read(&texts, catalog, params)
}

/// Reads `(origin, text)` manifests.
pub fn read(
    texts: &[(String, String)],
    catalog: &Catalog,
    params: &MemoryParams,
) -> Result<Deployed, DeployedError> {
    let mut files: Vec<(String, Vec<Doc>)> = Vec::new();
    for (origin, text) in texts {
        let docs = yaml::parse(text, origin).map_err(|e| DeployedError(e.to_string()))?;
        files.push((origin.clone(), docs));
    }
    let ctx = Context::new(&files, catalog, params);
    let origin = texts.first().map_or("<manifests>", |t| t.0.as_str());
    let all = servers(&ctx);
    let Some(s) = all.first() else {
        return Err(err(
            origin,
            0,
            "",
            "no Deployment, StatefulSet or LeaderWorkerSet runs a recognised inference engine \
             (vLLM, SGLang, TGI, TensorRT-LLM, LMDeploy, Triton)",
        ));
    };
    let w = s.workload;
    let file = w.object.file;
    let mut unmodelled = Vec::new();
    for other in all.iter().skip(1) {
        if !std::ptr::eq(other.workload, w) {
            unmodelled.push(format!(
                "{}:{}: {} also runs an engine; only {} is simulated",
                other.workload.object.file,
                other.workload.object.line,
                other.workload.object.id(),
                w.object.id()
            ));
        }
    }
    let (model, from_name) = model_of(&ctx, s.engine, s.pod).ok_or_else(|| {
        let (line, name) = s
            .engine
            .model()
            .map_or((s.container.line, String::new()), |m| (m.line, m.text));
        err(
            file,
            line,
            "model",
            format!(
                "`{name}` is not a catalog model, and neither is `--served-model-name` nor the \
                 MODEL_ID of the pod; name the model (see `inferplan catalog models`)"
            ),
        )
    })?;
    let par = parallelism(s).ok_or_else(|| {
        err(
            file,
            s.engine.line,
            "--tensor-parallel-size",
            "a parallel degree is not a number the engine accepts",
        )
    })?;
    if par.dp > 1 {
        unmodelled.push(format!(
            "{file}:{}: data parallelism inside the server (DP {}) is simulated as one replica \
             of TP {} × PP {}",
            s.engine.line, par.dp, par.tp, par.pp
        ));
    }
    let weights = weights_dtype(s.engine, Some(model), from_name);
    let kv = match kv_dtype(s.engine, weights) {
        // LMDeploy's INT8 KV cache (`--quant-policy int8`, what render writes for a one-byte
        // cache on TurboMind): one byte per element, which the memory model counts as FP8's.
        Dtype::Int8 => {
            unmodelled.push(format!(
                "{file}:{}: the INT8 KV cache is simulated as an FP8 one (one byte per element)",
                s.engine.kv_cache_dtype().map_or(s.engine.line, |f| f.line)
            ));
            Dtype::Fp8
        }
        other => other,
    };
    let engine = match s.engine.kind {
        EngineKind::Vllm => Engine::Vllm,
        EngineKind::Sglang => Engine::Sglang,
        EngineKind::Tgi => Engine::Tgi,
        // Triton runs LLMs through its TensorRT-LLM backend.
        EngineKind::TrtLlm | EngineKind::Triton => Engine::Trtllm,
        EngineKind::Lmdeploy => Engine::Lmdeploy,
    };
    for names in [
        flags::MAX_NUM_SEQS.read,
        flags::MAX_MODEL_LEN.read,
        flags::MAX_NUM_BATCHED_TOKENS.read,
        flags::GPU_MEMORY_UTILIZATION.read,
    ] {
        if s.engine.unreadable(names) {
            let f = s.engine.flag(names);
            return Err(err(
                file,
                f.map_or(s.engine.line, |f| f.line),
                f.map_or(names[0], |f| f.name.as_str()),
                "not a number (an unresolved variable?): the simulation needs its value",
            ));
        }
    }
    let pod_gpus = s.pod.gpus().max(1);
    let hw = ctx.hardware(s.pod, pod_gpus);
    // On AWS Neuron devices (`aws.amazon.com/neuron`) the engine's degree counts NeuronCores;
    // the simulation, like the plan, counts chips.
    let tp = match hw
        .gpu(ctx.catalog)
        .filter(|_| s.container.is_neuron())
        .and_then(inferplan_perf::neuron::logical_cores_per_chip)
    {
        Some(per_chip) => par.tp.div_ceil(per_chip).max(1),
        None => par.tp,
    };
    let gpus = w
        .gpus_per_replica()
        .max(tp.saturating_mul(par.pp).saturating_mul(par.dp))
        .max(1);
    let instance = match hw.instances.as_slice() {
        [one] => (*one).clone(),
        [] => {
            return Err(err(
                file,
                s.pod.line,
                "nodeSelector",
                "no catalog instance type is selected (node.kubernetes.io/instance-type, a \
                 Karpenter instance family or GPU name): the simulation needs the GPUs and the \
                 price",
            ))
        }
        many => {
            let pick = many
                .iter()
                .min_by(|a, b| {
                    a.on_demand("us-east-1")
                        .unwrap_or(f64::MAX)
                        .total_cmp(&b.on_demand("us-east-1").unwrap_or(f64::MAX))
                })
                .copied()
                .unwrap_or(many[0]);
            unmodelled.push(format!(
                "{file}:{}: the pods may run on {}; simulated on the cheapest, {} (Karpenter's \
                 choice depends on price and availability)",
                hw.line.max(s.pod.line),
                hw.names(),
                pick.name
            ));
            pick.clone()
        }
    };
    let per_instance = instance.whole_gpus().max(1);
    let nodes_per_replica = gpus.div_ceil(per_instance).max(1);
    let replicas_per_node = if nodes_per_replica > 1 {
        1
    } else {
        (per_instance / pod_gpus).max(1)
    };
    let spot = matches!(hw.capacity, Capacity::Spot | Capacity::MaybeSpot);
    if spot {
        unmodelled.push(format!(
            "{file}:{}: the nodes may be spot capacity ({}); interruptions are simulated only \
             with --spot-rate-per-hour",
            hw.capacity_line.max(s.pod.line),
            hw.capacity_basis
        ));
    }
    let replicas = w
        .replicas
        .as_ref()
        .map_or(1, |r| r.value.clamp(0, i64::from(u32::MAX)) as u32);
    let scalers = ctx.autoscalers_of(w);
    let autoscaler = match scalers.as_slice() {
        [] => None,
        [a, rest @ ..] => {
            for other in rest {
                unmodelled.push(format!(
                    "{}:{}: a second autoscaler ({}) targets {}; only {} is simulated",
                    other.object.file,
                    other.object.line,
                    other.object.id(),
                    w.object.id(),
                    a.object.id()
                ));
            }
            Some(scaler(&a.object, &mut unmodelled)?)
        }
    };
    let (consolidate_after_s, weights_source) = nodes(&ctx, &files, s.pod, &mut unmodelled)?;
    Ok(Deployed {
        workload: format!("{} ({file}:{})", w.object.id(), w.object.line),
        served: Served {
            model: model.clone(),
            weights,
            kv,
            engine,
            tp,
            pp: par.pp,
            max_num_seqs: s.engine.max_num_seqs(),
            max_num_batched_tokens: s.engine.max_num_batched_tokens(),
            max_model_len: s.engine.max_model_len().map(|m| m.0),
            gpu_memory_utilization: s.engine.gpu_memory_utilization().map(|g| g.0),
            instance,
        },
        replicas,
        nodes_per_replica,
        replicas_per_node,
        autoscaler,
        consolidate_after_s,
        weights_source,
        spot,
        unmodelled,
    })
}

/// The model: the engine's model argument, else `--served-model-name`, else a `MODEL_ID`
/// in the pod's containers (what `render` writes when the engine reads a local copy).
fn model_of<'a>(
    ctx: &Context<'a>,
    engine: &EngineArgs,
    pod: &PodTemplate<'_>,
) -> Option<(&'a ModelSpec, Option<Dtype>)> {
    if let Some(found) = ctx.model(engine) {
        return Some(found);
    }
    let mut names: Vec<String> = Vec::new();
    if let Some(v) = engine.value(&["--served-model-name"]) {
        names.push(v.to_owned());
    }
    for c in pod.init_containers.iter().chain(&pod.containers) {
        if let Some(v) = c.env("MODEL_ID") {
            names.push(v.to_owned());
        }
    }
    names.iter().find_map(|n| {
        let (base, dtype) = inferplan_catalog::names::split_quantized(n);
        let last = |s: &str| s.rsplit('/').next().unwrap_or(s).to_owned();
        [n.clone(), base.clone(), last(n), last(&base)]
            .iter()
            .find_map(|k| ctx.catalog.model(k).ok())
            .map(|m| (m, dtype))
    })
}

fn seconds(file: &str, node: &Node, field: &str) -> Result<Option<u32>, DeployedError> {
    match node.get(field).filter(|n| !n.is_null()) {
        None => Ok(None),
        Some(n) => n
            .as_i64()
            .filter(|v| (0..=i64::from(u32::MAX)).contains(v))
            .map(|v| Some(v as u32))
            .ok_or_else(|| err(file, n.line, field, "not a whole number of seconds")),
    }
}

/// A ScaledObject or HPA as the simulator runs it.
fn scaler(object: &Object<'_>, unmodelled: &mut Vec<String>) -> Result<Scaler, DeployedError> {
    let file = object.file;
    let spec = object.node.at("spec");
    let keda = object.kind == "ScaledObject";
    let count = |key: &str, default: u32| -> Result<u32, DeployedError> {
        match spec.get(key).filter(|n| !n.is_null()) {
            None => Ok(default),
            Some(n) => n
                .as_i64()
                .filter(|v| (0..=10_000).contains(v))
                .map(|v| v as u32)
                .ok_or_else(|| err(file, n.line, key, "not a replica count")),
        }
    };
    let (min, max, polling_s, cooldown_s, behavior_node) = if keda {
        (
            count("minReplicaCount", 0)?,
            count("maxReplicaCount", 100)?,
            seconds(file, spec, "pollingInterval")?.unwrap_or(30),
            seconds(file, spec, "cooldownPeriod")?.unwrap_or(KEDA_COOLDOWN_PERIOD_S),
            spec.path(&["advanced", "horizontalPodAutoscalerConfig", "behavior"]),
        )
    } else {
        (
            count("minReplicas", 1)?,
            count("maxReplicas", 1)?,
            POLLING_INTERVAL_S,
            KEDA_COOLDOWN_PERIOD_S,
            spec.get("behavior"),
        )
    };
    if max < min.max(1) {
        return Err(err(
            file,
            object.line,
            if keda {
                "maxReplicaCount"
            } else {
                "maxReplicas"
            },
            format!("{max} is below the minimum {}", min.max(1)),
        ));
    }
    for key in ["fallback", "idleReplicaCount", "initialCooldownPeriod"] {
        if let Some(n) = spec.get(key) {
            unmodelled.push(format!("{file}:{}: `{key}` is not simulated", n.line));
        }
    }
    if let Some(n) = spec.path(&["advanced", "scalingModifiers"]) {
        unmodelled.push(format!(
            "{file}:{}: `scalingModifiers` is not simulated (each trigger counts alone)",
            n.line
        ));
    }
    let behavior = behavior(file, behavior_node)?;
    let mut triggers = Vec::new();
    if keda {
        for t in spec.at("triggers").items() {
            let ty = t.get("type").and_then(Node::text).unwrap_or_default();
            let meta = t.at("metadata");
            let query = meta.get("query").and_then(Node::text).unwrap_or_default();
            let number = |key: &str| -> Result<Option<f64>, DeployedError> {
                match meta.get(key) {
                    None => Ok(None),
                    Some(n) => n
                        .text()
                        .and_then(|s| s.trim().parse::<f64>().ok())
                        .filter(|v| v.is_finite() && *v >= 0.0)
                        .map(Some)
                        .ok_or_else(|| err(file, n.line, key, "not a number")),
                }
            };
            if ty == "cron" {
                match cron_schedule(file, t)? {
                    Ok(signal) => triggers.push(Trigger {
                        signal,
                        threshold: 1.0,
                        activation: 0.0,
                    }),
                    Err(why) => unmodelled.push(format!(
                        "{file}:{}: trigger `cron` is not simulated: {why}",
                        t.line
                    )),
                }
                continue;
            }
            let signal = signal_of(&ty, &query);
            match (signal, number("threshold")?) {
                (Some(signal), Some(threshold)) if threshold > 0.0 => {
                    let threshold = if signal == Signal::GpuUtilization && threshold > 1.0 {
                        threshold / 100.0
                    } else {
                        threshold
                    };
                    triggers.push(Trigger {
                        signal,
                        threshold,
                        activation: number("activationThreshold")?.unwrap_or(0.0),
                    });
                }
                (Some(_), _) => {
                    return Err(err(
                        file,
                        t.line,
                        "threshold",
                        "a trigger needs a positive threshold",
                    ))
                }
                (None, _) => unmodelled.push(format!(
                    "{file}:{}: trigger `{ty}`{} is not simulated: only the engine's requests (vLLM, SGLang) \
                     running/waiting and GPU utilisation are",
                    t.line,
                    if query.is_empty() {
                        String::new()
                    } else {
                        format!(
                            " `{}`",
                            query.split_whitespace().collect::<Vec<_>>().join(" ")
                        )
                    }
                )),
            }
        }
    } else {
        for m in spec.at("metrics").items() {
            let ty = m.get("type").and_then(Node::text).unwrap_or_default();
            let source = ["pods", "external", "object"].iter().find_map(|k| m.get(k));
            let name = source
                .and_then(|s| s.path(&["metric", "name"]))
                .and_then(Node::text)
                .unwrap_or_default();
            let target = source
                .and_then(|s| {
                    s.path(&["target", "averageValue"])
                        .or(s.path(&["target", "value"]))
                })
                .and_then(Node::as_quantity);
            match (signal_of("prometheus", &name), target) {
                (Some(signal), Some(t)) if t > 0.0 => triggers.push(Trigger {
                    signal,
                    threshold: t,
                    activation: 0.0,
                }),
                _ => unmodelled.push(format!(
                    "{file}:{}: metric `{ty}`{} is not simulated: only the engine's requests (vLLM, SGLang) \
                     running/waiting and GPU utilisation are",
                    m.line,
                    if name.is_empty() {
                        String::new()
                    } else {
                        format!(" `{name}`")
                    }
                )),
            }
        }
    }
    if triggers.is_empty() {
        return Err(err(
            file,
            object.line,
            if keda { "triggers" } else { "metrics" },
            format!(
                "{} has no trigger the simulator can follow (requests running or waiting, GPU \
                 utilisation); the replicas would never change",
                object.id()
            ),
        ));
    }
    Ok(Scaler {
        source: format!("{} ({file}:{})", object.id(), object.line),
        triggers,
        min,
        max,
        polling_s,
        cooldown_s,
        behavior,
    })
}

/// The timezones a `cron` trigger may name for the simulator to follow it: UTC under its
/// IANA names (the simulated day has no other clock).
const UTC_NAMES: [&str; 4] = ["Etc/UTC", "UTC", "Etc/UCT", "Etc/Zulu"];

/// A KEDA `cron` trigger (keda.sh docs, "Scalers: Cron": `timezone`, `start` and `end`
/// five-field cron expressions, `desiredReplicas`; start and end must differ) as a daily
/// schedule; `Ok(Err(why))` for a valid trigger the simulator cannot follow (another
/// timezone, a schedule other than a minute and hour every day).
fn cron_schedule(file: &str, t: &Node) -> Result<Result<Signal, String>, DeployedError> {
    let meta = t.at("metadata");
    let text = |key: &str| -> Result<(String, usize), DeployedError> {
        meta.get(key)
            .and_then(|n| n.text().map(|v| (v.trim().to_owned(), n.line)))
            .ok_or_else(|| err(file, t.line, key, "a `cron` trigger needs it"))
    };
    let (timezone, _) = text("timezone")?;
    let (start, start_line) = text("start")?;
    let (end, end_line) = text("end")?;
    let (desired, desired_line) = text("desiredReplicas")?;
    let replicas = desired
        .parse::<u32>()
        .ok()
        .filter(|&n| n <= 10_000)
        .ok_or_else(|| err(file, desired_line, "desiredReplicas", "not a replica count"))?;
    if !UTC_NAMES.contains(&timezone.as_str()) {
        return Ok(Err(format!(
            "timezone `{timezone}`: the simulated day runs in UTC only"
        )));
    }
    let daily = |expr: &str| -> Option<u32> {
        let f: Vec<&str> = expr.split_whitespace().collect();
        if f.len() != 5 || f[2..] != ["*", "*", "*"] {
            return None;
        }
        let m: u32 = f[0].parse().ok().filter(|&m| m < 60)?;
        let h: u32 = f[1].parse().ok().filter(|&h| h < 24)?;
        Some(h * 60 + m)
    };
    let (Some(from), Some(to)) = (daily(&start), daily(&end)) else {
        return Ok(Err(format!(
            "`{start}` to `{end}`: only a minute and an hour every day (`M H * * *`) are \
             simulated"
        )));
    };
    if from == to {
        return Err(err(
            file,
            end_line.max(start_line),
            "end",
            "start and end must differ (KEDA rejects the trigger)",
        ));
    }
    Ok(Ok(Signal::Schedule {
        start_minute: from,
        minutes: (to + 1440 - from) % 1440,
        replicas,
    }))
}

/// What a trigger's query or metric name measures.
fn signal_of(ty: &str, query: &str) -> Option<Signal> {
    let q = query.to_ascii_lowercase();
    if ty != "prometheus" {
        return None;
    }
    let waiting = q.contains("num_requests_waiting")
        || q.contains("num_queue_reqs")
        || q.contains("queue_size");
    let running = q.contains("num_requests_running") || q.contains("num_running_reqs");
    if q.contains("gpu_util") || q.contains("dcgm_fi_dev_gpu_util") {
        Some(Signal::GpuUtilization)
    } else if waiting && running {
        Some(Signal::InFlight)
    } else if waiting {
        Some(Signal::Queue)
    } else if running {
        // Running alone: the in-flight count when nothing waits.
        Some(Signal::InFlight)
    } else {
        None
    }
}

/// An `autoscaling/v2` `behavior`; each direction absent takes the Kubernetes default.
fn behavior(file: &str, node: Option<&Node>) -> Result<Behavior, DeployedError> {
    let mut b = Behavior::kubernetes_default();
    let Some(node) = node else { return Ok(b) };
    for (key, rules) in [
        ("scaleUp", &mut b.scale_up),
        ("scaleDown", &mut b.scale_down),
    ] {
        let Some(r) = node.get(key) else { continue };
        if let Some(w) = seconds(file, r, "stabilizationWindowSeconds")? {
            rules.stabilization_window_s = w;
        }
        if let Some(p) = r.get("selectPolicy").and_then(Node::text) {
            rules.select = match p.as_str() {
                "Max" => SelectPolicy::Max,
                "Min" => SelectPolicy::Min,
                "Disabled" => SelectPolicy::Disabled,
                other => {
                    return Err(err(
                        file,
                        r.line,
                        "selectPolicy",
                        format!("`{other}`: Max, Min or Disabled"),
                    ))
                }
            };
        }
        if let Some(ps) = r.get("policies") {
            let mut policies = Vec::new();
            for p in ps.items() {
                let kind = match p.get("type").and_then(Node::text).as_deref() {
                    Some("Pods") => PolicyKind::Pods,
                    Some("Percent") => PolicyKind::Percent,
                    other => {
                        return Err(err(
                            file,
                            p.line,
                            "type",
                            format!("`{}`: Pods or Percent", other.unwrap_or_default()),
                        ))
                    }
                };
                let value = seconds(file, p, "value")?
                    .ok_or_else(|| err(file, p.line, "value", "missing"))?;
                let period_s = seconds(file, p, "periodSeconds")?
                    .filter(|s| *s > 0)
                    .ok_or_else(|| err(file, p.line, "periodSeconds", "missing or zero"))?;
                policies.push(ScalingPolicy {
                    kind,
                    value,
                    period_s,
                });
            }
            rules.policies = policies;
        }
    }
    Ok(b)
}

/// The NodePool's `consolidateAfter` (seconds) and where new replicas read the weights.
fn nodes(
    ctx: &Context<'_>,
    files: &[(String, Vec<Doc>)],
    pod: &PodTemplate<'_>,
    unmodelled: &mut Vec<String>,
) -> Result<(Option<f64>, WeightsSource), DeployedError> {
    let wanted = pod.required("karpenter.sh/nodepool");
    let pool = ctx
        .node_pools
        .iter()
        .find(|p| wanted.contains(&p.object.name.as_str()))
        .or(ctx.node_pools.first());
    let mut consolidate = None;
    let mut class_name = None;
    if let Some(p) = pool {
        let file = p.object.file;
        let spec = p.object.node.at("spec");
        let d = spec.at("disruption");
        let policy = d
            .get("consolidationPolicy")
            .and_then(Node::text)
            .unwrap_or_else(|| "WhenEmptyOrUnderutilized".to_owned());
        consolidate = match d.get("consolidateAfter") {
            None => Some(0.0),
            Some(n) => {
                let text = n.text().unwrap_or_default();
                if text == "Never" {
                    None
                } else {
                    Some(duration_s(&text).ok_or_else(|| {
                        err(
                            file,
                            n.line,
                            "consolidateAfter",
                            format!("`{text}` is not a duration"),
                        )
                    })?)
                }
            }
        };
        if policy != "WhenEmpty" {
            unmodelled.push(format!(
                "{file}:{}: consolidationPolicy {policy}: only empty nodes are removed in the \
                 simulation (no repacking of underutilised ones)",
                d.line.max(p.object.line)
            ));
        }
        if let Some(l) = spec.get("limits") {
            unmodelled.push(format!(
                "{file}:{}: the NodePool's `limits` are not simulated (nodes are not capped)",
                l.line
            ));
        }
        class_name = spec
            .path(&["template", "spec", "nodeClassRef", "name"])
            .and_then(Node::text);
    }
    // Weights on the instance store: an emptyDir weights volume on nodes whose
    // EC2NodeClass puts the instance store under the pods' ephemeral storage (RAID0).
    let raid0 = class_name.is_some_and(|name| {
        files.iter().flat_map(|(_, docs)| docs).any(|d| {
            let v = &d.value;
            v.get("kind").and_then(Node::text).as_deref() == Some("EC2NodeClass")
                && v.path(&["metadata", "name"])
                    .and_then(Node::text)
                    .as_deref()
                    == Some(name.as_str())
                && v.path(&["spec", "instanceStorePolicy"])
                    .and_then(Node::text)
                    .is_some_and(|p| p.eq_ignore_ascii_case("RAID0"))
        })
    });
    let empty_dir_models = pod.volumes.iter().any(|v| {
        matches!(v.kind, VolumeKind::EmptyDir { .. })
            && pod.containers.iter().any(|c| {
                c.mounts
                    .iter()
                    .any(|m| m.name == v.name && m.path.contains("model"))
            })
    });
    let source = if raid0 && empty_dir_models {
        WeightsSource::Nvme
    } else {
        WeightsSource::S3
    };
    Ok((consolidate, source))
}

/// `10m`, `1h30m`, `90s`, `600` (seconds) as seconds.
fn duration_s(s: &str) -> Option<f64> {
    let s = s.trim();
    if let Ok(v) = s.parse::<f64>() {
        return (v >= 0.0).then_some(v);
    }
    let mut total = 0.0;
    let mut num = String::new();
    let mut any = false;
    for ch in s.chars() {
        match ch {
            '0'..='9' | '.' => num.push(ch),
            'h' | 'm' | 's' => {
                let v: f64 = num.parse().ok()?;
                total += v * match ch {
                    'h' => 3600.0,
                    'm' => 60.0,
                    _ => 1.0,
                };
                num.clear();
                any = true;
            }
            _ => return None,
        }
    }
    (any && num.is_empty()).then_some(total)
}

#[cfg(test)]
mod tests {
    use super::duration_s;

    #[test]
    fn durations_read_as_karpenter_writes_them() {
        assert_eq!(duration_s("10m"), Some(600.0));
        assert_eq!(duration_s("1h30m"), Some(5400.0));
        assert_eq!(duration_s("45s"), Some(45.0));
        assert_eq!(duration_s("ten"), None);
        assert_eq!(duration_s("5x"), None);
    }
}
