//! The `inferplan` command (see [`inferplan::main_with`]).

use std::process::ExitCode;

fn main() -> ExitCode {
    ExitCode::from(inferplan::main_with(std::env::args_os()))
}
