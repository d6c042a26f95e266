//! `fit` and `estimate` for image and video diffusion models: one job per GPU.

use crate::args::{
    DeploymentArgs, DiffusionJobArgs, EstimateArgs, FitArgs, Format, FormatArg, RegionArg,
};
use crate::commands::deployment::{self, flag_error, Target};
use crate::commands::job::overlay;
use crate::output::{emit, emit_json, num};
use anyhow::{anyhow, bail};
use inferplan_catalog::{Catalog, Dtype};
use inferplan_perf::diffusion::{
    fit, memory, time, work, DiffusionEfficiencies, DiffusionEfficiency, DiffusionJob,
    DiffusionMemory, DiffusionModel, DiffusionTime, DiffusionWork, JobSpec, Offload,
};
use inferplan_perf::step::Bound;
use serde::Serialize;
use std::process::ExitCode;

/// Everything both commands need: model, job, hardware and format.
struct Setup<'a> {
    model: &'static DiffusionModel,
    job: DiffusionJob,
    target: Target<'a>,
    dtype: Dtype,
}

fn setup<'a>(
    catalog: &'a Catalog,
    m: &'static DiffusionModel,
    dep: &DeploymentArgs,
    j: &DiffusionJobArgs,
) -> anyhow::Result<Setup<'a>> {
    let mut spec = JobSpec::default();
    overlay(j, &mut spec);
    let job = spec.resolve(m).map_err(flag_error)?;
    for (flag, given) in [
        ("--tp", dep.tp.is_some()),
        ("--pp", dep.pp != 1),
        ("--kv-dtype", dep.kv_dtype.is_some()),
    ] {
        if given {
            bail!("{flag}: diffusion jobs run on one GPU each; there is no layout or KV cache");
        }
    }
    let dtype = dep.precision;
    if !matches!(dtype, Dtype::Bf16 | Dtype::Fp16 | Dtype::Fp8) {
        bail!("--precision: {dtype} is not modelled for diffusion models; use bf16, fp16 or fp8");
    }
    let target = deployment::target(catalog, dep)?;
    Ok(Setup {
        model: m,
        job,
        target,
        dtype,
    })
}

fn describe(s: &Setup<'_>) -> String {
    let j = &s.job;
    let what = if s.model.video {
        let secs = j.clip_seconds(s.model).map_or_else(String::new, |v| {
            format!(" ({v:.1} s at {} fps)", j.fps.unwrap_or(0.0))
        });
        format!("{}x{} × {} frames{secs}", j.width, j.height, j.frames)
    } else {
        format!("{}x{} image", j.width, j.height)
    };
    format!(
        "{} · {} · {} · {what} · {} steps{} · batch {}\n",
        s.model.name,
        s.dtype,
        s.target.label,
        j.steps,
        if j.cfg { " with CFG" } else { ", no CFG" },
        j.batch
    )
}

/// What both answers start with: model, hardware, format and job.
#[derive(Serialize)]
struct Header<'a> {
    model: &'a str,
    target: &'a str,
    gpu: &'a str,
    precision: String,
    job: &'a DiffusionJob,
}

impl<'a> Header<'a> {
    fn of(s: &'a Setup<'a>) -> Self {
        Header {
            model: &s.model.name,
            target: &s.target.label,
            gpu: &s.target.gpu.name,
            precision: s.dtype.to_string(),
            job: &s.job,
        }
    }
}

#[derive(Serialize)]
struct FitJson<'a> {
    #[serde(flatten)]
    header: Header<'a>,
    work: DiffusionWork,
    gpu_memory_gib: f64,
    fits: bool,
    /// The least offloading that fits, if any.
    offload: Option<Offload>,
    /// Memory under each placement of the weights.
    by_offload: Vec<DiffusionMemory>,
}

/// `fit` for a diffusion model.
pub fn run_fit(
    catalog: &Catalog,
    m: &'static DiffusionModel,
    a: &FitArgs,
) -> anyhow::Result<ExitCode> {
    let FitArgs {
        dep,
        job,
        format: FormatArg { format },
        // The engine's memory budget of a language model; a diffusion job has its own.
        context: _,
        concurrency: _,
        gpu_memory_utilization: _,
        safety_margin: _,
        max_num_seqs: _,
        max_num_batched_tokens: _,
        block_size: _,
    } = a;
    let s = setup(catalog, m, dep, job)?;
    let mem_gib = s.target.mem_gib;
    let by_offload: Vec<DiffusionMemory> = Offload::ALL
        .iter()
        .map(|&o| memory(m, &s.job, s.dtype, o))
        .collect();
    // The least offloading that fits (what `fit` picks).
    let chosen = by_offload.iter().find(|mem| mem.fits(mem_gib));
    let json = FitJson {
        header: Header::of(&s),
        work: work(m, &s.job),
        gpu_memory_gib: mem_gib,
        fits: chosen.is_some(),
        offload: chosen.map(|c| c.offload),
        by_offload,
    };
    match *format {
        Format::Json => emit_json(&json)?,
        Format::Table | Format::Md => emit(&render_fit(&s, &json))?,
    }
    Ok(if json.fits {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn render_fit(s: &Setup<'_>, f: &FitJson<'_>) -> String {
    let mut out = describe(s);
    let w = &f.work;
    out += &format!(
        "{:.0} latent tokens per pass{}\n\n",
        w.tokens,
        if w.passes > 1 {
            format!(", {} passes (segments) per step", w.passes)
        } else {
            String::new()
        }
    );
    out += &format!(
        "  {:<12}{:>10}{:>14}{:>13}{:>12}{:>10}{:>10}\n",
        "offload", "weights", "on GPU", "activations", "VAE decode", "runtime", "peak"
    );
    for m in &f.by_offload {
        out += &format!(
            "  {:<12}{:>6.1} GiB{:>10.1} GiB{:>9.1} GiB{:>8.1} GiB{:>6.1} GiB{:>6.1} GiB{}\n",
            m.offload.as_str(),
            m.weights_gib,
            m.resident_weights_gib,
            m.activations_gib,
            m.vae_decode_gib,
            m.runtime_gib,
            m.total_gib,
            if m.fits(f.gpu_memory_gib) {
                "  fits"
            } else {
                ""
            }
        );
    }
    out += &format!("\nGPU memory {:.1} GiB: ", f.gpu_memory_gib);
    out += &match f.offload {
        Some(Offload::None) => "FITS with every component resident.\n".to_owned(),
        Some(o) => format!(
            "FITS only with {} CPU offload, which adds PCIe transfers to every job (see `estimate`).\n",
            o.as_str()
        ),
        None => "DOES NOT FIT, even streaming the denoiser from host memory: use a larger GPU, fp8, a smaller size, fewer frames or batch.\n".to_owned(),
    };
    out
}

#[derive(Serialize)]
struct EstimateJson<'a> {
    #[serde(flatten)]
    header: Header<'a>,
    offload: Offload,
    peak_memory_gib: f64,
    #[serde(flatten)]
    time: DiffusionTime,
    seconds_per_job: f64,
    /// Images (or clips) per hour from one GPU running one job at a time.
    outputs_per_hour_per_gpu: f64,
    outputs_per_hour_per_instance: Option<f64>,
    video_seconds_per_clip: Option<f64>,
    usd_per_gpu_hour: Option<f64>,
    /// $ per image (image models) or per clip (video models).
    usd_per_output: Option<f64>,
    usd_per_video_second: Option<f64>,
    efficiency: DiffusionEfficiency,
}

/// `estimate` for a diffusion model.
pub fn run_estimate(
    catalog: &Catalog,
    m: &'static DiffusionModel,
    a: &EstimateArgs,
) -> anyhow::Result<ExitCode> {
    let EstimateArgs {
        dep,
        job,
        region: RegionArg { region },
        format: FormatArg { format },
        // The engine and load of a language model; a diffusion job runs alone on its GPU.
        engine: _,
        input_tokens: _,
        output_tokens: _,
        concurrency: _,
        saturate: _,
        rate_rps: _,
        max_num_seqs: _,
        max_num_batched_tokens: _,
        gpu_memory_utilization: _,
        params: _,
    } = a;
    let region = catalog.region(region)?;
    let s = setup(catalog, m, dep, job)?;
    let Some(mem) = fit(m, &s.job, s.dtype, s.target.mem_gib) else {
        bail!(
            "{} does not fit {:.1} GiB even with sequential CPU offload; see `inferplan fit` with the same flags",
            m.name,
            s.target.mem_gib
        );
    };
    let e = DiffusionEfficiencies::embedded().lookup(s.target.gpu.arch);
    let t = time(m, &s.job, s.target.gpu, s.dtype, mem.offload, &e).ok_or_else(|| {
        anyhow!(
            "--gpu: peak tensor throughput or memory bandwidth of {} is not published, so speed cannot be estimated",
            s.target.gpu.name
        )
    })?;
    let per_hour = 3600.0 * s.job.batch as f64 / t.e2e_s;
    let usd_gpu = s.target.usd_per_gpu_hour(region);
    let usd_out = usd_gpu.map(|p| p / per_hour);
    let video_s = s.job.clip_seconds(m);
    let json = EstimateJson {
        header: Header::of(&s),
        offload: mem.offload,
        peak_memory_gib: mem.total_gib,
        time: t,
        seconds_per_job: t.e2e_s,
        outputs_per_hour_per_gpu: per_hour,
        outputs_per_hour_per_instance: s
            .target
            .instance
            .map(|i| per_hour * f64::from(i.whole_gpus().max(1))),
        video_seconds_per_clip: video_s,
        usd_per_gpu_hour: usd_gpu,
        usd_per_output: usd_out,
        usd_per_video_second: usd_out.zip(video_s).map(|(u, v)| u / v),
        efficiency: e,
    };
    match *format {
        Format::Json => emit_json(&json)?,
        Format::Table | Format::Md => emit(&render_estimate(&s, &json, region))?,
    }
    Ok(ExitCode::SUCCESS)
}

fn render_estimate(s: &Setup<'_>, j: &EstimateJson<'_>, region: &str) -> String {
    let mut out = describe(s);
    let (unit, units) = if s.model.video {
        ("clip", "clips")
    } else {
        ("image", "images")
    };
    let t = &j.time;
    let batch = if s.job.batch > 1 {
        format!(" (batch of {})", s.job.batch)
    } else {
        String::new()
    };
    let mut lines: Vec<(String, String)> = vec![
        (
            format!("seconds per job{batch}"),
            format!("{:.1} s", j.seconds_per_job),
        ),
        (
            "  denoising".to_owned(),
            format!(
                "{} steps × {:.3} s ({} bound)",
                s.job.steps,
                t.step_s,
                match t.bound {
                    Bound::Compute => "compute",
                    _ => "memory bandwidth",
                }
            ),
        ),
        ("  text encoding".to_owned(), format!("{:.3} s", t.text_s)),
        ("  VAE decode".to_owned(), format!("{:.3} s", t.vae_s)),
    ];
    if j.offload != Offload::None {
        lines.push((
            "  CPU offload".to_owned(),
            format!(
                "{} offload, {:.1} s of PCIe transfers (included above)",
                j.offload.as_str(),
                t.offload_s
            ),
        ));
    }
    lines.push((
        "peak GPU memory".to_owned(),
        format!("{:.1} GiB", j.peak_memory_gib),
    ));
    lines.push((
        format!("{units} per hour"),
        match j.outputs_per_hour_per_instance {
            Some(i) => format!(
                "{:.1} per GPU, {i:.1} per instance",
                j.outputs_per_hour_per_gpu
            ),
            None => format!("{} per GPU", rate(j.outputs_per_hour_per_gpu)),
        },
    ));
    let price = match (j.usd_per_output, s.target.instance.is_some()) {
        (Some(v), _) => format!(
            "{v:.4} (on-demand {region}, ${:.2}/h per GPU)",
            j.usd_per_gpu_hour.unwrap_or(0.0)
        ),
        (None, true) => format!("- (no on-demand price in {region})"),
        (None, false) => "- (give --instance for a price)".to_owned(),
    };
    lines.push((format!("$ per {unit}"), price));
    if let Some(v) = j.usd_per_video_second {
        lines.push((
            "$ per video-second".to_owned(),
            format!(
                "{v:.4} ({:.2} s clips)",
                j.video_seconds_per_clip.unwrap_or(0.0)
            ),
        ));
    }
    for (k, v) in lines {
        out += &format!("  {k:<24}{v}\n");
    }
    out += &format!(
        "\nOne job at a time per GPU, no queueing. Efficiencies from data/perf/diffusion_efficiency.csv (compute {:.2} of the measured GEMM rate, {} activation bytes per width x token, {} ms per step, an eager diffusers pipeline: at least {} ms of dispatch per step); their error against measured rows is in VALIDATION.md.\n",
        j.efficiency.compute,
        num(Some(j.efficiency.activation_bytes), 0),
        num(Some(j.efficiency.step_overhead_ms), 2),
        num(Some(j.efficiency.eager_dispatch_ms), 0),
    );
    out
}

/// A rate with the digits that matter (0.83, 9.2, 393).
fn rate(v: f64) -> String {
    match v {
        v if v < 10.0 => format!("{v:.2}"),
        v if v < 100.0 => format!("{v:.1}"),
        v => format!("{v:.0}"),
    }
}
