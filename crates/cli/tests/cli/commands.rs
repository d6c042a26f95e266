//! End-to-end tests of the `inferplan` binary: outputs, JSON contract, exit codes and errors.

use crate::common::{example, inferplan, measured, repo_file, stderr, stdout};
use std::process::{Command, Output};

fn json(args: &[&str]) -> (i32, serde_json::Value) {
    let o = inferplan(args);
    let v = serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}{}", stdout(&o), stderr(&o)));
    (o.status.code().unwrap(), v)
}

#[test]
fn fit_prints_a_table() {
    let o = inferplan(&[
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
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = stdout(&o);
    for want in [
        "Llama 3.3 70B",
        "weights",
        "KV cache",
        "required",
        "available",
        "FITS on 4 GPUs",
        "vLLM view",
    ] {
        assert!(out.contains(want), "missing {want}: {out}");
    }
}

#[test]
fn fit_json_contract_and_exit_codes() {
    let (code, v) = json(&[
        "fit",
        "--model",
        "llama-3.3-70b",
        "--precision",
        "fp8",
        "--instance",
        "g6e.xlarge",
        "--format",
        "json",
    ]);
    assert_eq!(code, 1);
    assert_eq!(v["fits"], false);
    for f in [
        "fits",
        "weights_gib",
        "required_gib_per_gpu",
        "available_gib_per_gpu",
        "max_concurrency",
        "max_context",
        "tp",
        "gpus",
        "warnings",
        "engine_kv_cache_gib_per_gpu",
        "engine_max_concurrency",
    ] {
        assert!(v.get(f).is_some(), "missing {f}");
    }
    let (code, v) = json(&[
        "fit",
        "--model",
        "meta-llama/Llama-3.1-8B-Instruct",
        "--instance",
        "g5.xlarge",
        "--context",
        "4096",
        "--format",
        "json",
    ]);
    assert_eq!(code, 0);
    assert_eq!(v["fits"], true);
    assert_eq!(v["tp"], 1);
    assert_eq!(v["kv_dtype"], "bf16");
    let (_, v) = json(&[
        "fit",
        "--model",
        "llama-3.3-70b",
        "--precision",
        "fp8",
        "--gpu",
        "h100",
        "--gpus",
        "2",
        "--format",
        "json",
    ]);
    assert_eq!(
        v["kv_dtype"], "fp8",
        "fp8 weights on a native-FP8 GPU default to an fp8 KV cache"
    );
    assert_eq!(v["gpus"], 2);
}

#[test]
fn fit_refusals_and_bad_input_exit_2_with_one_line() {
    let cases: [(&[&str], &str); 7] = [
        (
            &["fit", "--model", "llama-3.3-7b", "--gpu", "h100"],
            "did you mean",
        ),
        (
            &[
                "fit",
                "--model",
                "llama-3.1-8b",
                "--gpu",
                "h100",
                "--gpus",
                "2",
                "--tp",
                "4",
            ],
            "--tp",
        ),
        (
            &[
                "fit",
                "--model",
                "llama-3.1-8b",
                "--gpu",
                "h100",
                "--context",
                "9999999",
            ],
            "--context",
        ),
        (
            &[
                "fit",
                "--model",
                "llama-3.1-8b",
                "--gpu",
                "T4",
                "--precision",
                "fp8",
            ],
            "--precision",
        ),
        (
            &[
                "fit",
                "--model",
                "llama-3.1-8b",
                "--gpu",
                "h100",
                "--precision",
                "fp5",
            ],
            "unknown precision",
        ),
        (
            &[
                "fit",
                "--model",
                "llama-3.1-8b",
                "--gpu",
                "h100",
                "--gpus",
                "0",
            ],
            "--gpus",
        ),
        (
            &[
                "fit",
                "--model",
                "llama-3.1-8b",
                "--instance",
                "nosuch.xlarge",
            ],
            "unknown instance",
        ),
    ];
    for (args, want) in cases {
        let o = inferplan(args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stdout(&o));
        let err = stderr(&o);
        assert_eq!(err.trim_end().lines().count(), 1, "{args:?}: {err}");
        assert!(err.contains(want), "{args:?}: {err}");
    }
    // clap usage errors also exit 2.
    assert_eq!(inferplan(&["fit", "--gpu", "h100"]).status.code(), Some(2));
}

#[test]
fn garbage_config_and_catalog_files_exit_2() {
    let dir = std::env::temp_dir().join(format!("inferplan-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let cfg = dir.join("config.json");
    for garbage in [
        "",
        "{",
        "\u{0}\u{1}binary",
        r#"{"num_hidden_layers": -3}"#,
        r#"{"hidden_size": 1e400}"#,
    ] {
        std::fs::write(&cfg, garbage).unwrap();
        let o = inferplan(&[
            "fit",
            "--model-config",
            cfg.to_str().unwrap(),
            "--gpu",
            "h100",
        ]);
        assert_eq!(o.status.code(), Some(2), "{garbage:?}");
        assert!(
            stderr(&o).contains("config.json"),
            "{garbage:?}: {}",
            stderr(&o)
        );
    }
    let cat = dir.join("cat");
    std::fs::create_dir_all(&cat).unwrap();
    std::fs::write(cat.join("gpus.csv"), "name,mem_bandwidth_gbs\nX,-5\n").unwrap();
    let o = inferplan(&["--catalog-dir", cat.to_str().unwrap(), "catalog", "gpus"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("gpus.csv:2: field `mem_bandwidth_gbs`"),
        "{}",
        stderr(&o)
    );
    let o = inferplan(&["validate", cfg.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn model_config_fits_like_the_catalog_row() {
    let dir = std::env::temp_dir().join(format!("inferplan-cli-cfg-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let cfg = dir.join("config.json");
    std::fs::write(
        &cfg,
        r#"{"_name_or_path":"meta-llama/Llama-3.1-8B","model_type":"llama","num_hidden_layers":32,"hidden_size":4096,
            "intermediate_size":14336,"num_attention_heads":32,"num_key_value_heads":8,"vocab_size":128256,
            "max_position_embeddings":131072,"tie_word_embeddings":false}"#,
    )
    .unwrap();
    let (_, a) = json(&[
        "fit",
        "--model-config",
        cfg.to_str().unwrap(),
        "--gpu",
        "L40S",
        "--format",
        "json",
    ]);
    let (_, b) = json(&[
        "fit",
        "--model",
        "llama-3.1-8b",
        "--gpu",
        "L40S",
        "--format",
        "json",
    ]);
    assert_eq!(a["weights_gib"], b["weights_gib"]);
    assert_eq!(a["max_concurrency"], b["max_concurrency"]);
}

#[test]
fn catalog_listings_and_show() {
    for (args, want) in [
        (&["catalog", "gpus"][..], "L40S"),
        (&["catalog", "instances"][..], "g6e.12xlarge"),
        (
            &["catalog", "instances", "--region", "eu-west-1"][..],
            "eu-west-1",
        ),
        (&["catalog", "models"][..], "DeepSeek-V3"),
        (&["catalog", "show", "p5.48xlarge"][..], "55.04"),
        (
            &["catalog", "show", "llama-3.3-70b"][..],
            "meta-llama/Llama-3.3-70B-Instruct",
        ),
        (&["catalog", "show", "a10g"][..], "baseten"),
    ] {
        let o = inferplan(args);
        assert_eq!(o.status.code(), Some(0), "{args:?}: {}", stderr(&o));
        assert!(stdout(&o).contains(want), "{args:?}");
    }
    let (_, v) = json(&["catalog", "models", "--format", "json"]);
    let first = &v[0];
    assert!(first["params_b"].as_f64().unwrap() > 1.0 && first.get("source").is_some());
    let o = inferplan(&["catalog", "show", "l40"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("L40S"), "{}", stderr(&o));
}

#[test]
fn validate_reads_the_measured_memory_rows() {
    let path: &str = &measured("vllm_memory.csv");
    let (code, v) = json(&["validate", path, "--format", "json"]);
    assert_eq!(code, 0);
    let m = &v["memory"][0]["memory"];
    assert!(m["rows_evaluated"].as_u64().unwrap() >= 45);
    assert!(
        m["by_component"]["weights_gib"]["median_ape"]
            .as_f64()
            .unwrap()
            < 2.0
    );
}

#[test]
fn estimate_answers_with_latency_throughput_and_cost() {
    let (code, v) = json(&[
        "estimate",
        "--model",
        "llama-3.3-70b",
        "--precision",
        "fp8",
        "--instance",
        "g6e.12xlarge",
        "--input-tokens",
        "1000",
        "--output-tokens",
        "200",
        "--concurrency",
        "16",
        "--format",
        "json",
    ]);
    assert_eq!(code, 0, "{v}");
    for field in [
        "ttft_ms",
        "tpot_ms",
        "e2e_ms",
        "output_tok_s",
        "total_tok_s",
        "requests_s",
        "usd_per_million_output_tokens",
    ] {
        assert!(v[field].as_f64().unwrap() > 0.0, "{field}: {v}");
    }
    assert!(v["decode_bound"].is_string() && v["prefill_bound"].is_string());
    assert_eq!(v["tp"], 4);
    let e2e = v["ttft_ms"].as_f64().unwrap() + 199.0 * v["tpot_ms"].as_f64().unwrap();
    assert!((v["e2e_ms"].as_f64().unwrap() - e2e).abs() < 1e-6);
    // Saturated throughput is at least the closed-loop one.
    let (_, sat) = json(&[
        "estimate",
        "--model",
        "llama-3.3-70b",
        "--precision",
        "fp8",
        "--instance",
        "g6e.12xlarge",
        "--saturate",
        "--format",
        "json",
    ]);
    assert!(sat["output_tok_s"].as_f64().unwrap() >= v["output_tok_s"].as_f64().unwrap());
    let o = inferplan(&[
        "estimate",
        "--model",
        "llama-3.1-8b",
        "--gpu",
        "H100",
        "--concurrency",
        "4",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stdout(&o).contains("TTFT") && stdout(&o).contains("give --instance"));
}

#[test]
fn estimate_answers_for_every_accelerator_family() {
    let catalog = inferplan_catalog::Catalog::embedded().expect("embedded catalog");
    let mut families = std::collections::BTreeSet::new();
    for inst in catalog.instances() {
        // One instance per family whose accelerator is in gpus.csv (inf1, dl1, dl2q, g4ad
        // carry none) and that holds a whole one (not a g6f fraction).
        if catalog.instance_gpu(inst).is_none()
            || inst.gpu_count < 1.0
            || !families.insert(inst.family.clone())
        {
            continue;
        }
        let (code, v) = json(&[
            "estimate",
            "--model",
            "llama-3.2-1b",
            "--instance",
            &inst.name,
            "--input-tokens",
            "512",
            "--output-tokens",
            "128",
            "--format",
            "json",
        ]);
        assert_eq!(code, 0, "{}: {v}", inst.name);
        for field in ["ttft_ms", "tpot_ms", "output_tok_s"] {
            let x = v[field].as_f64().unwrap_or(f64::NAN);
            assert!(x.is_finite() && x > 0.0, "{} {field}: {v}", inst.name);
        }
    }
    for fam in [
        "g4dn", "g5", "g6", "g7", "p4d", "p5", "inf2", "trn1", "trn2",
    ] {
        assert!(families.contains(fam), "{fam} not estimated: {families:?}");
    }
}

#[test]
fn an_empty_plan_says_why_in_json_too() {
    let args = [
        "plan",
        "--model",
        "llama-3.1-8b",
        "--rate-rps",
        "10",
        "--ttft-ms",
        "800",
        "--tpot-ms",
        "50",
        "--regions",
        "ap-east-1",
    ];
    let (code, v) = json(&[&args[..], &["--format", "json"]].concat());
    assert_eq!(code, 1, "{v}");
    assert!(v["candidates"].as_array().unwrap().is_empty());
    let why = &v["why_nothing"];
    let causes = why["causes"].as_array().expect("causes");
    assert_eq!(
        causes[0]["cause"], "no price in the allowed regions",
        "{why}"
    );
    let total: u64 = causes.iter().map(|c| c["count"].as_u64().unwrap()).sum();
    let rejected: u64 = v["rejected"]
        .as_object()
        .unwrap()
        .values()
        .map(|n| n.as_u64().unwrap())
        .sum();
    assert_eq!(total, rejected, "every rejection has a cause: {why}");
    // The same change the text output names, checked by planning again.
    let text = stdout(&inferplan(&args));
    let change = why["change"]["change"].as_str().expect("a change");
    assert!(text.contains(change), "{change} not in:\n{text}");
    assert!(why["change"]["usd_per_hour"].as_f64().unwrap() > 0.0);
    // A plan with candidates has no `why_nothing`.
    let (code, v) = json(&[
        "plan",
        "--model",
        "llama-3.1-8b",
        "--rate-rps",
        "1",
        "--format",
        "json",
    ]);
    assert_eq!(code, 0);
    assert!(v.get("why_nothing").is_none(), "{v}");
}

#[test]
fn estimate_rejects_bad_input_with_exit_code_2() {
    for (args, want) in [
        (
            &[
                "estimate",
                "--model",
                "llama-3.1-8b",
                "--gpu",
                "H100",
                "--engine",
                "warp",
            ][..],
            "engine",
        ),
        (
            &["estimate", "--model", "llama-3.1-405b", "--gpu", "L4"][..],
            "KV cache",
        ),
        (
            &[
                "estimate",
                "--model",
                "llama-3.1-8b",
                "--gpu",
                "H100",
                "--rate-rps=0",
            ][..],
            "rate",
        ),
    ] {
        let o = inferplan(args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stdout(&o));
        let e = stderr(&o);
        assert!(e.contains(want) && e.lines().count() == 1, "{args:?}: {e}");
    }
    // A10G (g5) and RTX PRO 4500 (g7) have derived tensor figures now: they answer.
    for gpu in ["A10G", "RTX PRO 4500 Blackwell Server Edition"] {
        let o = inferplan(&["estimate", "--model", "llama-3.1-8b", "--gpu", gpu]);
        assert_eq!(o.status.code(), Some(0), "{gpu}: {}", stderr(&o));
    }
}

#[test]
fn validate_scores_the_measured_performance_rows() {
    let a = measured("llm_throughput.csv");
    let b = measured("aic_silicon_sample.csv");
    if !std::path::Path::new(&a).exists() {
        return;
    }
    let (code, v) = json(&["validate", &a, &b, "--format", "json", "--worst", "3"]);
    assert_eq!(code, 0);
    assert!(v["rows_evaluated"].as_u64().unwrap() > 7000);
    assert!(v["rows_total"].as_u64().unwrap() >= v["rows_evaluated"].as_u64().unwrap());
    assert!(v["skipped"]["disaggregated_serving"].as_u64().unwrap() > 0);
    for family in ["throughput", "ttft", "tpot"] {
        let m = &v["by_metric"][family];
        assert!(
            m["n"].as_u64().unwrap() > 100 && m["median_ape"].as_f64().is_some(),
            "{family}"
        );
    }
    assert!(v["by_gpu"].as_object().unwrap().len() > 3);
    assert!(v["by_source"]["trtllm-v0.14"]["n"].as_u64().is_some());
    assert_eq!(v["worst"].as_array().unwrap().len(), 3);
    let o = inferplan(&["validate", "Cargo.toml"]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn calibrate_writes_a_parameter_file_that_estimate_reads() {
    let path: &str = &measured("llm_throughput.csv");
    if !std::path::Path::new(path).exists() {
        return;
    }
    let out = std::env::temp_dir().join(format!("inferplan-eff-{}.csv", std::process::id()));
    let out_s = out.display().to_string();
    let rows = std::env::temp_dir().join(format!("inferplan-pred-{}.csv", std::process::id()));
    let o = inferplan(&[
        "calibrate",
        path,
        "--no-cv",
        "--output",
        &out_s,
        "--predictions",
        rows.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stdout(&o).contains("in-sample"));
    // One line per scored value: its in-sample prediction, no cross-validated one (--no-cv).
    let predictions = std::fs::read_to_string(&rows).unwrap();
    let _ = std::fs::remove_file(&rows);
    let fitted: usize = stdout(&o)
        .lines()
        .find(|l| l.contains("measured values fitted"))
        .and_then(|l| l.split_whitespace().next()?.parse().ok())
        .unwrap();
    let mut lines = predictions.lines();
    assert!(lines
        .next()
        .unwrap()
        .ends_with(",measured,in_sample,cross_validated,cv_key,cv_by_key"));
    let body: Vec<&str> = lines.collect();
    assert_eq!(body.len(), fitted);
    assert!(
        body.iter()
            .all(|l| l.ends_with(",,,")
                && l.rsplit(',').nth(3).unwrap().parse::<f64>().unwrap() > 0.0)
    );
    let text = std::fs::read_to_string(&out).unwrap();
    assert!(text.starts_with("arch,engine,precision,") && text.contains("*,*,*"));
    let (code, v) = json(&[
        "estimate",
        "--model",
        "llama-3.1-8b",
        "--gpu",
        "H100",
        "--params",
        &out_s,
        "--format",
        "json",
    ]);
    assert_eq!(code, 0);
    assert!(v["tpot_ms"].as_f64().unwrap() > 0.0);
    let _ = std::fs::remove_file(out);
}

#[test]
fn plan_answers_with_ranked_candidates_json_and_an_adr() {
    let (code, v) = json(&["plan", &example("chat-70b-fp8.toml"), "--format", "json"]);
    assert_eq!(code, 0, "{v}");
    let c = &v["candidates"][0];
    for field in [
        "instance",
        "region",
        "replicas",
        "gpus_per_replica",
        "tp",
        "pp",
        "precision",
        "engine",
        "usd_per_hour",
        "usd_per_million_output_tokens",
        "ttft_p99_ms",
        "tpot_p99_ms",
        "max_rps_per_replica",
        "utilization",
        "purchase_mix",
        "findings",
    ] {
        assert!(!c[field].is_null(), "{field}: {c}");
    }
    assert!(c["findings"][0]["name"].is_string() && c["findings"][0]["severity"].is_string());
    assert!(v["rejected"]
        .as_object()
        .unwrap()
        .values()
        .all(|n| n.as_u64().unwrap() > 0));
    let o = inferplan(&[
        "plan",
        &example("single-gpu-13b-fp8.toml"),
        "--format",
        "md",
    ]);
    assert_eq!(o.status.code(), Some(0));
    let md = stdout(&o);
    for section in [
        "## Context and forces",
        "## Options considered",
        "## Decision",
        "## Consequences and risks",
        "## Numbers that matter",
    ] {
        assert!(md.contains(section), "{section}");
    }
    let o = inferplan(&["plan", &example("fraud-scoring-small.toml"), "--explain"]);
    assert_eq!(o.status.code(), Some(0));
    assert!(
        stdout(&o).contains("purchase mix of #1") && stdout(&o).contains("rejected configurations")
    );
}

/// Many models: the JSON gains `multi_model` with the five patterns, the table and the decision
/// record a "many models" part; one model's JSON has no such key.
#[test]
fn plan_prices_many_models_five_ways() {
    let (code, v) = json(&["plan", &example("many-models.toml"), "--format", "json"]);
    assert_eq!(code, 0, "{v}");
    let m = &v["multi_model"];
    let patterns: Vec<&str> = m["patterns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["pattern"].as_str().unwrap())
        .collect();
    assert_eq!(
        patterns,
        [
            "dedicated",
            "shared_pool",
            "multi_lora",
            "mig_slices",
            "fractional_gpus"
        ]
    );
    for p in m["patterns"].as_array().unwrap() {
        assert!(p["usd_per_hour"].as_f64().unwrap() > 0.0, "{p}");
        assert!(!p["reason"].as_str().unwrap().is_empty());
    }
    assert_eq!(m["cheapest"], "multi_lora");
    let (_, one) = json(&["plan", &example("chat-70b-fp8.toml"), "--format", "json"]);
    assert!(one.get("multi_model").is_none());

    let o = inferplan(&["plan", &example("many-models.toml")]);
    assert_eq!(o.status.code(), Some(0));
    assert!(stdout(&o).contains("many models: the table above serves one of the models"));
    let o = inferplan(&["plan", &example("many-models.toml"), "--format", "md"]);
    assert!(stdout(&o).contains("## Many models"));
}

#[test]
fn plan_from_flags_and_exit_codes() {
    let o = inferplan(&[
        "plan",
        "--model",
        "llama-3.1-8b",
        "--rate-rps",
        "4",
        "--ttft-ms",
        "400",
        "--tpot-ms",
        "50",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stdout(&o).contains("Llama 3.1 8B"));
    // Flags override the file; an impossible SLO answers "no" with the nearest misses.
    let o = inferplan(&["plan", &example("chat-70b-fp8.toml"), "--ttft-ms", "5"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stdout(&o).contains("Nearest misses"), "{}", stdout(&o));
    for (args, want) in [
        (&["plan"][..], "--model"),
        (
            &["plan", "--model", "llama-3.1-8b", "--rate-rps", "0"][..],
            "--rate-rps",
        ),
        (
            &[
                "plan",
                "--model",
                "llama-3.1-8b",
                "--rate-rps",
                "1",
                "--tenancy",
                "private",
            ][..],
            "--tenancy",
        ),
    ] {
        let o = inferplan(args);
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        assert!(stderr(&o).contains(want), "{args:?}: {}", stderr(&o));
    }
}

#[test]
fn readme_first_command_plans_the_chat_example() {
    let o = inferplan(&["plan", &example("chat-70b-fp8.toml")]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = stdout(&o);
    for want in [
        "Llama 3.3 70B",
        "TTFT p99 ≤ 500 ms",
        "purchase mix of #1",
        "findings for #1",
    ] {
        assert!(out.contains(want), "missing {want}: {out}");
    }
}

#[test]
fn simulate_reports_latency_percentiles_deterministically() {
    let args = [
        "simulate",
        "--model",
        "llama-3.1-8b",
        "--instance",
        "p5.4xlarge",
        "--rate-rps",
        "10",
        "--requests",
        "2000",
        "--input-tokens",
        "lognormal:mean=800,p99=4000",
        "--output-tokens",
        "200",
        "--ttft-ms",
        "500",
        "--format",
        "json",
    ];
    let (code, v) = json(&args);
    assert_eq!(code, 0, "{v}");
    for field in [
        "requests_completed",
        "requests_failed",
        "output_tok_s",
        "goodput_rps",
        "preemptions",
        "retries",
        "cost_usd",
        "simulated_s",
    ] {
        assert!(v[field].is_number(), "{field}: {v}");
    }
    for m in ["ttft_ms", "tpot_ms", "e2e_ms"] {
        for p in ["p50", "p90", "p99"] {
            assert!(v[m][p].as_f64().unwrap() > 0.0, "{m}.{p}");
        }
    }
    assert!(v["slo_attainment"]["ttft"].as_f64().is_some());
    assert!(v["slo_attainment"]["tpot"].is_null());
    assert_eq!(v["scale_events"], 0);
    assert!(v["flapping"].is_null());
    assert_eq!(v["requests_completed"], 2000);
    // Byte-identical output for the same seed.
    assert_eq!(stdout(&inferplan(&args)), stdout(&inferplan(&args)));
    let o = inferplan(&[
        "simulate",
        "--model",
        "llama-3.1-8b",
        "--gpu",
        "H100",
        "--rate-rps",
        "5",
        "--input-tokens",
        "lognormal:mean=800",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("--input-tokens") && stderr(&o).contains("p99"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn simulate_replays_a_trace_and_plots() {
    let dir = std::env::temp_dir().join(format!("inferplan-sim-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let trace = dir.join("t.csv");
    let mut text = String::from("TIMESTAMP,ContextTokens,GeneratedTokens\n");
    for i in 0..300 {
        text += &format!(
            "2023-11-16 18:{:02}:{:02}.{:07},{},{}\n",
            10 + i / 60,
            i % 60,
            i * 37 % 10_000_000,
            200 + i % 700,
            20 + i % 150
        );
    }
    std::fs::write(&trace, text).unwrap();
    let svg = dir.join("p.svg");
    let o = inferplan(&[
        "simulate",
        "--model",
        "llama-3.1-8b",
        "--gpu",
        "L4",
        "--trace",
        trace.to_str().unwrap(),
        "--time-scale",
        "2",
        "--plot",
        svg.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stdout(&o).contains("300 requests"), "{}", stdout(&o));
    assert!(std::fs::read_to_string(&svg).unwrap().starts_with("<svg"));
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn plan_verify_simulates_the_top_options() {
    let (code, v) = json(&[
        "plan",
        &example("single-gpu-13b-fp8.toml"),
        "--verify",
        "--top",
        "2",
        "--format",
        "json",
    ]);
    assert_eq!(code, 0);
    let verified = v["verified"].as_array().unwrap();
    assert_eq!(verified.len(), 2);
    assert!(verified
        .iter()
        .all(|x| x["slo_attainment"].as_f64().unwrap() <= 1.0));
}

#[test]
fn simulate_sweeps_seeds_and_follows_a_daily_profile() {
    let o = inferplan(&[
        "simulate",
        "--model",
        "llama-3.1-8b",
        "--gpu",
        "H100",
        "--rate-rps",
        "10",
        "--requests",
        "500",
        "--seeds",
        "3",
        "--format",
        "csv",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = stdout(&o);
    assert_eq!(out.lines().count(), 4, "{out}");
    assert!(out.starts_with("seed,requests_total"));
    // No progress bar when standard error is not a terminal.
    assert!(o.stderr.is_empty(), "{}", stderr(&o));
    // --plot with --seeds wrote nothing and said nothing: one line per seed in each panel.
    let svg = std::env::temp_dir().join(format!("inferplan-seeds-{}.svg", std::process::id()));
    let o = inferplan(&[
        "simulate",
        "--model",
        "llama-3.1-8b",
        "--gpu",
        "H100",
        "--rate-rps",
        "10",
        "--requests",
        "500",
        "--seed",
        "7",
        "--seeds",
        "3",
        "--format",
        "csv",
        "--plot",
        svg.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(stdout(&o).lines().count(), 4, "{}", stdout(&o));
    let chart = std::fs::read_to_string(&svg).unwrap_or_default();
    let _ = std::fs::remove_file(&svg);
    assert!(chart.starts_with("<svg"), "{chart}");
    assert_eq!(chart.matches("<polyline").count(), 6, "{chart}");
    for seed in ["seed 7", "seed 8", "seed 9"] {
        assert_eq!(chart.matches(&format!(">{seed}<")).count(), 2, "{seed}");
    }
    let hourly = (0..24)
        .map(|h| if h < 3 { "1" } else { "3" })
        .collect::<Vec<_>>()
        .join("/");
    let o = inferplan(&[
        "simulate",
        "--model",
        "llama-3.1-8b",
        "--gpu",
        "H100",
        "--arrivals",
        &format!("profile:hourly={hourly}"),
        "--duration",
        "14400",
        "--format",
        "json",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    // 3 h at 1/s, then 1 h at 3/s.
    let n = v["requests_total"].as_f64().unwrap();
    assert!((n / 21_600.0 - 1.0).abs() < 0.03, "{n}");
}

#[test]
fn render_writes_manifests_that_lint_clean() {
    let dir = std::env::temp_dir().join(format!("inferplan-render-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let o = inferplan(&[
        "render",
        &example("single-gpu-13b-fp8.toml"),
        "--out",
        dir.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    for f in [
        "deployment.yaml",
        "service.yaml",
        "pdb.yaml",
        "nodepool.yaml",
        "prometheus-rules.yaml",
    ] {
        assert!(dir.join(f).exists(), "{f}");
    }
    let o = inferplan(&["lint", dir.to_str().unwrap(), "--format", "json"]);
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert!(
        v.as_array()
            .unwrap()
            .iter()
            .all(|f| f["severity"] != "error"),
        "{v}"
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn lint_reports_findings_with_exit_codes() {
    let fixtures: &str = &repo_file("crates/deploy/tests/fixtures/lint/");
    let o = inferplan(&["lint", &format!("{fixtures}kv-cache-cannot-fit.yaml")]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stdout(&o).contains("IL109 kv-cache-cannot-fit"),
        "{}",
        stdout(&o)
    );
    let (code, v) = json(&[
        "lint",
        &format!("{fixtures}clean-vllm.yaml"),
        "--format",
        "json",
    ]);
    assert_eq!(code, 0);
    assert!(v.as_array().unwrap().is_empty(), "{v}");
    let (_, s) = json(&[
        "lint",
        &format!("{fixtures}missing-dev-shm.yaml"),
        "--format",
        "sarif",
    ]);
    assert_eq!(s["version"], "2.1.0");
    let o = inferplan(&["lint", &format!("{fixtures}malformed.yaml")]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("malformed.yaml:"), "{}", stderr(&o));
    // One malformed file and one missing path among good ones: the good files' findings are
    // printed, each bad one is an error line, and the exit code is 2.
    let o = inferplan(&[
        "lint",
        &format!("{fixtures}malformed.yaml"),
        &format!("{fixtures}missing-dev-shm.yaml"),
        &format!("{fixtures}no-such-file.yaml"),
        &format!("{fixtures}mutable-image-tag.yaml"),
    ]);
    assert_eq!(o.status.code(), Some(2));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("IL103 missing-dev-shm"), "{out}");
    assert!(out.contains("IL114 mutable-image-tag"), "{out}");
    let err = stderr(&o);
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 2, "{err}");
    assert!(lines.iter().all(|l| l.starts_with("error: ")), "{err}");
    assert!(err.contains("no-such-file.yaml"), "{err}");
    assert!(
        err.contains("malformed.yaml:") && err.contains("(2 of 4 files linted)"),
        "{err}"
    );
}

#[test]
fn rightsize_gives_verdicts_and_a_suggestion() {
    let fixtures: &str = &repo_file("crates/deploy/tests/fixtures/rightsize/");
    let (code, v) = json(&[
        "rightsize",
        &format!("{fixtures}over_week.csv"),
        "--instance",
        "g6e.2xlarge",
        "--workload",
        &example("single-gpu-13b-fp8.toml"),
        "--current-usd-per-hour",
        "4.48",
        "--format",
        "json",
    ]);
    assert_eq!(code, 1, "{v}");
    assert!(v["avg_util_pct"].as_f64().unwrap() < 40.0);
    assert!(
        v["verdicts"]
            .as_array()
            .unwrap()
            .iter()
            .any(|x| x["code"] == "over_provisioned"),
        "{v}"
    );
    assert_eq!(v["suggestion"]["action"], "cheaper");
    let o = inferplan(&["rightsize", &format!("{fixtures}bad_util.csv")]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("bad_util.csv"), "{}", stderr(&o));
}

#[test]
fn fit_and_estimate_a_video_job() {
    let (code, v) = json(&[
        "fit",
        "--model",
        "wan2.1-t2v-14b",
        "--instance",
        "g6e.xlarge",
        "--format",
        "json",
    ]);
    assert_eq!(code, 0);
    assert_eq!(v["offload"], "model", "{v}");
    assert_eq!(v["job"]["frames"], 81);
    assert_eq!(v["by_offload"].as_array().unwrap().len(), 3);
    // A 16 GB GPU cannot hold it even streaming the denoiser: exit 1.
    let (code, v) = json(&[
        "fit",
        "--model",
        "wan2.1-t2v-14b",
        "--gpu",
        "T4",
        "--format",
        "json",
    ]);
    assert_eq!((code, v["fits"].as_bool()), (1, Some(false)));
    let (code, v) = json(&[
        "estimate",
        "--model",
        "Wan2.1-I2V-14B-720P",
        "--instance",
        "p5.4xlarge",
        "--seconds",
        "5",
        "--steps",
        "4",
        "--no-cfg",
        "--format",
        "json",
    ]);
    assert_eq!(code, 0);
    for key in [
        "seconds_per_job",
        "outputs_per_hour_per_gpu",
        "usd_per_output",
        "usd_per_video_second",
        "step_s",
        "vae_s",
    ] {
        assert!(v[key].as_f64().is_some_and(|x| x > 0.0), "{key}: {v}");
    }
    assert_eq!(v["video_seconds_per_clip"], 5.0);
    let per_clip = v["usd_per_output"].as_f64().unwrap();
    let per_s = v["usd_per_video_second"].as_f64().unwrap();
    assert!((per_clip / per_s - 5.0).abs() < 1e-9);
    let o = inferplan(&["estimate", "--model", "sdxl", "--instance", "g6.xlarge"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    for want in ["seconds per job", "images per hour", "$ per image"] {
        assert!(stdout(&o).contains(want), "{want}: {}", stdout(&o));
    }
}

#[test]
fn diffusion_flags_are_checked() {
    let chat = example("chat-70b-fp8.toml");
    for (args, want) in [
        (
            vec![
                "fit",
                "--model",
                "llama-3.1-8b",
                "--gpu",
                "L4",
                "--width",
                "512",
            ],
            "--width: only for diffusion models",
        ),
        (
            vec![
                "estimate",
                "--model",
                "sdxl",
                "--gpu",
                "L4",
                "--seconds",
                "2",
            ],
            "--seconds:",
        ),
        (
            vec!["fit", "--model", "sdxl", "--gpu", "L4", "--tp", "2"],
            "--tp:",
        ),
        (
            vec![
                "estimate",
                "--model",
                "sdxl",
                "--gpu",
                "L4",
                "--precision",
                "int4",
            ],
            "--precision:",
        ),
        (
            vec![
                "plan",
                "--model",
                "sdxl",
                "--jobs-per-day",
                "100",
                "--latency-s",
                "20",
                "--ttft-ms",
                "5",
            ],
            "--ttft-ms: not for diffusion",
        ),
        (
            vec!["plan", &chat, "--jobs-per-day", "5"],
            "--jobs-per-day: only for diffusion",
        ),
    ] {
        let o = inferplan(&args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stdout(&o));
        let e = stderr(&o);
        assert!(e.contains(want), "{args:?}: {e}");
        assert_eq!(e.trim().lines().count(), 1, "{e}");
    }
}

#[test]
fn plan_a_diffusion_workload() {
    let (code, v) = json(&[
        "plan",
        &example("video-720p-report-clips.toml"),
        "--format",
        "json",
    ]);
    assert_eq!(code, 0, "{v}");
    let best = &v["candidates"][0];
    for key in [
        "job_s",
        "queue_p_s",
        "latency_p_s",
        "usd_per_day",
        "usd_per_output",
        "usd_per_video_second",
    ] {
        assert!(best[key].as_f64().is_some(), "{key}: {best}");
    }
    assert!(best["warm_pool_gpus"].as_u64().is_some());
    assert!(best["break_even"]["jobs_per_day"].as_f64().is_some());
    assert_eq!(v["endpoint"]["pattern"], "async");
    let o = inferplan(&[
        "plan",
        &example("image-sdxl-product-shots.toml"),
        "--format",
        "md",
    ]);
    assert_eq!(o.status.code(), Some(0));
    let md = stdout(&o);
    for want in [
        "# ADR",
        "## Decision",
        "warm pool",
        "break-even at",
        "real-time",
    ] {
        assert!(md.contains(want), "{want}: {md}");
    }
    // From flags alone, with the managed price; an impossible promise exits 1.
    let o = inferplan(&[
        "plan",
        "--model",
        "flux.1-schnell",
        "--jobs-per-day",
        "5000",
        "--latency-s",
        "20",
        "--managed-usd-per-image",
        "0.01",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stdout(&o).contains("$ per image") || stdout(&o).contains("per image"));
    let o = inferplan(&[
        "plan",
        "--model",
        "wan2.1-t2v-14b",
        "--jobs-per-day",
        "10",
        "--latency-s",
        "5",
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stdout(&o).contains("Nearest misses"), "{}", stdout(&o));
}

#[test]
fn calibrate_rewrites_the_embedded_diffusion_efficiencies() {
    let file: &str = &measured("diffusion_latency.csv");
    if !std::path::Path::new(file).exists() {
        return;
    }
    let out = std::env::temp_dir().join(format!("inferplan-deff-{}.csv", std::process::id()));
    let o = inferplan(&[
        "calibrate",
        file,
        "--no-cv",
        "--output",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stdout(&o).contains("diffusion rows fitted"));
    let written = std::fs::read_to_string(&out).unwrap();
    let _ = std::fs::remove_file(&out);
    let embedded = include_str!("../../../../data/perf/diffusion_efficiency.csv");
    assert_eq!(written, embedded, "the embedded file is the fit");
}

/// The header and the first `rows` rows of a shared measured file, written to a temporary
/// file; `None` without the shared data.
fn measured_head(name: &str, rows: usize) -> Option<std::path::PathBuf> {
    let path = measured(name);
    let text = std::fs::read_to_string(path).ok()?;
    let head: Vec<&str> = text.lines().take(rows + 1).collect();
    let out = std::env::temp_dir().join(format!(
        "inferplan-head-{rows}-{}-{name}",
        std::process::id()
    ));
    std::fs::write(&out, head.join("\n") + "\n").unwrap();
    Some(out)
}

#[test]
fn calibrate_on_one_source_says_cross_validation_cannot_run() {
    for (name, rows) in [("llm_throughput.csv", 1), ("diffusion_latency.csv", 3)] {
        let Some(file) = measured_head(name, rows) else {
            return;
        };
        let f = file.to_str().unwrap();
        let o = inferplan(&["calibrate", f]);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        let out = stdout(&o);
        assert!(
            out.contains("cross-validation needs at least two sources; 1 given"),
            "{out}"
        );
        assert!(!out.contains("NaN") && !out.contains("inf%"), "{out}");
        assert!(!stderr(&o).contains("panicked"), "{}", stderr(&o));
        let (code, v) = json(&["calibrate", f, "--format", "json"]);
        assert_eq!(code, 0);
        assert!(v["cross_validated"].is_null(), "{v}");
        assert_eq!(
            v["cross_validation_skipped"],
            "cross-validation needs at least two sources; 1 given"
        );
        let _ = std::fs::remove_file(file);
    }
}

/// Runs the binary with `input` on its standard input (a pipe, which reads only once).
fn inferplan_piped(args: &[&str], input: &str) -> Output {
    use std::io::Write;
    let mut child = Command::new(env!("CARGO_BIN_EXE_inferplan"))
        .args(args)
        .env_remove("INFERPLAN_CATALOG_DIR")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("binary runs");
    let mut stdin = child.stdin.take().expect("stdin");
    // The binary may refuse before reading; a closed pipe is its answer, not a failure here.
    let _ = stdin.write_all(input.as_bytes());
    drop(stdin);
    child.wait_with_output().expect("binary runs")
}

#[test]
fn calibrate_and_validate_read_a_pipe_and_calibrate_names_each_file() {
    let Some(file) = measured_head("llm_throughput.csv", 60) else {
        return;
    };
    let text = std::fs::read_to_string(&file).unwrap();
    let _ = std::fs::remove_file(&file);
    // The pipe was read twice (once to tell its schema) and the second read found it empty.
    let o = inferplan_piped(&["calibrate", "/dev/stdin", "--no-cv"], &text);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = stdout(&o);
    let first = out.lines().next().unwrap_or_default();
    assert!(
        first.starts_with("/dev/stdin: LLM performance, 60 values, ") && first.ends_with(" used"),
        "{out}"
    );
    let o = inferplan_piped(&["validate", "/dev/stdin", "--format", "json"], &text);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["rows_total"], 60, "{v}");
}

/// `--cv-sources` runs the named folds only: their rows are predicted by tables fitted on the
/// other sources, the report and the predictions file cover them alone, and a source the input
/// does not have is refused.
#[test]
fn calibrate_cross_validates_only_the_sources_asked_for() {
    let Ok(text) = std::fs::read_to_string(measured("llm_throughput.csv")) else {
        return;
    };
    let mut lines = text.lines();
    let mut kept = vec![lines.next().unwrap()];
    kept.extend(lines.filter(|l| l.starts_with("trtllm-v0.9-") || l.starts_with("lmdeploy-")));
    let dir = std::env::temp_dir();
    let file = dir.join(format!("inferplan-cvsources-{}.csv", std::process::id()));
    let rows = dir.join(format!(
        "inferplan-cvsources-pred-{}.csv",
        std::process::id()
    ));
    std::fs::write(&file, kept.join("\n") + "\n").unwrap();
    let (f, r) = (file.to_str().unwrap(), rows.to_str().unwrap());
    let o = inferplan(&[
        "calibrate",
        f,
        "--cv-sources",
        "lmdeploy",
        "--predictions",
        r,
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = stdout(&o);
    let by_source = &out[out.find("cross-validated, by source").unwrap()..];
    let by_source = &by_source[..by_source.find("parameters").unwrap()];
    assert!(by_source.contains("lmdeploy"), "{out}");
    assert!(!by_source.contains("trtllm-v0.9"), "{out}");
    let predictions = std::fs::read_to_string(&rows).unwrap();
    let mut lines = predictions.lines();
    assert!(lines
        .next()
        .unwrap()
        .ends_with(",in_sample,cross_validated,cv_key,cv_by_key"));
    for line in lines {
        let fields: Vec<&str> = line.rsplitn(4, ',').collect();
        let (by_key, key, cv) = (fields[0], fields[1], fields[2]);
        if line.starts_with("lmdeploy-") {
            // Its fold has no LMDeploy rows: the row falls back past its engine.
            assert!(cv.parse::<f64>().unwrap() > 0.0, "{line}");
            assert!(key.ends_with("/*/*"), "{line}");
            assert!(by_key.contains(&format!("{key}=")), "{line}");
        } else {
            assert!(
                cv.is_empty() && key.is_empty() && by_key.is_empty(),
                "{line}"
            );
        }
    }
    let o = inferplan(&["calibrate", f, "--cv-sources", "lmdeploy,nowhere"]);
    assert_eq!(o.status.code(), Some(2), "{}", stdout(&o));
    let err = stderr(&o);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("--cv-sources") && err.contains("`nowhere`"),
        "{err}"
    );
    let o = inferplan(&["calibrate", f, "--cv-sources", "lmdeploy", "--no-cv"]);
    assert_eq!(o.status.code(), Some(2), "{}", stdout(&o));
    for p in [file, rows] {
        let _ = std::fs::remove_file(p);
    }
}

#[test]
fn calibrate_refuses_to_mix_diffusion_llm_and_memory_files() {
    let (Some(llm), Some(diffusion), Some(memory)) = (
        measured_head("llm_throughput.csv", 5),
        measured_head("diffusion_latency.csv", 5),
        measured_head("vllm_memory.csv", 5),
    ) else {
        return;
    };
    let (l, d, m) = (
        llm.to_str().unwrap(),
        diffusion.to_str().unwrap(),
        memory.to_str().unwrap(),
    );
    // The diffusion file was ignored without a word when LLM files came with it.
    let o = inferplan(&["calibrate", l, d, "--no-cv"]);
    assert_eq!(o.status.code(), Some(2), "{}", stdout(&o));
    let err = stderr(&o);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains(&format!("{d}: diffusion latency")) && err.contains(&format!("{l}: LLM")),
        "{err}"
    );
    let o = inferplan(&["calibrate", l, m, "--no-cv"]);
    assert_eq!(o.status.code(), Some(2), "{}", stdout(&o));
    assert!(
        stderr(&o).contains(&format!("{m}: vLLM memory startups")),
        "{}",
        stderr(&o)
    );
    for f in [llm, diffusion, memory] {
        let _ = std::fs::remove_file(f);
    }
}

/// The README's autoscaling pair: a queue-only trigger under the HPA's default behavior flaps
/// and says why; render's triggers (in flight and queue) and behavior do not.
#[test]
fn simulate_reports_a_flapping_queue_only_autoscaler_with_its_cause() {
    let run = |extra: &[&str]| {
        let mut args = vec![
            "simulate",
            "--model",
            "llama-3.1-8b",
            "--instance",
            "g6e.xlarge",
            "--rate-rps",
            "7",
            "--duration",
            "3600",
            "--max-replicas",
            "10",
            // A replica with warm compile caches: 115 s after the new node's 70 s (about 3
            // minutes in all), so that the comparison is about the autoscaler, not about a new
            // node's 5-minute cold start (the default, from the cold-start model).
            "--cold-start-s",
            "115",
            "--format",
            "json",
        ];
        args.extend_from_slice(extra);
        let (code, v) = json(&args);
        assert_eq!(code, 0, "{v}");
        v
    };
    let flapping = run(&["--autoscale", "queue:2", "--scale-behavior", "kubernetes"]);
    let f = &flapping["flapping"];
    assert!(f["reversals_per_hour"].as_f64().unwrap() > 4.0, "{f}");
    assert!(f["causes"][0]
        .as_str()
        .unwrap()
        .contains("the queue is the only load trigger"));
    assert!(flapping["scale_reversals"].as_u64().unwrap() > 4);
    // No SLO given: no attainment, no goodput.
    assert!(flapping["slo_attainment"].is_null());
    assert!(flapping["goodput_rps"].is_null());
    let stable = run(&["--autoscale", "inflight:24", "--autoscale", "queue:6"]);
    assert!(stable["flapping"].is_null(), "{stable}");
    assert!(stable["scale_reversals"].as_u64().unwrap() <= 2);
    assert!(
        stable["replicas_started"].as_u64().unwrap()
            < flapping["replicas_started"].as_u64().unwrap() / 4
    );
    assert!(
        stable["ttft_ms"]["p99"].as_f64().unwrap()
            < flapping["ttft_ms"]["p99"].as_f64().unwrap() / 4.0
    );
}

#[test]
fn simulate_autoscaler_flags_are_checked_and_name_the_flag() {
    for (flag, value, says) in [
        ("--autoscale", "queue:0", "--autoscale"),
        (
            "--autoscale",
            "queue:2,activation=-1",
            "activation threshold",
        ),
        ("--autoscale", "latency:2", "unknown metric"),
        ("--autoscale", "gpu:1.5", "--autoscale"),
        ("--scale-up-policy", "pods:0/60", "--scale-up-policy"),
        ("--scale-down-policy", "percent:10/3600", "the period"),
        ("--scale-down-policy", "nodes:1/60", "unknown policy"),
        (
            "--scale-down-stabilization-s",
            "7200",
            "--scale-down-stabilization-s",
        ),
        ("--min-replicas", "-1", "--min-replicas"),
    ] {
        let o = inferplan(&[
            "simulate",
            "--model",
            "llama-3.1-8b",
            "--instance",
            "g6e.xlarge",
            "--rate-rps",
            "1",
            "--requests",
            "10",
            flag,
            value,
        ]);
        assert_eq!(o.status.code(), Some(2), "{flag} {value}");
        let e = stderr(&o);
        assert!(e.contains(says), "{flag} {value}: {e}");
    }
}

/// A user price file with SageMaker rows: a bad row is one line naming the file, the line and
/// the field, exit code 2; a good one prices the SageMaker option of its `ml.*` type only, and
/// `--platforms` keeps one platform.
#[test]
fn managed_prices_file_and_platforms() {
    let dir = std::env::temp_dir().join(format!("inferplan-prices-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let fraud = example("fraud-scoring-small.toml");
    let header = "platform,instance_type,region,on_demand_usd_hr,usage,source,date\n";
    for (row, field) in [
        (
            "sagemaker,g6e.xlarge,us-east-1,2.5,hosting,t,",
            "instance_type",
        ),
        ("eks,ml.g6e.xlarge,us-east-1,2.5,hosting,t,", "platform"),
        (
            "sagemaker,ml.g6e.xlarge,us-east-1,0,hosting,t,",
            "on_demand_usd_hr",
        ),
        ("sagemaker,ml.g6e.xlarge,us-east-1,2.5,spot,t,", "usage"),
        (
            "sagemaker,ml.g6e.xlarge,us-east-1,2.5,hosting,t,12/2026",
            "date",
        ),
    ] {
        let path = dir.join("bad.csv");
        std::fs::write(&path, format!("{header}{row}\n")).unwrap();
        let o = inferplan(&["--prices", path.to_str().unwrap(), "plan", &fraud]);
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{row}: {err}");
        assert_eq!(err.trim().lines().count(), 1, "{err}");
        assert!(
            err.contains(&format!("{}:2: field `{field}`", path.display())),
            "{row}: {err}"
        );
        assert!(!err.contains("panicked"), "{err}");
    }
    let path = dir.join("prices.csv");
    std::fs::write(
        &path,
        format!("{header}sagemaker,ml.g6e.xlarge,us-east-1,2.5,hosting,my price list,2026-12-01\n"),
    )
    .unwrap();
    let (code, v) = json(&[
        "--prices",
        path.to_str().unwrap(),
        "plan",
        &fraud,
        "--top",
        "3",
        "--format",
        "json",
    ]);
    assert_eq!(code, 0, "{v}");
    let cands = v["candidates"].as_array().unwrap();
    let sm: Vec<&serde_json::Value> = cands
        .iter()
        .filter(|c| c["platform"] == "sagemaker")
        .collect();
    assert_eq!(sm.len(), 3);
    let priced = sm
        .iter()
        .find(|c| c["sagemaker"]["instance_type"] == "ml.g6e.xlarge")
        .unwrap();
    assert_eq!(priced["sagemaker"]["price"]["source"], "my price list");
    let hours = priced["purchase_mix"]["billed_instance_hours_per_day"]
        .as_f64()
        .unwrap();
    let usd = priced["usd_per_hour"].as_f64().unwrap();
    assert!((usd - hours / 24.0 * 2.5).abs() < 1e-6, "{usd} {hours}");
    for c in sm
        .iter()
        .filter(|c| c["sagemaker"]["instance_type"] != "ml.g6e.xlarge")
    {
        assert!(c["usd_per_hour"].is_null(), "{c}");
        assert!(c["sagemaker"]["no_price"]
            .as_str()
            .unwrap()
            .contains("no hosting price"));
    }
    // Ranks are the table's numbers, increasing down the list.
    let ranks: Vec<u64> = cands.iter().map(|c| c["rank"].as_u64().unwrap()).collect();
    assert!(ranks.windows(2).all(|w| w[0] < w[1]), "{ranks:?}");
    // One platform only.
    let (code, v) = json(&["plan", &fraud, "--platforms", "eks", "--format", "json"]);
    assert_eq!(code, 0);
    assert!(v["candidates"]
        .as_array()
        .unwrap()
        .iter()
        .all(|c| c["platform"] == "eks"));
    let o = inferplan(&["plan", &fraud, "--platforms", "gke"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--platforms"), "{}", stderr(&o));
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn simulate_holds_an_async_workload_to_its_deadline() {
    // `async-documents` states no latency limit but a 600 s deadline: the simulation scores
    // every request's end-to-end time against it, as the plan sized it.
    let run = |workload: &str| {
        json(&[
            "simulate",
            "--workload",
            workload,
            "--model",
            "Qwen2.5 32B",
            "--instance",
            "g6e.12xlarge",
            "--tp",
            "4",
            "--replicas",
            "1",
            "--requests",
            "1500",
            "--format",
            "json",
        ])
        .1
    };
    let v = run(&example("async-documents.toml"));
    let e2e = &v["slo_attainment"]["e2e"];
    assert!(e2e.as_f64().is_some_and(|a| a > 0.9), "{v}");
    assert!(v["slo_attainment"]["ttft"].is_null(), "{v}");
    // The same traffic with a deadline below the simulated p50: attainment falls with it.
    let p50_s = v["e2e_ms"]["p50"].as_f64().unwrap() / 1000.0;
    let text = std::fs::read_to_string(example("async-documents.toml")).unwrap();
    let tight = text.replace(
        "deadline_s = 600.0",
        &format!("deadline_s = {:.3}", p50_s * 0.5),
    );
    assert_ne!(tight, text);
    let path = std::env::temp_dir().join(format!("inferplan-deadline-{}.toml", std::process::id()));
    std::fs::write(&path, tight).unwrap();
    let t = run(path.to_str().unwrap());
    let _ = std::fs::remove_file(&path);
    let a = t["slo_attainment"]["e2e"].as_f64().unwrap();
    assert!(a < 0.5, "{t}");
}
