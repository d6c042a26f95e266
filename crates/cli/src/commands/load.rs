//! Reading the files several commands take: the efficiency parameters (`--params`) and LLM
//! workload files (`render`, `rightsize --workload`).

use crate::args::ParamsArg;
use anyhow::{bail, Context as _};
use inferplan_perf::EfficiencyTable;
use inferplan_plan::diffusion::diffusion_sign;
use inferplan_plan::Workload;
use std::path::Path;

/// The efficiency table of `--params`, or the embedded one.
pub fn efficiency(a: &ParamsArg) -> anyhow::Result<EfficiencyTable> {
    let ParamsArg { params } = a;
    Ok(match params {
        Some(p) => {
            let text = crate::input::read_to_string(p).with_context(|| p.display().to_string())?;
            EfficiencyTable::parse(&text, &p.display().to_string())?
        }
        None => EfficiencyTable::embedded()?,
    })
}

/// Loads the LLM workload of a command that takes only those (`who`: `render`, `rightsize
/// --workload`). A diffusion workload is an error that says what it is, to plan it instead,
/// and `instead` (what is not supported); the LLM reader would only say "unknown field `job`".
pub fn llm_workload(path: &Path, who: &str, instead: &str) -> anyhow::Result<Workload> {
    let read = crate::input::read_to_string(path);
    if let Ok(text) = &read {
        if let Some(sign) = diffusion_sign(text) {
            let file = path.display();
            bail!(
                "{who} supports LLM workloads; `{file}` is a diffusion workload ({sign}): plan it \
                 with `inferplan plan {file}`; {instead}"
            );
        }
    }
    match read {
        Ok(text) => Ok(Workload::from_file_text(path, &text)?),
        // The reader's own error, naming the file.
        Err(_) if !crate::input::in_sandbox() => Ok(Workload::load(path)?),
        Err(e) => Err(anyhow::anyhow!("{}: {e}", path.display())),
    }
}
