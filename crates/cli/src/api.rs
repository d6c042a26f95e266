//! The commands behind `inferplan serve`: [`Api`] runs a request's [`Call`] as the command
//! line would run its arguments, in-process, with the answer captured ([`output::capture`]) and
//! the files read from the request ([`input::sandbox`]). An answer is therefore the command
//! line's `--format json` output byte for byte, and an error its `error:` message.

use crate::{args, commands, input, output};
use inferplan_catalog::Catalog;
use inferplan_serve::{Backend, Call, Outcome};
use std::sync::Arc;

/// Runs calls over a catalog loaded once (the embedded one with `serve`'s `--catalog-dir`
/// overrides).
#[derive(Debug, Clone)]
pub struct Api {
    catalog: Arc<Catalog>,
}

impl Default for Api {
    /// Over the embedded catalog.
    fn default() -> Api {
        Api {
            catalog: Arc::new(Catalog::embedded().expect("the embedded catalog reads")),
        }
    }
}

impl Api {
    /// Runs calls over `catalog`.
    pub fn new(catalog: Catalog) -> Api {
        Api {
            catalog: Arc::new(catalog),
        }
    }
}

impl Backend for Api {
    fn run(&self, call: &Call) -> Outcome {
        let mut argv = vec!["inferplan".to_owned()];
        argv.extend(call.args.iter().cloned());
        if call.args.first().is_some_and(|c| c == "render") {
            // Required by the command line; `rendered` writes nothing, so it is never read.
            argv.push("--out=.".to_owned());
        }
        let (result, out, err) =
            output::capture(|| input::sandbox(&call.files, || run(&self.catalog, argv)));
        match result {
            Ran::Code(code @ (0 | 1)) => Outcome::Json { code, body: out },
            Ran::Files(r) => Outcome::Files {
                candidate: r.candidate,
                files: r.files,
            },
            Ran::Code(_) => Outcome::Error(message(&err)),
        }
    }
}

/// How a call ended.
enum Ran {
    /// The exit code of a command.
    Code(u8),
    /// `render`'s files.
    Files(commands::render::Rendered),
}

/// Parses and runs `argv` over `catalog` as [`crate::main_with`] does, but `render` answers
/// with its files.
fn run(catalog: &Catalog, argv: Vec<String>) -> Ran {
    let cli = match crate::parse(argv) {
        Ok(cli) => cli,
        Err(code) => return Ran::Code(code),
    };
    match &cli.command {
        args::Command::Render(a) => match commands::render::rendered(catalog, a) {
            Ok(r) => Ran::Files(r),
            Err(e) => Ran::Code(crate::exit_code(Err(e))),
        },
        _ => Ran::Code(crate::exit_code(commands::run_with(catalog, cli))),
    }
}

/// The message of a failed command: its `error:` lines without the prefix, each with the
/// indented lines under it (clap's list of missing arguments), joined by `; ` (clap's tips and
/// usage text after a blank line left out).
fn message(stderr: &str) -> String {
    let mut messages: Vec<String> = Vec::new();
    let mut open = false;
    for line in stderr.lines() {
        if let Some(m) = line.strip_prefix("error: ") {
            messages.push(m.trim().to_owned());
            open = true;
        } else if line.trim().is_empty() {
            open = false;
        } else if open && line.starts_with(' ') {
            if let Some(last) = messages.last_mut() {
                last.push(' ');
                last.push_str(line.trim());
            }
        }
    }
    if messages.is_empty() {
        stderr
            .lines()
            .next()
            .unwrap_or("the command failed")
            .to_owned()
    } else {
        messages.join("; ")
    }
}
