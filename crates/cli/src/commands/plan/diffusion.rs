//! `inferplan plan` for image and video diffusion workloads.

use super::overrides::{self, Shared};
use super::text::{endpoint_text, explain_text, findings_text, rejected_text};
use super::WorkloadFile;
use crate::args::{Format, FormatArg, PlanArgs, PlanDiffusionArgs};
use crate::commands::job::overlay;
use crate::output::{emit, emit_json, table};
use anyhow::bail;
use inferplan_catalog::Catalog;
use inferplan_perf::diffusion::DiffusionEfficiencies;
use inferplan_plan::diffusion::{
    plan_diffusion, DiffusionCandidate, DiffusionModelIn, DiffusionPlan, DiffusionWorkload, JobSlo,
    JobTraffic, Managed,
};
use inferplan_plan::workload::{Constraints, Mode, Pricing};
use inferplan_plan::Rejection;
use std::process::ExitCode;

/// Runs `plan` on a diffusion workload (`file`, if any, already read).
pub fn run(c: &Catalog, a: &PlanArgs, file: Option<&WorkloadFile>) -> anyhow::Result<ExitCode> {
    let PlanArgs {
        workload: _,
        model,
        precision,
        llm,
        shared,
        top,
        explain,
        format: FormatArg { format },
        diffusion,
    } = a;
    if let Some(flag) = llm.given() {
        bail!("{flag}: not for diffusion workloads (see `inferplan plan --help`, section Diffusion workloads)");
    }
    let mut w = match file {
        Some(f) => DiffusionWorkload::from_toml(&f.text, &f.origin)?,
        None => {
            let (Some(model), Some(_)) = (model, diffusion.jobs_per_day) else {
                bail!("give a workload file, or at least --model and --jobs-per-day");
            };
            DiffusionWorkload {
                name: "command line".to_owned(),
                model: DiffusionModelIn {
                    name: model.clone(),
                    precision: "bf16".to_owned(),
                },
                job: Default::default(),
                traffic: JobTraffic {
                    burstiness: 1.0,
                    ..JobTraffic::default()
                },
                slo: JobSlo::default(),
                constraints: Constraints::default(),
                pricing: Pricing::default(),
                managed: Managed::default(),
            }
        }
    };
    if let Some(m) = model {
        w.model.name = m.clone();
    }
    if let Some(p) = precision {
        w.model.precision = p.clone();
    }
    apply(diffusion, &mut w);
    overrides::apply(
        shared,
        Shared {
            burstiness: &mut w.traffic.burstiness,
            percentile: &mut w.slo.percentile,
            mode: &mut w.slo.mode,
            deadline_s: &mut w.slo.deadline_s,
            window: (&mut w.slo.window_hours, &mut w.slo.window_start_utc),
            constraints: &mut w.constraints,
        },
    );
    let located = |e: inferplan_plan::PlanError| match file {
        Some(f) => e.locate(&f.origin, &f.text),
        None => e,
    };
    w.validate().map_err(located)?;
    let p = plan_diffusion(c, DiffusionEfficiencies::embedded(), &w).map_err(located)?;
    match *format {
        Format::Json => emit_json(&PlanJson::new(&p, *top))?,
        Format::Md => emit(&adr(&p, *top))?,
        Format::Table => emit(&render(&p, *top, *explain))?,
    }
    Ok(if p.candidates.is_empty() {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// Applies the diffusion flags that were given over `w`.
fn apply(d: &PlanDiffusionArgs, w: &mut DiffusionWorkload) {
    let PlanDiffusionArgs {
        jobs_per_day,
        latency_s,
        managed_usd_per_clip,
        job,
    } = d;
    if let Some(n) = *jobs_per_day {
        w.traffic.jobs_per_day = Some(n);
        w.traffic.jobs_per_hour = None;
    }
    if latency_s.is_some() {
        w.slo.latency_s = *latency_s;
    }
    if managed_usd_per_clip.is_some() {
        w.managed.usd_per_output = *managed_usd_per_clip;
    }
    overlay(job, &mut w.job);
}

/// The JSON answer: the plan with its first `top` options.
#[derive(serde::Serialize)]
struct PlanJson<'a> {
    workload: &'a DiffusionWorkload,
    model: &'a str,
    job: &'a inferplan_perf::diffusion::DiffusionJob,
    clip_seconds: Option<f64>,
    considered: usize,
    candidates: Vec<&'a DiffusionCandidate>,
    rejected: &'a std::collections::BTreeMap<&'static str, usize>,
    nearest_misses: &'a [Rejection],
    endpoint: &'a inferplan_plan::endpoint::EndpointAdvice,
}

impl<'a> PlanJson<'a> {
    fn new(p: &'a DiffusionPlan, top: usize) -> Self {
        PlanJson {
            workload: &p.workload,
            model: &p.model,
            job: &p.job,
            clip_seconds: p.clip_seconds,
            considered: p.considered,
            candidates: p.options().into_iter().take(top.max(1)).collect(),
            rejected: &p.rejected,
            nearest_misses: &p.nearest_misses,
            endpoint: &p.endpoint,
        }
    }
}

fn unit(p: &DiffusionPlan) -> (&'static str, &'static str) {
    if p.video {
        ("clip", "clips")
    } else {
        ("image", "images")
    }
}

fn job_text(p: &DiffusionPlan) -> String {
    let j = &p.job;
    let what = match p.clip_seconds {
        Some(s) if p.video => format!(
            "{}x{} × {} frames ({s:.1} s at {} fps)",
            j.width,
            j.height,
            j.frames,
            j.fps.unwrap_or(0.0)
        ),
        _ if p.video => format!("{}x{} × {} frames", j.width, j.height, j.frames),
        _ => format!("{}x{} image", j.width, j.height),
    };
    format!(
        "{what}, {} steps{}{}",
        j.steps,
        if j.cfg { " with CFG" } else { ", no CFG" },
        if j.batch > 1 {
            format!(", batch {}", j.batch)
        } else {
            String::new()
        }
    )
}

fn slo_text(w: &DiffusionWorkload) -> String {
    let pct = format!("{:?}", w.slo.percentile).to_ascii_lowercase();
    match (w.slo.mode, w.limit_s()) {
        (Mode::Interactive, Some(l)) => format!("{pct} ≤ {l} s, queueing included (interactive)"),
        (Mode::Async, Some(d)) => format!("{pct} done within {d} s (async)"),
        _ => "throughput only (batch)".to_owned(),
    }
}

fn header(p: &DiffusionPlan) -> String {
    let w = &p.workload;
    let per_day = w.mean_jobs_s() * 86_400.0;
    let peak_h = w.hourly_jobs_s().iter().copied().fold(0.0, f64::max) * 3600.0;
    format!(
        "{}: {} · {} · {per_day:.0} jobs/day ({peak_h:.1} in the busiest hour, burstiness {:.1}) · {}\n",
        w.name,
        p.model,
        job_text(p),
        w.traffic.burstiness,
        slo_text(w)
    )
}

fn money(v: f64) -> String {
    if v >= 100.0 {
        format!("{v:.0}")
    } else if v >= 1.0 {
        format!("{v:.2}")
    } else {
        format!("{v:.4}")
    }
}

fn rows(p: &DiffusionPlan, top: usize) -> Vec<Vec<String>> {
    p.options()
        .into_iter()
        .take(top)
        .enumerate()
        .map(|(i, c)| {
            vec![
                (i + 1).to_string(),
                c.instance.clone(),
                c.region.clone(),
                c.precision.to_string(),
                c.offload.as_str().to_owned(),
                format!("{:.1}", c.job_s),
                if c.scale_to_zero {
                    format!("{}/0", c.gpus_peak)
                } else {
                    format!("{}/{}", c.gpus_peak, c.warm_pool_gpus)
                },
                format!("{:.0}", c.queue_p_s),
                format!("{:.0}", c.latency_p_s),
                money(c.usd_per_day),
                money(c.usd_per_output),
                c.usd_per_video_second.map_or("-".to_owned(), money),
                format!("{:.0}%", c.utilization * 100.0),
            ]
        })
        .collect()
}

fn misses(m: &[Rejection]) -> String {
    let mut s =
        String::from("\nNothing in the catalog keeps this latency promise. Nearest misses:\n");
    for r in m {
        s += &format!("  - {} {}: {}\n", r.instance, r.setup, r.detail);
    }
    if m.is_empty() {
        s += "  (no GPU holds this job, even with CPU offload; try fp8, a smaller size or fewer frames)\n";
    } else {
        s += "What would have to change: a limit of at least the job time shown, fewer steps (a distilled variant: --steps 4 --no-cfg), a smaller size or shorter clips, fp8 (--precision any), or async delivery (--mode async --deadline-s ...).\n";
    }
    s
}

fn best_text(p: &DiffusionPlan, c: &DiffusionCandidate) -> String {
    let (one, many) = unit(p);
    let mut s = String::new();
    s += &format!(
        "\n#1: {} in {}: one {one} takes {:.1} s on one {} ({}, peak {:.1} GiB{}).\n",
        c.instance,
        c.region,
        c.job_s,
        c.gpu,
        c.precision,
        c.peak_memory_gib,
        if c.offload == inferplan_perf::diffusion::Offload::None {
            String::new()
        } else {
            format!(", {} CPU offload", c.offload.as_str())
        }
    );
    s += &if let Some(job) = &c.purchase_mix.batch_job {
        format!("  batch job: {}.\n", job.summary("GPU"))
    } else if c.scale_to_zero {
        format!(
            "  pool: scales to zero between jobs, up to {} GPU{} ({} instance{}) at the busiest hour; a first job waits a cold start of about {:.0} s.\n",
            c.gpus_peak,
            if c.gpus_peak == 1 { "" } else { "s" },
            c.instances_peak,
            if c.instances_peak == 1 { "" } else { "s" },
            c.cold_start_s
        )
    } else {
        format!(
            "  warm pool: {} GPU{} around the clock, {} at the busiest hour ({} instance{}); a new worker takes about {:.0} s to start.\n",
            c.warm_pool_gpus,
            if c.warm_pool_gpus == 1 { "" } else { "s" },
            c.gpus_peak,
            c.instances_peak,
            if c.instances_peak == 1 { "" } else { "s" },
            c.cold_start_s
        )
    };
    s += &format!(
        "  queueing at {}: mean {:.1} s, {} {:.1} s; {} latency {:.1} s.\n",
        sized_for(p),
        c.queue_mean_s,
        pct(p),
        c.queue_p_s,
        pct(p),
        c.latency_p_s
    );
    let m = &c.purchase_mix;
    s += &format!(
        "  cost: ${}/day, ${} per {one}{}; GPUs busy {:.0} % of the hours paid; ${:.2}/h mean (all on demand ${:.2}/h).\n",
        money(c.usd_per_day),
        money(c.usd_per_output),
        c.usd_per_video_second
            .map_or_else(String::new, |v| format!(", ${} per video-second", money(v))),
        c.utilization * 100.0,
        m.usd_per_hour,
        m.all_on_demand_usd_per_hour
    );
    for a in &m.assumptions {
        s += &format!("  assumption: {a}\n");
    }
    if let Some(b) = &c.break_even {
        let service = p
            .workload
            .managed
            .service
            .as_deref()
            .unwrap_or("the managed service");
        s += &format!(
            "  vs {service} at ${} per {one}: ${}/day managed against ${}/day here at this volume; ",
            money(b.managed_usd_per_output),
            money(b.managed_usd_per_day),
            money(b.self_usd_per_day)
        );
        s += &match b.jobs_per_day {
            Some(v) if v <= 1.0 => "self-hosting is cheaper at any volume (the pool scales to zero: no idle GPUs to pay for).\n".to_owned(),
            Some(v) => format!("break-even at {v:.0} jobs/day: from there on self-hosting is cheaper ({many} of this size).\n"),
            None => "self-hosting never gets cheaper (the managed price is below this deployment's cost per job at any volume).\n".to_owned(),
        };
    }
    s
}

/// The rate the pool is sized for, in words.
fn sized_for(p: &DiffusionPlan) -> &'static str {
    if p.workload.sized_on_mean() {
        "the day's mean rate (the deadline lets the queue carry the busy hours over)"
    } else {
        "the busiest hour"
    }
}

fn pct(p: &DiffusionPlan) -> String {
    format!("{:?}", p.workload.slo.percentile).to_ascii_lowercase()
}

const HEADER: [&str; 13] = [
    "#",
    "instance",
    "region",
    "denoiser",
    "offload",
    "job s",
    "GPUs peak/warm",
    "queue s",
    "latency s",
    "$/day",
    "$/output",
    "$/video-s",
    "util",
];

fn render(p: &DiffusionPlan, top: usize, explain: bool) -> String {
    let mut s = header(p);
    s += &format!(
        "{} configurations considered, {} keep the promise ({} distinct options); rejected: {}\n\n",
        p.considered,
        p.candidates.len(),
        p.options().len(),
        rejected_text(&p.rejected)
    );
    if p.candidates.is_empty() {
        s += &misses(&p.nearest_misses);
    } else {
        s += &format!("queue and latency at the {} of {}\n", pct(p), sized_for(p));
        s += &table(&HEADER, &rows(p, top), false);
        let best = &p.candidates[0];
        s += &best_text(p, best);
        s += &format!("endpoint pattern: {}\n", endpoint_text(&p.endpoint));
        s += &findings_text(&best.findings);
    }
    if explain {
        s += &explain_text(&p.rejections, &p.rejected);
    }
    s
}

/// An architecture decision record in Markdown.
fn adr(p: &DiffusionPlan, top: usize) -> String {
    let w = &p.workload;
    let (one, _) = unit(p);
    let mut s = format!("# ADR: generating {} for {}\n\n", p.model, w.name);
    s += "## Context and forces\n\n";
    s += &format!("- Job: {}.\n", job_text(p));
    s += &format!(
        "- Volume: {:.0} jobs/day, {:.1} in the busiest hour (burstiness {:.1}).\n",
        w.mean_jobs_s() * 86_400.0,
        w.hourly_jobs_s().iter().copied().fold(0.0, f64::max) * 3600.0,
        w.traffic.burstiness
    );
    s += &format!("- Latency promise: {}.\n", slo_text(w));
    s += &format!(
        "- Constraints: regions {}, tenancy {:?}, data {:?}.\n",
        w.constraints.regions.join(", "),
        w.constraints.tenancy,
        w.constraints.data_class
    );
    if let Some(u) = w.managed.usd_per_output {
        s += &format!(
            "- Managed alternative: {} at ${} per {one}.\n",
            w.managed.service.as_deref().unwrap_or("a managed service"),
            money(u)
        );
    }
    s += "\n## Options\n\n";
    if p.candidates.is_empty() {
        s += &misses(&p.nearest_misses);
        return s;
    }
    s += &table(&HEADER, &rows(p, top), true);
    s += "\n## Decision\n";
    let best = &p.candidates[0];
    s += &best_text(p, best);
    s += &format!("\nServing pattern: {}\n", endpoint_text(&p.endpoint));
    s += "\n## Consequences and risks\n\n";
    if best.findings.is_empty() {
        s += "- No finding applies.\n";
    }
    for f in &best.findings {
        s += &format!(
            "- **{} {}**: {} ([docs]({}))\n",
            f.code, f.name, f.message, f.docs
        );
    }
    s += "- Job times come from the diffusion model (VALIDATION.md gives its error against measured rows); queueing from an M/G/c approximation checked against simulation in the tests.\n";
    s
}
