//! Reading the files a command names. On the command line they are files on disk; under
//! `inferplan serve` ([`crate::api`]) they are the request's files, by the names the arguments
//! give them, and no other file can be read on a request's behalf.

use std::cell::RefCell;
use std::path::{Path, PathBuf};

thread_local! {
    static FILES: RefCell<Option<Vec<(String, String)>>> = const { RefCell::new(None) };
}

/// Runs `f` with `files` (`(name, text)`) as the only files this thread's commands read.
pub fn sandbox<R>(files: &[(String, String)], f: impl FnOnce() -> R) -> R {
    /// Ends the sandbox even if `f` unwinds.
    struct Reset;
    impl Drop for Reset {
        fn drop(&mut self) {
            FILES.with(|c| *c.borrow_mut() = None);
        }
    }
    FILES.with(|c| *c.borrow_mut() = Some(files.to_vec()));
    let _reset = Reset;
    f()
}

/// The request's file `path`, when in a sandbox: `Some(Ok(text))`, `Some(Err)` when the
/// request has no such file; `None` outside a sandbox.
fn sandboxed(path: &Path) -> Option<std::io::Result<String>> {
    FILES.with(|c| {
        let files = c.borrow();
        let files = files.as_ref()?;
        let name = path.to_string_lossy();
        Some(
            files
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, t)| t.clone())
                .ok_or_else(|| {
                    std::io::Error::new(
                        std::io::ErrorKind::NotFound,
                        "not among the request's files",
                    )
                }),
        )
    })
}

/// Whether this thread's commands read a request's files.
pub fn in_sandbox() -> bool {
    FILES.with(|c| c.borrow().is_some())
}

/// The text of the file at `path`.
pub fn read_to_string(path: &Path) -> std::io::Result<String> {
    sandboxed(path).unwrap_or_else(|| std::fs::read_to_string(path))
}

/// Files as `(name, text)`.
pub type Files = Vec<(String, String)>;

/// The request's files named by `paths` (`(name, text)`), and a message for each missing one;
/// `None` outside a sandbox.
pub fn request_files(paths: &[PathBuf]) -> Option<(Files, Vec<String>)> {
    if !in_sandbox() {
        return None;
    }
    let mut files = Vec::new();
    let mut missing = Vec::new();
    for p in paths {
        let name = p.display().to_string();
        match sandboxed(p) {
            Some(Ok(text)) => files.push((name, text)),
            Some(Err(e)) => missing.push(format!("{name}: {e}")),
            None => {}
        }
    }
    Some((files, missing))
}
