//! `simulate --deploy DIR`: the fleet a directory of manifests configures (read by
//! [`inferplan_deploy::deployed`]): the model and engine arguments of its container, the
//! instance type of its node selection, its replicas, its autoscaler and its NodePool.

use super::{longest, Setup};
use crate::args::{DeploymentArgs, SimulateArgs};
use crate::commands::deployment;
use crate::commands::load::efficiency;
use anyhow::anyhow;
use inferplan_catalog::Catalog;
use inferplan_deploy::deployed::{self, Served, Signal};
use inferplan_perf::step::Efficiency;
use inferplan_perf::{Deployment, MemoryParams, Replica};
use inferplan_plan::autoscaling;
use inferplan_serving::cold_start::new_replica;
use inferplan_sim::fleet::{
    Autoscaler, Client, FleetConfig, Nodes, Router, ScaleMetric, Slo, Spot, Trigger,
};
use inferplan_sim::traffic::TrafficSpec;
use std::path::Path;

/// The fleet of the manifests under `dir`, serving `spec`.
pub(super) fn setup(
    catalog: &Catalog,
    a: &SimulateArgs,
    dir: &Path,
    spec: &TrafficSpec,
) -> anyhow::Result<Setup> {
    let params = MemoryParams::embedded()?;
    let texts =
        inferplan_deploy::yaml::collect(&[dir.to_path_buf()]).map_err(|e| anyhow!("{e}"))?;
    if let Some(e) =
        deployed::sagemaker::read(&texts, catalog, &params).map_err(|e| anyhow!(e.0))?
    {
        return super::endpoint::setup(catalog, a, e, spec);
    }
    let d = deployed::read(&texts, catalog, &params).map_err(|e| anyhow!(e.0))?;
    let region = catalog.region(&a.region.region)?.to_owned();
    let inst = &d.served.instance;
    let (replica, eff, label) = replica(catalog, a, spec, &d.served, &d.workload)?;
    let node_price = inst.on_demand(&region).unwrap_or(0.0);
    let (w, _) = inferplan_perf::memory::weight_bytes(
        &d.served.model,
        d.served.weights,
        d.served.tp,
        d.served.pp,
    );
    let bytes = w / f64::from(d.nodes_per_replica);
    let arch = catalog
        .instance_gpu(inst)
        .map(|g| g.arch)
        .ok_or_else(|| anyhow!("{}: the catalog has no accelerator for it", inst.name))?;
    let cold = new_replica(
        d.weights_source.as_str(),
        Some(d.served.engine),
        arch,
        bytes,
        inst,
    );
    let nodes = Nodes {
        replicas_per_node: d.replicas_per_node,
        nodes_per_replica: d.nodes_per_replica,
        start_s: autoscaling::node_start_s(),
        consolidate_after_s: d.consolidate_after_s.unwrap_or(f64::INFINITY),
        usd_per_node_hour: node_price,
    };
    let autoscaler = d.autoscaler.as_ref().map(|s| Autoscaler {
        triggers: s
            .triggers
            .iter()
            .map(|t| Trigger {
                metric: match t.signal {
                    Signal::InFlight => ScaleMetric::InFlight,
                    Signal::Queue => ScaleMetric::QueueDepth,
                    Signal::GpuUtilization => ScaleMetric::GpuUtilization,
                    Signal::Schedule {
                        start_minute,
                        minutes,
                        replicas,
                    } => ScaleMetric::Schedule {
                        from_s: start_minute * 60,
                        seconds: minutes * 60,
                        replicas,
                    },
                },
                target: t.threshold,
                activation: t.activation,
            })
            .collect(),
        min: s.min,
        max: s.max,
        interval_s: f64::from(s.polling_s),
        metric_lag_s: f64::from(autoscaling::SCRAPE_INTERVAL_S),
        behavior: s.behavior.clone(),
        tolerance: autoscaling::TOLERANCE,
        scale_to_zero_after_s: f64::from(s.cooldown_s),
    });
    // With an autoscaler, as if it had run before: its minimum, or what a `cron` trigger asks
    // for at the start (00:00 UTC) when more.
    let replicas = match &autoscaler {
        Some(a) => a
            .triggers
            .iter()
            .filter_map(|t| t.metric.scheduled(0))
            .fold(f64::from(a.min), f64::max)
            .max(1.0) as u32,
        None => d.replicas.max(1),
    };
    let mut unmodelled = d.unmodelled.clone();
    if autoscaler.as_ref().is_some_and(|a| {
        a.triggers
            .iter()
            .any(|t| matches!(t.metric, ScaleMetric::Schedule { .. }))
    }) {
        unmodelled.push(
            "the simulation starts at 00:00 UTC, the clock the `cron` triggers follow".to_owned(),
        );
    }
    unmodelled.push(format!(
        "the metric pipeline's lag is taken as one scrape interval ({} s, what `render`'s \
         PodMonitor writes); readiness probes add no delay after the engine is up",
        autoscaling::SCRAPE_INTERVAL_S
    ));
    let gpus = d.served.tp * d.served.pp;
    let cfg = FleetConfig {
        replica,
        efficiency: eff,
        replicas,
        // The rendered Service: kube-proxy sends each connection to a pod drawn at random.
        router: a.router.unwrap_or(Router::Random),
        autoscaler,
        managed: None,
        spot: a.spot_rate_per_hour.map(|rate| Spot {
            rate_per_hour: rate,
            notice_s: a.spot_notice_s,
        }),
        client: Client {
            timeout_s: a.timeout_s,
            max_retries: a.retries,
            idempotency_keys: a.idempotency_keys,
        },
        cold_start_s: a.cold_start_s.unwrap_or(autoscaling::pod_start_s(&cold)),
        usd_per_replica_hour: node_price * f64::from(gpus) / f64::from(inst.whole_gpus().max(1)),
        nodes: Some(nodes),
        slo: Slo::default(),
        sample_s: 60.0,
        closed_loop: a.traffic.concurrency,
        warmup_s: a.traffic.warmup_s.unwrap_or(0.0),
        prefix_hit_rate: a.traffic.prefix_hit_rate,
    };
    Ok(Setup {
        model: d.served.model.name.clone(),
        target: format!("{label} ({})", d.workload),
        engine: d.served.engine,
        tp: d.served.tp,
        pp: d.served.pp,
        cfg,
        unmodelled,
    })
}

/// The replica of `s`, which `name` runs (placement resolved as the model and hardware flags would be, the
/// engine's defaults where `s` sets nothing), its efficiencies, and the label of its hardware.
pub(super) fn replica(
    catalog: &Catalog,
    a: &SimulateArgs,
    spec: &TrafficSpec,
    s: &Served,
    name: &str,
) -> anyhow::Result<(Replica, Efficiency, String)> {
    let params = MemoryParams::embedded()?;
    let dep_args = DeploymentArgs {
        model: Some(s.model.name.clone()),
        model_config: None,
        precision: s.weights,
        kv_dtype: Some(s.kv),
        instance: Some(s.instance.name.clone()),
        gpu: None,
        gpus: 1,
        tp: Some(s.tp),
        pp: s.pp,
    };
    let r = deployment::resolve(catalog, s.model.clone(), &dep_args)?;
    let t = &r.target;
    let defaults = s.engine.defaults_on(t.gpu, t.mem_gib, r.tp, r.pp);
    let mut limits = defaults.limits;
    if let Some(n) = s.max_num_seqs {
        limits.max_num_seqs = n;
    }
    if let Some(n) = s.max_num_batched_tokens {
        limits.max_num_batched_tokens = n;
    }
    let context = s
        .max_model_len
        .unwrap_or_else(|| longest(spec))
        .min(s.model.max_context)
        .max(1);
    let dep = Deployment {
        placement: r.placement(),
        engine: s.engine,
        limits,
        kv_memory_fraction: s
            .gpu_memory_utilization
            .unwrap_or(defaults.kv_memory_fraction),
    };
    let replica = Replica::new(&dep, context, &params).map_err(|e| anyhow!("{name}: {e}"))?;
    let eff = efficiency(&a.params)?
        .lookup(t.gpu.arch, s.engine, s.weights)
        .eff;
    Ok((replica, eff, t.label.clone()))
}
