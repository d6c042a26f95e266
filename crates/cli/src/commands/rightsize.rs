//! `inferplan rightsize`: utilisation and memory verdicts from GPU metrics, and the cheaper
//! or safer deployment.

use crate::args::{Format, FormatArg, RightsizeArgs};
use crate::commands::load::llm_workload;
use crate::output::{emit, emit_json, table};
use inferplan_catalog::Catalog;
use inferplan_deploy::rightsize::{
    catalog_fb_total_mib, parse_files, read_files, suggest, Current, Options,
};
use inferplan_perf::{EfficiencyTable, MemoryParams};
use inferplan_plan::Inputs;
use serde::Serialize;
use std::process::ExitCode;

/// Runs `rightsize`.
pub fn run(c: &Catalog, a: &RightsizeArgs) -> anyhow::Result<ExitCode> {
    let RightsizeArgs {
        files,
        util_unit,
        instance,
        gpu,
        workload,
        current_usd_per_hour,
        format: FormatArg { format },
    } = a;
    let metrics = match crate::input::request_files(files) {
        Some((texts, missing)) => match missing.first() {
            Some(m) => anyhow::bail!("{m}"),
            None => parse_files(&texts, *util_unit)?,
        },
        None => read_files(files, *util_unit)?,
    };
    let fb = catalog_fb_total_mib(c, instance.as_deref(), gpu.as_deref())?;
    let given = match (instance, gpu) {
        (Some(i), _) => format!("--instance {i}"),
        (None, Some(g)) => format!("--gpu {g}"),
        (None, None) => String::new(),
    };
    metrics.check_fallback(fb, &given)?;
    let report = metrics.analyze(&Options { fb_total_mib: fb });
    let suggestion = match workload {
        Some(path) => {
            let w = llm_workload(
                path,
                "rightsize --workload",
                "suggesting diffusion deployments from metrics is not supported yet (without \
                 --workload, the verdicts still apply)",
            )?;
            let efficiency = EfficiencyTable::embedded()?;
            let memory = MemoryParams::embedded()?;
            let inputs = Inputs {
                catalog: c,
                efficiency: &efficiency,
                memory: &memory,
            };
            let current = Current {
                instance: instance.clone(),
                usd_per_hour: *current_usd_per_hour,
            };
            Some(suggest(&report, &w, &inputs, &current)?)
        }
        None => None,
    };
    #[derive(Serialize)]
    struct Out<'a, R: Serialize, S: Serialize> {
        #[serde(flatten)]
        report: &'a R,
        suggestion: Option<&'a S>,
    }
    match *format {
        Format::Json => emit_json(&Out {
            report: &report,
            suggestion: suggestion.as_ref(),
        })?,
        f => {
            let o = &report.overall;
            let mut s = format!(
                "{} GPU(s) over {:.1} days\n\n",
                report.gpus.len(),
                o.window_s / 86_400.0
            );
            let pct = |v: Option<f64>| v.map_or_else(|| "-".to_owned(), |x| format!("{x:.1}%"));
            s += &table(
                &["", "average", "p95", "max"],
                &[
                    vec![
                        "GPU utilisation".into(),
                        pct(o.avg_util_pct),
                        pct(o.p95_util_pct),
                        pct(o.max_util_pct),
                    ],
                    vec![
                        "framebuffer used".into(),
                        pct(o.avg_mem_pct),
                        pct(o.p95_mem_pct),
                        pct(o.max_mem_pct),
                    ],
                ],
                f == Format::Md,
            );
            s += "\nverdicts:\n";
            let name = |v: serde_json::Value| v.as_str().unwrap_or_default().to_owned();
            for v in &report.verdicts {
                s += &format!(
                    "  [{}{}] {}\n",
                    name(serde_json::to_value(v.code)?),
                    if v.provisional { ", provisional" } else { "" },
                    v.message
                );
            }
            if let Some(sg) = &suggestion {
                s += &format!(
                    "\nsuggestion ({}): {}\n",
                    name(serde_json::to_value(sg.action)?),
                    sg.reason
                );
            }
            emit(&s)?;
        }
    }
    Ok(if report.needs_action() {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
