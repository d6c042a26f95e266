//! `lint` against its fixtures: every rule fires on its own fixture (and only it), the clean
//! fixtures give nothing, malformed YAML is an error naming the file and line, the output
//! formats carry their fields, and random input never panics.
//!
//! Each rule's findings are compared with the snapshot `tests/snapshots/lint/<name>.expected`.
//! After an intended change, regenerate them with `UPDATE_SNAPSHOTS=1 cargo test -p
//! inferplan-deploy --test deploy lint::` and review the diff.

use inferplan_deploy::lint::{self, has_errors, sarif, text, Finding, Severity};
use inferplan_deploy::yaml::{self, collect, YamlError};
use proptest::prelude::*;
use std::path::{Path, PathBuf};

use crate::support::{assert_snapshot, catalog, repo};

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/lint")
}

/// `(origin, text)` of a fixture; the origin is the bare file name so snapshots do not
/// depend on where the repository is.
fn fixture(name: &str) -> (String, String) {
    let file = format!("{name}.yaml");
    let text = std::fs::read_to_string(dir().join(&file)).unwrap_or_else(|e| panic!("{file}: {e}"));
    (file, text)
}

fn lint_fixture(name: &str) -> Vec<Finding> {
    lint::lint(&[fixture(name)], catalog()).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// Compares `actual` with the snapshot `<name>.expected`.
fn expect(name: &str, actual: &str) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/snapshots/lint")
        .join(format!("{name}.expected"));
    assert_snapshot(&path, actual);
}

#[test]
fn each_rule_fires_on_its_fixture_and_only_it() {
    for rule in lint::all() {
        let findings = lint_fixture(rule.meta().name);
        assert!(
            !findings.is_empty(),
            "{} {} finds nothing in its fixture",
            rule.meta().code,
            rule.meta().name
        );
        for f in &findings {
            assert_eq!(
                (f.code, f.name),
                (rule.meta().code, rule.meta().name),
                "{}.yaml: unexpected finding {}:{} {}",
                rule.meta().name,
                f.location.file,
                f.location.line,
                f.message
            );
            assert_eq!(f.docs, rule.meta().docs);
            assert!(
                !f.location.snippet.is_empty(),
                "{}: no snippet",
                rule.meta().name
            );
            assert!(f.severity <= rule.meta().severity, "{}", rule.meta().name);
        }
        expect(rule.meta().name, &text(&findings));
    }
}

#[test]
fn clean_fixtures_give_nothing() {
    for name in ["clean-vllm", "clean-multinode", "helm-rendered"] {
        let findings = lint_fixture(name);
        assert!(findings.is_empty(), "{name}:\n{}", text(&findings));
    }
}

#[test]
fn severities_of_the_fixtures() {
    let worst = |name: &str| lint_fixture(name).iter().map(|f| f.severity).max().unwrap();
    for name in [
        "gpu-request-limit-mismatch",
        "gpu-count-parallelism-mismatch",
        "kv-cache-cannot-fit",
        "fp8-without-native-support",
        "tensor-parallel-not-dividing-heads",
        "ephemeral-storage-below-weights",
        "count-out-of-range",
    ] {
        assert_eq!(worst(name), Severity::Error, "{name}");
        assert!(has_errors(&lint_fixture(name)));
    }
    assert_eq!(worst("missing-pod-disruption-budget"), Severity::Warning);
    assert!(!has_errors(&lint_fixture("missing-pod-disruption-budget")));
    assert_eq!(worst("single-gpu-pods-on-large-nodes"), Severity::Info);
    // IL102 is a warning when GPUs sit idle, an error when the engine cannot start.
    let both: Vec<Severity> = lint_fixture("gpu-count-parallelism-mismatch")
        .iter()
        .map(|f| f.severity)
        .collect();
    assert_eq!(both, [Severity::Error, Severity::Warning]);
}

#[test]
fn helm_output_keeps_sources_anchors_and_lines() {
    let (origin, text) = fixture("helm-rendered");
    let docs = yaml::parse(&text, &origin).unwrap();
    let kinds: Vec<String> = docs
        .iter()
        .map(|d| d.value.get("kind").and_then(|k| k.text()).unwrap())
        .collect();
    assert_eq!(
        kinds,
        [
            "ServiceAccount",
            "ConfigMap",
            "PersistentVolumeClaim",
            "Service",
            "Deployment",
            "PodDisruptionBudget",
            "HorizontalPodAutoscaler",
            "ServiceMonitor"
        ]
    );
    let deploy = &docs[4];
    assert_eq!(
        deploy.source.as_deref(),
        Some("sglang/templates/deployment.yaml")
    );
    // The merge key brings the anchored labels into the pod template.
    let labels = deploy
        .value
        .path(&["spec", "template", "metadata", "labels"])
        .unwrap();
    assert_eq!(
        labels
            .get("app.kubernetes.io/name")
            .and_then(|v| v.as_str()),
        Some("sglang")
    );
    assert_eq!(labels.entries().len(), 3);
    // Aliased GPU requests equal the limits.
    let res = deploy
        .value
        .path(&["spec", "template", "spec", "containers"])
        .unwrap()
        .items()[0]
        .get("resources")
        .unwrap();
    assert_eq!(
        res.path(&["requests", "nvidia.com/gpu"]).unwrap().as_i64(),
        Some(1)
    );
    // A finding in Helm output points at the file line and names the template.
    let findings = lint_fixture("mutable-image-tag");
    assert_eq!(
        findings[0].location.template.as_deref(),
        Some("llm/templates/deployment.yaml")
    );
    assert!(text.lines().count() > 100);
}

#[test]
fn malformed_yaml_is_an_error_naming_file_and_line() {
    let e = lint::lint(&[fixture("malformed")], catalog()).unwrap_err();
    let msg = e.to_string();
    assert!(msg.starts_with("malformed.yaml:"), "{msg}");
    match e {
        lint::LintError::Yaml(YamlError::Syntax { line, .. }) => {
            assert!((10..=12).contains(&line), "line {line}: {msg}")
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn directories_are_read_recursively_and_sorted() {
    let files = collect(&[dir()]).unwrap();
    let names: Vec<String> = files
        .iter()
        .map(|(o, _)| {
            Path::new(o)
                .file_name()
                .unwrap()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(names, sorted);
    assert!(names.iter().all(|n| n.ends_with(".yaml")));
    assert!(names.contains(&"clean-vllm.yaml".to_owned()));
    // The malformed fixture makes the whole run an input error.
    let e = lint::lint(&files, catalog()).unwrap_err();
    assert!(e.to_string().contains("malformed.yaml:"), "{e}");
    // Without it, everything lints, and findings are sorted by file, line and code.
    let good: Vec<(String, String)> = files
        .into_iter()
        .filter(|(o, _)| !o.ends_with("malformed.yaml"))
        .collect();
    let all = lint::lint(&good, catalog()).unwrap();
    let keys: Vec<(String, usize, &str)> = all
        .iter()
        .map(|f| (f.location.file.clone(), f.location.line, f.code))
        .collect();
    let mut k2 = keys.clone();
    k2.sort();
    assert_eq!(keys, k2);
    let missing = collect(&[dir().join("no-such-file.yaml")]).unwrap_err();
    assert!(matches!(missing, YamlError::Io { .. }));
}

#[test]
fn json_has_the_documented_fields() {
    let findings = lint_fixture("gpu-request-limit-mismatch");
    let v = serde_json::to_value(&findings).unwrap();
    let f = &v[0];
    for key in [
        "code", "name", "severity", "file", "line", "message", "snippet", "docs",
    ] {
        assert!(f.get(key).is_some(), "missing {key}: {f}");
    }
    assert_eq!(f["code"], "IL101");
    assert_eq!(f["name"], "gpu-request-limit-mismatch");
    assert_eq!(f["severity"], "error");
    assert_eq!(f["file"], "gpu-request-limit-mismatch.yaml");
    assert!(f["line"].as_u64().unwrap() > 1);
}

#[test]
fn sarif_lists_rules_and_locations() {
    let rules = lint::all();
    let findings = lint_fixture("fp8-without-native-support");
    let log = sarif(&findings, &rules);
    assert_eq!(log["version"], "2.1.0");
    let run = &log["runs"][0];
    let driver_rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    assert_eq!(driver_rules.len(), rules.len());
    assert_eq!(driver_rules[9]["id"], "IL110");
    assert_eq!(driver_rules[9]["name"], "fp8-without-native-support");
    let results = run["results"].as_array().unwrap();
    assert_eq!(results.len(), findings.len());
    let r = &results[0];
    assert_eq!(r["ruleId"], "IL110");
    assert_eq!(r["ruleIndex"], 9);
    assert!(["error", "warning", "note"].contains(&r["level"].as_str().unwrap()));
    let loc = &r["locations"][0]["physicalLocation"];
    assert_eq!(
        loc["artifactLocation"]["uri"],
        "fp8-without-native-support.yaml"
    );
    assert_eq!(loc["region"]["startLine"], findings[0].location.line);
}

#[test]
fn codes_and_names_are_unique_documented_and_kebab_case() {
    let docs = std::fs::read_to_string(repo().join("docs/lint.md")).expect("docs/lint.md");
    let rules = lint::all();
    let mut codes = std::collections::BTreeSet::new();
    let mut names = std::collections::BTreeSet::new();
    for r in &rules {
        assert!(codes.insert(r.meta().code), "duplicate {}", r.meta().code);
        assert!(names.insert(r.meta().name), "duplicate {}", r.meta().name);
        assert!(
            r.meta()
                .name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
                && !r.meta().name.starts_with('-')
                && !r.meta().name.ends_with('-'),
            "{} is not kebab-case",
            r.meta().name
        );
        let heading = format!("\n## {} {}\n", r.meta().code, r.meta().name);
        assert!(
            docs.contains(&heading),
            "docs/lint.md lacks `{}`",
            heading.trim()
        );
        let anchor = r.meta().docs.trim_start_matches("docs/lint.md");
        assert!(
            docs.contains(&format!("]({anchor})")),
            "no link to {anchor}"
        );
        assert!(!r.meta().summary.is_empty());
        // The rule's doc comment (its section of docs/lint.md) explains what, why, an
        // example and the fix.
        let explanation = r.meta().explanation();
        for part in [
            "**What it checks.**",
            "**Why it matters.**",
            "**Example.**",
            "**Fix.**",
        ] {
            assert!(
                explanation.contains(&format!("\n{part}")) || explanation.starts_with(part),
                "{}: {part}",
                r.meta().code
            );
        }
    }
    for (name, wanted) in [
        ("exit codes", "Exit codes"),
        ("json", "--format json"),
        ("sarif", "--format sarif"),
    ] {
        assert!(docs.contains(wanted), "docs/lint.md lacks {name}");
    }
}

#[test]
fn engines_and_selection_from_other_spellings() {
    // TGI from the environment, SGLang with --tp, on an instance family from a NodePool.
    let text = r#"
apiVersion: karpenter.sh/v1
kind: NodePool
metadata: {name: l4}
spec:
  template:
    metadata:
      labels: {gpu: l4}
    spec:
      requirements:
        - {key: karpenter.k8s.aws/instance-family, operator: In, values: [g6]}
        - {key: karpenter.k8s.aws/instance-gpu-count, operator: In, values: ["1"]}
---
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: tgi}
spec:
  replicas: 1
  template:
    spec:
      nodeSelector: {gpu: l4}
      containers:
        - name: tgi
          image: ghcr.io/huggingface/text-generation-inference:3.0.1
          env:
            - {name: MODEL_ID, value: /data/Llama-3.1-70B-Instruct}
          resources:
            limits: {nvidia.com/gpu: 1}
          volumeMounts: [{name: data, mountPath: /data}]
  volumeClaimTemplates:
    - metadata: {name: data}
"#;
    let findings = lint::lint(&[("x.yaml".to_owned(), text.to_owned())], catalog()).unwrap();
    // 70B BF16 weights (131 GiB) cannot fit one L4.
    assert!(
        findings
            .iter()
            .any(|f| f.code == "IL109" && f.message.contains("L4")),
        "{}",
        lint::text(&findings)
    );
}

#[test]
fn values_that_cannot_be_read_are_not_guessed() {
    // TP comes from a variable the manifest does not define, and the model is unknown.
    let text = r#"
apiVersion: apps/v1
kind: Deployment
metadata: {name: x}
spec:
  template:
    spec:
      nodeSelector: {node.kubernetes.io/instance-type: g6.xlarge}
      containers:
        - name: vllm
          image: vllm/vllm-openai:v0.8.5
          command: [sh, -c, "vllm serve $MODEL --tensor-parallel-size $TP --max-model-len $LEN"]
          env:
            - name: TP
              valueFrom: {configMapKeyRef: {name: c, key: tp}}
          resources:
            limits: {nvidia.com/gpu: 4}
"#;
    let findings = lint::lint(&[("x.yaml".to_owned(), text.to_owned())], catalog()).unwrap();
    assert!(findings.is_empty(), "{}", lint::text(&findings));
}

#[test]
fn hostile_inputs_are_errors_not_crashes() {
    let deep = "[".repeat(100_000);
    let mut bomb = String::from("a: &a [x, x, x, x, x, x, x, x]\n");
    for i in 0..12 {
        bomb.push_str(&format!(
            "b{i}: &b{i} [*{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}]\n",
            p = if i == 0 {
                "a".to_owned()
            } else {
                format!("b{}", i - 1)
            }
        ));
    }
    for (text, ok) in [
        ("&a [*a]", false),
        (deep.as_str(), false),
        (bomb.as_str(), false),
        ("key: *undefined", false),
        ("\u{feff}kind: Pod\nspec: {containers: [{name: a, image: b}]}", true),
        ("---\n...\n---\n", true),
        ("kind: [Deployment]\nspec: 3", true),
        ("kind: Deployment\nspec: {template: {spec: {containers: 7}}}", true),
        ("kind: Deployment\nspec:\n  template:\n    spec:\n      containers:\n        - resources: {limits: {nvidia.com/gpu: -1}}", true),
        ("kind: List\nitems: [{kind: List, items: [{kind: Pod, spec: {}}]}]", true),
    ] {
        let r = lint::lint(&[("h.yaml".to_owned(), text.to_owned())], catalog());
        assert_eq!(r.is_ok(), ok, "{text:.60}: {r:?}");
        if let Err(e) = r {
            assert!(e.to_string().starts_with("h.yaml:"), "{e}");
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn random_text_never_panics(s in "\\PC{0,300}") {
        let _ = yaml::parse(&s, "random.yaml");
        let _ = lint::lint(&[("random.yaml".to_owned(), s)], catalog());
    }

    #[test]
    fn yamlish_text_never_panics(s in "[a-z:{}\\[\\],&*!|>'\"#\\-\\n 0-9.<@%?]{0,300}") {
        let _ = lint::lint(&[("random.yaml".to_owned(), s)], catalog());
    }

    #[test]
    fn damaged_fixtures_never_panic(
        which in 0usize..6,
        cut in 0usize..4000,
        len in 0usize..40,
        insert in "[ :\\-\\n\\[{&*]{0,3}",
    ) {
        let names = [
            "clean-vllm",
            "clean-multinode",
            "helm-rendered",
            "kv-cache-cannot-fit",
            "multi-node-without-placement",
            "spot-for-stateful-inference",
        ];
        let (origin, text) = fixture(names[which]);
        let mut chars: Vec<char> = text.chars().collect();
        let at = cut.min(chars.len());
        let end = (at + len).min(chars.len());
        chars.splice(at..end, insert.chars());
        let damaged: String = chars.into_iter().collect();
        let _ = lint::lint(&[(origin, damaged)], catalog());
    }
}

fn lint_text(text: &str) -> Vec<Finding> {
    lint::lint(&[("x.yaml".to_owned(), text.to_owned())], catalog()).unwrap()
}

/// A vLLM Deployment on g6e.12xlarge (4 L40S) with `replicas`, GPU limit and engine flags.
fn vllm(replicas: &str, gpus: &str, flags: &str) -> String {
    format!(
        r#"
apiVersion: apps/v1
kind: Deployment
metadata: {{name: x}}
spec:
  replicas: {replicas}
  template:
    spec:
      nodeSelector: {{node.kubernetes.io/instance-type: g6e.12xlarge, karpenter.sh/capacity-type: on-demand}}
      containers:
        - name: vllm
          image: vllm/vllm-openai:v0.8.5@sha256:4f3c5e0a7d1b2c9e8f6a5b4c3d2e1f0a9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d4e
          command: [vllm, serve, /models/Llama-3.1-8B-Instruct, {flags}]
          resources:
            limits: {{nvidia.com/gpu: {gpus}}}
          volumeMounts: [{{name: models, mountPath: /models}}, {{name: dshm, mountPath: /dev/shm}}]
          startupProbe: {{httpGet: {{path: /health, port: 8000}}, periodSeconds: 10, failureThreshold: 60}}
      volumes:
        - {{name: models, persistentVolumeClaim: {{claimName: models}}}}
        - {{name: dshm, emptyDir: {{medium: Memory, sizeLimit: 16Gi}}}}
"#
    )
}

#[test]
fn counts_in_range_are_not_out_of_range() {
    for (replicas, gpus, flags) in [
        ("0", "1", "--tensor-parallel-size=1"),
        ("1", "4", "-tp, \"4\""),
        (
            "1",
            "4",
            "--tensor-parallel-size, \"2\", --pipeline-parallel-size, \"2\"",
        ),
        // A variable the manifest does not define is not a number: nothing is guessed.
        ("1", "4", "--tensor-parallel-size, $(TP)"),
    ] {
        let f = lint_text(&vllm(replicas, gpus, flags));
        assert!(f.is_empty(), "{replicas} {gpus} {flags}:\n{}", text(&f));
    }
    let bounds = "\n---\napiVersion: keda.sh/v1alpha1\nkind: ScaledObject\nmetadata: {name: x}\n\
                  spec:\n  scaleTargetRef: {name: x}\n  minReplicaCount: 0\n  maxReplicaCount: 2147483647\n\
                  \n  triggers: [{type: prometheus, metadata: {query: sum(vllm:num_requests_waiting)}}]\n\
                  ---\napiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata: {name: x}\n\
                  spec: {maxUnavailable: 1, selector: {}}\n";
    let f = lint_text(&(vllm("1", "1", "--max-model-len=8192") + bounds));
    assert!(f.iter().all(|f| f.code != "IL116"), "{}", text(&f));
}

#[test]
fn a_parallel_degree_of_zero_is_reported_once_and_not_read_as_one() {
    // TP 0 on 2 GPUs: before IL116, IL102 read the degree as 1 and reported 1 idle GPU.
    for flags in [
        "--tensor-parallel-size, \"0\"",
        "-tp=0",
        "--pipeline-parallel-size, \"0\"",
        "--tp, \"-2\"",
    ] {
        let f = lint_text(&vllm("1", "2", flags));
        let codes: Vec<&str> = f.iter().map(|f| f.code).collect();
        assert_eq!(codes, ["IL116"], "{flags}:\n{}", text(&f));
        assert!(f[0].message.contains("degree"), "{}", f[0].message);
    }
    // A GPU count of 0 on the serving container.
    let f = lint_text(&vllm("1", "0", "--max-model-len=8192"));
    assert_eq!(f.len(), 1, "{}", text(&f));
    assert!(
        f[0].message.contains("asks for 0 nvidia.com/gpu"),
        "{}",
        f[0].message
    );
    // Replica counts the API server refuses; the other rules do not reason from them.
    for bad in ["-1", "2147483648", "1e300", ".inf", "1.5"] {
        let f = lint_text(&vllm(bad, "1", "--max-model-len=8192"));
        let codes: Vec<&str> = f.iter().map(|f| f.code).collect();
        assert_eq!(codes, ["IL116"], "replicas {bad}:\n{}", text(&f));
        assert_eq!(f[0].severity, Severity::Error);
    }
}

/// The pod templates inside the custom resources of serving operators are read, from fixtures
/// written in the shapes their projects document (each fixture cites its source): each one is
/// built to trip one rule that can only fire when its pods were read, and none is reported as
/// not linted.
#[test]
fn custom_resources_are_read_from_their_documented_shapes() {
    let cases: [(&str, &[&str]); 7] = [
        ("cr-ray-service", &["IL101"]),
        ("cr-kserve-inferenceservice", &["IL113"]),
        ("cr-kserve-servingruntime", &["IL102"]),
        ("cr-llminferenceservice", &["IL107", "IL118"]),
        ("cr-lws-triton-trtllm", &["IL113"]),
        ("cr-lws-triton-eks", &["IL113"]),
        ("cr-kaito-workspace-template", &["IL114"]),
    ];
    for (name, codes) in cases {
        let findings = lint_fixture(name);
        let got: Vec<&str> = findings.iter().map(|f| f.code).collect();
        assert_eq!(got, codes, "{name}:\n{}", text(&findings));
        expect(name, &text(&findings));
    }
    // Triton's launcher on the leader is read as the engine, with its degrees (LWS's example
    // and NVIDIA's EKS chart).
    for name in ["cr-lws-triton-trtllm", "cr-lws-triton-eks"] {
        let lws = lint_fixture(name);
        assert!(
            lws[0].message.contains("Triton TP 8 × PP 2"),
            "{name}: {}",
            lws[0].message
        );
    }
}

/// Triton and LMDeploy are engines lint reads: LMDeploy's own Kubernetes example (with a TP
/// degree its one GPU cannot hold) trips the parallelism rule with LMDeploy's flag, and a
/// `tritonserver` Deployment behind a Service without a readiness probe is told Triton's health
/// endpoint.
#[test]
fn lmdeploy_and_triton_servers_are_linted() {
    let f = lint_fixture("lmdeploy-k8s-deployment");
    let codes: Vec<&str> = f.iter().map(|f| f.code).collect();
    assert_eq!(codes, ["IL114", "IL102"], "{}", text(&f));
    assert!(f[1].message.contains("LMDeploy") && f[1].message.contains("--tp"));
    expect("lmdeploy-k8s-deployment", &text(&f));
    let triton = r#"apiVersion: apps/v1
kind: Deployment
metadata:
  name: triton
spec:
  replicas: 1
  selector:
    matchLabels:
      app: triton
  template:
    metadata:
      labels:
        app: triton
    spec:
      containers:
        - name: triton
          image: nvcr.io/nvidia/tritonserver:24.08-trtllm-python-py3
          command: [tritonserver, --model-repository=/models, --http-port=8000]
          resources:
            limits:
              nvidia.com/gpu: "1"
---
apiVersion: v1
kind: Service
metadata:
  name: triton
spec:
  selector:
    app: triton
  ports:
    - port: 8000
"#;
    let f = lint_text(triton);
    let il119: Vec<_> = f.iter().filter(|f| f.code == "IL119").collect();
    assert_eq!(il119.len(), 1, "{}", text(&f));
    assert!(
        il119[0].message.contains("serves Triton") && il119[0].message.contains("/v2/health/ready"),
        "{}",
        il119[0].message
    );
    assert!(f.iter().all(|f| f.code != "IL121"), "{}", text(&f));
}

/// GKE accelerator labels and AKS VM sizes resolve to catalog GPUs, as EC2 instance types do.
#[test]
fn gke_and_aks_labels_name_catalog_gpus() {
    use inferplan_deploy::lint::context::labelled_gpu;
    let c = catalog();
    let gpu = |k: &str, v: &str| labelled_gpu(c, k, v).map(|g| g.name.clone());
    let gke = "cloud.google.com/gke-accelerator";
    let it = "node.kubernetes.io/instance-type";
    assert_eq!(gpu(gke, "nvidia-l4").as_deref(), Some("L4"));
    assert_eq!(gpu(gke, "nvidia-h100-80gb").as_deref(), Some("H100 SXM"));
    assert_eq!(gpu(gke, "nvidia-tesla-t4").as_deref(), Some("T4"));
    assert_eq!(
        gpu(it, "Standard_NC24ads_A100_v4").as_deref(),
        Some("A100 80GB PCIe")
    );
    assert_eq!(
        gpu(it, "Standard_ND96isr_H100_v5").as_deref(),
        Some("H100 SXM")
    );
    assert_eq!(gpu(it, "Standard_NC4as_T4_v3").as_deref(), Some("T4"));
    assert_eq!(gpu(gke, "nvidia-unknown"), None);
    assert_eq!(
        gpu(it, "g6e.xlarge"),
        None,
        "EC2 types resolve through the catalog"
    );
    // An FP8 checkpoint on an AKS A100 node: Ampere runs FP8 weight-only (IL110), as on EC2.
    let text = r#"
apiVersion: apps/v1
kind: Deployment
metadata: {name: llm}
spec:
  replicas: 1
  selector: {matchLabels: {app: llm}}
  template:
    metadata: {labels: {app: llm}}
    spec:
      nodeSelector:
        node.kubernetes.io/instance-type: Standard_NC24ads_A100_v4
      containers:
        - name: vllm
          image: vllm/vllm-openai:v0.11.0
          command: [vllm, serve, /models/Llama-3.1-8B-Instruct-FP8]
          resources: {limits: {nvidia.com/gpu: 1}}
"#;
    let codes: Vec<&str> = lint_text(text).iter().map(|f| f.code).collect();
    assert_eq!(codes, ["IL110"]);
    // Llama 3.3 70B in BF16 on one GKE L4: the weights alone exceed the GPU (IL109).
    let l4 = text
        .replace(
            "node.kubernetes.io/instance-type: Standard_NC24ads_A100_v4",
            "cloud.google.com/gke-accelerator: nvidia-l4",
        )
        .replace(
            "/models/Llama-3.1-8B-Instruct-FP8",
            "/models/Llama-3.3-70B-Instruct",
        );
    let found = lint_text(&l4);
    let codes: Vec<&str> = found.iter().map(|f| f.code).collect();
    assert_eq!(codes, ["IL109"], "{}", lint::text(&found));
    assert!(found[0].message.contains("L4"), "{}", found[0].message);
}

/// One malformed file does not hide the findings of the others: `lint_each` lints every file
/// that parses and names each that does not.
#[test]
fn a_malformed_file_does_not_hide_the_others() {
    let files = vec![
        fixture("missing-dev-shm"),
        fixture("malformed"),
        fixture("mutable-image-tag"),
    ];
    let linted = lint::lint_each(&files, catalog(), &lint::all()).unwrap();
    assert_eq!(linted.malformed.len(), 1);
    assert!(linted.malformed[0]
        .to_string()
        .starts_with("malformed.yaml:"));
    let files_with_findings: std::collections::BTreeSet<&str> = linted
        .findings
        .iter()
        .map(|f| f.location.file.as_str())
        .collect();
    assert_eq!(
        files_with_findings.into_iter().collect::<Vec<_>>(),
        ["missing-dev-shm.yaml", "mutable-image-tag.yaml"]
    );
    // `lint` keeps its contract: the malformed file is the error.
    assert!(lint::lint(&files, catalog()).is_err());
}

/// Every fixture, joined into one multi-document stream in a random order and then damaged at
/// a random place, or replaced by arbitrary bytes: reading and linting never panic.
fn all_fixtures() -> Vec<(String, String)> {
    collect(&[dir()]).unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        let text = String::from_utf8_lossy(&bytes).into_owned();
        let _ = yaml::parse(&text, "bytes.yaml");
        let _ = lint::lint_each(&[("bytes.yaml".to_owned(), text)], catalog(), &lint::all());
    }

    #[test]
    fn real_multi_document_streams_never_panic(
        order in proptest::collection::vec(0usize..1000, 1..8),
        cut in 0usize..20_000,
        len in 0usize..60,
        insert in "[ :\\-\\n\\[{&*|>\"]{0,4}",
    ) {
        let fixtures = all_fixtures();
        let mut stream = String::new();
        for i in &order {
            let (_, text) = &fixtures[i % fixtures.len()];
            stream.push_str("---\n");
            stream.push_str(text);
            stream.push('\n');
        }
        let _ = lint::lint_each(&[("stream.yaml".to_owned(), stream.clone())], catalog(), &lint::all());
        let mut chars: Vec<char> = stream.chars().collect();
        let at = cut.min(chars.len());
        let end = (at + len).min(chars.len());
        chars.splice(at..end, insert.chars());
        let damaged: String = chars.into_iter().collect();
        let _ = lint::lint_each(&[("stream.yaml".to_owned(), damaged)], catalog(), &lint::all());
    }
}

/// Kinds that count GPUs without running pods (a Node from `kubectl get nodes -o yaml`, a
/// ResourceQuota) are not reported as GPU documents left unlinted.
#[test]
fn gpu_counts_outside_pods_are_not_servers() {
    let text = r#"
apiVersion: v1
kind: Node
metadata: {name: ip-10-0-0-1}
status:
  capacity: {nvidia.com/gpu: "8"}
---
apiVersion: v1
kind: ResourceQuota
metadata: {name: gpus}
spec:
  hard: {requests.nvidia.com/gpu: "16"}
"#;
    assert!(lint_text(text).is_empty());
}
