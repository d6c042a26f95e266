//! `render --monitoring cloudwatch|both`: CloudWatch alarms over Container Insights and the
//! KEDA `aws-cloudwatch` ScaledObject, with the thresholds of the Prometheus rules.

use inferplan_deploy::render::cloudwatch::{self, Monitoring};
use inferplan_deploy::render::{
    self, from_plan, keda, read_plan, renderable_candidates, rules, RenderInput,
};
use inferplan_plan::contract::PlanJson;
use inferplan_plan::search::plan;
use inferplan_plan::Workload;
use yaml_rust2::{Yaml, YamlLoader};

use crate::planner::inputs;
use crate::support::catalog;

fn input(example: &str, monitoring: Monitoring) -> RenderInput {
    let w = Workload::load(&crate::support::example(&format!("{example}.toml"))).unwrap();
    let value = serde_json::to_value(PlanJson::new(&plan(&inputs(), &w).unwrap(), 5)).unwrap();
    let p = read_plan(&value).unwrap();
    let n = renderable_candidates(&p, catalog())[0];
    let mut i = from_plan(&p, n, catalog()).unwrap();
    i.monitoring = monitoring;
    i
}

fn names(files: &[(String, String)]) -> Vec<&str> {
    files.iter().map(|(n, _)| n.as_str()).collect()
}

fn file<'a>(files: &'a [(String, String)], name: &str) -> &'a str {
    &files.iter().find(|(n, _)| n == name).unwrap().1
}

fn yaml(text: &str) -> Yaml {
    YamlLoader::load_from_str(text).unwrap().remove(0)
}

fn float(y: &Yaml) -> f64 {
    y.as_f64().or_else(|| y.as_i64().map(|i| i as f64)).unwrap()
}

/// Which objects each mode writes: `cloudwatch` has no Prometheus object, `both` has both
/// alarm sets and KEDA on Prometheus.
#[test]
fn objects_per_mode() {
    let prom = render::render(&input("chat-70b-fp8", Monitoring::Prometheus));
    let cw = render::render(&input("chat-70b-fp8", Monitoring::Cloudwatch));
    let both = render::render(&input("chat-70b-fp8", Monitoring::Both));
    for f in [
        "prometheus-rules.yaml",
        "podmonitor.yaml",
        "dcgm-exporter-counters.csv",
    ] {
        assert!(
            names(&prom).contains(&f) && names(&both).contains(&f),
            "{f}"
        );
        assert!(!names(&cw).contains(&f), "{f} with --monitoring cloudwatch");
    }
    assert!(!names(&prom).contains(&cloudwatch::TEMPLATE));
    assert!(names(&cw).contains(&cloudwatch::TEMPLATE));
    assert!(names(&both).contains(&cloudwatch::TEMPLATE));
    let trigger_types = |files: &[(String, String)]| -> Vec<String> {
        yaml(file(files, "keda-scaledobject.yaml"))["spec"]["triggers"]
            .as_vec()
            .unwrap()
            .iter()
            .map(|t| t["type"].as_str().unwrap().to_owned())
            // The plan's hourly floor is a `cron` trigger in every mode.
            .filter(|t| t != "cron")
            .collect()
    };
    assert!(trigger_types(&prom).iter().all(|t| t == "prometheus"));
    assert!(trigger_types(&both).iter().all(|t| t == "prometheus"));
    assert!(trigger_types(&cw).iter().all(|t| t == "aws-cloudwatch"));
    // The README names no Prometheus step when there is no Prometheus object.
    let readme = file(&cw, "README.md");
    assert!(!readme.contains("promtool") && !readme.contains("PodMonitor"));
    assert!(readme.contains("## CloudWatch") && readme.contains("metric_declaration"));
    assert!(!file(&prom, "README.md").contains("## CloudWatch"));
    // Everything but the alarms is the same in `prometheus` and `both`.
    for (n, t) in &prom {
        if n != "README.md" {
            assert_eq!(file(&both, n), t, "{n}");
        }
    }
}

/// The rule's threshold after `>` in the expression of Prometheus alert `name`.
fn rule_threshold(rules_text: &str, name: &str) -> f64 {
    let doc = yaml(rules_text);
    for g in doc["groups"].as_vec().unwrap() {
        for r in g["rules"].as_vec().unwrap() {
            if r["alert"].as_str() == Some(name) {
                let expr = r["expr"].as_str().unwrap();
                let after = expr.rsplit('>').next().unwrap().trim();
                return after.parse().unwrap_or_else(|_| panic!("{name}: {expr}"));
            }
        }
    }
    panic!("no alert {name}")
}

/// Every CloudWatch alarm that mirrors a Prometheus alert has its threshold (percent where
/// Container Insights reports percent), for every example's rendered candidate.
#[test]
fn alarm_thresholds_equal_the_prometheus_rules() {
    for example in ["chat-70b-fp8", "single-gpu-13b-fp8", "fraud-scoring-small"] {
        let files = render::render(&input(example, Monitoring::Both));
        let rules_text = file(&files, "prometheus-rules.yaml");
        let t = yaml(file(&files, cloudwatch::TEMPLATE));
        let res = &t["Resources"];
        let alarm = |id: &str| float(&res[id]["Properties"]["Threshold"]);
        for (id, alert, scale) in [
            ("InferenceQueueBacklogAlarm", "InferenceQueueBacklog", 1.0),
            (
                "InferenceKvCacheNearlyFullAlarm",
                "InferenceKvCacheNearlyFull",
                1.0,
            ),
            ("GpuTemperatureHighAlarm", "GpuTemperatureHigh", 1.0),
            (
                "GpuFramebufferNearlyFullAlarm",
                "GpuFramebufferNearlyFull",
                100.0,
            ),
            ("GpuPowerNearTdpAlarm", "GpuPowerNearTdp", 1.0),
        ] {
            if res[id].is_badvalue() {
                assert!(
                    !rules_text.contains(alert),
                    "{example}: {alert} has no alarm"
                );
                continue;
            }
            let want = rule_threshold(rules_text, alert) * scale;
            assert!(
                (alarm(id) - want).abs() < 1e-6,
                "{example} {id}: {} vs the rule's {want}",
                alarm(id)
            );
        }
        // Container Insights' GPU metrics are NVIDIA's: a Neuron deployment (single-gpu-13b-fp8's
        // #1 runs on inf2) has the engine's alarms only.
        if res["GpuUnderutilizedAlarm"].is_badvalue() {
            assert!(!rules_text.contains("GpuUnderutilizedAtPeak"), "{example}");
        } else {
            assert_eq!(alarm("GpuUnderutilizedAlarm"), rules::WASTE_UTIL_PCT);
        }
        for (_, r) in res.as_hash().unwrap() {
            if r["Type"].as_str() == Some("AWS::CloudWatch::Alarm") {
                let ns = r["Properties"]["Namespace"].as_str().unwrap();
                assert!(
                    ns == cloudwatch::GPU_NAMESPACE || ns == cloudwatch::ENGINE_NAMESPACE,
                    "{ns}"
                );
            }
        }
    }
}

/// The `aws-cloudwatch` triggers aim at the Prometheus triggers' targets, read the metrics
/// the README tells the agent to publish, with the dimensions the alarms use.
#[test]
fn keda_cloudwatch_triggers_match_the_prometheus_ones() {
    let i = input("chat-70b-fp8", Monitoring::Cloudwatch);
    let prom = keda::scaled_object(&i);
    let cw = keda::scaled_object_cloudwatch(&i);
    assert_eq!(prom.spec.scale_target_ref, cw.spec.scale_target_ref);
    assert_eq!(prom.spec.advanced, cw.spec.advanced);
    let target = |so: &keda::ScaledObject, name: &str, key: &str| -> String {
        so.spec
            .triggers
            .iter()
            .find(|t| t.name == name)
            .unwrap()
            .metadata[key]
            .clone()
    };
    assert_eq!(
        target(&prom, "queue", "threshold"),
        target(&cw, "queue", "targetMetricValue")
    );
    assert_eq!(
        target(&prom, "in-flight", "threshold"),
        target(&cw, "running", "targetMetricValue")
    );
    assert_eq!(target(&cw, "queue", "metricName"), i.server().waiting);
    assert_eq!(target(&cw, "running", "metricName"), i.server().running);
    assert_eq!(target(&cw, "queue", "awsRegion"), i.region);
    assert_eq!(
        target(&cw, "queue", "dimensionName").split(';').count(),
        target(&cw, "queue", "dimensionValue").split(';').count()
    );
    let readme = file(&render::render(&i), "README.md").to_owned();
    for m in [i.server().waiting, i.server().running] {
        assert!(
            readme.contains(&format!("\"^{m}$\"")),
            "{m} in the metric declaration"
        );
    }
}

/// The templates `.ci/run` lints with cfn-lint (written by the render test).
pub fn templates_for_ci() -> Vec<(String, String)> {
    ["chat-70b-fp8", "single-gpu-13b-fp8"]
        .into_iter()
        .map(|e| {
            (
                format!("cloudwatch-{e}"),
                cloudwatch::template(&input(e, Monitoring::Cloudwatch)),
            )
        })
        .collect()
}
