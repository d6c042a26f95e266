//! `deployed::read`: hand-written manifests (a Deployment, an HPA, a NodePool) read as the
//! simulator runs them.

use inferplan_catalog::Catalog;
use inferplan_deploy::deployed::{read, Signal};
use inferplan_perf::{Engine, MemoryParams};
use inferplan_plan::autoscaling::{PolicyKind, SelectPolicy};

const MANIFESTS: &str = r#"
apiVersion: apps/v1
kind: Deployment
metadata:
  name: llm
spec:
  replicas: 3
  template:
    spec:
      nodeSelector:
        node.kubernetes.io/instance-type: g6e.12xlarge
        karpenter.sh/nodepool: gpu
      containers:
        - name: server
          image: vllm/vllm-openai:v0.11.0
          args: ["--model", "meta-llama/Llama-3.1-8B-Instruct", "--tensor-parallel-size", "2",
                 "--max-num-seqs", "64", "--max-model-len", "16384"]
          resources:
            limits:
              nvidia.com/gpu: 2
---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: llm
spec:
  scaleTargetRef:
    apiVersion: apps/v1
    kind: Deployment
    name: llm
  minReplicas: 2
  maxReplicas: 8
  metrics:
    - type: Pods
      pods:
        metric:
          name: vllm:num_requests_waiting
        target:
          type: AverageValue
          averageValue: "4"
    - type: Resource
      resource:
        name: cpu
        target:
          type: Utilization
          averageUtilization: 70
  behavior:
    scaleDown:
      stabilizationWindowSeconds: 120
      selectPolicy: Min
      policies:
        - type: Percent
          value: 50
          periodSeconds: 60
---
apiVersion: karpenter.sh/v1
kind: NodePool
metadata:
  name: gpu
spec:
  template:
    spec:
      requirements: []
  disruption:
    consolidationPolicy: WhenEmptyOrUnderutilized
    consolidateAfter: 2m
"#;

fn manifests(text: &str) -> Vec<(String, String)> {
    vec![("llm.yaml".to_owned(), text.to_owned())]
}

#[test]
fn a_hand_written_deployment_hpa_and_node_pool_are_read_as_simulated() {
    let catalog = Catalog::embedded().unwrap();
    let params = MemoryParams::embedded().unwrap();
    let d = read(&manifests(MANIFESTS), &catalog, &params).unwrap();
    assert_eq!(d.served.model.name, "Llama 3.1 8B");
    assert_eq!(d.served.engine, Engine::Vllm);
    assert_eq!((d.served.tp, d.served.pp), (2, 1));
    assert_eq!(d.served.max_num_seqs, Some(64));
    assert_eq!(d.served.max_model_len, Some(16384));
    assert_eq!(d.served.instance.name, "g6e.12xlarge");
    // Four L40S per node, two per replica.
    assert_eq!((d.replicas_per_node, d.nodes_per_replica), (2, 1));
    assert_eq!(d.replicas, 3);
    assert_eq!(d.consolidate_after_s, Some(120.0));
    let a = d.autoscaler.as_ref().unwrap();
    assert_eq!((a.min, a.max), (2, 8));
    assert_eq!(a.triggers.len(), 1);
    assert_eq!(a.triggers[0].signal, Signal::Queue);
    assert_eq!(a.triggers[0].threshold, 4.0);
    let down = &a.behavior.scale_down;
    assert_eq!(down.stabilization_window_s, 120);
    assert_eq!(down.select, SelectPolicy::Min);
    assert_eq!(down.policies[0].kind, PolicyKind::Percent);
    // Scale-up not written: the Kubernetes default (two policies).
    assert_eq!(a.behavior.scale_up.policies.len(), 2);
    let all = d.unmodelled.join("\n");
    assert!(
        all.contains("llm.yaml:") && all.contains("metric `Resource`"),
        "{all}"
    );
    assert!(all.contains("WhenEmptyOrUnderutilized"), "{all}");
}

#[test]
fn a_manifest_the_simulation_cannot_run_is_a_located_error() {
    let catalog = Catalog::embedded().unwrap();
    let params = MemoryParams::embedded().unwrap();
    let bad = MANIFESTS.replace("consolidateAfter: 2m", "consolidateAfter: soon");
    let e = read(&manifests(&bad), &catalog, &params)
        .unwrap_err()
        .to_string();
    assert!(
        e.starts_with("llm.yaml:") && e.contains("field `consolidateAfter`"),
        "{e}"
    );
    let none = MANIFESTS.replace("g6e.12xlarge", "x9.mystery");
    let e = read(&manifests(&none), &catalog, &params)
        .unwrap_err()
        .to_string();
    assert!(e.contains("field `nodeSelector`"), "{e}");
    let model = MANIFESTS.replace("meta-llama/Llama-3.1-8B-Instruct", "acme/unknown-model");
    let e = read(&manifests(&model), &catalog, &params)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("llm.yaml:") && e.contains("field `model`"),
        "{e}"
    );
    assert_eq!(e.lines().count(), 1);
}

/// The ScaledObject `render` writes for `examples/chat-70b-fp8.toml` is read with its `cron`
/// floors as daily schedules in UTC (what `simulate --deploy` runs), the replicas and hours
/// the plan's floors ([`inferplan_plan::autoscaling::Floor`]) hold; a `cron` in another
/// timezone or on a weekly schedule is listed as not simulated, and equal start and end is a
/// located error.
#[test]
fn the_rendered_hourly_floor_is_read_as_schedules() {
    use inferplan_deploy::render::{from_plan, read_plan, render, renderable_candidates};
    let catalog = Catalog::embedded().unwrap();
    let params = MemoryParams::embedded().unwrap();
    let w = crate::render::example("chat-70b-fp8");
    let value = crate::render::plan_json(&w);
    let json = read_plan(&value).unwrap();
    let n = renderable_candidates(&json, &catalog)[0];
    let input = from_plan(&json, n, &catalog).unwrap();
    assert!(!input.floors.is_empty(), "chat-70b-fp8 has an hourly floor");
    let files: Vec<(String, String)> = render(&input)
        .into_iter()
        .filter(|(name, _)| name.ends_with(".yaml"))
        .collect();
    let d = read(&files, &catalog, &params).unwrap();
    let a = d.autoscaler.as_ref().unwrap();
    let schedules: Vec<Signal> = a
        .triggers
        .iter()
        .map(|t| t.signal)
        .filter(|s| matches!(s, Signal::Schedule { .. }))
        .collect();
    let want: Vec<Signal> = input
        .floors
        .iter()
        .map(|f| Signal::Schedule {
            start_minute: f.start_minute(),
            minutes: f.hours * 60,
            replicas: f.replicas,
        })
        .collect();
    assert_eq!(schedules, want);
    assert!(
        !d.unmodelled.iter().any(|u| u.contains("`cron`")),
        "{:?}",
        d.unmodelled
    );
    let so = files
        .iter()
        .find(|(name, _)| name == "keda-scaledobject.yaml")
        .unwrap()
        .1
        .clone();
    let elsewhere = so.replacen("timezone: Etc/UTC", "timezone: Europe/Paris", 1);
    let files_tz: Vec<(String, String)> = files
        .iter()
        .map(|(n, t)| {
            let t = if n == "keda-scaledobject.yaml" {
                elsewhere.clone()
            } else {
                t.clone()
            };
            (n.clone(), t)
        })
        .collect();
    let d = read(&files_tz, &catalog, &params).unwrap();
    assert!(
        d.unmodelled
            .iter()
            .any(|u| u.contains("trigger `cron` is not simulated") && u.contains("Europe/Paris")),
        "{:?}",
        d.unmodelled
    );
    let f = input.floors[0];
    let same = so.replacen(
        &format!(
            "end: {}",
            inferplan_plan::autoscaling::Run::cron_at(f.end_minute())
        ),
        &format!(
            "end: {}",
            inferplan_plan::autoscaling::Run::cron_at(f.start_minute())
        ),
        1,
    );
    let files_same: Vec<(String, String)> = files
        .iter()
        .map(|(n, t)| {
            let t = if n == "keda-scaledobject.yaml" {
                same.clone()
            } else {
                t.clone()
            };
            (n.clone(), t)
        })
        .collect();
    let e = read(&files_same, &catalog, &params)
        .unwrap_err()
        .to_string();
    assert!(
        e.starts_with("keda-scaledobject.yaml:") && e.contains("field `end`"),
        "{e}"
    );
}
