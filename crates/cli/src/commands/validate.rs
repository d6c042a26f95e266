//! `inferplan validate`: score predictions against measured rows.

use crate::args::{Format, FormatArg, ValidateArgs};
use crate::commands::load::efficiency;
use crate::output::{emit, emit_json, num, table, Progress};
use anyhow::Context;
use inferplan_catalog::table::Table;
use inferplan_catalog::Catalog;
use inferplan_perf::diffusion::{validate_diffusion, DiffusionReport};
use inferplan_perf::efficiency::EfficiencyTable;
use inferplan_perf::measured::{read_measured, Skipped};
use inferplan_perf::memory_validation::{validate_memory, MemoryValidation, MEMORY_COLUMNS};
use inferplan_perf::validation::{
    predict_all, prepare, report, score, Case, ErrorStats, PerfReport,
};
use inferplan_perf::{Load, MemoryParams};
use inferplan_plan::search::Inputs;
use inferplan_sim::capacity::{
    agreement, summarize, Agreement, AgreementSummary, MATRIX, MATRIX_REQUESTS, MATRIX_SEED,
    TOLERANCE_PCT,
};
use inferplan_sim::validate::simulate_cases;
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;

/// What a measured file holds, told by its columns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Schema {
    /// LLM throughput and latency (`llm_throughput.csv`, `aic_silicon_sample.csv`).
    Performance,
    /// Image and video latency (`diffusion_latency.csv`).
    Diffusion,
    /// vLLM memory startups (`vllm_memory.csv`).
    Memory,
    /// Measured kernel timings (`data/perf/kernels.csv`), for `calibrate` only.
    Kernels,
}

impl Schema {
    /// What the rows are, for a sentence.
    pub fn describe(self) -> &'static str {
        match self {
            Schema::Performance => "LLM performance",
            Schema::Diffusion => "diffusion latency",
            Schema::Memory => "vLLM memory startups",
            Schema::Kernels => "kernel timings",
        }
    }
}

/// A measured file read whole, once: a pipe cannot be read a second time.
pub struct Input {
    /// The path as given.
    pub name: String,
    /// Its text.
    pub text: String,
    /// What it holds.
    pub schema: Schema,
}

/// Reads every file and tells its schema.
pub fn read_inputs(files: &[PathBuf]) -> anyhow::Result<Vec<Input>> {
    files
        .iter()
        .map(|path| {
            let name = path.display().to_string();
            let text = std::fs::read_to_string(path).with_context(|| name.clone())?;
            let t = Table::parse(&text, &name)?;
            let schema = if MEMORY_COLUMNS.iter().all(|col| t.has(col)) {
                Schema::Memory
            } else if t.has("op") && t.has("latency_ms") && t.has("message_elements") {
                Schema::Kernels
            } else if t.has("resolution") && t.has("steps") {
                Schema::Diffusion
            } else {
                Schema::Performance
            };
            Ok(Input { name, text, schema })
        })
        .collect()
}

/// One file's part in the answer: values read and values used.
#[derive(Debug, Clone, Serialize)]
pub struct FileUse {
    /// The path as given.
    pub file: String,
    /// What it holds.
    pub schema: Schema,
    /// Measured values read (a row of the AIConfigurator sample holds two).
    pub values: usize,
    /// Values that could be mapped to a prediction.
    pub used: usize,
}

/// One line per file: `FILE: SCHEMA, N values, M used`.
pub fn files_text(files: &[FileUse]) -> String {
    files
        .iter()
        .map(|f| {
            format!(
                "{}: {}, {} values, {} used\n",
                f.file,
                f.schema.describe(),
                f.values,
                f.used
            )
        })
        .collect()
}

/// Measured files read: performance cases (all files together) and memory reports.
pub struct Loaded {
    /// Each file read, in the order given.
    pub files: Vec<FileUse>,
    /// Diffusion reports, per file.
    pub diffusion: Vec<DiffusionReport>,
    /// Performance rows ready to predict.
    pub cases: Vec<Case>,
    /// Performance rows that cannot be predicted.
    pub skipped: Vec<Skipped>,
    /// Memory reports, per file.
    pub memory: Vec<(String, MemoryValidation)>,
}

/// Reads measured files of any supported schema.
pub fn load(c: &Catalog, files: &[PathBuf]) -> anyhow::Result<Loaded> {
    load_inputs(c, &read_inputs(files)?)
}

/// Maps files already read to cases and reports.
pub fn load_inputs(c: &Catalog, inputs: &[Input]) -> anyhow::Result<Loaded> {
    let params = MemoryParams::embedded()?;
    let mut loaded = Loaded {
        files: Vec::new(),
        diffusion: Vec::new(),
        cases: Vec::new(),
        skipped: Vec::new(),
        memory: Vec::new(),
    };
    for Input { name, text, schema } in inputs {
        let (values, used) = match schema {
            Schema::Memory => {
                let r = validate_memory(&Table::parse(text, name)?, c, &params)?;
                let counts = (r.rows_total, r.rows_evaluated);
                loaded.memory.push((name.clone(), r));
                counts
            }
            Schema::Diffusion => {
                let r = validate_diffusion(text, name, c)?;
                let counts = (r.rows_total, r.rows_evaluated);
                loaded.diffusion.push(r);
                counts
            }
            Schema::Kernels => anyhow::bail!(
                "{name}: kernel timings; they are fitted (`inferplan calibrate {name} --output data/perf/kernel_curves.csv`), not validated"
            ),
            Schema::Performance => {
                let (cases, skipped) = prepare(read_measured(text, name)?, c, &params);
                let counts = (cases.len() + skipped.len(), cases.len());
                loaded.cases.extend(cases);
                loaded.skipped.extend(skipped);
                counts
            }
        };
        loaded.files.push(FileUse {
            file: name.clone(),
            schema: *schema,
            values,
            used,
        });
    }
    Ok(loaded)
}

/// JSON answer: the performance report's fields at the top level, memory reports beside.
#[derive(Serialize)]
struct ValidateJson<'a> {
    #[serde(flatten)]
    performance: Option<&'a PerfReport>,
    #[serde(skip_serializing_if = "Option::is_none")]
    simulated: Option<&'a PerfReport>,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    diffusion: &'a [DiffusionReport],
    #[serde(skip_serializing_if = "Option::is_none")]
    capacity: Option<&'a CapacityMatrix>,
    memory: Vec<serde_json::Value>,
}

/// Runs `validate`.
pub fn run(c: &Catalog, a: &ValidateArgs) -> anyhow::Result<ExitCode> {
    let ValidateArgs {
        files,
        params,
        worst,
        simulate,
        capacity,
        format: FormatArg { format },
    } = a;
    let (worst, format) = (*worst, *format);
    let loaded = load(c, files)?;
    let table = efficiency(params)?;
    let perf = if loaded.cases.is_empty() && loaded.skipped.is_empty() {
        None
    } else {
        let predicted = predict_all(&loaded.cases, &table);
        let scored = score(&loaded.cases, &predicted);
        Some(report(&scored, &loaded.skipped, worst))
    };
    let simulated = simulate.then(|| {
        let bar = Progress::new("simulations", format != Format::Json);
        let sims = simulate_cases(&loaded.cases, &table, 1, &|d, t| bar.done(d, t));
        let cases: Vec<_> = sims.iter().map(|&(i, _)| loaded.cases[i].clone()).collect();
        let values: Vec<f64> = sims.iter().map(|&(_, v)| v).collect();
        report(&score(&cases, &values), &[], worst)
    });
    let capacity = capacity
        .then(|| capacity_matrix(c, &table, format != Format::Json))
        .transpose()?;
    match format {
        Format::Json => emit_json(&ValidateJson {
            performance: perf.as_ref(),
            simulated: simulated.as_ref(),
            diffusion: &loaded.diffusion,
            capacity: capacity.as_ref(),
            memory: loaded
                .memory
                .iter()
                .map(|(f, r)| serde_json::json!({"file": f, "memory": r}))
                .collect(),
        })?,
        f => {
            if let Some(p) = &perf {
                emit(&render_perf(p, f == Format::Md))?;
            }
            if let Some(p) = &simulated {
                emit(&format!(
                    "\nsimulator (`inferplan simulate`) on the latency-under-load rows:\n{}",
                    render_perf(p, f == Format::Md)
                ))?;
            }
            for d in &loaded.diffusion {
                emit(&render_diffusion(d, f == Format::Md))?;
            }
            for (file, r) in &loaded.memory {
                emit(&render(file, r, f == Format::Md))?;
            }
            if let Some(m) = &capacity {
                emit(&render_capacity(m, f == Format::Md))?;
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The capacity agreement matrix and its figures.
#[derive(Debug, Serialize)]
pub struct CapacityMatrix {
    /// Figures over the rows.
    pub summary: AgreementSummary,
    /// One row per workload.
    pub rows: Vec<Agreement>,
}

/// The planner's per-replica capacity against the simulator's on [`MATRIX`].
fn capacity_matrix(
    c: &Catalog,
    table: &EfficiencyTable,
    bar: bool,
) -> anyhow::Result<CapacityMatrix> {
    let memory = MemoryParams::embedded()?;
    let inputs = Inputs {
        catalog: c,
        efficiency: table,
        memory: &memory,
    };
    let bar = Progress::new("capacity workloads", bar);
    let rows = agreement(&inputs, MATRIX, MATRIX_REQUESTS, MATRIX_SEED, &|d, t| {
        bar.done(d, t)
    })?;
    Ok(CapacityMatrix {
        summary: summarize(&rows),
        rows,
    })
}

/// The matrix as a table with its figures.
fn render_capacity(m: &CapacityMatrix, md: bool) -> String {
    let rows: Vec<Vec<String>> = m
        .rows
        .iter()
        .map(|r| {
            vec![
                r.model.clone(),
                r.deployment.clone(),
                r.shape.to_owned(),
                if (r.burstiness - 1.0).abs() < 1e-9 {
                    "poisson".to_owned()
                } else {
                    format!("bursty cv {}", r.burstiness)
                },
                r.percentile.to_owned(),
                format!("{:.3}", r.analytic_rps),
                format!("{:.3}", r.simulated_rps),
                format!("{:+.1}%", r.error_pct),
            ]
        })
        .collect();
    let s = &m.summary;
    format!(
        "\ncapacity of one replica at the SLO percentile, planner vs simulator \
         ({MATRIX_REQUESTS} requests per simulation, seed {MATRIX_SEED}):\n{}\n\
         {} workloads: median |error| {:.1} %, max {:.1} %, median signed {:+.1} %; \
         {} within ±{TOLERANCE_PCT:.0} %\n",
        table(
            &[
                "model",
                "deployment",
                "shape",
                "arrivals",
                "SLO at",
                "planner rps",
                "simulated rps",
                "error"
            ],
            &rows,
            md
        ),
        s.rows,
        s.median_abs_error_pct,
        s.max_abs_error_pct,
        s.median_error_pct,
        s.within_tolerance
    )
}

/// Error table rows of a group map; a statistic that is not a number (no rows, or a
/// prediction that failed) reads `-`.
pub fn stats_rows(m: &BTreeMap<String, ErrorStats>) -> Vec<Vec<String>> {
    let finite = |v: f64| Some(v).filter(|v| v.is_finite());
    let pct = |v: f64| finite(v).map_or_else(|| "-".to_owned(), |v| format!("{v:.1}%"));
    m.iter()
        .map(|(k, e)| {
            vec![
                k.clone(),
                e.n.to_string(),
                pct(e.median_ape),
                pct(e.p90_ape),
                num(finite(e.median_ratio), 2),
            ]
        })
        .collect()
}

/// Header of [`stats_rows`] tables.
pub const STATS_HEADER: [&str; 5] = ["", "n", "median APE", "p90 APE", "median pred/meas"];

fn render_perf(r: &PerfReport, md: bool) -> String {
    let mut s = format!(
        "performance: {} measured values, {} evaluated ({:.1}% of those whose GPU and model are in the catalog)\n",
        r.rows_total, r.rows_evaluated, r.coverage_pct
    );
    let skipped: Vec<String> = r.skipped.iter().map(|(k, v)| format!("{k}: {v}")).collect();
    if !skipped.is_empty() {
        s += &format!("skipped: {}\n", skipped.join(", "));
    }
    let mut overall = BTreeMap::new();
    overall.insert("all".to_owned(), r.overall.clone());
    for (title, m) in [
        ("overall", &overall),
        ("by metric family", &r.by_metric),
        ("by GPU", &r.by_gpu),
        ("by engine", &r.by_engine),
        ("by source", &r.by_source),
    ] {
        let mut header = STATS_HEADER;
        header[0] = title;
        s += "\n";
        s += &table(&header, &stats_rows(m), md);
    }
    if !r.worst.is_empty() {
        s += "\nworst-predicted values\n\n";
        let rows: Vec<Vec<String>> = r
            .worst
            .iter()
            .map(|w| {
                vec![
                    w.id.clone(),
                    w.model.clone(),
                    w.gpu.clone(),
                    w.engine.to_string(),
                    w.setup.clone(),
                    format!("{}/{}", w.lengths.0, w.lengths.1),
                    load_text(&w.load),
                    format!("{:?} {}", w.metric, w.stat),
                    format!("{:.4}", w.measured),
                    format!("{:.4}", w.predicted),
                    format!("{:.0}%", w.ape),
                ]
            })
            .collect();
        s += &table(
            &[
                "id",
                "model",
                "gpu",
                "engine",
                "setup",
                "in/out",
                "load",
                "metric",
                "measured",
                "predicted",
                "APE",
            ],
            &rows,
            md,
        );
    }
    s
}

/// Short text of a load.
pub fn load_text(l: &Load) -> String {
    match l {
        Load::Closed { concurrency } => format!("closed {concurrency}"),
        Load::Saturated => "saturated".to_owned(),
        Load::Burst { requests } => format!("burst {requests}"),
        Load::Static { batch } => format!("static {batch}"),
        Load::Poisson { rate_rps } => format!("poisson {rate_rps}/s"),
    }
}

fn render(file: &str, r: &MemoryValidation, md: bool) -> String {
    let mut s = format!(
        "{file}: vLLM memory startups, {} rows, {} evaluated",
        r.rows_total, r.rows_evaluated
    );
    if !r.skipped.is_empty() {
        let parts: Vec<String> = r.skipped.iter().map(|(k, v)| format!("{k}: {v}")).collect();
        s += &format!(", skipped ({})", parts.join(", "));
    }
    s += "\n\n";
    for (title, comp) in [
        ("all evaluated rows", &r.by_component),
        (
            "vLLM 0.19.0 rows (the version the parameters were fitted on)",
            &r.by_component_fitted_version,
        ),
    ] {
        s += &format!("{title}\n\n");
        let rows: Vec<Vec<String>> = comp
            .iter()
            .map(|(k, e)| {
                vec![
                    k.clone(),
                    e.n.to_string(),
                    format!("{:.2}", e.median_abs),
                    format!("{:.2}", e.p90_abs),
                    format!("{:.1}%", e.median_ape),
                    format!("{:.1}%", e.p90_ape),
                    format!("{}/{}", e.within_target, e.n),
                ]
            })
            .collect();
        s += &table(
            &[
                "component",
                "n",
                "median |err|",
                "p90 |err|",
                "median APE",
                "p90 APE",
                "within target",
            ],
            &rows,
            md,
        );
        s += "\n";
    }
    s += "per row (predicted / measured, GiB per GPU)\n\n";
    let pm = |(p, m): (f64, Option<f64>)| match m {
        Some(m) => format!("{p:.2} / {m:.2}"),
        None => format!("{p:.2} / -"),
    };
    let rows: Vec<Vec<String>> = r
        .rows
        .iter()
        .map(|c| {
            vec![
                c.id.clone(),
                c.model.clone(),
                c.engine_version.clone(),
                format!("{}x{}", c.tp, c.pp),
                format!("{}/{}", c.weights_dtype, c.kv_dtype),
                pm(c.weights_gib),
                pm(c.activation_gib),
                pm(c.non_torch_gib),
                pm(c.kv_cache_gib),
                pm(c.max_concurrency),
            ]
        })
        .collect();
    s += &table(
        &[
            "id",
            "model",
            "vllm",
            "tp x pp",
            "w/kv",
            "weights",
            "activation",
            "non-torch",
            "kv cache",
            "max concurrency",
        ],
        &rows,
        md,
    );
    s
}

fn render_diffusion(r: &DiffusionReport, md: bool) -> String {
    let mut s = format!(
        "{}: diffusion, {} rows, {} evaluated",
        r.origin, r.rows_total, r.rows_evaluated
    );
    let skipped: Vec<String> = r.skipped.iter().map(|(k, v)| format!("{k}: {v}")).collect();
    if !skipped.is_empty() {
        s += &format!("; skipped: {}", skipped.join(", "));
    }
    s += "\n";
    let mut overall = BTreeMap::new();
    overall.insert("all".to_owned(), r.overall.clone());
    for (title, m) in [
        ("overall", &overall),
        ("by metric", &r.by_metric),
        ("by model", &r.by_model),
        ("by GPU", &r.by_gpu),
        ("by source", &r.by_source),
    ] {
        let mut header = STATS_HEADER;
        header[0] = title;
        s += "\n";
        s += &table(&header, &stats_rows(m), md);
    }
    s
}
