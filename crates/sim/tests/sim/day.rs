//! `plan --verify`'s day: the rendered autoscaling through a workload's daily profile.

use inferplan_perf::{EfficiencyTable, MemoryParams};
use inferplan_plan::search::{plan, Inputs};
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
    let catalog = crate::support::catalog();
    let efficiency = EfficiencyTable::embedded().unwrap();
    let memory = MemoryParams::embedded().unwrap();
    let inputs = Inputs {
        catalog,
        efficiency: &efficiency,
        memory: &memory,
    };
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
