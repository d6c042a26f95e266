//! `simulate --deploy DIR`: the fleet of rendered (or hand-written) manifests, simulated with
//! the workload's day.

use crate::common::{example, inferplan, stderr, stdout};
use std::path::{Path, PathBuf};

/// The manifests `render` writes for `examples/<name>`, in a fresh directory.
fn rendered(name: &str, tag: &str) -> PathBuf {
    let dir =
        std::env::temp_dir().join(format!("inferplan-simdeploy-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let o = inferplan(&["render", &example(name), "--out", dir.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    dir
}

fn simulate(dir: &Path, workload: &str, duration: &str) -> (i32, serde_json::Value, String) {
    let o = inferplan(&[
        "simulate",
        "--deploy",
        dir.to_str().unwrap(),
        "--workload",
        &example(workload),
        "--duration",
        duration,
        "--format",
        "json",
    ]);
    let v = serde_json::from_str(&stdout(&o)).unwrap_or(serde_json::Value::Null);
    (o.status.code().unwrap_or(-1), v, stderr(&o))
}

/// The value after `key: ` on the first line of the rendered template in `dir` that has it.
fn template_value(dir: &Path, key: &str) -> String {
    file_value(dir, "sagemaker.yaml", key)
}

/// The value after `key: ` on the first line of the rendered `file` in `dir` that has it.
fn file_value(dir: &Path, file: &str, key: &str) -> String {
    let text = std::fs::read_to_string(dir.join(file)).unwrap();
    let prefix = format!("{key}: ");
    text.lines()
        .find_map(|l| l.trim().strip_prefix(&prefix).map(str::to_owned))
        .unwrap_or_else(|| panic!("no `{key}` in {file}"))
}

/// Field `key` of the option `render` writes for `examples/<name>` (the plan's #1).
fn planned(name: &str, key: &str) -> serde_json::Value {
    let o = inferplan(&["plan", &example(name), "--format", "json"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let plan: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    plan["candidates"][0][key].clone()
}

fn edit(path: &Path, from: &str, to: &str) {
    let text = std::fs::read_to_string(path).unwrap();
    assert!(text.contains(from), "`{from}` not in {}", path.display());
    std::fs::write(path, text.replacen(from, to, 1)).unwrap();
}

/// The done-when: render the 70B chat example and simulate its manifests over the
/// workload's day (six hours in a debug build; docs/simulate.md reports the whole day): the
/// SLO is met with few scale events, and the nodes hold the replicas.
#[test]
fn the_rendered_chat_70b_meets_its_slo_through_the_day() {
    let dir = rendered("chat-70b-fp8.toml", "day");
    let duration = if cfg!(debug_assertions) {
        "21600"
    } else {
        "86400"
    };
    let (code, v, err) = simulate(&dir, "chat-70b-fp8.toml", duration);
    assert_eq!(code, 0, "{err}");
    assert_eq!(v["tp"], planned("chat-70b-fp8.toml", "tp"));
    assert!(
        v["target"].as_str().unwrap().starts_with("p5.48xlarge"),
        "{}",
        v["target"]
    );
    let attained = v["slo_attainment"]["all"].as_f64().unwrap();
    assert!(attained >= 0.99, "p99 SLO: {attained}");
    for h in v["hours"].as_array().unwrap() {
        assert!(h["slo_attainment"].as_f64().unwrap() >= 0.99, "{h}");
    }
    // A few dozen a day at most: no more than 2.5 an hour, and no flapping.
    let hours = duration.parse::<f64>().unwrap() / 3600.0;
    let events = v["scale_events"].as_f64().unwrap();
    assert!(events <= 2.5 * hours, "{events} scale events in {hours} h");
    assert!(v["flapping"].is_null(), "{}", v["flapping"]);
    for k in [
        "replicas_started",
        "replicas_max",
        "cost_usd",
        "node_hours",
        "scale_events",
    ] {
        assert!(!v[k].is_null(), "{k}");
    }
    // A p5.48xlarge (8 GPUs) holds 8 / TP replicas: node-hours at least the replica-hours
    // over that.
    let per_node = 8.0 / v["tp"].as_f64().unwrap();
    let (nodes, replicas) = (
        v["node_hours"].as_f64().unwrap(),
        v["replica_hours"].as_f64().unwrap(),
    );
    assert!(
        nodes * per_node + 1e-9 >= replicas && nodes > 0.0,
        "{nodes} {replicas}"
    );
    let _ = std::fs::remove_dir_all(dir);
}

/// The engine arguments and the ScaledObject are read from the manifests: a lower
/// `--max-num-seqs` queues requests, a trigger the simulator cannot follow is listed, and a
/// threshold that is not a number is a one-line error at its line.
#[test]
fn simulate_deploy_reads_the_container_and_lists_what_it_cannot_model() {
    let dir = rendered("chat-70b-fp8.toml", "args");
    let (code, base, err) = simulate(&dir, "chat-70b-fp8.toml", "900");
    assert_eq!(code, 0, "{err}");
    let min: u64 = file_value(&dir, "keda-scaledobject.yaml", "minReplicaCount")
        .parse()
        .unwrap();
    assert_eq!(base["replicas_initial"], min, "the ScaledObject's minimum");
    let unmodelled: Vec<String> = base["unmodelled"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap().to_owned())
        .collect();
    assert!(
        unmodelled
            .iter()
            .any(|u| u.contains("nodepool.yaml") && u.contains("limits")),
        "{unmodelled:?}"
    );
    let deployment = dir.join("deployment.yaml");
    // The batch limit under the engine's own name (vLLM `--max-num-seqs`, SGLang
    // `--max-running-requests`).
    let text = std::fs::read_to_string(&deployment).unwrap();
    // Whichever engine the plan picks (SGLang since capacity item 16, VALIDATION.md; vLLM
    // before), and its value (1024 for vLLM, 4096 for SGLang).
    let (flag, value) = ["--max-num-seqs", "--max-running-requests"]
        .into_iter()
        .find_map(|f| {
            let key = format!("- \"{f}\"\n            - \"");
            let at = text.find(&key)? + key.len();
            let end = text[at..].find('"')? + at;
            Some((f, text[at..end].to_owned()))
        })
        .expect("a batch limit");
    assert!(value.parse::<u32>().unwrap() > 2, "{flag} {value}");
    edit(
        &deployment,
        &format!("- \"{flag}\"\n            - \"{value}\""),
        &format!("- \"{flag}\"\n            - \"2\""),
    );
    let (code, narrow, err) = simulate(&dir, "chat-70b-fp8.toml", "900");
    assert_eq!(code, 0, "{err}");
    let queue = |v: &serde_json::Value| v["queue_ms"]["p99"].as_f64().unwrap();
    assert!(
        queue(&narrow) > 10.0 * queue(&base),
        "{} vs {}",
        queue(&narrow),
        queue(&base)
    );
    let scaled = dir.join("keda-scaledobject.yaml");
    edit(
        &scaled,
        "  triggers:\n",
        "  triggers:\n    - type: cpu\n      metadata:\n        value: \"70\"\n",
    );
    let (code, v, err) = simulate(&dir, "chat-70b-fp8.toml", "900");
    assert_eq!(code, 0, "{err}");
    assert!(
        v["unmodelled"]
            .as_array()
            .unwrap()
            .iter()
            .any(|u| u.as_str().unwrap().contains("trigger `cpu`")),
        "{}",
        v["unmodelled"]
    );
    edit(&scaled, "threshold: \"", "threshold: \"about ");
    let (code, _, err) = simulate(&dir, "chat-70b-fp8.toml", "900");
    assert_eq!(code, 2, "{err}");
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    assert!(
        err.contains("keda-scaledobject.yaml:") && err.contains("field `threshold`"),
        "{err}"
    );
    let _ = std::fs::remove_dir_all(dir);
}

/// The template `render --platform sagemaker` writes for `examples/<name>`, in a fresh
/// directory.
fn rendered_sagemaker(name: &str, tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "inferplan-simdeploy-sm-{tag}-{}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    let o = inferplan(&[
        "render",
        &example(name),
        "--platform",
        "sagemaker",
        "--out",
        dir.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    dir
}

/// The rendered fraud-scoring endpoint (real time, the plan's SageMaker option): simulated
/// with Application Auto Scaling, billed per instance-hour, with the same JSON fields as a
/// Kubernetes deployment, and what is not modelled said. The instance type and counts are
/// the template's.
#[test]
fn the_rendered_fraud_endpoint_is_simulated_with_its_autoscaling() {
    let dir = rendered_sagemaker("fraud-scoring-small.toml", "fraud");
    let instance_type = template_value(&dir, "InstanceType");
    let initial: u64 = template_value(&dir, "InitialInstanceCount")
        .parse()
        .unwrap();
    let (code, v, err) = simulate(&dir, "fraud-scoring-small.toml", "900");
    assert_eq!(code, 0, "{err}");
    let target = v["target"].as_str().unwrap();
    assert!(target.starts_with(&instance_type), "{target}");
    assert!(
        target.contains("AWS::SageMaker::Endpoint/Endpoint"),
        "{target}"
    );
    assert_eq!(v["replicas_initial"], initial);
    for field in [
        "slo_attainment",
        "scale_events",
        "node_hours",
        "hours",
        "cost_usd",
    ] {
        assert!(!v[field].is_null(), "{field} missing");
    }
    // One instance per node: the instance-hours are the replica-hours, the initial
    // instances for 15 minutes.
    let nh = v["node_hours"].as_f64().unwrap();
    assert!((nh - v["replica_hours"].as_f64().unwrap()).abs() < 1e-9);
    assert!((nh - initial as f64 * 0.25).abs() < 0.1, "{nh}");
    let attained = v["slo_attainment"]["all"].as_f64().unwrap();
    assert!(attained >= 0.99, "{attained}");
    let notes: Vec<&str> = v["unmodelled"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n.as_str().unwrap())
        .collect();
    let no_price = format!("no {instance_type} price");
    for want in ["provisioning 134 s", no_price.as_str(), "routing is random"] {
        assert!(notes.iter().any(|n| n.contains(want)), "{want}: {notes:?}");
    }
}

/// The rendered asynchronous endpoint (0 to MaxCapacity instances, backlog tracking) through
/// the workload's morning, with a backlog target low enough that the ramp needs more than
/// one instance: one instance at night, MaxCapacity by the ramp at 08:00.
#[test]
fn the_rendered_async_endpoint_scales_out_with_the_morning() {
    let dir = rendered_sagemaker("async-documents.toml", "async");
    let target = template_value(&dir, "TargetValue");
    edit(
        &dir.join("sagemaker.yaml"),
        &format!("TargetValue: {target}"),
        "TargetValue: 20.0",
    );
    let most: u64 = template_value(&dir, "MaxCapacity").parse().unwrap();
    assert!(most >= 2, "{most}");
    let (code, v, err) = simulate(&dir, "async-documents.toml", "32400");
    assert_eq!(code, 0, "{err}");
    let instance_type = template_value(&dir, "InstanceType");
    assert!(v["target"].as_str().unwrap().starts_with(&instance_type));
    assert!(
        v["scale_events"].as_u64().unwrap() >= 1,
        "{}",
        v["scale_events"]
    );
    assert_eq!(v["nodes_max"], most, "the scalable target's MaxCapacity");
    let hours = v["hours"].as_array().unwrap();
    assert_eq!(hours[2]["replicas_max"], 1, "{}", hours[2]);
    assert_eq!(hours[8]["replicas_max"], most, "{}", hours[8]);
}

/// A template the simulation cannot run fails in one line naming the file, line and field
/// (exit code 2); one it can run in part says what it leaves out.
#[test]
fn sagemaker_template_edits_are_refused_or_reported() {
    let dir = rendered_sagemaker("fraud-scoring-small.toml", "edits");
    let template = dir.join("sagemaker.yaml");
    let target = template_value(&dir, "TargetValue");
    edit(
        &template,
        &format!("        TargetValue: {target}"),
        "        TargetValue:\n          Ref: Target",
    );
    let (code, _, err) = simulate(&dir, "fraud-scoring-small.toml", "60");
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("sagemaker.yaml:") && err.contains("TargetValue"),
        "{err}"
    );
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    edit(
        &template,
        "        TargetValue:\n          Ref: Target",
        &format!("        TargetValue: {target}"),
    );
    edit(
        &template,
        "PredefinedMetricType: SageMakerVariantInvocationsPerInstance",
        "PredefinedMetricType: SageMakerVariantProvisionedConcurrencyUtilization",
    );
    let (code, v, err) = simulate(&dir, "fraud-scoring-small.toml", "60");
    assert_eq!(code, 0, "{err}");
    let notes = v["unmodelled"].to_string();
    assert!(
        notes.contains("SageMakerVariantProvisionedConcurrencyUtilization"),
        "{notes}"
    );
    assert_eq!(v["scale_events"], 0);
}

/// One cold start for a Neuron candidate: the plan's #1 of `examples/inf2-vs-gpu-8b.toml`
/// (vLLM on inf2, weights from S3) counts the Neuron server's cold start (S3 copied to the
/// node, graphs compiled on a new node) in IP105 and the short-spike billing; the render's
/// startup probe is built from the same figure; `plan --verify`'s day starts replicas with
/// it.
#[test]
fn a_neuron_candidate_has_one_cold_start_in_plan_render_and_simulation() {
    use inferplan_perf::{EfficiencyTable, Engine, MemoryParams};
    use inferplan_plan::contract::PlanJson;
    use inferplan_plan::search::{plan, Inputs};
    use inferplan_plan::Workload;
    use inferplan_serving::{startup, Delivery};

    let text = std::fs::read_to_string(example("inf2-vs-gpu-8b.toml")).unwrap();
    // A budget below any cold start, so that IP105 reports its figure.
    let text = text.replace(
        "[constraints]\n",
        "[constraints]\nweights_source = \"s3\"\ncold_start_budget_s = 60\n",
    );
    let w = Workload::from_toml(&text, "inf2-vs-gpu-8b.toml").unwrap();
    w.validate().unwrap();
    let catalog = inferplan_catalog::Catalog::embedded().unwrap();
    let efficiency = EfficiencyTable::embedded().unwrap();
    let memory = MemoryParams::embedded().unwrap();
    let inputs = Inputs {
        catalog: &catalog,
        efficiency: &efficiency,
        memory: &memory,
    };
    let p = plan(&inputs, &w).unwrap();
    let c = &p.candidates[p.option_indices()[0]];
    assert!(c.instance.starts_with("inf2"), "{}", c.instance);
    assert_eq!(c.accelerator, inferplan_catalog::Arch::Neuron);
    assert_eq!(c.engine, Engine::Vllm, "the plan names vLLM");
    let inst = catalog.instance(&c.instance).unwrap();
    let cold = c.cold_start("s3", inst);
    // The Neuron server's delivery and compile, not vLLM's S3 stream.
    assert_eq!(cold.delivery, Delivery::S3ToNodeCache);
    assert!(cold.basis.contains("Neuron graphs"), "{}", cold.basis);
    assert!(cold.fetch_s > 0.0);
    // Plan: the billing and IP105 count it.
    assert_eq!(c.purchase_mix.cold_start_s, cold.seconds);
    let ip105 = c
        .findings
        .iter()
        .find(|f| f.code == "IP105")
        .expect("IP105 fires with a 60 s budget");
    assert!(ip105.message.contains(&cold.basis), "{}", ip105.message);
    // Render: the same cold start, and the startup probe built from it.
    let pj = serde_json::to_value(PlanJson::new(&p, usize::MAX)).unwrap();
    let pj = inferplan_deploy::render::read_plan(&pj).unwrap();
    let input = inferplan_deploy::render::from_plan(&pj, 1, &catalog).unwrap();
    assert_eq!(input.engine, Engine::Neuron);
    assert_eq!(input.cold_start, cold);
    assert_eq!(input.startup_budget_s(), startup::probe_budget_s(&cold));
    assert!(f64::from(input.startup_budget_s()) >= cold.in_container_s());
    // Simulation: `plan --verify`'s day starts a pod in the cold start less the boot.
    let d = inferplan_sim::day::day(&inputs, &w, c, 0.99, 1, 5_000_000).unwrap();
    assert_eq!(d.pod_start_s, cold.seconds - cold.boot_s);
}
