//! Workload files, their validation, and the trace reader.

use inferplan_plan::diffusion::DiffusionWorkload;
use inferplan_plan::workload::{Length, Mode, Percentile, Tenancy};
use inferplan_plan::{PlanError, Trace, TraceRequest, Workload};
use proptest::prelude::*;
use std::path::Path;

use crate::support::{catalog, example, examples, repo};

const MINIMAL: &str = r#"
[model]
name = "Llama 3.1 8B"

[traffic]
rate_rps = 2.0
"#;

fn minimal() -> Workload {
    Workload::from_toml(MINIMAL, "minimal.toml").expect("minimal workload")
}

#[test]
fn every_example_parses_validates_and_names_a_catalog_model() {
    let catalog = catalog();
    let files = examples();
    assert!(files.len() >= 5, "{files:?}");
    for required in [
        "chat-70b-fp8.toml",
        "single-gpu-13b-fp8.toml",
        "fraud-scoring-small.toml",
        "async-documents.toml",
        "regulated-isolated.toml",
    ] {
        assert!(
            files.iter().any(|f| f.ends_with(required)),
            "missing examples/{required}"
        );
    }
    for path in &files {
        let text = std::fs::read_to_string(path).expect("read");
        assert!(
            text.starts_with("# "),
            "{}: starts with a comment naming its source",
            path.display()
        );
        assert!(
            text.contains("../shared/reference/articles/"),
            "{}: names the article it comes from",
            path.display()
        );
        let stem = path.file_stem().unwrap().to_string_lossy();
        if inferplan_plan::diffusion::is_diffusion(&text) {
            let w = DiffusionWorkload::from_toml(&text, &stem).unwrap();
            w.validate()
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            let m = inferplan_perf::diffusion::diffusion_model(&w.model.name).unwrap();
            assert_eq!(
                m.name,
                w.model.name,
                "{}: use the display name",
                path.display()
            );
            assert_eq!(w.name, stem, "name = the file name");
            continue;
        }
        let w = Workload::load(path).unwrap_or_else(|e| panic!("{e}"));
        assert!(
            w.lengths.trace.is_none(),
            "examples must not read ../shared"
        );
        let model = catalog
            .model(&w.model.name)
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert_eq!(
            model.name,
            w.model.name,
            "{}: use the display name",
            path.display()
        );
        for region in &w.constraints.regions {
            assert!(
                catalog
                    .instances()
                    .iter()
                    .any(|i| i.prices.iter().any(|p| &p.region == region)),
                "{}: region {region} has no price in the catalog",
                path.display()
            );
        }
        assert_eq!(w.name, stem, "name = the file name");
    }
}

#[test]
fn the_examples_ask_what_the_issue_asks() {
    let load = |name: &str| Workload::load(&example(name)).unwrap();
    let chat = load("chat-70b-fp8.toml");
    assert_eq!(chat.model.precision, "fp8");
    assert_eq!(chat.slo.ttft_ms, Some(500.0));
    assert_eq!(chat.slo.tpot_ms, Some(50.0));
    assert_eq!(chat.slo.percentile, Percentile::P99);
    assert!(chat.traffic.daily_profile.is_some());
    assert!(chat.peak_rps() > chat.traffic.rate_rps);

    let single = load("single-gpu-13b-fp8.toml");
    assert_eq!(single.constraints.max_gpus_per_replica, 1);
    assert_eq!(single.model.precision, "fp8");

    let fraud = load("fraud-scoring-small.toml");
    assert!(fraud.traffic.rate_rps >= 100.0);
    assert!(fraud.slo.e2e_ms.is_some_and(|ms| ms <= 500.0));
    assert!(fraud.lengths.output_tokens.p99() <= 16.0);

    let docs = load("async-documents.toml");
    assert_eq!(docs.slo.mode, Mode::Async);
    assert!(docs.slo.deadline_s.is_some());
    assert!(docs.lengths.input_tokens.mean() >= 2000.0);

    let many = load("many-models.toml");
    assert_eq!(many.traffic.models, 30);
    assert_eq!(many.traffic.rate_rps, 0.05);
    assert_eq!(many.model.adapters.as_ref().map(|a| a.rank), Some(16));

    let regulated = load("regulated-isolated.toml");
    assert_eq!(regulated.constraints.tenancy, Tenancy::Isolated);
    assert_eq!(
        regulated.constraints.data_class,
        inferplan_plan::workload::DataClass::Regulated
    );
    assert!(!regulated
        .constraints
        .regions
        .contains(&"us-east-1".to_owned()));
}

#[test]
fn defaults_are_documented_values() {
    let w = minimal();
    w.validate().unwrap();
    assert_eq!(w.name, "workload");
    assert_eq!(w.model.precision, "bf16");
    assert_eq!(w.model.engines, vec!["vllm".to_owned()]);
    assert_eq!(w.traffic.peak_rps, None);
    assert_eq!(w.traffic.burstiness, 1.0);
    assert_eq!(w.lengths.input_tokens, Length::Fixed(1000));
    assert_eq!(w.lengths.output_tokens, Length::Fixed(200));
    assert_eq!(w.slo.percentile, Percentile::P99);
    assert_eq!(w.slo.mode, Mode::Interactive);
    assert_eq!(w.constraints.regions, vec!["us-east-1".to_owned()]);
    assert_eq!(w.constraints.tenancy, Tenancy::Shared);
    assert_eq!(w.constraints.max_gpus_per_replica, 8);
    assert_eq!(w.constraints.weights_source, "s3");
    assert!(!w.constraints.redundancy);
    assert_eq!(w.pricing.savings_plan_discount, 0.30);
    assert_eq!(w.pricing.spot_interruption_overhead, 0.10);
    assert!(w.pricing.allow_spot);
    assert_eq!(w.peak_rps(), 2.0);
    assert_eq!(w.hourly_rates(), [2.0; 24]);
}

fn parse_err(text: &str) -> PlanError {
    Workload::from_toml(text, "w.toml").expect_err("should not parse")
}

#[test]
fn unknown_fields_are_errors_naming_field_and_line() {
    let e = parse_err(&format!("{MINIMAL}\n[slo]\nttft_ms = 500\nttft_p99 = 3\n"));
    assert_eq!(e.field(), Some("slo.ttft_p99"), "{e}");
    assert_eq!(e.line(), Some(10), "{e}");
    let s = e.to_string();
    assert!(
        s.starts_with("w.toml:10: field `slo.ttft_p99`: unknown field `ttft_p99`"),
        "{s}"
    );
    assert!(!s.contains('\n'), "{s}");

    let e = parse_err(&format!("colour = \"red\"\n{MINIMAL}"));
    assert_eq!(e.field(), Some("colour"), "{e}");
    assert_eq!(e.line(), Some(1), "{e}");

    let e = parse_err(&format!(
        "{MINIMAL}[lengths]\ninput_tokens = {{ mean = 5, p90 = 9 }}\n"
    ));
    assert_eq!(e.field(), Some("lengths.input_tokens.p90"), "{e}");
    assert_eq!(e.line(), Some(8), "{e}");
    assert!(e.to_string().contains("unknown field `p90`"), "{e}");

    // Dotted keys and inline tables name the same path.
    let e = parse_err(&format!("{MINIMAL}constraints.tenncy = \"isolated\"\n"));
    assert_eq!(e.field(), Some("traffic.constraints"), "{e}");
    let e = parse_err("model = { name = \"x\", precison = \"fp8\" }\ntraffic = { rate_rps = 1 }\n");
    assert_eq!(e.field(), Some("model.precison"), "{e}");
    assert_eq!(e.line(), Some(1), "{e}");
}

#[test]
fn type_and_syntax_errors_name_field_and_line() {
    let e = parse_err("[model]\nname = \"x\"\n\n[traffic]\nrate_rps = \"fast\"\n");
    assert_eq!(e.field(), Some("traffic.rate_rps"), "{e}");
    assert_eq!(e.line(), Some(5), "{e}");

    let e = parse_err("[model]\nname = \"x\"\n");
    assert_eq!(e.field(), Some("traffic"), "{e}");
    assert!(e.to_string().contains("missing field `traffic`"), "{e}");

    let e = parse_err("[model]\nname = \"x\"\n[traffic]\npeak_rps = 3\n");
    assert_eq!(e.field(), Some("traffic.rate_rps"), "{e}");
    assert_eq!(e.line(), Some(3), "{e}");

    let e = parse_err(&format!("{MINIMAL}[slo]\npercentile = \"p95\"\n"));
    assert_eq!(e.field(), Some("slo.percentile"), "{e}");
    assert_eq!(e.line(), Some(8), "{e}");

    let e = parse_err(&format!("{MINIMAL}[lengths]\noutput_tokens = -3\n"));
    assert_eq!(e.field(), Some("lengths.output_tokens"), "{e}");

    let e = parse_err(&format!("{MINIMAL}[lengths]\noutput_tokens = 2.5\n"));
    assert_eq!(e.field(), Some("lengths.output_tokens"), "{e}");

    let e = parse_err(&format!(
        "{MINIMAL}[lengths]\ninput_tokens = {{ mean = 500 }}\n"
    ));
    assert_eq!(e.field(), Some("lengths.input_tokens.p99"), "{e}");

    let e = parse_err(&format!("{MINIMAL}[traffic.extra]\n"));
    assert!(e.line().is_some(), "{e}");

    let e = parse_err("[model\nname = 1\n");
    assert_eq!(e.line(), Some(1), "{e}");
    assert_eq!(e.field(), None, "{e}");
    assert!(!e.to_string().contains('\n'), "{e}");

    let e = parse_err("[model]\nname = \"x\"\nname = \"y\"\n");
    assert_eq!(e.line(), Some(3), "{e}");
}

#[test]
fn lengths_take_three_forms() {
    let w = Workload::from_toml(
        &format!(
            "{MINIMAL}[lengths]\ninput_tokens = 512\noutput_tokens = {{ histogram = [[10, 50], \
             [100, 49], [1000, 1]] }}\n"
        ),
        "w.toml",
    )
    .unwrap();
    w.validate().unwrap();
    assert_eq!(w.lengths.input_tokens, Length::Fixed(512));
    // Mean 1/100 × (500 + 4900 + 1000) = 64; 99 % of the weight is reached at 100 tokens.
    assert_eq!(
        w.lengths.output_tokens,
        Length::Dist {
            mean: 64.0,
            p99: 100.0
        }
    );
    let w = Workload::from_toml(
        &format!("{MINIMAL}[lengths]\ninput_tokens = {{ mean = 800, p99 = 6000.5 }}\n"),
        "w.toml",
    )
    .unwrap();
    assert_eq!(
        w.lengths.input_tokens,
        Length::Dist {
            mean: 800.0,
            p99: 6000.5
        }
    );
    for bad in [
        "{ histogram = [] }",
        "{ histogram = [[0, 1]] }",
        "{ histogram = [[10, -1]] }",
        "{ histogram = [[10, 0]] }",
        "{ histogram = [[10, 1]], mean = 3 }",
        "{ histogram = [[10, 1, 2]] }",
        "{ histogram = [10, 1] }",
        "{}",
        "\"long\"",
    ] {
        let e = parse_err(&format!("{MINIMAL}[lengths]\ninput_tokens = {bad}\n"));
        assert!(
            e.field()
                .is_some_and(|f| f.starts_with("lengths.input_tokens")),
            "{bad}: {e}"
        );
        assert_eq!(e.line(), Some(8), "{bad}: {e}");
    }
}

#[test]
fn each_validation_error_names_its_field() {
    type Edit = fn(&mut Workload);
    let cases: Vec<(&str, Edit)> = vec![
        ("name", |w| w.name = " ".into()),
        ("model.name", |w| w.model.name = String::new()),
        ("model.precision", |w| w.model.precision = "fp9".into()),
        ("model.engines", |w| w.model.engines.clear()),
        ("model.engines[1]", |w| {
            w.model.engines = vec!["vllm".into(), "llama.cpp".into()]
        }),
        ("traffic.rate_rps", |w| w.traffic.rate_rps = 0.0),
        ("traffic.rate_rps", |w| w.traffic.rate_rps = f64::NAN),
        ("traffic.rate_rps", |w| w.traffic.rate_rps = f64::INFINITY),
        ("traffic.peak_rps", |w| w.traffic.peak_rps = Some(-1.0)),
        ("traffic.peak_rps", |w| w.traffic.peak_rps = Some(1.0)),
        ("traffic.daily_profile", |w| {
            w.traffic.daily_profile = Some(vec![1.0; 23])
        }),
        ("traffic.daily_profile[5]", |w| {
            let mut p = vec![1.0; 24];
            p[5] = -0.5;
            w.traffic.daily_profile = Some(p)
        }),
        ("traffic.daily_profile", |w| {
            w.traffic.daily_profile = Some(vec![0.0; 24])
        }),
        ("traffic.peak_rps", |w| {
            // The busiest hour (2 × 24 / 25 × ... ) is above the explicit peak.
            let mut p = vec![1.0; 24];
            p[12] = 10.0;
            w.traffic.daily_profile = Some(p);
            w.traffic.peak_rps = Some(2.5);
        }),
        ("traffic.burstiness", |w| w.traffic.burstiness = -0.1),
        ("lengths.input_tokens", |w| {
            w.lengths.input_tokens = Length::Fixed(0)
        }),
        ("lengths.output_tokens.mean", |w| {
            w.lengths.output_tokens = Length::Dist {
                mean: 0.5,
                p99: 10.0,
            }
        }),
        ("lengths.output_tokens.p99", |w| {
            w.lengths.output_tokens = Length::Dist {
                mean: 100.0,
                p99: 90.0,
            }
        }),
        ("slo.ttft_ms", |w| w.slo.ttft_ms = Some(0.0)),
        ("slo.tpot_ms", |w| w.slo.tpot_ms = Some(-5.0)),
        ("slo.e2e_ms", |w| w.slo.e2e_ms = Some(f64::NAN)),
        ("slo.deadline_s", |w| w.slo.mode = Mode::Async),
        ("slo.deadline_s", |w| {
            w.slo.mode = Mode::Async;
            w.slo.deadline_s = Some(0.0)
        }),
        ("constraints.regions", |w| w.constraints.regions.clear()),
        ("constraints.regions[0]", |w| {
            w.constraints.regions = vec![String::new()]
        }),
        ("constraints.max_gpus_per_replica", |w| {
            w.constraints.max_gpus_per_replica = 0
        }),
        ("constraints.instance_families[0]", |w| {
            w.constraints.instance_families = vec![" ".into()]
        }),
        ("constraints.cold_start_budget_s", |w| {
            w.constraints.cold_start_budget_s = Some(0.0)
        }),
        ("constraints.weights_source", |w| {
            w.constraints.weights_source = "efs".into()
        }),
        ("pricing.savings_plan_discount", |w| {
            w.pricing.savings_plan_discount = 0.95
        }),
        ("pricing.savings_plan_discount", |w| {
            w.pricing.savings_plan_discount = -0.1
        }),
        ("pricing.spot_interruption_overhead", |w| {
            w.pricing.spot_interruption_overhead = 1.5
        }),
    ];
    for (field, edit) in cases {
        let mut w = minimal();
        edit(&mut w);
        let e = w.validate().expect_err(field);
        assert_eq!(e.field(), Some(field), "{e}");
        let s = e.to_string();
        assert!(
            s.starts_with(&format!("workload: field `{field}`: ")),
            "{s}"
        );
        assert!(!s.contains('\n'), "{s}");
    }
}

#[test]
fn validation_errors_point_into_the_file() {
    let text = format!("{MINIMAL}\n[slo]\nmode = \"batch\"\nttft_ms = -1\n");
    let w = Workload::from_toml(&text, "w.toml").unwrap();
    let e = w.validate().unwrap_err().locate("w.toml", &text);
    assert_eq!(
        e.to_string(),
        "w.toml:10: field `slo.ttft_ms`: must be a number in (0, 86400000] ms, got -1"
    );
    let text = format!(
        "{MINIMAL}daily_profile = [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,\n  1, 1, 1, 1, 1, -1, 1, 1, \
         1, 1, 1, 1]\n"
    );
    let w = Workload::from_toml(&text, "w.toml").unwrap();
    let e = w.validate().unwrap_err().locate("w.toml", &text);
    assert_eq!(e.field(), Some("traffic.daily_profile[17]"));
    assert_eq!(e.line(), Some(8), "{e}");
    // A field that is not written in the file (a default, or a flag) has no line.
    let text = MINIMAL.to_owned();
    let mut w = Workload::from_toml(&text, "w.toml").unwrap();
    w.constraints.weights_source = "efs".into();
    let e = w.validate().unwrap_err().locate("w.toml", &text);
    assert_eq!(e.line(), None, "{e}");
    assert!(e
        .to_string()
        .starts_with("w.toml: field `constraints.weights_source`"));
}

#[test]
fn peak_and_hourly_rates_follow_the_profile() {
    let mut w = minimal();
    let mut profile = vec![1.0; 24];
    profile[14] = 4.0; // sum 27
    w.traffic.daily_profile = Some(profile);
    let rates = w.hourly_rates();
    let mean = rates.iter().sum::<f64>() / 24.0;
    assert!((mean - 2.0).abs() < 1e-12, "{mean}");
    assert!((rates[14] - 2.0 * 4.0 * 24.0 / 27.0).abs() < 1e-12);
    assert!((rates[0] - 2.0 * 24.0 / 27.0).abs() < 1e-12);
    assert_eq!(w.peak_rps(), rates[14]);
    w.traffic.peak_rps = Some(10.0);
    assert_eq!(w.peak_rps(), 10.0);
    w.validate().unwrap();
}

const SMALL_TRACE: &str = "\
TIMESTAMP,ContextTokens,GeneratedTokens
2023-11-16 18:00:02.0000000,300,30
2023-11-16 18:00:00.5000000,100,10
2023-11-16 18:00:01.2500004,200,20
2023-11-16 18:00:00.0000006,400,40
2023-11-16 18:00:04.0000000,1000,100
";

#[test]
fn trace_stats_on_a_small_trace_are_exact() {
    let t = Trace::parse(SMALL_TRACE.as_bytes(), "small.csv").unwrap();
    let arrivals: Vec<i64> = t.requests.iter().map(|r| r.arrival_us).collect();
    // Earliest is 18:00:00.0000006, i.e. 1 µs after the minute (rounded).
    assert_eq!(arrivals, vec![0, 499_999, 1_249_999, 1_999_999, 3_999_999]);
    assert_eq!(
        t.requests[0],
        TraceRequest {
            arrival_us: 0,
            input_tokens: 400,
            output_tokens: 40
        }
    );
    let s = t.stats();
    assert_eq!(s.requests, 5);
    assert_eq!(s.duration_s, 3.999_999);
    assert_eq!(s.mean_rate_rps, Some(4.0 / 3.999_999));
    assert_eq!(s.input.mean, 400.0);
    assert_eq!(s.input.p50, 300);
    assert_eq!(s.input.p99, 1000);
    assert_eq!(s.input.max, 1000);
    assert_eq!(s.output.mean, 40.0);
    assert_eq!(s.output.p50, 30);

    let plain = "arrival_s,input_tokens,output_tokens\n1.5,10,1\n0.5,20,2\n0.5,30,3\n";
    let t = Trace::parse(plain.as_bytes(), "plain.csv").unwrap();
    let got: Vec<(i64, u64)> = t
        .requests
        .iter()
        .map(|r| (r.arrival_us, r.input_tokens))
        .collect();
    // Ties keep their file order.
    assert_eq!(got, vec![(0, 20), (0, 30), (1_000_000, 10)]);
    assert_eq!(t.stats().mean_rate_rps, Some(2.0));

    // Columns in another order, any case, extra columns ignored.
    let other = "output_tokens,Input_Tokens,note,ARRIVAL_S\n5,50,a,0\n6,60,b,2\n";
    let t = Trace::parse(other.as_bytes(), "other.csv").unwrap();
    assert_eq!(t.requests[1].input_tokens, 60);
    assert_eq!(t.requests[1].output_tokens, 6);
    assert_eq!(t.requests[1].arrival_us, 2_000_000);
}

#[test]
fn bad_trace_rows_are_one_line_errors() {
    let cases = [
        ("a,b,c\n1,2,3\n", "bad.csv:1: not a trace header"),
        (
            "TIMESTAMP,ContextTokens,GeneratedTokens\n2023-11-16 18:00:00.1,5,5\n2023-11-16 \
             25:00:00,5,5\n",
            "bad.csv:3: field `TIMESTAMP`: `2023-11-16 25:00:00` is not a timestamp",
        ),
        (
            "TIMESTAMP,ContextTokens,GeneratedTokens\n2023-11-16 18:00:00,5.5,5\n",
            "bad.csv:2: field `ContextTokens`: `5.5` is not a whole number of tokens",
        ),
        (
            "arrival_s,input_tokens,output_tokens\n0,5,-1\n",
            "bad.csv:2: field `output_tokens`: `-1` is not a whole number of tokens",
        ),
        (
            "arrival_s,input_tokens,output_tokens\nNaN,5,1\n",
            "bad.csv:2: field `arrival_s`: `NaN` is not a number of seconds",
        ),
        (
            "arrival_s,input_tokens,output_tokens\n0,5\n",
            "bad.csv:2: expected 3 fields, found 2",
        ),
        (
            "arrival_s,input_tokens,output_tokens\n",
            "bad.csv: the trace has no requests",
        ),
        ("", "bad.csv:1: not a trace header"),
    ];
    for (text, want) in cases {
        let e = Trace::parse(text.as_bytes(), "bad.csv").unwrap_err();
        let s = e.to_string();
        assert!(s.starts_with(want), "{s}\nwanted {want}");
        assert!(!s.contains('\n'), "{s}");
    }
    let e = Trace::read(Path::new("/nonexistent/trace.csv")).unwrap_err();
    assert!(e.to_string().starts_with("/nonexistent/trace.csv: "), "{e}");
}

#[test]
fn a_workload_can_take_its_lengths_from_a_trace() {
    let dir = std::env::temp_dir().join(format!("inferplan-workload-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("traces")).unwrap();
    std::fs::write(dir.join("traces/small.csv"), SMALL_TRACE).unwrap();
    let text = format!("{MINIMAL}[lengths]\ntrace = \"traces/small.csv\"\n");
    std::fs::write(dir.join("w.toml"), &text).unwrap();
    let w = Workload::load(&dir.join("w.toml")).unwrap();
    assert_eq!(
        w.lengths.input_tokens,
        Length::Dist {
            mean: 400.0,
            p99: 1000.0
        }
    );
    assert_eq!(
        w.lengths.output_tokens,
        Length::Dist {
            mean: 40.0,
            p99: 100.0
        }
    );
    // A missing trace names the file.
    let mut w = Workload::from_toml(
        &format!("{MINIMAL}[lengths]\ntrace = \"nope.csv\"\n"),
        "w.toml",
    )
    .unwrap();
    let e = w.resolve_lengths(&dir).unwrap_err();
    assert!(e.to_string().contains("nope.csv"), "{e}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn the_azure_traces_read_with_plausible_stats() {
    let dir = crate::support::shared().join("data/traces");
    for (file, rows, input_mean, output_mean) in [
        ("azure_llm_2023_code.csv", 8_819, 2047.85, 27.88),
        ("azure_llm_2023_conv.csv", 19_366, 1154.70, 211.13),
    ] {
        let path = dir.join(file);
        if !path.exists() {
            // ../shared is beside the repository in development, absent in a fresh clone.
            continue;
        }
        let t = Trace::read(&path).unwrap_or_else(|e| panic!("{e}"));
        let s = t.stats();
        assert_eq!(s.requests, rows, "{file}");
        assert!(t
            .requests
            .windows(2)
            .all(|w| w[0].arrival_us <= w[1].arrival_us));
        assert_eq!(t.requests[0].arrival_us, 0);
        // About one hour.
        assert!((3000.0..3700.0).contains(&s.duration_s), "{file}: {s:?}");
        let rate = s.mean_rate_rps.unwrap();
        assert!((1.0..10.0).contains(&rate), "{file}: {rate}");
        assert!((s.input.mean - input_mean).abs() < 0.01, "{file}: {s:?}");
        assert!((s.output.mean - output_mean).abs() < 0.01, "{file}: {s:?}");
        assert!(s.input.p50 as f64 <= s.input.mean && s.input.p99 as f64 > s.input.mean);
        assert!(s.input.p99 <= s.input.max && s.output.p99 <= s.output.max);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn random_bytes_never_panic_the_workload_reader(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        let text = String::from_utf8_lossy(&bytes);
        if let Ok(w) = Workload::from_toml(&text, "fuzz.toml") {
            let _ = w.validate().map_err(|e| e.locate("fuzz.toml", &text));
            let _ = w.peak_rps();
            let _ = w.hourly_rates();
        }
    }

    #[test]
    fn toml_like_text_never_panics_the_workload_reader(
        text in "(\\[(model|traffic|lengths|slo|constraints|pricing)\\]\n|[a-z_]{1,12} = ([0-9.e-]{1,6}|\"[a-z0-9]{0,5}\"|\\{ [a-z0-9 =,]{0,20} \\}|\\[[0-9, .-]{0,20}\\])\n){0,12}"
    ) {
        let full = format!("{MINIMAL}{text}");
        for t in [text.as_str(), full.as_str()] {
            if let Ok(w) = Workload::from_toml(t, "fuzz.toml") {
                let _ = w.validate().map_err(|e| e.locate("fuzz.toml", t));
                let _ = w.peak_rps();
            }
        }
    }

    #[test]
    fn random_bytes_never_panic_the_trace_reader(
        header in prop_oneof![
            Just("TIMESTAMP,ContextTokens,GeneratedTokens\n"),
            Just("arrival_s,input_tokens,output_tokens\n"),
            Just(""),
        ],
        bytes in proptest::collection::vec(any::<u8>(), 0..300),
        rows in "([0-9: .T,-]{0,40}\n){0,8}",
    ) {
        let mut input = header.as_bytes().to_vec();
        input.extend_from_slice(rows.as_bytes());
        let _ = Trace::parse(&input, "fuzz.csv").map(|t| t.stats());
        input.extend_from_slice(&bytes);
        let _ = Trace::parse(&input, "fuzz.csv").map(|t| t.stats());
        let _ = Trace::parse(&bytes, "fuzz.csv").map(|t| t.stats());
    }
}

#[test]
fn the_documented_examples_parse_and_every_field_is_documented() {
    let doc = std::fs::read_to_string(repo().join("docs/plan.md")).expect("docs/plan.md");
    let start = doc.find("## Workload file").expect("section");
    let end = doc.find("## How plan works").expect("next section");
    let section = &doc[start..end];
    let mut blocks = 0;
    for block in section.split("```toml\n").skip(1) {
        let text = &block[..block.find("```").expect("closed block")];
        let w = Workload::from_toml(text, "docs/plan.md").unwrap_or_else(|e| panic!("{e}"));
        w.validate().unwrap_or_else(|e| panic!("{e}"));
        blocks += 1;
    }
    assert!(blocks >= 2);
    for field in [
        "name",
        "precision",
        "engines",
        "rate_rps",
        "peak_rps",
        "daily_profile",
        "burstiness",
        "models",
        "model_rates_rps",
        "rank",
        "targets",
        "input_tokens",
        "output_tokens",
        "trace",
        "ttft_ms",
        "tpot_ms",
        "e2e_ms",
        "percentile",
        "mode",
        "deadline_s",
        "regions",
        "tenancy",
        "data_class",
        "max_gpus_per_replica",
        "instance_families",
        "cold_start_budget_s",
        "redundancy",
        "weights_source",
        "savings_plan_discount",
        "spot_interruption_overhead",
        "allow_spot",
    ] {
        assert!(
            section.contains(&format!("| `{field}` |")),
            "docs/plan.md: `{field}`"
        );
    }
}
