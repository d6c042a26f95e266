//! The managed autoscaler in the event loop: a SageMaker variant's instances follow a load
//! step as Application Auto Scaling's alarms, cooldowns and the instances' start allow.

use crate::fleet::replica;
use inferplan_serving::sagemaker::InstanceStart;
use inferplan_sim::fleet::aas::{Managed, Metric, TargetTracking, METRIC_DELAY_S};
use inferplan_sim::fleet::{simulate, SimReport, Slo};
use inferplan_sim::sagemaker::{fleet, Endpoint, ROUTER};
use inferplan_sim::traffic::{Arrivals, LengthDist, Limit, Traffic, TrafficSpec};

/// An instance that serves 200 s after the decision: 100 s of provisioning, 100 s of
/// container.
fn start() -> InstanceStart {
    let mut s = inferplan_serving::sagemaker::instance_start(1e9, None);
    s.provision_s = 100.0;
    s.container_s = 100.0;
    s.seconds = 200.0;
    s
}

/// Hour 0 at 1 request/s, hour 1 at `high`, over two instances (the minimum) tracking
/// `target` invocations per instance per minute.
fn step(high: f64, target: f64, scale_out_cooldown_s: f64) -> SimReport {
    let (r, eff) = replica("llama-3.1-8b", "H100");
    let managed = Managed {
        min: 2,
        max: 10,
        tracking: Some(TargetTracking {
            metric: Metric::InvocationsPerInstance,
            target,
            scale_out_cooldown_s,
            scale_in_cooldown_s: 600.0,
            disable_scale_in: false,
        }),
        from_zero: None,
        metric_delay_s: METRIC_DELAY_S,
    };
    let endpoint = Endpoint {
        initial: 2,
        managed: Some(managed),
        start: start(),
        usd_per_instance_hour: 10.0,
        router: ROUTER,
    };
    let cfg = fleet(r, eff, &endpoint, Slo::default());
    let mut hourly = [1.0; 24];
    hourly[1] = high;
    let t = Traffic::new(
        TrafficSpec {
            arrivals: Arrivals::Profile {
                hourly_rps: hourly,
                cv: 1.0,
            },
            input: LengthDist::Fixed(200),
            output: LengthDist::Fixed(20),
            limit: Limit::DurationUs(7200 * 1_000_000),
        },
        7,
    )
    .unwrap();
    simulate(&cfg, t, 7)
}

/// The first sample (each minute) at which the instances (running or starting) exceed 2.
fn first_rise(r: &SimReport) -> f64 {
    r.replicas_series
        .iter()
        .find(|&&(_, n)| n > 2.0)
        .map_or(f64::INFINITY, |&(t, _)| t)
}

/// At 5 requests/s, 300 invocations a minute over 2 instances is 150 each against a target
/// of 300 / 3.5: the policy asks for ceil(2 × 3.5 / 2) = 4 instances, not before three
/// datapoints of the new hour are above the target and published (3 min + the delay), and
/// within a minute after.
#[test]
fn a_load_step_scales_out_after_three_published_datapoints() {
    let target = 300.0 / 3.5;
    // A cooldown longer than the instances' start plus the alarm's three published minutes.
    let r = step(5.0, target, 600.0);
    let rise = first_rise(&r);
    let earliest = 3600.0 + 180.0 + METRIC_DELAY_S;
    assert!(
        (earliest..=earliest + 60.0).contains(&rise),
        "first scale-out at {rise} s"
    );
    assert_eq!(r.replicas_max, 4, "ceil(2 × 150 / 85.7)");
    assert_eq!(r.scale_events, 1);
    assert_eq!(r.nodes_started, 2);
    // Billed per instance-hour, from each launch: 2 throughout, 2 more from the decision.
    let hours = r.node_hours.unwrap();
    let expected = (2.0 * r.simulated_s + 2.0 * (r.simulated_s - rise)) / 3600.0;
    assert!(
        (hours - expected).abs() < 2.0 * 60.0 / 3600.0,
        "{hours} instance-hours, {expected} expected"
    );
    assert!((r.cost_usd - hours * 10.0).abs() < 1e-6);
}

/// The datapoints lag: minutes evaluated after the new instances serve were measured while
/// only two did, so a cooldown that ends before those minutes are past (300 s here: the
/// 200 s start plus less than the alarm's three minutes and the delay) scales out a second
/// time, and no cooldown at all multiplies the capacity still launching each minute.
#[test]
fn a_cooldown_shorter_than_start_and_alarm_overshoots() {
    let target = 300.0 / 3.5;
    let long = step(5.0, target, 600.0).replicas_max;
    let short = step(5.0, target, 300.0).replicas_max;
    let none = step(5.0, target, 0.0).replicas_max;
    assert!(long < short && short < none, "{long} < {short} < {none}");
}

/// Below the target nothing happens: the step stays within 90-100 % of it.
#[test]
fn a_load_near_the_target_does_not_move_the_variant() {
    let r = step(5.0, 160.0, 300.0);
    assert_eq!(r.scale_events, 0);
    assert_eq!(r.replicas_max, 2);
}
