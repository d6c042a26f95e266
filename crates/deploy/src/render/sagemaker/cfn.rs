//! Typed CloudFormation resources, serialized in declaration order. Every property name is
//! the one of the CloudFormation template reference (checked 2026-12-07):
//! `AWS::SageMaker::Model` (`ExecutionRoleArn`, `PrimaryContainer`: `Image`, `Environment`),
//! `AWS::SageMaker::EndpointConfig` (`ProductionVariants`: `VariantName`, `ModelName`,
//! `InstanceType`, `InitialInstanceCount`, `InitialVariantWeight`, `VolumeSizeInGB`,
//! `ModelDataDownloadTimeoutInSeconds`, `ContainerStartupHealthCheckTimeoutInSeconds`;
//! `AsyncInferenceConfig`: `ClientConfig.MaxConcurrentInvocationsPerInstance`,
//! `OutputConfig`: `S3OutputPath`, `S3FailurePath`, `NotificationConfig`: `SuccessTopic`,
//! `ErrorTopic`), `AWS::SageMaker::Endpoint` (`EndpointName`, `EndpointConfigName`),
//! `AWS::ApplicationAutoScaling::ScalableTarget` (`MaxCapacity`, `MinCapacity`,
//! `ResourceId`, `ScalableDimension`, `ServiceNamespace`),
//! `AWS::ApplicationAutoScaling::ScalingPolicy` (`PolicyName`, `PolicyType`,
//! `ScalingTargetId`, `TargetTrackingScalingPolicyConfiguration`: `TargetValue`,
//! `PredefinedMetricSpecification.PredefinedMetricType`, `CustomizedMetricSpecification`:
//! `MetricName`, `Namespace`, `Dimensions`, `Statistic`; `ScaleInCooldown`,
//! `ScaleOutCooldown`; `StepScalingPolicyConfiguration`: `AdjustmentType`, `Cooldown`,
//! `MetricAggregationType`, `StepAdjustments`: `MetricIntervalLowerBound`,
//! `ScalingAdjustment`), `AWS::CloudWatch::Alarm` (`AlarmDescription`, `Namespace`,
//! `MetricName`, `Dimensions`, `Statistic`, `ExtendedStatistic`, `Period`,
//! `EvaluationPeriods`, `DatapointsToAlarm`, `Threshold`, `ComparisonOperator`,
//! `TreatMissingData`, `AlarmActions`), `AWS::SNS::Topic` (no properties needed).
//! `.ci/run` checks the rendered templates with `cfn-lint`.

use serde::Serialize;
use serde_json::{json, Value};

/// `{"Ref": name}`.
pub fn reference(name: &str) -> Value {
    json!({ "Ref": name })
}

/// `{"Fn::GetAtt": [resource, attribute]}`.
pub fn get_att(resource: &str, attribute: &str) -> Value {
    json!({ "Fn::GetAtt": [resource, attribute] })
}

/// `{"Fn::Sub": text}`.
pub fn sub(text: &str) -> Value {
    json!({ "Fn::Sub": text })
}

/// One resource: its type, what it waits for, its properties.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Resource<P: Serialize> {
    /// `AWS::...`.
    #[serde(rename = "Type")]
    pub kind: &'static str,
    /// Logical ids created first.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub depends_on: Vec<String>,
    /// The properties.
    pub properties: P,
}

/// A template parameter.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Parameter {
    /// `String`.
    #[serde(rename = "Type")]
    pub kind: &'static str,
    /// What to give.
    pub description: String,
    /// A regular expression the value must match.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allowed_pattern: Option<&'static str>,
    /// The value when none is given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default: Option<&'static str>,
    /// Hide the value in the console and API output.
    #[serde(rename = "NoEcho", skip_serializing_if = "std::ops::Not::not")]
    pub no_echo: bool,
}

/// `AWS::SageMaker::Model`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Model {
    /// Role SageMaker assumes to pull the image and write logs.
    pub execution_role_arn: Value,
    /// The one container.
    pub primary_container: Container,
}

/// `ContainerDefinition`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Container {
    /// Image URI.
    pub image: String,
    /// Environment, sorted by name.
    pub environment: serde_json::Map<String, Value>,
}

/// `AWS::SageMaker::EndpointConfig`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct EndpointConfig {
    /// One variant.
    pub production_variants: Vec<ProductionVariant>,
    /// For an asynchronous endpoint.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub async_inference_config: Option<AsyncInferenceConfig>,
}

/// `ProductionVariant`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ProductionVariant {
    /// `AllTraffic`.
    pub variant_name: &'static str,
    /// The model's generated name.
    pub model_name: Value,
    /// `ml.<instance>`.
    pub instance_type: String,
    /// Instances at creation.
    pub initial_instance_count: u32,
    /// The only variant takes all traffic.
    pub initial_variant_weight: f64,
    /// EBS volume, GB (left out where the instance has a local NVMe instance store).
    #[serde(rename = "VolumeSizeInGB", skip_serializing_if = "Option::is_none")]
    pub volume_size_in_gb: Option<u32>,
    /// Time to download the model data, seconds.
    pub model_data_download_timeout_in_seconds: u32,
    /// Time for the container to answer `/ping`, seconds.
    pub container_startup_health_check_timeout_in_seconds: u32,
}

/// `AsyncInferenceConfig`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct AsyncInferenceConfig {
    /// Requests SageMaker hands one instance at a time.
    pub client_config: AsyncClientConfig,
    /// Where results and notifications go.
    pub output_config: AsyncOutputConfig,
}

/// `AsyncInferenceClientConfig`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct AsyncClientConfig {
    /// Concurrent requests per instance.
    pub max_concurrent_invocations_per_instance: u32,
}

/// `AsyncInferenceOutputConfig`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct AsyncOutputConfig {
    /// Results.
    #[serde(rename = "S3OutputPath")]
    pub s3_output_path: Value,
    /// Failures.
    #[serde(rename = "S3FailurePath")]
    pub s3_failure_path: Value,
    /// SNS topics.
    pub notification_config: NotificationConfig,
}

/// `AsyncInferenceNotificationConfig`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct NotificationConfig {
    /// Topic of successes.
    pub success_topic: Value,
    /// Topic of errors.
    pub error_topic: Value,
}

/// `AWS::SageMaker::Endpoint`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Endpoint {
    /// The endpoint's name (fixed, so that scaling targets and alarms can name it).
    pub endpoint_name: String,
    /// The endpoint config's generated name.
    pub endpoint_config_name: Value,
}

/// `AWS::ApplicationAutoScaling::ScalableTarget`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ScalableTarget {
    /// Most instances.
    pub max_capacity: u32,
    /// Fewest instances (0 for an asynchronous endpoint).
    pub min_capacity: u32,
    /// `endpoint/<name>/variant/AllTraffic`.
    pub resource_id: String,
    /// `sagemaker:variant:DesiredInstanceCount`.
    pub scalable_dimension: &'static str,
    /// `sagemaker`.
    pub service_namespace: &'static str,
}

/// `AWS::ApplicationAutoScaling::ScalingPolicy`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ScalingPolicy {
    /// Name.
    pub policy_name: String,
    /// `TargetTrackingScaling` or `StepScaling`.
    pub policy_type: &'static str,
    /// The scalable target's `Ref`.
    pub scaling_target_id: Value,
    /// Target tracking.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target_tracking_scaling_policy_configuration: Option<TargetTracking>,
    /// Step scaling.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub step_scaling_policy_configuration: Option<StepScaling>,
}

/// `TargetTrackingScalingPolicyConfiguration`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct TargetTracking {
    /// The metric's target.
    pub target_value: f64,
    /// A predefined metric.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub predefined_metric_specification: Option<PredefinedMetric>,
    /// A CloudWatch metric.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub customized_metric_specification: Option<CustomizedMetric>,
    /// Seconds after a scale-in before the next.
    pub scale_in_cooldown: u32,
    /// Seconds after a scale-out before the next.
    pub scale_out_cooldown: u32,
}

/// `PredefinedMetricSpecification`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct PredefinedMetric {
    /// `SageMakerVariantInvocationsPerInstance`.
    pub predefined_metric_type: &'static str,
}

/// `CustomizedMetricSpecification`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct CustomizedMetric {
    /// Metric.
    pub metric_name: &'static str,
    /// Namespace.
    pub namespace: &'static str,
    /// Dimensions.
    pub dimensions: Vec<Dimension>,
    /// `Average`.
    pub statistic: &'static str,
}

/// A metric dimension.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Dimension {
    /// `EndpointName`, `VariantName`.
    pub name: &'static str,
    /// Its value.
    pub value: String,
}

/// `StepScalingPolicyConfiguration`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct StepScaling {
    /// `ChangeInCapacity`.
    pub adjustment_type: &'static str,
    /// Seconds before the next step.
    pub cooldown: u32,
    /// `Maximum`.
    pub metric_aggregation_type: &'static str,
    /// The steps.
    pub step_adjustments: Vec<StepAdjustment>,
}

/// `StepAdjustment`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct StepAdjustment {
    /// Lower bound of the metric above the alarm threshold.
    pub metric_interval_lower_bound: f64,
    /// Instances to add.
    pub scaling_adjustment: i32,
}

/// `AWS::CloudWatch::Alarm`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Alarm {
    /// What it means and where the threshold comes from.
    pub alarm_description: String,
    /// Namespace.
    pub namespace: &'static str,
    /// Metric.
    pub metric_name: &'static str,
    /// Dimensions.
    pub dimensions: Vec<Dimension>,
    /// `Average`, `Sum`, `Maximum`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub statistic: Option<&'static str>,
    /// `p99`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub extended_statistic: Option<String>,
    /// Seconds.
    pub period: u32,
    /// Periods looked at.
    pub evaluation_periods: u32,
    /// Of which this many must breach.
    pub datapoints_to_alarm: u32,
    /// Threshold.
    pub threshold: f64,
    /// `GreaterThanThreshold`, ...
    pub comparison_operator: &'static str,
    /// `notBreaching`, `missing`.
    pub treat_missing_data: &'static str,
    /// Topics or policies notified.
    pub alarm_actions: Vec<Value>,
}

/// A resource with no properties (`AWS::SNS::Topic`).
#[derive(Debug, Clone, Serialize)]
pub struct Empty {}
