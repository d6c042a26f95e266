//! The commands behind `inferplan serve`: [`Api`] runs a request's [`Call`] as the command
//! line would run its arguments, in-process, with the answer captured ([`output::capture`]) and
//! the files read from the request ([`input::sandbox`]). An answer is therefore the command
//! line's `--format json` output byte for byte, and an error its `error:` message.

use crate::{args, commands, input, output};
use inferplan_serve::{Backend, Call, Outcome};
use std::path::PathBuf;

/// Runs calls with an optional catalog override directory (`--catalog-dir` of `serve`).
#[derive(Debug, Clone, Default)]
pub struct Api {
    catalog_dir: Option<PathBuf>,
}

impl Api {
    /// Runs calls over the embedded catalog with `catalog_dir`'s overrides, if any.
    pub fn new(catalog_dir: Option<PathBuf>) -> Api {
        Api { catalog_dir }
    }
}

impl Backend for Api {
    fn run(&self, call: &Call) -> Outcome {
        let mut argv = vec!["inferplan".to_owned()];
        if let Some(dir) = &self.catalog_dir {
            argv.push(format!("--catalog-dir={}", dir.display()));
        }
        argv.extend(call.args.iter().cloned());
        let (result, out, err) = output::capture(|| input::sandbox(&call.files, || run(argv)));
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

/// Parses and runs `argv` as [`crate::main_with`] does, but `render` answers with its files.
fn run(argv: Vec<String>) -> Ran {
    let cli = match crate::parse(argv) {
        Ok(cli) => cli,
        Err(code) => return Ran::Code(code),
    };
    if let args::Command::Render(a) = &cli.command {
        let rendered = inferplan_catalog::Catalog::load(cli.catalog_dir.as_deref())
            .map_err(anyhow::Error::from)
            .and_then(|c| commands::render::rendered(&c, a));
        return match rendered {
            Ok(r) => Ran::Files(r),
            Err(e) => Ran::Code(crate::exit_code(Err(e))),
        };
    }
    if let args::Command::Serve(_) = &cli.command {
        return Ran::Code(crate::exit_code(Err(anyhow::anyhow!(
            "serve is not an API command"
        ))));
    }
    Ran::Code(crate::exit_code(commands::run(cli)))
}

/// The message of a failed command: its `error:` lines without the prefix (clap's usage text
/// after the first line left out).
fn message(stderr: &str) -> String {
    let lines: Vec<&str> = stderr
        .lines()
        .filter_map(|l| l.strip_prefix("error: "))
        .collect();
    if lines.is_empty() {
        stderr
            .lines()
            .next()
            .unwrap_or("the command failed")
            .to_owned()
    } else {
        lines.join("; ")
    }
}
