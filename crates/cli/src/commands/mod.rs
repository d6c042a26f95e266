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
mod render;
mod rightsize;
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
    match cli.command {
        Command::Fit(a) => match kind::diffusion(a.dep.model.as_deref()) {
            Some(m) => diffusion::run_fit(&catalog, m, &a),
            None => fit::run(catalog, &a),
        },
        Command::Estimate(a) => match kind::diffusion(a.dep.model.as_deref()) {
            Some(m) => diffusion::run_estimate(&catalog, m, &a),
            None => estimate::run(catalog, &a),
        },
        Command::Catalog(c) => catalog::run(&catalog, &c),
        Command::Calibrate(a) => calibrate::run(&catalog, &a),
        Command::Plan(a) => plan::run(&catalog, &a),
        Command::Simulate(a) => simulate::run(catalog, &a),
        Command::Render(a) => render::run(&catalog, &a),
        Command::Rightsize(a) => rightsize::run(&catalog, &a),
        Command::Lint(a) => lint::run(&catalog, &a),
        Command::Validate(a) => validate::run(&catalog, &a),
    }
}
