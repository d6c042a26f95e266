//! `render --platform sagemaker`: the CloudFormation template of the article-003 examples
//! (fraud scoring on a real-time endpoint, document OCR on an asynchronous one): snapshots,
//! the numbers tied to the shared models (cold start, checkpoint size, KEDA's in-flight
//! target), candidates SageMaker cannot serve, and the templates `.ci/run` lints with
//! cfn-lint (written by `render::every_example_renders_and_is_written_for_the_validators`).
//!
//! Snapshots: `tests/snapshots/render/sagemaker-<example>/`; regenerate with
//! `UPDATE_SNAPSHOTS=1 cargo test -p inferplan-deploy --test deploy sagemaker::`.

use inferplan_deploy::render::sagemaker::{self, limits, Endpoint, EndpointKind};
use inferplan_deploy::render::{from_plan, read_plan, RenderInput};
use inferplan_plan::contract::PlanJson;
use inferplan_plan::search::plan;
use inferplan_plan::Workload;
use inferplan_serving::cold_start::{cold_start_s, engine_start_s, Delivery, Node};
use inferplan_serving::startup;
use serde_json::Value;
use std::path::Path;
use yaml_rust2::{Yaml, YamlLoader};

use crate::planner::inputs;
use crate::support::{catalog, snapshot_mismatch, updating};

/// Where the render test writes the templates, under its check directory.
pub const CHECK_SUBDIR: &str = "cloudformation";

/// The examples rendered for SageMaker: one real-time, one asynchronous.
const EXAMPLES: [&str; 2] = ["fraud-scoring-small", "async-documents"];

fn plan_json(name: &str) -> Value {
    let w = Workload::load(&crate::support::example(&format!("{name}.toml"))).unwrap();
    serde_json::to_value(PlanJson::new(&plan(&inputs(), &w).unwrap(), 5)).unwrap()
}

/// The plan stored beside a snapshot (so snapshots move with rendering, not with the
/// planner's numbers); `UPDATE_SNAPSHOTS=1` plans again.
fn stored_plan(name: &str) -> Value {
    let path = snapshot_dir(name).join("plan.json");
    if updating() {
        let p = plan_json(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, serde_json::to_string_pretty(&p).unwrap() + "\n").unwrap();
        return p;
    }
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e}; run with UPDATE_SNAPSHOTS=1", path.display()));
    serde_json::from_str(&text).unwrap()
}

fn snapshot_dir(name: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/snapshots/render")
        .join(format!("sagemaker-{name}"))
}

/// The input of the candidate `render --platform sagemaker` picks by default.
fn input_of(p: &Value) -> RenderInput {
    let plan = read_plan(p).unwrap();
    let n = sagemaker::first_candidate(&plan, catalog()).expect("a candidate fits SageMaker");
    from_plan(&plan, n, catalog()).unwrap()
}

fn template(input: &RenderInput) -> Yaml {
    let files = sagemaker::render(input).unwrap();
    let text = &files
        .iter()
        .find(|(n, _)| n == sagemaker::TEMPLATE)
        .unwrap()
        .1;
    YamlLoader::load_from_str(text).unwrap().remove(0)
}

fn int(y: &Yaml) -> i64 {
    y.as_i64()
        .unwrap_or_else(|| panic!("not an integer: {y:?}"))
}

fn float(y: &Yaml) -> f64 {
    y.as_f64()
        .or_else(|| y.as_i64().map(|i| i as f64))
        .unwrap_or_else(|| panic!("not a number: {y:?}"))
}

/// The templates `.ci/run` checks with cfn-lint: each example, and the real-time one on an
/// instance without an instance store (so that `VolumeSizeInGB` is linted too).
pub fn templates_for_ci() -> Vec<(String, String)> {
    let mut out = Vec::new();
    for name in EXAMPLES {
        let input = input_of(&plan_json(name));
        let mut ebs = input.clone();
        for (case, i) in [
            (name.to_owned(), input),
            (format!("{name}-ebs"), {
                ebs.local_nvme_gb = None;
                ebs
            }),
        ] {
            let files = sagemaker::render(&i).unwrap();
            out.push((case, files[0].1.clone()));
        }
    }
    out
}

/// Every file of both examples against its snapshot.
#[test]
fn snapshots_of_the_article_examples() {
    let mut mismatched = Vec::new();
    for name in EXAMPLES {
        let input = input_of(&stored_plan(name));
        for (file, text) in sagemaker::render(&input).unwrap() {
            if let Some(m) = snapshot_mismatch(&snapshot_dir(name).join(&file), &text) {
                mismatched.push(m);
            }
        }
    }
    assert!(mismatched.is_empty(), "{}", mismatched.join("\n"));
}

/// The numbers of the template come from the shared models: both startup timeouts are the
/// container's start in the shared cold-start model (Hub download, cold engine start, read;
/// × 1.25), the EBS volume holds the checkpoint's download, and the scaling targets are KEDA's
/// in-flight target (directly as backlog per instance, or by Little's law as invocations per
/// minute).
#[test]
fn numbers_come_from_the_shared_models() {
    for name in EXAMPLES {
        let input = input_of(&plan_json(name));
        let e = Endpoint::of(&input).unwrap();
        let t = template(&input);
        let r = &t["Resources"];
        let v = &r["EndpointConfig"]["Properties"]["ProductionVariants"][0];
        assert_eq!(
            v["InstanceType"].as_str(),
            Some(format!("ml.{}", input.instance).as_str())
        );
        // The container downloads from the Hub, starts the engine cold and reads the weights:
        // the shared cold start without the boot, × the probe margin.
        let cold = cold_start_s(
            Delivery::HubToNodeCache,
            input.download_bytes as f64 / f64::from(input.nodes_per_replica.max(1)),
            engine_start_s(Some(input.engine), false),
            None,
            Node::New,
        );
        let need = cold.seconds - cold.boot_s;
        let budget = (need * startup::PROBE_MARGIN).ceil().max(60.0) as i64;
        assert_eq!(e.startup_budget_s as i64, budget, "{name}");
        for k in [
            "ModelDataDownloadTimeoutInSeconds",
            "ContainerStartupHealthCheckTimeoutInSeconds",
        ] {
            let s = int(&v[k]);
            assert_eq!(s, budget.clamp(60, 3600), "{name} {k}");
            assert!(s as f64 >= need, "{name} {k}");
        }
        // Volume: present only without an instance store, and then above the download.
        assert_eq!(
            v["VolumeSizeInGB"].is_badvalue(),
            input.local_nvme_gb.is_some(),
            "{name}"
        );
        let mut ebs = input.clone();
        ebs.local_nvme_gb = None;
        let te = template(&ebs);
        let gb = int(
            &te["Resources"]["EndpointConfig"]["Properties"]["ProductionVariants"][0]
                ["VolumeSizeInGB"],
        );
        assert!(
            gb as f64 * 1e9 >= input.download_bytes as f64,
            "{name}: {gb} GB"
        );

        let target = &r["ScalableTarget"]["Properties"];
        assert_eq!(int(&target["MaxCapacity"]), i64::from(input.max_replicas));
        assert_eq!(
            target["ResourceId"].as_str(),
            Some(format!("endpoint/{}/variant/AllTraffic", e.name).as_str())
        );
        let tracking =
            &r["TargetTrackingPolicy"]["Properties"]["TargetTrackingScalingPolicyConfiguration"];
        let e2e_s = input.e2e_p99_ms / 1000.0;
        match e.kind {
            EndpointKind::RealTime => {
                assert_eq!(name, "fraud-scoring-small");
                assert_eq!(int(&target["MinCapacity"]), i64::from(input.min_replicas));
                assert_eq!(
                    tracking["PredefinedMetricSpecification"]["PredefinedMetricType"].as_str(),
                    Some(limits::INVOCATIONS_PER_INSTANCE)
                );
                // Little's law: at the target rate an instance has KEDA's in-flight target.
                let per_min = float(&tracking["TargetValue"]);
                let in_flight = per_min / 60.0 * e2e_s;
                assert!(
                    (in_flight - f64::from(input.target_in_flight)).abs() < 0.01,
                    "{per_min}/min × {e2e_s} s = {in_flight} in flight, KEDA aims at {}",
                    input.target_in_flight
                );
                // ... which is below the plan's capacity per replica.
                assert!(per_min / 60.0 <= input.max_rps_per_replica);
                assert!(r["ScaleOutFromZeroPolicy"].is_badvalue());
                assert!(r["EndpointConfig"]["Properties"]["AsyncInferenceConfig"].is_badvalue());
            }
            EndpointKind::Async => {
                assert_eq!(name, "async-documents");
                assert_eq!(int(&target["MinCapacity"]), 0, "async scales to zero");
                let m = &tracking["CustomizedMetricSpecification"];
                assert_eq!(
                    m["MetricName"].as_str(),
                    Some("ApproximateBacklogSizePerInstance")
                );
                assert_eq!(
                    float(&tracking["TargetValue"]),
                    f64::from(input.target_in_flight)
                );
                let step = &r["ScaleOutFromZeroPolicy"]["Properties"];
                assert_eq!(step["PolicyType"].as_str(), Some("StepScaling"));
                let alarm = &r["HasBacklogWithoutCapacityAlarm"]["Properties"];
                assert_eq!(
                    alarm["MetricName"].as_str(),
                    Some("HasBacklogWithoutCapacity")
                );
                assert_eq!(
                    alarm["AlarmActions"][0]["Ref"].as_str(),
                    Some("ScaleOutFromZeroPolicy")
                );
                let out =
                    &r["EndpointConfig"]["Properties"]["AsyncInferenceConfig"]["OutputConfig"];
                assert!(!out["S3OutputPath"].is_badvalue());
                assert!(!out["NotificationConfig"]["SuccessTopic"].is_badvalue());
                assert!(!out["NotificationConfig"]["ErrorTopic"].is_badvalue());
                assert!(!r["BacklogAgeAlarm"].is_badvalue());
            }
        }
        // The latency alarm reads ModelLatency (microseconds) at the SLO's percentile.
        let lat = &r["ModelLatencyAlarm"]["Properties"];
        let pct = (input.slo.quantile * 100.0).round() as i64;
        assert_eq!(
            lat["ExtendedStatistic"].as_str(),
            Some(format!("p{pct}").as_str())
        );
        let want_ms = input.slo.e2e_ms.unwrap_or(input.e2e_p99_ms);
        assert_eq!(
            float(&lat["Threshold"]),
            (want_ms * 1000.0).round(),
            "{name}"
        );
        for a in [
            "Invocation5XXErrorsAlarm",
            "GpuMemoryAlarm",
            "GpuUnderutilizedAlarm",
        ] {
            assert!(!r[a].is_badvalue(), "{name}: {a}");
        }
    }
}

/// A replica spanning nodes, or several replicas on one instance, is not a SageMaker
/// endpoint: a one-line error that says what to do.
#[test]
fn candidates_sagemaker_cannot_serve_are_refused() {
    let input = input_of(&plan_json("fraud-scoring-small"));
    let mut two = input.clone();
    two.replicas_per_instance = 2;
    let e = Endpoint::of(&two).unwrap_err().to_string();
    assert!(
        e.contains("replicas_per_instance") && e.contains("--candidate"),
        "{e}"
    );
    let mut wide = input;
    wide.nodes_per_replica = 2;
    let e = Endpoint::of(&wide).unwrap_err().to_string();
    assert!(e.contains("spans 2 instances"), "{e}");
}

/// Same input, same bytes.
#[test]
fn sagemaker_render_is_deterministic() {
    let input = input_of(&plan_json("async-documents"));
    assert_eq!(
        sagemaker::render(&input).unwrap(),
        sagemaker::render(&input).unwrap()
    );
}

/// The rendered templates pass the SageMaker lint rules (IL122-IL125) without a finding, also
/// on an instance without an instance store (where the EBS volume is written and checked), and
/// the lint reads the same template back in its short-form YAML and its JSON spelling alike.
#[test]
fn rendered_templates_pass_lint_silently() {
    for (name, text) in templates_for_ci() {
        let files = vec![(format!("{name}.yaml"), text.clone())];
        let findings = inferplan_deploy::lint::lint(&files, catalog()).unwrap();
        assert!(
            findings.is_empty(),
            "{name}:\n{}",
            inferplan_deploy::lint::text(&findings)
        );
        // The lint sees the endpoint: without its scaling policy the rule fires.
        let doc = YamlLoader::load_from_str(&text).unwrap().remove(0);
        let mut json = yaml_to_json(&doc);
        json["Resources"]
            .as_object_mut()
            .unwrap()
            .remove("TargetTrackingPolicy");
        json["Resources"]
            .as_object_mut()
            .unwrap()
            .remove("ScaleOutFromZeroPolicy");
        let files = vec![(
            format!("{name}.json"),
            serde_json::to_string_pretty(&json).unwrap(),
        )];
        let findings = inferplan_deploy::lint::lint(&files, catalog()).unwrap();
        let codes: Vec<&str> = findings.iter().map(|f| f.code).collect();
        assert_eq!(codes, ["IL122"], "{name}");
    }
}

/// A loaded YAML tree as JSON (the rendered templates hold maps, lists, strings and numbers).
fn yaml_to_json(y: &Yaml) -> Value {
    match y {
        Yaml::Hash(h) => Value::Object(
            h.iter()
                .map(|(k, v)| (k.as_str().unwrap().to_owned(), yaml_to_json(v)))
                .collect(),
        ),
        Yaml::Array(a) => Value::Array(a.iter().map(yaml_to_json).collect()),
        Yaml::String(s) => Value::String(s.clone()),
        Yaml::Integer(i) => Value::from(*i),
        Yaml::Real(r) => Value::from(r.parse::<f64>().unwrap()),
        Yaml::Boolean(b) => Value::Bool(*b),
        _ => Value::Null,
    }
}

/// The ways a template names its endpoint in a scalable target's `ResourceId` (a literal,
/// `!Sub` with the endpoint's attribute or its literal name, `!Join` of literals or of a
/// `!GetAtt`) all count; a name lint cannot evaluate is said to be so, at info level.
#[test]
fn scalable_targets_are_found_however_the_endpoint_is_named() {
    let template = |resource_id: &str| {
        format!(
            "AWSTemplateFormatVersion: \"2010-09-09\"
Parameters:
  Name: {{Type: String}}
Resources:
  Endpoint:
    Type: AWS::SageMaker::Endpoint
    Properties:
      EndpointName: scoring
      EndpointConfigName: cfg
  Target:
    Type: AWS::ApplicationAutoScaling::ScalableTarget
    Properties:
      MinCapacity: 1
      MaxCapacity: 2
      ResourceId: {resource_id}
      ScalableDimension: sagemaker:variant:DesiredInstanceCount
      ServiceNamespace: sagemaker
  Policy:
    Type: AWS::ApplicationAutoScaling::ScalingPolicy
    Properties:
      PolicyName: p
      PolicyType: TargetTrackingScaling
      ScalingTargetId: !Ref Target
"
        )
    };
    let codes = |resource_id: &str| -> Vec<(&'static str, inferplan_deploy::lint::Severity)> {
        let files = vec![("t.yaml".to_owned(), template(resource_id))];
        inferplan_deploy::lint::lint(&files, catalog())
            .unwrap()
            .iter()
            .map(|f| (f.code, f.severity))
            .collect()
    };
    for found in [
        "endpoint/scoring/variant/AllTraffic",
        "!Sub endpoint/${Endpoint.EndpointName}/variant/AllTraffic",
        "!Sub endpoint/scoring/variant/AllTraffic",
        "!Join ['', [endpoint/, scoring, /variant/AllTraffic]]",
        "!Join [/, [endpoint, scoring, variant, AllTraffic]]",
        "!Join ['/', [endpoint, !GetAtt Endpoint.EndpointName, variant, AllTraffic]]",
    ] {
        assert_eq!(codes(found), [], "{found}");
    }
    use inferplan_deploy::lint::Severity;
    assert_eq!(
        codes("endpoint/other/variant/AllTraffic"),
        [("IL122", Severity::Warning)]
    );
    assert_eq!(
        codes("!Sub endpoint/${Name}/variant/AllTraffic"),
        [("IL122", Severity::Info)]
    );
}

/// `simulate --deploy` reads back what the render writes: the endpoint's instance type and
/// count, its scaling bounds, target and cooldowns, the step policy of an asynchronous
/// endpoint, and the checkpoint; nothing of the rendered template is left unmodelled. The
/// scale-out cooldown is a new instance's start in the shared model plus the scale-out
/// alarm's three published minutes.
#[test]
fn the_simulator_reads_back_the_rendered_scaling() {
    use inferplan_deploy::deployed::sagemaker::{read, Tracked};
    use inferplan_plan::autoscaling::sagemaker as aas;
    let params = inferplan_perf::MemoryParams::embedded().unwrap();
    for name in EXAMPLES {
        let input = input_of(&stored_plan(name));
        let e = Endpoint::of(&input).unwrap();
        let files = sagemaker::render(&input).unwrap();
        let texts: Vec<(String, String)> = files
            .into_iter()
            .filter(|(n, _)| n == sagemaker::TEMPLATE)
            .collect();
        let d = read(&texts, catalog(), &params)
            .unwrap()
            .expect("the template has an endpoint");
        assert!(d.unmodelled.is_empty(), "{name}: {:?}", d.unmodelled);
        assert_eq!(d.instance_type, e.instance_type, "{name}");
        assert_eq!(d.initial_instances, e.initial_instances, "{name}");
        assert_eq!(
            d.capacity,
            Some((e.min_instances, e.max_instances)),
            "{name}"
        );
        assert_eq!(d.served.tp, input.tp, "{name}");
        assert_eq!(d.download_bytes, input.download_bytes, "{name}");
        let t = d.tracking.expect("a target-tracking policy");
        assert_eq!(
            t.scale_out_cooldown_s,
            Some(f64::from(e.scale_out_cooldown_s))
        );
        assert_eq!(
            t.scale_in_cooldown_s,
            Some(f64::from(e.scale_in_cooldown_s))
        );
        let start = inferplan_serving::sagemaker::instance_start(
            input.download_bytes as f64,
            Some(input.engine),
        );
        let alarm =
            aas::SCALE_OUT_DATAPOINTS as f64 * f64::from(aas::PERIOD_S) + aas::METRIC_DELAY_S;
        assert_eq!(
            f64::from(e.scale_out_cooldown_s),
            (start.seconds + alarm).ceil(),
            "{name}"
        );
        match e.kind {
            EndpointKind::RealTime => {
                assert!(!d.is_async);
                assert_eq!(t.metric, Tracked::InvocationsPerInstance);
                assert_eq!(t.target, e.invocations_per_instance_per_minute);
                assert!(d.from_zero.is_none());
            }
            EndpointKind::Async => {
                assert!(d.is_async);
                assert_eq!(t.metric, Tracked::BacklogPerInstance);
                assert_eq!(t.target, f64::from(e.backlog_per_instance));
                let s = d.from_zero.expect("a step policy out of zero");
                assert_eq!(
                    (s.datapoints, s.evaluation_periods, s.adjustment),
                    (
                        aas::FROM_ZERO_DATAPOINTS,
                        aas::FROM_ZERO_DATAPOINTS,
                        aas::FROM_ZERO_ADJUSTMENT
                    )
                );
                assert_eq!(s.threshold, aas::FROM_ZERO_THRESHOLD);
                assert_eq!(s.cooldown_s, Some(f64::from(e.scale_out_cooldown_s)));
                assert_eq!(
                    d.max_concurrent_per_instance,
                    Some(e.max_concurrent_per_instance)
                );
            }
        }
    }
}

/// The plan's SageMaker candidate is the one rendered, with its own numbers: the `ml.*` type,
/// the engine, the startup timeouts from the same SageMaker cold start; and a type SageMaker
/// does not host (`ml.g6f`) is refused with the reason.
#[test]
fn the_rendered_endpoint_is_the_plans_sagemaker_candidate() {
    use inferplan_plan::workload::Platform;
    for name in EXAMPLES {
        let p = read_plan(&plan_json(name)).unwrap();
        let n = sagemaker::first_candidate(&p, catalog()).unwrap();
        let c = inferplan_deploy::render::candidate_of(&p, n).unwrap();
        assert_eq!(c.platform, Platform::Sagemaker, "{name}");
        assert_eq!(c.rank, n, "{name}");
        let m = c.sagemaker.as_ref().unwrap();
        let input = from_plan(&p, n, catalog()).unwrap();
        assert_eq!(input.engine, c.engine);
        let t = template(&input);
        let v = &t["Resources"]["EndpointConfig"]["Properties"]["ProductionVariants"][0];
        assert_eq!(v["InstanceType"].as_str(), Some(m.instance_type.as_str()));
        assert_eq!(
            int(&v["ContainerStartupHealthCheckTimeoutInSeconds"]),
            i64::from(m.startup_budget_s.clamp(60, 3600)),
            "{name}"
        );
        assert_eq!(
            Endpoint::of(&input).unwrap().startup_budget_s,
            m.startup_budget_s
        );
    }
    // The fraud plan offers a g6f slice on EKS: SageMaker hosts no ml.g6f.
    let p = read_plan(&plan_json("fraud-scoring-small")).unwrap();
    let slice = (1..=5)
        .find(|&n| {
            inferplan_deploy::render::candidate_of(&p, n)
                .is_some_and(|c| c.instance.starts_with("g6f"))
        })
        .expect("a g6f option among the fraud plan's first five");
    let e = sagemaker::hosting_type(&p, slice, catalog())
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("ml.g6f") && e.contains("sagemaker_instance_types.csv"),
        "{e}"
    );
}
