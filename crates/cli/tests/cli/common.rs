//! Helpers shared by the modules of this binary: running the built `inferplan` and naming
//! the repository's files as its arguments.

use std::process::{Command, Output};

/// Runs the built `inferplan` with `args`, without the caller's `INFERPLAN_CATALOG_DIR`.
pub fn inferplan(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_inferplan"))
        .args(args)
        .env_remove("INFERPLAN_CATALOG_DIR")
        .output()
        .expect("binary runs")
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// `path`, relative to the repository's root, as an argument.
pub fn repo_file(path: &str) -> String {
    crate::support::repo().join(path).display().to_string()
}

/// `examples/<name>` as an argument.
pub fn example(name: &str) -> String {
    crate::support::example(name).display().to_string()
}

/// `../shared/data/measured/<name>` as an argument.
pub fn measured(name: &str) -> String {
    crate::support::shared()
        .join("data/measured")
        .join(name)
        .display()
        .to_string()
}
