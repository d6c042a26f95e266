//! `inferplan lint`: GPU-inference mistakes in Kubernetes manifests.

use crate::args::{LintArgs, LintFormat};
use crate::output::{emit, emit_json, error};
use inferplan_catalog::Catalog;
use inferplan_deploy::lint::{all, has_errors, lint_each, sarif, text, Linted};
use inferplan_deploy::yaml::collect_each;
use std::process::ExitCode;

/// Runs `lint`. A file that cannot be read or parsed does not stop the others: their findings
/// are printed, then one `error:` line per unreadable file, and the exit code is 2.
pub fn run(c: &Catalog, a: &LintArgs) -> anyhow::Result<ExitCode> {
    let LintArgs { paths, format } = a;
    let (files, mut unreadable): (_, Vec<anyhow::Error>) = match crate::input::request_files(paths)
    {
        Some((files, missing)) => (files, missing.into_iter().map(anyhow::Error::msg).collect()),
        None => {
            let (files, unreadable) = collect_each(paths);
            (
                files,
                unreadable.into_iter().map(anyhow::Error::from).collect(),
            )
        }
    };
    let Linted {
        findings,
        malformed,
    } = lint_each(&files, c, &all())?;
    let linted = files.len() - malformed.len();
    let total = files.len() + unreadable.len();
    unreadable.extend(malformed.into_iter().map(anyhow::Error::from));
    match format {
        LintFormat::Json => emit_json(&findings)?,
        LintFormat::Sarif => emit_json(&sarif(&findings, &all()))?,
        LintFormat::Text => emit(&text(&findings))?,
    }
    if let Some(last) = unreadable.pop() {
        for e in &unreadable {
            error(&format!("error: {e}\n"));
        }
        return Err(anyhow::anyhow!("{last} ({linted} of {total} files linted)"));
    }
    Ok(if has_errors(&findings) {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
