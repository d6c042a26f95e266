//! CloudWatch monitoring of an EKS deployment (`render --monitoring cloudwatch|both`): a
//! CloudFormation template of `AWS::CloudWatch::Alarm`s (`cloudwatch-alarms.yaml`) with the
//! thresholds of the Prometheus rules ([`rules`](super::rules)), and the facts the KEDA
//! `aws-cloudwatch` variant of the ScaledObject ([`keda::scaled_object_cloudwatch`]) reads.
//!
//! GPU metrics come from Container Insights with enhanced observability (the Amazon
//! CloudWatch Observability EKS add-on, which runs dcgm-exporter for NVIDIA GPUs): namespace
//! `ContainerInsights`, per pod `pod_gpu_utilization`, `pod_gpu_memory_utilization` (both
//! percent), `pod_gpu_temperature` (°C), `pod_gpu_power_draw` (W), with the dimension set
//! `ClusterName, Namespace, PodName` among others (AWS, "Amazon EKS and Kubernetes Container
//! Insights with enhanced observability metrics", docs.aws.amazon.com/AmazonCloudWatch/latest/
//! monitoring/Container-Insights-metrics-enhanced-EKS.html, checked 2026-12-07; the dimension
//! sets are those of aws/amazon-cloudwatch-agent
//! `translator/translate/otel/exporter/awsemf/kubernetes.go` at c95b4fcd). `PodName` is the
//! pod's workload name without the ReplicaSet and pod suffixes (`FullPodName` has those), so
//! one alarm covers every replica. Each GPU of a pod is one data point per minute under that
//! dimension set, so `Maximum` is the worst GPU and `Average` the mean.
//!
//! Engine metrics (queue, KV cache) are not in Container Insights: the CloudWatch agent must
//! scrape the engine's Prometheus endpoint (Container Insights Prometheus metrics) and publish
//! them to `ContainerInsights/Prometheus` with the dimensions [`ENGINE_DIMENSIONS`]; the
//! rendered README shows the agent's `metric_declaration`.
//!
//! [`keda::scaled_object_cloudwatch`]: super::keda::scaled_object_cloudwatch

use super::input::RenderInput;
use super::rules::{
    framebuffer_threshold, num, queue_threshold, KV_CACHE_ALERT, POWER_FRACTION, WASTE_UTIL_PCT,
};
use super::sagemaker::cfn::{reference, Alarm, Dimension, Empty, Resource};
use super::yaml::{emit, to_yaml};
use serde::Serialize;
use std::fmt::Write as _;
use yaml_rust2::yaml::Hash;
use yaml_rust2::Yaml;

/// Where alerts and autoscaling read their metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Monitoring {
    /// Prometheus rules, PodMonitor, KEDA on Prometheus (dcgm-exporter for the GPUs).
    #[default]
    Prometheus,
    /// CloudWatch alarms over Container Insights, KEDA on CloudWatch; no Prometheus object.
    Cloudwatch,
    /// Both alarm sets; KEDA reads Prometheus.
    Both,
}

impl Monitoring {
    /// Renders the Prometheus objects.
    pub fn prometheus(self) -> bool {
        self != Monitoring::Cloudwatch
    }

    /// Renders the CloudWatch alarms.
    pub fn cloudwatch(self) -> bool {
        self != Monitoring::Prometheus
    }
}

/// The template's file name.
pub const TEMPLATE: &str = "cloudwatch-alarms.yaml";

/// Namespace of the Container Insights GPU metrics.
pub const GPU_NAMESPACE: &str = "ContainerInsights";

/// Namespace the CloudWatch agent publishes scraped Prometheus metrics to.
pub const ENGINE_NAMESPACE: &str = "ContainerInsights/Prometheus";

/// Dimensions of the engine metrics: the cluster (added by the agent), the pod's namespace
/// and the engine's `model_name` label.
pub const ENGINE_DIMENSIONS: [&str; 3] = ["ClusterName", "Namespace", "model_name"];

/// Period of the alarms, seconds (Container Insights publishes once a minute).
pub const PERIOD_S: u32 = 60;

/// Logical id of the SNS topic the alarms notify.
pub const ALARM_TOPIC: &str = "AlarmTopic";

/// The GPU dimensions of this deployment's pods.
pub fn gpu_dimensions(input: &RenderInput) -> Vec<Dimension> {
    vec![
        Dimension {
            name: "ClusterName",
            value: input.cluster.clone(),
        },
        Dimension {
            name: "Namespace",
            value: input.namespace.clone(),
        },
        Dimension {
            name: "PodName",
            value: input.name.clone(),
        },
    ]
}

/// The values of [`ENGINE_DIMENSIONS`] for this deployment.
pub fn engine_dimension_values(input: &RenderInput) -> [String; 3] {
    [
        input.cluster.clone(),
        input.namespace.clone(),
        input.served_model_name.clone(),
    ]
}

fn engine_dimensions(input: &RenderInput) -> Vec<Dimension> {
    ENGINE_DIMENSIONS
        .iter()
        .zip(engine_dimension_values(input))
        .map(|(name, value)| Dimension { name, value })
        .collect()
}

/// One alarm over `minutes` one-minute periods, all of which must breach.
#[allow(clippy::too_many_arguments)]
fn alarm(
    description: String,
    namespace: &'static str,
    metric: &'static str,
    dimensions: Vec<Dimension>,
    statistic: &'static str,
    period: u32,
    periods: u32,
    threshold: f64,
    comparison: &'static str,
) -> Alarm {
    Alarm {
        alarm_description: description,
        namespace,
        metric_name: metric,
        dimensions,
        statistic: Some(statistic),
        extended_statistic: None,
        period,
        evaluation_periods: periods,
        datapoints_to_alarm: periods,
        threshold,
        comparison_operator: comparison,
        treat_missing_data: "notBreaching",
        alarm_actions: vec![reference(ALARM_TOPIC)],
    }
}

/// The alarms, by logical id, each named after the Prometheus alert it mirrors.
pub fn alarms(input: &RenderInput) -> Vec<(&'static str, Alarm)> {
    let g = || gpu_dimensions(input);
    let e = || engine_dimensions(input);
    let sv = input.server();
    let mut v = vec![
        (
            "InferenceQueueBacklogAlarm",
            alarm(
                format!(
                    "Mean {} per engine above {} for 5 minutes (Prometheus alert \
                     InferenceQueueBacklog): the autoscaler is at its maximum or new replicas \
                     are still cold-starting.",
                    sv.waiting,
                    queue_threshold(input)
                ),
                ENGINE_NAMESPACE,
                sv.waiting,
                e(),
                "Average",
                PERIOD_S,
                5,
                f64::from(queue_threshold(input)),
                "GreaterThanThreshold",
            ),
        ),
        (
            "GpuTemperatureHighAlarm",
            alarm(
                format!(
                    "A GPU of the pods above {} C for 5 minutes, close to the {} slowdown \
                     temperature (Prometheus alert GpuTemperatureHigh).",
                    num(input.gpu_temp_alert_c),
                    input.gpu
                ),
                GPU_NAMESPACE,
                "pod_gpu_temperature",
                g(),
                "Maximum",
                PERIOD_S,
                5,
                input.gpu_temp_alert_c,
                "GreaterThanThreshold",
            ),
        ),
        (
            "GpuFramebufferNearlyFullAlarm",
            alarm(
                format!(
                    "GPU memory of a pod above {} % for 10 minutes: the engine reserves {} % \
                     at start, so more is memory it did not plan for (Prometheus alert \
                     GpuFramebufferNearlyFull).",
                    num(framebuffer_threshold(input) * 100.0),
                    num(input.gpu_memory_utilization * 100.0)
                ),
                GPU_NAMESPACE,
                "pod_gpu_memory_utilization",
                g(),
                "Maximum",
                PERIOD_S,
                10,
                framebuffer_threshold(input) * 100.0,
                "GreaterThanThreshold",
            ),
        ),
    ];
    if let Some(kv) = sv.kv_usage {
        v.insert(
            1,
            (
                "InferenceKvCacheNearlyFullAlarm",
                alarm(
                    format!(
                        "{} above {} for 10 minutes on some engine (Prometheus alert \
                     InferenceKvCacheNearlyFull): the engine is about to preempt requests.",
                        kv,
                        num(KV_CACHE_ALERT)
                    ),
                    ENGINE_NAMESPACE,
                    kv,
                    e(),
                    "Maximum",
                    PERIOD_S,
                    10,
                    KV_CACHE_ALERT,
                    "GreaterThanThreshold",
                ),
            ),
        );
    }
    if let Some(tdp) = input.gpu_tdp_w {
        v.push((
            "GpuPowerNearTdpAlarm",
            alarm(
                format!(
                    "A GPU of the pods draws above {} W ({} % of the {} {} W TDP) for 15 \
                     minutes: it is at its power limit (Prometheus alert GpuPowerNearTdp).",
                    num(POWER_FRACTION * tdp),
                    num(POWER_FRACTION * 100.0),
                    input.gpu,
                    num(tdp)
                ),
                GPU_NAMESPACE,
                "pod_gpu_power_draw",
                g(),
                "Maximum",
                PERIOD_S,
                15,
                POWER_FRACTION * tdp,
                "GreaterThanThreshold",
            ),
        ));
    }
    v.push((
        "GpuUnderutilizedAlarm",
        alarm(
            format!(
                "Mean GPU utilisation of the pods below {} % in every hour of a day: the \
                 deployment is over-provisioned (threshold of the Prometheus alert \
                 GpuUnderutilizedAtPeak, which looks at the peak hours only; a CloudWatch alarm \
                 cannot select hours); lower the replicas (inferplan rightsize).",
                num(WASTE_UTIL_PCT)
            ),
            GPU_NAMESPACE,
            "pod_gpu_utilization",
            g(),
            "Average",
            3600,
            24,
            WASTE_UTIL_PCT,
            "LessThanThreshold",
        ),
    ));
    // Container Insights' GPU metrics come from NVIDIA GPUs: a Neuron deployment keeps the
    // engine's alarms only.
    if input.neuron.is_some() {
        v.retain(|(id, _)| id.starts_with("Inference"));
    }
    v
}

/// The CloudFormation template of the alarms, YAML.
pub fn template(input: &RenderInput) -> String {
    let key = |s: &str| Yaml::String(s.to_owned());
    let mut root = Hash::new();
    root.insert(key("AWSTemplateFormatVersion"), key("2010-09-09"));
    root.insert(
        key("Description"),
        key(&format!(
            "{}: CloudWatch alarms of {} on EKS cluster {} (inferplan render --monitoring, \
             candidate {})",
            input.workload, input.name, input.cluster, input.candidate
        )),
    );
    let mut res = Hash::new();
    res.insert(key(ALARM_TOPIC), resource("AWS::SNS::Topic", &Empty {}));
    for (id, a) in alarms(input) {
        res.insert(key(id), resource("AWS::CloudWatch::Alarm", &a));
    }
    root.insert(key("Resources"), Yaml::Hash(res));
    let mut outputs = Hash::new();
    let mut out = Hash::new();
    out.insert(key("Description"), key("SNS topic the alarms notify"));
    out.insert(key("Value"), to_yaml(&reference(ALARM_TOPIC)));
    outputs.insert(key("AlarmTopicArn"), Yaml::Hash(out));
    root.insert(key("Outputs"), Yaml::Hash(outputs));
    // YAML readers resolve a plain 2010-09-09 to a date; CloudFormation wants the string.
    emit(&Yaml::Hash(root)).replacen(
        "AWSTemplateFormatVersion: 2010-09-09",
        "AWSTemplateFormatVersion: \"2010-09-09\"",
        1,
    )
}

fn resource<P: Serialize>(kind: &'static str, properties: &P) -> Yaml {
    to_yaml(&Resource {
        kind,
        depends_on: Vec::new(),
        properties,
    })
}

/// The README section: what the alarms and the KEDA variant need.
pub fn readme_section(input: &RenderInput) -> String {
    let sv = input.server();
    let mut s = String::new();
    let _ = writeln!(s, "## CloudWatch\n");
    let _ = writeln!(
        s,
        "`{TEMPLATE}` is a CloudFormation stack of CloudWatch alarms with the thresholds of the \
         Prometheus rules, notifying the SNS topic `{ALARM_TOPIC}` (subscribe to it):\n"
    );
    for (id, a) in alarms(input) {
        let _ = writeln!(
            s,
            "- `{id}`: `{}` `{}` {} {} over {} × {} s.",
            a.namespace,
            a.metric_name,
            if a.comparison_operator == "LessThanThreshold" {
                "below"
            } else {
                "above"
            },
            num(a.threshold),
            a.evaluation_periods,
            a.period
        );
    }
    let _ = writeln!(
        s,
        "\nNo SLO burn-rate alarms: they need the engine's latency histograms as bucket \
         counters, which the CloudWatch agent does not publish; keep Prometheus \
         (`--monitoring both`) for them. No ECC, XID or clock-throttle alarms either: Container \
         Insights does not publish those dcgm-exporter fields.\n"
    );
    let _ = writeln!(
        s,
        "Needs: the Amazon CloudWatch Observability EKS add-on (Container Insights with \
         enhanced observability, which collects the NVIDIA GPU metrics of `{GPU_NAMESPACE}`) \
         on cluster `{}`, and its CloudWatch agent scraping the engine's \
         `:{}{}` (Container Insights Prometheus metrics) once a minute, with the pod's \
         namespace relabelled to `Namespace` (as the agent's sample scrape jobs do), publishing \
         `{}`, `{}` and `{}` to `{ENGINE_NAMESPACE}` with this metric declaration:\n",
        input.cluster,
        sv.port,
        sv.metrics_path,
        sv.waiting,
        sv.running,
        sv.kv_usage
            .unwrap_or("(none: the engine exports no KV-cache gauge)")
    );
    let _ = writeln!(s, "```yaml");
    let _ = writeln!(s, "metric_declaration:");
    let _ = writeln!(
        s,
        "  - source_labels: [Namespace]\n    label_matcher: \"^{}$\"\n    dimensions: [[{}]]\n    metric_selectors:",
        input.namespace,
        ENGINE_DIMENSIONS.join(", ")
    );
    for m in [Some(sv.waiting), Some(sv.running), sv.kv_usage]
        .into_iter()
        .flatten()
    {
        let _ = writeln!(s, "      - \"^{}$\"", m);
    }
    let _ = writeln!(s, "```\n");
    s
}
