//! What a CloudFormation template's SageMaker endpoint runs, for `simulate --deploy`: the
//! model and engine settings of its LMI container, the `ml.` instance type and count, and the
//! Application Auto Scaling attached to it (the scalable target's bounds, a target-tracking
//! policy on invocations or backlog per instance with its cooldowns, a step policy run by a
//! `HasBacklogWithoutCapacity` alarm), read with lint's CloudFormation context
//! ([`crate::lint::context::cloudformation`]). Whatever the simulator cannot model is listed
//! in [`Endpoint::unmodelled`], one line each with its file and line.

use super::{err, DeployedError, Served};
use crate::lint::context::cloudformation::{Eval, Resource, SageMakerEndpoint, Template};
use crate::lint::rules::sagemaker::variant_weights;
use crate::lint::Context;
use crate::yaml::{self, Doc, Node};
use inferplan_catalog::{Catalog, Dtype};
use inferplan_perf::{Engine, MemoryParams};

/// What a target-tracking policy tracks, as far as the simulator follows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tracked {
    /// `SageMakerVariantInvocationsPerInstance`.
    InvocationsPerInstance,
    /// `ApproximateBacklogSizePerInstance` (asynchronous endpoints).
    BacklogPerInstance,
}

/// A target-tracking policy.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Tracking {
    /// The metric.
    pub metric: Tracked,
    /// `TargetValue`.
    pub target: f64,
    /// `ScaleOutCooldown`, seconds (`None`: the default).
    pub scale_out_cooldown_s: Option<f64>,
    /// `ScaleInCooldown`, seconds (`None`: the default).
    pub scale_in_cooldown_s: Option<f64>,
    /// `DisableScaleIn`.
    pub disable_scale_in: bool,
}

/// A step policy adding capacity while requests wait without an instance.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StepOut {
    /// The alarm's `Threshold` on `HasBacklogWithoutCapacity`.
    pub threshold: f64,
    /// `DatapointsToAlarm` (else `EvaluationPeriods`).
    pub datapoints: u32,
    /// `EvaluationPeriods`.
    pub evaluation_periods: u32,
    /// The step's `ScalingAdjustment`.
    pub adjustment: u32,
    /// `Cooldown`, seconds (`None`: the default).
    pub cooldown_s: Option<f64>,
}

/// The endpoint the template runs.
#[derive(Debug, Clone)]
pub struct Endpoint {
    /// `AWS::SageMaker::Endpoint/Id (file:line)`.
    pub endpoint: String,
    /// The LMI container's server: `OPTION_TENSOR_PARALLEL_DEGREE`,
    /// `OPTION_PIPELINE_PARALLEL_DEGREE`, `OPTION_MAX_ROLLING_BATCH_SIZE`,
    /// `OPTION_MAX_ROLLING_BATCH_PREFILL_TOKENS`, `OPTION_MAX_MODEL_LEN`,
    /// `OPTION_GPU_MEMORY_UTILIZATION`, on the catalog instance of the `ml.` type.
    pub served: Served,
    /// The `ml.` type as written.
    pub instance_type: String,
    /// Bytes the container downloads.
    pub download_bytes: u64,
    /// `InitialInstanceCount`.
    pub initial_instances: u32,
    /// The config has an `AsyncInferenceConfig`.
    pub is_async: bool,
    /// `MaxConcurrentInvocationsPerInstance` of an asynchronous endpoint.
    pub max_concurrent_per_instance: Option<u32>,
    /// The scalable target's bounds, when there is one.
    pub capacity: Option<(u32, u32)>,
    /// The target-tracking policy, if any.
    pub tracking: Option<Tracking>,
    /// The step policy out of zero, if any.
    pub from_zero: Option<StepOut>,
    /// `ContainerStartupHealthCheckTimeoutInSeconds`, when set.
    pub startup_timeout_s: Option<u32>,
    /// What the simulator does not model, one line each.
    pub unmodelled: Vec<String>,
}

/// Reads the first SageMaker endpoint of the templates among `(origin, text)`; `None` when
/// none has one.
pub fn read(
    texts: &[(String, String)],
    catalog: &Catalog,
    params: &MemoryParams,
) -> Result<Option<Endpoint>, DeployedError> {
    let mut files: Vec<(String, Vec<Doc>)> = Vec::new();
    for (origin, text) in texts {
        let docs = yaml::parse(text, origin).map_err(|e| DeployedError(e.to_string()))?;
        files.push((origin.clone(), docs));
    }
    let ctx = Context::new(&files, catalog, params);
    let mut unmodelled = Vec::new();
    let mut found: Option<(&Template<'_>, SageMakerEndpoint<'_, '_>)> = None;
    for t in &ctx.templates {
        for e in SageMakerEndpoint::all(t) {
            if let Some((_, first)) = &found {
                unmodelled.push(format!(
                    "{}:{}: endpoint {} is not simulated; only {} is",
                    e.endpoint.file, e.endpoint.line, e.endpoint.id, first.endpoint.id
                ));
            } else {
                found = Some((t, e));
            }
        }
    }
    let Some((t, e)) = found else {
        return Ok(None);
    };
    endpoint(&ctx, t, &e, unmodelled).map(Some)
}

fn number(t: &Template<'_>, n: Option<&Node>) -> Result<Option<f64>, String> {
    let Some(node) = n else { return Ok(None) };
    match t.string(Some(node)) {
        Eval::Value(v) => v
            .trim()
            .parse::<f64>()
            .ok()
            .filter(|x| x.is_finite() && *x >= 0.0)
            .map(Some)
            .ok_or_else(|| format!("`{v}` is not a number")),
        Eval::Opaque(x) | Eval::Resource(x) => Err(format!(
            "`{x}` cannot be evaluated here; the simulation needs the number"
        )),
        Eval::Missing => Ok(None),
    }
}

fn endpoint(
    ctx: &Context<'_>,
    t: &Template<'_>,
    e: &SageMakerEndpoint<'_, '_>,
    mut unmodelled: Vec<String>,
) -> Result<Endpoint, DeployedError> {
    let file = e.endpoint.file;
    let at = |r: &Resource<'_>, keys: &[&str], field: &str, m: String| {
        err(r.file, r.line_of(keys), field, m)
    };
    let config = match &e.config {
        Ok(Some(c)) => *c,
        Ok(None) => {
            return Err(err(
                file,
                e.endpoint.line,
                "EndpointConfigName",
                "names no AWS::SageMaker::EndpointConfig of the template",
            ))
        }
        Err(x) => {
            return Err(err(
                file,
                e.endpoint.line,
                "EndpointConfigName",
                format!("`{x}` cannot be evaluated here"),
            ))
        }
    };
    let variants = e.variants();
    let Some(variant) = variants.first() else {
        return Err(at(
            config,
            &["ProductionVariants"],
            "ProductionVariants",
            "no production variant".to_owned(),
        ));
    };
    for v in variants.iter().skip(1) {
        unmodelled.push(format!(
            "{}:{}: a second production variant is not simulated (all traffic to the first)",
            config.file, v.line
        ));
    }
    if variant.get("ServerlessConfig").is_some() {
        return Err(err(
            config.file,
            variant.line,
            "ServerlessConfig",
            "a serverless variant has no instances to simulate",
        ));
    }
    let w = variant_weights(ctx, e, variant)
        .map_err(|m| err(config.file, variant.line, "ProductionVariants", m))?
        .ok_or_else(|| {
            err(
                config.file,
                variant.line,
                "InstanceType",
                "the `ml.` instance type or the model's HF_MODEL_ID is not in the catalog \
                 (see `inferplan catalog instances` and `inferplan catalog models`)",
            )
        })?;
    if w.s3_model_data {
        unmodelled.push(format!(
            "{}:{}: the model data comes from S3; its download is simulated at the Hub's rate",
            config.file, variant.line
        ));
    }
    let env = w.env;
    let env_num = |key: &str| -> Result<Option<f64>, DeployedError> {
        number(t, env.get(key)).map_err(|m| err(file, env.line, key, m))
    };
    let gpus = w.instance.whole_gpus().max(1);
    let tp = match env
        .get("OPTION_TENSOR_PARALLEL_DEGREE")
        .and_then(Node::text)
    {
        Some(v) if v.eq_ignore_ascii_case("max") => gpus,
        _ => env_num("OPTION_TENSOR_PARALLEL_DEGREE")?.map_or(gpus, |v| v.max(1.0) as u32),
    };
    let pp = env_num("OPTION_PIPELINE_PARALLEL_DEGREE")?.map_or(1, |v| v.max(1.0) as u32);
    let engine = match env
        .get("OPTION_ROLLING_BATCH")
        .and_then(Node::text)
        .map(|s| s.to_ascii_lowercase())
        .as_deref()
    {
        Some("vllm") | Some("lmi-dist") => Engine::Vllm,
        Some("trtllm") => Engine::Trtllm,
        other => {
            unmodelled.push(format!(
                "{file}:{}: OPTION_ROLLING_BATCH {}: simulated as vLLM",
                env.line,
                other.unwrap_or("unset")
            ));
            Engine::Vllm
        }
    };
    let quantize = env
        .get("OPTION_QUANTIZE")
        .and_then(Node::text)
        .is_some_and(|q| q.eq_ignore_ascii_case("fp8"));
    let weights = if quantize { Dtype::Fp8 } else { w.format };
    let kv = match env.get("OPTION_KV_CACHE_DTYPE").and_then(Node::text) {
        Some(k) if k.to_ascii_lowercase().starts_with("fp8") => Dtype::Fp8,
        _ if weights.is_quantized() => Dtype::Bf16,
        _ => weights,
    };
    let int = |v: Option<f64>| v.map(|x| x as u64);
    let count =
        |key: &str, r: &Resource<'_>, n: Option<&Node>| -> Result<Option<u32>, DeployedError> {
            match t.int(n) {
                Eval::Value(v) if (0..=10_000).contains(&v) => Ok(Some(v as u32)),
                Eval::Value(v) => Err(at(r, &[key], key, format!("{v} is not an instance count"))),
                Eval::Opaque(x) | Eval::Resource(x) => Err(at(
                    r,
                    &[key],
                    key,
                    format!("`{x}` cannot be evaluated here; the simulation needs the count"),
                )),
                Eval::Missing => Ok(None),
            }
        };
    let initial_instances = count(
        "InitialInstanceCount",
        config,
        variant.get("InitialInstanceCount"),
    )?
    .unwrap_or(1);
    let is_async = e.is_async();
    let max_concurrent_per_instance = if is_async {
        let n = config.props().path(&[
            "AsyncInferenceConfig",
            "ClientConfig",
            "MaxConcurrentInvocationsPerInstance",
        ]);
        count("MaxConcurrentInvocationsPerInstance", config, n)?
    } else {
        None
    };
    let startup_timeout_s = count(
        "ContainerStartupHealthCheckTimeoutInSeconds",
        config,
        variant.get("ContainerStartupHealthCheckTimeoutInSeconds"),
    )?;
    // Application Auto Scaling.
    let scaling = e.scaling();
    for o in &scaling.opaque {
        unmodelled.push(format!("{file}: {o}: not simulated"));
    }
    let mut capacity = None;
    if let Some(target) = scaling.targets.first() {
        let p = target.props();
        let min = count("MinCapacity", target, p.get("MinCapacity"))?.unwrap_or(0);
        let max = count("MaxCapacity", target, p.get("MaxCapacity"))?.unwrap_or(min);
        if max < min {
            return Err(at(
                target,
                &["MaxCapacity"],
                "MaxCapacity",
                format!("{max} is below MinCapacity {min}"),
            ));
        }
        capacity = Some((min, max));
        for other in scaling.targets.iter().skip(1) {
            unmodelled.push(format!(
                "{}:{}: a second scalable target ({}) is not simulated",
                other.file, other.line, other.id
            ));
        }
        if p.get("ScheduledActions").is_some() || p.get("SuspendedState").is_some() {
            unmodelled.push(format!(
                "{}:{}: scheduled actions and suspended states are not simulated",
                target.file, target.line
            ));
        }
    }
    let mut tracking = None;
    let mut from_zero = None;
    for policy in &scaling.policies {
        let p = policy.props();
        let kind = p.get("PolicyType").and_then(Node::text).unwrap_or_default();
        let here = |what: &str| format!("{}:{}: {} {what}", policy.file, policy.line, policy.id);
        if kind == "TargetTrackingScaling" {
            let c = p.at("TargetTrackingScalingPolicyConfiguration");
            let predefined = c
                .path(&["PredefinedMetricSpecification", "PredefinedMetricType"])
                .and_then(Node::text);
            let custom = c
                .path(&["CustomizedMetricSpecification", "MetricName"])
                .and_then(Node::text);
            let metric = match (predefined.as_deref(), custom.as_deref()) {
                (Some("SageMakerVariantInvocationsPerInstance"), _) => {
                    Some(Tracked::InvocationsPerInstance)
                }
                (None, Some("ApproximateBacklogSizePerInstance")) => {
                    Some(Tracked::BacklogPerInstance)
                }
                _ => None,
            };
            let Some(metric) = metric else {
                unmodelled.push(here(&format!(
                    "tracks `{}`: not simulated (only SageMakerVariantInvocationsPerInstance \
                     and ApproximateBacklogSizePerInstance are)",
                    predefined.or(custom).unwrap_or_default()
                )));
                continue;
            };
            if tracking.is_some() {
                unmodelled.push(here("is a second target-tracking policy: not simulated"));
                continue;
            }
            let num = |key: &str| {
                number(t, c.get(key)).map_err(|m| {
                    at(
                        policy,
                        &["TargetTrackingScalingPolicyConfiguration", key],
                        key,
                        m,
                    )
                })
            };
            let target = num("TargetValue")?.filter(|v| *v > 0.0).ok_or_else(|| {
                at(
                    policy,
                    &["TargetTrackingScalingPolicyConfiguration", "TargetValue"],
                    "TargetValue",
                    "missing or not positive".to_owned(),
                )
            })?;
            tracking = Some(Tracking {
                metric,
                target,
                scale_out_cooldown_s: num("ScaleOutCooldown")?,
                scale_in_cooldown_s: num("ScaleInCooldown")?,
                disable_scale_in: c
                    .get("DisableScaleIn")
                    .and_then(Node::as_bool)
                    .unwrap_or(false),
            });
        } else if kind == "StepScaling" {
            let c = p.at("StepScalingPolicyConfiguration");
            let adjustment_type = c
                .get("AdjustmentType")
                .and_then(Node::text)
                .unwrap_or_default();
            let steps = c.at("StepAdjustments").items();
            let alarms = e.alarms_running(policy);
            let alarm = alarms.iter().find(|a| {
                a.props().get("MetricName").and_then(Node::text).as_deref()
                    == Some("HasBacklogWithoutCapacity")
            });
            let simple = adjustment_type == "ChangeInCapacity"
                && steps.len() == 1
                && steps[0]
                    .get("ScalingAdjustment")
                    .and_then(Node::as_i64)
                    .is_some_and(|v| v > 0);
            let (Some(alarm), true) = (alarm, simple) else {
                unmodelled.push(here(
                    "is a step policy the simulator does not follow (only ChangeInCapacity out \
                     of zero, run by a HasBacklogWithoutCapacity alarm)",
                ));
                continue;
            };
            let a = alarm.props();
            let anum = |key: &str| number(t, a.get(key)).map_err(|m| at(alarm, &[key], key, m));
            if anum("Period")?.is_some_and(|p| p != 60.0) {
                unmodelled.push(format!(
                    "{}:{}: {} has a period other than 60 s: evaluated each minute",
                    alarm.file, alarm.line, alarm.id
                ));
            }
            let evaluation_periods = anum("EvaluationPeriods")?.map_or(1, |v| v.max(1.0) as u32);
            from_zero = Some(StepOut {
                threshold: anum("Threshold")?.unwrap_or(1.0),
                datapoints: anum("DatapointsToAlarm")?
                    .map_or(evaluation_periods, |v| v.max(1.0) as u32),
                evaluation_periods,
                adjustment: steps[0]
                    .get("ScalingAdjustment")
                    .and_then(Node::as_i64)
                    .map_or(1, |v| v.clamp(1, 10_000) as u32),
                cooldown_s: number(t, c.get("Cooldown")).map_err(|m| {
                    at(
                        policy,
                        &["StepScalingPolicyConfiguration", "Cooldown"],
                        "Cooldown",
                        m,
                    )
                })?,
            });
        } else {
            unmodelled.push(here(&format!("has PolicyType `{kind}`: not simulated")));
        }
    }
    if capacity.is_none() && (tracking.is_some() || from_zero.is_some()) {
        unmodelled.push(format!(
            "{file}: scaling policies without a scalable target are not simulated"
        ));
        tracking = None;
        from_zero = None;
    }
    Ok(Endpoint {
        endpoint: format!("{} ({file}:{})", e.endpoint.object().id(), e.endpoint.line),
        served: Served {
            model: w.model.clone(),
            weights,
            kv,
            engine,
            tp,
            pp,
            max_num_seqs: int(env_num("OPTION_MAX_ROLLING_BATCH_SIZE")?),
            max_num_batched_tokens: int(env_num("OPTION_MAX_ROLLING_BATCH_PREFILL_TOKENS")?),
            max_model_len: int(env_num("OPTION_MAX_MODEL_LEN")?),
            gpu_memory_utilization: env_num("OPTION_GPU_MEMORY_UTILIZATION")?,
            instance: w.instance.clone(),
        },
        instance_type: format!("ml.{}", w.instance.name),
        download_bytes: w.bytes,
        initial_instances,
        is_async,
        max_concurrent_per_instance,
        capacity,
        tracking,
        from_zero,
        startup_timeout_s,
        unmodelled,
    })
}
