//! No input makes `inferplan` panic, hang or answer nonsense (issue 12).
//!
//! Every command runs in-process through [`inferplan::main_with`] with its output captured, on a
//! thread of its own with a time budget: the regressions below are the cases a sweep of 473
//! bad inputs found, and the property tests drive each entry point with arbitrary flag sets and
//! file bytes. The invariant is always the same: exit code 0, 1 or 2; a one-line `error:` that
//! names what to fix with exit code 2; no panic; no hang; no `NaN` or `inf` in an answer.

use proptest::prelude::*;
use std::sync::mpsc;
use std::time::Duration;

/// What one run gave.
#[derive(Debug)]
struct Run {
    code: u8,
    out: String,
    err: String,
}

/// Runs `inferplan ARGS` in-process from the repository root, failing the test on a panic or
/// when it takes longer than `budget`.
fn run_within(args: &[String], budget: Duration) -> Run {
    let argv: Vec<String> = std::iter::once("inferplan".to_owned())
        .chain(args.iter().cloned())
        .collect();
    let (tx, rx) = mpsc::channel();
    let shown = argv.join(" ");
    std::thread::Builder::new()
        .stack_size(16 << 20)
        .spawn(move || {
            let r = std::panic::catch_unwind(|| {
                inferplan::output::capture(|| inferplan::main_with(argv))
            });
            let _ = tx.send(r);
        })
        .expect("spawn");
    match rx.recv_timeout(budget) {
        Ok(Ok((code, out, err))) => Run { code, out, err },
        Ok(Err(_)) => panic!("`{shown}` panicked"),
        Err(_) => panic!("`{shown}` still running after {budget:?}"),
    }
}

fn run(args: &[&str]) -> Run {
    let args: Vec<String> = args.iter().map(|s| (*s).to_owned()).collect();
    run_within(&args, Duration::from_secs(60))
}

use crate::common::{example, measured, repo_file};

/// A scratch file with `text`, unique per test.
fn scratch(name: &str, text: &str) -> String {
    let dir = std::env::temp_dir().join(format!("inferplan-edges-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path.display().to_string()
}

/// The invariant every run keeps.
fn check_invariant(args: &[String], r: &Run) {
    assert!(r.code <= 2, "{args:?}: exit {}", r.code);
    if r.code == 2 {
        let first = r.err.lines().next().unwrap_or_default();
        assert!(
            first.starts_with("error:") || r.err.contains("Usage:"),
            "{args:?}: exit 2 without an error message: {}",
            r.err
        );
    }
    for word in r.out.split(|c: char| !c.is_ascii_alphanumeric()) {
        assert!(
            !matches!(word, "NaN" | "nan" | "inf" | "Infinity"),
            "{args:?}: `{word}` in the answer:\n{}",
            r.out
        );
    }
}

/// Exit 2 with a one-line error containing `want`.
fn refused(args: &[&str], want: &str) {
    let r = run(args);
    assert_eq!(r.code, 2, "{args:?}: {}{}", r.out, r.err);
    assert_eq!(r.err.trim_end().lines().count(), 1, "{args:?}: {}", r.err);
    assert!(r.err.contains(want), "{args:?}: want `{want}` in {}", r.err);
}

const SIM: [&str; 5] = ["simulate", "--model", "llama-3.1-8b", "--gpu", "H100"];

fn sim(extra: &[&str]) -> Vec<String> {
    SIM.iter().chain(extra).map(|s| (*s).to_owned()).collect()
}

#[test]
fn unbounded_work_is_refused_before_it_starts() {
    for (extra, want) in [
        (
            &["--rate-rps", "5", "--duration", "1e308"][..],
            "--duration",
        ),
        (
            &["--rate-rps", "5", "--requests", "1000000000"],
            "--max-sim-requests",
        ),
        (&["--rate-rps", "1000", "--duration", "2000000"], "ceiling"),
        (&["--rate-rps", "0.0001", "--requests", "1000"], "31 days"),
        (
            &["--rate-rps", "5", "--input-tokens", "1000000000"],
            "--input-tokens",
        ),
        (&["--rate-rps", "5", "--replicas", "10000000"], "--replicas"),
        (
            &["--concurrency", "1000000000", "--requests", "100"],
            "--concurrency",
        ),
    ] {
        let args = sim(extra);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        refused(&args, want);
    }
    refused(
        &[
            "fit",
            "--model",
            "wan2.1-t2v-14b",
            "--instance",
            "g6e.xlarge",
            "--frames",
            "4294967295",
        ],
        "--frames",
    );
    refused(
        &[
            "plan",
            &example("chat-70b-fp8.toml"),
            "--verify",
            "--rate-rps",
            "1e6",
        ],
        "--rate-rps",
    );
}

#[test]
fn a_raised_ceiling_lets_the_work_through() {
    let with_ceiling = |ceiling: &str| {
        let args = sim(&[
            "--rate-rps",
            "5",
            "--requests",
            "200",
            "--max-sim-requests",
            ceiling,
        ]);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        run(&args)
    };
    let r = with_ceiling("100");
    assert_eq!(r.code, 2, "{}", r.err);
    assert!(r.err.contains("ceiling of 100"), "{}", r.err);
    let r = with_ceiling("200");
    assert_eq!(r.code, 0, "{}", r.err);
}

#[test]
fn the_biggest_plan_stays_within_kubernetes_and_finishes() {
    let r = run(&[
        "plan",
        "--model",
        "llama-3.1-8b",
        "--rate-rps",
        "100000",
        "--ttft-ms",
        "2000",
        "--format",
        "json",
        "--top",
        "50",
    ]);
    assert!(r.code <= 1, "{}", r.err);
    let v: serde_json::Value = serde_json::from_str(&r.out).unwrap();
    let candidates = v["candidates"].as_array().unwrap();
    assert!(!candidates.is_empty());
    for c in candidates {
        let replicas = c["replicas"].as_u64().unwrap();
        assert!((1..=10_000).contains(&replicas), "{c}");
    }
    assert!(v["rejected"]["too_many_replicas"].as_u64().unwrap() > 0);
}

#[test]
fn nonsense_values_are_refused_with_the_flag_or_field() {
    for (args, want) in [
        (
            &[
                "plan",
                "--model",
                "llama-3.1-8b",
                "--rate-rps",
                "2",
                "--input-tokens",
                "1000000",
            ][..],
            "context window",
        ),
        (
            &[
                "fit",
                "--model",
                "llama-3.1-8b",
                "--gpu",
                "H100",
                "--tp",
                "0",
            ],
            "--tp",
        ),
        (
            &["plan", "--model", "llama-3.1-8b", "--rate-rps", "-1"],
            "--rate-rps",
        ),
        (
            &[
                "plan",
                "--model",
                "llama-3.1-8b",
                "--rate-rps",
                "2",
                "--burstiness",
                "1e308",
            ],
            "--burstiness",
        ),
        (
            &["plan", &example("chat-70b-fp8.toml"), "--top", "0"],
            "--top",
        ),
        (
            &["plan", "--model", "llama-3.1-8b", "--rate-rps", "NaN"],
            "--rate-rps",
        ),
    ] {
        refused(args, want);
    }
    for (flag, value) in [
        ("--warmup-s", "NaN"),
        ("--cold-start-s", "NaN"),
        ("--ttft-ms", "0"),
        ("--timeout-s", "0"),
        ("--scale-interval-s", "0"),
        ("--seeds", "0"),
        ("--retries", "-1"),
        ("--spot-rate-per-hour", "inf"),
    ] {
        let args = sim(&["--rate-rps", "5", flag, value]);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        refused(&args, flag);
    }
    let metrics = repo_file("crates/deploy/tests/fixtures/rightsize/over_week.csv");
    refused(
        &[
            "rightsize",
            &metrics,
            "--instance",
            "g6e.2xlarge",
            "--current-usd-per-hour",
            "NaN",
        ],
        "--current-usd-per-hour",
    );
}

#[test]
fn nonsense_in_a_workload_file_names_the_field() {
    let base = std::fs::read_to_string(example("chat-70b-fp8.toml")).unwrap();
    for (from, to, want) in [
        ("rate_rps = 5.0", "rate_rps = 1e308", "traffic.rate_rps"),
        (
            "burstiness = 1.5",
            "burstiness = 1e308",
            "traffic.burstiness",
        ),
    ] {
        assert!(base.contains(from), "{from}");
        let path = scratch("w.toml", &base.replacen(from, to, 1));
        refused(&["plan", &path], want);
    }
}

/// Nasty values a flag may get: out of range, not numbers, huge, tiny, negative.
const VALUES: &[&str] = &[
    "-1",
    "0",
    "1",
    "2",
    "3",
    "7",
    "64",
    "0.5",
    "1.5",
    "1e-9",
    "NaN",
    "inf",
    "-inf",
    "1e308",
    "4294967295",
    "18446744073709551616",
    "",
    "abc",
    "1000",
    "100000",
];

/// The flags of each command that take a value, and the arguments that make a valid run.
fn command(kind: usize) -> (Vec<&'static str>, Vec<&'static str>) {
    match kind {
        0 => (
            vec!["fit", "--model", "llama-3.1-8b", "--gpu", "H100"],
            vec![
                "--gpus",
                "--tp",
                "--pp",
                "--context",
                "--concurrency",
                "--gpu-memory-utilization",
                "--safety-margin",
                "--max-num-seqs",
                "--max-num-batched-tokens",
                "--block-size",
                "--precision",
                "--kv-dtype",
            ],
        ),
        1 => (
            vec![
                "estimate",
                "--model",
                "llama-3.1-8b",
                "--instance",
                "g6e.12xlarge",
            ],
            vec![
                "--tp",
                "--pp",
                "--input-tokens",
                "--output-tokens",
                "--concurrency",
                "--rate-rps",
                "--max-num-seqs",
                "--max-num-batched-tokens",
                "--gpu-memory-utilization",
                "--engine",
                "--region",
            ],
        ),
        2 => (
            vec![
                "simulate",
                "--model",
                "llama-3.1-8b",
                "--gpu",
                "H100",
                "--requests",
                "200",
            ],
            vec![
                "--rate-rps",
                "--replicas",
                "--input-tokens",
                "--output-tokens",
                "--warmup-s",
                "--min-replicas",
                "--max-replicas",
                "--scale-interval-s",
                "--cold-start-s",
                "--spot-rate-per-hour",
                "--timeout-s",
                "--retries",
                "--ttft-ms",
                "--seeds",
                "--autoscale",
                "--arrivals",
                "--router",
                "--max-sim-requests",
            ],
        ),
        3 => (
            vec!["plan", "--model", "llama-3.1-8b", "--rate-rps", "2"],
            vec![
                "--peak-rps",
                "--burstiness",
                "--input-tokens",
                "--output-tokens",
                "--ttft-ms",
                "--tpot-ms",
                "--e2e-ms",
                "--percentile",
                "--mode",
                "--deadline-s",
                "--max-gpus-per-replica",
                "--cold-start-budget-s",
                "--top",
                "--precision",
                "--regions",
            ],
        ),
        _ => (
            vec!["fit", "--model", "sdxl", "--instance", "g6.xlarge"],
            vec!["--width", "--height", "--steps", "--batch"],
        ),
    }
}

fn flag_sets() -> impl Strategy<Value = Vec<String>> {
    (0usize..5).prop_flat_map(|kind| {
        let (base, flags) = command(kind);
        let n = flags.len();
        prop::collection::vec((0..n, 0..VALUES.len()), 0..4).prop_map(move |picks| {
            let mut args: Vec<String> = base.iter().map(|s| (*s).to_owned()).collect();
            for (f, v) in picks {
                args.push(flags[f].to_owned());
                args.push(VALUES[v].to_owned());
            }
            args
        })
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, failure_persistence: None, ..ProptestConfig::default() })]

    /// Arbitrary flag sets on fit, estimate (LLM and diffusion), simulate and plan.
    #[test]
    fn any_flags_exit_0_1_or_2_without_panic_hang_or_nan(args in flag_sets()) {
        let r = run_within(&args, Duration::from_secs(30));
        check_invariant(&args, &r);
    }

    /// Arbitrary bytes in each file a command reads: a workload, a plan, metrics, YAML,
    /// measured rows, a model config, a trace.
    #[test]
    fn any_file_bytes_exit_0_1_or_2_without_panic(
        which in 0usize..7,
        bytes in prop::collection::vec(any::<u8>(), 0..400),
        seed_text in 0usize..3,
    ) {
        // Half of the cases start from a valid file and splice the bytes in, so the readers
        // get past the first line.
        let valid = match which {
            0 => std::fs::read_to_string(example("chat-70b-fp8.toml")).unwrap(),
            1 => "{\"candidates\": [], \"workload\": {}}".to_owned(),
            2 => "timestamp,instance,gpu,gpu_util,fb_used_mib,fb_total_mib\n2026-01-01T00:00:00Z,a,0,50,100,1000\n".to_owned(),
            3 => "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: x\n".to_owned(),
            4 => std::fs::read_to_string(measured("llm_throughput.csv"))
                .map(|t| t.lines().take(3).collect::<Vec<_>>().join("\n"))
                .unwrap_or_default(),
            5 => "{\"num_hidden_layers\": 2, \"hidden_size\": 64, \"num_attention_heads\": 4, \"intermediate_size\": 128, \"vocab_size\": 100}".to_owned(),
            _ => "arrival_s,input_tokens,output_tokens\n0,100,10\n1,200,20\n".to_owned(),
        };
        let junk = String::from_utf8_lossy(&bytes).into_owned();
        let text = match seed_text {
            0 => junk,
            1 => format!("{valid}{junk}"),
            _ => {
                let cut = valid.char_indices().map(|(i, _)| i).nth(valid.len() / 2).unwrap_or(0);
                format!("{}{junk}{}", &valid[..cut], &valid[cut..])
            }
        };
        let ext = ["toml", "json", "csv", "yaml", "csv", "json", "csv"][which];
        let file = scratch(&format!("fuzz-{which}.{ext}"), &text);
        let out = std::env::temp_dir().join(format!("inferplan-edges-out-{}", std::process::id()));
        let args: Vec<String> = match which {
            0 => vec!["plan".into(), file],
            1 => vec!["render".into(), "--plan".into(), file, "--out".into(), out.display().to_string()],
            2 => vec!["rightsize".into(), file, "--gpu".into(), "L40S".into()],
            3 => vec!["lint".into(), file],
            4 => vec!["validate".into(), file],
            5 => vec!["fit".into(), "--model-config".into(), file, "--gpu".into(), "H100".into()],
            _ => vec![
                "simulate".into(), "--model".into(), "llama-3.1-8b".into(), "--gpu".into(),
                "H100".into(), "--trace".into(), file,
            ],
        };
        let r = run_within(&args, Duration::from_secs(30));
        check_invariant(&args, &r);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, failure_persistence: None, ..ProptestConfig::default() })]

    /// `lint` of a real multi-document file (a custom-resource fixture joined with another)
    /// damaged at a random place, next to a good file: never a panic; the good file's findings
    /// are printed whatever happens to the damaged one, which is an error line (exit 2) when it
    /// no longer parses.
    #[test]
    fn lint_of_a_damaged_multi_document_file_beside_a_good_one(
        which in 0usize..4,
        cut in 0usize..3000,
        len in 0usize..30,
        insert in "[ :\\-\\n\\[{&*|>\"]{0,4}",
    ) {
        let fixtures = repo_file("crates/deploy/tests/fixtures/lint/");
        let names = [
            "cr-ray-service.yaml",
            "cr-kserve-inferenceservice.yaml",
            "cr-lws-triton-trtllm.yaml",
            "gpu-document-not-linted.yaml",
        ];
        let read = |n: &str| std::fs::read_to_string(format!("{fixtures}{n}")).unwrap();
        let stream = format!("{}\n---\n{}", read(names[which]), read("cr-llminferenceservice.yaml"));
        let mut chars: Vec<char> = stream.chars().collect();
        let at = cut.min(chars.len());
        let end = (at + len).min(chars.len());
        chars.splice(at..end, insert.chars());
        let damaged: String = chars.into_iter().collect();
        let file = scratch(&format!("damaged-{which}.yaml"), &damaged);
        let good = format!("{fixtures}missing-dev-shm.yaml");
        let args = vec!["lint".to_owned(), file, good];
        let r = run_within(&args, Duration::from_secs(30));
        check_invariant(&args, &r);
        prop_assert!(r.out.contains("IL103 missing-dev-shm"), "{}{}", r.out, r.err);
    }
}

#[test]
fn a_search_beyond_its_ceiling_is_refused() {
    // 10,000 one-GPU instance types × 5 precisions × 5 engines = 250,000 configurations.
    let dir = std::env::temp_dir().join(format!("inferplan-edges-cat-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut csv = "instance_type,cloud,gpu_name,gpus_csv_name,gpu_count,vcpus,ram_gib,gpu_interconnect,notes\n".to_owned();
    for i in 0..10_000 {
        csv += &format!("x{i},onprem,NVIDIA H100,H100,1,16,128,PCIe,generated\n");
    }
    std::fs::write(dir.join("instances.csv"), csv).unwrap();
    let dir = dir.display().to_string();
    refused(
        &[
            "--catalog-dir",
            &dir,
            "plan",
            "--model",
            "llama-3.1-8b",
            "--rate-rps",
            "2",
            "--precision",
            "any",
            "--engine",
            "vllm,sglang,trtllm,tgi,lmdeploy",
        ],
        "ceiling of 200000",
    );
}

#[test]
fn an_unknown_region_is_an_error_with_suggestions() {
    refused(
        &[
            "estimate",
            "--model",
            "llama-3.1-8b",
            "--instance",
            "g6e.12xlarge",
            "--region",
            "us-east1",
        ],
        "did you mean one of: `us-east-1`",
    );
    refused(
        &[
            "plan",
            "--model",
            "llama-3.1-8b",
            "--rate-rps",
            "1",
            "--regions",
            "eu-west-9",
        ],
        "unknown region `eu-west-9`",
    );
}
