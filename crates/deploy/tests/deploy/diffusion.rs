//! `render` on diffusion workloads: the queue-worker Deployment, KEDA on the SQS queue and the
//! plan's hourly pool, the per-clip timeout, the exec probes, and the files `.ci/run`
//! validates (written by `render::every_example_renders_and_is_written_for_the_validators`
//! through [`write_for_validators`]).

use inferplan_deploy::render::diffusion::{
    self, from_plan, queue, sqs, worker, WorkerInput, WorkerOptions,
};
use inferplan_deploy::render::RenderError;
use inferplan_deploy::yaml::{self, Node};
use inferplan_perf::diffusion::DiffusionEfficiencies;
use inferplan_plan::diffusion::{is_diffusion, plan_diffusion, DiffusionPlan, DiffusionWorkload};
use std::path::Path;

use crate::support::catalog;

/// The image and queue the tests render with (what a user passes).
pub fn options(name: &str) -> WorkerOptions {
    WorkerOptions {
        image: "123456789012.dkr.ecr.us-east-1.amazonaws.com/diffusion-worker@sha256:\
                4f53cda18c2baa0c0354bb5f9a3ecbe5ed12ab4d8e11ba873c2f11161202b945"
            .to_owned(),
        queue_url: format!("https://sqs.us-east-1.amazonaws.com/123456789012/{name}-jobs"),
    }
}

/// Every diffusion example, planned: (file stem, workload, plan).
pub fn examples() -> Vec<(String, DiffusionWorkload, DiffusionPlan)> {
    crate::support::examples()
        .into_iter()
        .filter_map(|p| {
            let text = std::fs::read_to_string(&p).unwrap();
            if !is_diffusion(&text) {
                return None;
            }
            let name = p.file_stem().unwrap().to_string_lossy().into_owned();
            let w = DiffusionWorkload::from_toml(&text, &name).unwrap();
            w.validate().unwrap();
            let plan = plan_diffusion(catalog(), DiffusionEfficiencies::embedded(), &w).unwrap();
            Some((name, w, plan))
        })
        .collect()
}

/// One rendered example: its name, plan, worker input and files.
pub type Rendered = (String, DiffusionPlan, WorkerInput, Vec<(String, String)>);

/// The worker of each example's #1 (what `inferplan render` writes by default).
pub fn rendered() -> Vec<Rendered> {
    examples()
        .into_iter()
        .map(|(name, _, plan)| {
            let input = from_plan(&plan, 1, catalog(), &options(&name)).unwrap();
            let files = diffusion::render(&input);
            (name, plan, input, files)
        })
        .collect()
}

/// Writes every example's worker into `dir/diffusion/<example>/` for `.ci/run`.
pub fn write_for_validators(dir: &Path) {
    let all = rendered();
    assert_eq!(all.len(), 3, "three diffusion examples");
    for (name, _, _, files) in all {
        let d = dir.join("diffusion").join(name);
        std::fs::create_dir_all(&d).unwrap();
        for (f, text) in files {
            std::fs::write(d.join(f), text).unwrap();
        }
    }
}

fn doc<'a>(docs: &'a [yaml::Doc], kind: &str) -> &'a Node {
    &docs
        .iter()
        .find(|d| d.value.get("kind").and_then(Node::text).as_deref() == Some(kind))
        .unwrap_or_else(|| panic!("no {kind}"))
        .value
}

fn parse(files: &[(String, String)]) -> Vec<yaml::Doc> {
    files
        .iter()
        .filter(|(n, _)| n.ends_with(".yaml"))
        .flat_map(|(n, t)| yaml::parse(t, n).unwrap())
        .collect()
}

fn num(n: &Node, path: &[&str]) -> f64 {
    n.path(path)
        .and_then(Node::as_f64)
        .unwrap_or_else(|| panic!("{path:?}"))
}

/// The values the plan decided are the ones written: the warm pool and the peak as KEDA's
/// bounds, the hourly pool as cron windows, one GPU per worker on the plan's instance, and
/// spot only where the plan bought it.
#[test]
fn the_plan_is_what_is_rendered() {
    for (name, plan, input, files) in rendered() {
        let c = &plan.options()[0];
        let docs = parse(&files);
        let so = doc(&docs, "ScaledObject");
        let min = num(so, &["spec", "minReplicaCount"]) as u32;
        let max = num(so, &["spec", "maxReplicaCount"]) as u32;
        let warm = if c.scale_to_zero { 0 } else { c.warm_pool_gpus };
        assert_eq!(min, warm, "{name}: min = warm pool");
        assert!(max > min, "{name}: the autoscaler can move");
        assert_eq!(
            max,
            c.gpus_peak.max(min + 1),
            "{name}: max = the plan's peak"
        );
        let dep = doc(&docs, "Deployment");
        // The ScaledObject owns the count: no `spec.replicas` a re-apply would reset.
        assert!(dep.path(&["spec", "replicas"]).is_none(), "{name}");
        let spec = dep.path(&["spec", "template", "spec"]).unwrap();
        assert_eq!(
            spec.path(&["nodeSelector", "node.kubernetes.io/instance-type"])
                .and_then(Node::text)
                .as_deref(),
            Some(c.instance.as_str())
        );
        let ctr = &spec.at("containers").items()[0];
        assert_eq!(
            ctr.path(&["resources", "limits", "nvidia.com/gpu"])
                .and_then(Node::text)
                .as_deref(),
            Some("1"),
            "{name}: one GPU per worker"
        );
        // The hourly pool: in every hour the cron windows ask for the plan's workers.
        let mut asked = [min; 24];
        let lead = queue::lead_minutes(&input);
        for t in so.at("spec").at("triggers").items() {
            if t.get("type").and_then(Node::text).as_deref() != Some("cron") {
                continue;
            }
            let meta = t.at("metadata");
            let field = |k: &str| meta.get(k).and_then(Node::text).unwrap();
            assert_eq!(field("timezone"), "Etc/UTC");
            let hour = |cron: &str| -> (u32, u32) {
                let f: Vec<u32> = cron
                    .split_whitespace()
                    .take(2)
                    .map(|x| x.parse().unwrap())
                    .collect();
                (f[0], f[1])
            };
            let (sm, sh) = hour(&field("start"));
            let (em, eh) = hour(&field("end"));
            assert_eq!(em, 0, "{name}: windows end on the hour");
            // Opened `lead` minutes before the hour.
            let first = (sh * 60 + sm + lead) / 60 % 24;
            let n: u32 = field("desiredReplicas").parse().unwrap();
            let mut h = first;
            while h != eh {
                asked[h as usize] = asked[h as usize].max(n);
                h = (h + 1) % 24;
            }
        }
        for (h, got) in asked.iter().enumerate() {
            let want = if c.scale_to_zero {
                0
            } else {
                (c.hourly_gpus[h].ceil() as u32).min(max)
            };
            assert_eq!(
                *got,
                want.max(min),
                "{name}: hour {h}: cron asks for the plan's pool"
            );
        }
        // Spot only where the plan bought it, and then the interruption is declared.
        let pool = doc(&docs, "NodePool");
        let capacity: Vec<String> = pool
            .path(&["spec", "template", "spec", "requirements"])
            .unwrap()
            .items()
            .iter()
            .find(|r| {
                r.get("key").and_then(Node::text).as_deref() == Some("karpenter.sh/capacity-type")
            })
            .unwrap()
            .at("values")
            .items()
            .iter()
            .filter_map(Node::text)
            .collect();
        let spot = c.purchase_mix.spot_instances > 0;
        assert_eq!(capacity.iter().any(|v| v == "spot"), spot, "{name}");
        let tolerant = dep
            .path(&[
                "metadata",
                "annotations",
                "inferplan.io/interruption-tolerant",
            ])
            .is_some();
        assert_eq!(tolerant, spot, "{name}");
    }
}

/// The timeouts hold together: a worker removed mid-clip has the per-clip timeout to finish
/// it, the liveness probe does not fire before the timeout the worker enforces, the
/// message's visibility is kept by a heartbeat under SQS's limit, and the queue target lets a
/// worker's share of the queue finish within the limit.
/// The queue the template creates is the one the workers and KEDA are given, and its
/// visibility timeout is the workers' per-clip timeout plus the shutdown allowance (the
/// Deployment's grace period): one number, read back from both files.
#[test]
fn the_queue_template_holds_the_workers_timeout() {
    for (name, _, input, files) in rendered() {
        let text = &files
            .iter()
            .find(|(n, _)| n == sqs::TEMPLATE)
            .unwrap_or_else(|| panic!("{name}: {}", sqs::TEMPLATE))
            .1;
        let t = &yaml::parse(text, sqs::TEMPLATE).unwrap()[0].value;
        assert_eq!(
            t.get("AWSTemplateFormatVersion")
                .and_then(Node::text)
                .as_deref(),
            Some("2010-09-09")
        );
        let res = t.at("Resources");
        let q = res.at(sqs::ids::QUEUE).at("Properties");
        let dlq = res.at(sqs::ids::DEAD_LETTER_QUEUE).at("Properties");
        let docs = parse(
            &files
                .iter()
                .filter(|(n, _)| n != sqs::TEMPLATE)
                .cloned()
                .collect::<Vec<_>>(),
        );
        let dep = doc(&docs, "Deployment");
        let spec = dep.path(&["spec", "template", "spec"]).unwrap();
        let env = spec.at("containers").items()[0].at("env");
        let var = |k: &str| -> String {
            env.items()
                .iter()
                .find(|e| e.get("name").and_then(Node::text).as_deref() == Some(k))
                .and_then(|e| e.get("value"))
                .and_then(Node::text)
                .unwrap_or_else(|| panic!("{name}: env {k}"))
        };
        let timeout: f64 = var("JOB_TIMEOUT_S").parse().unwrap();
        let grace = num(spec, &["terminationGracePeriodSeconds"]);
        let visibility = num(q, &["VisibilityTimeout"]);
        assert!(
            visibility >= timeout,
            "{name}: queue visibility {visibility} s < per-clip timeout {timeout} s"
        );
        assert_eq!(visibility, grace, "{name}: one number, the grace period");
        assert!(visibility <= f64::from(worker::SQS_MAX_VISIBILITY_S));
        // The queue is the one of --queue-url, which the workers and KEDA read.
        let url = var("QUEUE_URL");
        assert_eq!(
            q.get("QueueName").and_then(Node::text).as_deref(),
            url.rsplit('/').next(),
            "{name}"
        );
        assert_eq!(url, input.queue_url);
        // Dead-letter queue, retention over the deadline, encryption.
        assert_eq!(
            num(q, &["RedrivePolicy", "maxReceiveCount"]) as u32,
            sqs::MAX_RECEIVE_COUNT
        );
        assert_eq!(
            q.path(&["RedrivePolicy", "deadLetterTargetArn", "Fn::GetAtt"])
                .map(|n| n.items()[0].text())
                .unwrap(),
            Some(sqs::ids::DEAD_LETTER_QUEUE.to_owned())
        );
        let retention = num(q, &["MessageRetentionPeriod"]);
        assert!(
            retention >= input.limit_s + f64::from(sqs::MAX_RECEIVE_COUNT) * visibility
                || retention == f64::from(sqs::SQS_MAX_RETENTION_S),
            "{name}: retention {retention} s"
        );
        assert!(num(dlq, &["MessageRetentionPeriod"]) >= retention);
        for p in [q, dlq] {
            assert_eq!(
                p.get("SqsManagedSseEnabled").and_then(Node::as_bool),
                Some(true)
            );
        }
        // The workers' policy: receive, delete, keep invisible, on this queue.
        let stmt = &res
            .at(sqs::ids::WORKER_POLICY)
            .path(&["Properties", "PolicyDocument", "Statement"])
            .unwrap()
            .items()[0];
        let actions: Vec<String> = stmt
            .at("Action")
            .items()
            .iter()
            .filter_map(Node::text)
            .collect();
        for a in [
            "sqs:ReceiveMessage",
            "sqs:DeleteMessage",
            "sqs:ChangeMessageVisibility",
        ] {
            assert!(actions.iter().any(|x| x == a), "{name}: {a}");
        }
        assert_eq!(
            res.at(sqs::ids::KEDA_POLICY)
                .path(&["Properties", "PolicyDocument", "Version"])
                .and_then(Node::text)
                .as_deref(),
            Some("2012-10-17"),
            "{name}: the policy language version is a string, not a date"
        );
        // The README says the same numbers.
        let readme = &files.iter().find(|(n, _)| n == "README.md").unwrap().1;
        assert!(readme.contains(&format!("visibility timeout {visibility} s")));
    }
}

#[test]
fn timeouts_hold_together() {
    for (name, _, input, files) in rendered() {
        let docs = parse(&files);
        let dep = doc(&docs, "Deployment");
        let spec = dep.path(&["spec", "template", "spec"]).unwrap();
        let ctr = &spec.at("containers").items()[0];
        let env = |k: &str| -> f64 {
            ctr.at("env")
                .items()
                .iter()
                .find(|e| e.get("name").and_then(Node::text).as_deref() == Some(k))
                .and_then(|e| e.get("value"))
                .and_then(Node::text)
                .and_then(|v| v.parse().ok())
                .unwrap_or_else(|| panic!("{name}: env {k}"))
        };
        let timeout = env("JOB_TIMEOUT_S");
        assert!(
            timeout >= input.job_s * worker::JOB_TIMEOUT_FACTOR,
            "{name}"
        );
        let grace = num(spec, &["terminationGracePeriodSeconds"]);
        assert!(
            grace >= timeout,
            "{name}: grace {grace} < timeout {timeout}"
        );
        let live = ctr.get("livenessProbe").unwrap();
        let script = live
            .path(&["exec", "command"])
            .unwrap()
            .items()
            .last()
            .and_then(Node::text)
            .unwrap();
        let limit: f64 = script
            .rsplit(' ')
            .next()
            .and_then(|x| x.parse().ok())
            .unwrap();
        assert!(
            limit >= timeout,
            "{name}: liveness {limit} < timeout {timeout}"
        );
        assert!(env("VISIBILITY_HEARTBEAT_S") < env("VISIBILITY_TIMEOUT_S"));
        assert!(env("VISIBILITY_TIMEOUT_S") <= f64::from(worker::SQS_MAX_VISIBILITY_S));
        // No HTTP server is assumed.
        for p in ["startupProbe", "readinessProbe", "livenessProbe"] {
            let probe = ctr.get(p).unwrap_or_else(|| panic!("{name}: {p}"));
            assert!(probe.get("exec").is_some() && probe.get("httpGet").is_none());
        }
        assert!(
            ctr.get("ports").is_none(),
            "{name}: a worker serves no port"
        );
        // KEDA: the queue target in the file, and its meaning.
        let so = doc(&docs, "ScaledObject");
        let sqs = so
            .at("spec")
            .at("triggers")
            .items()
            .iter()
            .find(|t| t.get("type").and_then(Node::text).as_deref() == Some("aws-sqs-queue"))
            .unwrap();
        let q: f64 = sqs
            .path(&["metadata", "queueLength"])
            .and_then(Node::text)
            .unwrap()
            .parse()
            .unwrap();
        assert!(q >= 1.0);
        if q > 1.0 {
            assert!(
                q * input.job_s <= queue::wait_budget_s(&input),
                "{name}: {q} jobs of {} s exceed the budget",
                input.job_s
            );
        }
        assert!(
            (q + 1.0) * input.job_s > queue::wait_budget_s(&input),
            "{name}: one more job per worker would still fit: the target is not the largest"
        );
        assert_eq!(
            sqs.path(&["metadata", "queueURLFromEnv"])
                .and_then(Node::text)
                .as_deref(),
            Some("QUEUE_URL"),
            "{name}: KEDA reads the worker's queue"
        );
        let auth = doc(&docs, "TriggerAuthentication");
        assert_eq!(
            sqs.path(&["authenticationRef", "name"])
                .and_then(Node::text),
            auth.path(&["metadata", "name"]).and_then(Node::text)
        );
    }
}

/// Without the worker image or with a malformed queue URL, nothing is rendered and the error
/// names the flag; a `hub` weights source is refused with what to do instead.
#[test]
fn missing_inputs_are_named() {
    let (name, w, plan) = examples().into_iter().next().unwrap();
    let mut o = options(&name);
    o.image = " ".to_owned();
    let e = from_plan(&plan, 1, catalog(), &o).unwrap_err().to_string();
    assert!(e.contains("--worker-image"), "{e}");
    for bad in [
        "sqs.us-east-1.amazonaws.com/123456789012/q",
        "https://sqs.us-east-1.amazonaws.com/q",
        "https://sqs.us-east-1.amazonaws.com/1234/q",
        "https://example.com/123456789012/q",
    ] {
        let mut o = options(&name);
        o.queue_url = bad.to_owned();
        let e = from_plan(&plan, 1, catalog(), &o).unwrap_err().to_string();
        assert!(e.starts_with("--queue-url:"), "{bad}: {e}");
    }
    assert!(matches!(
        from_plan(&plan, 0, catalog(), &options(&name)),
        Err(RenderError::NoSuchCandidate { candidate: 0, .. })
    ));
    let mut hub = w.clone();
    hub.constraints.weights_source = "hub".to_owned();
    let p = plan_diffusion(catalog(), DiffusionEfficiencies::embedded(), &hub).unwrap();
    let e = from_plan(&p, 1, catalog(), &options(&name))
        .unwrap_err()
        .to_string();
    assert!(e.contains("weights_source") && e.contains("s3"), "{e}");
}

/// Every weights source but `hub` renders its delivery's objects for a worker, with the
/// cold start the plan counted.
#[test]
fn every_weights_source_renders() {
    let (name, w, _) = examples().into_iter().next().unwrap();
    for (source, file) in [
        ("s3", None),
        ("nvme", Some("weights-prepull-daemonset.yaml")),
        ("fsx", Some("weights-pvc.yaml")),
    ] {
        let mut v = w.clone();
        v.constraints.weights_source = source.to_owned();
        let p = plan_diffusion(catalog(), DiffusionEfficiencies::embedded(), &v).unwrap();
        let input = from_plan(&p, 1, catalog(), &options(&name)).unwrap();
        let c = &p.options()[0];
        assert!(
            (input.base.cold_start.seconds - c.cold_start_s).abs() < 1e-6,
            "{source}: render's cold start {} is the plan's {}",
            input.base.cold_start.seconds,
            c.cold_start_s
        );
        let files = diffusion::render(&input);
        if let Some(f) = file {
            assert!(files.iter().any(|(n, _)| n == f), "{source}: {f}");
        }
        let lint = inferplan_deploy::lint::lint(
            &files
                .iter()
                .filter(|(n, _)| n.ends_with(".yaml"))
                .cloned()
                .collect::<Vec<_>>(),
            catalog(),
        )
        .unwrap();
        let bad: Vec<_> = lint
            .iter()
            .filter(|f| f.severity >= inferplan_plan::diagnostic::Severity::Warning)
            .collect();
        assert!(bad.is_empty(), "{source}: {bad:?}");
    }
}

/// Rendering is a pure function of its input.
#[test]
fn rendering_is_deterministic() {
    let a = rendered();
    let b = rendered();
    for (x, y) in a.iter().zip(&b) {
        assert_eq!(x.3, y.3, "{}", x.0);
    }
}
