//! `inferplan plan` for LLM workloads.

use super::many::many_text;
use super::overrides::{self, Shared};
use super::text::{endpoint_text, explain_text, findings_text, rejected_text, severity};
use super::WorkloadFile;
use crate::args::{Format, FormatArg, PlanArgs, PlanDiffusionArgs, PlanLlmArgs, PlanSharedArgs};
use crate::commands::kind::refuse_job_flags;
use crate::commands::load::efficiency;
use crate::output::{emit, emit_json, num, table, Progress};
use anyhow::bail;
use inferplan_catalog::Catalog;
use inferplan_perf::MemoryParams;
use inferplan_plan::contract::{PlanJson, Verified};
use inferplan_plan::nothing::NothingQualified;
use inferplan_plan::search::{plan, Inputs, Plan};
use inferplan_plan::workload::{
    Constraints, Length, Lengths, Mode, ModelSpecIn, Pricing, Slo, Traffic, Workload,
};
use inferplan_plan::{Candidate, Severity};
use inferplan_sim::verify::verify;
use std::process::ExitCode;

/// Runs `plan` on an LLM workload (`file`, if any, already read).
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
    let (top, format) = (*top, *format);
    refuse_diffusion_flags(diffusion)?;
    let w = workload(file, model.as_deref(), precision.as_deref(), llm, shared)?;
    let PlanLlmArgs {
        verify: verify_top,
        max_sim_requests,
        seed,
        params,
        ..
    } = llm;
    let efficiency = efficiency(params)?;
    let memory = MemoryParams::embedded()?;
    let inputs = Inputs {
        catalog: c,
        efficiency: &efficiency,
        memory: &memory,
    };
    let p = plan(&inputs, &w)?;
    let multi = inferplan_plan::multimodel::compare(&inputs, &w)?;
    let why = if p.candidates.is_empty() {
        Some(inferplan_plan::nothing::explain(&inputs, &w, &p)?)
    } else {
        None
    };
    let verified = if *verify_top {
        let bar = Progress::new("simulated candidates", format != Format::Json);
        // The top options by rank, EKS (KEDA on Karpenter nodes) and SageMaker (Application
        // Auto Scaling) alike; unpriced SageMaker options rank last.
        let v = verify(&inputs, &p, top, *seed, *max_sim_requests, &|d, t| {
            bar.done(d, t)
        })?;
        Some(v)
    } else {
        None
    };
    match format {
        Format::Json => emit_json(&PlanJson {
            verified,
            multi_model: multi,
            why_nothing: why,
            ..PlanJson::new(&p, top)
        })?,
        Format::Md => {
            let mut s = adr(&p, why.as_ref(), top);
            if let Some(m) = &multi {
                s += &many_text(m, true);
            }
            emit(&s)?
        }
        Format::Table => {
            let mut s = render(&p, why.as_ref(), top, *explain);
            if let Some(v) = &verified {
                s += &verified_text(&p, v);
            }
            if let Some(m) = &multi {
                s += &many_text(m, false);
            }
            emit(&s)?
        }
    }
    Ok(if p.candidates.is_empty() {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// Refuses the diffusion flags on an LLM workload.
fn refuse_diffusion_flags(d: &PlanDiffusionArgs) -> anyhow::Result<()> {
    if let Some(flag) = d.given() {
        bail!(
            "{flag}: only for diffusion workloads (`inferplan catalog diffusion` lists the models)"
        );
    }
    refuse_job_flags(&d.job)
}

/// The workload from the file (if any) with the flags applied over it.
fn workload(
    file: Option<&WorkloadFile>,
    model: Option<&str>,
    precision: Option<&str>,
    llm: &PlanLlmArgs,
    shared: &PlanSharedArgs,
) -> anyhow::Result<Workload> {
    let PlanLlmArgs {
        engine,
        rate_rps,
        peak_rps,
        peak_minutes_per_day,
        input_tokens,
        output_tokens,
        ttft_ms,
        tpot_ms,
        e2e_ms,
        max_gpus_per_replica,
        cold_start_budget_s,
        platforms,
        eks_operations_usd_per_hour,
        // How the plan is checked, not the workload: read by `run`.
        verify: _,
        max_sim_requests: _,
        seed: _,
        params: _,
    } = llm;
    let mut w = match file {
        Some(f) => {
            let mut w = Workload::from_toml(&f.text, &f.origin)?;
            let dir = f.path.parent().unwrap_or(std::path::Path::new("."));
            w.resolve_lengths(dir)?;
            w
        }
        None => {
            let (Some(model), Some(rate)) = (model, *rate_rps) else {
                bail!("give a workload file, or at least --model and --rate-rps");
            };
            Workload {
                name: "command line".to_owned(),
                model: ModelSpecIn {
                    name: model.to_owned(),
                    precision: "bf16".to_owned(),
                    engines: vec!["vllm".to_owned()],
                    checkpoint: None,
                    adapters: None,
                },
                traffic: Traffic {
                    rate_rps: rate,
                    peak_rps: None,
                    peak_minutes_per_day: None,
                    daily_profile: None,
                    burstiness: 1.0,
                    models: 1,
                    model_rates_rps: None,
                },
                lengths: Lengths::default(),
                slo: Slo::default(),
                constraints: Constraints::default(),
                pricing: Pricing::default(),
            }
        }
    };
    if let Some(m) = model {
        w.model.name = m.to_owned();
    }
    if let Some(p) = precision {
        w.model.precision = p.to_owned();
    }
    if !engine.is_empty() {
        w.model.engines = engine.clone();
    }
    if let Some(r) = *rate_rps {
        w.traffic.rate_rps = r;
    }
    if peak_rps.is_some() {
        w.traffic.peak_rps = *peak_rps;
    }
    if peak_minutes_per_day.is_some() {
        w.traffic.peak_minutes_per_day = *peak_minutes_per_day;
    }
    if let Some(n) = *input_tokens {
        w.lengths.input_tokens = Length::Fixed(n);
        w.lengths.trace = None;
    }
    if let Some(n) = *output_tokens {
        w.lengths.output_tokens = Length::Fixed(n);
        w.lengths.trace = None;
    }
    for (value, field) in [
        (*ttft_ms, &mut w.slo.ttft_ms),
        (*tpot_ms, &mut w.slo.tpot_ms),
        (*e2e_ms, &mut w.slo.e2e_ms),
        (*cold_start_budget_s, &mut w.constraints.cold_start_budget_s),
    ] {
        if value.is_some() {
            *field = value;
        }
    }
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
    if let Some(n) = *max_gpus_per_replica {
        w.constraints.max_gpus_per_replica = n;
    }
    if !platforms.is_empty() {
        w.constraints.platforms = platforms.clone();
    }
    if let Some(usd) = *eks_operations_usd_per_hour {
        w.constraints.eks_operations_usd_per_hour = usd;
    }
    w.validate().map_err(|e| match file {
        Some(f) => e.locate(&f.origin, &f.text),
        None => e,
    })?;
    Ok(w)
}

fn slo_text(w: &Workload) -> String {
    let s = &w.slo;
    let pct = format!("{:?}", s.percentile).to_ascii_lowercase();
    let mut parts = Vec::new();
    for (name, v) in [("TTFT", s.ttft_ms), ("TPOT", s.tpot_ms), ("e2e", s.e2e_ms)] {
        if let Some(v) = v {
            parts.push(format!("{name} {pct} ≤ {v} ms"));
        }
    }
    if let Some(d) = s.deadline_s {
        parts.push(format!("done within {d} s"));
    }
    let mode = format!("{:?}", s.mode).to_ascii_lowercase();
    if parts.is_empty() {
        format!("no latency limit ({mode})")
    } else {
        format!("{} ({mode})", parts.join(", "))
    }
}

fn header(p: &Plan) -> String {
    let w = &p.workload;
    format!(
        "{}: {} · {:.2} req/s mean, {:.2} peak · {:.0} → {:.0} tokens · {}\n",
        w.name,
        p.model,
        w.traffic.rate_rps,
        w.peak_rps(),
        w.lengths.input_tokens.mean(),
        w.lengths.output_tokens.mean(),
        slo_text(w)
    )
}

fn layout(c: &Candidate) -> String {
    if c.pp > 1 {
        format!("TP{}×PP{}", c.tp, c.pp)
    } else {
        format!("TP{}", c.tp)
    }
}

/// The instance as the option names it: the `ml.*` type of a SageMaker option.
fn instance_name(c: &Candidate) -> String {
    c.sagemaker
        .as_ref()
        .map_or_else(|| c.instance.clone(), |s| s.instance_type.clone())
}

/// The platform column: `eks`, or `sagemaker` with its endpoint type.
fn platform_name(c: &Candidate) -> String {
    match &c.sagemaker {
        Some(s) => format!("sagemaker {}", s.endpoint.as_str()),
        None => c.platform.to_string(),
    }
}

/// A cost, or `no price` (never $0).
fn cost(v: f64, decimals: usize) -> String {
    if v.is_finite() {
        format!("{v:.decimals$}")
    } else {
        "no price".to_owned()
    }
}

fn candidate_rows(p: &Plan, top: usize) -> Vec<Vec<String>> {
    let jobs = shows_jobs(p, top);
    p.shown(top)
        .into_iter()
        .map(|c| {
            let mut row = vec![
                c.rank.to_string(),
                platform_name(c),
                instance_name(c),
                c.region.clone(),
                layout(c),
                c.precision.to_string(),
                c.engine.to_string(),
                c.replicas.to_string(),
                c.instances.to_string(),
                cost(c.usd_per_hour, 2),
                cost(c.usd_per_million_output_tokens, 3),
                format!("{:.0}", c.ttft_p99_ms),
                format!("{:.1}", c.tpot_p99_ms),
                format!("{:.2}", c.max_rps_per_replica),
                format!("{:.0}%", c.utilization * 100.0),
            ];
            if jobs {
                row.extend(match &c.purchase_mix.batch_job {
                    Some(job) => [
                        cost(c.usd_per_million_total_tokens, 4),
                        job.window_text(),
                        inferplan_plan::job::hours(job.finish_p99_hours),
                    ],
                    None => [
                        cost(c.usd_per_million_total_tokens, 4),
                        "-".to_owned(),
                        "-".to_owned(),
                    ],
                });
            }
            row
        })
        .collect()
}

/// The SageMaker options shown: container, endpoint type, cold start and price of each; why
/// the unpriced ones have none and SageMaker's limits, once.
fn sagemaker_text(p: &Plan, top: usize) -> String {
    let shown: Vec<&Candidate> = p
        .shown(top)
        .into_iter()
        .filter(|c| c.sagemaker.is_some())
        .collect();
    let Some(first) = shown.first().and_then(|c| c.sagemaker.as_ref()) else {
        return String::new();
    };
    let mut s = String::from(
        "\nSageMaker options (the same replica on the `ml.*` twin of its instance):\n",
    );
    let mut unpriced = Vec::new();
    for c in &shown {
        let Some(m) = &c.sagemaker else { continue };
        let price = match &m.price {
            Some(pr) => format!(
                "${:.4}/h {} in {} ({}{})",
                pr.usd_per_hour,
                pr.usage.as_str(),
                pr.region,
                pr.source,
                pr.as_of
                    .as_deref()
                    .map_or_else(String::new, |d| format!(", {d}"))
            ),
            None => {
                unpriced.push(format!("#{} {}", c.rank, m.instance_type));
                "no price".to_owned()
            }
        };
        s += &format!(
            "  #{} {}: {}, {} endpoint; cold start {:.0} s, startup timeouts {} s; {price}\n",
            c.rank,
            m.instance_type,
            m.container,
            m.endpoint.as_str(),
            m.cold_start_s,
            m.startup_budget_s
        );
    }
    if !unpriced.is_empty() {
        s += &format!(
            "  no price for {}: {}\n",
            unpriced.join(", "),
            inferplan_plan::sagemaker::NO_EMBEDDED_PRICES
        );
    }
    s += &format!(
        "  SageMaker's limits (as planned for #{}):\n",
        shown[0].rank
    );
    for l in &first.limits {
        s += &format!("    {}: {} (plan: {})\n", l.limit, l.value, l.planned);
    }
    s
}

/// Whether an option shown runs as a job (batch work, and deadline work where jobs cost
/// less than a pool).
fn shows_jobs(p: &Plan, top: usize) -> bool {
    p.shown(top)
        .into_iter()
        .any(|c| c.purchase_mix.batch_job.is_some())
}

/// The table's columns; when options run as jobs, what they cost per token, their window and
/// their finish at p99.
fn candidate_header(p: &Plan, top: usize) -> Vec<&'static str> {
    let mut h = CANDIDATE_HEADER.to_vec();
    if shows_jobs(p, top) {
        h.extend(["$/1M tok", "window", "finish p99"]);
    }
    h
}

const CANDIDATE_HEADER: [&str; 15] = [
    "#",
    "platform",
    "instance",
    "region",
    "layout",
    "weights",
    "engine",
    "replicas",
    "instances",
    "$/hour",
    "$/1M out",
    "TTFT p99 ms",
    "TPOT p99 ms",
    "max rps/replica",
    "util",
];

fn mix_text(c: &Candidate) -> String {
    let m = &c.purchase_mix;
    let mut parts = Vec::new();
    if c.sagemaker.is_some() {
        parts.push(format!(
            "up to {} SageMaker instances, all on demand",
            m.on_demand_instances
        ));
    }
    if m.savings_plan_instances > 0 {
        parts.push(format!(
            "{} on a 1-year savings plan",
            m.savings_plan_instances
        ));
    }
    if m.on_demand_instances > 0 && c.sagemaker.is_none() {
        parts.push(format!(
            "up to {} more on demand at the peak",
            m.on_demand_instances
        ));
    }
    if m.spot_instances > 0 {
        parts.push(format!("up to {} on spot", m.spot_instances));
    }
    if !m.usd_per_hour.is_finite() {
        return format!(
            "{} × {}: {}, {:.1} instance-hours a day; no price",
            c.instances,
            instance_name(c),
            parts.join(", "),
            m.billed_instance_hours_per_day
        );
    }
    format!(
        "{} × {}: {} = ${:.2}/h mean (all on demand ${:.2}/h, saving {:.0} %)",
        c.instances,
        instance_name(c),
        parts.join(", "),
        m.usd_per_hour,
        m.all_on_demand_usd_per_hour,
        m.saving_pct
    )
}

fn misses_text(p: &Plan, why: Option<&NothingQualified>) -> String {
    let mut s = String::from("\nNothing in the catalog meets these SLOs.\n");
    if let Some(why) = why {
        let causes: Vec<String> = why
            .causes
            .iter()
            .map(|c| format!("{} {}", c.count, c.cause))
            .collect();
        s += &format!("Why: {}.\n", causes.join(", "));
        match &why.change {
            Some(c) => {
                s += &format!(
                    "Most useful change (planned again with it): {}; cheapest then: {} at ${:.2}/h.\n",
                    c.change, c.cheapest, c.usd_per_hour
                )
            }
            None => s += "No other region, family or SLO within 5 % of the nearest miss yields a candidate.\n",
        }
    }
    if !p.nearest_misses.is_empty() {
        s += "Nearest misses:\n";
        for m in &p.nearest_misses {
            s += &format!("  - {} {}: {}\n", m.instance, m.setup, m.detail);
        }
        s += "What would have to change: loosen the limits above to at least the values shown, allow more GPUs per replica (--max-gpus-per-replica), a smaller precision (--precision any), or shorter prompts.\n";
    }
    s
}

fn render(p: &Plan, why: Option<&NothingQualified>, top: usize, explain: bool) -> String {
    let mut s = header(p);
    s += &format!(
        "{} configurations considered, {} meet the SLOs ({} distinct options); rejected: {}\n\n",
        p.considered,
        p.candidates.len(),
        p.options().len(),
        rejected_text(&p.rejected)
    );
    if p.candidates.is_empty() {
        s += &misses_text(p, why);
    } else {
        s += &table(&candidate_header(p, top), &candidate_rows(p, top), false);
        for o in &p.passed_over_shown(top) {
            s += &format!(
                "passed over: #{} {} at ${:.2}/h, ranked below #{} {} at ${:.2}/h: {}\n",
                o.rank,
                o.option,
                o.usd_per_hour,
                o.preferred_rank,
                o.preferred,
                o.preferred_usd_per_hour,
                o.reason
            );
        }
        let best = &p.candidates[0];
        s += &format!("\npurchase mix of #1: {}\n", mix_text(best));
        if let Some(job) = &best.purchase_mix.batch_job {
            s += &format!(
                "{} job of #1: {}; ${:.4} per 1M tokens (prompt and output), ${:.3} per 1M output tokens\n",
                if job.runs_per_day == 1 { "batch" } else { "deadline" },
                job.summary("replica"),
                best.usd_per_million_total_tokens,
                best.usd_per_million_output_tokens
            );
        }
        s += &format!("endpoint pattern: {}\n", endpoint_text(&p.endpoint));
        for a in &best.purchase_mix.assumptions {
            s += &format!("  assumption: {a}\n");
        }
        s += &findings_text(&best.findings);
        s += &sagemaker_text(p, top);
    }
    if explain {
        s += &explain_text(&p.rejections, &p.rejected);
    }
    s
}

/// An architecture decision record in Markdown.
fn adr(p: &Plan, why: Option<&NothingQualified>, top: usize) -> String {
    let w = &p.workload;
    let mut s = format!("# ADR: serving {} for {}\n\n", p.model, w.name);
    s += "## Context and forces\n\n";
    s += &format!(
        "- Traffic: {:.2} requests/s on average, {:.2} at the peak (burstiness {:.1}); prompts of {:.0} tokens (p99 {:.0}), outputs of {:.0} (p99 {:.0}).\n",
        w.traffic.rate_rps,
        w.peak_rps(),
        w.traffic.burstiness,
        w.lengths.input_tokens.mean(),
        w.lengths.input_tokens.p99(),
        w.lengths.output_tokens.mean(),
        w.lengths.output_tokens.p99()
    );
    s += &format!("- Latency promise: {}.\n", slo_text(w));
    let k = &w.constraints;
    s += &format!(
        "- Constraints: regions {}; {} tenancy; {} data; at most {} GPUs per replica{}.\n",
        k.regions.join(", "),
        format!("{:?}", k.tenancy).to_ascii_lowercase(),
        format!("{:?}", k.data_class).to_ascii_lowercase(),
        k.max_gpus_per_replica,
        if k.redundancy { "; N+1 redundancy" } else { "" }
    );
    s += &format!(
        "- Search: {} configurations (instance × layout × precision × engine); {} meet the SLOs. Rejected: {}.\n\n",
        p.considered,
        p.candidates.len(),
        rejected_text(&p.rejected)
    );
    if p.candidates.is_empty() {
        s += "## Decision\n\nNo deployment in the catalog meets the SLOs.\n";
        s += &misses_text(p, why);
        return s;
    }
    s += "## Options considered\n\n";
    s += &table(&candidate_header(p, top), &candidate_rows(p, top), true);
    s += "\n";
    let best = &p.candidates[0];
    for c in p.shown(top) {
        let mut pros = Vec::new();
        let mut cons = Vec::new();
        if c.rank == 1 {
            pros.push("cheapest that meets the SLOs".to_owned());
        } else if !c.priced() {
            cons.push(
                c.sagemaker
                    .as_ref()
                    .and_then(|m| m.no_price.clone())
                    .map_or_else(|| "no price".to_owned(), |w| format!("no price: {w}")),
            );
        } else {
            cons.push(format!(
                "{:.0} % more per hour than #1",
                (c.usd_per_hour / best.usd_per_hour - 1.0) * 100.0
            ));
        }
        pros.push(format!("SLO headroom ×{:.2} at the peak", c.slo_headroom));
        if c.gpus_per_replica == 1 {
            pros.push("one GPU per replica: no tensor-parallel traffic".to_owned());
        }
        for f in c
            .findings
            .iter()
            .filter(|f| f.severity >= Severity::Warning)
        {
            cons.push(format!("{} {}", f.code, f.name));
        }
        s += &format!(
            "- **#{} {} {} {} {}**: pros: {}; cons: {}.\n",
            c.rank,
            platform_name(c),
            instance_name(c),
            layout(c),
            c.precision,
            pros.join(", "),
            if cons.is_empty() {
                "none found".to_owned()
            } else {
                cons.join(", ")
            }
        );
    }
    s += "\n## Decision\n\n";
    s += &format!(
        "Serve {} in {} weights with {} on {} × {} in {} ({} per replica, {} replicas at the peak).\n\n",
        p.model,
        best.precision,
        best.engine,
        best.instances,
        best.instance,
        best.region,
        layout(best),
        best.replicas
    );
    s += &format!("Buy it as: {}.\n", mix_text(best));
    for a in &best.purchase_mix.assumptions {
        s += &format!("- Assumption: {a}\n");
    }
    s += &format!("\nEndpoint pattern: {}\n", endpoint_text(&p.endpoint));
    s += &sagemaker_text(p, top);
    s += "\n## Consequences and risks\n\n";
    if best.findings.is_empty() {
        s += "- No findings.\n";
    }
    for f in &best.findings {
        s += &format!(
            "- **{} {}** ({}): {} See [{}]({}).\n",
            f.code,
            f.name,
            severity(f.severity),
            f.message,
            f.docs,
            f.docs
        );
    }
    s += "\n## Numbers that matter\n\n";
    s += &table(
        &["quantity", "value"],
        &[
            vec![
                "cost per hour (mix, mean over the day)".into(),
                format!("${:.2}", best.usd_per_hour),
            ],
            vec![
                "cost per hour all on demand".into(),
                format!("${:.2}", best.purchase_mix.all_on_demand_usd_per_hour),
            ],
            vec![
                "$ per 1M output tokens".into(),
                format!("{:.3}", best.usd_per_million_output_tokens),
            ],
            vec![
                "$ per 1M total tokens".into(),
                format!("{:.3}", best.usd_per_million_total_tokens),
            ],
            vec![
                "max requests/s per replica within the SLOs".into(),
                format!("{:.2}", best.max_rps_per_replica),
            ],
            vec![
                "TTFT p99 at the peak".into(),
                format!("{:.0} ms", best.ttft_p99_ms),
            ],
            vec![
                "TPOT p99 at the peak".into(),
                format!("{:.1} ms", best.tpot_p99_ms),
            ],
            vec![
                "utilisation at the mean rate".into(),
                format!("{:.0} %", best.utilization * 100.0),
            ],
            vec!["weights".into(), format!("{:.1} GiB", best.weights_gib)],
        ],
        true,
    );
    s
}

fn verified_text(p: &Plan, v: &[Verified]) -> String {
    let mut s = String::from(
        "\nverified by simulation at the peak: the plan's serving replicas (spares left out), \
         then the fewest that keep the SLOs at their percentile, searched down and up \
         (re-ranked on the simulated cost):\n\n",
    );
    let rows: Vec<Vec<String>> = v
        .iter()
        .enumerate()
        .map(|(rank, x)| {
            let c = &p.candidates[x.candidate];
            let option = if c.rank > 0 {
                c.rank.to_string()
            } else {
                "-".to_owned()
            };
            vec![
                (rank + 1).to_string(),
                option,
                c.instance.clone(),
                layout(c),
                c.precision.to_string(),
                c.engine.to_string(),
                x.analytic_replicas.to_string(),
                format!("{:.1}%", x.slo_attainment * 100.0),
                format!("{:.0}", x.ttft_p99_ms),
                format!("{:.1}", x.tpot_p99_ms),
                format!("{:.2}", x.analytic_usd_per_hour),
                x.simulated_replicas
                    .map_or_else(|| "none".to_owned(), |n| n.to_string()),
                num(x.simulated_slo_attainment.map(|a| a * 100.0), 1),
                num(x.simulated_usd_per_hour, 2),
            ]
        })
        .collect();
    s += &table(
        &[
            "#",
            "plan #",
            "instance",
            "layout",
            "weights",
            "engine",
            "replicas",
            "attainment",
            "TTFT p99 ms",
            "TPOT p99 ms",
            "$/hour",
            "simulated replicas",
            "attainment",
            "$/hour",
        ],
        &rows,
        false,
    );
    s += &if p.workload.slo.mode == Mode::Batch {
        format!(
            "replicas serve the run's rate ({}) without the N+1 spares: the day's requests over \
             the window after the cold start; $/hour includes them. A batch job has no latency \
             SLO: an option passes when its replicas answer the simulated requests as fast as \
             they arrive (2 % slack and one p99 end-to-end to drain).\n",
            v.iter()
                .map(|x| format!("#{} {:.2} req/s", x.candidate + 1, x.rate_rps))
                .collect::<Vec<_>>()
                .join(", ")
        )
    } else {
        format!(
            "replicas serve the peak ({:.2} req/s) without the N+1 spares; $/hour includes them. \
             An option passes when every SLO is met by at least {:.0} % of the simulated \
             requests.\n",
            p.workload.peak_rps(),
            v.first().map_or(0.0, |x| x.required * 100.0)
        )
    };
    if v.iter().any(|x| x.day.is_some()) {
        s += "\nthe day: 24 hours of the profile through the autoscaling `render` writes, nodes \
              from Karpenter, the cold start of plan and render:\n";
    }
    for (rank, x) in v.iter().enumerate() {
        let c = &p.candidates[x.candidate];
        if let Some(why) = &x.day_skipped {
            s += &format!("\n{}. {}: {why}\n", rank + 1, c.instance);
        }
        let Some(d) = &x.day else { continue };
        let attained = d
            .slo_attainment
            .map_or_else(|| "no SLO".to_owned(), |a| format!("{:.2} %", a * 100.0));
        s += &format!(
            "\n{}. {} · KEDA min {} max {}, in-flight {} and queue {} per replica · node start \
             {:.0} s + replica start {:.0} s\n   attainment {attained}; {} scale events \
             ({} reversals); {:.1} node-hours (plan bills {:.1}); ${:.0} at on-demand prices\n",
            rank + 1,
            c.instance,
            d.min_replicas,
            d.max_replicas,
            d.target_in_flight,
            d.target_queue,
            d.node_start_s,
            d.pod_start_s,
            d.scale_events,
            d.scale_reversals,
            d.node_hours,
            d.planned_node_hours,
            d.cost_usd,
        );
        if let Some(b) = &d.batch {
            s += &format!(
                "   batch run: cron {}–{} UTC, {} replicas, none outside it; last answer {:.1} h \
                 after the opening (plan: {:.1} h at p99); {:.2} % answered within the {:.0} h \
                 window\n",
                b.run_start_utc,
                b.run_end_utc,
                b.replicas,
                b.finish_hours,
                b.planned_finish_p99_hours,
                b.answered_in_window * 100.0,
                b.window_hours,
            );
        }
        let hours: Vec<String> = d
            .hours
            .iter()
            .map(|h| match h.slo_attainment {
                Some(a) => format!("{:02}h {:.1}", h.hour, a * 100.0),
                None => format!("{:02}h -", h.hour),
            })
            .collect();
        for chunk in hours.chunks(8) {
            s += &format!("   {}\n", chunk.join("  "));
        }
        if d.batch.is_some() {
            // A batch run is judged by its window (the line above), not hour by hour.
            s += if d.failing_hours.is_empty() {
                "   the day's work is answered within its window\n"
            } else {
                "   the run misses its window\n"
            };
        } else if d.failing_hours.is_empty() {
            s += "   every hour meets the SLO\n";
        } else {
            let list: Vec<String> = d.failing_hours.iter().map(|h| format!("{h:02}h")).collect();
            s += &format!("   below the SLO in {}\n", list.join(", "));
        }
        if let Some(f) = &d.fix {
            s += &format!("   fix: {f}\n");
        }
    }
    s
}
