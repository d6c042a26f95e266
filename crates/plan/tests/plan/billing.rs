//! Billing = provisioning: every hour is billed for at least what it needs at the SLOs (N+1
//! spares and the peak included), and cost grows with the rate and with tighter SLOs.

use inferplan_plan::cost::{buy, ReplicaLayout, Sizing};
use inferplan_plan::{plan, Workload};
use proptest::prelude::*;

use crate::planner::inputs;

fn example(name: &str) -> Workload {
    Workload::load(&crate::support::example(name)).unwrap()
}

#[test]
fn the_examples_bill_their_peaks() {
    for file in ["fraud-scoring-small.toml", "regulated-isolated.toml"] {
        let p = plan(&inputs(), &example(file)).unwrap();
        for c in &p.candidates {
            let m = &c.purchase_mix;
            assert!(
                m.billed_instance_hours_per_day + 1e-9 >= m.needed_instance_hours_per_day,
                "{file} {}: billed {} < needed {}",
                c.instance,
                m.billed_instance_hours_per_day,
                m.needed_instance_hours_per_day
            );
            // Neither says how long its spikes last: the peak runs all day (kept warm where
            // the peak needs more instances than the mean rate).
            assert!(
                (m.billed_instance_hours_per_day - 24.0 * f64::from(c.instances)).abs() < 1e-9,
                "{file} {}: {} instance-hours billed for {} instances at the peak",
                c.instance,
                m.billed_instance_hours_per_day,
                c.instances
            );
            assert_eq!(
                m.savings_plan_instances + m.on_demand_instances + m.spot_instances,
                c.instances,
                "{file} {}",
                c.instance
            );
        }
        let best = &p.candidates[0];
        assert!(best.purchase_mix.peak_kept_warm, "{file}");
        assert!(best.findings.iter().any(|f| f.code == "IP113"), "{file}");
    }
}

#[test]
fn a_spike_that_outlasts_the_cold_start_is_scaled_for() {
    let mut w = example("fraud-scoring-small.toml");
    let warm = plan(&inputs(), &w).unwrap().candidates[0].clone();
    w.traffic.peak_minutes_per_day = Some(60.0);
    let p = plan(&inputs(), &w).unwrap();
    let c = p
        .candidates
        .iter()
        .find(|c| c.instance == warm.instance && c.tp == warm.tp)
        .unwrap();
    let m = &c.purchase_mix;
    assert!(!m.peak_kept_warm);
    assert!(m.billed_instance_hours_per_day + 1e-9 >= m.needed_instance_hours_per_day);
    assert!(m.usd_per_hour < warm.usd_per_hour);
    assert!(m.on_demand_instances > 0, "the spike is bought on demand");
    assert_eq!(
        Some(m.usd_per_hour),
        warm.purchase_mix
            .usd_per_hour_if_spikes_outlast_cold_start
            .filter(|_| m.cold_start_s <= 60.0)
            .or(Some(m.usd_per_hour))
    );
    // A one-minute spike is shorter than the cold start: warm again.
    w.traffic.peak_minutes_per_day = Some(1.0);
    let p = plan(&inputs(), &w).unwrap();
    assert!(p.candidates[0].purchase_mix.cold_start_s > 60.0);
    assert!(p.candidates[0].purchase_mix.peak_kept_warm);
}

fn workload(
    rate: f64,
    peak_factor: f64,
    minutes: Option<f64>,
    profile: Option<Vec<f64>>,
    mode: &str,
    redundancy: bool,
) -> Workload {
    let mut w = example("fraud-scoring-small.toml");
    w.traffic.rate_rps = rate;
    w.traffic.daily_profile = profile;
    let busiest = w.hourly_rates().into_iter().fold(0.0, f64::max);
    w.traffic.peak_rps = Some(busiest * peak_factor);
    w.traffic.peak_minutes_per_day = minutes;
    w.slo.mode = match mode {
        "async" => inferplan_plan::workload::Mode::Async,
        "batch" => inferplan_plan::workload::Mode::Batch,
        _ => inferplan_plan::workload::Mode::Interactive,
    };
    w.slo.deadline_s = Some(7200.0);
    w.constraints.redundancy = redundancy;
    w
}

fn usd_per_hour(w: &Workload, layout: &ReplicaLayout) -> (f64, f64, f64) {
    let catalog = inputs().catalog;
    let inst = catalog.instance("g6e.xlarge").unwrap();
    let fleet = Sizing::of(w).fleet(w, layout);
    let mix = buy(
        &w.pricing,
        w.slo.mode,
        inst,
        "us-east-1",
        1.861,
        &fleet.billed,
        fleet.peak,
    );
    (mix.usd_per_hour, fleet.billed_hours(), fleet.needed_hours())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn billed_covers_need_and_cost_is_monotone(
        rate in 0.01f64..500.0,
        peak_factor in 1.0f64..4.0,
        minutes in proptest::option::of(1.0f64..600.0),
        profile in proptest::option::of(proptest::collection::vec(0.1f64..3.0, 24)),
        mode in prop_oneof![Just("interactive"), Just("async"), Just("batch")],
        redundancy in any::<bool>(),
        capacity in 0.05f64..100.0,
        rpi in 1u32..8,
        pp in 1u32..3,
        cold_start_s in 10.0f64..1800.0,
        more in 1.0f64..3.0,
        floors in proptest::collection::vec(0u32..6, 24),
    ) {
        let w = workload(rate, peak_factor, minutes, profile.clone(), mode, redundancy);
        let layout = ReplicaLayout {
            capacity,
            spare: if redundancy { rpi } else { 0 },
            replicas_per_instance: rpi,
            pp,
            cold_start_s,
            floor: std::array::from_fn(|h| floors[h]),
        };
        let fleet = Sizing::of(&w).fleet(&w, &layout);
        for (h, &kept) in floors.iter().enumerate() {
            prop_assert!(fleet.billed[h] + 1e-9 >= fleet.needed[h], "hour {h}: {fleet:?}");
            prop_assert!(fleet.billed[h] + 1e-9 >= f64::from(fleet.always_on));
            prop_assert!(fleet.billed[h] <= f64::from(fleet.peak) + 1e-9);
            // The replicas the autoscaler keeps in an hour (its minimum or the hour's `cron`
            // floor) run whatever the load: billed that hour.
            let floor = kept.div_ceil(rpi) * pp;
            prop_assert!(fleet.billed[h] + 1e-9 >= f64::from(floor), "hour {h}: {fleet:?}");
        }
        prop_assert!(fleet.billed_hours() + 1e-9 >= fleet.needed_hours());
        let (cost, _, _) = usd_per_hour(&w, &layout);
        // More traffic (every hour and the peak scaled alike) never costs less.
        let busier = workload(rate * more, peak_factor, minutes, profile, mode, redundancy);
        let (busier_cost, _, _) = usd_per_hour(&busier, &layout);
        prop_assert!(busier_cost + 1e-9 >= cost, "{busier_cost} < {cost}");
        // A tighter SLO leaves each replica less capacity: never cheaper.
        let tighter = ReplicaLayout { capacity: capacity / more, ..layout };
        let (tighter_cost, _, _) = usd_per_hour(&w, &tighter);
        prop_assert!(tighter_cost + 1e-9 >= cost, "{tighter_cost} < {cost}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(6))]

    /// The whole search: the cheapest plan never gets cheaper with more traffic or a tighter
    /// SLO.
    #[test]
    fn the_cheapest_plan_is_monotone_in_rate_and_slo(
        rate in 20.0f64..300.0,
        more in 1.0f64..3.0,
        e2e_ms in 150.0f64..400.0,
    ) {
        let mut w = example("fraud-scoring-small.toml");
        w.constraints.instance_families = vec!["g6e".to_owned(), "g6".to_owned()];
        w.traffic.rate_rps = rate;
        w.traffic.peak_rps = Some(rate * 3.0);
        w.slo.e2e_ms = Some(e2e_ms);
        let cheapest = |w: &Workload| {
            plan(&inputs(), w).unwrap().candidates.first().map(|c| c.usd_per_hour)
        };
        let base = cheapest(&w);
        let mut busier = w.clone();
        busier.traffic.rate_rps = rate * more;
        busier.traffic.peak_rps = Some(rate * more * 3.0);
        let mut tighter = w.clone();
        tighter.slo.e2e_ms = Some(e2e_ms / more);
        for (name, other) in [("rate", cheapest(&busier)), ("slo", cheapest(&tighter))] {
            match (base, other) {
                (Some(a), Some(b)) => prop_assert!(b + 1e-9 >= a, "{name}: {b} < {a}"),
                (None, Some(_)) => prop_assert!(false, "{name}: feasible only when harder"),
                _ => {}
            }
        }
    }
}

// Near-ties (issue 13, item 3).

#[test]
fn near_ties_prefer_one_node_then_fewer_gpus_then_headroom() {
    use inferplan_plan::search::rank;
    let p = plan(&inputs(), &example("gdpr-eu-west-1.toml")).unwrap();
    let multi = p
        .candidates
        .iter()
        .find(|c| c.nodes_per_replica() > 1)
        .unwrap()
        .clone();
    let single = p
        .candidates
        .iter()
        .find(|c| c.nodes_per_replica() == 1)
        .unwrap()
        .clone();
    // The single-node option 1.5 % dearer: a near-tie, and it ranks first.
    let mut a = multi.clone();
    a.usd_per_hour = 100.0;
    let mut b = single.clone();
    b.usd_per_hour = 101.5;
    let mut v = vec![a.clone(), b.clone()];
    rank(&mut v);
    assert_eq!(v[0].nodes_per_replica(), 1);
    // 3 % dearer: not a tie, the cheaper multi-node option stays first.
    b.usd_per_hour = 103.0;
    let mut v = vec![b.clone(), a.clone()];
    rank(&mut v);
    assert!(v[0].nodes_per_replica() > 1);
    // Same nodes: fewer GPUs per replica, then more headroom.
    let mut c = single.clone();
    c.usd_per_hour = 100.0;
    c.gpus_per_replica = 4;
    c.slo_headroom = 3.0;
    let mut d = single.clone();
    d.usd_per_hour = 101.0;
    d.gpus_per_replica = 2;
    d.slo_headroom = 1.1;
    let mut e = d.clone();
    e.slo_headroom = 1.5;
    e.usd_per_hour = 101.9;
    let mut v = vec![c.clone(), d.clone(), e.clone()];
    rank(&mut v);
    let order: Vec<(u32, f64)> = v
        .iter()
        .map(|x| (x.gpus_per_replica, x.usd_per_hour))
        .collect();
    assert_eq!(order, [(2, 101.9), (2, 101.0), (4, 100.0)]);
}

#[test]
fn a_cheaper_multi_node_option_passed_over_is_said() {
    use inferplan_plan::search::{passed_over, rank};
    // gdpr-eu-west-1 plans both layouts; the multi-node one made 1.5 % cheaper than the
    // single-node one: a near-tie, ranked below it and said to be passed over.
    let p = plan(&inputs(), &example("gdpr-eu-west-1.toml")).unwrap();
    let find = |multi: bool| {
        p.candidates
            .iter()
            .find(|c| (c.nodes_per_replica() > 1) == multi)
            .unwrap()
            .clone()
    };
    let (mut multi, mut single) = (find(true), find(false));
    (multi.usd_per_hour, single.usd_per_hour) = (100.0, 101.5);
    let mut v = vec![multi.clone(), single.clone()];
    rank(&mut v);
    let options: Vec<_> = v.iter().collect();
    let said = passed_over(&options);
    assert_eq!(said.len(), 1);
    let o = &said[0];
    let (c, q) = (options[o.rank - 1], options[o.preferred_rank - 1]);
    assert!(o.preferred_rank < o.rank);
    assert!(c.usd_per_hour < q.usd_per_hour);
    assert!(q.usd_per_hour <= c.usd_per_hour * 1.02 + 1e-9);
    assert!(c.nodes_per_replica() > q.nodes_per_replica());
    assert!(o.reason.contains("start on a single node"), "{}", o.reason);
    // 3 % dearer: not a tie, the multi-node option ranks first and nothing is passed over.
    single.usd_per_hour = 103.0;
    let mut v = vec![single, multi];
    rank(&mut v);
    assert!(passed_over(&v.iter().collect::<Vec<_>>()).is_empty());
    // Every example's JSON carries what its plan passed over among the options shown.
    for name in [
        "async-documents.toml",
        "gdpr-eu-west-1.toml",
        "chat-70b-fp8.toml",
    ] {
        let p = plan(&inputs(), &example(name)).unwrap();
        let json = inferplan_plan::contract::PlanJson::new(&p, 5);
        assert_eq!(json.passed_over, p.passed_over_shown(5), "{name}");
    }
}

// Batch work as a job over its window (issue 13, item 4).

use inferplan_plan::cost::{job_mix, spot_price};
use inferplan_plan::job::{plan_job, JobError, JobSpec, Window};

#[test]
fn batch_work_bills_its_job_not_the_day() {
    let mut w = example("batch-summaries.toml");
    // The whole day first (the example runs nightly, 22:00 to 06:00 UTC).
    w.slo.window_hours = None;
    w.slo.window_start_utc = None;
    let p = plan(&inputs(), &w).unwrap();
    for c in &p.candidates {
        let m = &c.purchase_mix;
        let job = m.batch_job.as_ref().expect("a batch candidate has its job");
        assert_eq!((job.window_start_utc, job.window_hours), (0, 24.0));
        assert!(job.finish_p99_hours <= 24.0 + 1e-9, "{}", c.instance);
        assert_eq!((c.replicas, c.instances), (job.units, job.instances));
        // Billed while it runs: the instances' run hours (interruption overhead included),
        // never a whole day for work that takes less.
        let billed = f64::from(job.instances) * job.run_hours;
        assert!(
            (m.billed_instance_hours_per_day - billed).abs() < 1e-6,
            "{}",
            c.instance
        );
        assert!(m.billed_instance_hours_per_day + 1e-9 >= m.needed_instance_hours_per_day);
        assert!(m.billed_instance_hours_per_day < 24.0 * f64::from(c.instances));
        assert!(c.usd_per_million_total_tokens > 0.0);
    }
    // The same work in a 4-hour window from 22:00 UTC: more instances, each for at most the
    // window, and the same order of cost (only cold starts and whole instances differ).
    let day = p.candidates[0].clone();
    w.slo.window_hours = Some(4.0);
    w.slo.window_start_utc = Some(22);
    let night = plan(&inputs(), &w).unwrap();
    let c = night
        .candidates
        .iter()
        .find(|c| c.instance == day.instance && c.tp == day.tp && c.platform == day.platform)
        .unwrap();
    let job = c.purchase_mix.batch_job.as_ref().unwrap();
    assert!(job.finish_p99_hours <= 4.0 + 1e-9);
    assert!(job.run_hours <= 4.0);
    assert!(c.instances > day.instances);
    assert!(c.usd_per_hour >= day.usd_per_hour - 1e-9);
    assert!(
        c.usd_per_hour < day.usd_per_hour * 1.2,
        "{} vs {}",
        c.usd_per_hour,
        day.usd_per_hour
    );
    // A window shorter than a cold start plus one request: refused with the reason.
    w.slo.window_hours = Some(0.01);
    let none = plan(&inputs(), &w).unwrap();
    assert!(none.candidates.is_empty());
    assert!(
        none.rejected.contains_key("window_too_short"),
        "{:?}",
        none.rejected
    );
}

/// Deadline work runs as jobs (what arrives in one half of the deadline runs in the next)
/// on SageMaker asynchronous endpoints, whose queue holds requests while no instance runs,
/// where that costs less than an always-on pool, and never waits longer than its deadline. On
/// EKS it is the pool `render` writes: the engine holds the queue, so it never scales to zero.
#[test]
fn deadline_work_runs_as_jobs_when_cheaper() {
    let mut w = example("batch-summaries.toml");
    w.slo.window_hours = None;
    w.slo.window_start_utc = None;
    w.slo.mode = inferplan_plan::workload::Mode::Async;
    w.slo.deadline_s = Some(7200.0);
    let p = plan(&inputs(), &w).unwrap();
    let mut jobs = 0;
    for c in &p.candidates {
        let Some(job) = &c.purchase_mix.batch_job else {
            continue;
        };
        assert_eq!(
            c.platform,
            inferplan_plan::workload::Platform::Sagemaker,
            "{}",
            c.instance
        );
        jobs += 1;
        // Waiting for the next window plus the run: within the deadline.
        assert!(
            job.period_hours + job.finish_p99_hours <= 2.0 + 1e-9,
            "{job:?}"
        );
        assert_eq!(job.runs_per_day, 24);
        assert!(job.run_hours <= job.window_hours + 1e-9);
    }
    assert!(
        jobs > 0,
        "a two-hour deadline lets the cheapest options run as jobs"
    );
    // The pool each job replaced was dearer: with jobs switched off (a deadline under two
    // minutes leaves no window), no option is cheaper than the cheapest with jobs.
    let best = p.candidates[0].usd_per_hour;
    let pools = {
        let mut v = w.clone();
        v.slo.deadline_s = Some(100.0);
        plan(&inputs(), &v).unwrap()
    };
    assert!(pools
        .candidates
        .iter()
        .all(|c| c.purchase_mix.batch_job.is_none()));
    if let Some(pool) = pools.candidates.first() {
        assert!(
            best <= pool.usd_per_hour + 1e-9,
            "{best} > {}",
            pool.usd_per_hour
        );
    }
}

#[test]
fn a_window_is_for_batch_work_only() {
    let mut w = example("fraud-scoring-small.toml");
    w.slo.window_hours = Some(6.0);
    let e = w.validate().unwrap_err().to_string();
    assert!(e.contains("slo.window_hours") && e.contains("batch"), "{e}");
    let mut w = example("batch-summaries.toml");
    w.slo.window_hours = Some(25.0);
    assert!(w
        .validate()
        .unwrap_err()
        .to_string()
        .contains("slo.window_hours"));
    w.slo.window_hours = Some(8.0);
    w.slo.window_start_utc = Some(24);
    assert!(w
        .validate()
        .unwrap_err()
        .to_string()
        .contains("slo.window_start_utc"));
}

fn job_spec(
    work: f64,
    window: f64,
    start: u32,
    upi: u32,
    cold_start_s: f64,
    tail_s: f64,
) -> JobSpec {
    JobSpec {
        work_unit_hours: work,
        units_per_instance: upi,
        instances_per_unit: 1,
        cold_start_s,
        tail_s,
        spot_overhead: None,
        window: Window::daily(Some(window), Some(start)),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// A job finishes within its window at p99, no instance bills more hours than the window,
    /// the billed hours cover the work, and more work never costs less (on demand and spot).
    #[test]
    fn a_job_fits_its_window_and_costs_more_with_more_work(
        work in 0.001f64..2000.0,
        window in 0.5f64..24.0,
        start in 0u32..24,
        upi in 1u32..8,
        cold_start_s in 10.0f64..900.0,
        tail_s in 0.1f64..600.0,
        more in 1.0f64..4.0,
        spot in any::<bool>(),
    ) {
        let catalog = inputs().catalog;
        let inst = catalog.instance("g6e.xlarge").unwrap();
        let mut w = example("batch-summaries.toml");
        w.pricing.allow_spot = spot;
        let spec = job_spec(work, window, start, upi, cold_start_s, tail_s);
        let mix = |s: JobSpec| {
            job_mix(&w.pricing, w.slo.mode, inst, "us-east-1", 1.861, s)
        };
        let overhead = spot_price(&w.pricing, w.slo.mode, inst, "us-east-1")
            .map(|_| w.pricing.spot_interruption_overhead);
        let Ok((m, billed)) = mix(spec) else {
            // Refused only when a cold start and the last piece of work outlast the window,
            // or the work needs more replicas than a plan proposes.
            match plan_job(&JobSpec { spot_overhead: overhead, ..spec }) {
                Err(JobError::WindowTooShort { least_hours }) => {
                    prop_assert!(least_hours + 1e-9 >= window)
                }
                Err(JobError::TooManyUnits(n)) => prop_assert!(n > 10_000.0),
                Ok(j) => prop_assert!(false, "job_mix refused what plan_job plans: {j:?}"),
            }
            return Ok(());
        };
        let job = m.batch_job.clone().unwrap();
        prop_assert!(job.finish_p99_hours <= window + 1e-9, "{job:?}");
        prop_assert!(job.run_hours <= window + 1e-9);
        prop_assert!(m.billed_instance_hours_per_day <= f64::from(job.instances) * window + 1e-6);
        prop_assert!(m.billed_instance_hours_per_day + 1e-9 >= m.needed_instance_hours_per_day);
        // Busy instance-hours: the work's unit-hours over the units an instance holds.
        let busy = work / f64::from(upi);
        prop_assert!((m.needed_instance_hours_per_day - busy).abs() < 1e-6 * busy.max(1.0));
        for (h, b) in billed.iter().enumerate() {
            prop_assert!(*b <= f64::from(job.instances) + 1e-9, "hour {h}: {b}");
        }
        // One instance fewer would not have finished in time.
        if job.instances > 1 {
            let o = overhead.unwrap_or(0.0);
            let units = f64::from((job.instances - 1) * upi);
            let replacement = if overhead.is_some() { cold_start_s } else { 0.0 };
            let finish = (cold_start_s / 3600.0 + work / units) * (1.0 + o)
                + (tail_s + replacement) / 3600.0;
            prop_assert!(finish > window - 1e-9, "{finish} h with one instance fewer");
        }
        if let Ok((bigger, _)) = mix(JobSpec { work_unit_hours: work * more, ..spec }) {
            prop_assert!(bigger.usd_per_hour + 1e-9 >= m.usd_per_hour,
                "{} < {}", bigger.usd_per_hour, m.usd_per_hour);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(6))]

    /// The whole search on batch work: the cheapest job never gets cheaper with more work or
    /// a shorter window, and always finishes within its window.
    #[test]
    fn the_cheapest_batch_job_is_monotone_in_work_and_window(
        rate in 1.0f64..40.0,
        more in 1.0f64..3.0,
        window in 2.0f64..24.0,
    ) {
        let mut w = example("batch-summaries.toml");
        w.constraints.instance_families = vec!["g6e".to_owned(), "g6".to_owned()];
        w.traffic.rate_rps = rate;
        w.slo.window_hours = Some(window);
        let cheapest = |w: &Workload| {
            let p = plan(&inputs(), w).unwrap();
            p.candidates.first().map(|c| {
                let job = c.purchase_mix.batch_job.clone().unwrap();
                assert!(job.finish_p99_hours <= w.slo.window_hours.unwrap() + 1e-9);
                c.usd_per_hour
            })
        };
        let base = cheapest(&w);
        let mut busier = w.clone();
        busier.traffic.rate_rps = rate * more;
        let mut shorter = w.clone();
        shorter.slo.window_hours = Some(window / more);
        for (name, other) in [("work", cheapest(&busier)), ("window", cheapest(&shorter))] {
            match (base, other) {
                (Some(a), Some(b)) => prop_assert!(b + 1e-9 >= a, "{name}: {b} < {a}"),
                (None, Some(_)) => prop_assert!(false, "{name}: feasible only when harder"),
                _ => {}
            }
        }
    }
}

/// One truth of the bill and the autoscaler: the minimum `render` writes into the ScaledObject
/// (and `plan --verify`'s day simulates) runs all day whatever the load, so every EKS pool
/// option of every LLM example bills at least its instances for 24 hours. Batch jobs are left
/// out: their replicas run only in the job's window, which the rendered ScaledObject does not
/// yet follow (docs/render.md, "Batch and async work").
#[test]
fn every_example_bills_the_rendered_minimum_all_day() {
    use inferplan_plan::autoscaling::of_candidate;
    use inferplan_plan::workload::Platform;
    let files = crate::support::examples();
    let mut checked = 0;
    for path in files {
        let text = std::fs::read_to_string(&path).unwrap();
        if inferplan_plan::diffusion::is_diffusion(&text) {
            continue;
        }
        let w = Workload::load(&path).unwrap();
        let p = plan(&inputs(), &w).unwrap();
        for c in p.options().into_iter().take(10) {
            if c.platform != Platform::Eks || c.purchase_mix.batch_job.is_some() {
                continue;
            }
            let t = of_candidate(&w, c);
            let floor = t.min.div_ceil(c.replicas_per_instance.max(1)) * c.pp.max(1);
            let billed = c.purchase_mix.billed_instance_hours_per_day;
            assert!(
                f64::from(floor) * 24.0 <= billed + 1e-6,
                "{}: {} {} keeps {} replicas ({floor} instances) all day but bills {billed:.1} \
                 instance-hours",
                path.display(),
                c.instance,
                c.precision,
                t.min
            );
            checked += 1;
        }
    }
    assert!(checked >= 10, "only {checked} options checked");
}
