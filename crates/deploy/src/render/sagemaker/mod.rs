//! `inferplan render --platform sagemaker`: one CloudFormation template with the SageMaker
//! endpoint of a plan candidate, its autoscaling and its CloudWatch alarms, and a README.
//!
//! | resource | from |
//! |---|---|
//! | `AWS::SageMaker::Model` | the LMI container running vLLM with the plan's engine arguments ([`lmi`]) |
//! | `AWS::SageMaker::EndpointConfig` | `ml.` + the plan's instance; instances from the plan's replicas; the EBS volume from the checkpoint's download size; both startup timeouts from the cold-start model ([`inferplan_serving::startup::probe_budget_s`]); for async work an `AsyncInferenceConfig` with S3 output and SNS topics |
//! | `AWS::SageMaker::Endpoint` | the workload's name |
//! | `AWS::ApplicationAutoScaling::ScalableTarget`, `ScalingPolicy` | real-time: target tracking on `SageMakerVariantInvocationsPerInstance`; async: target tracking on `ApproximateBacklogSizePerInstance` with zero instances allowed, and a step policy on `HasBacklogWithoutCapacity` to scale out from zero |
//! | `AWS::CloudWatch::Alarm` | the SLOs: `ModelLatency` at the SLO percentile, `Invocation5XXErrors`, GPU memory and utilisation, the age of the oldest queued request |
//! | `AWS::SNS::Topic` | alarm notifications; async success and error notifications |
//!
//! One truth with the EKS render: the scaling target is the same number of requests in
//! flight per replica as KEDA's ([`RenderInput::target_in_flight`]), turned into invocations
//! per minute by Little's law at the plan's end-to-end p99 (real time), or read directly as
//! the backlog per instance (async). Limits and metric names are in [`limits`] with their
//! sources. Managed prices are not part of the render (issue 20, item 1): nothing here is
//! priced.

pub mod cfn;
pub mod limits;
pub mod lmi;
mod readme;

use super::error::RenderError;
use super::input::RenderInput;
use super::rules::{framebuffer_threshold, WASTE_UTIL_PCT};
use super::yaml::{emit, to_yaml};
use cfn::*;
use inferplan_plan::autoscaling::sagemaker as sagemaker_scaling;
use inferplan_plan::workload::Mode;
use inferplan_serving::cold_start::{cold_start_s, engine_start_s, Delivery, Node as StartNode};
use inferplan_serving::startup;
use serde::Serialize;
use yaml_rust2::yaml::Hash;
use yaml_rust2::Yaml;

/// The template's file name.
pub const TEMPLATE: &str = "sagemaker.yaml";

/// The parameter carrying a Hugging Face token, and the condition that it was given.
const HF_TOKEN_PARAMETER: &str = "HuggingFaceToken";
const HAS_HF_TOKEN: &str = "HasHuggingFaceToken";

/// Logical ids, for the lint rules and tests.
pub mod ids {
    /// The model.
    pub const MODEL: &str = "Model";
    /// The endpoint config.
    pub const ENDPOINT_CONFIG: &str = "EndpointConfig";
    /// The endpoint.
    pub const ENDPOINT: &str = "Endpoint";
    /// The scalable target.
    pub const SCALABLE_TARGET: &str = "ScalableTarget";
    /// Target tracking.
    pub const TARGET_TRACKING: &str = "TargetTrackingPolicy";
    /// Step scaling out of zero (async).
    pub const SCALE_FROM_ZERO: &str = "ScaleOutFromZeroPolicy";
    /// SNS topic of the alarms.
    pub const ALARM_TOPIC: &str = "AlarmTopic";
}

/// How the endpoint is invoked, from the workload's SLO mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EndpointKind {
    /// `InvokeEndpoint`: a response within [`limits::REALTIME_TIMEOUT_S`].
    RealTime,
    /// `InvokeEndpointAsync`: queued, results to S3, scale to zero.
    Async,
}

impl EndpointKind {
    /// Interactive work is real-time; async and batch work are asynchronous (a Batch
    /// Transform job is not rendered: an async endpoint at zero instances costs nothing
    /// between batches and serves the same container).
    pub fn of(mode: Mode) -> EndpointKind {
        match mode {
            Mode::Interactive => EndpointKind::RealTime,
            Mode::Async | Mode::Batch => EndpointKind::Async,
        }
    }
}

/// The numbers the template is built from, resolved once so that the README and the tests
/// read the same values.
#[derive(Debug, Clone, PartialEq)]
pub struct Endpoint {
    /// Real-time or async.
    pub kind: EndpointKind,
    /// Endpoint name.
    pub name: String,
    /// `ml.` instance type.
    pub instance_type: String,
    /// Instances at creation.
    pub initial_instances: u32,
    /// Autoscaling bounds.
    pub min_instances: u32,
    /// Autoscaling bounds.
    pub max_instances: u32,
    /// EBS volume, GB; `None` where the instance has an NVMe instance store.
    pub volume_gb: Option<u32>,
    /// Both startup timeouts, seconds.
    pub startup_timeout_s: u32,
    /// The cold-start budget before clamping to SageMaker's range, seconds.
    pub startup_budget_s: u32,
    /// How the container's start adds up (the cold start without the instance boot).
    pub startup_basis: String,
    /// Real-time target: invocations per instance per minute.
    pub invocations_per_instance_per_minute: f64,
    /// Async target: backlog per instance.
    pub backlog_per_instance: u32,
    /// Async: concurrent requests SageMaker hands one instance.
    pub max_concurrent_per_instance: u32,
    /// Seconds between scale-outs: the start of a new instance
    /// ([`inferplan_serving::sagemaker::instance_start`]) and the scale-out alarm's minutes
    /// after it ([`inferplan_plan::autoscaling::sagemaker::Scaling::scale_out_cooldown_s`]).
    pub scale_out_cooldown_s: u32,
    /// Seconds between scale-ins.
    pub scale_in_cooldown_s: u32,
    /// Latency alarm: statistic and threshold in microseconds, and what the threshold is.
    pub latency_alarm: (String, f64, String),
    /// Warnings for the README.
    pub notes: Vec<String>,
}

/// Seconds between scale-ins ([`inferplan_plan::autoscaling::sagemaker::SCALE_IN_COOLDOWN_S`]).
pub const SCALE_IN_COOLDOWN_S: u32 = inferplan_plan::autoscaling::sagemaker::SCALE_IN_COOLDOWN_S;

impl Endpoint {
    /// Resolves the endpoint of `input`, or says why the candidate cannot be a SageMaker
    /// endpoint.
    pub fn of(input: &RenderInput) -> Result<Endpoint, RenderError> {
        let field = |f: &str| format!("candidates[{}].{f}", input.candidate.saturating_sub(1));
        // The LMI image written here is the CUDA one; a Neuron chip needs LMI's Neuron image,
        // which this render does not write.
        if input.neuron.is_some() {
            return Err(RenderError::invalid(
                field("instance"),
                format!(
                    "{} is an AWS Neuron instance; the SageMaker render writes the CUDA LMI \
                     container only, so render this candidate for EKS (vLLM's Neuron backend) \
                     or choose a GPU candidate (`--candidate`)",
                    input.instance
                ),
            ));
        }
        if input.nodes_per_replica > 1 {
            return Err(RenderError::invalid(
                field("pp"),
                format!(
                    "a replica spans {} instances; a SageMaker endpoint runs one container per \
                     instance, so render this candidate for EKS or choose one that fits one \
                     instance (`--candidate`)",
                    input.nodes_per_replica
                ),
            ));
        }
        if input.replicas_per_instance > 1 {
            return Err(RenderError::invalid(
                field("replicas_per_instance"),
                format!(
                    "the plan packs {} replicas on one {}; the SageMaker render writes one \
                     model copy per instance (LMI's `OPTION_TENSOR_PARALLEL_DEGREE`), so \
                     choose a candidate with one replica per instance (`--candidate`)",
                    input.replicas_per_instance, input.instance
                ),
            ));
        }
        let name: String = input.name.chars().take(limits::ENDPOINT_NAME_MAX).collect();
        let name = name.trim_end_matches('-').to_owned();
        let kind = EndpointKind::of(input.slo.mode);
        let mut notes = Vec::new();
        let (lo, hi) = limits::STARTUP_TIMEOUT_RANGE_S;
        // The LMI container downloads the checkpoint from the Hub itself (`HF_MODEL_ID`, no
        // `ModelDataUrl`), so its health check waits for the download, the engine start
        // without compile caches and the read: the cold start without the instance boot, at
        // the Hub's rate (no instance figures here: the per-instance ceilings), with the EKS
        // probe's margin.
        let cold = cold_start_s(
            Delivery::HubToNodeCache,
            input.download_bytes as f64 / f64::from(input.nodes_per_replica.max(1)),
            engine_start_s(Some(input.engine), false),
            None,
            StartNode::New,
        );
        let in_container = cold.seconds - cold.boot_s;
        let budget = (in_container * startup::PROBE_MARGIN)
            .ceil()
            .max(startup::MIN_PROBE_BUDGET_S) as u32;
        if budget > hi {
            notes.push(format!(
                "The container needs {budget} s to pass the health check (download from the \
                 Hub, engine start and reading the weights, with the EKS probe's margin), above SageMaker's maximum of {hi} s: the endpoint may \
                 never become InService. Serve a smaller checkpoint, or load weights from a \
                 faster source."
            ));
        }
        let startup_timeout_s = budget.clamp(lo, hi);
        // The container downloads the checkpoint from the Hugging Face Hub to the volume
        // (HF_MODEL_ID), so the volume holds the download with the same margin as the EKS
        // `models` volume: 10 % + 4 GiB.
        let need_gb = ((input.download_bytes as f64 * 1.1 + 4.0 * (1u64 << 30) as f64) / 1e9)
            .ceil()
            .max(1.0) as u64;
        let (vlo, vhi) = limits::VOLUME_RANGE_GB;
        let volume_gb = match input.local_nvme_gb {
            Some(nvme) => {
                if (nvme as u64) < need_gb {
                    notes.push(format!(
                        "{} has {nvme} GB of instance store, less than the {need_gb} GB the \
                         checkpoint download needs; SageMaker uses the instance store and no \
                         EBS volume on such instances.",
                        input.instance
                    ));
                }
                None
            }
            None => {
                if need_gb > u64::from(vhi) {
                    notes.push(format!(
                        "The checkpoint download needs {need_gb} GB, above SageMaker's largest \
                         volume ({vhi} GB): store the weights in S3 as uncompressed model \
                         data instead."
                    ));
                }
                Some((need_gb as u32).clamp(vlo, vhi))
            }
        };
        let e2e_s = input.e2e_p99_ms.max(1.0) / 1000.0;
        if kind == EndpointKind::RealTime && e2e_s > f64::from(limits::REALTIME_TIMEOUT_S) {
            notes.push(format!(
                "The plan's end-to-end p99 ({:.0} s) is above the {} s a real-time endpoint \
                 allows per request: requests that long fail; use an asynchronous endpoint \
                 (`mode = \"async\"`).",
                e2e_s,
                limits::REALTIME_TIMEOUT_S
            ));
        }
        if kind == EndpointKind::Async && e2e_s > f64::from(limits::ASYNC_TIMEOUT_S) {
            notes.push(format!(
                "The plan's end-to-end p99 ({:.0} s) is above the {} s an asynchronous request \
                 may take.",
                e2e_s,
                limits::ASYNC_TIMEOUT_S
            ));
        }
        // The scaling the simulator runs too: targets by Little's law, the scale-out cooldown
        // the start of a new instance.
        let start = inferplan_serving::sagemaker::instance_start(
            input.download_bytes as f64 / f64::from(input.nodes_per_replica.max(1)),
            Some(input.engine),
        );
        let scaling = sagemaker_scaling::scaling(
            kind == EndpointKind::Async,
            input.min_replicas,
            input.max_replicas,
            input.target_in_flight,
            input.e2e_p99_ms,
            input.max_rps_per_replica,
            start.seconds,
        );
        let quantile = input.slo.quantile;
        let statistic = format!("p{}", crate::lint::num(quantile * 100.0, 1));
        let latency_alarm = match input.slo.e2e_ms {
            Some(ms) => (
                statistic,
                ms * limits::MODEL_LATENCY_UNITS_PER_MS,
                format!(
                    "the workload's end-to-end SLO ({} ms)",
                    crate::lint::num(ms, 0)
                ),
            ),
            None => (
                statistic,
                input.e2e_p99_ms * limits::MODEL_LATENCY_UNITS_PER_MS,
                format!(
                    "the end-to-end p99 the plan predicts at the SLO capacity ({} ms; the \
                     workload sets no end-to-end limit)",
                    crate::lint::num(input.e2e_p99_ms, 0)
                ),
            ),
        };
        Ok(Endpoint {
            kind,
            name,
            instance_type: format!("ml.{}", input.instance),
            initial_instances: scaling.initial,
            min_instances: scaling.min,
            max_instances: scaling.max,
            volume_gb,
            startup_timeout_s,
            startup_budget_s: budget,
            startup_basis: cold.basis.clone(),
            invocations_per_instance_per_minute: scaling.invocations_per_instance_per_minute,
            backlog_per_instance: scaling.backlog_per_instance,
            max_concurrent_per_instance: scaling.max_concurrent_per_instance,
            scale_out_cooldown_s: scaling.scale_out_cooldown_s,
            scale_in_cooldown_s: scaling.scale_in_cooldown_s,
            latency_alarm,
            notes,
        })
    }
}

/// The rendered files (`sagemaker.yaml`, `README.md`).
pub fn render(input: &RenderInput) -> Result<Vec<(String, String)>, RenderError> {
    let e = Endpoint::of(input)?;
    Ok(vec![
        (TEMPLATE.to_owned(), template(input, &e)),
        ("README.md".to_owned(), readme::readme(input, &e)),
    ])
}

fn resource<P: Serialize>(kind: &'static str, depends_on: &[&str], properties: P) -> Yaml {
    to_yaml(&Resource {
        kind,
        depends_on: depends_on.iter().map(|s| (*s).to_owned()).collect(),
        properties,
    })
}

fn dims(e: &Endpoint, variant: bool) -> Vec<Dimension> {
    let mut d = vec![Dimension {
        name: "EndpointName",
        value: e.name.clone(),
    }];
    if variant {
        d.push(Dimension {
            name: "VariantName",
            value: limits::VARIANT.to_owned(),
        });
    }
    d
}

/// The CloudFormation template, YAML.
pub fn template(input: &RenderInput, e: &Endpoint) -> String {
    let is_async = e.kind == EndpointKind::Async;
    let mut root = Hash::new();
    let key = |s: &str| Yaml::String(s.to_owned());
    root.insert(key("AWSTemplateFormatVersion"), key("2010-09-09"));
    root.insert(
        key("Description"),
        key(&format!(
            "{}: {} on {} as a SageMaker {} endpoint (inferplan render, candidate {})",
            input.workload,
            input.model,
            e.instance_type,
            if is_async {
                "asynchronous"
            } else {
                "real-time"
            },
            input.candidate
        )),
    );
    let mut params = Hash::new();
    params.insert(
        key("ExecutionRoleArn"),
        to_yaml(&Parameter {
            kind: "String",
            description: "IAM role SageMaker assumes to pull the image and write logs \
                          (AmazonSageMakerFullAccess or narrower)"
                .to_owned(),
            allowed_pattern: Some("^arn:aws[a-z-]*:iam::\\d{12}:role/.+$"),
            default: None,
            no_echo: false,
        }),
    );
    if is_async {
        params.insert(
            key("AsyncOutputS3Uri"),
            to_yaml(&Parameter {
                kind: "String",
                description: "S3 prefix the asynchronous results are written to (failures \
                              under <prefix>/failures)"
                    .to_owned(),
                allowed_pattern: Some("^s3://.+$"),
                default: None,
                no_echo: false,
            }),
        );
    }
    params.insert(
        key(HF_TOKEN_PARAMETER),
        to_yaml(&Parameter {
            kind: "String",
            description: "Hugging Face token for gated checkpoints (Llama, Gemma); empty for \
                          open ones. It becomes the container's HF_TOKEN, which DescribeModel \
                          shows to whoever may call it"
                .to_owned(),
            allowed_pattern: None,
            default: Some(""),
            no_echo: true,
        }),
    );
    root.insert(key("Parameters"), Yaml::Hash(params));
    let mut conditions = Hash::new();
    conditions.insert(
        key(HAS_HF_TOKEN),
        to_yaml(&serde_json::json!({
            "Fn::Not": [{ "Fn::Equals": [reference(HF_TOKEN_PARAMETER), ""] }]
        })),
    );
    root.insert(key("Conditions"), Yaml::Hash(conditions));

    let mut res = Hash::new();
    let mut environment: serde_json::Map<String, serde_json::Value> = lmi::environment(input)
        .into_iter()
        .map(|(k, v)| (k, serde_json::Value::String(v)))
        .collect();
    environment.insert(
        "HF_TOKEN".to_owned(),
        serde_json::json!({
            "Fn::If": [HAS_HF_TOKEN, reference(HF_TOKEN_PARAMETER), reference("AWS::NoValue")]
        }),
    );
    res.insert(
        key(ids::MODEL),
        resource(
            "AWS::SageMaker::Model",
            &[],
            Model {
                execution_role_arn: reference("ExecutionRoleArn"),
                primary_container: Container {
                    image: lmi::image(if input.region.is_empty() {
                        "us-east-1"
                    } else {
                        &input.region
                    }),
                    environment,
                },
            },
        ),
    );
    let async_config = is_async.then(|| AsyncInferenceConfig {
        client_config: AsyncClientConfig {
            max_concurrent_invocations_per_instance: e.max_concurrent_per_instance,
        },
        output_config: AsyncOutputConfig {
            s3_output_path: reference("AsyncOutputS3Uri"),
            s3_failure_path: sub("${AsyncOutputS3Uri}/failures"),
            notification_config: NotificationConfig {
                success_topic: reference("AsyncSuccessTopic"),
                error_topic: reference("AsyncErrorTopic"),
            },
        },
    });
    res.insert(
        key(ids::ENDPOINT_CONFIG),
        resource(
            "AWS::SageMaker::EndpointConfig",
            &[],
            EndpointConfig {
                production_variants: vec![ProductionVariant {
                    variant_name: limits::VARIANT,
                    model_name: get_att(ids::MODEL, "ModelName"),
                    instance_type: e.instance_type.clone(),
                    initial_instance_count: e.initial_instances,
                    initial_variant_weight: 1.0,
                    volume_size_in_gb: e.volume_gb,
                    model_data_download_timeout_in_seconds: e.startup_timeout_s,
                    container_startup_health_check_timeout_in_seconds: e.startup_timeout_s,
                }],
                async_inference_config: async_config,
            },
        ),
    );
    res.insert(
        key(ids::ENDPOINT),
        resource(
            "AWS::SageMaker::Endpoint",
            &[],
            cfn::Endpoint {
                endpoint_name: e.name.clone(),
                endpoint_config_name: get_att(ids::ENDPOINT_CONFIG, "EndpointConfigName"),
            },
        ),
    );
    res.insert(
        key(ids::SCALABLE_TARGET),
        resource(
            "AWS::ApplicationAutoScaling::ScalableTarget",
            &[ids::ENDPOINT],
            ScalableTarget {
                max_capacity: e.max_instances,
                min_capacity: e.min_instances,
                resource_id: format!("endpoint/{}/variant/{}", e.name, limits::VARIANT),
                scalable_dimension: limits::SCALABLE_DIMENSION,
                service_namespace: limits::SERVICE_NAMESPACE,
            },
        ),
    );
    let tracking = if is_async {
        TargetTracking {
            target_value: f64::from(e.backlog_per_instance),
            predefined_metric_specification: None,
            customized_metric_specification: Some(CustomizedMetric {
                metric_name: "ApproximateBacklogSizePerInstance",
                namespace: limits::INVOCATION_NAMESPACE,
                dimensions: dims(e, false),
                statistic: "Average",
            }),
            scale_in_cooldown: e.scale_in_cooldown_s,
            scale_out_cooldown: e.scale_out_cooldown_s,
        }
    } else {
        TargetTracking {
            target_value: e.invocations_per_instance_per_minute,
            predefined_metric_specification: Some(PredefinedMetric {
                predefined_metric_type: limits::INVOCATIONS_PER_INSTANCE,
            }),
            customized_metric_specification: None,
            scale_in_cooldown: e.scale_in_cooldown_s,
            scale_out_cooldown: e.scale_out_cooldown_s,
        }
    };
    res.insert(
        key(ids::TARGET_TRACKING),
        resource(
            "AWS::ApplicationAutoScaling::ScalingPolicy",
            &[],
            ScalingPolicy {
                policy_name: format!("{}-target-tracking", e.name),
                policy_type: "TargetTrackingScaling",
                scaling_target_id: reference(ids::SCALABLE_TARGET),
                target_tracking_scaling_policy_configuration: Some(tracking),
                step_scaling_policy_configuration: None,
            },
        ),
    );
    res.insert(
        key(ids::ALARM_TOPIC),
        resource("AWS::SNS::Topic", &[], Empty {}),
    );
    if is_async {
        for t in ["AsyncSuccessTopic", "AsyncErrorTopic"] {
            res.insert(key(t), resource("AWS::SNS::Topic", &[], Empty {}));
        }
        res.insert(
            key(ids::SCALE_FROM_ZERO),
            resource(
                "AWS::ApplicationAutoScaling::ScalingPolicy",
                &[],
                ScalingPolicy {
                    policy_name: format!("{}-scale-out-from-zero", e.name),
                    policy_type: "StepScaling",
                    scaling_target_id: reference(ids::SCALABLE_TARGET),
                    target_tracking_scaling_policy_configuration: None,
                    step_scaling_policy_configuration: Some(StepScaling {
                        adjustment_type: "ChangeInCapacity",
                        cooldown: e.scale_out_cooldown_s,
                        metric_aggregation_type: "Average",
                        step_adjustments: vec![StepAdjustment {
                            metric_interval_lower_bound: 0.0,
                            scaling_adjustment: sagemaker_scaling::FROM_ZERO_ADJUSTMENT as i32,
                        }],
                    }),
                },
            ),
        );
    }
    for (id, alarm) in alarms(input, e) {
        res.insert(key(id), resource("AWS::CloudWatch::Alarm", &[], alarm));
    }
    root.insert(key("Resources"), Yaml::Hash(res));
    let mut outputs = Hash::new();
    let mut out = Hash::new();
    out.insert(key("Description"), key("Endpoint name to invoke"));
    out.insert(key("Value"), to_yaml(&reference(ids::ENDPOINT)));
    outputs.insert(key("EndpointName"), Yaml::Hash(out));
    root.insert(key("Outputs"), Yaml::Hash(outputs));
    // YAML readers resolve a plain 2010-09-09 to a date; CloudFormation wants the string.
    emit(&Yaml::Hash(root)).replacen(
        "AWSTemplateFormatVersion: 2010-09-09",
        "AWSTemplateFormatVersion: \"2010-09-09\"",
        1,
    )
}

/// The alarms, by logical id.
fn alarms(input: &RenderInput, e: &Endpoint) -> Vec<(&'static str, Alarm)> {
    let notify = vec![reference(ids::ALARM_TOPIC)];
    let gpus = f64::from(input.gpus_per_instance);
    let (statistic, latency_us, basis) = e.latency_alarm.clone();
    let mut v = vec![
        (
            "ModelLatencyAlarm",
            Alarm {
                alarm_description: format!(
                    "{statistic} ModelLatency above {basis}, for 5 of the last 5 minutes. \
                     ModelLatency is in microseconds and covers the whole request inside the \
                     container."
                ),
                namespace: limits::INVOCATION_NAMESPACE,
                metric_name: "ModelLatency",
                dimensions: dims(e, true),
                statistic: None,
                extended_statistic: Some(statistic),
                period: limits::METRIC_PERIOD_S,
                evaluation_periods: 5,
                datapoints_to_alarm: 5,
                threshold: latency_us.round(),
                comparison_operator: "GreaterThanThreshold",
                treat_missing_data: "notBreaching",
                alarm_actions: notify.clone(),
            },
        ),
        (
            "Invocation5XXErrorsAlarm",
            Alarm {
                alarm_description: "The model container answered with HTTP 5xx in 3 of the \
                                    last 5 minutes: the engine failed requests (out of \
                                    memory, crashed worker, request above max model length)."
                    .to_owned(),
                namespace: limits::INVOCATION_NAMESPACE,
                metric_name: "Invocation5XXErrors",
                dimensions: dims(e, true),
                statistic: Some("Sum"),
                extended_statistic: None,
                period: limits::METRIC_PERIOD_S,
                evaluation_periods: 5,
                datapoints_to_alarm: 3,
                threshold: 0.0,
                comparison_operator: "GreaterThanThreshold",
                treat_missing_data: "notBreaching",
                alarm_actions: notify.clone(),
            },
        ),
        (
            "GpuMemoryAlarm",
            Alarm {
                alarm_description: format!(
                    "GPU memory above {:.0} % of the instance's {} GPU(s) for 10 minutes: vLLM \
                     reserves {:.0} % at start, so more is memory the engine did not plan for \
                     (same threshold as the EKS GpuFramebufferNearlyFull alert). \
                     GPUMemoryUtilization runs from 0 to 100 per GPU.",
                    framebuffer_threshold(input) * 100.0,
                    input.gpus_per_instance,
                    input.gpu_memory_utilization * 100.0
                ),
                namespace: limits::INSTANCE_NAMESPACE,
                metric_name: "GPUMemoryUtilization",
                dimensions: dims(e, true),
                statistic: Some("Maximum"),
                extended_statistic: None,
                period: limits::METRIC_PERIOD_S,
                evaluation_periods: 10,
                datapoints_to_alarm: 10,
                threshold: (framebuffer_threshold(input) * 100.0 * gpus).round(),
                comparison_operator: "GreaterThanThreshold",
                treat_missing_data: "notBreaching",
                alarm_actions: notify.clone(),
            },
        ),
        (
            "GpuUnderutilizedAlarm",
            Alarm {
                alarm_description: format!(
                    "Average GPU utilisation below {WASTE_UTIL_PCT:.0} % of the instance's {} \
                     GPU(s) in every hour of a day: the endpoint is over-provisioned (same \
                     threshold as the EKS GpuUnderutilizedAtPeak alert); lower the minimum \
                     instances or the instance type (inferplan rightsize).",
                    input.gpus_per_instance
                ),
                namespace: limits::INSTANCE_NAMESPACE,
                metric_name: "GPUUtilization",
                dimensions: dims(e, true),
                statistic: Some("Average"),
                extended_statistic: None,
                period: 3600,
                evaluation_periods: 24,
                datapoints_to_alarm: 24,
                threshold: WASTE_UTIL_PCT * gpus,
                comparison_operator: "LessThanThreshold",
                treat_missing_data: "notBreaching",
                alarm_actions: notify.clone(),
            },
        ),
    ];
    if e.kind == EndpointKind::Async {
        let deadline_s = input.slo.e2e_ms.unwrap_or(input.e2e_p99_ms) / 1000.0;
        v.push((
            "BacklogAgeAlarm",
            Alarm {
                alarm_description: format!(
                    "The oldest queued request is older than the deadline ({deadline_s:.0} s) \
                     for 3 of the last 5 minutes: the endpoint does not keep up, or cannot \
                     scale out."
                ),
                namespace: limits::INVOCATION_NAMESPACE,
                metric_name: "ApproximateAgeOfOldestRequest",
                dimensions: dims(e, false),
                statistic: Some("Maximum"),
                extended_statistic: None,
                period: limits::METRIC_PERIOD_S,
                evaluation_periods: 5,
                datapoints_to_alarm: 3,
                threshold: deadline_s.round().max(1.0),
                comparison_operator: "GreaterThanThreshold",
                treat_missing_data: "notBreaching",
                alarm_actions: notify.clone(),
            },
        ));
        v.push((
            "HasBacklogWithoutCapacityAlarm",
            Alarm {
                alarm_description: "Requests wait while the endpoint has no instance: adds \
                                    one (the target-tracking policy cannot scale out of \
                                    zero)."
                    .to_owned(),
                namespace: limits::INVOCATION_NAMESPACE,
                metric_name: "HasBacklogWithoutCapacity",
                dimensions: dims(e, false),
                statistic: Some("Average"),
                extended_statistic: None,
                period: limits::METRIC_PERIOD_S,
                evaluation_periods: sagemaker_scaling::FROM_ZERO_DATAPOINTS,
                datapoints_to_alarm: sagemaker_scaling::FROM_ZERO_DATAPOINTS,
                threshold: sagemaker_scaling::FROM_ZERO_THRESHOLD,
                comparison_operator: "GreaterThanOrEqualToThreshold",
                treat_missing_data: "missing",
                alarm_actions: vec![reference(ids::SCALE_FROM_ZERO)],
            },
        ));
    }
    v
}

/// The first candidate of a plan that runs vLLM and fits a SageMaker endpoint (one replica
/// per instance, inside one instance), best first.
pub fn first_candidate(
    plan: &inferplan_plan::contract::PlanJson,
    catalog: &inferplan_catalog::Catalog,
) -> Option<usize> {
    super::renderable_candidates(plan, catalog)
        .into_iter()
        .filter(|&n| plan.candidates[n - 1].engine == inferplan_perf::Engine::Vllm)
        .find(|&n| {
            super::from_plan(plan, n, catalog)
                .ok()
                .is_some_and(|input| Endpoint::of(&input).is_ok())
        })
}
