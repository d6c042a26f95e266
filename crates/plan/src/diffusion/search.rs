//! The diffusion search: every instance type and denoiser format the workload allows, checked
//! for memory (with CPU offload when needed), timed per job, sized hour by hour for the
//! latency promise with a queue model, priced, compared with a managed service, and ranked.

use super::queue::{mean_wait, servers_for, wait_quantile};
use super::workload::DiffusionWorkload;
use crate::candidate::PurchaseMix;
use crate::capacity::Reject;
use crate::cost::{buy, job_mix};
use crate::endpoint::{advise_situation, EndpointAdvice, Situation};
use crate::error::PlanError;
use crate::findings::{
    cpu_offload_on_the_job_path, warm_pool_idle_cost, Finding, IsolatedTenantWithoutMig, Shape,
    SingleGpuReplicasOnLargeInstances,
};
use crate::job::{JobSpec, Window};
use crate::search::{cheapest_region, instance_excluded, nearest_misses, record, Rejection};
use crate::workload::Mode;
use inferplan_catalog::{Arch, Catalog, Dtype, Gpu, Instance};
use inferplan_perf::diffusion::{
    diffusion_model, fit, peak_tflops, time, DiffusionEfficiencies, DiffusionJob, DiffusionModel,
    Offload,
};
use inferplan_serving::host::pod_memory_gib;
use inferplan_serving::new_replica;
use serde::Serialize;
use std::collections::BTreeMap;

/// Most GPUs the search sizes one pool for.
pub const MAX_POOL_GPUS: u32 = 4096;

/// Highest jobs per day the break-even search tries.
pub const BREAK_EVEN_MAX_JOBS_PER_DAY: f64 = 1e7;

/// Where a managed service becomes dearer than running the pool.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BreakEven {
    /// The managed price per image or clip, $.
    pub managed_usd_per_output: f64,
    /// What the managed service would cost per day at the workload's volume, $.
    pub managed_usd_per_day: f64,
    /// What this deployment costs per day at the workload's volume, $.
    pub self_usd_per_day: f64,
    /// The smallest volume (jobs per day, same daily profile) from which this deployment
    /// costs no more than the managed service; `None` when it never does (up to
    /// [`BREAK_EVEN_MAX_JOBS_PER_DAY`]).
    pub jobs_per_day: Option<f64>,
}

/// One deployment that keeps the latency promise.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DiffusionCandidate {
    /// Instance type.
    pub instance: String,
    /// Instance family.
    pub family: String,
    /// Region of the price.
    pub region: String,
    /// GPU.
    pub gpu: String,
    /// GPUs of one instance.
    pub gpus_per_instance: u32,
    /// Denoiser format.
    pub precision: Dtype,
    /// Where the weights live while a job runs.
    pub offload: Offload,
    /// Peak GPU memory of a job, GiB.
    pub peak_memory_gib: f64,
    /// One job on one GPU, seconds.
    pub job_s: f64,
    /// Cold start of a new worker (boot, pipeline start, weights), seconds.
    pub cold_start_s: f64,
    /// GPUs at the busiest hour (one job each), including the N+1 spare when asked.
    pub gpus_peak: u32,
    /// GPUs kept warm around the clock (0 when the pool scales to zero).
    pub warm_pool_gpus: u32,
    /// Whether the pool scales to zero between jobs (async or batch work whose limit covers a
    /// cold start).
    pub scale_to_zero: bool,
    /// Instances at the busiest hour.
    pub instances_peak: u32,
    /// GPUs billed in each hour of the day (fractional when the pool scales to zero).
    pub hourly_gpus: [f64; 24],
    /// Mean queueing delay at the busiest hour, seconds.
    pub queue_mean_s: f64,
    /// Queueing delay at the SLO percentile at the busiest hour, seconds.
    pub queue_p_s: f64,
    /// Job latency (queue + job) at the SLO percentile at the busiest hour, seconds.
    pub latency_p_s: f64,
    /// Busy GPU-hours over billed GPU-hours.
    pub utilization: f64,
    /// Cost per day at the purchase mix, $.
    pub usd_per_day: f64,
    /// Cost per image or clip, $.
    pub usd_per_output: f64,
    /// Cost per second of video, $ (video models).
    pub usd_per_video_second: Option<f64>,
    /// How the capacity is bought.
    pub purchase_mix: PurchaseMix,
    /// Against the managed price, when one is given.
    pub break_even: Option<BreakEven>,
    /// Things to know.
    pub findings: Vec<Finding>,
}

/// The answer for a diffusion workload.
#[derive(Debug, Clone, Serialize)]
pub struct DiffusionPlan {
    /// The workload as read.
    pub workload: DiffusionWorkload,
    /// Catalog model.
    pub model: String,
    /// Whether it makes clips (else images).
    pub video: bool,
    /// The job every request asks for.
    pub job: DiffusionJob,
    /// Seconds of video of a clip.
    pub clip_seconds: Option<f64>,
    /// Deployments that keep the promise, cheapest first.
    pub candidates: Vec<DiffusionCandidate>,
    /// Configurations considered (instance × format).
    pub considered: usize,
    /// Rejected configurations by reason.
    pub rejected: BTreeMap<&'static str, usize>,
    /// Every rejection, in search order.
    pub rejections: Vec<Rejection>,
    /// The misses closest to feasible (when nothing keeps the promise), best first.
    pub nearest_misses: Vec<Rejection>,
    /// The serving pattern.
    pub endpoint: EndpointAdvice,
}

impl DiffusionPlan {
    /// The candidates keeping only the cheapest instance size of each GPU, GPU count and
    /// format (a g6e.2xlarge is a g6e.xlarge with more CPU).
    pub fn options(&self) -> Vec<&DiffusionCandidate> {
        let mut seen = std::collections::BTreeSet::new();
        self.candidates
            .iter()
            .filter(|c| seen.insert((c.gpu.clone(), c.gpus_per_instance, c.precision.as_str())))
            .collect()
    }
}

/// What one configuration costs and how it serves, before findings.
struct Sized {
    hourly_gpus: [f64; 24],
    peak_gpus: u32,
    warm: u32,
    scale_to_zero: bool,
    busy_gpu_hours: f64,
    mix: PurchaseMix,
}

/// Plans a diffusion workload over the whole catalog.
pub fn plan_diffusion(
    catalog: &Catalog,
    efficiency: &DiffusionEfficiencies,
    w: &DiffusionWorkload,
) -> Result<DiffusionPlan, PlanError> {
    w.validate()?;
    let m = diffusion_model(&w.model.name).ok_or_else(|| {
        PlanError::input(
            "model.name",
            format!(
                "`{}` is not in the diffusion catalog (`inferplan catalog diffusion` lists it)",
                w.model.name
            ),
        )
    })?;
    let job = w.job.resolve(m).map_err(|e| match e {
        inferplan_perf::PerfError::Refused { field, message } => {
            PlanError::input(format!("job.{field}"), message)
        }
        other => PlanError::input("job", other.to_string()),
    })?;
    let precisions: Vec<Dtype> = match w.model.precision.to_ascii_lowercase().as_str() {
        "any" => vec![Dtype::Bf16, Dtype::Fp8],
        p => vec![p
            .parse()
            .map_err(|e: String| PlanError::input("model.precision", e.to_string()))?],
    };
    let mut out = DiffusionPlan {
        workload: w.clone(),
        model: m.name.clone(),
        video: m.video,
        job,
        clip_seconds: job.clip_seconds(m),
        candidates: Vec::new(),
        considered: 0,
        rejected: BTreeMap::new(),
        rejections: Vec::new(),
        nearest_misses: Vec::new(),
        endpoint: advise(w, None),
    };
    for inst in catalog.instances() {
        let Some(gpu) = catalog.instance_gpu(inst) else {
            continue;
        };
        for &dtype in &precisions {
            out.considered += 1;
            let setup = dtype.to_string();
            let result = instance_excluded(&w.constraints, inst)
                .map(|(r, d)| (r, d, None))
                .map_or_else(|| evaluate(w, m, &job, inst, gpu, dtype, efficiency), Err);
            match result {
                Ok(c) => out.candidates.push(c),
                Err(r) => record(&mut out.rejected, &mut out.rejections, inst, setup, r),
            }
        }
    }
    out.candidates.sort_by(|a, b| {
        a.usd_per_day
            .total_cmp(&b.usd_per_day)
            .then(a.latency_p_s.total_cmp(&b.latency_p_s))
            .then_with(|| a.instance.cmp(&b.instance))
    });
    out.nearest_misses = nearest_misses(&out.rejections);
    out.endpoint = advise(w, out.candidates.first());
    Ok(out)
}

fn evaluate(
    w: &DiffusionWorkload,
    m: &DiffusionModel,
    job: &DiffusionJob,
    inst: &Instance,
    gpu: &Gpu,
    dtype: Dtype,
    e: &DiffusionEfficiencies,
) -> Result<DiffusionCandidate, Reject> {
    if matches!(gpu.arch, Arch::Neuron | Arch::Cdna3 | Arch::Other) {
        return Err((
            "not_calibrated",
            format!(
                "{}: no diffusion measurement on this accelerator in the validation data",
                gpu.name
            ),
            None,
        ));
    }
    if inst.gpu_count < 1.0 {
        return Err((
            "fractional_gpu",
            format!("{} is a slice of a GPU; a job needs a whole one", inst.name),
            None,
        ));
    }
    if dtype == Dtype::Fp8 && gpu.fp8_tflops.is_none() {
        return Err((
            "no_native_fp8",
            format!("{} has no FP8 tensor cores", gpu.name),
            None,
        ));
    }
    let Some((region, price)) = cheapest_region(&w.constraints.regions, inst) else {
        return Err((
            "no_price_in_regions",
            format!("no on-demand price in {}", w.constraints.regions.join(", ")),
            None,
        ));
    };
    let mem_gib = inst.gpu_mem_gib().or_else(|| gpu.memory_gib()).ok_or((
        "no_gpu_figures",
        format!("memory of {}", gpu.name),
        None,
    ))?;
    let mem = fit(m, job, dtype, mem_gib).ok_or_else(|| {
        (
            "does_not_fit",
            format!("needs more than {mem_gib:.1} GiB even streaming the denoiser"),
            None,
        )
    })?;
    // One worker per GPU, each with its share of the instance's memory: the weights it
    // offloads live there while it runs.
    if mem.offload != Offload::None {
        let pods = f64::from(inst.whole_gpus().max(1));
        let pod_gib = pod_memory_gib(inst.ram_gib, pods, 1) as f64;
        let need = mem.host_gib();
        if need > pod_gib {
            return Err((
                "host_memory_too_small",
                format!(
                    "{} CPU offload keeps {:.1} GiB of weights in host memory, {need:.1} GiB \
                     with the worker process; a worker gets {pod_gib:.0} GiB of {}'s memory",
                    mem.offload.as_str(),
                    mem.offloaded_gib(),
                    inst.name
                ),
                Some(need / pod_gib.max(1.0)),
            ));
        }
    }
    if peak_tflops(gpu, dtype).is_none() {
        return Err((
            "no_gpu_figures",
            format!("{}: tensor throughput not published", gpu.name),
            None,
        ));
    }
    let t = time(m, job, gpu, dtype, mem.offload, &e.lookup(gpu.arch)).ok_or((
        "no_gpu_figures",
        format!("{}: memory bandwidth not published", gpu.name),
        None,
    ))?;
    let job_s = t.e2e_s;
    let cold = new_replica(
        &w.constraints.weights_source,
        None,
        gpu.arch,
        mem.weights_gib * (1u64 << 30) as f64,
        inst,
    )
    .seconds;
    if let Some(limit) = w.limit_s() {
        if job_s > limit {
            return Err((
                "slower_than_slo",
                format!(
                    "one job takes {job_s:.0} s{} against {limit:.0} s",
                    if mem.offload == Offload::None {
                        String::new()
                    } else {
                        format!(" with {} CPU offload", mem.offload.as_str())
                    }
                ),
                Some(job_s / limit),
            ));
        }
    }
    let gpus_per_instance = inst.whole_gpus().max(1);
    let hourly = w.hourly_jobs_s();
    let sized = size(
        w,
        job_s,
        cold,
        gpus_per_instance,
        &hourly,
        inst,
        region,
        price,
    )?;
    // The queue at the rate the pool is sized for: the busiest hour, or the day's mean.
    let sized_rate = if w.sized_on_mean() {
        w.mean_jobs_s()
    } else {
        hourly.iter().copied().fold(0.0, f64::max)
    };
    let (ca2, q) = (w.traffic.burstiness.powi(2), w.slo.percentile.quantile());
    // A scaled-to-zero pool has at least one worker while jobs arrive.
    let peak_pool = sized.peak_gpus.max(1);
    let queue_p_s = wait_quantile(peak_pool, sized_rate, job_s, ca2, 0.0, q);
    let queue_mean_s = mean_wait(peak_pool, sized_rate, job_s, ca2, 0.0);
    let billed: f64 = sized.hourly_gpus.iter().sum();
    let usd_per_day = sized.mix.usd_per_hour * 24.0;
    let outputs_per_day = w.mean_jobs_s() * 86_400.0 * job.batch as f64;
    let usd_per_output = usd_per_day / outputs_per_day;
    let clip_s = job.clip_seconds(m);
    let break_even = w.managed.usd_per_output.map(|p| {
        let cost_at = |jobs_per_day: f64| {
            let k = jobs_per_day / (w.mean_jobs_s() * 86_400.0);
            let rates = hourly.map(|r| r * k);
            size(
                w,
                job_s,
                cold,
                gpus_per_instance,
                &rates,
                inst,
                region,
                price,
            )
            .map_or(f64::INFINITY, |s| s.mix.usd_per_hour * 24.0)
        };
        BreakEven {
            managed_usd_per_output: p,
            managed_usd_per_day: p * outputs_per_day,
            self_usd_per_day: usd_per_day,
            jobs_per_day: break_even_volume(&cost_at, p * job.batch as f64),
        }
    });
    let mut c = DiffusionCandidate {
        instance: inst.name.clone(),
        family: inst.family.clone(),
        region: region.to_owned(),
        gpu: gpu.name.clone(),
        gpus_per_instance,
        precision: dtype,
        offload: mem.offload,
        peak_memory_gib: mem.total_gib,
        job_s,
        cold_start_s: cold,
        gpus_peak: sized.peak_gpus,
        warm_pool_gpus: sized.warm,
        scale_to_zero: sized.scale_to_zero,
        instances_peak: sized.peak_gpus.div_ceil(gpus_per_instance),
        hourly_gpus: sized.hourly_gpus,
        queue_mean_s,
        queue_p_s,
        latency_p_s: job_s + queue_p_s,
        utilization: if billed > 0.0 {
            (sized.busy_gpu_hours / billed).min(1.0)
        } else {
            0.0
        },
        usd_per_day,
        usd_per_output,
        usd_per_video_second: clip_s.map(|s| usd_per_output / s),
        purchase_mix: sized.mix,
        break_even,
        findings: Vec::new(),
    };
    c.findings = findings(w, &c, inst, gpu);
    Ok(c)
}

/// GPUs hour by hour and the purchase mix for hourly job rates `rates`.
#[allow(clippy::too_many_arguments)]
fn size(
    w: &DiffusionWorkload,
    job_s: f64,
    cold_s: f64,
    gpus_per_instance: u32,
    rates: &[f64; 24],
    inst: &Instance,
    region: &str,
    price: f64,
) -> Result<Sized, Reject> {
    if w.slo.mode == Mode::Batch {
        return size_job(
            w,
            job_s,
            cold_s,
            gpus_per_instance,
            rates,
            inst,
            region,
            price,
        );
    }
    let (ca2, q) = (w.traffic.burstiness.powi(2), w.slo.percentile.quantile());
    let mean = rates.iter().sum::<f64>() / 24.0;
    let spare = if w.constraints.redundancy {
        gpus_per_instance
    } else {
        0
    };
    let limit = w.limit_s();
    let smooth = w.sized_on_mean();
    let scale_to_zero =
        w.slo.mode != Mode::Interactive && limit.is_none_or(|d| d >= job_s + cold_s);
    let servers = |rate: f64| -> Result<u32, Reject> {
        if rate <= 0.0 {
            return Ok(0);
        }
        match limit {
            Some(l) => servers_for(rate, job_s, ca2, 0.0, q, l, MAX_POOL_GPUS).ok_or_else(|| {
                (
                    "pool_too_large",
                    format!("more than {MAX_POOL_GPUS} GPUs to keep {l:.0} s"),
                    None,
                )
            }),
            None => Ok(((rate * job_s).ceil() as u32).max(1)),
        }
    };
    let mut pool = [0u32; 24];
    for h in 0..24 {
        pool[h] = servers(if smooth { mean } else { rates[h] })?;
    }
    let peak = pool.iter().copied().max().unwrap_or(0);
    let mut hourly_gpus = [0.0; 24];
    if scale_to_zero {
        // Workers run while there is work, each job paying at most one cold start. A fluid
        // backlog carries what a smoothed pool cannot serve in an hour into the next ones
        // (two passes over the day so that the night's backlog wraps around).
        let mut backlog = 0.0;
        for pass in 0..2 {
            for h in 0..24 {
                let work = backlog + rates[h] * (job_s + cold_s);
                let served = work.min(f64::from(pool[h].max(u32::from(work > 0.0))));
                backlog = work - served;
                if pass == 1 {
                    hourly_gpus[h] = served;
                }
            }
        }
    } else {
        for h in 0..24 {
            hourly_gpus[h] = f64::from(pool[h].max(1) + spare);
        }
    }
    let peak = if scale_to_zero {
        peak
    } else {
        peak.max(1) + spare
    };
    let warm = if scale_to_zero {
        0
    } else {
        hourly_gpus.iter().copied().fold(f64::INFINITY, f64::min) as u32
    };
    let busy_gpu_hours = rates.iter().map(|r| r * job_s).sum::<f64>();
    let mix = purchase(
        w,
        &hourly_gpus,
        warm,
        scale_to_zero,
        gpus_per_instance,
        inst,
        region,
        price,
    );
    Ok(Sized {
        hourly_gpus,
        peak_gpus: peak,
        warm,
        scale_to_zero,
        busy_gpu_hours,
        mix,
    })
}

/// Batch work as a job over its window (`crate::job`, as for LLM batch work): the day's jobs
/// shared by the fewest GPUs that finish them within the window at p99, billed only while they
/// run.
#[allow(clippy::too_many_arguments)]
fn size_job(
    w: &DiffusionWorkload,
    job_s: f64,
    cold_s: f64,
    gpus_per_instance: u32,
    rates: &[f64; 24],
    inst: &Instance,
    region: &str,
    price: f64,
) -> Result<Sized, Reject> {
    let window = Window::daily(w.slo.window_hours, w.slo.window_start_utc);
    // GPU-hours of the jobs of one period (jobs/s of each hour × 3600 s × job_s / 3600 s).
    let per_day: f64 = rates.iter().map(|r| r * job_s).sum();
    let spec = JobSpec {
        work_unit_hours: per_day * window.period_hours / 24.0,
        units_per_instance: gpus_per_instance.max(1),
        instances_per_unit: 1,
        cold_start_s: cold_s,
        tail_s: job_s,
        spot_overhead: None,
        window,
    };
    let (mix, billed) =
        job_mix(&w.pricing, w.slo.mode, inst, region, price, spec).map_err(|e| {
            let (reason, detail) = e.reason(&window);
            (reason, detail, None)
        })?;
    let g = f64::from(gpus_per_instance.max(1));
    let units = mix.batch_job.as_ref().map_or(0, |j| j.units);
    Ok(Sized {
        hourly_gpus: billed.map(|i| i * g),
        peak_gpus: units,
        warm: 0,
        scale_to_zero: true,
        busy_gpu_hours: per_day,
        mix,
    })
}

/// The purchase mix: the warm pool on a savings plan, the rest on demand, or everything on
/// spot for async and batch work when allowed.
#[allow(clippy::too_many_arguments)]
fn purchase(
    w: &DiffusionWorkload,
    hourly_gpus: &[f64; 24],
    warm_gpus: u32,
    scale_to_zero: bool,
    gpus_per_instance: u32,
    inst: &Instance,
    region: &str,
    price: f64,
) -> PurchaseMix {
    let g = f64::from(gpus_per_instance.max(1));
    // Instances each hour: whole instances for an always-on pool, a share of an instance's
    // hour when workers come and go; never below the warm pool.
    let warm = if scale_to_zero {
        0.0
    } else {
        (f64::from(warm_gpus) / g).ceil()
    };
    let inst_hours: [f64; 24] = hourly_gpus.map(|n| {
        if scale_to_zero {
            n / g
        } else {
            (n / g).ceil().max(warm)
        }
    });
    let peak = inst_hours.iter().copied().fold(0.0, f64::max).ceil() as u32;
    buy(
        &w.pricing,
        w.slo.mode,
        inst,
        region,
        price,
        &inst_hours,
        peak,
    )
}

/// The smallest jobs-per-day volume at which `cost_at(volume)` ($/day) is at most
/// `managed_usd_per_job` × volume: a geometric scan from 1 job/day, then bisection.
fn break_even_volume(cost_at: &dyn Fn(f64) -> f64, managed_usd_per_job: f64) -> Option<f64> {
    let cheaper = |v: f64| cost_at(v) <= managed_usd_per_job * v;
    let mut lo = 1.0;
    if cheaper(lo) {
        return Some(lo);
    }
    let mut hi = lo;
    while hi < BREAK_EVEN_MAX_JOBS_PER_DAY {
        hi = (hi * 1.25).min(BREAK_EVEN_MAX_JOBS_PER_DAY);
        if cheaper(hi) {
            break;
        }
        lo = hi;
    }
    if !cheaper(hi) {
        return None;
    }
    for _ in 0..40 {
        let mid = (lo + hi) / 2.0;
        if cheaper(mid) {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    Some(hi.ceil())
}

fn findings(
    w: &DiffusionWorkload,
    c: &DiffusionCandidate,
    inst: &Instance,
    gpu: &Gpu,
) -> Vec<Finding> {
    let shape = Shape {
        instance: inst,
        gpu,
        region: &c.region,
        gpus_per_replica: 1,
        gpus_per_instance: c.gpus_per_instance,
        replicas: c.gpus_peak.max(1),
        replicas_per_instance: c.gpus_per_instance.min(c.gpus_peak.max(1)),
        unit: "job worker",
    };
    [
        IsolatedTenantWithoutMig.check_shape(w.constraints.tenancy, &shape),
        SingleGpuReplicasOnLargeInstances.check_shape(&shape),
        warm_pool_idle_cost(w, c),
        cpu_offload_on_the_job_path(c),
    ]
    .into_iter()
    .flatten()
    .collect()
}

/// The serving pattern for the workload and its best deployment.
fn advise(w: &DiffusionWorkload, best: Option<&DiffusionCandidate>) -> EndpointAdvice {
    advise_situation(&Situation {
        mode: w.slo.mode,
        deadline_s: w.slo.deadline_s,
        streams: false,
        models: 1,
        rate_per_model: w.mean_jobs_s(),
        e2e_p_s: best.map(|c| c.latency_p_s),
        utilization: best.map(|c| c.utilization),
        unit: "jobs",
    })
}
