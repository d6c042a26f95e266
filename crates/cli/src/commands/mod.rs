//! One module per subcommand.

mod catalog;
mod fit;
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
        Command::Validate(a) => validate::run(&catalog, &a),
    }
}
