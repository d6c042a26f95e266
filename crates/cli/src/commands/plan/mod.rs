//! `inferplan plan`: the cheapest deployments that keep a workload's SLOs. The workload file
//! is read once and the model kind decided once ([`Kind::of`]); `llm` and `diffusion` each
//! plan and print one kind, with the text both print in `text` and the flags both apply in
//! `overrides`.

mod diffusion;
mod llm;
mod many;
mod overrides;
mod text;

use crate::args::PlanArgs;
use crate::commands::kind::Kind;
use anyhow::Context as _;
use inferplan_catalog::Catalog;
use std::process::ExitCode;

/// A workload file as read: where it came from (for located errors) and its text.
pub struct WorkloadFile {
    /// The path.
    pub path: std::path::PathBuf,
    /// The path as shown in errors.
    pub origin: String,
    /// The TOML text.
    pub text: String,
}

/// Runs `plan`.
pub fn run(c: &Catalog, a: &PlanArgs) -> anyhow::Result<ExitCode> {
    let file = match &a.workload {
        Some(path) => {
            let origin = path.display().to_string();
            let text = crate::input::read_to_string(path).with_context(|| origin.clone())?;
            Some(WorkloadFile {
                path: path.clone(),
                origin,
                text,
            })
        }
        None => None,
    };
    let text = file.as_ref().map(|f| f.text.as_str());
    match Kind::of(a.model.as_deref(), text) {
        Kind::Diffusion => diffusion::run(c, a, file.as_ref()),
        Kind::Llm => llm::run(c, a, file.as_ref()),
    }
}
