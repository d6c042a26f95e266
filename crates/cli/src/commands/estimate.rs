//! `inferplan estimate`: latency, throughput and cost of one deployment under a load.

use crate::args::{EstimateArgs, Format, FormatArg, RegionArg};
use crate::commands::deployment::{self, flag_error};
use crate::commands::kind;
use crate::commands::load::efficiency;
use crate::output::{emit, emit_json, num};
use anyhow::bail;
use inferplan_catalog::Catalog;
use inferplan_perf::{Deployment, Engine, Estimate, Load, MemoryParams, Replica, Workload};
use serde::Serialize;
use std::process::ExitCode;

/// The JSON answer.
#[derive(Serialize)]
struct EstimateJson<'a> {
    model: &'a str,
    target: &'a str,
    gpu: &'a str,
    engine: Engine,
    weights_dtype: String,
    kv_dtype: String,
    tp: u32,
    pp: u32,
    /// On an AWS Neuron chip: the NeuronCores TP spans (`tp` counts chips).
    #[serde(skip_serializing_if = "Option::is_none")]
    neuron_cores: Option<u32>,
    input_tokens: u64,
    output_tokens: u64,
    load: Load,
    #[serde(flatten)]
    estimate: &'a Estimate,
    usd_per_hour: Option<f64>,
    usd_per_million_output_tokens: Option<f64>,
    efficiency_key: String,
}

/// Runs `estimate` for a language model (`diffusion::run_estimate` for diffusion models).
pub fn run(mut catalog: Catalog, a: &EstimateArgs) -> anyhow::Result<ExitCode> {
    let EstimateArgs {
        dep,
        engine,
        input_tokens,
        output_tokens,
        concurrency,
        saturate,
        rate_rps,
        max_num_seqs,
        max_num_batched_tokens,
        gpu_memory_utilization,
        region: RegionArg { region },
        params,
        format: FormatArg { format },
        job,
    } = a;
    let (engine, input_tokens, output_tokens) = (*engine, *input_tokens, *output_tokens);
    let region = catalog.region(region)?.to_owned();
    kind::refuse_job_flags(job)?;
    let model = deployment::model(&mut catalog, dep)?;
    let d = deployment::resolve(&catalog, model, dep)?;
    let t = &d.target;
    let defaults = engine.defaults_on(t.gpu, t.mem_gib, d.tp, d.pp);
    let mut limits = defaults.limits;
    if let Some(n) = *max_num_seqs {
        limits.max_num_seqs = n;
    }
    if let Some(n) = *max_num_batched_tokens {
        limits.max_num_batched_tokens = n;
    }
    if limits.max_num_seqs == 0 || limits.max_num_batched_tokens == 0 {
        bail!("--max-num-seqs and --max-num-batched-tokens must be at least 1");
    }
    let context = input_tokens + output_tokens;
    if context > d.model.max_context {
        bail!(
            "--input-tokens/--output-tokens: {context} tokens in all, beyond the {} tokens of \
             {}'s context window: the engine would refuse the request",
            d.model.max_context,
            d.model.name
        );
    }
    let load = match (*concurrency, *saturate, *rate_rps) {
        (Some(0), _, _) => bail!("--concurrency: must be at least 1"),
        (Some(c), _, _) => Load::Closed { concurrency: c },
        (None, true, _) => Load::Saturated,
        (None, false, Some(r)) if r > 0.0 && r.is_finite() => Load::Poisson { rate_rps: r },
        (None, false, Some(r)) => bail!("--rate-rps: {r} is not a positive rate"),
        (None, false, None) => Load::Closed { concurrency: 1 },
    };
    let table = efficiency(params)?;
    let entry = table.lookup(t.gpu.arch, engine, d.weights);
    let dep = Deployment {
        placement: d.placement(),
        engine,
        limits,
        kv_memory_fraction: gpu_memory_utilization.unwrap_or(defaults.kv_memory_fraction),
    };
    if !(dep.kv_memory_fraction > 0.0 && dep.kv_memory_fraction <= 1.0) {
        bail!("--gpu-memory-utilization: must be in (0, 1]");
    }
    let replica = Replica::new(&dep, context, &MemoryParams::embedded()?).map_err(flag_error)?;
    let w = Workload {
        input_tokens,
        output_tokens,
        load,
    };
    let est = replica.run(&w, &entry.eff);
    // The replica's share of the instance price.
    let usd_per_hour = t.usd_per_gpu_hour(&region).map(|p| p * f64::from(est.gpus));
    let usd_per_m = usd_per_hour.and_then(|p| est.usd_per_million_output_tokens(p));
    let json = EstimateJson {
        model: &d.model.name,
        target: &t.label,
        gpu: &t.gpu.name,
        engine,
        weights_dtype: d.weights.to_string(),
        kv_dtype: d.kv.to_string(),
        tp: d.tp,
        neuron_cores: t.gpu.cores_per_chip().map(|c| c * d.tp * d.pp),
        pp: d.pp,
        input_tokens,
        output_tokens,
        load,
        estimate: &est,
        usd_per_hour,
        usd_per_million_output_tokens: usd_per_m,
        efficiency_key: entry.key.columns(),
    };
    match *format {
        Format::Json => emit_json(&json)?,
        Format::Table | Format::Md => emit(&render(&json, t.instance.is_some(), &region))?,
    }
    Ok(if est.overloaded {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn render(j: &EstimateJson<'_>, on_instance: bool, region: &str) -> String {
    let e = j.estimate;
    let load = match j.load {
        Load::Closed { concurrency } => format!("{concurrency} request(s) in flight"),
        Load::Saturated => "saturated (all requests queued)".to_owned(),
        Load::Poisson { rate_rps } => format!("Poisson arrivals at {rate_rps} req/s"),
        Load::Burst { requests } => format!("burst of {requests}"),
        Load::Static { batch } => format!("static batch of {batch}"),
    };
    let mut layout = if j.pp > 1 {
        format!("TP {} × PP {}", j.tp, j.pp)
    } else {
        format!("TP {}", j.tp)
    };
    if let Some(cores) = j.neuron_cores {
        layout += &format!(" ({cores} NeuronCores)");
    }
    let mut s = format!(
        "{} · {} weights, {} KV · {} · {layout} · {}\n{} prompt + {} output tokens · {load}\n\n",
        j.model, j.weights_dtype, j.kv_dtype, j.target, j.engine, j.input_tokens, j.output_tokens
    );
    let bound = |b: inferplan_perf::step::Bound| {
        match b {
            inferplan_perf::step::Bound::MemoryBandwidth => "memory bandwidth",
            inferplan_perf::step::Bound::Compute => "compute",
            inferplan_perf::step::Bound::Communication => "communication (TP all-reduce)",
        }
        .to_owned()
    };
    let lines: Vec<(&str, String)> = vec![
        ("TTFT", format!("{} ms", num(Some(e.ttft_ms), 1))),
        ("TPOT", format!("{} ms", num(Some(e.tpot_ms), 2))),
        ("end-to-end", format!("{} ms", num(Some(e.e2e_ms), 0))),
        ("queue wait", format!("{} ms", num(Some(e.queue_ms), 1))),
        (
            "output tokens/s",
            format!(
                "{} ({} per GPU)",
                num(Some(e.output_tok_s), 0),
                num(Some(e.output_tok_s_per_gpu), 0)
            ),
        ),
        (
            "total tokens/s",
            format!(
                "{} ({} per GPU)",
                num(Some(e.total_tok_s), 0),
                num(Some(e.total_tok_s_per_gpu), 0)
            ),
        ),
        ("requests/s", num(Some(e.requests_s), 2)),
        (
            "batch",
            format!(
                "{} running of {} max (KV cache {:.0} tokens)",
                num(Some(e.batch), 1),
                num(Some(e.max_batch), 0),
                e.kv_cache_tokens
            ),
        ),
        ("decode bound", bound(e.decode_bound)),
        ("prefill bound", bound(e.prefill_bound)),
        (
            "$ / 1M output tokens",
            match (j.usd_per_million_output_tokens, on_instance) {
                (Some(v), _) => format!(
                    "{v:.3} (on-demand {region}, ${:.2}/h for this replica)",
                    j.usd_per_hour.unwrap_or(0.0)
                ),
                (None, true) => format!("- (no on-demand price in {region})"),
                (None, false) => "- (give --instance for a price)".to_owned(),
            },
        ),
    ];
    for (k, v) in lines {
        s += &format!("  {k:<22}{v}\n");
    }
    if e.overloaded {
        s += "\nOVERLOADED: the arrival rate exceeds what this replica serves; figures are those of a saturated replica and queues grow without bound.\n";
    }
    s += &format!(
        "\nefficiencies from data/perf/efficiency.csv row `{}`\n",
        j.efficiency_key
    );
    s
}
