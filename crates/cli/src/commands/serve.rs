//! `inferplan serve`: the JSON API and the web page of `inferplan_serve`, each request run by
//! [`crate::api::Api`] over this crate's commands and the catalog loaded once at start
//! (with `--catalog-dir`'s overrides).

use crate::args::ServeArgs;
use crate::output::{emit, error};
use inferplan_catalog::Catalog;
use inferplan_serve::{is_loopback, Limits};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

/// Runs `serve` until SIGINT or SIGTERM.
pub fn run(catalog: Catalog, a: &ServeArgs) -> anyhow::Result<ExitCode> {
    let ServeArgs {
        bind,
        max_body_bytes,
        timeout_s,
        concurrency,
    } = a;
    let mut limits = Limits {
        body_bytes: usize::try_from(*max_body_bytes)?,
        compute: Duration::from_secs(*timeout_s),
        ..Limits::default()
    };
    if let Some(n) = concurrency {
        limits.concurrency = usize::try_from(*n)?;
    }
    if !is_loopback(bind) {
        error(&format!(
            "warning: listening on {bind}, reachable from other machines: the API has no \
             authentication; anyone who reaches it can run plans and simulations\n"
        ));
    }
    let backend = Arc::new(crate::api::Api::new(catalog));
    let mut shown = Ok(());
    inferplan_serve::run(*bind, backend, limits, |addr| {
        shown = emit(&format!(
            "inferplan serve: http://{addr}/ (the API at http://{addr}/api/, Ctrl-C stops)\n"
        ));
    })?;
    shown?;
    Ok(ExitCode::SUCCESS)
}
