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
    ) {
        let w = workload(rate, peak_factor, minutes, profile.clone(), mode, redundancy);
        let layout = ReplicaLayout {
            capacity,
            spare: if redundancy { rpi } else { 0 },
            replicas_per_instance: rpi,
            pp,
            cold_start_s,
        };
        let fleet = Sizing::of(&w).fleet(&w, &layout);
        for h in 0..24 {
            prop_assert!(fleet.billed[h] + 1e-9 >= fleet.needed[h], "hour {h}: {fleet:?}");
            prop_assert!(fleet.billed[h] + 1e-9 >= f64::from(fleet.always_on));
            prop_assert!(fleet.billed[h] <= f64::from(fleet.peak) + 1e-9);
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
    let w = example("async-documents.toml");
    let p = plan(&inputs(), &w).unwrap();
    assert!(!p.passed_over.is_empty());
    let options = p.options();
    for o in &p.passed_over {
        let c = options[o.rank - 1];
        let q = options[o.preferred_rank - 1];
        assert!(o.preferred_rank < o.rank);
        assert!(c.usd_per_hour < q.usd_per_hour);
        assert!(q.usd_per_hour <= c.usd_per_hour * 1.02 + 1e-9);
        assert!(c.nodes_per_replica() > q.nodes_per_replica());
        assert!(o.reason.contains("start on a single node"), "{}", o.reason);
    }
    let json = inferplan_plan::contract::PlanJson::new(&p, 20);
    assert_eq!(json.passed_over, p.passed_over);
}
