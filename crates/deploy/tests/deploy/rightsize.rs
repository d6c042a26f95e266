//! Rightsizing from GPU metrics: readers (CSV, Prometheus), exact statistics on tiny inputs,
//! each verdict on its fixture, unit detection, one-line errors, no panics on any input, and
//! the deployment picked from `plan` for an example workload.

use inferplan_deploy::rightsize::{
    analyze, catalog_fb_total_mib, parse, read_csv, read_file, read_files, suggest,
    suggest_from_plan, Action, Current, Format, Metrics, Options, Report, RightsizeError, Sample,
    TotalSource, UtilUnit, VerdictCode,
};
use inferplan_plan::{plan, Plan, Workload};
use proptest::prelude::*;
use std::path::{Path, PathBuf};

use crate::planner::inputs;

// ---------------------------------------------------------------------------------------------
// helpers

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/rightsize")
        .join(name)
}

fn read(name: &str) -> Metrics {
    read_file(&fixture(name), UtilUnit::Auto).unwrap()
}

fn report(name: &str) -> Report {
    read(name).analyze(&Options::default())
}

fn codes(r: &Report) -> Vec<VerdictCode> {
    r.verdicts.iter().map(|v| v.code).collect()
}

fn close(a: Option<f64>, b: f64) -> bool {
    a.is_some_and(|a| (a - b).abs() < 1e-9)
}

fn err(origin: &str, text: &str) -> String {
    let e = parse(origin, text, UtilUnit::Auto).unwrap_err().to_string();
    assert!(!e.contains('\n'), "not one line: {e}");
    e
}

fn example() -> Workload {
    Workload::load(&crate::support::example("single-gpu-13b-fp8.toml")).unwrap()
}

fn example_plan() -> &'static Plan {
    static P: std::sync::OnceLock<Plan> = std::sync::OnceLock::new();
    P.get_or_init(|| plan(&inputs(), &example()).unwrap())
}

fn cost(usd_per_hour: f64) -> Current {
    Current {
        instance: None,
        usd_per_hour: Some(usd_per_hour),
    }
}

fn on(instance: &str) -> Current {
    Current {
        instance: Some(instance.to_owned()),
        usd_per_hour: None,
    }
}

/// The example's plan with a cheaper option close to its SLOs in front: two g6.xlarge at
/// SLO headroom 1.04, as the planner proposed before it knew that an L4 cannot load the 26 GB
/// 16-bit checkpoint vLLM quantizes to FP8 (issue 14). The suggestions below choose between a
/// cheap tight option and a dearer one with headroom.
fn plan_with_tight_cheapest() -> Plan {
    let mut p = example_plan().clone();
    let g6 = crate::support::catalog().instance("g6.xlarge").unwrap();
    let mut tight = p.candidates[0].clone();
    tight.instance = g6.name.clone();
    tight.family = g6.family.clone();
    tight.gpu = "L4".to_owned();
    tight.replicas = 2;
    tight.instances = 2;
    tight.slo_headroom = 1.04;
    tight.usd_per_hour = 0.8 * p.candidates[0].usd_per_hour;
    tight.purchase_mix.usd_per_hour = tight.usd_per_hour;
    p.candidates.insert(0, tight);
    p
}

fn label(s: &inferplan_deploy::rightsize::Suggestion) -> String {
    label_of(s.candidate.as_ref().unwrap())
}

fn label_of(c: &inferplan_plan::Candidate) -> String {
    format!(
        "{} tp{} {} {} ×{}",
        c.instance, c.tp, c.precision, c.engine, c.replicas
    )
}

/// The 1-based rank and label of the cheapest option of `p` with SLO headroom ≥ 1.3, the one a
/// suggestion that needs headroom picks (the plan's candidates are cheapest first).
fn cheapest_with_headroom(p: &Plan) -> (usize, String) {
    let i = p
        .candidates
        .iter()
        .position(|c| c.slo_headroom >= 1.3)
        .expect("an option with headroom");
    (i + 1, label_of(&p.candidates[i]))
}

// ---------------------------------------------------------------------------------------------
// statistics

#[test]
fn tiny_csv_statistics_are_exact() {
    let m = read("tiny.csv");
    assert_eq!(m.samples.len(), 4);
    let s = &m.sources[0];
    assert_eq!(
        (s.format, s.records, s.gpus, s.missing),
        (Format::Csv, 4, 1, 0)
    );
    assert_eq!(s.util_unit, Some(UtilUnit::Percent));
    let r = m.analyze(&Options::default());
    let o = &r.overall;
    // 4 samples a minute apart: 3 minutes from first to last, plus one interval.
    assert_eq!(o.window_s, 240.0);
    assert_eq!(o.interval_s, Some(60.0));
    assert_eq!(o.start_unix_s, Some(1_740_960_000.0));
    assert_eq!(o.util_samples, 4);
    assert!(close(o.avg_util_pct, 37.5));
    // nearest rank: ⌈0.95 × 4⌉ = 4th of 10, 20, 30, 90
    assert!(close(o.p95_util_pct, 90.0));
    assert!(close(o.max_util_pct, 90.0));
    assert!(close(o.share_above_80_pct, 25.0));
    assert!(close(o.avg_mem_pct, 25.0));
    assert!(close(o.p95_mem_pct, 40.0));
    assert!(close(o.max_mem_pct, 40.0));
    assert!(close(o.min_mem_pct, 10.0));
    assert!(close(o.avg_fb_used_mib, 2500.0));
    assert!(close(o.fb_total_mib, 10000.0));
    assert_eq!(o.fb_total_source, Some(TotalSource::Reported));
    assert_eq!((o.days, o.hot_days), (1, 1));
    assert_eq!(r.gpus.len(), 1);
    assert_eq!(r.gpus[0].stats, r.overall);
    assert_eq!(
        (r.gpus[0].instance.as_str(), r.gpus[0].gpu.as_str()),
        ("node-a", "0")
    );
}

#[test]
fn samples_analyzed_directly() {
    let s = |t: f64, gpu: &str, u: f64| Sample {
        timestamp_s: t,
        instance: "h".into(),
        gpu: gpu.into(),
        util_pct: Some(u),
        fb_used_mib: Some(500.0),
        fb_free_mib: None,
        fb_total_mib: None,
    };
    let samples = vec![
        s(0.0, "0", 10.0),
        s(10.0, "0", 30.0),
        s(0.0, "1", 50.0),
        s(10.0, "1", 70.0),
    ];
    let r = analyze(
        &samples,
        &Options {
            fb_total_mib: Some(1000.0),
        },
    );
    assert!(close(r.overall.avg_util_pct, 40.0));
    assert!(close(r.gpus[0].stats.avg_util_pct, 20.0));
    assert!(close(r.gpus[1].stats.avg_util_pct, 60.0));
    assert!(close(r.overall.avg_mem_pct, 50.0));
    assert_eq!(r.overall.fb_total_source, Some(TotalSource::Fallback));
    assert_eq!(r.fb_total_fallback_mib, Some(1000.0));
    assert_eq!(r.overall.window_s, 20.0);
    assert!(r.sources.is_empty());
}

#[test]
fn report_json_has_the_documented_fields() {
    let v = serde_json::to_value(report("tiny.csv")).unwrap();
    for k in [
        "window_s",
        "start_unix_s",
        "end_unix_s",
        "interval_s",
        "util_samples",
        "mem_samples",
        "avg_util_pct",
        "p95_util_pct",
        "max_util_pct",
        "share_above_80_pct",
        "days",
        "hot_days",
        "avg_mem_pct",
        "p95_mem_pct",
        "max_mem_pct",
        "min_mem_pct",
        "avg_fb_used_mib",
        "max_fb_used_mib",
        "fb_total_mib",
        "fb_total_source",
        "gpus",
        "verdicts",
        "fb_total_fallback_mib",
        "thresholds",
        "sources",
    ] {
        assert!(v.get(k).is_some(), "missing top-level field {k}");
    }
    let g = &v["gpus"][0];
    for k in ["instance", "gpu", "avg_util_pct", "p95_mem_pct", "verdicts"] {
        assert!(g.get(k).is_some(), "missing gpu field {k}");
    }
    let verdict = &v["verdicts"][0];
    assert_eq!(verdict["code"], "under_provisioned");
    assert!(verdict["message"].is_string());
    assert_eq!(verdict["provisional"], true);
    assert_eq!(v["thresholds"]["over_avg_util_pct"], 40.0);
    assert_eq!(v["thresholds"]["memory_risk_pct"], 85.0);
    assert_eq!(v["sources"][0]["format"], "csv");
    assert_eq!(v["sources"][0]["util_unit"], "percent");
}

// ---------------------------------------------------------------------------------------------
// verdicts

#[test]
fn over_provisioned_over_a_week() {
    let r = report("over_week.csv");
    assert_eq!(codes(&r), [VerdictCode::OverProvisioned]);
    let v = &r.verdicts[0];
    assert!(!v.provisional);
    // 32 samples every 6 hours: 7.75 days between first and last, plus one interval.
    assert_eq!(r.overall.window_s, 8.0 * 86_400.0);
    assert!(close(r.overall.avg_util_pct, 28.0));
    assert!(v.message.contains("28.0 %"), "{}", v.message);
    assert_eq!(r.gpus.len(), 2);
    assert!(r
        .gpus
        .iter()
        .all(|g| g.verdicts[0].code == VerdictCode::OverProvisioned));
    assert_eq!(r.sources[0].ignored, ["gpu_temp_c"]);
}

#[test]
fn over_provisioned_over_a_day_is_provisional() {
    let r = report("over_day.csv");
    assert_eq!(
        codes(&r),
        [VerdictCode::OverProvisioned, VerdictCode::MemoryUnknown]
    );
    assert!(r.verdicts[0].provisional);
    assert!(r.verdicts[0].message.contains("Provisional"));
    assert!(r.verdicts[0].message.contains("1.0 days"));
    assert_eq!(r.overall.mem_samples, 0);
    assert_eq!(r.overall.max_mem_pct, None);
}

#[test]
fn catalog_gives_the_framebuffer_total() {
    let c = crate::support::catalog();
    let mib = catalog_fb_total_mib(c, Some("g6.xlarge"), None)
        .unwrap()
        .unwrap();
    assert_eq!(mib, 22888.0);
    let by_gpu = catalog_fb_total_mib(c, None, Some("L4")).unwrap().unwrap();
    assert!(by_gpu > 20_000.0 && by_gpu < 25_000.0, "{by_gpu}");
    assert_eq!(catalog_fb_total_mib(c, None, None).unwrap(), None);
    let e = catalog_fb_total_mib(c, Some("g6.xlargee"), None).unwrap_err();
    assert!(e.to_string().contains("g6.xlarge"), "{e}");

    let r = read("over_day.csv").analyze(&Options {
        fb_total_mib: Some(mib),
    });
    assert_eq!(codes(&r), [VerdictCode::OverProvisioned]);
    assert!(close(r.overall.avg_mem_pct, 8000.0 / 22888.0 * 100.0));
    assert_eq!(r.overall.fb_total_source, Some(TotalSource::Fallback));
}

#[test]
fn under_provisioned_by_share_of_samples() {
    let r = report("tiny.csv");
    assert_eq!(codes(&r), [VerdictCode::UnderProvisioned]);
    let m = &r.verdicts[0].message;
    assert!(m.contains("in 25.0 % of the samples"), "{m}");
    assert!(m.contains("peaky"), "{m}");
}

#[test]
fn under_provisioned_by_daily_peaks() {
    let r = report("under_daily.csv");
    let o = &r.overall;
    // 2 hot hours of 24: 8.3 % of the samples, below the 20 % share...
    assert!(close(o.share_above_80_pct, 8.0 / 96.0 * 100.0));
    assert!(close(o.avg_util_pct, 53.75));
    // ...but more than 5 % of every one of the 4 days.
    assert_eq!((o.days, o.hot_days), (4, 4));
    assert_eq!(codes(&r), [VerdictCode::UnderProvisioned]);
    let v = &r.verdicts[0];
    assert!(v.provisional);
    assert!(v.message.contains("on 4 of 4 days"), "{}", v.message);
    assert!(!v.message.contains("of the samples"), "{}", v.message);
}

#[test]
fn memory_at_risk() {
    let r = report("memory.csv");
    assert_eq!(codes(&r), [VerdictCode::MemoryAtRisk]);
    let o = &r.overall;
    assert!(close(o.max_mem_pct, 21500.0 / 23034.0 * 100.0));
    assert!(close(o.p95_mem_pct, 21500.0 / 23034.0 * 100.0));
    let v = &r.verdicts[0];
    assert!(!v.provisional);
    assert!(v.message.contains("consistently"), "{}", v.message);
    assert!(!v.message.contains("preallocated"), "{}", v.message);
}

#[test]
fn flat_full_memory_is_flagged_as_a_preallocated_pool() {
    let text = "timestamp,instance,gpu,gpu_util,fb_used_mib,fb_total_mib\n\
                0,h,0,60,20700,23034\n60,h,0,60,20710,23034\n120,h,0,60,20705,23034\n";
    let r = parse("m.csv", text, UtilUnit::Auto)
        .unwrap()
        .analyze(&Options::default());
    // Flat near vLLM's 90 % pool on GPUs that are not saturated: the reservation, not a risk.
    assert_eq!(
        codes(&r),
        [VerdictCode::MemoryPreallocated, VerdictCode::RightSized]
    );
    assert!(r.verdicts[0].message.contains("pre-allocated"));
    assert!(!r.needs_action());
    // Flat but above 96 %: no room left, at risk whatever the cause.
    let text = "timestamp,instance,gpu,gpu_util,fb_used_mib,fb_total_mib\n\
                0,h,0,60,22500,23034\n60,h,0,60,22510,23034\n";
    let r = parse("m.csv", text, UtilUnit::Auto)
        .unwrap()
        .analyze(&Options::default());
    assert_eq!(codes(&r), [VerdictCode::MemoryAtRisk]);
    assert!(r.verdicts[0].message.contains("preallocated"));
    // Flat at 90 % on saturated GPUs: at risk (the pool may be full).
    let text = "timestamp,instance,gpu,gpu_util,fb_used_mib,fb_total_mib\n\
                0,h,0,95,20700,23034\n60,h,0,95,20710,23034\n";
    let r = parse("m.csv", text, UtilUnit::Auto)
        .unwrap()
        .analyze(&Options::default());
    assert!(
        codes(&r).contains(&VerdictCode::MemoryAtRisk),
        "{:?}",
        codes(&r)
    );
}

#[test]
fn right_sized_with_total_from_used_plus_free() {
    let r = report("right_sized.csv");
    assert_eq!(codes(&r), [VerdictCode::RightSized]);
    assert!(!r.verdicts[0].provisional);
    assert!(close(r.overall.avg_util_pct, 62.5));
    assert!(close(r.overall.fb_total_mib, 46068.0));
    assert_eq!(r.overall.fb_total_source, Some(TotalSource::UsedPlusFree));
    assert!(close(r.overall.max_mem_pct, 14000.0 / 46068.0 * 100.0));
    assert!(!r.needs_action());
}

#[test]
fn imbalanced_gpus() {
    let r = report("imbalanced.csv");
    assert_eq!(
        codes(&r),
        [VerdictCode::OverProvisioned, VerdictCode::Imbalanced]
    );
    assert!(r.verdicts[1].message.contains("node-g/0"));
    assert_eq!(r.gpus[0].verdicts[0].code, VerdictCode::OverProvisioned);
    assert_eq!(r.gpus[1].verdicts[0].code, VerdictCode::RightSized);
}

#[test]
fn no_samples_is_no_data() {
    let r = analyze(&[], &Options::default());
    assert_eq!(codes(&r), [VerdictCode::NoData]);
    assert_eq!(r.overall.window_s, 0.0);
    assert!(r.gpus.is_empty());
}

// ---------------------------------------------------------------------------------------------
// units

#[test]
fn fraction_utilisation_is_detected() {
    let m = read("fraction.csv");
    assert_eq!(m.sources[0].util_unit, Some(UtilUnit::Fraction));
    assert!(m.sources[0]
        .util_unit_note
        .as_deref()
        .unwrap()
        .contains("fraction"));
    let r = m.analyze(&Options::default());
    assert!(close(r.overall.avg_util_pct, 50.0));
    assert!(close(r.overall.max_util_pct, 75.0));
}

#[test]
fn explicit_units_override_detection() {
    let text = std::fs::read_to_string(fixture("fraction.csv")).unwrap();
    let m = read_csv("fraction.csv", &text, UtilUnit::Percent).unwrap();
    assert_eq!(m.sources[0].util_unit, Some(UtilUnit::Percent));
    assert!(close(
        m.analyze(&Options::default()).overall.avg_util_pct,
        0.5
    ));
    let text = "timestamp,instance,gpu,gpu_util,fb_used_mib\n0,h,0,1,10\n60,h,0,0,10\n";
    let pct = parse("m.csv", text, UtilUnit::Auto).unwrap();
    // 0 and 1 only: percent, with a note that it could be a fraction
    assert_eq!(pct.sources[0].util_unit, Some(UtilUnit::Percent));
    assert!(pct.sources[0].util_unit_note.is_some());
    let frac = parse("m.csv", text, UtilUnit::Fraction).unwrap();
    assert_eq!(frac.samples[0].util_pct, Some(100.0));
    let e = read_csv(
        "m.csv",
        "timestamp,instance,gpu,gpu_util,fb_used_mib\n0,h,0,45,1\n",
        UtilUnit::Fraction,
    )
    .unwrap_err()
    .to_string();
    assert_eq!(
        e,
        "m.csv:2: field `gpu_util`: 45 is above 1, but the values were declared a fraction (0–1)"
    );
    assert_eq!("fraction".parse::<UtilUnit>(), Ok(UtilUnit::Fraction));
    assert!("bogus".parse::<UtilUnit>().is_err());
}

#[test]
fn timestamps_rfc3339_and_unix() {
    let text = "timestamp,instance,gpu,gpu_util,fb_used_mib\n\
                2025-03-03T01:00:00+01:00,h,0,10,1\n\
                2025-03-03 00:01:00,h,0,10,1\n\
                2025-03-03t00:02:00.5z,h,0,10,1\n\
                1740960180.25,h,0,10,1\n\
                2024-02-29T00:00:00-00:30,h,1,10,1\n";
    let m = parse("m.csv", text, UtilUnit::Auto).unwrap();
    let ts: Vec<f64> = m.samples.iter().map(|s| s.timestamp_s).collect();
    let base = 1_740_960_000.0;
    let leap = 1_709_164_800.0 + 1800.0;
    assert_eq!(ts, [base, base + 60.0, base + 120.5, base + 180.25, leap]);
}

// ---------------------------------------------------------------------------------------------
// Prometheus

#[test]
fn prometheus_statistics_are_exact() {
    let m = read("dcgm.json");
    let s = &m.sources[0];
    assert_eq!(s.format, Format::Prometheus);
    assert_eq!(s.gpus, 2);
    assert_eq!(s.missing, 1);
    assert_eq!(s.ignored, ["DCGM_FI_DEV_GPU_TEMP"]);
    assert_eq!(s.records, 6 * 4);
    assert_eq!(m.samples.len(), 8);
    let r = m.analyze(&Options::default());
    let g0 = &r.gpus[0];
    assert_eq!((g0.instance.as_str(), g0.gpu.as_str()), ("node-h", "0"));
    assert_eq!(g0.stats.util_samples, 3);
    assert!(close(g0.stats.avg_util_pct, 60.0));
    assert!(close(g0.stats.p95_util_pct, 80.0));
    assert!(close(g0.stats.share_above_80_pct, 0.0));
    assert!(close(g0.stats.avg_mem_pct, 50.0));
    assert_eq!(g0.stats.fb_total_source, Some(TotalSource::UsedPlusFree));
    let g1 = &r.gpus[1];
    assert!(close(g1.stats.avg_util_pct, 92.5));
    assert!(close(g1.stats.p95_util_pct, 100.0));
    assert!(close(g1.stats.max_mem_pct, 22000.0 / 23034.0 * 100.0));
    assert_eq!(
        g1.verdicts.iter().map(|v| v.code).collect::<Vec<_>>(),
        [VerdictCode::UnderProvisioned, VerdictCode::MemoryAtRisk]
    );
    let o = &r.overall;
    assert!(close(o.avg_util_pct, 550.0 / 7.0));
    assert!(close(o.share_above_80_pct, 400.0 / 7.0));
    assert_eq!(o.window_s, 240.0);
    assert_eq!(
        codes(&r),
        [
            VerdictCode::UnderProvisioned,
            VerdictCode::MemoryAtRisk,
            VerdictCode::Imbalanced
        ]
    );
}

#[test]
fn prometheus_files_per_metric_join() {
    let both = read_files(
        &[fixture("dcgm_util.json"), fixture("dcgm_fb.json")],
        UtilUnit::Auto,
    )
    .unwrap();
    let one = read("dcgm.json");
    assert_eq!(both.samples, one.samples);
    assert_eq!(both.sources.len(), 2);
    assert_eq!(
        both.analyze(&Options::default()).overall,
        one.analyze(&Options::default()).overall
    );
}

#[test]
fn prometheus_array_of_responses_float_timestamps_and_labels() {
    let text = r#"[
      {"status":"success","data":{"resultType":"matrix","result":[
        {"metric":{"__name__":"DCGM_FI_DEV_GPU_UTIL","instance":"10.0.0.1:9400","UUID":"GPU-abc"},
         "values":[[1740960000.5,"30"],[1740960060.5,"50"]]}]}},
      {"status":"success","data":{"resultType":"matrix","result":[
        {"metric":{"__name__":"DCGM_FI_DEV_FB_USED","instance":"10.0.0.1:9400","UUID":"GPU-abc"},
         "values":[[1740960000.5,"100"],[1740960060.5,"+Inf"]]},
        {"metric":{"__name__":"DCGM_FI_DEV_FB_TOTAL","instance":"10.0.0.1:9400","UUID":"GPU-abc"},
         "values":[[1740960000.5,"400"]]}]}}
    ]"#;
    let m = parse("q.json", text, UtilUnit::Auto).unwrap();
    assert_eq!(m.samples.len(), 2);
    assert_eq!(m.samples[0].instance, "10.0.0.1:9400");
    assert_eq!(m.samples[0].gpu, "GPU-abc");
    assert_eq!(m.sources[0].missing, 1);
    let r = m.analyze(&Options::default());
    assert!(close(r.overall.avg_util_pct, 40.0));
    assert!(close(r.overall.avg_mem_pct, 25.0));
    assert_eq!(r.overall.mem_samples, 1);
}

// ---------------------------------------------------------------------------------------------
// errors

const H: &str = "timestamp,instance,gpu,gpu_util,fb_used_mib\n";

#[test]
fn csv_errors_name_file_line_and_field() {
    let cases = [
        (
            "timestamp,instance,gpu,gpu_util\n0,h,0,1\n".to_owned(),
            "m.csv:1: field `fb_used_mib`: missing column; the header needs timestamp,instance,gpu,gpu_util,fb_used_mib (found `timestamp,instance,gpu,gpu_util`)",
        ),
        (
            String::new(),
            "m.csv:1: field `timestamp`: missing column; the header needs timestamp,instance,gpu,gpu_util,fb_used_mib (found ``)",
        ),
        (
            format!("{H}0,h,0,10,1\n2025-13-01T00:00:00Z,h,0,10,1\n"),
            "m.csv:3: field `timestamp`: `2025-13-01T00:00:00Z` is not RFC 3339 (`2024-05-01T10:00:00Z`) or unix seconds",
        ),
        (
            format!("{H}1740960000000,h,0,10,1\n"),
            "m.csv:2: field `timestamp`: `1740960000000` looks like milliseconds since 1970; give seconds",
        ),
        (
            format!("{H}0,h,0,10,1\n60,h,0,10,1\n120,h,0,abc,1\n"),
            "m.csv:4: field `gpu_util`: `abc` is not a number",
        ),
        (
            format!("{H}0,h,0,150,1\n"),
            "m.csv:2: field `gpu_util`: 150 is outside 0–100 (percent) and 0–1 (fraction)",
        ),
        (
            format!("{H}0,h,0,10,-5\n"),
            "m.csv:2: field `fb_used_mib`: -5 MiB: must be ≥ 0",
        ),
        (
            format!("{H}0,h,0,10,inf\n"),
            "m.csv:2: field `fb_used_mib`: `inf` is not a finite number",
        ),
        (
            format!("{H}0,h,0,10,1\n60,h,0,10\n"),
            "m.csv:3: 4 fields where the header has 5",
        ),
        (H.to_owned(), "m.csv:2: no data rows after the header"),
    ];
    for (text, want) in cases {
        assert_eq!(err("m.csv", &text), want);
    }
}

#[test]
fn impossible_framebuffer_and_header_errors() {
    let t = "timestamp,instance,gpu,gpu_util,fb_used_mib,fb_total_mib,fb_free_mib\n";
    let cases = [
        (
            format!("{t}0,h,0,10,100,81920,0\n60,h,0,10,90000,81920,0\n"),
            "m.csv:3: field `fb_used_mib`: 90000 MiB is above fb_total_mib 81920 MiB",
        ),
        (
            format!("{t}0,h,0,10,100,81920,90000\n"),
            "m.csv:2: field `fb_free_mib`: 90000 MiB is above fb_total_mib 81920 MiB",
        ),
        (
            format!("{t}0,h,0,10,1,-1,0\n"),
            "m.csv:2: field `fb_total_mib`: -1 MiB: must be positive",
        ),
        (
            format!("{t}0,h,0,NaN,1,2,0\n60,h,0,-0.5,1,2,0\n"),
            "m.csv:3: field `gpu_util`: -0.5 is outside 0–100 (percent) and 0–1 (fraction)",
        ),
        (
            "timestamp,instance,gpu,gpu_util,fb_used_mib,GPU_UTIL\n0,h,0,1,1,2\n".to_owned(),
            "m.csv:1: column `GPU_UTIL` appears twice in the header (columns 4 and 6); keep one",
        ),
    ];
    for (text, want) in cases {
        assert_eq!(err("m.csv", &text), want);
    }
    let e = read_csv(
        "m.csv",
        &format!("{H}0,h,0,0.5,1\n60,h,0,2,1\n"),
        UtilUnit::Fraction,
    )
    .unwrap_err()
    .to_string();
    assert_eq!(
        e,
        "m.csv:3: field `gpu_util`: 2 is above 1, but the values were declared a fraction (0–1)"
    );
    // Prometheus: the used point is named by its JSON path.
    let series = |name: &str, v: &str| {
        format!(
            r#"{{"metric":{{"__name__":"{name}","Hostname":"h","gpu":"0"}},"values":[[0,"{v}"],[60,"{v}"]]}}"#
        )
    };
    let text = format!(
        r#"{{"status":"success","data":{{"resultType":"matrix","result":[{},{}]}}}}"#,
        series("DCGM_FI_DEV_FB_TOTAL", "1000"),
        series("DCGM_FI_DEV_FB_USED", "2000")
    );
    assert_eq!(
        err("q.json", &text),
        "q.json: field `data.result[1].values[0]`: 2000 MiB is above DCGM_FI_DEV_FB_TOTAL 1000 \
         MiB at the same time (DCGM_FI_DEV_FB_USED of h/0)"
    );
    // A total from another file is checked once the files are joined.
    let e = read_files(
        &[fixture("dcgm_fb.json"), fixture("dcgm_total_small.json")],
        UtilUnit::Auto,
    )
    .unwrap_err()
    .to_string();
    assert!(
        e.ends_with(
            "dcgm_total_small.json: field `fb_used_mib`: 20000 MiB is above the framebuffer \
             total 15000 MiB of node-h/1 at unix time 1740960000 s"
        ),
        "{e}"
    );
}

#[test]
fn a_catalog_size_below_the_used_memory_is_an_error() {
    let m = parse(
        "m.csv",
        &format!("{H}0,h,0,10,20000\n60,h,0,10,40000\n60,h,1,10,30000\n"),
        UtilUnit::Auto,
    )
    .unwrap();
    let e = m
        .check_fallback(Some(22888.0), "--instance g6.xlarge")
        .unwrap_err()
        .to_string();
    assert_eq!(
        e,
        "--instance g6.xlarge: its GPU has 22888 MiB, but fb_used_mib reaches 40000 MiB on h/0: \
         the metrics come from another GPU; name the instance type or GPU they were taken on"
    );
    assert!(m
        .check_fallback(Some(46068.0), "--instance g6e.xlarge")
        .is_ok());
    assert!(m.check_fallback(None, "").is_ok());
    // Samples with their own total or free value do not use the catalog's.
    let m = parse(
        "m.csv",
        "timestamp,instance,gpu,gpu_util,fb_used_mib,fb_free_mib\n0,h,0,10,40000,1000\n",
        UtilUnit::Auto,
    )
    .unwrap();
    assert!(m.check_fallback(Some(22888.0), "--gpu L4").is_ok());
}

#[test]
fn prometheus_errors_name_file_and_field() {
    let ok = |result: &str| {
        format!(r#"{{"status":"success","data":{{"resultType":"matrix","result":[{result}]}}}}"#)
    };
    let util = |values: &str| {
        ok(&format!(
            r#"{{"metric":{{"__name__":"DCGM_FI_DEV_GPU_UTIL","Hostname":"h","gpu":"0"}},"values":[{values}]}}"#
        ))
    };
    let cases = [
        (
            util(r#"[0,"1"],[60,"abc"]"#),
            "q.json: field `data.result[0].values[1]`: `abc` is not a number (DCGM_FI_DEV_GPU_UTIL of h/0)",
        ),
        (
            util(r#"[0,"150"]"#),
            "q.json: field `data.result[0].values[0]`: utilisation 150 is outside 0–100 % (DCGM_FI_DEV_GPU_UTIL of h/0)",
        ),
        (
            util(r#"[-5,"10"]"#),
            "q.json: field `data.result[0].values[0]`: the timestamp is not a finite time ≥ 0 (DCGM_FI_DEV_GPU_UTIL of h/0)",
        ),
        (
            ok(r#"{"metric":{"gpu":"0"},"values":[[0,"1"]]}"#),
            "q.json: field `data.result[0].metric.__name__`: missing: the series has no metric name",
        ),
        (
            ok(r#"{"metric":{"__name__":"DCGM_FI_DEV_GPU_TEMP"},"values":[[0,"1"]]}"#),
            "q.json: no DCGM_FI_DEV_GPU_UTIL, DCGM_FI_DEV_FB_USED or DCGM_FI_DEV_FB_FREE series (found: DCGM_FI_DEV_GPU_TEMP)",
        ),
        (ok(""), "q.json: `data.result` is empty: the query matched no series"),
        (
            r#"{"status":"success","data":{"resultType":"vector","result":[]}}"#.to_owned(),
            "q.json: field `data.resultType`: `vector` is the answer of an instant query",
        ),
        (
            r#"{"status":"error","errorType":"bad_data","error":"parse error at char 5"}"#
                .to_owned(),
            "q.json: field `status`: the query failed: bad_data: parse error at char 5",
        ),
        (
            r#"[{"status":"success","data":{"resultType":"matrix","result":[]}},{"data":{}}]"#
                .to_owned(),
            "q.json: field `[1].status`: missing",
        ),
        (
            "{\"status\":\"success\",\n\"data\":{\"resultType\":\"matrix\",\n\"result\":[{\"values\":[[1,\"2\",3]]}]}}".to_owned(),
            "q.json:3:",
        ),
        ("{\"status\": \"success\",\n  \"data\": {".to_owned(), "q.json:2: EOF while parsing"),
    ];
    for (text, want) in cases {
        let got = err("q.json", &text);
        assert!(got.starts_with(want), "want `{want}`\n got `{got}`");
    }
}

#[test]
fn file_errors_name_the_path() {
    let e = read_file(&fixture("bad_util.csv"), UtilUnit::Auto)
        .unwrap_err()
        .to_string();
    assert!(
        e.ends_with("bad_util.csv:3: field `gpu_util`: `4 5` is not a number"),
        "{e}"
    );
    let e = read_file(&fixture("bad_value.json"), UtilUnit::Auto)
        .unwrap_err()
        .to_string();
    assert!(
        e.ends_with("bad_value.json: field `data.result[0].values[1]`: `8,000` is not a number (DCGM_FI_DEV_FB_USED of node-x/0)"),
        "{e}"
    );
    let e = read_file(&fixture("missing.csv"), UtilUnit::Auto).unwrap_err();
    assert!(matches!(e, RightsizeError::Io { .. }));
    assert!(e.to_string().contains("missing.csv: "), "{e}");
}

// ---------------------------------------------------------------------------------------------
// no panics

fn cell() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        Just("NaN".to_owned()),
        Just("inf".to_owned()),
        Just("-1".to_owned()),
        Just("2025-03-03T00:00:00Z".to_owned()),
        Just("2025-02-30T00:00:00+25:00".to_owned()),
        Just("9999999999999".to_owned()),
        (0.0f64..150.0).prop_map(|v| v.to_string()),
        (0u32..2_000_000_000).prop_map(|v| v.to_string()),
        "[ -~]{0,12}",
        "\\PC{0,6}",
    ]
}

proptest! {
    #[test]
    fn any_text_never_panics(text in "\\PC{0,300}") {
        let _ = parse("p.csv", &text, UtilUnit::Auto);
        let _ = parse("p.json", &format!("{{{text}"), UtilUnit::Auto);
        let _ = parse("p.json", &format!("[{text}"), UtilUnit::Fraction);
    }

    #[test]
    fn csv_like_rows_never_panic(
        header in prop::sample::subsequence(
            vec!["timestamp", "instance", "gpu", "gpu_util", "fb_used_mib", "fb_total_mib", "fb_free_mib", "x"], 0..=8),
        rows in prop::collection::vec(prop::collection::vec(cell(), 0..9), 0..12),
        unit in prop_oneof![Just(UtilUnit::Auto), Just(UtilUnit::Percent), Just(UtilUnit::Fraction)],
    ) {
        let mut text = header.join(",");
        text.push('\n');
        for r in &rows {
            text.push_str(&r.iter().map(|c| c.replace([',', '"', '\n', '\r'], "")).collect::<Vec<_>>().join(","));
            text.push('\n');
        }
        match parse("p.csv", &text, unit) {
            Ok(m) => {
                let r = m.analyze(&Options { fb_total_mib: Some(1000.0) });
                for v in [r.overall.avg_util_pct, r.overall.p95_util_pct, r.overall.max_util_pct].into_iter().flatten() {
                    prop_assert!((0.0..=100.0).contains(&v));
                }
                prop_assert!(!r.verdicts.is_empty());
            }
            Err(e) => prop_assert!(!e.to_string().contains('\n')),
        }
    }

    #[test]
    fn mangled_prometheus_never_panics(cut in 0usize..3500, at in 0usize..3500, byte in 0u8..128) {
        let text = std::fs::read_to_string(fixture("dcgm.json")).unwrap();
        let mut b = text.into_bytes();
        if at < b.len() { b[at] = byte; }
        b.truncate(cut.max(1));
        let text = String::from_utf8_lossy(&b);
        if let Err(e) = parse("p.json", &text, UtilUnit::Auto) {
            prop_assert!(!e.to_string().contains('\n'));
        }
    }

    #[test]
    fn any_samples_never_panic(
        raw in prop::collection::vec(
            (any::<f64>(), 0u8..3, prop::option::of(any::<f64>()), prop::option::of(any::<f64>()),
             prop::option::of(any::<f64>()), prop::option::of(any::<f64>())),
            0..40),
        fallback in prop::option::of(any::<f64>()),
    ) {
        let samples: Vec<Sample> = raw.into_iter().map(|(t, g, u, used, free, total)| Sample {
            timestamp_s: t,
            instance: "h".into(),
            gpu: g.to_string(),
            util_pct: u,
            fb_used_mib: used,
            fb_free_mib: free,
            fb_total_mib: total,
        }).collect();
        let r = analyze(&samples, &Options { fb_total_mib: fallback });
        let o = &r.overall;
        if let (Some(avg), Some(p95), Some(max)) = (o.avg_util_pct, o.p95_util_pct, o.max_util_pct) {
            prop_assert!(p95 <= max);
            prop_assert!(avg <= max || !avg.is_finite());
        }
        prop_assert!(!r.verdicts.is_empty());
        let _ = serde_json::to_string(&r).unwrap();
        let p = example_plan();
        let s = suggest_from_plan(&r, p, fallback);
        prop_assert!(!s.reason.is_empty());
    }
}

// ---------------------------------------------------------------------------------------------
// suggestion

#[test]
fn over_provisioned_picks_the_cheapest_with_the_saving() {
    let r = report("over_week.csv");
    // Today: two g6e.2xlarge on demand.
    let current = 2.0
        * crate::support::catalog()
            .instance("g6e.2xlarge")
            .unwrap()
            .on_demand("us-east-1")
            .unwrap();
    let p = plan_with_tight_cheapest();
    let s = suggest_from_plan(&r, &p, Some(current));
    assert_eq!(s.action, Action::Cheaper);
    assert_eq!(label(&s), "g6.xlarge tp1 fp8 vllm ×2");
    assert_eq!(s.rank, Some(1));
    let c = s.candidate.as_ref().unwrap();
    let saving = s.saving_usd_per_hour.unwrap();
    assert!((saving - (current - c.usd_per_hour)).abs() < 1e-9);
    assert!(saving > 0.0);
    assert!((s.saving_pct.unwrap() - saving / current * 100.0).abs() < 1e-9);
    assert!(s.reason.contains("over-provisioned"), "{}", s.reason);
    assert!(s.reason.contains("saving $"), "{}", s.reason);
    // The cheapest runs close to the SLOs: the reason names the cheapest with headroom.
    let (rank, safer) = cheapest_with_headroom(&p);
    assert!(rank > 1);
    let instance = safer.split(' ').next().unwrap();
    assert!(
        s.reason.contains(&format!("#{rank} {instance}")),
        "{}",
        s.reason
    );
    assert_eq!(s.candidates, p.candidates.len());
}

#[test]
fn over_provisioned_but_nothing_cheaper_keeps() {
    let r = report("over_week.csv");
    let s = suggest_from_plan(&r, example_plan(), Some(0.5));
    assert_eq!(s.action, Action::Keep);
    assert!(s.saving_usd_per_hour.unwrap() < 0.0);
    assert!(s.reason.contains("costs no less"), "{}", s.reason);
}

#[test]
fn under_provisioned_picks_the_cheapest_with_headroom() {
    let r = report("under_daily.csv");
    let p = &plan_with_tight_cheapest();
    let s = suggest_from_plan(&r, p, None);
    assert_eq!(s.action, Action::Safer);
    // The cheapest (two g6.xlarge) has SLO headroom 1.04: the suggestion is the cheapest with
    // headroom ≥ 1.3.
    let (rank, safer) = cheapest_with_headroom(p);
    assert_eq!(label(&s), safer);
    assert_eq!(s.rank, Some(rank));
    assert!(p.candidates[0].slo_headroom < 1.3);
    assert!(s.candidate.as_ref().unwrap().slo_headroom >= 1.3);
    assert_eq!(s.saving_usd_per_hour, None);
    assert!(
        s.reason
            .contains("under-provisioned (above 80 % on 4 of 4 days)"),
        "{}",
        s.reason
    );
    assert!(s.reason.contains("headroom ≥ 1.3"), "{}", s.reason);
    assert!(s.reason.contains("provisional"), "{}", s.reason);
}

#[test]
fn memory_at_risk_picks_the_safer_deployment() {
    let r = report("memory.csv");
    let s = suggest_from_plan(&r, example_plan(), Some(0.4));
    assert_eq!(s.action, Action::Safer);
    // The cheapest with SLO headroom ≥ 1.3.
    assert_eq!(label(&s), cheapest_with_headroom(example_plan()).1);
    assert!(s.reason.contains("memory at risk"), "{}", s.reason);
    assert!(
        s.reason.contains("more than the current $0.40/h"),
        "{}",
        s.reason
    );
}

#[test]
fn without_enough_headroom_the_most_is_picked() {
    let mut p = example_plan().clone();
    for (i, c) in p.candidates.iter_mut().enumerate() {
        c.slo_headroom = if i == 4 { 1.2 } else { 1.1 };
    }
    let s = suggest_from_plan(&report("tiny.csv"), &p, None);
    assert_eq!(s.action, Action::Safer);
    assert_eq!(s.rank, Some(5));
    assert!(s.reason.contains("has the most"), "{}", s.reason);
}

#[test]
fn right_sized_keeps_and_no_candidate_says_why() {
    let s = suggest_from_plan(&report("right_sized.csv"), example_plan(), None);
    assert_eq!(s.action, Action::Keep);
    assert_eq!(s.rank, Some(1));
    assert!(s.reason.starts_with("right-sized"), "{}", s.reason);

    let mut p = example_plan().clone();
    p.candidates.clear();
    let s = suggest_from_plan(&report("over_week.csv"), &p, None);
    assert_eq!(s.action, Action::NoCandidate);
    assert!(s.candidate.is_none());

    let s = suggest_from_plan(&analyze(&[], &Options::default()), example_plan(), None);
    assert_eq!(s.action, Action::NoData);
}

#[test]
fn unknown_model_is_an_error() {
    let mut w = example();
    w.model.name = "llama-2-13x".to_owned();
    let e = suggest(&report("tiny.csv"), &w, &inputs(), &Current::default()).unwrap_err();
    assert!(matches!(e, RightsizeError::Plan(_)));
    assert!(e.to_string().contains("unknown model"), "{e}");
}

// Sized from the measured load.

fn workload_file(name: &str) -> Workload {
    Workload::load(&fixture(name)).unwrap()
}

#[test]
fn under_provisioned_on_a_known_instance_gets_more_capacity() {
    // One g6e.12xlarge (4 L40S) above 80 % every day: the suggestion serves more than it.
    let r = report("under_daily.csv");
    let s = suggest(&r, &example(), &inputs(), &on("g6e.12xlarge")).unwrap();
    assert_eq!(s.action, Action::Safer);
    let m = s.sizing.as_ref().expect("sized from the measured load");
    assert_eq!((m.instance.as_str(), m.instances), ("g6e.12xlarge", 1));
    assert!(m.observed_util_pct >= 80.0);
    assert!(m.needed_capacity_rps > m.capacity_rps);
    let cap = s.candidate_capacity_rps.unwrap();
    assert!(cap > m.capacity_rps, "{cap} ≤ {}", m.capacity_rps);
    assert!(cap >= m.needed_capacity_rps - 1e-9);
    assert!(
        s.reason.contains("Sized from the measured load"),
        "{}",
        s.reason
    );
    assert!(
        s.reason.contains("more capacity than today's"),
        "{}",
        s.reason
    );
}

#[test]
fn under_provisioned_without_the_instance_never_costs_less_than_today() {
    let r = report("under_daily.csv");
    let today = 10.0;
    let s = suggest(&r, &example(), &inputs(), &cost(today)).unwrap();
    assert_ne!(s.action, Action::Cheaper);
    if let Some(c) = &s.candidate {
        assert!(c.usd_per_hour >= today, "{}", s.reason);
    }
    assert!(s.sizing.is_none());
}

#[test]
fn over_provisioned_on_a_known_instance_is_cheaper() {
    let r = report("over_week.csv");
    let s = suggest(&r, &example(), &inputs(), &on("g6e.2xlarge")).unwrap();
    assert_eq!(s.action, Action::Cheaper);
    let m = s.sizing.as_ref().unwrap();
    // Two GPUs seen, one per g6e.2xlarge: two instances today.
    assert_eq!(m.instances, 2);
    assert!(m.needed_capacity_rps < m.capacity_rps);
    let c = s.candidate.as_ref().unwrap();
    assert!(c.usd_per_hour < m.current_usd_per_hour);
    assert!(s.saving_usd_per_hour.unwrap() > 0.0);
    assert!(s.candidate_capacity_rps.unwrap() >= m.needed_capacity_rps - 1e-9);
}

#[test]
fn article_003_g5_at_15_percent_moves_to_a_cheaper_instance() {
    // A synthetic week of article 003's example: 15 % on a g5.2xlarge, vLLM's pool holding the
    // framebuffer flat at 90 %.
    let r = report("article_003_week.csv");
    assert!(close(r.overall.avg_util_pct, 15.0));
    assert_eq!(
        codes(&r),
        [
            VerdictCode::OverProvisioned,
            VerdictCode::MemoryPreallocated
        ]
    );
    let w = workload_file("article_003.toml");
    let s = suggest(&r, &w, &inputs(), &on("g5.2xlarge")).unwrap();
    assert_eq!(s.action, Action::Cheaper, "{}", s.reason);
    let today = crate::support::catalog()
        .instance("g5.2xlarge")
        .unwrap()
        .on_demand("us-east-1")
        .unwrap();
    let c = s.candidate.as_ref().unwrap();
    assert!(c.usd_per_hour < today, "{}", s.reason);
    assert!(c.instance != "g6e.xlarge", "{}", s.reason);
    // The article's cheaper families are in the plan the pick comes from.
    let p = plan(&inputs(), &w).unwrap();
    for family in ["g4dn", "g5", "g6"] {
        assert!(
            p.candidates.iter().any(|c| c.family == family),
            "no {family} candidate"
        );
    }
    // Without the instance type, the verdicts alone never pick a dearer deployment either.
    let s = suggest(&r, &w, &inputs(), &cost(today)).unwrap();
    assert_eq!(s.action, Action::Cheaper);
    assert!(s.candidate.unwrap().usd_per_hour < today);
}
