//! `monitoring.coreos.com/v1` PodMonitor: tells a Prometheus Operator to scrape the engine
//! pods' `/metrics`, with the `namespace` and `pod` labels the rules select on.

use super::input::RenderInput;
use super::k8s::{LabelSelector, ObjectMeta};
use super::pod;
use serde::Serialize;

/// A PodMonitor.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PodMonitor {
    /// `monitoring.coreos.com/v1`.
    pub api_version: String,
    /// `PodMonitor`.
    pub kind: String,
    /// Name, namespace, labels.
    pub metadata: ObjectMeta,
    /// The spec.
    pub spec: PodMonitorSpec,
}

/// Spec of a PodMonitor.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PodMonitorSpec {
    /// Pods scraped.
    pub selector: LabelSelector,
    /// Endpoints scraped.
    pub pod_metrics_endpoints: Vec<PodMetricsEndpoint>,
}

/// One scraped endpoint.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PodMetricsEndpoint {
    /// Container port name.
    pub port: String,
    /// Path.
    pub path: String,
    /// Scrape interval.
    pub interval: String,
    /// Rewrites of the scraped series' labels.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub metric_relabelings: Vec<Relabeling>,
}

/// A `RelabelConfig` of the Prometheus Operator.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Relabeling {
    /// `replace`.
    pub action: String,
    /// Label written.
    pub target_label: String,
    /// Value written.
    pub replacement: String,
}

/// TensorRT-LLM labels every series `model_name="undefined"` (`openai_server.py`, see
/// [`super::trtllm`]) and TGI labels none with the model ([`super::tgi`]): the PodMonitor
/// writes the served name there, so that the rules and the autoscaler select the engine's
/// series as they do vLLM's and SGLang's.
fn relabelings(input: &RenderInput) -> Vec<Relabeling> {
    use inferplan_perf::Engine;
    if !matches!(input.engine, Engine::Trtllm | Engine::Tgi) {
        return Vec::new();
    }
    vec![Relabeling {
        action: "replace".to_owned(),
        target_label: "model_name".to_owned(),
        replacement: input.served_model_name.clone(),
    }]
}

/// The PodMonitor of the engine pods (leaders only for a LeaderWorkerSet: workers serve no
/// metrics).
pub fn pod_monitor(input: &RenderInput) -> PodMonitor {
    let mut match_labels = pod::selector_labels(input);
    if input.nodes_per_replica > 1 {
        match_labels.insert("role".to_owned(), "leader".to_owned());
    }
    PodMonitor {
        api_version: "monitoring.coreos.com/v1".to_owned(),
        kind: "PodMonitor".to_owned(),
        metadata: ObjectMeta {
            name: Some(input.name.clone()),
            namespace: Some(input.namespace.clone()),
            labels: pod::common_labels(input),
            annotations: Default::default(),
        },
        spec: PodMonitorSpec {
            selector: LabelSelector { match_labels },
            pod_metrics_endpoints: vec![PodMetricsEndpoint {
                port: "http".to_owned(),
                path: input.server().metrics_path.to_owned(),
                interval: format!("{}s", inferplan_plan::autoscaling::SCRAPE_INTERVAL_S),
                metric_relabelings: relabelings(input),
            }],
        },
    }
}
