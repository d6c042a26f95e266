//! `simulate --deploy DIR` for a CloudFormation template of a SageMaker endpoint (what
//! `render --platform sagemaker` writes): the endpoint's container, `ml.` instance and
//! Application Auto Scaling (read by [`inferplan_deploy::deployed::sagemaker`]), run by the
//! simulator's managed autoscaler ([`inferplan_sim::fleet::aas`]).

use super::deploy::replica;
use super::Setup;
use crate::args::SimulateArgs;
use inferplan_catalog::Catalog;
use inferplan_deploy::deployed::sagemaker::{Endpoint, Tracked};
use inferplan_serving::sagemaker::instance_start;
use inferplan_sim::fleet::aas::{self, Managed, Metric, StepOut, TargetTracking};
use inferplan_sim::fleet::{Client, Slo, Spot};
use inferplan_sim::traffic::TrafficSpec;

/// The fleet of endpoint `e`, serving `spec`.
pub(super) fn setup(
    catalog: &Catalog,
    a: &SimulateArgs,
    e: Endpoint,
    spec: &TrafficSpec,
) -> anyhow::Result<Setup> {
    let (replica, eff, label) = replica(catalog, a, spec, &e.served, &e.endpoint)?;
    let mut start = instance_start(e.download_bytes as f64, Some(e.served.engine));
    if let Some(s) = a.cold_start_s {
        start.container_s = s;
        start.seconds = start.provision_s + s;
    }
    let mut unmodelled = e.unmodelled.clone();
    let cooldown = |s: Option<f64>| s.unwrap_or(aas::DEFAULT_COOLDOWN_S);
    let managed = e.capacity.map(|(min, max)| Managed {
        min,
        max,
        tracking: e.tracking.map(|t| TargetTracking {
            metric: match t.metric {
                Tracked::InvocationsPerInstance => Metric::InvocationsPerInstance,
                Tracked::BacklogPerInstance => Metric::BacklogPerInstance,
            },
            target: t.target,
            scale_out_cooldown_s: cooldown(t.scale_out_cooldown_s),
            scale_in_cooldown_s: cooldown(t.scale_in_cooldown_s),
            disable_scale_in: t.disable_scale_in,
        }),
        from_zero: e.from_zero.map(|s| StepOut {
            threshold: s.threshold,
            datapoints: s.datapoints,
            evaluation_periods: s.evaluation_periods,
            adjustment: s.adjustment,
            cooldown_s: cooldown(s.cooldown_s),
        }),
        metric_delay_s: aas::METRIC_DELAY_S,
    });
    if let Some(n) = e.max_concurrent_per_instance {
        unmodelled.push(format!(
            "MaxConcurrentInvocationsPerInstance {n}: requests reach the instances without that \
             limit (they wait in the engine's queue rather than SageMaker's; the backlog metric \
             counts both)"
        ));
    }
    let initial = match e.capacity {
        Some((min, max)) => e.initial_instances.clamp(min, max).max(1),
        None => e.initial_instances.max(1),
    };
    if let Some(t) = e.startup_timeout_s {
        if f64::from(t) < start.container_s {
            unmodelled.push(format!(
                "ContainerStartupHealthCheckTimeoutInSeconds {t} is below the container's start \
                 ({:.0} s): SageMaker would fail such an instance; the simulation lets it start",
                start.container_s
            ));
        }
    }
    unmodelled.push(format!(
        "new instances serve {:.0} s after the decision: {}",
        start.seconds, start.basis
    ));
    unmodelled.push(format!(
        "CloudWatch datapoints are evaluated {:.0} s after their minute ends (an assumption: \
         AWS publishes no delay)",
        aas::METRIC_DELAY_S
    ));
    unmodelled.push(
        "no RoutingConfig read: SageMaker's default routing is random; simulated as round robin"
            .to_owned(),
    );
    unmodelled.push(format!(
        "no {} price in the catalog: the cost is 0; node_hours are the instance-hours billed",
        e.instance_type
    ));
    let endpoint = inferplan_sim::sagemaker::Endpoint {
        initial,
        managed,
        start,
        usd_per_instance_hour: 0.0,
        router: inferplan_sim::sagemaker::ROUTER,
    };
    let mut cfg = inferplan_sim::sagemaker::fleet(replica, eff, &endpoint, Slo::default());
    cfg.client = Client {
        timeout_s: a.timeout_s,
        max_retries: a.retries,
        idempotency_keys: a.idempotency_keys,
    };
    cfg.spot = a.spot_rate_per_hour.map(|rate| Spot {
        rate_per_hour: rate,
        notice_s: a.spot_notice_s,
    });
    cfg.closed_loop = a.traffic.concurrency;
    cfg.warmup_s = a.traffic.warmup_s.unwrap_or(0.0);
    Ok(Setup {
        model: e.served.model.name.clone(),
        target: format!("ml.{label} ({})", e.endpoint),
        engine: e.served.engine,
        tp: e.served.tp,
        pp: e.served.pp,
        cfg,
        unmodelled,
    })
}
