//! Writing answers: aligned text tables, Markdown tables and JSON.

use std::cell::RefCell;
use std::io::Write;

/// Right-aligns cells that look numeric, left-aligns the rest.
fn numeric(s: &str) -> bool {
    let t = s
        .trim_start_matches(['-', '+', '$'])
        .trim_end_matches(['%', 'x', '×']);
    !t.is_empty()
        && t.chars()
            .all(|c| c.is_ascii_digit() || c == '.' || c == ',')
}

/// Renders rows under a header as aligned text (`md` = false) or a Markdown table.
pub fn table(header: &[&str], rows: &[Vec<String>], md: bool) -> String {
    let cols = header.len();
    let mut width: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for r in rows {
        for (i, c) in r.iter().enumerate().take(cols) {
            width[i] = width[i].max(c.chars().count());
        }
    }
    let right: Vec<bool> = (0..cols)
        .map(|i| {
            rows.iter().any(|r| r.get(i).is_some_and(|c| numeric(c)))
                && rows.iter().all(|r| {
                    r.get(i)
                        .is_none_or(|c| numeric(c) || c == "-" || c.is_empty())
                })
        })
        .collect();
    let line = |cells: Vec<String>| -> String {
        let parts: Vec<String> = cells
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let pad = width[i].saturating_sub(c.chars().count());
                if right[i] {
                    format!("{}{c}", " ".repeat(pad))
                } else {
                    format!("{c}{}", " ".repeat(pad))
                }
            })
            .collect();
        if md {
            format!("| {} |", parts.join(" | "))
        } else {
            parts.join("  ").trim_end().to_owned()
        }
    };
    let mut out = vec![line(header.iter().map(|s| (*s).to_owned()).collect())];
    if md {
        out.push(format!(
            "|{}|",
            (0..cols)
                .map(|i| {
                    let dashes = "-".repeat(width[i]);
                    if right[i] {
                        format!("{dashes}-:")
                    } else {
                        format!("-{dashes}-")
                    }
                })
                .collect::<Vec<_>>()
                .join("|")
        ));
    } else {
        out.push(
            width
                .iter()
                .map(|w| "-".repeat(*w))
                .collect::<Vec<_>>()
                .join("  "),
        );
    }
    for r in rows {
        let mut cells = r.clone();
        cells.resize(cols, String::new());
        out.push(line(cells));
    }
    out.join("\n") + "\n"
}

/// What [`capture`] collected: standard output and standard error.
#[derive(Debug, Default)]
struct Captured {
    out: String,
    err: String,
}

thread_local! {
    static CAPTURE: RefCell<Option<Captured>> = const { RefCell::new(None) };
}

/// Runs `f` with this thread's answers and errors collected instead of written, and returns
/// its result with the standard output and standard error it would have written (for
/// in-process tests of the command line).
pub fn capture<R>(f: impl FnOnce() -> R) -> (R, String, String) {
    CAPTURE.with(|c| *c.borrow_mut() = Some(Captured::default()));
    let r = f();
    let got = CAPTURE.with(|c| c.borrow_mut().take()).unwrap_or_default();
    (r, got.out, got.err)
}

/// Appends to the capture buffer when one is active; false when writing for real.
fn captured(text: &str, to_err: bool) -> bool {
    CAPTURE.with(|c| match c.borrow_mut().as_mut() {
        Some(got) => {
            if to_err { &mut got.err } else { &mut got.out }.push_str(text);
            true
        }
        None => false,
    })
}

/// Writes an error message to standard error.
pub(crate) fn error(text: &str) {
    if !captured(text, true) {
        let _ = std::io::stderr().write_all(text.as_bytes());
    }
}

/// Writes clap's answer (help, version, or a usage error naming the flag) and returns its
/// exit code: 0 for help and version, 2 for errors. A bad value is one line
/// (`error: invalid value '-1' for '--rate-rps <RATE_RPS>': must be ...`).
pub(crate) fn clap_message(e: &clap::Error) -> u8 {
    use clap::error::ErrorKind;
    if !e.use_stderr() {
        if !captured(&e.to_string(), false) {
            let _ = e.print();
        }
        return 0;
    }
    if matches!(
        e.kind(),
        ErrorKind::ValueValidation | ErrorKind::InvalidValue
    ) {
        let text = e.to_string();
        error(&format!("{}\n", text.lines().next().unwrap_or_default()));
    } else if !captured(&e.to_string(), true) {
        let _ = e.print();
    }
    2
}

/// Writes text to standard output (a closed pipe is not an error).
pub fn emit(text: &str) -> anyhow::Result<()> {
    if captured(text, false) {
        return Ok(());
    }
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => Ok(other?),
    }
}

/// Writes a value as pretty JSON followed by a newline.
pub fn emit_json<T: serde::Serialize>(value: &T) -> anyhow::Result<()> {
    emit(&(serde_json::to_string_pretty(value)? + "\n"))
}

/// A number with `d` decimals, or `-` when missing.
pub fn num(v: Option<f64>, d: usize) -> String {
    v.map_or_else(|| "-".to_owned(), |x| format!("{x:.d$}"))
}

/// Progress of long work (simulations, cross-validation folds) on standard error: a bar when
/// standard error is a terminal and the answer is not JSON, nothing otherwise. Cleared when
/// dropped, so an answer or an error never follows a half-drawn bar.
pub struct Progress(Option<indicatif::ProgressBar>);

impl Progress {
    /// A bar for `what`, drawn only if `show` and standard error is a terminal.
    pub fn new(what: &str, show: bool) -> Progress {
        use std::io::IsTerminal;
        if !show || !std::io::stderr().is_terminal() {
            return Progress(None);
        }
        let bar =
            indicatif::ProgressBar::with_draw_target(None, indicatif::ProgressDrawTarget::stderr());
        bar.set_style(
            indicatif::ProgressStyle::with_template("{msg} [{bar:30}] {pos}/{len} {elapsed}")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
                .progress_chars("=> "),
        );
        bar.set_message(what.to_owned());
        Progress(Some(bar))
    }

    /// The callback of the library's parallel work: `(0, total)` at the start, then once per
    /// piece done (in any order, so it counts the calls rather than trusting `done`).
    pub fn done(&self, done: usize, total: usize) {
        if let Some(bar) = &self.0 {
            bar.set_length(total as u64);
            if done > 0 {
                bar.inc(1);
            }
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        if let Some(bar) = &self.0 {
            bar.finish_and_clear();
        }
    }
}
