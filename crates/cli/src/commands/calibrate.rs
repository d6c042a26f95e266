//! `inferplan calibrate`: fit the efficiency table to measured rows and cross-validate it.

use crate::args::{CalibrateArgs, Format, FormatArg};
use crate::commands::validate::{
    files_text, load_inputs, read_inputs, stats_rows, FileUse, Input, Schema, STATS_HEADER,
};
use crate::output::{emit, emit_json, table, Progress};
use anyhow::{bail, Context};
use inferplan_catalog::Catalog;
use inferplan_perf::calibrate::{cross_validate, fit, Options, OutOfFold, TooFewSources, SEED};
use inferplan_perf::diffusion::{
    cross_validate as cross_validate_diffusion, fit_efficiencies, prepare_diffusion,
    report_diffusion, report_predicted, to_csv, DiffusionEfficiencies, DiffusionReport,
    MIN_ARCH_ROWS, PRIOR_ROWS,
};
use inferplan_perf::efficiency::Key;
use inferplan_perf::kernels::fit::{fit as fit_kernels, read_points};
use inferplan_perf::validation::{efficiency_for, report, score, PerfReport, Scored};
use inferplan_perf::Load;
use serde::Serialize;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Serialize)]
struct CalibrateJson {
    files: Vec<FileUse>,
    rows_evaluated: usize,
    in_sample: PerfReport,
    cross_validated: Option<PerfReport>,
    /// Why there is no cross-validation, when it could not run.
    #[serde(skip_serializing_if = "Option::is_none")]
    cross_validation_skipped: Option<String>,
    parameters: String,
}

/// Runs `calibrate`: LLM performance files fit `efficiency.csv`, diffusion files
/// `diffusion_efficiency.csv`; one kind at a time, and no memory files.
pub fn run(c: &Catalog, a: &CalibrateArgs) -> anyhow::Result<ExitCode> {
    let inputs = read_inputs(&a.files)?;
    let of = |schema| inputs.iter().find(|i| i.schema == schema);
    if let Some(m) = of(Schema::Memory) {
        bail!(
            "{}: vLLM memory startups; calibrate fits performance parameters only (score memory with `inferplan validate`)",
            m.name
        );
    }
    if let Some(k) = of(Schema::Kernels) {
        if let Some(other) = inputs.iter().find(|i| i.schema != Schema::Kernels) {
            bail!(
                "{}: kernel timings, {}: {}; calibrate fits one parameter file at a time, so give the kernel files in a run of their own",
                k.name,
                other.name,
                other.schema.describe()
            );
        }
        return kernels(c, a, &inputs);
    }
    match (of(Schema::Diffusion), of(Schema::Performance)) {
        (Some(d), Some(p)) => bail!(
            "{}: diffusion latency, {}: LLM performance; calibrate fits one parameter file at a time, so give the diffusion files and the LLM files in separate runs",
            d.name,
            p.name
        ),
        (Some(_), None) => diffusion(c, a, &inputs),
        _ => performance(c, a, &inputs),
    }
}

/// Fits the LLM efficiency table and cross-validates it by leaving one source out.
fn performance(c: &Catalog, a: &CalibrateArgs, inputs: &[Input]) -> anyhow::Result<ExitCode> {
    let CalibrateArgs {
        files: paths,
        output,
        min_rows,
        shrink,
        no_cv,
        cv_sources,
        predictions,
        format: FormatArg { format },
    } = a;
    let format = *format;
    let loaded = load_inputs(c, inputs)?;
    if loaded.cases.is_empty() {
        bail!(
            "no measured performance rows could be mapped to a prediction in {} file(s)",
            paths.len()
        );
    }
    if !(*shrink >= 0.0 && shrink.is_finite()) {
        bail!("--shrink: must be a non-negative number");
    }
    let opts = Options {
        min_rows: (*min_rows).max(1),
        shrink: *shrink,
    };
    // Every fit starts from the neutral seed, never from the embedded table: that table was
    // fitted on every source, so a cross-validation fold starting from it would start from
    // the source it leaves out.
    let only: Option<std::collections::BTreeSet<String>> =
        (!cv_sources.is_empty()).then(|| cv_sources.iter().cloned().collect());
    if let Some(only) = &only {
        let known: std::collections::BTreeSet<&str> =
            loaded.cases.iter().map(|k| k.obs.source.as_str()).collect();
        if let Some(s) = only.iter().find(|s| !known.contains(s.as_str())) {
            bail!(
                "--cv-sources: no scored row of source `{s}` (sources: {})",
                known.into_iter().collect::<Vec<_>>().join(", ")
            );
        }
    }
    let provenance = format!(
        "inferplan calibrate {} (min_rows {}, shrink {})",
        file_names(paths),
        opts.min_rows,
        opts.shrink
    );
    let all: Vec<usize> = (0..loaded.cases.len()).collect();
    // The in-sample fit runs beside the folds (the same fits, one more thread): its single
    // thread no longer comes first on a run's critical path.
    let (fitted_table, (out_of_fold, cv_skipped)) = std::thread::scope(|scope| {
        let in_sample = scope.spawn(|| fit(&loaded.cases, &all, &SEED, &opts, &provenance));
        let cv = split_cv((!no_cv).then(|| {
            let bar = Progress::new("cross-validation folds", format != Format::Json);
            cross_validate(&loaded.cases, &opts, only.as_ref(), &|d, t| bar.done(d, t))
        }));
        let table = in_sample
            .join()
            .unwrap_or_else(|e| std::panic::resume_unwind(e));
        (table, cv)
    });
    let fitted: Vec<f64> = loaded
        .cases
        .iter()
        .map(|k| k.predict(&efficiency_for(&fitted_table, k)))
        .collect();
    let in_sample_scored = score(&loaded.cases, &fitted);
    let in_sample = report(&in_sample_scored, &loaded.skipped, 10);
    // With --cv-sources the figures cover the rows of the folds that ran.
    let cv_scored = out_of_fold.as_ref().map(|o| {
        let (cases, predicted): (Vec<_>, Vec<f64>) = loaded
            .cases
            .iter()
            .zip(o)
            .filter_map(|(k, p)| Some((k.clone(), p.as_ref()?.predicted)))
            .unzip();
        score(&cases, &predicted)
    });
    let cv = cv_scored.as_ref().map(|s| report(s, &loaded.skipped, 10));
    let csv = fitted_table.to_csv();
    if let Some(path) = output {
        std::fs::write(path, &csv).with_context(|| path.display().to_string())?;
    }
    if let Some(path) = predictions {
        let text = predictions_csv(&in_sample_scored, out_of_fold.as_deref());
        std::fs::write(path, text).with_context(|| path.display().to_string())?;
    }
    match format {
        Format::Json => emit_json(&CalibrateJson {
            files: loaded.files,
            rows_evaluated: loaded.cases.len(),
            in_sample,
            cross_validated: cv,
            cross_validation_skipped: cv_skipped,
            parameters: csv,
        })?,
        f => {
            let md = f == Format::Md;
            let mut s = files_text(&loaded.files);
            s += &format!(
                "{} measured values fitted; {} parameter rows\n\n",
                loaded.cases.len(),
                fitted_table.entries.len()
            );
            let mut header = STATS_HEADER;
            header[0] = "in-sample, by metric";
            s += &table_of(&header, &in_sample, md);
            if let Some(cv) = &cv {
                header[0] = "cross-validated by source, by metric";
                s += "\n";
                s += &table_of(&header, cv, md);
                header[0] = "cross-validated, by source";
                s += "\n";
                s += &crate::output::table(&header, &stats_rows(&cv.by_source), md);
            }
            if let Some(why) = &cv_skipped {
                s += &format!("\n{why}\n");
            }
            s += "\nparameters\n\n";
            let rows: Vec<Vec<String>> = fitted_table
                .entries
                .iter()
                .map(|e| {
                    vec![
                        e.key.columns().replace(',', " / "),
                        format!("{:.3}", e.eff.bandwidth),
                        format!("{:.3}", e.eff.compute),
                        format!("{:.3}", e.eff.comm),
                        format!("{:.3}", e.eff.step_overhead_s * 1e3),
                        format!("{:.1}", e.eff.request_overhead_s * 1e3),
                        e.rows.to_string(),
                    ]
                })
                .collect();
            s += &crate::output::table(
                &[
                    "arch / engine / precision",
                    "bandwidth",
                    "compute",
                    "comm",
                    "step ms",
                    "request ms",
                    "rows",
                ],
                &rows,
                md,
            );
            match output {
                Some(p) => s += &format!("\nwrote {}\n", p.display()),
                None => s += "\n(give --output FILE to write the parameter file)\n",
            }
            emit(&s)?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

#[derive(Serialize)]
struct KernelCalibrateJson {
    files: Vec<FileUse>,
    curves: usize,
    parameters: String,
}

/// Fits the kernel curves (one per GPU, op, format and all-reduce size) to measured kernel
/// timings.
fn kernels(c: &Catalog, a: &CalibrateArgs, inputs: &[Input]) -> anyhow::Result<ExitCode> {
    let mut points = std::collections::BTreeMap::new();
    let mut files = Vec::new();
    for i in inputs {
        let read = read_points(&i.text, &i.name, c)?;
        let n: usize = read.values().map(Vec::len).sum();
        files.push(FileUse {
            file: i.name.clone(),
            schema: i.schema,
            values: n,
            used: n,
        });
        for (k, v) in read {
            points.entry(k).or_insert_with(Vec::new).extend(v);
        }
    }
    let provenance = format!(
        "inferplan calibrate {}: time = floor + max(FLOPs / (peak x compute x size / (size + half)), bytes / (peak x bandwidth)); mean |ln(predicted/measured)|; calls faster than the datasheet bandwidth (warm L2) left out",
        file_names(&a.files)
    );
    let set = fit_kernels(&points, &provenance);
    let csv = set.to_csv();
    if let Some(path) = &a.output {
        std::fs::write(path, &csv).with_context(|| path.display().to_string())?;
    }
    match a.format.format {
        Format::Json => emit_json(&KernelCalibrateJson {
            files,
            curves: set.entries.len(),
            parameters: csv,
        })?,
        f => {
            let mut s = files_text(&files);
            s += &format!("{} curves fitted\n\n", set.entries.len());
            let rows: Vec<Vec<String>> = set
                .entries
                .iter()
                .map(|e| {
                    vec![
                        e.gpu.clone(),
                        e.op.as_str().to_owned(),
                        e.dtype.as_str().to_owned(),
                        e.gpus.to_string(),
                        format!("{:.2}", e.curve.floor_s * 1e6),
                        format!("{:.3}", e.curve.compute),
                        format!("{:.1}", e.curve.half),
                        format!("{:.3}", e.curve.bandwidth),
                        e.rows.to_string(),
                        format!("{:.1}%", e.median_ape),
                        format!("{:.1}%", e.p90_ape),
                    ]
                })
                .collect();
            s += &crate::output::table(
                &[
                    "gpu",
                    "op",
                    "dtype",
                    "gpus",
                    "floor µs",
                    "compute",
                    "half",
                    "bandwidth",
                    "points",
                    "median APE",
                    "p90 APE",
                ],
                &rows,
                f == Format::Md,
            );
            match &a.output {
                Some(p) => s += &format!("\nwrote {}\n", p.display()),
                None => s += "\n(give --output FILE to write the curve file)\n",
            }
            emit(&s)?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The files' names without their folders, for the provenance of a fit.
fn file_names(files: &[PathBuf]) -> String {
    files
        .iter()
        .map(|p| {
            p.file_name().map_or_else(
                || p.display().to_string(),
                |n| n.to_string_lossy().into_owned(),
            )
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// The cross-validation report, or (when it could not run) why not; neither with `--no-cv`.
fn split_cv<R>(cv: Option<Result<R, TooFewSources>>) -> (Option<R>, Option<String>) {
    match cv {
        Some(Ok(r)) => (Some(r), None),
        Some(Err(e)) => (None, Some(e.to_string())),
        None => (None, None),
    }
}

/// Every scored value with its in-sample and (when run) cross-validated prediction, one CSV
/// row each, in the order the files list them; with the cross-validated prediction, the
/// parameter row its fold's table gave it (`cv_key`, `arch/engine/precision`) and its
/// prediction with each row of that table it could fall back on (`cv_by_key`,
/// `key=value` pairs, most specific first).
fn predictions_csv(in_sample: &[Scored], cv: Option<&[Option<OutOfFold>]>) -> String {
    let mut s = String::from(
        "id,source,model,gpu,engine,metric,stat,setup,input_tokens,output_tokens,load,measured,in_sample,cross_validated,cv_key,cv_by_key\n",
    );
    let key = |k: &Key| k.columns().replace(',', "/");
    for (i, r) in in_sample.iter().enumerate() {
        let load = match r.load {
            Load::Closed { concurrency } => format!("closed {concurrency}"),
            Load::Saturated => "saturated".to_owned(),
            Load::Burst { requests } => format!("burst {requests}"),
            Load::Static { batch } => format!("static {batch}"),
            other => format!("{other:?}").to_lowercase(),
        };
        let (cv, cv_key, by_key) = match cv.and_then(|c| c[i].as_ref()) {
            Some(o) => (
                o.predicted.to_string(),
                key(&o.key),
                o.by_key
                    .iter()
                    .map(|(k, p)| format!("{}={p}", key(k)))
                    .collect::<Vec<_>>()
                    .join(";"),
            ),
            None => Default::default(),
        };
        s += &format!(
            "{},{},\"{}\",\"{}\",{},{:?},{},{},{},{},{},{},{},{},{},{}\n",
            r.id,
            r.source,
            r.model,
            r.gpu,
            r.engine,
            r.metric,
            r.stat,
            r.setup,
            r.lengths.0,
            r.lengths.1,
            load,
            r.measured,
            r.predicted,
            cv,
            cv_key,
            by_key
        );
    }
    s
}

fn table_of(header: &[&str; 5], r: &PerfReport, md: bool) -> String {
    let mut m = r.by_metric.clone();
    m.insert("all".to_owned(), r.overall.clone());
    table(header, &stats_rows(&m), md)
}

#[derive(Serialize)]
struct DiffusionCalibrateJson {
    files: Vec<FileUse>,
    in_sample: DiffusionReport,
    cross_validated: Option<DiffusionReport>,
    /// Why there is no cross-validation, when it could not run.
    #[serde(skip_serializing_if = "Option::is_none")]
    cross_validation_skipped: Option<String>,
    parameters: String,
}

/// Fits the diffusion efficiencies (global and per architecture) and cross-validates them by
/// leaving one source out.
fn diffusion(c: &Catalog, a: &CalibrateArgs, inputs: &[Input]) -> anyhow::Result<ExitCode> {
    let CalibrateArgs {
        files: paths,
        output,
        // The LLM fit's; the diffusion fit is a grid (see the provenance).
        min_rows: _,
        shrink: _,
        no_cv,
        cv_sources,
        predictions: _,
        format: FormatArg { format },
    } = a;
    if !cv_sources.is_empty() {
        bail!("--cv-sources: the LLM fit's folds; a diffusion calibration runs every fold");
    }
    let format = *format;
    let (mut cases, mut skipped, mut files) = (Vec::new(), Vec::new(), Vec::new());
    for i in inputs {
        let (c, s) = prepare_diffusion(&i.text, &i.name, c)?;
        files.push(FileUse {
            file: i.name.clone(),
            schema: i.schema,
            values: c.len() + s.len(),
            used: c.len(),
        });
        cases.extend(c);
        skipped.extend(s);
    }
    let origin = &inputs
        .iter()
        .map(|i| i.name.as_str())
        .collect::<Vec<_>>()
        .join(", ");
    if cases.is_empty() {
        bail!("{origin}: no diffusion row could be mapped to a prediction");
    }
    let bandwidth = DiffusionEfficiencies::embedded().global.bandwidth;
    let refs: Vec<&_> = cases.iter().collect();
    let (fitted, rows) = fit_efficiencies(&refs, bandwidth);
    let provenance = format!(
        "inferplan calibrate {}: global grid (compute 0.05-1.00 by 0.01, step overhead 0-40 ms by 0.5, activation bytes per width x token 0-600 by 20) and execution terms (compiled and TensorRT engines' share of the activation traffic 0-1 by 0.05, eager dispatch per step 0-80 ms by 1, each on the rows of its engines) fitted in turn twice, minimising the median |ln(predicted/measured)| over every mappable row; architectures with >= {MIN_ARCH_ROWS} rows get their own compute efficiency, pulled towards the global one as {PRIOR_ROWS} rows; bandwidth efficiency held (no weight-streaming-bound rows)",
        file_names(paths)
    );
    let in_sample = report_diffusion(origin, &cases, &skipped, &fitted);
    let (cv, cv_skipped) = split_cv((!no_cv).then(|| {
        let bar = Progress::new("cross-validation folds", format != Format::Json);
        cross_validate_diffusion(&cases, bandwidth, &|d, t| bar.done(d, t))
            .map(|predicted| report_predicted(origin, &cases, &predicted, &skipped, &fitted))
    }));
    let csv = to_csv(&fitted, &rows, &provenance);
    if let Some(path) = output {
        std::fs::write(path, &csv).with_context(|| path.display().to_string())?;
    }
    match format {
        Format::Json => emit_json(&DiffusionCalibrateJson {
            files,
            in_sample,
            cross_validated: cv,
            cross_validation_skipped: cv_skipped,
            parameters: csv,
        })?,
        f => {
            let md = f == Format::Md;
            let mut s = files_text(&files);
            s += &format!("{} diffusion rows fitted\n\n", cases.len());
            let mut header = STATS_HEADER;
            for (title, r) in [
                ("in-sample", Some(&in_sample)),
                ("cross-validated by source", cv.as_ref()),
            ] {
                let Some(r) = r else { continue };
                let mut m = r.by_source.clone();
                m.insert("all".to_owned(), r.overall.clone());
                header[0] = title;
                s += &table(&header, &stats_rows(&m), md);
                s += "\n";
            }
            if let Some(why) = &cv_skipped {
                s += &format!("{why}\n\n");
            }
            let line = |arch: &str, e: &inferplan_perf::diffusion::DiffusionEfficiency| {
                vec![
                    arch.to_owned(),
                    format!("{:.3}", e.compute),
                    format!("{:.2}", e.step_overhead_ms),
                    format!("{:.0}", e.activation_bytes),
                    format!("{:.2}", e.compiled_activation_share),
                    format!("{:.2}", e.tensorrt_activation_share),
                    format!("{:.0}", e.eager_dispatch_ms),
                    rows.get(arch).copied().unwrap_or(0).to_string(),
                ]
            };
            let mut rows_out = vec![line("*", &fitted.global)];
            for (arch, e) in &fitted.by_arch {
                rows_out.push(line(arch, e));
            }
            s += &table(
                &[
                    "arch",
                    "compute",
                    "step ms",
                    "activation B",
                    "compiled share",
                    "TensorRT share",
                    "eager dispatch ms",
                    "rows",
                ],
                &rows_out,
                md,
            );
            match output {
                Some(p) => s += &format!("\nwrote {}\n", p.display()),
                None => s += "\n(give --output FILE to write the parameter file)\n",
            }
            emit(&s)?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
