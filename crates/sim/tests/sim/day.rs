//! `plan --verify`'s day: the rendered autoscaling through a workload's daily profile.

use inferplan_plan::search::plan;
use inferplan_plan::workload::Workload;
use inferplan_sim::day::{day, rendered_targets};

/// Quiet mornings, then ten times the traffic from noon: a rise no headroom absorbs.
const STEEP: &str = r#"
name = "steep"
[model]
name = "Llama 3.1 8B"
precision = "fp8"
[traffic]
rate_rps = 3.0
daily_profile = [0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1,
                 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0]
[lengths]
input_tokens = { mean = 600, p99 = 2000 }
output_tokens = { mean = 150, p99 = 500 }
[slo]
ttft_ms = 2000.0
tpot_ms = 80.0
percentile = "p99"
[constraints]
max_gpus_per_replica = 1
instance_families = ["g6"]
regions = ["us-east-1"]
"#;

/// The day of the first option: 24 hours beside the plan's replicas; the quiet morning
/// meets the SLO; an hour is listed as failing exactly when its attainment is below the
/// percentile's share, and then the day says what would fix it; the nodes hold the
/// replicas. (On this workload the analytic plan's capacity is above the simulator's, so the
/// busy afternoon misses the SLO with the plan's single replica: the day is where that
/// shows.)
#[test]
fn the_day_reports_each_hour_and_what_would_fix_the_failing_ones() {
    let w = Workload::from_toml(STEEP, "steep.toml").unwrap();
    w.validate().unwrap();
    let inputs = crate::planner::inputs();
    let p = plan(&inputs, &w).unwrap();
    let c = &p.candidates[p.option_indices()[0]];
    let t = rendered_targets(&w, c);
    let d = day(&inputs, &w, c, 0.99, 1, 5_000_000).unwrap();
    assert_eq!((d.min_replicas, d.max_replicas), (t.min, t.max));
    assert_eq!(d.hours.len(), 24);
    for h in &d.hours[..12] {
        assert!(h.slo_attainment.unwrap() >= 0.99, "{h:?}");
    }
    let below: Vec<u32> = d
        .hours
        .iter()
        .filter(|h| h.slo_attainment.unwrap() < 0.99)
        .map(|h| h.hour)
        .collect();
    assert_eq!(d.failing_hours, below);
    assert_eq!(d.fix.is_some(), !below.is_empty());
    if let Some(fix) = &d.fix {
        assert!(fix.contains("minReplicaCount"), "{fix}");
    }
    for h in &d.hours {
        let per_node = c.replicas_per_instance.max(1);
        assert!(h.nodes_max * per_node >= h.replicas_max, "{h:?}");
    }
    assert!(d.node_hours >= 24.0 && d.cost_usd > 0.0, "{d:?}");
}

/// The same option as a SageMaker endpoint (`inferplan_sim::sagemaker::day`, what
/// `plan --verify` runs for a SageMaker option): the scaling render writes, Application Auto
/// Scaling over the day, instances that start after SageMaker's provisioning, billed per
/// instance-hour at the price given.
#[test]
fn the_sagemaker_day_runs_the_rendered_scaling() {
    use inferplan_plan::autoscaling::sagemaker::scaling;
    use inferplan_serving::sagemaker::{instance_start, INSTANCE_START_S};
    let w = Workload::from_toml(STEEP, "steep.toml").unwrap();
    let inputs = crate::planner::inputs();
    let p = plan(&inputs, &w).unwrap();
    let c = &p.candidates[p.option_indices()[0]];
    let t = rendered_targets(&w, c);
    let start = instance_start(c.cold_start_bytes_per_node(), Some(c.engine));
    let s = scaling(
        false,
        t.min,
        t.max,
        t.in_flight,
        c.e2e_p99_ms,
        c.max_rps_per_replica,
        start.seconds,
    );
    let d = inferplan_sim::sagemaker::day(&inputs, &w, c, 0.99, 1, 5_000_000, Some(2.0)).unwrap();
    assert_eq!((d.min_replicas, d.max_replicas), (s.min, s.max));
    assert_eq!(d.node_start_s, INSTANCE_START_S);
    assert!((d.pod_start_s - start.container_s).abs() < 1e-9);
    assert_eq!(d.hours.len(), 24);
    // The quiet morning at the minimum; noon's tenfold rise scales out within the maximum.
    assert!(d.hours[..12].iter().all(|h| h.replicas_max == s.min));
    assert!(d.scale_events >= 1);
    let most = d.hours.iter().map(|h| h.replicas_max).max().unwrap();
    assert!(most > s.min && most <= s.max, "{most}");
    assert!((d.cost_usd - d.node_hours * 2.0).abs() < 1e-6);
    // A failing hour comes with the minimum that would cover it.
    if !d.failing_hours.is_empty() {
        assert!(d.fix.as_deref().unwrap().contains("MinCapacity"));
    }
}

/// Deadline work through the day (`examples/async-documents.toml`: office hours, burstiness
/// 3, a 10-minute deadline): what render writes, the plan bills and the day simulates mean
/// the same. The nodes run within 15 % of the instance-hours the plan bills (the autoscaler
/// follows the load minute by minute, with cold starts and scale-down windows, where the
/// plan bills whole hours), and the autoscaler reverses at most half as often as the
/// simulator calls flapping ([`inferplan_sim::fleet::FLAPPING_REVERSALS_PER_HOUR`]): bursts
/// the queue holds within the deadline start few replicas (was 55 reversals and 57.5
/// node-hours against 42.9 billed; 23–25 reversals now, with the refit efficiencies).
#[test]
fn the_async_day_runs_what_is_billed_without_flapping() {
    use inferplan_plan::workload::Platform;
    let w = Workload::load(&crate::support::example("async-documents.toml")).unwrap();
    let inputs = crate::planner::inputs();
    let p = plan(&inputs, &w).unwrap();
    let options: Vec<_> = p
        .options()
        .into_iter()
        .filter(|c| c.platform == Platform::Eks)
        .take(2)
        .collect();
    assert_eq!(options.len(), 2);
    for c in options {
        let t = rendered_targets(&w, c);
        // Requests may wait in the engine's queue: scale-up waits for load that lasts longer.
        assert!(t.scale_up_window_s > 0, "{t:?}");
        let d = day(&inputs, &w, c, 0.99, 1, 5_000_000).unwrap();
        let billed = c.purchase_mix.billed_instance_hours_per_day;
        assert!(
            (d.node_hours - billed).abs() <= 0.15 * billed,
            "{} {}: {:.1} node-hours, {billed:.1} billed",
            c.instance,
            c.precision,
            d.node_hours
        );
        assert!(
            d.scale_reversals as f64 / 24.0
                <= inferplan_sim::fleet::FLAPPING_REVERSALS_PER_HOUR / 2.0,
            "{} {}: {} reversals",
            c.instance,
            c.precision,
            d.scale_reversals
        );
        assert!(d.slo_attainment.unwrap() >= 0.99, "{d:?}");
    }
}

/// Every batch example's day runs the rendered `cron` run (`rendered_targets`, what `render`
/// writes): no replica before the opening, the job's replicas from it for the hours billed,
/// none once the work is done. Its node-hours are within 15 % of the plan's bill, every
/// request is answered within the window, and the last one no later than the plan's finish
/// at p99.
#[test]
fn a_batch_day_runs_the_job_the_plan_bills() {
    use inferplan_plan::workload::{Mode, Platform};
    let inputs = crate::planner::inputs();
    let mut seen = 0;
    for path in crate::support::examples() {
        // Diffusion workloads are another kind (their workers render through SQS).
        let Ok(w) = Workload::load(&path) else {
            continue;
        };
        if w.slo.mode != Mode::Batch {
            continue;
        }
        seen += 1;
        let p = plan(&inputs, &w).unwrap();
        let c = p
            .options()
            .into_iter()
            .find(|c| c.platform == Platform::Eks)
            .unwrap();
        let job = c.purchase_mix.batch_job.as_ref().unwrap();
        let t = rendered_targets(&w, c);
        let run = t
            .run
            .unwrap_or_else(|| panic!("{}: no batch run", path.display()));
        assert_eq!(t.min, 0, "none between runs");
        assert_eq!((run.replicas, t.max), (job.units, job.units));
        assert_eq!(run.start_minute, job.window_start_utc * 60);
        assert!(f64::from(run.minutes) >= job.run_hours * 60.0 - 1e-6);
        assert!(f64::from(run.minutes) <= job.window_hours * 60.0);
        let d = day(&inputs, &w, c, 0.99, 1, 5_000_000).unwrap();
        let b = d.batch.as_ref().unwrap();
        let billed = c.purchase_mix.billed_instance_hours_per_day;
        assert!(
            (d.node_hours - billed).abs() <= 0.15 * billed,
            "{}: {:.1} node-hours simulated, {billed:.1} billed",
            path.display(),
            d.node_hours
        );
        assert!(b.answered_in_window >= 0.99, "{b:?}");
        assert!(b.finish_hours <= job.finish_p99_hours, "{b:?}");
        assert!(d.failing_hours.is_empty(), "{d:?}");
        // The hours of the day are the run's, from its opening, with the job's replicas.
        assert_eq!(d.hours[0].hour, job.window_start_utc);
        assert!(d.hours.iter().all(|h| h.replicas_max <= job.units));
    }
    assert!(seen >= 1, "no batch example");
}

/// Every interactive example's first EKS option through its day: what render writes, the plan
/// bills and the day simulates mean the same. The autoscaler does not flap (reversals per
/// hour at most half of [`inferplan_sim::fleet::FLAPPING_REVERSALS_PER_HOUR`]; the days of
/// `single-gpu-13b-fp8`, `gdpr-eu-west-1`, `chat-70b-fp8` and `inf2-vs-gpu-8b` reversed 32
/// to 94 times when one high reading of requests in flight scaled out and a ten-minute
/// window removed the replica before a Neuron cold start was over); the bill is the fleet of
/// the rendered floors (`minReplicaCount` and the `cron` triggers of the plan's hourly
/// replicas, N+1 spares included), every hour's nodes reach the instances billed for it, the
/// day's node-hours are within 10 % of the billed instance-hours (before the hourly floor
/// was rendered, `chat-70b-fp8` ran 57.3 node-hours against 67.0 billed, −14.5 %: the spares
/// and the planned floor were never kept in busy hours), and the day meets the SLO at its
/// percentile.
#[test]
fn every_interactive_day_runs_what_is_billed_without_flapping() {
    use inferplan_plan::cost::{layout, ReplicaLayout, Sizing};
    use inferplan_plan::workload::{Mode, Platform};
    use inferplan_sim::fleet::FLAPPING_REVERSALS_PER_HOUR;
    let inputs = crate::planner::inputs();
    let mut checked = Vec::new();
    for path in crate::support::examples() {
        // Diffusion workloads are not LLM workloads (their day is the queue worker's).
        let Ok(w) = Workload::load(&path) else {
            continue;
        };
        if w.slo.mode != Mode::Interactive || inferplan_sim::day::too_large(&w, 5_000_000).is_some()
        {
            continue;
        }
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let p = plan(&inputs, &w).unwrap();
        let c = p
            .options()
            .into_iter()
            .find(|c| c.platform == Platform::Eks)
            .unwrap();
        let d = day(&inputs, &w, c, 0.99, 1, 5_000_000).unwrap();
        let billed = c.purchase_mix.billed_instance_hours_per_day;
        // The bill is the fleet that keeps the rendered floors: one schedule for both.
        let t = rendered_targets(&w, c);
        let inst = inputs.catalog.instance(&c.instance).unwrap();
        let fleet = Sizing::of(&w).fleet(
            &w,
            &ReplicaLayout {
                floor: std::array::from_fn(|h| t.floor_at(h as u32)),
                ..layout(&w, c, inst)
            },
        );
        assert!(
            (fleet.billed_hours() - billed).abs() <= 1e-6 * billed.max(1.0),
            "{name}: {} billed by the floors' fleet, {billed} by the plan",
            fleet.billed_hours()
        );
        let what = format!(
            "{name} {} {}: {} reversals, {:.1} node-hours, {billed:.1} billed, attainment {:?}",
            c.instance, c.engine, d.scale_reversals, d.node_hours, d.slo_attainment
        );
        assert!(
            d.scale_reversals as f64 / 24.0 <= FLAPPING_REVERSALS_PER_HOUR / 2.0,
            "{what}"
        );
        for h in &d.hours {
            let floor = fleet.billed[h.hour as usize % 24].floor() as u32;
            assert!(
                h.nodes_max >= floor,
                "{what}: hour {:02} ran {} nodes, {floor} billed",
                h.hour,
                h.nodes_max
            );
        }
        // inf2-vs-gpu-8b's Neuron replica simulated 32.6 node-hours against 24 billed while
        // the simulator ran it as vLLM on a GPU and the plan as NxD Inference; both now run
        // NxD Inference's prefill-first, bucketed steps (issue 13), and it is held to the same
        // band as every other example.
        assert!(d.node_hours <= 1.1 * billed, "{what}");
        assert!(d.node_hours >= 0.9 * billed, "{what}");
        assert!(d.slo_attainment.unwrap() >= 0.99, "{what}");
        checked.push(name);
    }
    for must in [
        "single-gpu-13b-fp8.toml",
        "gdpr-eu-west-1.toml",
        "chat-70b-fp8.toml",
        "inf2-vs-gpu-8b.toml",
    ] {
        assert!(checked.iter().any(|n| n == must), "{must}: {checked:?}");
    }
}
