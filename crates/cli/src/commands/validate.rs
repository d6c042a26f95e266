//! `inferplan validate`: score predictions against measured rows.

use crate::args::{Format, ValidateArgs};
use crate::output::{emit, emit_json, table};
use anyhow::{bail, Context};
use inferplan_catalog::table::Table;
use inferplan_catalog::Catalog;
use inferplan_perf::memory_validation::{validate_memory, MemoryValidation, MEMORY_COLUMNS};
use inferplan_perf::MemoryParams;
use std::process::ExitCode;

/// Runs `validate`.
pub fn run(c: &Catalog, a: &ValidateArgs) -> anyhow::Result<ExitCode> {
    let params = MemoryParams::embedded()?;
    let mut reports = Vec::new();
    for path in &a.files {
        let text = std::fs::read_to_string(path).with_context(|| format!("{}", path.display()))?;
        let t = Table::parse(&text, &path.display().to_string())?;
        if MEMORY_COLUMNS.iter().all(|col| t.has(col)) {
            reports.push((path.display().to_string(), validate_memory(&t, c, &params)?));
        } else if t.has("silicon_ttft_ms") || (t.has("metric") && t.has("value")) {
            bail!("{}: throughput and latency rows are not validated yet (the performance model is the next piece of work)", path.display());
        } else {
            bail!(
                "{}: unknown schema; expected the columns of vllm_memory.csv ({})",
                path.display(),
                MEMORY_COLUMNS.join(", ")
            );
        }
    }
    match a.format {
        Format::Json => emit_json(
            &reports
                .iter()
                .map(|(f, r)| serde_json::json!({"file": f, "memory": r}))
                .collect::<Vec<_>>(),
        )?,
        f => {
            for (file, r) in &reports {
                emit(&render(file, r, f == Format::Md))?;
            }
        }
    }
    Ok(ExitCode::SUCCESS)
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
