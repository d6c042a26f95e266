//! Autoscalers: HorizontalPodAutoscalers and KEDA ScaledObjects, with what they scale on.

use super::object::Object;
use super::pod::GPU_RESOURCES;
use super::workload::replica_count;
use crate::yaml::Node;

/// What an autoscaler scales on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    /// CPU utilisation.
    Cpu,
    /// Memory utilisation.
    Memory,
    /// GPU utilisation (DCGM `GPU_UTIL`, `GPUUtilization`, duty cycle).
    GpuUtilization,
    /// A schedule (KEDA's `cron` trigger): replicas by the clock, not by any load.
    Schedule,
    /// Anything else (queue depth, requests waiting, KV-cache usage, ...).
    Other,
}

/// One metric or trigger of an autoscaler.
#[derive(Debug, Clone, PartialEq)]
pub struct Metric {
    /// What it is, for messages (`cpu utilization 70 %`, `prometheus: DCGM_FI_DEV_GPU_UTIL`).
    pub description: String,
    /// Its kind.
    pub signal: Signal,
    /// 1-based line.
    pub line: usize,
}

/// A HorizontalPodAutoscaler or a KEDA ScaledObject.
#[derive(Debug, Clone)]
pub struct Autoscaler<'a> {
    /// The object.
    pub object: Object<'a>,
    /// `scaleTargetRef.kind` (Deployment when unset).
    pub target_kind: String,
    /// `scaleTargetRef.name`.
    pub target_name: String,
    /// Fewest replicas.
    pub min_replicas: Option<i64>,
    /// Most replicas.
    pub max_replicas: Option<i64>,
    /// What it scales on.
    pub metrics: Vec<Metric>,
}

/// An autoscaler's replica bound: `default` when the field is absent or null, `None` when it
/// is written but not a count Kubernetes accepts.
fn replica_field(spec: &Node, key: &str, default: Option<i64>) -> Option<i64> {
    match spec.get(key).filter(|n| !n.is_null()) {
        None => default,
        Some(n) => replica_count(n),
    }
}

pub(super) fn hpa(object: Object<'_>) -> Autoscaler<'_> {
    let spec = object.node.at("spec");
    let target = spec.at("scaleTargetRef");
    let mut metrics = Vec::new();
    if let Some(e) = spec.entry("targetCPUUtilizationPercentage") {
        metrics.push(Metric {
            description: format!(
                "targetCPUUtilizationPercentage {}",
                e.value.text().unwrap_or_default()
            ),
            signal: Signal::Cpu,
            line: e.line,
        });
    }
    for m in spec.at("metrics").items() {
        let ty = m.get("type").and_then(Node::text).unwrap_or_default();
        match ty.as_str() {
            "Resource" | "ContainerResource" => {
                let r = m
                    .get("resource")
                    .or_else(|| m.get("containerResource"))
                    .unwrap_or(m);
                let name = r.get("name").and_then(Node::text).unwrap_or_default();
                let signal = match name.as_str() {
                    "cpu" => Signal::Cpu,
                    "memory" => Signal::Memory,
                    n if GPU_RESOURCES.contains(&n) => Signal::GpuUtilization,
                    _ => Signal::Other,
                };
                let target = r
                    .path(&["target", "averageUtilization"])
                    .or_else(|| r.get("targetAverageUtilization"))
                    .and_then(Node::text)
                    .map(|t| format!(" {t} %"))
                    .unwrap_or_default();
                metrics.push(Metric {
                    description: format!("{name} utilization{target}"),
                    signal,
                    line: m.line,
                });
            }
            _ => {
                let name = ["pods", "object", "external"]
                    .iter()
                    .find_map(|k| {
                        let s = m.get(k)?;
                        s.path(&["metric", "name"])
                            .or_else(|| s.get("metricName"))
                            .and_then(Node::text)
                    })
                    .unwrap_or_default();
                metrics.push(Metric {
                    description: format!("{} metric `{name}`", ty.to_ascii_lowercase()),
                    signal: signal_of_text(&name),
                    line: m.line,
                });
            }
        }
    }
    if metrics.is_empty() && object.api_version != "autoscaling/v1" {
        // autoscaling/v2 without metrics defaults to 80 % CPU.
        metrics.push(Metric {
            description: "CPU utilization 80 % (the default when no metrics are given)".to_owned(),
            signal: Signal::Cpu,
            line: spec.line.max(object.line),
        });
    } else if metrics.is_empty() {
        metrics.push(Metric {
            description: "CPU utilization 80 % (the default)".to_owned(),
            signal: Signal::Cpu,
            line: spec.line.max(object.line),
        });
    }
    Autoscaler {
        target_kind: target
            .get("kind")
            .and_then(Node::text)
            .unwrap_or_else(|| "Deployment".to_owned()),
        target_name: target.get("name").and_then(Node::text).unwrap_or_default(),
        min_replicas: replica_field(spec, "minReplicas", Some(1)),
        max_replicas: replica_field(spec, "maxReplicas", None),
        metrics,
        object,
    }
}

pub(super) fn keda(object: Object<'_>) -> Autoscaler<'_> {
    let spec = object.node.at("spec");
    let target = spec.at("scaleTargetRef");
    let mut metrics = Vec::new();
    for t in spec.at("triggers").items() {
        let ty = t.get("type").and_then(Node::text).unwrap_or_default();
        let meta = t.at("metadata");
        let signal = match ty.as_str() {
            "cpu" => Signal::Cpu,
            "memory" => Signal::Memory,
            "cron" => Signal::Schedule,
            _ => {
                let all: Vec<String> = meta
                    .entries()
                    .iter()
                    .filter_map(|e| e.value.text())
                    .collect();
                signal_of_text(&all.join(" "))
            }
        };
        let what = match signal {
            Signal::Cpu | Signal::Memory => format!(
                "{ty} trigger{}",
                meta.get("value")
                    .and_then(Node::text)
                    .map(|v| format!(" at {v} %"))
                    .unwrap_or_default()
            ),
            Signal::Schedule => {
                let field = |k: &str| meta.get(k).and_then(Node::text).unwrap_or_default();
                format!(
                    "cron trigger `{}` to `{}`, {} replicas",
                    field("start"),
                    field("end"),
                    field("desiredReplicas")
                )
            }
            // KEDA's SQS scaler counts the messages being worked on too unless
            // `scaleOnInFlight` is false (kedacore/keda `aws_sqs_queue_scaler.go`): running
            // plus waiting, not the queue alone.
            _ if ty == "aws-sqs-queue" => {
                let in_flight = meta
                    .get("scaleOnInFlight")
                    .and_then(Node::text)
                    .is_none_or(|v| !v.trim().eq_ignore_ascii_case("false"));
                if in_flight {
                    "aws-sqs-queue trigger: messages waiting and running (in flight, \
                     `scaleOnInFlight`)"
                        .to_owned()
                } else {
                    "aws-sqs-queue trigger: messages waiting only (`scaleOnInFlight: false`)"
                        .to_owned()
                }
            }
            _ => {
                let detail = ["query", "metricName", "metricSelector"]
                    .iter()
                    .find_map(|k| meta.get(k).and_then(Node::text))
                    .map(|q| format!(" `{}`", q.split_whitespace().collect::<Vec<_>>().join(" ")))
                    .unwrap_or_default();
                format!("{ty} trigger{detail}")
            }
        };
        metrics.push(Metric {
            description: what,
            signal,
            line: t.line,
        });
    }
    Autoscaler {
        target_kind: target
            .get("kind")
            .and_then(Node::text)
            .unwrap_or_else(|| "Deployment".to_owned()),
        target_name: target.get("name").and_then(Node::text).unwrap_or_default(),
        min_replicas: replica_field(spec, "minReplicaCount", Some(0)),
        max_replicas: replica_field(spec, "maxReplicaCount", Some(100)),
        metrics,
        object,
    }
}

/// GPU-utilisation metric names (lower case).
const GPU_UTIL_PATTERNS: [&str; 8] = [
    "dcgm_fi_dev_gpu_util",
    "gpu_util",
    "gpuutilization",
    "gpu_utilization",
    "gpu-utilization",
    "duty_cycle",
    "dcgm_fi_prof_gr_engine_active",
    "utilization.gpu",
];

fn signal_of_text(s: &str) -> Signal {
    let l = s.to_ascii_lowercase();
    if GPU_UTIL_PATTERNS.iter().any(|p| l.contains(p)) {
        Signal::GpuUtilization
    } else if l.contains("cpu_usage") || l.contains("cpuutilization") {
        Signal::Cpu
    } else {
        Signal::Other
    }
}
