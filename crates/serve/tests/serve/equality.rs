//! Every endpoint against the command line's `--format json` for the same input: the same
//! bytes, the CLI run in-process (`inferplan::main_with`) on the same flags and files. Where
//! the CLI names a file by its path, the API names it by the name the request gave; the tests
//! compare with the path replaced by that name.

use crate::http::{cli, request, shared, Reply};
use std::path::{Path, PathBuf};

/// The repository's root (examples, fixtures).
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// A fixture of the deploy crate's tests.
fn fixture(rel: &str) -> PathBuf {
    root().join("crates/deploy/tests/fixtures").join(rel)
}

/// A fresh directory under the target directory's tmp.
pub fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("serve-{name}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Asserts `reply` is a 200 carrying the CLI's standard output and exit code.
fn same(reply: &Reply, (code, out, err): (u8, String, String)) {
    assert!(code <= 1, "the CLI failed: {err}");
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(reply.header("content-type"), Some("application/json"));
    assert_eq!(
        reply.header("x-inferplan-exit"),
        Some(code.to_string().as_str())
    );
    assert!(!out.is_empty());
    assert_eq!(reply.text(), out);
}

#[test]
fn plan_of_a_workload_file_is_the_clis_json() {
    let path = root().join("examples/chat-70b-fp8.toml");
    let toml = std::fs::read_to_string(&path).unwrap();
    let reply = request(shared(), "POST", "/api/plan?top=3", toml.as_bytes());
    same(
        &reply,
        cli(&[
            "plan",
            path.to_str().unwrap(),
            "--top",
            "3",
            "--format",
            "json",
        ]),
    );
}

#[test]
fn plan_of_json_fields_is_the_clis_json_of_the_same_toml() {
    let json = r#"{"name": "eq", "model": {"name": "llama-3.1-8b", "precision": "fp8"},
        "traffic": {"rate_rps": 4.0}, "slo": {"ttft_ms": 500.0, "tpot_ms": 50.0},
        "constraints": {"instance_families": ["g6e", "g6"]}}"#;
    let dir = scratch("plan-json");
    let path = dir.join("eq.toml");
    std::fs::write(
        &path,
        "name = \"eq\"\n[model]\nname = \"llama-3.1-8b\"\nprecision = \"fp8\"\n[traffic]\n\
         rate_rps = 4.0\n[slo]\nttft_ms = 500.0\ntpot_ms = 50.0\n[constraints]\n\
         instance_families = [\"g6e\", \"g6\"]\n",
    )
    .unwrap();
    let reply = request(shared(), "POST", "/api/plan", json.as_bytes());
    same(
        &reply,
        cli(&["plan", path.to_str().unwrap(), "--format", "json"]),
    );
}

#[test]
fn plan_of_flags_only_is_the_clis_json() {
    let reply = request(
        shared(),
        "POST",
        "/api/plan?model=llama-3.1-8b&rate_rps=5&top=2&explain",
        b"",
    );
    same(
        &reply,
        cli(&[
            "plan",
            "--model",
            "llama-3.1-8b",
            "--rate-rps",
            "5",
            "--top",
            "2",
            "--explain",
            "--format",
            "json",
        ]),
    );
}

#[test]
fn fit_is_the_clis_json_including_a_no() {
    let reply = request(
        shared(),
        "POST",
        "/api/fit",
        br#"{"model": "llama-3.3-70b", "precision": "fp8", "instance": "g6e.12xlarge", "context": 8192, "concurrency": 16}"#,
    );
    same(
        &reply,
        cli(&[
            "fit",
            "--model",
            "llama-3.3-70b",
            "--precision",
            "fp8",
            "--instance",
            "g6e.12xlarge",
            "--context",
            "8192",
            "--concurrency",
            "16",
            "--format",
            "json",
        ]),
    );
    // Does not fit: exit code 1, still an answer.
    let reply = request(
        shared(),
        "POST",
        "/api/fit?model=llama-3.1-70b&gpu=A10G",
        b"",
    );
    let cli_answer = cli(&[
        "fit",
        "--model",
        "llama-3.1-70b",
        "--gpu",
        "A10G",
        "--format",
        "json",
    ]);
    assert_eq!(cli_answer.0, 1);
    same(&reply, cli_answer);
    // A diffusion model goes the CLI's diffusion way.
    let reply = request(
        shared(),
        "POST",
        "/api/fit",
        br#"{"model": "sdxl", "instance": "g6.xlarge"}"#,
    );
    same(
        &reply,
        cli(&[
            "fit",
            "--model",
            "sdxl",
            "--instance",
            "g6.xlarge",
            "--format",
            "json",
        ]),
    );
}

#[test]
fn estimate_is_the_clis_json() {
    let reply = request(
        shared(),
        "POST",
        "/api/estimate",
        br#"{"model": "llama-3.1-8b", "gpu": "H100", "input_tokens": 1000, "output_tokens": 200, "concurrency": 32}"#,
    );
    same(
        &reply,
        cli(&[
            "estimate",
            "--model",
            "llama-3.1-8b",
            "--gpu",
            "H100",
            "--input-tokens",
            "1000",
            "--output-tokens",
            "200",
            "--concurrency",
            "32",
            "--format",
            "json",
        ]),
    );
}

#[test]
fn simulate_is_the_clis_json_with_flags_and_with_a_workload() {
    let reply = request(
        shared(),
        "POST",
        "/api/simulate",
        br#"{"model": "llama-3.1-8b", "gpu": "H100", "rate_rps": 4, "requests": 300, "autoscale": ["queue:4"], "max_replicas": 3}"#,
    );
    same(
        &reply,
        cli(&[
            "simulate",
            "--model",
            "llama-3.1-8b",
            "--gpu",
            "H100",
            "--rate-rps",
            "4",
            "--requests",
            "300",
            "--autoscale",
            "queue:4",
            "--max-replicas",
            "3",
            "--format",
            "json",
        ]),
    );
    let path = root().join("examples/chat-70b-fp8.toml");
    let toml = std::fs::read_to_string(&path).unwrap();
    let q = "/api/simulate?model=llama-3.3-70b&precision=fp8&instance=p5.48xlarge&tp=4&duration=60";
    let reply = request(shared(), "POST", q, toml.as_bytes());
    let (code, out, err) = cli(&[
        "simulate",
        "--model",
        "llama-3.3-70b",
        "--precision",
        "fp8",
        "--instance",
        "p5.48xlarge",
        "--tp",
        "4",
        "--duration",
        "60",
        "--workload",
        path.to_str().unwrap(),
        "--format",
        "json",
    ]);
    same(
        &reply,
        (
            code,
            out.replace(path.to_str().unwrap(), "workload.toml"),
            err,
        ),
    );
}

/// The files `render` wrote into `dir`, by their relative names, sorted.
fn files_in(dir: &Path) -> Vec<(String, String)> {
    fn walk(base: &Path, dir: &Path, out: &mut Vec<(String, String)>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(base, &p, out);
            } else {
                let rel = p.strip_prefix(base).unwrap().to_str().unwrap().to_owned();
                out.push((rel, std::fs::read_to_string(&p).unwrap()));
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}

/// The files of a render answer, sorted.
fn rendered(reply: &Reply) -> (u64, Vec<(String, String)>) {
    assert_eq!(reply.status, 200, "{}", reply.text());
    let v = reply.json();
    let mut files: Vec<(String, String)> = v["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["name"].as_str().unwrap().to_owned(),
                f["text"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    files.sort();
    (v["candidate"].as_u64().unwrap(), files)
}

#[test]
fn render_answers_the_files_the_cli_writes_from_a_workload_and_from_a_plan() {
    let path = root().join("examples/chat-70b-fp8.toml");
    let toml = std::fs::read_to_string(&path).unwrap();
    let out = scratch("render-workload");
    let (code, _, err) = cli(&[
        "render",
        path.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    let (candidate, files) = rendered(&request(shared(), "POST", "/api/render", toml.as_bytes()));
    assert_eq!(files, files_in(&out));
    assert!(candidate >= 1 && files.len() > 3);

    // The plan's JSON (what /api/plan answers) with a candidate and a namespace.
    let plan = request(shared(), "POST", "/api/plan?top=10", toml.as_bytes());
    assert_eq!(plan.status, 200);
    let dir = scratch("render-plan");
    let plan_path = dir.join("plan.json");
    std::fs::write(&plan_path, &plan.body).unwrap();
    let out = dir.join("out");
    let (code, _, err) = cli(&[
        "render",
        "--plan",
        plan_path.to_str().unwrap(),
        "--candidate",
        "2",
        "--namespace",
        "llm",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    let reply = request(
        shared(),
        "POST",
        "/api/render?candidate=2&namespace=llm",
        &plan.body,
    );
    let (candidate, files) = rendered(&reply);
    assert_eq!(candidate, 2);
    assert_eq!(files, files_in(&out));

    // The same files as a tarball.
    let reply = request(
        shared(),
        "POST",
        "/api/render?candidate=2&namespace=llm&archive=tar.gz",
        &plan.body,
    );
    assert_eq!(reply.status, 200);
    assert_eq!(reply.header("content-type"), Some("application/gzip"));
    let mut tar = Vec::new();
    std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&reply.body[..]), &mut tar)
        .unwrap();
    let mut in_tar = untar(&tar);
    in_tar.sort();
    let prefixed: Vec<(String, String)> = files
        .iter()
        .map(|(n, t)| (format!("inferplan-render/{n}"), t.clone()))
        .collect();
    assert_eq!(in_tar, prefixed);
}

/// The regular files of a ustar archive: `(path, text)`.
fn untar(mut b: &[u8]) -> Vec<(String, String)> {
    let mut out = Vec::new();
    while b.len() >= 512 && b[..512].iter().any(|&x| x != 0) {
        let h = &b[..512];
        let field = |r: std::ops::Range<usize>| {
            String::from_utf8(h[r].iter().take_while(|&&c| c != 0).copied().collect()).unwrap()
        };
        let size = u64::from_str_radix(field(124..136).trim(), 8).unwrap() as usize;
        let (name, prefix) = (field(0..100), field(345..500));
        let path = if prefix.is_empty() {
            name
        } else {
            format!("{prefix}/{name}")
        };
        let text = String::from_utf8(b[512..512 + size].to_vec()).unwrap();
        out.push((path, text));
        b = &b[512 + size.next_multiple_of(512)..];
    }
    out
}

#[test]
fn lint_is_the_clis_json_and_sarif() {
    for (name, format) in [
        ("missing-readiness-probe.yaml", "json"),
        ("kv-cache-cannot-fit.yaml", "sarif"),
        ("clean-vllm.yaml", "json"),
    ] {
        let path = fixture(&format!("lint/{name}"));
        let yaml = std::fs::read_to_string(&path).unwrap();
        let q = format!("/api/lint?file={name}&format={format}");
        let reply = request(shared(), "POST", &q, yaml.as_bytes());
        let (code, out, err) = cli(&["lint", path.to_str().unwrap(), "--format", format]);
        same(
            &reply,
            (code, out.replace(path.to_str().unwrap(), name), err),
        );
    }
}

#[test]
fn lint_of_several_files_is_the_clis_json() {
    let a = fixture("lint/missing-dev-shm.yaml");
    let b = fixture("lint/mutable-image-tag.yaml");
    let body = serde_json::json!({"files": {
        "a.yaml": std::fs::read_to_string(&a).unwrap(),
        "b.yaml": std::fs::read_to_string(&b).unwrap(),
    }});
    let reply = request(shared(), "POST", "/api/lint", body.to_string().as_bytes());
    let (code, out, err) = cli(&[
        "lint",
        a.to_str().unwrap(),
        b.to_str().unwrap(),
        "--format",
        "json",
    ]);
    let out = out
        .replace(a.to_str().unwrap(), "a.yaml")
        .replace(b.to_str().unwrap(), "b.yaml");
    same(&reply, (code, out, err));
}

#[test]
fn rightsize_is_the_clis_json_with_and_without_a_workload() {
    let csv = fixture("rightsize/over_week.csv");
    let reply = request(
        shared(),
        "POST",
        "/api/rightsize?instance=g6e.2xlarge&file=over_week.csv",
        &std::fs::read(&csv).unwrap(),
    );
    let (code, out, err) = cli(&[
        "rightsize",
        csv.to_str().unwrap(),
        "--instance",
        "g6e.2xlarge",
        "--format",
        "json",
    ]);
    same(
        &reply,
        (
            code,
            out.replace(csv.to_str().unwrap(), "over_week.csv"),
            err,
        ),
    );

    let week = fixture("rightsize/article_003_week.csv");
    let workload = fixture("rightsize/article_003.toml");
    let body = serde_json::json!({
        "files": {"week.csv": std::fs::read_to_string(&week).unwrap()},
        "workload": std::fs::read_to_string(&workload).unwrap(),
    });
    let reply = request(
        shared(),
        "POST",
        "/api/rightsize?instance=g5.2xlarge&current_usd_per_hour=1.212",
        body.to_string().as_bytes(),
    );
    let (code, out, err) = cli(&[
        "rightsize",
        week.to_str().unwrap(),
        "--instance",
        "g5.2xlarge",
        "--workload",
        workload.to_str().unwrap(),
        "--current-usd-per-hour",
        "1.212",
        "--format",
        "json",
    ]);
    let out = out
        .replace(week.to_str().unwrap(), "week.csv")
        .replace(workload.to_str().unwrap(), "workload.toml");
    same(&reply, (code, out, err));
}

#[test]
fn catalog_lists_and_show_are_the_clis_json() {
    for list in ["gpus", "instances", "models", "diffusion"] {
        let reply = request(shared(), "GET", &format!("/api/catalog/{list}"), b"");
        same(&reply, cli(&["catalog", list, "--format", "json"]));
    }
    let reply = request(
        shared(),
        "GET",
        "/api/catalog/instances?region=eu-west-1",
        b"",
    );
    same(
        &reply,
        cli(&[
            "catalog",
            "instances",
            "--region",
            "eu-west-1",
            "--format",
            "json",
        ]),
    );
    for name in [
        "H100",
        "g6e.12xlarge",
        "llama-3.1-8b",
        "meta-llama%2FLlama-3.1-8B-Instruct",
    ] {
        let reply = request(shared(), "GET", &format!("/api/catalog/show/{name}"), b"");
        let name = name.replace("%2F", "/");
        same(&reply, cli(&["catalog", "show", &name, "--format", "json"]));
    }
}

#[test]
fn errors_carry_the_clis_message() {
    // An unknown name: 404 with the CLI's "did you mean".
    let reply = request(shared(), "GET", "/api/catalog/show/h1000", b"");
    let (code, _, err) = cli(&["catalog", "show", "h1000", "--format", "json"]);
    assert_eq!(code, 2);
    assert_eq!(reply.status, 404, "{}", reply.text());
    let message = err.trim().strip_prefix("error: ").unwrap();
    assert!(message.contains("did you mean"), "{message}");
    assert_eq!(reply.json()["error"], message);

    let reply = request(
        shared(),
        "POST",
        "/api/fit",
        br#"{"model": "lama-3.1-8b", "gpu": "H100"}"#,
    );
    let (_, _, err) = cli(&[
        "fit",
        "--model",
        "lama-3.1-8b",
        "--gpu",
        "H100",
        "--format",
        "json",
    ]);
    assert_eq!(reply.status, 404, "{}", reply.text());
    assert_eq!(
        reply.json()["error"],
        err.trim().strip_prefix("error: ").unwrap()
    );

    // A value out of its bound: clap's one line, naming the flag.
    let reply = request(
        shared(),
        "POST",
        "/api/plan?model=llama-3.1-8b&rate_rps=-1",
        b"",
    );
    let (_, _, err) = cli(&[
        "plan",
        "--model",
        "llama-3.1-8b",
        "--rate-rps=-1",
        "--format",
        "json",
    ]);
    assert_eq!(reply.status, 400);
    let v = reply.json();
    assert_eq!(v["error"], err.trim().strip_prefix("error: ").unwrap());
    assert_eq!(v["field"], "rate-rps");

    // A bad workload: the reader's located message, with its line and field.
    let toml = "name = \"x\"\n[model]\nname = \"llama-3.1-8b\"\n[traffic]\nrate_rps = \"fast\"\n";
    let reply = request(shared(), "POST", "/api/plan", toml.as_bytes());
    assert_eq!(reply.status, 400, "{}", reply.text());
    let v = reply.json();
    assert_eq!(v["line"], 5, "{v}");
    assert_eq!(v["field"], "traffic.rate_rps", "{v}");
    let dir = scratch("bad-workload");
    std::fs::write(dir.join("workload.toml"), toml).unwrap();
    let (_, _, err) = cli(&[
        "plan",
        dir.join("workload.toml").to_str().unwrap(),
        "--format",
        "json",
    ]);
    let cli_message = err
        .trim()
        .strip_prefix("error: ")
        .unwrap()
        .replace(dir.join("workload.toml").to_str().unwrap(), "workload.toml");
    assert_eq!(v["error"], cli_message);
}
