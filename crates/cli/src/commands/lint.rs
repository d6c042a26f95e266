//! `inferplan lint`: GPU-inference mistakes in Kubernetes manifests.

use crate::args::{LintArgs, LintFormat};
use crate::output::{emit, emit_json};
use inferplan_catalog::Catalog;
use inferplan_deploy::lint::{all, has_errors, lint, sarif, text};
use inferplan_deploy::yaml::collect;
use std::process::ExitCode;

/// Runs `lint`.
pub fn run(c: &Catalog, a: &LintArgs) -> anyhow::Result<ExitCode> {
    let LintArgs { paths, format } = a;
    let files = collect(paths)?;
    let findings = lint(&files, c)?;
    match format {
        LintFormat::Json => emit_json(&findings)?,
        LintFormat::Sarif => emit_json(&sarif(&findings, &all()))?,
        LintFormat::Text => emit(&text(&findings))?,
    }
    Ok(if has_errors(&findings) {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
