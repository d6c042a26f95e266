//! `inferplan simulate`: a fleet serving traffic, request by request.

use crate::args::{
    AutoscaleArgs, BehaviorBase, RegionArg, SimFormat, SimTrafficArgs, SimulateArgs,
};
use crate::commands::deployment::{self, flag_error};
use crate::commands::load::{self, efficiency};
use crate::output::{emit, emit_json, Progress};
use anyhow::{anyhow, bail, Context as _};
use inferplan_catalog::csv_writer::to_csv;
use inferplan_catalog::Catalog;
use inferplan_perf::{Deployment, Engine, MemoryParams, Replica};
use inferplan_plan::autoscaling::{self, Behavior};
use inferplan_serving::cold_start::{new_replica, WeightsSource, WITHOUT_INSTANCE_S};
use inferplan_sim::fleet::FLAPPING_REVERSALS_PER_HOUR;
use inferplan_sim::fleet::{
    simulate, sweep, Autoscaler, Client, FleetConfig, Nodes, Router, SimReport, Slo, Spot,
};
use inferplan_sim::plot::{svg, Line, Panel};
use inferplan_sim::traffic::{Arrivals, LengthDist, Limit, Traffic, TrafficSpec};
use serde::Serialize;
use std::path::Path;
use std::process::ExitCode;

mod deploy;
mod endpoint;

/// The JSON answer: the report and what was simulated.
#[derive(Serialize)]
struct SimJson<'a> {
    model: &'a str,
    target: &'a str,
    engine: Engine,
    tp: u32,
    pp: u32,
    replicas_initial: u32,
    seed: u64,
    #[serde(skip)]
    autoscaled: bool,
    /// Fields of the manifests not modelled (`--deploy`).
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    unmodelled: &'a [String],
    #[serde(flatten)]
    report: &'a SimReport,
}

/// The autoscaler of the flags: `render`'s values where a flag is not given;
/// `replicas_per_node` sizes render's scale-up policy (one node's worth per minute).
fn autoscaler(a: &AutoscaleArgs, replicas_per_node: u32) -> anyhow::Result<Option<Autoscaler>> {
    let AutoscaleArgs {
        ref autoscale,
        min_replicas,
        max_replicas,
        scale_interval_s,
        metric_lag_s,
        scale_behavior,
        scale_up_stabilization_s,
        scale_down_stabilization_s,
        ref scale_up_policy,
        ref scale_down_policy,
        scale_up_select,
        scale_down_select,
        scale_to_zero_after_s,
    } = *a;
    if autoscale.is_empty() {
        return Ok(None);
    }
    if max_replicas < min_replicas {
        bail!("--min-replicas/--max-replicas: need min ≤ max, got {min_replicas} > {max_replicas}");
    }
    let mut scaler = Autoscaler::rendered(
        autoscale.clone(),
        min_replicas,
        max_replicas,
        replicas_per_node,
    );
    scaler.interval_s = scale_interval_s;
    scaler.metric_lag_s = metric_lag_s;
    scaler.scale_to_zero_after_s = scale_to_zero_after_s;
    if scale_behavior == BehaviorBase::Kubernetes {
        scaler.behavior = Behavior::kubernetes_default();
    }
    let b = &mut scaler.behavior;
    for (rules, window, policies, select) in [
        (
            &mut b.scale_up,
            scale_up_stabilization_s,
            scale_up_policy,
            scale_up_select,
        ),
        (
            &mut b.scale_down,
            scale_down_stabilization_s,
            scale_down_policy,
            scale_down_select,
        ),
    ] {
        if let Some(w) = window {
            rules.stabilization_window_s = w;
        }
        if !policies.is_empty() {
            rules.policies.clone_from(policies);
        }
        if let Some(s) = select {
            rules.select = s.into();
        }
    }
    Ok(Some(scaler))
}

fn traffic_spec(a: &SimTrafficArgs) -> anyhow::Result<TrafficSpec> {
    let SimTrafficArgs {
        ref input_tokens,
        ref output_tokens,
        rate_rps,
        concurrency,
        // The fleet's, not the traffic's: read by `run`.
        warmup_s: _,
        prefix_hit_rate: _,
        ref arrivals,
        ref trace,
        time_scale,
        repeat,
        requests,
        max_sim_requests: _,
        duration,
    } = *a;
    let input: LengthDist = input_tokens
        .parse()
        .map_err(|e| anyhow!("--input-tokens: {e}"))?;
    let output: LengthDist = output_tokens
        .parse()
        .map_err(|e| anyhow!("--output-tokens: {e}"))?;
    let arrivals = match (trace, rate_rps) {
        // A closed loop ignores arrival times; the rate only paces the generator.
        (None, None) if concurrency.is_some() => Arrivals::Poisson { rate_rps: 1.0 },
        // A daily profile carries its own rates.
        (None, None) if arrivals.starts_with("profile") => arrivals
            .parse::<Arrivals>()
            .map_err(|e| anyhow!("--arrivals: {e}"))?,
        (Some(path), None) => {
            if !(time_scale > 0.0 && time_scale.is_finite()) || repeat == 0 {
                bail!("--time-scale must be positive and --repeat at least 1");
            }
            match Arrivals::read_trace(path)? {
                Arrivals::Trace { trace, .. } => Arrivals::Trace {
                    trace,
                    time_scale,
                    repeat,
                    input_from_trace: true,
                    output_from_trace: true,
                },
                other => other,
            }
        }
        (Some(_), Some(_)) => bail!("--rate-rps: give either a rate or --trace, not both"),
        (None, Some(rate)) => {
            if !(rate > 0.0 && rate.is_finite()) {
                bail!("--rate-rps: must be positive");
            }
            match arrivals.parse::<Arrivals>() {
                Ok(Arrivals::Poisson { .. }) => Arrivals::Poisson { rate_rps: rate },
                Ok(Arrivals::Gamma { cv, .. }) => Arrivals::Gamma { rate_rps: rate, cv },
                Ok(_) => bail!("--arrivals: use poisson or gamma:cv=C with --rate-rps"),
                Err(e) => bail!("--arrivals: {e}"),
            }
        }
        (None, None) => bail!("give --rate-rps, --concurrency or --trace"),
    };
    let limit = match (requests, duration) {
        (Some(n), _) if n > 0 => Limit::Requests(n),
        (Some(_), _) => bail!("--requests: must be at least 1"),
        (None, Some(d)) if d > 0.0 && d.is_finite() => Limit::DurationUs((d * 1e6) as u64),
        (None, Some(_)) => bail!("--duration: must be positive"),
        (None, None) if trace.is_some() => Limit::Requests(u64::MAX),
        (None, None) => Limit::Requests(10_000),
    };
    Ok(TrafficSpec {
        arrivals,
        input,
        output,
        limit,
    })
}

/// What is simulated: the fleet, its traffic, and how to name it.
pub(super) struct Setup {
    /// The model's name.
    pub model: String,
    /// Where it runs, for the title.
    pub target: String,
    /// The engine.
    pub engine: Engine,
    /// Parallel degrees.
    pub tp: u32,
    pub pp: u32,
    /// The fleet.
    pub cfg: FleetConfig,
    /// Fields of the manifests the simulation does not model (`--deploy`).
    pub unmodelled: Vec<String>,
}

/// The traffic of the flags, or of `--workload FILE` (its daily profile, burstiness,
/// lengths; a day unless `--duration`/`--requests` say otherwise), with the SLOs of the flags
/// or else of the workload.
fn traffic_and_slo(a: &SimulateArgs) -> anyhow::Result<(TrafficSpec, Slo)> {
    let flags = Slo {
        ttft_ms: a.ttft_ms,
        tpot_ms: a.tpot_ms,
        e2e_ms: a.e2e_ms,
    };
    let Some(path) = &a.workload else {
        return Ok((traffic_spec(&a.traffic)?, flags));
    };
    let w = load::llm_workload(
        path,
        "simulate --workload",
        "simulate it with the diffusion flags of `plan`",
    )?;
    let limit = match (a.traffic.requests, a.traffic.duration) {
        (Some(n), _) if n > 0 => Limit::Requests(n),
        (Some(_), _) => bail!("--requests: must be at least 1"),
        (None, Some(d)) if d > 0.0 && d.is_finite() => Limit::DurationUs((d * 1e6) as u64),
        (None, Some(_)) => bail!("--duration: must be positive"),
        (None, None) => Limit::DurationUs(86_400_000_000),
    };
    let spec = TrafficSpec {
        arrivals: Arrivals::Profile {
            hourly_rps: w.hourly_rates(),
            cv: w.traffic.burstiness,
        },
        input: LengthDist::from(w.lengths.input_tokens),
        output: LengthDist::from(w.lengths.output_tokens),
        limit,
    };
    let any = flags.ttft_ms.is_some() || flags.tpot_ms.is_some() || flags.e2e_ms.is_some();
    let slo = if any { flags } else { Slo::of(&w.slo) };
    Ok((spec, slo))
}

/// Runs `simulate`.
pub fn run(catalog: Catalog, a: &SimulateArgs) -> anyhow::Result<ExitCode> {
    let (spec, slo) = traffic_and_slo(a)?;
    let mut setup = match &a.deploy {
        Some(dir) => deploy::setup(&catalog, a, dir, &spec)?,
        None => from_flags(catalog, a, &spec)?,
    };
    setup.cfg.slo = slo;
    let SimulateArgs {
        replicas,
        ref traffic,
        seed,
        seeds,
        ref plot,
        format,
        ..
    } = *a;
    let cfg = &setup.cfg;
    inferplan_sim::limits::check(cfg, &spec, traffic.max_sim_requests).map_err(|e| {
        let flag = match e.field {
            "requests" => "--requests/--duration",
            "duration" => "--requests/--duration/--rate-rps",
            "autoscaler" => "--max-replicas",
            "clients" => "--concurrency",
            other => other,
        };
        anyhow!("{flag}: {}", e.message)
    })?;
    let title = format!("{} on {}", setup.model, setup.target);
    if seeds > 1 {
        let seeds: Vec<u64> = (0..u64::from(seeds)).map(|k| seed + k).collect();
        let bar = Progress::new("seeds", format != SimFormat::Json);
        let reports = sweep(cfg, &spec, &seeds, &|d, t| bar.done(d, t))?;
        drop(bar);
        if let Some(path) = plot {
            let runs: Vec<(Option<u64>, &SimReport)> =
                seeds.iter().map(|&s| Some(s)).zip(&reports).collect();
            svg_plot(path, &title, &runs)?;
        }
        return emit_sweep(format, &seeds, &reports).map(|()| ExitCode::SUCCESS);
    }
    let traffic = Traffic::new(spec, seed)?;
    let report = simulate(cfg, traffic, seed);
    if let Some(path) = plot {
        svg_plot(path, &title, &[(None, &report)])?;
    }
    let json = SimJson {
        model: &setup.model,
        target: &setup.target,
        engine: setup.engine,
        tp: setup.tp,
        pp: setup.pp,
        replicas_initial: if a.deploy.is_some() {
            cfg.replicas
        } else {
            replicas
        },
        seed,
        autoscaled: cfg.autoscaler.is_some() || cfg.managed.is_some(),
        unmodelled: &setup.unmodelled,
        report: &report,
    };
    match format {
        SimFormat::Json => emit_json(&json)?,
        SimFormat::Csv => emit(&csv(&[(None, &report)]))?,
        SimFormat::Table => emit(&render(&json))?,
    }
    Ok(ExitCode::SUCCESS)
}

/// The fleet of the model, hardware and autoscaling flags.
fn from_flags(mut catalog: Catalog, a: &SimulateArgs, spec: &TrafficSpec) -> anyhow::Result<Setup> {
    let SimulateArgs {
        ref dep,
        engine,
        replicas,
        ref traffic,
        router,
        ref autoscale,
        cold_start_s: cold_start_flag,
        spot_rate_per_hour,
        spot_notice_s,
        timeout_s,
        retries,
        idempotency_keys,
        region: RegionArg { ref region },
        ref params,
        ..
    } = *a;
    let region = catalog.region(region)?.to_owned();
    let model = deployment::model(&mut catalog, dep)?;
    let d = deployment::resolve(&catalog, model, dep)?;
    let t = &d.target;
    let defaults = engine.defaults_on(t.gpu, t.mem_gib, d.tp, d.pp);
    let context = longest(spec);
    if context > d.model.max_context && traffic.trace.is_none() {
        bail!(
            "--input-tokens/--output-tokens: the longest prompt plus output ({context} tokens) is \
             beyond the {} tokens of {}'s context window: the engine would refuse those requests",
            d.model.max_context,
            d.model.name
        );
    }
    let context = context.min(d.model.max_context);
    let dep = Deployment {
        placement: d.placement(),
        engine,
        limits: defaults.limits,
        kv_memory_fraction: defaults.kv_memory_fraction,
    };
    let replica =
        Replica::new(&dep, context.max(1), &MemoryParams::embedded()?).map_err(flag_error)?;
    let table = efficiency(params)?;
    let eff = table.lookup(t.gpu.arch, engine, d.weights).eff;
    let gpus = d.tp * d.pp;
    let (usd_per_replica_hour, cold, per_node, nodes) = match t.instance {
        Some(inst) => {
            let node_price = inst.on_demand(&region).unwrap_or(0.0);
            let price = node_price * f64::from(gpus) / f64::from(inst.whole_gpus().max(1));
            let nodes_per_replica = gpus.div_ceil(inst.whole_gpus().max(1)).max(1);
            let (w, _) = inferplan_perf::memory::weight_bytes(&d.model, d.weights, d.tp, d.pp);
            let bytes = w / f64::from(nodes_per_replica);
            let cold = new_replica(
                WeightsSource::S3.as_str(),
                Some(engine),
                t.gpu.arch,
                bytes,
                inst,
            );
            let per_node = (inst.whole_gpus() / gpus.max(1)).max(1);
            let nodes = Nodes {
                replicas_per_node: per_node,
                nodes_per_replica,
                start_s: autoscaling::node_start_s(),
                consolidate_after_s: f64::from(autoscaling::CONSOLIDATE_AFTER_S),
                usd_per_node_hour: node_price,
            };
            (
                price,
                autoscaling::pod_start_s(&cold),
                per_node,
                Some(nodes),
            )
        }
        None => (0.0, WITHOUT_INSTANCE_S, 1, None),
    };
    let cfg = FleetConfig {
        replica,
        efficiency: eff,
        replicas,
        router: router.unwrap_or(Router::LeastOutstanding),
        autoscaler: autoscaler(autoscale, per_node)?,
        managed: None,
        spot: spot_rate_per_hour.map(|rate| Spot {
            rate_per_hour: rate,
            notice_s: spot_notice_s,
        }),
        client: Client {
            timeout_s,
            max_retries: retries,
            idempotency_keys,
        },
        cold_start_s: cold_start_flag.unwrap_or(cold),
        usd_per_replica_hour,
        nodes,
        slo: Slo::default(),
        sample_s: 10.0,
        closed_loop: traffic.concurrency,
        warmup_s: traffic.warmup_s.unwrap_or(0.0),
        prefix_hit_rate: traffic.prefix_hit_rate,
    };
    Ok(Setup {
        model: d.model.name.clone(),
        target: t.label.clone(),
        engine,
        tp: d.tp,
        pp: d.pp,
        cfg,
        unmodelled: Vec::new(),
    })
}

/// Writes the SVG of `runs`: TTFT p99 per 10 s window above the replicas over time, one line
/// per run, labelled with its seed when there are several.
fn svg_plot(path: &Path, title: &str, runs: &[(Option<u64>, &SimReport)]) -> anyhow::Result<()> {
    let lines = |single: &str, series: fn(&SimReport) -> &Vec<(f64, f64)>| -> Vec<Line> {
        runs.iter()
            .map(|(seed, r)| Line {
                label: seed.map_or_else(|| single.to_owned(), |s| format!("seed {s}")),
                points: series(r).clone(),
            })
            .collect()
    };
    let chart = svg(
        title,
        &[
            Panel {
                title: "TTFT p99 per 10 s window".into(),
                y_label: "ms".into(),
                lines: lines("TTFT p99", |r| &r.ttft_p99_series),
            },
            Panel {
                title: "replicas".into(),
                y_label: "replicas".into(),
                lines: lines("running or starting", |r| &r.replicas_series),
            },
        ],
    );
    std::fs::write(path, chart).with_context(|| path.display().to_string())
}

/// Tokens per sequence the replica must hold: the 99th percentile of prompt plus output.
fn longest(spec: &TrafficSpec) -> u64 {
    let high = |d: &LengthDist| -> f64 {
        match d {
            LengthDist::Fixed(n) => f64::from(*n),
            LengthDist::Uniform { hi, .. } => f64::from(*hi),
            LengthDist::Normal { mean, sd } => mean + 2.33 * sd,
            LengthDist::LogNormal { p99, .. } => *p99,
            LengthDist::Empirical(v) => v.iter().copied().max().map_or(1.0, f64::from),
        }
    };
    match &spec.arrivals {
        Arrivals::Trace { trace, .. } => trace.input_stats().p99 + trace.output_stats().p99,
        _ => (high(&spec.input) + high(&spec.output)).ceil() as u64,
    }
}

/// The CSV columns of one run.
const CSV_COLUMNS: [&str; 19] = [
    "requests_total",
    "requests_completed",
    "requests_failed",
    "ttft_p50_ms",
    "ttft_p90_ms",
    "ttft_p99_ms",
    "tpot_p50_ms",
    "tpot_p90_ms",
    "tpot_p99_ms",
    "e2e_p50_ms",
    "e2e_p90_ms",
    "e2e_p99_ms",
    "output_tok_s",
    "goodput_rps",
    "slo_attainment",
    "preemptions",
    "retries",
    "cost_usd",
    "simulated_s",
];

/// CSV of runs, one row each; with seeds, a `seed` column first.
fn csv(runs: &[(Option<u64>, &SimReport)]) -> String {
    let seeded = runs.iter().any(|(seed, _)| seed.is_some());
    let header = seeded
        .then_some("seed")
        .into_iter()
        .chain(CSV_COLUMNS)
        .map(str::to_owned)
        .collect::<Vec<_>>();
    let rows = runs.iter().map(|(seed, r)| {
        let mut row: Vec<String> = seed.iter().map(u64::to_string).collect();
        row.extend([
            r.requests_total.to_string(),
            r.requests_completed.to_string(),
            r.requests_failed.to_string(),
        ]);
        row.extend(
            [
                r.ttft_ms.p50,
                r.ttft_ms.p90,
                r.ttft_ms.p99,
                r.tpot_ms.p50,
                r.tpot_ms.p90,
                r.tpot_ms.p99,
                r.e2e_ms.p50,
                r.e2e_ms.p90,
                r.e2e_ms.p99,
                r.output_tok_s,
            ]
            .map(|v| format!("{v:.3}")),
        );
        row.extend([
            r.goodput_rps
                .map_or_else(String::new, |g| format!("{g:.4}")),
            r.slo_attainment
                .map_or_else(String::new, |a| format!("{:.4}", a.all)),
            r.preemptions.to_string(),
            r.retries.to_string(),
            format!("{:.4}", r.cost_usd),
            format!("{:.3}", r.simulated_s),
        ]);
        row
    });
    to_csv(std::iter::once(header).chain(rows))
}

fn render(j: &SimJson<'_>) -> String {
    let r = j.report;
    let mut s = format!(
        "{} on {} · {} · TP {}{} · {} replica(s) at the start · seed {}\n",
        j.model,
        j.target,
        j.engine,
        j.tp,
        if j.pp > 1 {
            format!(" × PP {}", j.pp)
        } else {
            String::new()
        },
        j.replicas_initial,
        j.seed
    );
    s += &format!(
        "{} requests: {} completed, {} failed, over {:.1} simulated s ({} steps)\n\n",
        r.requests_total, r.requests_completed, r.requests_failed, r.simulated_s, r.steps
    );
    let rows: Vec<Vec<String>> = [
        ("TTFT", &r.ttft_ms),
        ("TPOT", &r.tpot_ms),
        ("ITL", &r.itl_ms),
        ("e2e", &r.e2e_ms),
        ("queue", &r.queue_ms),
    ]
    .iter()
    .map(|(name, m)| {
        vec![
            (*name).to_owned(),
            format!("{:.1}", m.mean),
            format!("{:.1}", m.p50),
            format!("{:.1}", m.p90),
            format!("{:.1}", m.p99),
            format!("{:.1}", m.p999),
        ]
    })
    .collect();
    s += &crate::output::table(&["ms", "mean", "p50", "p90", "p99", "p99.9"], &rows, false);
    s += &format!(
        "\noutput {:.0} tok/s, total {:.0} tok/s; ",
        r.output_tok_s, r.total_tok_s
    );
    match (r.goodput_rps, r.slo_attainment) {
        (Some(goodput), Some(a)) => {
            s += &format!(
                "goodput {goodput:.2} req/s; SLO attainment {:.1} %",
                a.all * 100.0
            );
            for (name, v) in [("TTFT", a.ttft), ("TPOT", a.tpot), ("e2e", a.e2e)] {
                if let Some(v) = v {
                    s += &format!(", {name} {:.1} %", v * 100.0);
                }
            }
        }
        _ => s += "no SLO given (--ttft-ms, --tpot-ms, --e2e-ms): no goodput or attainment",
    }
    s += &format!(
        "\npreemptions {}, retries {} ({} duplicate), spot interruptions {}, replicas started {}, at most {} at once\n",
        r.preemptions, r.retries, r.duplicates, r.interruptions, r.replicas_started, r.replicas_max
    );
    if j.autoscaled {
        s += &format!(
            "autoscaler: {} scale events, {} reversals\n",
            r.scale_events, r.scale_reversals
        );
    }
    if let Some(f) = &r.flapping {
        s += &format!(
            "flapping: {:.1} scale reversals per hour (more than {}), because\n",
            f.reversals_per_hour, FLAPPING_REVERSALS_PER_HOUR
        );
        for cause in &f.causes {
            s += &format!("  - {cause}\n");
        }
    }
    match r.node_hours {
        Some(nh) => {
            s += &format!(
            "nodes: {} started, at most {} at once, {nh:.1} node-hours for {:.1} replica-hours\n\
             cost ${:.2} for the simulated period (node-hours)\n",
            r.nodes_started, r.nodes_max, r.replica_hours, r.cost_usd
        )
        }
        None => s += &format!("cost ${:.2} for the simulated period\n", r.cost_usd),
    }
    // Per hour when the traffic spans more than one (not the drain after a one-hour run).
    if r.hours.iter().filter(|h| h.requests > 0).count() > 1 {
        let rows: Vec<Vec<String>> = r
            .hours
            .iter()
            .map(|h| {
                vec![
                    h.hour.to_string(),
                    h.requests.to_string(),
                    h.slo_attainment
                        .map_or_else(|| "-".to_owned(), |a| format!("{:.2} %", a * 100.0)),
                    h.replicas_max.to_string(),
                    h.nodes_max.to_string(),
                ]
            })
            .collect();
        s += "\nper hour (by arrival):\n";
        s += &crate::output::table(
            &[
                "hour",
                "answered",
                "SLO attainment",
                "replicas (max)",
                "nodes (max)",
            ],
            &rows,
            false,
        );
    }
    if !j.unmodelled.is_empty() {
        s += "\nnot modelled:\n";
        for u in j.unmodelled {
            s += &format!("  - {u}\n");
        }
    }
    s
}

/// Several seeds: one row per seed and the spread of the main figures.
fn emit_sweep(format: SimFormat, seeds: &[u64], reports: &[SimReport]) -> anyhow::Result<()> {
    match format {
        SimFormat::Json => {
            #[derive(Serialize)]
            struct Run<'a> {
                seed: u64,
                #[serde(flatten)]
                report: &'a SimReport,
            }
            let runs: Vec<Run<'_>> = seeds
                .iter()
                .zip(reports)
                .map(|(&seed, report)| Run { seed, report })
                .collect();
            emit_json(&runs)
        }
        SimFormat::Csv | SimFormat::Table => {
            let runs: Vec<(Option<u64>, &SimReport)> =
                seeds.iter().map(|&seed| Some(seed)).zip(reports).collect();
            let mut s = csv(&runs);
            if format == SimFormat::Table {
                let p99: Vec<f64> = reports.iter().map(|r| r.ttft_ms.p99).collect();
                let (lo, hi) = p99
                    .iter()
                    .fold((f64::MAX, f64::MIN), |(lo, hi), &v| (lo.min(v), hi.max(v)));
                s += &format!(
                    "\nTTFT p99 over {} seeds: {lo:.1} to {hi:.1} ms\n",
                    reports.len()
                );
            }
            emit(&s)
        }
    }
}
