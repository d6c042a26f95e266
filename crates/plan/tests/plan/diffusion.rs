//! The diffusion planner on the example workloads: pinned answers, invariants, the break-even
//! volume, findings and workload errors.

use inferplan_catalog::Dtype;
use inferplan_perf::diffusion::{DiffusionEfficiencies, Offload};
use inferplan_plan::diffusion::{is_diffusion, plan_diffusion, DiffusionPlan, DiffusionWorkload};
use inferplan_plan::workload::{Mode, Tenancy};
use inferplan_plan::PlanError;

use crate::support::catalog;

fn run(w: &DiffusionWorkload) -> DiffusionPlan {
    plan_diffusion(catalog(), DiffusionEfficiencies::embedded(), w).unwrap()
}

fn text(name: &str) -> String {
    std::fs::read_to_string(crate::support::example(name)).unwrap()
}

fn example(name: &str) -> DiffusionWorkload {
    let t = text(name);
    assert!(is_diffusion(&t), "{name} is a diffusion workload");
    let w = DiffusionWorkload::from_toml(&t, name).unwrap();
    w.validate().unwrap();
    w
}

const EXAMPLES: [&str; 3] = [
    "video-720p-report-clips.toml",
    "video-1080p-async.toml",
    "image-sdxl-product-shots.toml",
];

#[test]
fn llm_examples_are_not_diffusion() {
    assert!(!is_diffusion(&text("chat-70b-fp8.toml")));
    assert!(!is_diffusion("not toml ["));
}

#[test]
fn examples_pinned() {
    // The cheapest option of each example: instance, denoiser format, offload. A change here
    // is a change of the answer and belongs in docs/diffusion.md.
    for (name, instance, dtype, offload) in [
        (
            "video-720p-report-clips.toml",
            "g6e.xlarge",
            Dtype::Fp8,
            Offload::None,
        ),
        (
            "video-1080p-async.toml",
            "g6e.2xlarge",
            Dtype::Fp8,
            Offload::Sequential,
        ),
        // SDXL at 1024x1024: an L4 (300 GB/s) spends most of a step on activation traffic
        // since issue 16, so the L40S instance is the cheaper way to keep the SLO.
        (
            "image-sdxl-product-shots.toml",
            "g6e.xlarge",
            Dtype::Bf16,
            Offload::None,
        ),
    ] {
        let p = run(&example(name));
        let best = &p.candidates[0];
        assert_eq!(
            (best.instance.as_str(), best.precision, best.offload),
            (instance, dtype, offload),
            "{name}"
        );
    }
}

#[test]
fn every_candidate_keeps_the_promise_and_is_ordered() {
    for name in EXAMPLES {
        let w = example(name);
        let p = run(&w);
        assert!(!p.candidates.is_empty(), "{name}");
        for c in &p.candidates {
            if let Some(limit) = w.limit_s() {
                assert!(c.job_s <= limit, "{name} {}", c.instance);
                if w.slo.mode == Mode::Interactive {
                    assert!(
                        c.latency_p_s <= limit + 1e-9,
                        "{name} {}: {}",
                        c.instance,
                        c.latency_p_s
                    );
                }
            }
            assert!(c.usd_per_day > 0.0 && c.usd_per_output > 0.0);
            assert!(c.utilization > 0.0 && c.utilization <= 1.0);
            let outputs = w.mean_jobs_s() * 86_400.0 * p.job.batch as f64;
            assert!((c.usd_per_output * outputs - c.usd_per_day).abs() < 1e-6 * c.usd_per_day);
        }
        for pair in p.candidates.windows(2) {
            assert!(pair[0].usd_per_day <= pair[1].usd_per_day, "{name}");
        }
    }
}

#[test]
fn more_jobs_never_cost_less_and_looser_limits_never_cost_more() {
    for name in EXAMPLES {
        let base = example(name);
        let cost = |w: &DiffusionWorkload| run(w).candidates.first().map(|c| c.usd_per_day);
        let mut prev = 0.0;
        for k in [0.25, 0.5, 1.0, 2.0, 4.0] {
            let mut w = base.clone();
            w.traffic.jobs_per_day = w.traffic.jobs_per_day.map(|v| v * k);
            let c = cost(&w).unwrap();
            assert!(c >= prev - 1e-9, "{name}: ×{k} jobs costs {c} < {prev}");
            prev = c;
        }
        let mut prev = f64::INFINITY;
        for k in [1.0, 1.5, 2.0, 4.0] {
            let mut w = base.clone();
            w.slo.latency_s = w.slo.latency_s.map(|v| v * k);
            w.slo.deadline_s = w.slo.deadline_s.map(|v| v * k);
            let c = cost(&w).unwrap();
            assert!(c <= prev + 1e-9, "{name}: ×{k} limit costs {c} > {prev}");
            prev = c;
        }
    }
}

#[test]
fn more_steps_never_cost_less() {
    let base = example("image-sdxl-product-shots.toml");
    let mut prev = 0.0;
    for steps in [10, 20, 30, 40, 50] {
        let mut w = base.clone();
        w.job.steps = Some(steps);
        let c = run(&w).candidates[0].usd_per_output;
        assert!(c >= prev, "{steps} steps: {c} < {prev}");
        prev = c;
    }
}

#[test]
fn break_even_volume_is_where_the_costs_cross() {
    let w = example("video-720p-report-clips.toml");
    let p = run(&w);
    let best = &p.candidates[0];
    let b = best.break_even.as_ref().unwrap();
    let v = b.jobs_per_day.unwrap();
    assert!(v > 1.0 && v < 400.0, "{v}");
    let cost_at = |jobs: f64| {
        let mut w2 = w.clone();
        w2.traffic.jobs_per_day = Some(jobs);
        run(&w2)
            .candidates
            .iter()
            .find(|c| c.instance == best.instance && c.precision == best.precision)
            .unwrap()
            .usd_per_day
    };
    let managed = b.managed_usd_per_output;
    assert!(cost_at(v) <= managed * v * 1.0001, "at {v}");
    assert!(cost_at(v * 0.8) > managed * v * 0.8, "below {v}");
    // Without a managed price there is no break-even.
    let mut w3 = w.clone();
    w3.managed.usd_per_output = None;
    assert!(run(&w3).candidates[0].break_even.is_none());
}

#[test]
fn findings_follow_the_workload() {
    let w = example("video-720p-report-clips.toml");
    assert_eq!(w.constraints.tenancy, Tenancy::Isolated);
    let codes = |p: &DiffusionPlan| -> Vec<&'static str> {
        p.candidates[0].findings.iter().map(|f| f.code).collect()
    };
    let p = run(&w);
    assert!(codes(&p).contains(&"IP101"), "{:?}", codes(&p));
    let mut shared = w.clone();
    shared.constraints.tenancy = Tenancy::Shared;
    assert!(!codes(&run(&shared)).contains(&"IP101"));
    // Offload on the cheapest 1080p option; none when the job fits.
    assert!(codes(&run(&example("video-1080p-async.toml"))).contains(&"IP112"));
    assert!(!codes(&p).contains(&"IP112"));
    // A scale-to-zero pool has no idle warm pool.
    let async_1080 = run(&example("video-1080p-async.toml"));
    assert!(async_1080.candidates[0].scale_to_zero);
    assert!(!codes(&async_1080).contains(&"IP111"));
    // 8-GPU instances packed with one-GPU job workers.
    let mut big = example("image-sdxl-product-shots.toml");
    big.constraints.instance_families = vec!["p5".to_owned()];
    big.traffic.jobs_per_day = Some(400_000.0);
    let p5 = run(&big);
    let c = p5
        .candidates
        .iter()
        .find(|c| c.gpus_per_instance == 8)
        .unwrap();
    assert!(
        c.findings.iter().any(|f| f.code == "IP103"),
        "{:?}",
        c.findings
    );
}

#[test]
fn impossible_promises_list_the_nearest_misses() {
    let mut w = example("video-720p-report-clips.toml");
    w.job.seconds = Some(30.0);
    w.slo.latency_s = Some(60.0);
    let p = run(&w);
    assert!(p.candidates.is_empty());
    assert!(!p.nearest_misses.is_empty());
    let m: Vec<f64> = p.nearest_misses.iter().map(|r| r.miss.unwrap()).collect();
    assert!(m.windows(2).all(|x| x[0] <= x[1]), "{m:?}");
    assert!(m[0] > 1.0);
}

fn field_of(text: &str) -> (Option<usize>, Option<String>) {
    let e = DiffusionWorkload::from_toml(text, "w.toml").and_then(|w| {
        w.validate()
            .map(|_| w)
            .map_err(|e| e.locate("w.toml", text))
    });
    match e {
        Err(PlanError::Workload { line, field, .. }) => (line, field),
        other => panic!("{other:?}"),
    }
}

#[test]
fn workload_errors_name_line_and_field() {
    let base = "[model]\nname = \"sdxl\"\n[traffic]\njobs_per_day = 10\n[slo]\nlatency_s = 30\n";
    assert!(DiffusionWorkload::from_toml(base, "w.toml")
        .unwrap()
        .validate()
        .is_ok());
    let (line, field) = field_of(&format!("{base}[job]\nwidht = 5\n"));
    assert_eq!((line, field.as_deref()), (Some(8), Some("job.widht")));
    let (_, field) = field_of("[model]\nname = \"sdxl\"\n[traffic]\njobs_per_day = 10\njobs_per_hour = 1\n[slo]\nlatency_s = 30\n");
    assert_eq!(field.as_deref(), Some("traffic.jobs_per_hour"));
    let (_, field) = field_of(
        "[model]\nname = \"sdxl\"\n[traffic]\njobs_per_day = 10\n[slo]\nmode = \"async\"\n",
    );
    assert_eq!(field.as_deref(), Some("slo.deadline_s"));
    let (_, field) = field_of("[model]\nname = \"sdxl\"\nprecision = \"int4\"\n[traffic]\njobs_per_day = 10\n[slo]\nlatency_s = 30\n");
    assert_eq!(field.as_deref(), Some("model.precision"));
    let (_, field) =
        field_of("[model]\nname = \"sdxl\"\n[traffic]\njobs_per_day = -1\n[slo]\nlatency_s = 30\n");
    assert_eq!(field.as_deref(), Some("traffic.jobs_per_day"));
    // A job the model cannot make is refused by the planner, naming the job field.
    let w = DiffusionWorkload::from_toml(&format!("{base}[job]\nseconds = 3\n"), "w.toml").unwrap();
    match plan_diffusion(catalog(), DiffusionEfficiencies::embedded(), &w) {
        Err(PlanError::Workload { field, .. }) => assert_eq!(field.as_deref(), Some("job.seconds")),
        other => panic!("{other:?}"),
    }
}

mod fuzz {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// Arbitrary text is an error or a workload, never a panic.
        #[test]
        fn arbitrary_text_never_panics(text in "\\PC{0,300}") {
            if let Ok(w) = DiffusionWorkload::from_toml(&text, "fuzz.toml") {
                let _ = w.validate();
            }
        }

        /// Any job the reader accepts is planned or refused with an error, never a panic.
        #[test]
        fn random_jobs_plan_or_refuse(
            model in prop::sample::select(vec!["sd15", "sdxl", "flux.1-schnell", "wan2.1-t2v-1.3b", "HunyuanVideo", "svd-xt"]),
            width in 0u64..5000,
            height in 0u64..5000,
            seconds in 0.0f64..40.0,
            steps in 0u64..80,
            jobs in 0.0f64..1e5,
            latency in 0.0f64..3600.0,
            mode in prop::sample::select(vec!["interactive", "async", "batch"]),
        ) {
            let video = ["wan", "hunyuan", "svd"].iter().any(|k| model.to_lowercase().contains(k));
            let clip = if video { format!("seconds = {seconds}\n") } else { String::new() };
            let text = format!(
                "[model]\nname = \"{model}\"\n[job]\nwidth = {width}\nheight = {height}\nsteps = {steps}\n{clip}[traffic]\njobs_per_day = {jobs}\n[slo]\nmode = \"{mode}\"\nlatency_s = {latency}\ndeadline_s = {latency}\n"
            );
            let w = DiffusionWorkload::from_toml(&text, "fuzz.toml").unwrap();
            if w.validate().is_ok() {
                let _ = plan_diffusion(catalog(), DiffusionEfficiencies::embedded(), &w);
            }
        }
    }
}

/// Batch diffusion work is planned by the same job model as LLM batch work
/// (`inferplan_plan::job::plan_job`): the day's jobs as GPU-hours, one job as the last piece of
/// work, in the window, billed only while the GPUs run.
#[test]
fn batch_jobs_use_the_shared_job_model() {
    use inferplan_plan::job::{plan_job, JobSpec, Window};
    let mut w = example("image-sdxl-product-shots.toml");
    w.slo.mode = Mode::Batch;
    w.slo.latency_s = None;
    w.slo.deadline_s = None;
    w.slo.window_hours = Some(6.0);
    w.slo.window_start_utc = Some(1);
    w.validate().unwrap();
    let p = run(&w);
    assert!(!p.candidates.is_empty(), "{:?}", p.rejected);
    let jobs_per_day = w.mean_jobs_s() * 86_400.0;
    for c in &p.candidates {
        let job = c.purchase_mix.batch_job.as_ref().expect("batch job");
        assert!(job.finish_p99_hours <= 6.0 + 1e-9, "{}", c.instance);
        assert!(c.scale_to_zero && c.warm_pool_gpus == 0);
        let spec = JobSpec {
            work_unit_hours: jobs_per_day * c.job_s / 3600.0,
            units_per_instance: c.gpus_per_instance,
            instances_per_unit: 1,
            cold_start_s: c.cold_start_s,
            tail_s: c.job_s,
            spot_overhead: job.on_spot.then_some(job.interruption_overhead),
            window: Window::daily(Some(6.0), Some(1)),
        };
        let (same, billed) = plan_job(&spec).unwrap();
        assert_eq!(
            (same.units, same.instances, same.runs_per_day, same.on_spot),
            (job.units, job.instances, job.runs_per_day, job.on_spot),
            "{}",
            c.instance
        );
        for (a, b) in [
            (same.work_unit_hours, job.work_unit_hours),
            (same.run_hours, job.run_hours),
            (same.finish_p99_hours, job.finish_p99_hours),
        ] {
            assert!(
                (a - b).abs() < 1e-9 * b.max(1.0),
                "{}: {a} vs {b}",
                c.instance
            );
        }
        // GPUs billed only inside the window (01:00 to 07:00 UTC).
        for (h, instances) in billed.iter().enumerate() {
            let gpus = instances * f64::from(c.gpus_per_instance);
            assert!(
                (c.hourly_gpus[h] - gpus).abs() < 1e-6,
                "{} hour {h}",
                c.instance
            );
            if !(1..7).contains(&h) {
                assert_eq!(c.hourly_gpus[h], 0.0, "{} hour {h}", c.instance);
            }
        }
    }
}

/// A worker that offloads weights to host memory gets its share of the instance's memory
/// (`inferplan_serving::host::pod_memory_gib`, what `render` requests): every candidate's
/// offloaded weights fit in it, and an instance whose share is too small is rejected with the
/// reason. The 1080p clip on a g6e.xlarge (32 GiB, 25 GiB for the worker) keeps 23.5 GiB of
/// weights in host memory plus the process: it would be killed for memory.
#[test]
fn offloaded_weights_fit_in_the_workers_host_memory() {
    use inferplan_perf::diffusion::{diffusion_model, memory};
    use inferplan_serving::host::pod_memory_gib;
    for name in EXAMPLES {
        let w = example(name);
        let p = run(&w);
        let m = diffusion_model(&p.model).unwrap();
        for c in &p.candidates {
            let inst = catalog().instance(&c.instance).unwrap();
            let mem = memory(m, &p.job, c.precision, c.offload);
            let pod = pod_memory_gib(inst.ram_gib, f64::from(c.gpus_per_instance), 1) as f64;
            if c.offload != Offload::None {
                assert!(mem.host_gib() <= pod, "{name} {}", c.instance);
            }
        }
    }
    let p = run(&example("video-1080p-async.toml"));
    let r = p
        .rejections
        .iter()
        .find(|r| r.instance == "g6e.xlarge" && r.setup == "fp8")
        .expect("g6e.xlarge fp8 is rejected");
    assert_eq!(r.reason, "host_memory_too_small", "{}", r.detail);
}
