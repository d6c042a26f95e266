//! SageMaker's own limits, each with its source (AWS documentation, read 2026-12-07). The
//! planner checks its SageMaker candidates against them, the renderer checks a plan against
//! them and the lint rules read them; nothing else in the code writes these numbers.

/// Longest a real-time endpoint's container may take to answer one `InvokeEndpoint` request,
/// seconds. Source: SageMaker Runtime API reference, `InvokeEndpoint` ("A customer's model
/// containers must respond to requests within 60 seconds"),
/// <https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_runtime_InvokeEndpoint.html>.
pub const REALTIME_TIMEOUT_S: u32 = 60;

/// Largest request or response body of a real-time `InvokeEndpoint`, bytes (6 MB). Source:
/// the `Body` field of the same `InvokeEndpoint` reference ("Length Constraints: Maximum
/// length of 6291456").
pub const REALTIME_PAYLOAD_BYTES: u64 = 6_291_456;

/// Largest payload of an asynchronous request (read from S3), bytes (1 GB). Source:
/// "Asynchronous inference" ("large payload sizes (up to 1GB), long processing times (up to
/// one hour)"), <https://docs.aws.amazon.com/sagemaker/latest/dg/async-inference.html>.
pub const ASYNC_PAYLOAD_BYTES: u64 = 1_000_000_000;

/// Longest processing time of one asynchronous request, seconds (one hour). Sources: the
/// "Asynchronous inference" page above, and `InvokeEndpointAsync`'s
/// `InvocationTimeoutSeconds` ("a maximum of 3600 seconds", default 15 minutes),
/// <https://docs.aws.amazon.com/sagemaker/latest/dg/async-inference-invoke-endpoint.html>.
pub const ASYNC_TIMEOUT_S: u32 = 3600;

/// `InvocationTimeoutSeconds` of an asynchronous request when the caller sets none, seconds
/// (15 minutes). Source: the `InvokeEndpointAsync` page above.
pub const ASYNC_DEFAULT_TIMEOUT_S: u32 = 900;

/// Bounds of `ModelDataDownloadTimeoutInSeconds` and
/// `ContainerStartupHealthCheckTimeoutInSeconds` of a production variant, seconds. Source:
/// `ProductionVariant` in the SageMaker API reference ("Valid Range: Minimum value of 60.
/// Maximum value of 3600."),
/// <https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_ProductionVariant.html>.
pub const STARTUP_TIMEOUT_RANGE_S: (u32, u32) = (60, 3600);

/// Bounds of `VolumeSizeInGB` of a production variant, GB. Source: the same
/// `ProductionVariant` reference ("Valid Range: Minimum value of 1. Maximum value of 512.").
/// SageMaker attaches an EBS gp2 volume of that size; instances with a local NVMe instance
/// store use the instance store instead, and the property is left out for them ("If the
/// size of the model is larger than 30 GB and you are using an instance without a local
/// disk, you should increase this parameter", "SageMaker AI endpoint parameters for large
/// model inference",
/// <https://docs.aws.amazon.com/sagemaker/latest/dg/large-model-inference-hosting.html>).
pub const VOLUME_RANGE_GB: (u32, u32) = (1, 512);

/// Longest endpoint name (also the pattern `^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}`). Source:
/// `CreateEndpoint`'s `EndpointName`,
/// <https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_CreateEndpoint.html>.
pub const ENDPOINT_NAME_MAX: usize = 63;

/// The CloudWatch namespace of the invocation metrics (`Invocations`, `ModelLatency` in
/// microseconds, `Invocation5XXErrors`) and of the asynchronous queue metrics
/// (`ApproximateBacklogSizePerInstance`, `HasBacklogWithoutCapacity`,
/// `ApproximateAgeOfOldestRequest` in seconds). Sources: "Amazon SageMaker AI metrics in
/// Amazon CloudWatch", <https://docs.aws.amazon.com/sagemaker/latest/dg/monitoring-cloudwatch.html>;
/// "Alarms and logs for tracking metrics from asynchronous endpoints",
/// <https://docs.aws.amazon.com/sagemaker/latest/dg/async-inference-monitor.html>.
pub const INVOCATION_NAMESPACE: &str = "AWS/SageMaker";

/// The CloudWatch namespace of the instance metrics (`GPUUtilization`,
/// `GPUMemoryUtilization`: percent, 0 to 100 times the GPUs of the instance). Source: the
/// "metrics in Amazon CloudWatch" page above.
pub const INSTANCE_NAMESPACE: &str = "/aws/sagemaker/Endpoints";

/// `ModelLatency` is reported in microseconds (same page).
pub const MODEL_LATENCY_UNITS_PER_MS: f64 = 1000.0;

/// Period the rendered alarms evaluate, seconds: one minute, the standard resolution
/// SageMaker publishes its endpoint metrics at (the "metrics in Amazon CloudWatch" page
/// above) and the period target tracking reads `SageMakerVariantInvocationsPerInstance` in.
pub const METRIC_PERIOD_S: u32 = 60;

/// The predefined target-tracking metric of a production variant: the average number of
/// `InvokeEndpoint` calls per instance per minute. Source: "Define a scaling policy",
/// <https://docs.aws.amazon.com/sagemaker/latest/dg/endpoint-auto-scaling-add-code-define.html>.
pub const INVOCATIONS_PER_INSTANCE: &str = "SageMakerVariantInvocationsPerInstance";

/// The scalable dimension and namespace Application Auto Scaling uses for a variant's
/// instance count, and the resource id format `endpoint/<endpoint>/variant/<variant>`.
/// Source: `RegisterScalableTarget` in the Application Auto Scaling API reference,
/// <https://docs.aws.amazon.com/autoscaling/application/APIReference/API_RegisterScalableTarget.html>.
pub const SCALABLE_DIMENSION: &str = "sagemaker:variant:DesiredInstanceCount";

/// Application Auto Scaling's service namespace of SageMaker (same reference).
pub const SERVICE_NAMESPACE: &str = "sagemaker";

/// The name of the one production variant the renderer writes.
pub const VARIANT: &str = "AllTraffic";
