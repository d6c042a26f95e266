//! `inferplan fit`: the memory budget of one replica.

use crate::args::{FitArgs, Format};
use crate::output::{emit, emit_json, num};
use anyhow::{anyhow, bail};
use inferplan_catalog::{Catalog, Dtype, Gpu, Interconnect, ModelSpec, Support};
use inferplan_perf::{fit, EngineLimits, FitInput, FitReport, MemoryParams, PerfError};
use serde::Serialize;
use std::process::ExitCode;

/// Where the model runs.
struct Target<'a> {
    label: String,
    gpu: &'a Gpu,
    mem_gib: f64,
    gpus: u32,
    link: Interconnect,
}

fn target<'a>(catalog: &'a Catalog, a: &FitArgs) -> anyhow::Result<Target<'a>> {
    if let Some(name) = &a.instance {
        let inst = catalog.instance(name)?;
        let gpu = catalog.instance_gpu(inst).ok_or_else(|| {
            anyhow!(
                "--instance: {} has {} accelerators, which are not in the GPU catalog",
                inst.name,
                inst.gpu_label
            )
        })?;
        let mem_gib = inst
            .gpu_mem_gib()
            .or_else(|| gpu.memory_gib())
            .ok_or_else(|| anyhow!("--instance: GPU memory of {} is not known", inst.name))?;
        let label = if inst.gpu_count < 1.0 {
            format!(
                "{} ({} of one {}, {mem_gib:.1} GiB)",
                inst.name, inst.gpu_count, gpu.name
            )
        } else {
            format!(
                "{} ({}× {}, {mem_gib:.1} GiB each)",
                inst.name, inst.gpu_count, gpu.name
            )
        };
        return Ok(Target {
            label,
            gpu,
            mem_gib,
            gpus: inst.whole_gpus(),
            link: inst.interconnect,
        });
    }
    let name = a
        .gpu
        .as_deref()
        .ok_or_else(|| anyhow!("give --instance or --gpu"))?;
    let gpu = catalog.gpu(name)?;
    let mem_gib = gpu.memory_gib().ok_or_else(|| {
        anyhow!(
            "--gpu: memory of {} is not in the catalog; add it with --catalog-dir",
            gpu.name
        )
    })?;
    if a.gpus == 0 {
        bail!("--gpus: must be at least 1");
    }
    let link = if a.gpus == 1 {
        Interconnect::Single
    } else if gpu.nvlink {
        Interconnect::NvLink
    } else {
        Interconnect::Pcie
    };
    Ok(Target {
        label: format!("{}× {} ({mem_gib:.1} GiB each)", a.gpus, gpu.name),
        gpu,
        mem_gib,
        gpus: a.gpus,
        link,
    })
}

fn parse_dtype(flag: &str, s: &str) -> anyhow::Result<Dtype> {
    s.parse::<Dtype>().map_err(|e| anyhow!("{flag}: {e}"))
}

/// The JSON answer: the report plus what it is about.
#[derive(Serialize)]
struct FitJson<'a> {
    model: &'a str,
    target: &'a str,
    gpu: &'a str,
    #[serde(flatten)]
    report: &'a FitReport,
}

/// Runs `fit`.
pub fn run(mut catalog: Catalog, a: &FitArgs) -> anyhow::Result<ExitCode> {
    let model: ModelSpec = match (&a.model, &a.model_config) {
        (_, Some(path)) => catalog.add_model_config(path)?.clone(),
        (Some(name), None) => catalog.model(name)?.clone(),
        (None, None) => bail!("give --model or --model-config"),
    };
    let t = target(&catalog, a)?;
    let weights = parse_dtype("--precision", &a.precision)?;
    let kv = match &a.kv_dtype {
        Some(s) => parse_dtype("--kv-dtype", s)?,
        None if weights.bytes() <= 1.0 && t.gpu.support(Dtype::Fp8) == Support::Native => {
            Dtype::Fp8
        }
        None if matches!(weights, Dtype::Fp32 | Dtype::Fp16) => weights,
        None => Dtype::Bf16,
    };
    let tp = a.tp.unwrap_or(t.gpus / a.pp.max(1)).max(1);
    let context = a.context.unwrap_or(8192.min(model.max_context));
    let defaults = EngineLimits::vllm_default(t.mem_gib, t.gpu.arch);
    let engine = EngineLimits {
        max_num_seqs: a.max_num_seqs.unwrap_or(defaults.max_num_seqs),
        max_num_batched_tokens: a
            .max_num_batched_tokens
            .unwrap_or(defaults.max_num_batched_tokens),
        block_size: a.block_size,
    };
    if engine.max_num_seqs == 0 || engine.max_num_batched_tokens == 0 || engine.block_size == 0 {
        bail!("--max-num-seqs, --max-num-batched-tokens and --block-size must be at least 1");
    }
    let input = FitInput {
        model: &model,
        gpu: t.gpu,
        gpu_mem_gib: t.mem_gib,
        gpus: t.gpus,
        interconnect: if tp * a.pp > 1 {
            t.link
        } else {
            Interconnect::Single
        },
        tp,
        pp: a.pp,
        weights,
        kv,
        context,
        concurrency: a.concurrency,
        gpu_memory_utilization: a.gpu_memory_utilization,
        safety_margin: a.safety_margin,
        engine,
    };
    let report = fit(&input, &MemoryParams::embedded()?).map_err(|e| match e {
        PerfError::Refused { field, message } => {
            anyhow!("--{}: {message}", field.replace('_', "-"))
        }
        other => anyhow!(other),
    })?;
    match a.format {
        Format::Json => emit_json(&FitJson {
            model: &model.name,
            target: &t.label,
            gpu: &t.gpu.name,
            report: &report,
        })?,
        Format::Table | Format::Md => emit(&render(&model, &t.label, &report))?,
    }
    Ok(if report.fits {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn render(m: &ModelSpec, target: &str, r: &FitReport) -> String {
    let mut s = String::new();
    let layout = if r.pp > 1 {
        format!("TP {} × PP {}", r.tp, r.pp)
    } else {
        format!("TP {}", r.tp)
    };
    s += &format!(
        "{} · {} weights, {} KV cache · {target} · {layout}\n{} sequence{} × {} tokens\n\n",
        m.name,
        r.weights_dtype,
        r.kv_dtype,
        r.concurrency,
        plural(r.concurrency),
        r.context
    );
    let kib = r.kv_bytes_per_token_per_gpu / 1024.0;
    let lines: Vec<(String, f64, String)> = vec![
        (
            "weights".into(),
            r.weights_gib_per_gpu,
            format!("whole model {:.1} GiB", r.weights_gib),
        ),
        (
            "KV cache".into(),
            r.kv_cache_gib_per_gpu,
            format!("{kib:.0} KiB per token per GPU"),
        ),
        (
            "activations".into(),
            r.activations_gib_per_gpu,
            format!(
                "peak step of {} tokens / {} seqs",
                r.engine_limits.max_num_batched_tokens, r.engine_limits.max_num_seqs
            ),
        ),
        (
            format!("× safety margin {}", r.safety_margin),
            (r.weights_gib_per_gpu + r.kv_cache_gib_per_gpu + r.activations_gib_per_gpu)
                * r.safety_margin,
            String::new(),
        ),
        (
            "runtime overhead".into(),
            r.runtime_overhead_gib_per_gpu,
            "CUDA context, NCCL, CUDA graphs".into(),
        ),
        ("required".into(), r.required_gib_per_gpu, String::new()),
        ("available".into(), r.available_gib_per_gpu, String::new()),
        ("headroom".into(), r.headroom_gib_per_gpu, String::new()),
    ];
    s += "per GPU                       GiB\n";
    for (k, v, note) in lines {
        let row = format!("  {k:<24}{:>8}   {note}", num(Some(v), 2));
        s += row.trim_end();
        s += "\n";
    }
    s += "\n";
    let verdict = if r.fits { "FITS" } else { "DOES NOT FIT" };
    s += &format!("{verdict} on {} GPU{}", r.gpus, plural(u64::from(r.gpus)));
    s += &format!(
        ": up to {} sequences of {} tokens; up to {} tokens for {} sequence{}.\n",
        r.max_concurrency,
        r.context,
        r.max_context,
        r.concurrency,
        plural(r.concurrency)
    );
    s += &format!(
        "vLLM view (gpu_memory_utilization {}): KV cache {:.2} GiB per GPU = {} blocks of {} tokens, {:.1}× concurrency at {} tokens{}.\n",
        r.gpu_memory_utilization,
        r.engine_kv_cache_gib_per_gpu,
        r.engine_kv_blocks,
        r.engine_limits.block_size,
        r.engine_max_concurrency,
        r.context,
        if r.engine_fits { "" } else { " (would not start)" }
    );
    if !r.warnings.is_empty() {
        s += "\nwarnings:\n";
        for w in &r.warnings {
            s += &format!("  - {w}\n");
        }
    }
    s
}

fn plural(n: u64) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}
