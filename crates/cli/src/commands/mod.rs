//! One module per subcommand.

mod calibrate;
mod catalog;
mod deployment;
mod diffusion;
mod estimate;
mod fit;
mod lint;
mod plan;
mod plan_diffusion;
mod render;
mod rightsize;
mod simulate;
mod validate;

use crate::args::{Cli, Command};
use inferplan_catalog::Catalog;
use std::process::ExitCode;

/// Runs the parsed command and returns its exit code.
pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let catalog = Catalog::load(cli.catalog_dir.as_deref())?;
    match cli.command {
        Command::Fit(a) => fit::run(catalog, &a),
        Command::Catalog(c) => catalog::run(&catalog, &c),
        Command::Estimate(a) => estimate::run(catalog, &a),
        Command::Calibrate(a) => calibrate::run(&catalog, &a),
        Command::Plan(a) => plan::run(&catalog, &a),
        Command::Simulate(a) => simulate::run(catalog, &a),
        Command::Render(a) => render::run(&catalog, &a),
        Command::Rightsize(a) => rightsize::run(&catalog, &a),
        Command::Lint(a) => lint::run(&catalog, &a),
        Command::Validate(a) => validate::run(&catalog, &a),
    }
}
