//! The `inferplan` command: parse the arguments, run the command, map the outcome to an exit
//! code (0 ok, 1 the answer is "no", 2 usage or input error).

mod args;
mod commands;
mod output;

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = args::Cli::parse();
    match commands::run(cli) {
        Ok(code) => code,
        Err(e) => {
            let msg = format!("{e:#}").replace('\n', " ");
            let _ = std::io::Write::write_all(
                &mut std::io::stderr(),
                format!("error: {msg}\n").as_bytes(),
            );
            ExitCode::from(2)
        }
    }
}
