//! Hard edges of `render`, `rightsize` and `lint`: diffusion workloads, counts Kubernetes
//! cannot hold, impossible metrics and malformed YAML are one-line errors with exit code 2
//! (or findings with exit code 1), never a panic or a file written.

use std::path::{Path, PathBuf};
use std::process::Output;

use crate::common::{inferplan, repo_file, stderr};

/// A fresh directory of this test under the system's temporary directory.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("inferplan-edges-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Exit code 2 and one line on standard error containing every one of `want`.
fn input_error(o: &Output, want: &[&str]) {
    let e = stderr(o);
    assert_eq!(o.status.code(), Some(2), "{e}");
    assert_eq!(e.trim_end().lines().count(), 1, "not one line: {e}");
    for w in want {
        assert!(e.contains(w), "missing `{w}` in: {e}");
    }
}

const VIDEO: &str = "examples/video-720p-report-clips.toml";

const IMAGE: &str = "123456789012.dkr.ecr.us-east-1.amazonaws.com/wan-worker:1.4.2";
const QUEUE: &str = "https://sqs.us-east-1.amazonaws.com/123456789012/report-clips";

/// A diffusion workload renders its queue workers, given the two values only the user knows
/// (the worker image and the SQS queue); without them, or with a malformed one, nothing is
/// written and the one-line error names what to pass.
#[test]
fn render_of_a_diffusion_workload_needs_the_worker_image_and_queue() {
    let dir = scratch("render-diffusion");
    let out = dir.join("out");
    let o_ = out.to_str().unwrap();
    let video = repo_file(VIDEO);
    let o = inferplan(&["render", &video, "--out", o_]);
    input_error(
        &o,
        &[
            "is a diffusion workload",
            "give --worker-image IMAGE and --queue-url URL",
            "docs/render.md#diffusion-workers",
        ],
    );
    assert!(!stderr(&o).contains("unknown field"), "{}", stderr(&o));
    assert!(!out.exists(), "nothing is written");
    let o = inferplan(&["render", &video, "--out", o_, "--worker-image", IMAGE]);
    input_error(&o, &["give --queue-url URL"]);
    let o = inferplan(&["render", &video, "--out", o_, "--queue-url", QUEUE]);
    input_error(&o, &["give --worker-image IMAGE"]);
    let o = inferplan(&[
        "render",
        &video,
        "--out",
        o_,
        "--worker-image",
        IMAGE,
        "--queue-url",
        "https://sqs.us-east-1.amazonaws.com/report-clips",
    ]);
    input_error(&o, &["--queue-url:", "12-digit account id"]);
    let o = inferplan(&[
        "render",
        &video,
        "--out",
        o_,
        "--worker-image",
        IMAGE,
        "--queue-url",
        QUEUE,
        "--platform",
        "sagemaker",
    ]);
    input_error(&o, &["diffusion workload", "--platform eks"]);
    assert!(!out.exists(), "nothing is written");
    // Rendered, and lint has nothing to say about it.
    let o = inferplan(&[
        "render",
        &video,
        "--out",
        o_,
        "--worker-image",
        IMAGE,
        "--queue-url",
        QUEUE,
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    for f in [
        "deployment.yaml",
        "keda-scaledobject.yaml",
        "keda-triggerauthentication.yaml",
        "README.md",
    ] {
        assert!(out.join(f).exists(), "{f}");
    }
    let l = inferplan(&["lint", o_]);
    assert_eq!(l.status.code(), Some(0), "{}", crate::common::stdout(&l));
    // The same from the plan's JSON.
    let plan = dir.join("plan.json");
    let p = inferplan(&["plan", &video, "--format", "json"]);
    std::fs::write(&plan, &p.stdout).unwrap();
    let out2 = dir.join("out2");
    let o = inferplan(&[
        "render",
        "--plan",
        plan.to_str().unwrap(),
        "--out",
        out2.to_str().unwrap(),
        "--worker-image",
        IMAGE,
        "--queue-url",
        QUEUE,
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(
        std::fs::read_to_string(out.join("deployment.yaml")).unwrap(),
        std::fs::read_to_string(out2.join("deployment.yaml")).unwrap()
    );
    // The worker flags mean nothing to an LLM workload.
    let o = inferplan(&[
        "render",
        &repo_file("examples/chat-70b-fp8.toml"),
        "--out",
        dir.join("llm").to_str().unwrap(),
        "--worker-image",
        IMAGE,
    ]);
    input_error(
        &o,
        &["--worker-image and --queue-url are for diffusion workloads"],
    );
    // A model the diffusion catalog does not know, but a `[job]` table: still a diffusion
    // file, and the error names the field.
    let file = dir.join("custom.toml");
    let text = std::fs::read_to_string(repo_file(VIDEO))
        .unwrap()
        .replace("Wan2.1 I2V 14B 720P", "My Video Model");
    std::fs::write(&file, text).unwrap();
    let o = inferplan(&[
        "render",
        file.to_str().unwrap(),
        "--out",
        dir.join("custom").to_str().unwrap(),
        "--worker-image",
        IMAGE,
        "--queue-url",
        QUEUE,
    ]);
    input_error(
        &o,
        &[
            "model.name",
            "My Video Model",
            "not in the diffusion catalog",
        ],
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn rightsize_refuses_a_diffusion_workload_with_what_to_do() {
    let o = inferplan(&[
        "rightsize",
        &repo_file("crates/deploy/tests/fixtures/rightsize/over_week.csv"),
        "--instance",
        "g6e.2xlarge",
        "--workload",
        &repo_file(VIDEO),
    ]);
    input_error(
        &o,
        &[
            "rightsize --workload supports LLM workloads",
            "(model `Wan2.1 I2V 14B 720P`)",
            "plan it with `inferplan plan ",
            "without --workload, the verdicts still apply",
        ],
    );
}

#[test]
fn rightsize_documents_its_exit_codes_and_refuses_impossible_memory() {
    let o = inferplan(&["rightsize", "--help"]);
    let help = String::from_utf8_lossy(&o.stdout);
    assert!(
        help.contains("Exit codes: 0 when no action is needed, 1 when the fleet is over- or")
            && help.contains("2 on bad input"),
        "{help}"
    );
    let dir = scratch("rightsize");
    let file = dir.join("m.csv");
    std::fs::write(
        &file,
        "timestamp,instance,gpu,gpu_util,fb_used_mib,fb_total_mib\n0,h,0,50,90000,81920\n",
    )
    .unwrap();
    let o = inferplan(&["rightsize", file.to_str().unwrap()]);
    input_error(
        &o,
        &["m.csv:2: field `fb_used_mib`: 90000 MiB is above fb_total_mib 81920 MiB"],
    );
    std::fs::write(
        &file,
        "timestamp,instance,gpu,gpu_util,fb_used_mib,gpu\n0,h,0,50,9000,1\n",
    )
    .unwrap();
    let o = inferplan(&["rightsize", file.to_str().unwrap()]);
    input_error(&o, &["m.csv:1: column `gpu` appears twice in the header"]);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn lint_refuses_duplicate_keys_and_reports_counts_out_of_range() {
    let dir = scratch("lint");
    let file = dir.join("d.yaml");
    std::fs::write(
        &file,
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: x\nspec:\n  replicas: 1\n  replicas: 2\n",
    )
    .unwrap();
    let o = inferplan(&["lint", file.to_str().unwrap()]);
    input_error(
        &o,
        &["d.yaml:7: duplicate key `replicas` (first at line 6)"],
    );
    let o = inferplan(&[
        "lint",
        &repo_file("crates/deploy/tests/fixtures/lint/count-out-of-range.yaml"),
    ]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(1), "{out}{}", stderr(&o));
    assert!(out.contains("IL116 count-out-of-range"), "{out}");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn render_refuses_a_replica_count_kubernetes_cannot_hold() {
    let dir = scratch("render-replicas");
    let o = inferplan(&[
        "plan",
        &repo_file("examples/single-gpu-13b-fp8.toml"),
        "--format",
        "json",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let mut plan: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let n = plan["candidates"]
        .as_array()
        .unwrap()
        .iter()
        .position(|c| c["engine"] == "vllm")
        .expect("a vLLM candidate");
    plan["candidates"][n]["replicas"] = serde_json::json!(3_000_000_000u64);
    let file = dir.join("plan.json");
    std::fs::write(&file, plan.to_string()).unwrap();
    let out = dir.join("out");
    let o = inferplan(&[
        "render",
        "--plan",
        file.to_str().unwrap(),
        "--candidate",
        &(n + 1).to_string(),
        "--out",
        out.to_str().unwrap(),
    ]);
    input_error(
        &o,
        &[&format!(
            "candidates[{n}].replicas: 3000000000 is above 2147483647, the largest replica count Kubernetes accepts"
        )],
    );
    assert!(!Path::new(&out).exists(), "nothing is written");
    let _ = std::fs::remove_dir_all(dir);
}

/// `render --platform sagemaker`: the default candidate gives a template `lint` passes; a
/// candidate that packs several replicas on one instance is a one-line error naming the
/// field and `--candidate`, and nothing is written.
#[test]
fn render_for_sagemaker_lints_clean_and_refuses_packed_candidates() {
    let dir = scratch("render-sagemaker");
    let out = dir.join("out");
    let o = inferplan(&[
        "render",
        &repo_file("examples/g7-vs-g5-13b.toml"),
        "--platform",
        "sagemaker",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let template = out.join("sagemaker.yaml");
    assert!(template.exists() && out.join("README.md").exists());
    let o = inferplan(&["lint", template.to_str().unwrap()]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );

    let plan = dir.join("plan.json");
    let o = inferplan(&[
        "plan",
        &repo_file("examples/g7-vs-g5-13b.toml"),
        "--format",
        "json",
        "--top",
        "10",
    ]);
    std::fs::write(&plan, &o.stdout).unwrap();
    let p: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let packed = p["candidates"]
        .as_array()
        .unwrap()
        .iter()
        .position(|c| c["engine"] == "vllm" && c["replicas_per_instance"].as_u64() > Some(1))
        .expect("a candidate with several replicas per instance")
        + 1;
    let other = dir.join("other");
    let o = inferplan(&[
        "render",
        "--plan",
        plan.to_str().unwrap(),
        "--candidate",
        &packed.to_string(),
        "--platform",
        "sagemaker",
        "--out",
        other.to_str().unwrap(),
    ]);
    input_error(
        &o,
        &[
            &format!("candidates[{}].replicas_per_instance", packed - 1),
            "one model copy per instance",
            "--candidate",
        ],
    );
    assert!(!other.exists(), "nothing is written");
    let _ = std::fs::remove_dir_all(dir);
}

/// `render --monitoring`: `cloudwatch` writes the alarm template and no Prometheus object, and
/// `lint` finds nothing in what it wrote; `--help` lists the three values; an unknown value
/// and `--monitoring` with `--platform sagemaker` are errors that write nothing.
#[test]
fn render_monitoring_flag_parses_and_its_output_lints_clean() {
    let dir = scratch("render-monitoring");
    let out = dir.join("out");
    let o = inferplan(&[
        "render",
        &repo_file("examples/single-gpu-13b-fp8.toml"),
        "--monitoring",
        "cloudwatch",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(out.join("cloudwatch-alarms.yaml").exists());
    assert!(!out.join("prometheus-rules.yaml").exists());
    assert!(!out.join("podmonitor.yaml").exists());
    let keda = std::fs::read_to_string(out.join("keda-scaledobject.yaml")).unwrap();
    assert!(keda.contains("type: aws-cloudwatch") && !keda.contains("type: prometheus"));
    let o = inferplan(&["lint", out.to_str().unwrap()]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );

    let o = inferplan(&["render", "--help"]);
    let help = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(
        help.contains("--monitoring")
            && help.contains("prometheus")
            && help.contains("cloudwatch")
            && help.contains("both"),
        "{help}"
    );

    let other = dir.join("other");
    let o = inferplan(&[
        "render",
        &repo_file("examples/single-gpu-13b-fp8.toml"),
        "--monitoring",
        "datadog",
        "--out",
        other.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("datadog"), "{}", stderr(&o));
    let o = inferplan(&[
        "render",
        &repo_file("examples/g7-vs-g5-13b.toml"),
        "--platform",
        "sagemaker",
        "--monitoring",
        "cloudwatch",
        "--out",
        other.to_str().unwrap(),
    ]);
    input_error(&o, &["--monitoring", "--platform eks"]);
    assert!(!other.exists(), "nothing is written");
    let _ = std::fs::remove_dir_all(dir);
}

/// A TensorRT-LLM candidate has no queue gauge to publish to CloudWatch, and TGI's series
/// carry no model label for its dimensions: `--monitoring cloudwatch` is a one-line error that
/// writes nothing; with Prometheus it renders.
#[test]
fn render_refuses_cloudwatch_monitoring_for_trtllm_and_tgi() {
    for (engine, name) in [("trtllm", "TensorRT-LLM"), ("tgi", "TGI")] {
        let dir = scratch(&format!("render-{engine}-cw"));
        let plan = dir.join("plan.json");
        let o = inferplan(&[
            "plan",
            &repo_file("examples/chat-70b-fp8.toml"),
            "--engine",
            engine,
            "--format",
            "json",
        ]);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        std::fs::write(&plan, &o.stdout).unwrap();
        let out = dir.join("out");
        let o = inferplan(&[
            "render",
            "--plan",
            plan.to_str().unwrap(),
            "--monitoring",
            "cloudwatch",
            "--out",
            out.to_str().unwrap(),
        ]);
        input_error(&o, &[name, "--monitoring prometheus"]);
        assert!(!out.exists());
        let o = inferplan(&[
            "render",
            "--plan",
            plan.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ]);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        assert!(out.join("podmonitor.yaml").exists());
    }
}
