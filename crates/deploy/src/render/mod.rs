//! `inferplan render`: the manifests, node pool and alert rules of a plan candidate.
//!
//! [`read_plan`] reads the JSON of `inferplan plan --format json` into its contract type
//! ([`PlanJson`](inferplan_plan::contract::PlanJson)), [`from_plan`] resolves one of its
//! candidates (or [`RenderInput::new`] takes a workload and a
//! [`CandidateJson`](inferplan_plan::contract::CandidateJson)); [`render`] turns it into
//! files:
//!
//! | file | object |
//! |---|---|
//! | `deployment.yaml` or `leaderworkerset.yaml` | the vLLM or SGLang replicas (a LeaderWorkerSet when a replica spans nodes) |
//! | `serviceaccount.yaml` | the identity that reads S3 (`s3`, `nvme` weights) |
//! | `weights-pvc.yaml` | the FSx for Lustre claim (`fsx` weights) |
//! | `weights-prepull-daemonset.yaml` | the pre-pull of the node cache (`nvme` weights) |
//! | `service.yaml` | ClusterIP Service of the API |
//! | `pdb.yaml` | PodDisruptionBudget |
//! | `keda-scaledobject.yaml` | KEDA ScaledObject on the engine's queue (Prometheus, or CloudWatch with `--monitoring cloudwatch`) |
//! | `podmonitor.yaml` | Prometheus Operator PodMonitor of the engine |
//! | `cloudwatch-alarms.yaml` | CloudFormation template of CloudWatch alarms (`--monitoring cloudwatch` or `both`) |
//! | `nodepool.yaml`, `ec2nodeclass.yaml` | Karpenter v1 NodePool and EC2NodeClass |
//! | `prometheus-rules.yaml` | recording and alerting rules (`promtool check rules`) |
//! | `dcgm-exporter-counters.csv` | the dcgm-exporter counters the GPU rules read |
//! | `README.md` | what was rendered and why |
//!
//! Every object is a typed struct serialized by [`yaml`] (no text templates), so the same
//! input gives the same bytes. `docs/render.md` explains every value.

pub mod cloudwatch;
pub mod dcgm;
pub mod diffusion;
pub mod engine;
pub mod error;
pub mod input;
pub mod k8s;
pub mod karpenter;
pub mod keda;
pub mod lmdeploy;
pub mod lws;
pub mod neuron;
pub mod pod;
pub mod pod_monitor;
pub mod readme;
pub mod rules;
pub mod sagemaker;
pub mod sglang;
pub mod tgi;
pub mod trtllm;
pub mod vllm;
pub mod weights;
pub mod workload;
pub mod yaml;

pub use error::RenderError;
pub use input::{
    candidate_of, from_plan, number_of, read_plan, renderable_candidates, RenderInput, SloTargets,
};

/// The rendered files, as (file name relative to the output directory, content), in a fixed
/// order with `README.md` last.
pub fn render(input: &RenderInput) -> Vec<(String, String)> {
    let mut files: Vec<(String, String, &str)> = Vec::new();
    if let Some(sa) = weights::service_account(input) {
        files.push((
            "serviceaccount.yaml".to_owned(),
            yaml::document(&sa),
            "ServiceAccount that reads the weights from S3 (give it a role through EKS Pod Identity)",
        ));
    }
    if let Some(pvc) = weights::claim(input) {
        files.push((
            "weights-pvc.yaml".to_owned(),
            yaml::document(&pvc),
            "PersistentVolumeClaim of the FSx for Lustre file system holding the weights",
        ));
    }
    if let Some(ds) = weights::prepull_daemon_set(input) {
        files.push((
            "weights-prepull-daemonset.yaml".to_owned(),
            yaml::document(&ds),
            "DaemonSet that pre-pulls the weights from S3 into each node's NVMe cache",
        ));
    }
    if input.nodes_per_replica > 1 {
        files.push((
            "leaderworkerset.yaml".to_owned(),
            yaml::document(&lws::leader_worker_set(input)),
            "LeaderWorkerSet: each replica is a leader pod (API server, Ray head) and its workers",
        ));
    } else {
        files.push((
            "deployment.yaml".to_owned(),
            yaml::document(&workload::deployment(input)),
            "Deployment of the engine replicas",
        ));
    }
    let service_what = format!(
        "ClusterIP Service of the OpenAI-compatible API (port {})",
        input.server().port
    );
    files.push((
        "service.yaml".to_owned(),
        yaml::document(&workload::service(input)),
        &service_what,
    ));
    files.push((
        "pdb.yaml".to_owned(),
        yaml::document(&workload::pdb(input)),
        "PodDisruptionBudget: one pod at a time",
    ));
    let prometheus = input.monitoring.prometheus();
    if prometheus {
        files.push((
            "keda-scaledobject.yaml".to_owned(),
            yaml::document(&keda::scaled_object(input)),
            "KEDA ScaledObject: replicas from requests in flight and waiting",
        ));
        files.push((
            "podmonitor.yaml".to_owned(),
            yaml::document(&pod_monitor::pod_monitor(input)),
            "PodMonitor: Prometheus scrapes the engine's /metrics",
        ));
    } else {
        files.push((
            "keda-scaledobject.yaml".to_owned(),
            yaml::document(&keda::scaled_object_cloudwatch(input)),
            "KEDA ScaledObject (aws-cloudwatch triggers): replicas from requests running and waiting",
        ));
    }
    files.push((
        "nodepool.yaml".to_owned(),
        yaml::document(&karpenter::node_pool(input)),
        "Karpenter NodePool: the plan's instance type and capacity types, GPU taint",
    ));
    files.push((
        "ec2nodeclass.yaml".to_owned(),
        yaml::document(&karpenter::ec2_node_class(input)),
        "Karpenter EC2NodeClass: AMI, subnets, NVMe instance store as ephemeral storage",
    ));
    if prometheus {
        files.push((
            "prometheus-rules.yaml".to_owned(),
            yaml::document(&rules::rule_file(input)),
            "Prometheus recording and alerting rules: SLO burn rates, engine, GPU health",
        ));
        if input.neuron.is_none() {
            files.push((
                "dcgm-exporter-counters.csv".to_owned(),
                dcgm::counters_csv(),
                "dcgm-exporter collectors the GPU rules need",
            ));
        }
    }
    if input.monitoring.cloudwatch() {
        files.push((
            cloudwatch::TEMPLATE.to_owned(),
            cloudwatch::template(input),
            "CloudFormation template: CloudWatch alarms on Container Insights GPU metrics and the engine's queue",
        ));
    }
    let listing: Vec<(String, &str)> = files
        .iter()
        .map(|(name, _, what)| (name.clone(), *what))
        .collect();
    let mut out: Vec<(String, String)> = files
        .into_iter()
        .map(|(name, text, _)| (name, text))
        .collect();
    out.push(("README.md".to_owned(), readme::readme(input, &listing)));
    out
}
