//! `keda.sh/v1alpha1` ScaledObject: the autoscaler on the engine's queue.
//!
//! KEDA's Prometheus scaler (keda.sh docs, "Scalers: Prometheus") reads `serverAddress`,
//! `query` and `threshold` (strings) from a trigger's `metadata`; the HPA it drives divides
//! the query's value by the threshold (`AverageValue`), so desired replicas =
//! ⌈value / threshold⌉. `advanced.horizontalPodAutoscalerConfig.behavior` is passed to the
//! HPA as is.

use super::input::RenderInput;
use super::k8s::{Labels, ObjectMeta};
use super::pod;
use inferplan_plan::autoscaling;
use serde::Serialize;

/// A ScaledObject.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ScaledObject {
    /// `keda.sh/v1alpha1`.
    pub api_version: String,
    /// `ScaledObject`.
    pub kind: String,
    /// Name, namespace, labels.
    pub metadata: ObjectMeta,
    /// The spec.
    pub spec: ScaledObjectSpec,
}

/// Spec of a ScaledObject.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ScaledObjectSpec {
    /// What is scaled.
    pub scale_target_ref: ScaleTargetRef,
    /// Seconds between queries.
    pub polling_interval: u32,
    /// Fewest replicas.
    pub min_replica_count: u32,
    /// Most replicas.
    pub max_replica_count: u32,
    /// HPA behaviour.
    pub advanced: Advanced,
    /// What is measured.
    pub triggers: Vec<Trigger>,
}

/// The scaled workload.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ScaleTargetRef {
    /// Its API version.
    pub api_version: String,
    /// Its kind.
    pub kind: String,
    /// Its name.
    pub name: String,
}

/// Advanced settings.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Advanced {
    /// The HPA's settings.
    pub horizontal_pod_autoscaler_config: HpaConfig,
}

/// The HPA's settings.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HpaConfig {
    /// Scale-up and scale-down rates.
    pub behavior: Behavior,
}

/// Scale-up and scale-down rates (`autoscaling/v2` HorizontalPodAutoscalerBehavior).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Behavior {
    /// How fast to add replicas.
    pub scale_up: ScalingRules,
    /// How fast to remove replicas.
    pub scale_down: ScalingRules,
}

/// One direction's rules.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ScalingRules {
    /// Seconds of recommendations considered (the highest wins when scaling down).
    pub stabilization_window_seconds: u32,
    /// Most change per period.
    pub policies: Vec<ScalingPolicy>,
}

/// A change limit.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ScalingPolicy {
    /// `Pods`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Pods per period.
    pub value: u32,
    /// The period, seconds.
    pub period_seconds: u32,
}

/// A trigger.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Trigger {
    /// `prometheus`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Trigger name (shown in the HPA's metrics).
    pub name: String,
    /// Scaler settings, all strings.
    pub metadata: Labels,
}

/// The PromQL selector of this deployment's engine series (vLLM and SGLang both label them
/// `model_name`).
pub fn engine_selector(input: &RenderInput) -> String {
    format!(
        "namespace=\"{}\",model_name=\"{}\"",
        input.namespace, input.served_model_name
    )
}

/// Waiting requests per replica above which the queue trigger adds replicas: a quarter of
/// the in-flight target, at least 1.
pub fn waiting_threshold(input: &RenderInput) -> u32 {
    autoscaling::queue_target(input.target_in_flight)
}

/// The ScaledObject of the engine.
///
/// The triggers, the highest wins: a batch job's run (`cron`, [`run_trigger`]), the plan's
/// hourly floor (`cron`, one per block of hours billed above the minimum, [`floor_trigger`]),
/// and two on the load:
/// - `in-flight`: running + waiting requests over the target in flight per replica (80 % of
///   what a replica holds at its SLO capacity by Little's law: `max_rps_per_replica ×
///   e2e_p99`), the signal finding IP108 recommends;
/// - `queue`: waiting requests (`vllm:num_requests_waiting`, `sglang:num_queue_reqs`) over a
///   quarter of that target,
///   which reacts when requests queue because the batch or the KV cache is full.
///
/// Scale-up follows a minute of load (one node's worth of replicas per minute); scale-down
/// waits ten minutes, or a replica's start when longer, and removes one replica per five,
/// since a replica removed too early costs a cold start to bring back
/// ([`autoscaling::Targets::behavior`]).
pub fn scaled_object(input: &RenderInput) -> ScaledObject {
    let (api_version, kind) = if input.nodes_per_replica > 1 {
        ("leaderworkerset.x-k8s.io/v1", "LeaderWorkerSet")
    } else {
        ("apps/v1", "Deployment")
    };
    let sel = engine_selector(input);
    let trigger = |name: &str, query: String, threshold: u32| Trigger {
        kind: "prometheus".to_owned(),
        name: name.to_owned(),
        metadata: [
            ("serverAddress", input.prometheus_url.clone()),
            ("query", query),
            ("threshold", threshold.to_string()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect(),
    };
    ScaledObject {
        api_version: "keda.sh/v1alpha1".to_owned(),
        kind: "ScaledObject".to_owned(),
        metadata: ObjectMeta {
            name: Some(input.name.clone()),
            namespace: Some(input.namespace.clone()),
            labels: pod::common_labels(input),
            annotations: Default::default(),
        },
        spec: ScaledObjectSpec {
            scale_target_ref: ScaleTargetRef {
                api_version: api_version.to_owned(),
                kind: kind.to_owned(),
                name: input.name.clone(),
            },
            polling_interval: autoscaling::POLLING_INTERVAL_S,
            min_replica_count: input.min_replicas,
            max_replica_count: input.max_replicas,
            advanced: Advanced {
                horizontal_pod_autoscaler_config: HpaConfig {
                    behavior: behavior(&rendered_behavior(input)),
                },
            },
            triggers: input
                .run
                .iter()
                .map(run_trigger)
                .chain(input.floors.iter().map(floor_trigger))
                .chain([
                    trigger(
                        "in-flight",
                        input.server().in_flight_sum(&sel),
                        input.target_in_flight,
                    ),
                    trigger(
                        "queue",
                        input.server().waiting_sum("", &sel),
                        waiting_threshold(input),
                    ),
                ])
                .collect(),
        },
    }
}

/// The ScaledObject of the engine on CloudWatch metrics (`render --monitoring cloudwatch`),
/// for clusters without Prometheus.
///
/// KEDA's `aws-cloudwatch` scaler (keda.sh docs, "Scalers: AWS CloudWatch", checked
/// 2026-12-07) reads `namespace`, `metricName`, `dimensionName` and `dimensionValue` (`;`
/// separated lists), `targetMetricValue`, `minMetricValue`, `metricStat`,
/// `metricStatPeriod`, `awsRegion` and `identityOwner` from the trigger's metadata; like the
/// Prometheus scaler it drives an `AverageValue` HPA metric, so desired replicas =
/// ⌈value / target⌉. The metrics are the engine's, published by the CloudWatch agent to
/// [`ENGINE_NAMESPACE`](super::cloudwatch::ENGINE_NAMESPACE) (see
/// [`cloudwatch`](super::cloudwatch)), summed over a minute (one scrape per pod):
/// - `queue`: waiting requests over [`waiting_threshold`], as in [`scaled_object`];
/// - `running`: running requests over the target in flight. CloudWatch cannot add two
///   metrics in one trigger, so this reads running requests alone where the Prometheus
///   trigger reads running + waiting; the queue trigger covers the waiting ones.
///
/// `identityOwner: operator`: the KEDA operator's own role (EKS Pod Identity) needs
/// `cloudwatch:GetMetricData`.
pub fn scaled_object_cloudwatch(input: &RenderInput) -> ScaledObject {
    use super::cloudwatch::{
        engine_dimension_values, ENGINE_DIMENSIONS, ENGINE_NAMESPACE, PERIOD_S,
    };
    let mut so = scaled_object(input);
    let values = engine_dimension_values(input).join(";");
    let schedule: Vec<Trigger> = input
        .run
        .iter()
        .map(run_trigger)
        .chain(input.floors.iter().map(floor_trigger))
        .collect();
    let trigger = |name: &str, metric: &str, target: u32| Trigger {
        kind: "aws-cloudwatch".to_owned(),
        name: name.to_owned(),
        metadata: [
            ("namespace", ENGINE_NAMESPACE.to_owned()),
            ("metricName", metric.to_owned()),
            ("dimensionName", ENGINE_DIMENSIONS.join(";")),
            ("dimensionValue", values.clone()),
            ("metricStat", "Sum".to_owned()),
            ("metricStatPeriod", PERIOD_S.to_string()),
            ("targetMetricValue", target.to_string()),
            ("minMetricValue", "0".to_owned()),
            ("awsRegion", input.region.clone()),
            ("identityOwner", "operator".to_owned()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect(),
    };
    so.spec.triggers = schedule
        .into_iter()
        .chain([
            trigger("running", input.server().running, input.target_in_flight),
            trigger("queue", input.server().waiting, waiting_threshold(input)),
        ])
        .collect();
    so
}

/// The behavior of the engine's ScaledObject: [`autoscaling::Behavior::rendered`] with the
/// plan's scale-up window ([`autoscaling::Targets::behavior`], which `plan --verify`'s day
/// simulates).
pub fn rendered_behavior(input: &RenderInput) -> autoscaling::Behavior {
    autoscaling::Behavior::rendered_for(
        input.replicas_per_instance,
        input.scale_up_window_s,
        input.scale_down_window_s,
        input.run,
    )
}

/// The `cron` trigger of a batch job's run (KEDA's cron scaler, keda.sh docs "Scalers: Cron",
/// `pkg/scalers/cron_scaler.go`: `timezone`, `start` and `end` five-field cron expressions,
/// `desiredReplicas` asked for from start to end, the trigger active only then): the run's
/// replicas from the window's opening for the hours the plan bills (`end` is the minute the
/// run ends, wrapping over midnight).
pub fn run_trigger(run: &autoscaling::Run) -> Trigger {
    cron_trigger(
        "batch-run".to_owned(),
        run.start_minute,
        run.end_minute(),
        run.replicas,
    )
}

/// The `cron` trigger of a block of the plan's hourly floor ([`autoscaling::Floor`], the
/// same scaler as [`run_trigger`]): the block's billed replicas from its first hour to its
/// end, UTC, named `floor-08h-18h`. The HPA takes the highest trigger, so the load triggers
/// still scale above it.
pub fn floor_trigger(floor: &autoscaling::Floor) -> Trigger {
    cron_trigger(
        floor.name(),
        floor.start_minute(),
        floor.end_minute(),
        floor.replicas,
    )
}

/// A daily KEDA `cron` trigger in UTC asking for `replicas` from minute `start` of the day
/// to minute `end`.
fn cron_trigger(name: String, start: u32, end: u32, replicas: u32) -> Trigger {
    Trigger {
        kind: "cron".to_owned(),
        name,
        metadata: [
            ("timezone", "Etc/UTC".to_owned()),
            ("start", autoscaling::Run::cron_at(start)),
            ("end", autoscaling::Run::cron_at(end)),
            ("desiredReplicas", replicas.to_string()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect(),
    }
}

/// The serialized form of a [`autoscaling::Behavior`] (`selectPolicy` left to its default,
/// `Max`, which is what the rendered behavior uses).
pub fn behavior(b: &autoscaling::Behavior) -> Behavior {
    let rules = |r: &autoscaling::ScalingRules| ScalingRules {
        stabilization_window_seconds: r.stabilization_window_s,
        policies: r
            .policies
            .iter()
            .map(|p| ScalingPolicy {
                kind: p.kind.as_str().to_owned(),
                value: p.value,
                period_seconds: p.period_s,
            })
            .collect(),
    };
    Behavior {
        scale_up: rules(&b.scale_up),
        scale_down: rules(&b.scale_down),
    }
}
