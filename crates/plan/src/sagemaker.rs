//! SageMaker candidates: the same replica (hardware, layout, weights, engine, capacity at the
//! SLOs) as an EKS candidate, served by a SageMaker endpoint on the `ml.*` twin of its
//! instance, in the container that exists for its engine, as the endpoint type the endpoint
//! advice picks, checked against SageMaker's limits, with SageMaker's cold start, and priced
//! only from a managed price (never from the EC2 price of the same hardware).
//!
//! [`SageMakerOption`] is the one struct that holds a candidate's SageMaker side: what `plan`
//! shows, what `render --platform sagemaker` renders, and what a simulation of the endpoint
//! reads.

use crate::candidate::{Candidate, PurchaseMix};
use crate::capacity::Reject;
use crate::cost::{llm_job, spare_replicas, ReplicaLayout, Sizing};
use crate::endpoint::{advise, Pattern};
use crate::job::{plan_job, BatchJob, JobSpec, Window};
use crate::workload::{Mode, Platform, Workload};
use inferplan_catalog::{Arch, Catalog, Gpu, Instance, ManagedPrice, Usage};
use inferplan_serving::sagemaker::{self as sm, limits, EndpointType};

pub use crate::managed::{LimitCheck, SageMakerOption};

/// Why no managed price applies: the catalog ships none.
pub const NO_EMBEDDED_PRICES: &str = "the catalog ships no SageMaker prices (no dated copy of AWS's price list for SageMaker hosting could be found; data/catalog/SOURCES.md); supply one in a prices.csv (`--prices FILE`, docs/catalog.md), never the EC2 price of the same hardware";

const INVOKE_ENDPOINT: &str =
    "InvokeEndpoint, SageMaker Runtime API reference (docs.aws.amazon.com/sagemaker/latest/APIReference/API_runtime_InvokeEndpoint.html)";
const ASYNC_GUIDE: &str =
    "Asynchronous inference, SageMaker developer guide (docs.aws.amazon.com/sagemaker/latest/dg/async-inference.html)";
const PRODUCTION_VARIANT: &str =
    "ProductionVariant, SageMaker API reference (docs.aws.amazon.com/sagemaker/latest/APIReference/API_ProductionVariant.html)";

/// The endpoint type for a workload whose EKS twin is `eks`: the endpoint advice's pattern
/// (many models on one endpoint are planned as a real-time endpoint per model).
fn endpoint_of(w: &Workload, eks: &Candidate) -> (EndpointType, String) {
    let advice = advise(w, Some(eks));
    let t = match advice.pattern {
        Pattern::RealTime | Pattern::MultiModel => EndpointType::RealTime,
        Pattern::Async => EndpointType::Async,
        Pattern::Batch => EndpointType::BatchTransform,
    };
    (t, advice.reason)
}

/// The SageMaker candidate of `eks` (an EKS candidate before its pricing: checkpoint set, no
/// region or cost), or why there is none. Its region is the one of its managed price, else
/// `offered_in` (an allowed region where the hardware is offered), else the first allowed.
pub fn derive(
    catalog: &Catalog,
    w: &Workload,
    sizing: &Sizing,
    eks: &Candidate,
    inst: &Instance,
    gpu: &Gpu,
    offered_in: Option<&str>,
) -> Result<Candidate, Reject> {
    let Some(t) = catalog.sagemaker_type(&inst.name) else {
        return Err((
            "sagemaker_no_instance_type",
            format!(
                "SageMaker offers no ml.{} (data/catalog/sagemaker_instance_types.csv)",
                inst.name
            ),
            None,
        ));
    };
    if eks.nodes_per_replica() > 1 {
        return Err((
            "sagemaker_layout",
            format!(
                "a replica spans {} instances; a SageMaker endpoint runs one model copy per instance",
                eks.nodes_per_replica()
            ),
            None,
        ));
    }
    if eks.replicas_per_instance > 1 {
        return Err((
            "sagemaker_layout",
            format!(
                "{} replicas share one {}; a SageMaker endpoint runs one model copy per instance (the TP{} layout of the same instance is its SageMaker candidate)",
                eks.replicas_per_instance, t.instance_type, eks.gpus_per_instance
            ),
            None,
        ));
    }
    let nvidia = !matches!(gpu.arch, Arch::Neuron | Arch::Cdna3 | Arch::Other);
    let container = sm::container_for(eks.engine, nvidia)
        .map_err(|why| ("sagemaker_no_container", why, None))?;
    let (endpoint, endpoint_reason) = endpoint_of(w, eks);
    let usage = match endpoint {
        EndpointType::BatchTransform => Usage::BatchTransform,
        _ => Usage::Hosting,
    };
    let offered = match usage {
        Usage::Hosting => t.hosting,
        Usage::BatchTransform => t.batch_transform,
    };
    if !offered {
        return Err((
            "sagemaker_no_instance_type",
            format!(
                "{} does not run {} (the SageMaker API's instance types, data/catalog/sagemaker_instance_types.csv)",
                t.instance_type,
                endpoint.as_str()
            ),
            None,
        ));
    }
    let cold = sm::cold_start(eks.cold_start_bytes_per_node(), eks.engine);
    let budget = sm::startup_budget_s(&cold);
    let (_, max_startup) = limits::STARTUP_TIMEOUT_RANGE_S;
    let e2e_s = eks.e2e_p99_ms / 1e3;
    let mut checks = vec![LimitCheck {
        limit: "container startup health check and model download timeouts".to_owned(),
        value: format!(
            "{}-{} s",
            limits::STARTUP_TIMEOUT_RANGE_S.0,
            limits::STARTUP_TIMEOUT_RANGE_S.1
        ),
        planned: format!("{budget} s (download, engine start and read × 1.25)"),
        source: PRODUCTION_VARIANT.to_owned(),
    }];
    if budget > max_startup {
        return Err((
            "sagemaker_limit",
            format!(
                "the container needs {budget} s to pass its health check ({}), above SageMaker's {max_startup} s",
                cold.basis
            ),
            None,
        ));
    }
    match endpoint {
        EndpointType::RealTime => {
            if e2e_s > f64::from(limits::REALTIME_TIMEOUT_S) {
                return Err((
                    "sagemaker_limit",
                    format!(
                        "end-to-end p99 {e2e_s:.0} s is above the {} s a real-time endpoint answers within; an async endpoint (`slo.mode = \"async\"`) takes it",
                        limits::REALTIME_TIMEOUT_S
                    ),
                    None,
                ));
            }
            checks.push(LimitCheck {
                limit: "real-time response time".to_owned(),
                value: format!("{} s", limits::REALTIME_TIMEOUT_S),
                planned: format!("{e2e_s:.1} s end to end at p99"),
                source: INVOKE_ENDPOINT.to_owned(),
            });
            checks.push(LimitCheck {
                limit: "real-time request or response body".to_owned(),
                value: format!("{} bytes (6 MB)", limits::REALTIME_PAYLOAD_BYTES),
                planned: format!(
                    "not checked: the workload gives tokens ({} prompt, {} output at p99), not bytes",
                    sizing.input_p99, sizing.output_p99
                ),
                source: INVOKE_ENDPOINT.to_owned(),
            });
        }
        EndpointType::Async => {
            if e2e_s > f64::from(limits::ASYNC_TIMEOUT_S) {
                return Err((
                    "sagemaker_limit",
                    format!(
                        "end-to-end p99 {e2e_s:.0} s is above the {} s an asynchronous request may take",
                        limits::ASYNC_TIMEOUT_S
                    ),
                    None,
                ));
            }
            checks.push(LimitCheck {
                limit: "asynchronous processing time".to_owned(),
                value: format!(
                    "{} s (default {} s)",
                    limits::ASYNC_TIMEOUT_S,
                    limits::ASYNC_DEFAULT_TIMEOUT_S
                ),
                planned: format!("{e2e_s:.1} s end to end at p99"),
                source: ASYNC_GUIDE.to_owned(),
            });
            checks.push(LimitCheck {
                limit: "asynchronous payload (from S3)".to_owned(),
                value: format!("{} bytes (1 GB)", limits::ASYNC_PAYLOAD_BYTES),
                planned: "not checked: the workload gives tokens, not bytes".to_owned(),
                source: ASYNC_GUIDE.to_owned(),
            });
        }
        EndpointType::BatchTransform => {}
    }
    let regions = &w.constraints.regions;
    let price = regions
        .iter()
        .filter_map(|r| catalog.managed_price(&t.instance_type, r, usage))
        .min_by(|a, b| {
            a.usd_per_hour
                .total_cmp(&b.usd_per_hour)
                .then_with(|| a.region.cmp(&b.region))
        })
        .cloned();
    let region = match (&price, offered_in) {
        (Some(p), _) => p.region.clone(),
        (None, Some(r)) => r.to_owned(),
        (None, None) => regions[0].clone(),
    };
    let no_price = price.is_none().then(|| {
        format!(
            "no {} price for {} in {}: {NO_EMBEDDED_PRICES}",
            usage.as_str(),
            t.instance_type,
            regions.join(", ")
        )
    });
    let mut c = eks.clone();
    c.platform = Platform::Sagemaker;
    c.region = region.clone();
    let mix = mix(
        w,
        sizing,
        &c,
        inst,
        &cold,
        endpoint,
        price
            .as_ref()
            .ok_or(no_price.as_deref().unwrap_or_default()),
    )?;
    if let Some(job) = &mix.batch_job {
        c.replicas = job.units;
        c.instances = job.instances;
    } else {
        // The peak's instances as bought (the EKS candidate's rule, `search::plan`).
        c.instances = c
            .instances
            .max(mix.savings_plan_instances + mix.on_demand_instances + mix.spot_instances);
    }
    c.usd_per_hour = mix.usd_per_hour;
    c.purchase_mix = mix;
    c.sagemaker = Some(SageMakerOption {
        instance_type: t.instance_type.clone(),
        hardware: inst.name.clone(),
        endpoint,
        endpoint_reason,
        container: container.name.to_owned(),
        image: container.image(&region),
        container_source: container.source.to_owned(),
        rendered: container.rendered,
        usage,
        price,
        no_price,
        cold_start_s: cold.seconds,
        cold_start: cold.basis.clone(),
        startup_budget_s: budget,
        limits: checks,
    });
    Ok(c)
}

/// What a SageMaker candidate's instances cost: the instance-hours its endpoint type bills
/// (a real-time endpoint follows the day as the EKS fleet does, with SageMaker's cold start;
/// an async endpoint scales to zero between the windows of its deadline when that bills
/// less; Batch Transform runs the day's job in its window), all on demand at the managed
/// price. Without a price the hours are counted and the costs are infinite.
fn mix(
    w: &Workload,
    sizing: &Sizing,
    c: &Candidate,
    inst: &Instance,
    cold: &inferplan_serving::ColdStart,
    endpoint: EndpointType,
    price: Result<&ManagedPrice, &str>,
) -> Result<PurchaseMix, Reject> {
    let layout = ReplicaLayout {
        capacity: c.max_rps_per_replica,
        spare: spare_replicas(w, c),
        replicas_per_instance: 1,
        pp: 1,
        cold_start_s: cold.seconds,
        // The endpoint's own scaling (`autoscaling::sagemaker`) follows the hourly need.
        floor: [0; 24],
    };
    let fleet = sizing.fleet(w, &layout);
    let mut billed = fleet.billed;
    let mut needed = fleet.needed_hours();
    let mut peak = fleet.peak;
    let mut job: Option<BatchJob> = None;
    let spec = |window: Window| JobSpec {
        work_unit_hours: w.traffic.rate_rps * window.period_hours
            / c.max_rps_per_replica.max(1e-12),
        units_per_instance: 1,
        instances_per_unit: 1,
        cold_start_s: cold.seconds,
        tail_s: c.e2e_p99_ms / 1e3,
        spot_overhead: None,
        window,
    };
    let as_job = match endpoint {
        EndpointType::BatchTransform => Some(JobSpec {
            cold_start_s: cold.seconds,
            ..llm_job(w, c, inst)
        }),
        EndpointType::Async if w.slo.mode == Mode::Async => {
            w.slo.deadline_s.and_then(Window::for_deadline).map(spec)
        }
        _ => None,
    };
    if let Some(s) = as_job {
        match plan_job(&s) {
            Ok((j, b)) => {
                let cheaper = b.iter().sum::<f64>() < billed.iter().sum::<f64>();
                if endpoint == EndpointType::BatchTransform || cheaper {
                    needed = s.work_unit_hours / f64::from(j.units.max(1))
                        * f64::from(j.instances)
                        * f64::from(j.runs_per_day);
                    billed = b;
                    peak = j.instances;
                    job = Some(j);
                }
            }
            // Batch Transform is a job or nothing; an async endpoint stays a pool.
            Err(e) if endpoint == EndpointType::BatchTransform => {
                let (reason, detail) = e.reason(&s.window);
                return Err((reason, detail, None));
            }
            Err(_) => {}
        }
    }
    let hours: f64 = billed.iter().sum();
    let mean = hours / 24.0;
    let cost = price.map_or(f64::INFINITY, |p| mean * p.usd_per_hour);
    let mut assumptions = Vec::new();
    match price {
        Ok(p) => assumptions.push(format!(
            "SageMaker {} on demand at ${:.4}/h per {} in {} ({}{}); SageMaker Savings Plans not applied (the catalog has no rates)",
            p.usage.as_str(),
            p.usd_per_hour,
            p.instance_type,
            p.region,
            p.source,
            p.as_of.as_deref().map_or_else(String::new, |d| format!(", {d}"))
        )),
        Err(why) => assumptions.push(format!("no price: {why}")),
    }
    assumptions.push(format!(
        "SageMaker cold start of a new instance: {}",
        cold.basis
    ));
    if let Some(j) = &job {
        assumptions.push(format!(
            "{}: {} run{} a day on {} instance{}, billed only while they run (about {} each, a cold start included)",
            match endpoint {
                EndpointType::BatchTransform => "Batch Transform job",
                _ => "async endpoint scaled to zero between windows",
            },
            j.runs_per_day,
            if j.runs_per_day == 1 { "" } else { "s" },
            j.instances,
            if j.instances == 1 { "" } else { "s" },
            crate::job::hours(j.run_hours)
        ));
    }
    Ok(PurchaseMix {
        savings_plan_instances: 0,
        on_demand_instances: peak,
        spot_instances: 0,
        usd_per_hour: cost,
        all_on_demand_usd_per_hour: cost,
        saving_pct: 0.0,
        assumptions,
        needed_instance_hours_per_day: needed,
        billed_instance_hours_per_day: hours,
        peak_kept_warm: job.is_none() && fleet.peak_kept_warm,
        cold_start_s: cold.seconds,
        usd_per_hour_if_spikes_outlast_cold_start: None,
        batch_job: job,
    })
}
