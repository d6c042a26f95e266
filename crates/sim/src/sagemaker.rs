//! A SageMaker endpoint as the simulator runs it: the variant's instances (one replica each)
//! scaled by Application Auto Scaling ([`crate::fleet::aas`]), each new instance provisioned
//! ([`inferplan_serving::sagemaker::INSTANCE_START_S`]) and then started by its container
//! (the shared cold-start model), billed per instance-hour. [`fleet`] builds the fleet from
//! what a template or a plan says; [`day`] is `plan --verify`'s day of a SageMaker option,
//! with the scaling `render --platform sagemaker` writes for it
//! ([`inferplan_plan::autoscaling::sagemaker::scaling`]).

use crate::day::{rendered_targets, run, DayRun};
use crate::fleet::aas::{self, Managed, Metric, StepOut, TargetTracking};
use crate::fleet::{Client, FleetConfig, Nodes, Router, Slo};
use inferplan_perf::step::Efficiency;
use inferplan_perf::Replica;
use inferplan_plan::autoscaling::sagemaker::{
    scaling, Scaling, FROM_ZERO_ADJUSTMENT, FROM_ZERO_DATAPOINTS, FROM_ZERO_THRESHOLD,
};
use inferplan_plan::candidate::Candidate;
use inferplan_plan::contract::DayVerified;
use inferplan_plan::error::PlanError;
use inferplan_plan::search::{replica_for, Inputs};
use inferplan_plan::workload::{Mode, Workload};
use inferplan_serving::sagemaker::{instance_start, InstanceStart};

/// How the rendered endpoint spreads requests: it sets no `RoutingConfig`, so SageMaker's
/// default strategy applies, `RANDOM` (`ProductionVariantRoutingConfig`, SageMaker API
/// reference); the simulator has no random router and uses round robin, which spreads the
/// same mean load with a smaller spread (an optimistic stand-in).
pub const ROUTER: Router = Router::RoundRobin;

/// The Application Auto Scaling of `s`, as the template writes it.
pub fn managed(s: &Scaling) -> Managed {
    Managed {
        min: s.min,
        max: s.max,
        tracking: Some(TargetTracking {
            metric: if s.is_async {
                Metric::BacklogPerInstance
            } else {
                Metric::InvocationsPerInstance
            },
            target: if s.is_async {
                f64::from(s.backlog_per_instance)
            } else {
                s.invocations_per_instance_per_minute
            },
            scale_out_cooldown_s: f64::from(s.scale_out_cooldown_s),
            scale_in_cooldown_s: f64::from(s.scale_in_cooldown_s),
            disable_scale_in: false,
        }),
        from_zero: s.is_async.then_some(StepOut {
            threshold: FROM_ZERO_THRESHOLD,
            datapoints: FROM_ZERO_DATAPOINTS,
            evaluation_periods: FROM_ZERO_DATAPOINTS,
            adjustment: FROM_ZERO_ADJUSTMENT,
            cooldown_s: f64::from(s.scale_out_cooldown_s),
        }),
        metric_delay_s: aas::METRIC_DELAY_S,
    }
}

/// An endpoint's variant as the simulator runs it.
#[derive(Debug, Clone)]
pub struct Endpoint {
    /// Instances at the start (`InitialInstanceCount` within the scalable target's bounds).
    pub initial: u32,
    /// Application Auto Scaling; `None`: a fixed count.
    pub managed: Option<Managed>,
    /// How a new instance starts.
    pub start: InstanceStart,
    /// Price of an instance-hour, USD (0 when no price is known).
    pub usd_per_instance_hour: f64,
    /// How requests are spread ([`ROUTER`] for SageMaker's default).
    pub router: Router,
}

/// The fleet of endpoint `e` running `replica` on each instance. Each instance is a node of its own: `node_hours` are the
/// instance-hours billed, counted from the launch (an assumption: AWS bills the instance
/// while it is provisioned for the endpoint).
pub fn fleet(replica: Replica, efficiency: Efficiency, e: &Endpoint, slo: Slo) -> FleetConfig {
    let (start, usd_per_instance_hour) = (&e.start, e.usd_per_instance_hour);
    FleetConfig {
        replica,
        efficiency,
        replicas: e.initial.max(1),
        router: e.router,
        autoscaler: None,
        managed: e.managed.clone(),
        spot: None,
        client: Client {
            timeout_s: None,
            max_retries: 0,
            idempotency_keys: true,
        },
        cold_start_s: start.container_s,
        usd_per_replica_hour: usd_per_instance_hour,
        nodes: Some(Nodes {
            replicas_per_node: 1,
            nodes_per_replica: 1,
            start_s: start.provision_s,
            consolidate_after_s: 0.0,
            usd_per_node_hour: usd_per_instance_hour,
        }),
        slo,
        sample_s: 60.0,
        closed_loop: None,
        warmup_s: 0.0,
        prefix_hit_rate: 0.0,
    }
}

/// `plan --verify`'s day of candidate `c` as a SageMaker endpoint: 24 hours of `w`'s daily
/// profile through the endpoint `render --platform sagemaker` writes for it (real time for
/// interactive work, async otherwise; bounds, targets and cooldowns from
/// [`inferplan_plan::autoscaling::sagemaker::scaling`]), priced at `usd_per_instance_hour`
/// (the `ml.` on-demand price; `None`: no price is known, the cost is 0 and the instance-hours
/// stand). In the answer, `node_start_s` is the instance's provisioning, `pod_start_s` its
/// container's start, `target_in_flight` the in-flight target the invocation target derives
/// from and `target_queue` the backlog target (async) or 0.
pub fn day(
    inputs: &Inputs<'_>,
    w: &Workload,
    c: &Candidate,
    required: f64,
    seed: u64,
    max_requests: u64,
    usd_per_instance_hour: Option<f64>,
) -> Result<DayVerified, PlanError> {
    if c.nodes_per_replica() > 1 || c.replicas_per_instance > 1 {
        return Err(PlanError::input(
            "verify",
            format!(
                "candidate on {} spans {} instance(s) with {} replica(s) per instance: a \
                 SageMaker endpoint runs one model copy per instance",
                c.instance,
                c.nodes_per_replica(),
                c.replicas_per_instance
            ),
        ));
    }
    let (replica, efficiency) = replica_for(inputs, w, c)?;
    let t = rendered_targets(w, c);
    let start = instance_start(c.cold_start_bytes_per_node(), Some(c.engine));
    let is_async = w.slo.mode != Mode::Interactive;
    let s = scaling(
        is_async,
        t.min,
        t.max,
        t.in_flight,
        c.e2e_p99_ms,
        c.max_rps_per_replica,
        start.seconds,
    );
    let endpoint = Endpoint {
        initial: s.initial,
        managed: Some(managed(&s)),
        start: start.clone(),
        usd_per_instance_hour: usd_per_instance_hour.unwrap_or(0.0),
        router: ROUTER,
    };
    let cfg = fleet(replica, efficiency, &endpoint, Slo::of(&w.slo));
    let DayRun {
        report: r,
        hours,
        failing,
    } = run(w, c, &cfg, required, seed, max_requests)?;
    let fix = (!failing.is_empty()).then(|| {
        let want = failing
            .iter()
            .filter_map(|&h| hours.iter().find(|x| x.hour == h))
            .map(|h| h.planned_replicas.max(h.replicas_max + 1))
            .max()
            .unwrap_or(s.min + 1)
            .min(s.max);
        format!(
            "keep more instances in service: MinCapacity {want} (now {}) covers the failing \
             hours without waiting {:.0} s for new instances ({})",
            s.min, start.seconds, start.basis
        )
    });
    Ok(DayVerified {
        min_replicas: s.min,
        max_replicas: s.max,
        target_in_flight: t.in_flight,
        target_queue: if is_async { s.backlog_per_instance } else { 0 },
        node_start_s: start.provision_s,
        pod_start_s: start.container_s,
        requests: r.requests_total,
        slo_attainment: r.slo_attainment.map(|a| a.all),
        hours,
        failing_hours: failing,
        scale_events: r.scale_events,
        scale_reversals: r.scale_reversals,
        node_hours: r.node_hours.unwrap_or(0.0),
        planned_node_hours: c.purchase_mix.billed_instance_hours_per_day,
        cost_usd: r.cost_usd,
        fix,
        batch: None,
    })
}
