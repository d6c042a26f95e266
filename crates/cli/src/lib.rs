//! The `inferplan` command as a library: [`main_with`] parses arguments, runs the command and
//! maps the outcome to an exit code (0 ok, 1 the answer is "no", 2 usage or input error).
//! `main.rs` calls it with the process's arguments; tests call it in-process with
//! [`output::capture`] to drive every entry point with arbitrary input.

pub mod api;
mod args;
mod commands;
mod input;
pub mod output;

use clap::{CommandFactory, FromArgMatches};
use std::ffi::OsString;
use std::process::ExitCode;

/// Runs `inferplan` with `args` (the first is the program name) and returns its exit code.
/// Answers go to standard output (or to the [`output::capture`] buffer), errors to standard
/// error as one line `error: ...`.
pub fn main_with<I, T>(args: I) -> u8
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    match parse(args) {
        Ok(cli) => exit_code(commands::run(cli)),
        Err(code) => code,
    }
}

/// The parsed arguments, or clap's exit code with its message written.
fn parse<I, T>(args: I) -> Result<args::Cli, u8>
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    // A negative number is a value (`--rate-rps -1` is out of range), not an unknown flag.
    let command = args::Cli::command().mut_subcommands(|c| c.allow_negative_numbers(true));
    command
        .try_get_matches_from(args)
        .and_then(|m| args::Cli::from_arg_matches(&m))
        .map_err(|e| output::clap_message(&e))
}

/// The exit code of a command's outcome, its error written as one line.
fn exit_code(outcome: anyhow::Result<ExitCode>) -> u8 {
    match outcome {
        Ok(code) if code == ExitCode::SUCCESS => 0,
        Ok(_) => 1,
        Err(e) => {
            let msg = format!("{e:#}").replace('\n', " ");
            output::error(&format!("error: {msg}\n"));
            2
        }
    }
}
