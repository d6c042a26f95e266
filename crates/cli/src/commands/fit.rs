//! `inferplan fit`: the memory budget of one replica.

use crate::args::{FitArgs, Format, FormatArg};
use crate::commands::{deployment, kind};
use crate::output::{emit, emit_json, num};
use anyhow::bail;
use inferplan_catalog::{Arch, Catalog, ModelSpec};
use inferplan_perf::{fit, EngineLimits, FitInput, FitReport, MemoryParams};
use serde::Serialize;
use std::process::ExitCode;

/// The JSON answer: the report plus what it is about.
#[derive(Serialize)]
struct FitJson<'a> {
    model: &'a str,
    target: &'a str,
    gpu: &'a str,
    #[serde(flatten)]
    report: &'a FitReport,
}

/// Runs `fit` for a language model (`diffusion::run_fit` for diffusion models).
pub fn run(mut catalog: Catalog, a: &FitArgs) -> anyhow::Result<ExitCode> {
    let FitArgs {
        dep,
        context,
        concurrency,
        gpu_memory_utilization,
        safety_margin,
        max_num_seqs,
        max_num_batched_tokens,
        block_size,
        format: FormatArg { format },
        job,
    } = a;
    kind::refuse_job_flags(job)?;
    let model = deployment::model(&mut catalog, dep)?;
    let d = deployment::resolve(&catalog, model, dep)?;
    let (model, t) = (&d.model, &d.target);
    let context = context.unwrap_or(8192.min(model.max_context));
    let defaults = EngineLimits::vllm_default(t.mem_gib, t.gpu.arch);
    let engine = EngineLimits {
        max_num_seqs: max_num_seqs.unwrap_or(defaults.max_num_seqs),
        max_num_batched_tokens: max_num_batched_tokens.unwrap_or(defaults.max_num_batched_tokens),
        block_size: *block_size,
        // `fit` answers for vLLM (`--gpu-memory-utilization`).
        kv_basis: defaults.kv_basis,
        full_context_windows: defaults.full_context_windows,
    };
    if engine.max_num_seqs == 0 || engine.max_num_batched_tokens == 0 || engine.block_size == 0 {
        bail!("--max-num-seqs, --max-num-batched-tokens and --block-size must be at least 1");
    }
    let neuron = t.gpu.arch == Arch::Neuron;
    let input = FitInput {
        placement: d.placement(),
        context,
        concurrency: *concurrency,
        // NxD Inference has no memory fraction: what is compiled is allocated.
        gpu_memory_utilization: if neuron { 1.0 } else { *gpu_memory_utilization },
        safety_margin: *safety_margin,
        engine,
    };
    let report = fit(&input, &MemoryParams::embedded()?).map_err(deployment::flag_error)?;
    match *format {
        Format::Json => emit_json(&FitJson {
            model: &model.name,
            target: &t.label,
            gpu: &t.gpu.name,
            report: &report,
        })?,
        Format::Table | Format::Md => emit(&render(model, &t.label, &report, neuron))?,
    }
    Ok(if report.fits {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn render(m: &ModelSpec, target: &str, r: &FitReport, neuron: bool) -> String {
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
            if neuron {
                "none: the Neuron graphs are compiled ahead".to_owned()
            } else {
                format!(
                    "peak step of {} tokens / {} seqs",
                    r.engine_limits.max_num_batched_tokens, r.engine_limits.max_num_seqs
                )
            },
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
            if neuron {
                "Neuron runtime reserve: not published, not counted".into()
            } else {
                "CUDA context, NCCL, CUDA graphs".into()
            },
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
        "{}: KV cache {:.2} GiB per GPU = {} blocks of {} tokens, {:.1}× concurrency at {} tokens{}.\n",
        if neuron {
            "Neuron view (no memory fraction: all HBM after the weights)".to_owned()
        } else {
            format!(
                "vLLM view (gpu_memory_utilization {})",
                r.gpu_memory_utilization
            )
        },
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
