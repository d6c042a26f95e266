//! One module per subcommand, and the modules they share: `deployment` (model, hardware and
//! layout flags), `kind` (LLM or diffusion, decided once), `job` (the diffusion job flags),
//! `load` (parameter and workload files).
//!
//! A command module imports shared modules, never another command module; `fit` and
//! `estimate` for diffusion models are in `diffusion`, chosen here by [`kind`].

mod calibrate;
mod catalog;
mod deployment;
mod diffusion;
mod estimate;
mod fit;
mod job;
mod kind;
mod lint;
mod load;
mod plan;
pub(crate) mod render;
mod rightsize;
mod serve;
mod simulate;
mod validate;

use crate::args::{Cli, Command};
use inferplan_catalog::Catalog;
use std::process::ExitCode;

/// Runs the parsed command and returns its exit code.
pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let mut catalog = Catalog::load(cli.catalog_dir.as_deref())?;
    if let Some(prices) = &cli.prices {
        catalog.add_prices_file(prices)?;
    }
    if let Command::Serve(a) = &cli.command {
        return serve::run(catalog, a);
    }
    run_with(&catalog, cli)
}

/// Runs the parsed command over `catalog` (already loaded with `cli.catalog_dir`'s overrides
/// and `--prices`; `inferplan serve` loads it once). `fit`, `estimate` and `simulate` take a
/// copy of it.
pub fn run_with(catalog: &Catalog, cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Fit(a) => match kind::diffusion(a.dep.model.as_deref()) {
            Some(m) => diffusion::run_fit(catalog, m, &a),
            None => fit::run(catalog.clone(), &a),
        },
        Command::Estimate(a) => match kind::diffusion(a.dep.model.as_deref()) {
            Some(m) => diffusion::run_estimate(catalog, m, &a),
            None => estimate::run(catalog.clone(), &a),
        },
        Command::Catalog(c) => catalog::run(catalog, &c),
        Command::Calibrate(a) => calibrate::run(catalog, &a),
        Command::Plan(a) => plan::run(catalog, &a),
        Command::Simulate(a) => simulate::run(catalog.clone(), &a),
        Command::Render(a) => render::run(catalog, &a),
        Command::Rightsize(a) => rightsize::run(catalog, &a),
        Command::Lint(a) => lint::run(catalog, &a),
        Command::Validate(a) => validate::run(catalog, &a),
        Command::Serve(_) => anyhow::bail!("serve runs only from the command line"),
    }
}
