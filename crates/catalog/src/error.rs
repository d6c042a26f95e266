//! Errors of the catalog crate: every one names the file, line or field it is about.

use std::path::PathBuf;

/// Everything that can go wrong while loading or querying the catalog.
#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    /// A file could not be read.
    #[error("{path}: {error}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error (kept out of the error chain so that it prints once).
        error: std::io::Error,
    },
    /// A value in a file is malformed or impossible.
    #[error("{}", located(.origin, *.line, .field.as_deref(), .message))]
    Invalid {
        /// File name (or `embedded:NAME` for the built-in data).
        origin: String,
        /// 1-based line number, when known.
        line: Option<u64>,
        /// Column or JSON field, when known.
        field: Option<String>,
        /// What is wrong.
        message: String,
    },
    /// A name that is not in the catalog.
    #[error("unknown {kind} `{name}`{}", suggest(suggestions))]
    Unknown {
        /// `gpu`, `instance`, `model` or `region`.
        kind: &'static str,
        /// What the user asked for.
        name: String,
        /// The closest names in the catalog.
        suggestions: Vec<String>,
    },
}

/// The one-line form of every located input error (catalog files, workloads, traces, metrics):
/// ``origin:line: field `name`: message``, with the line and the field left out when unknown.
pub fn located(origin: &str, line: Option<u64>, field: Option<&str>, message: &str) -> String {
    let mut s = origin.to_owned();
    if let Some(l) = line {
        s.push_str(&format!(":{l}"));
    }
    s.push_str(": ");
    if let Some(f) = field {
        s.push_str(&format!("field `{f}`: "));
    }
    s.push_str(message);
    s
}

fn suggest(s: &[String]) -> String {
    match s {
        [] => String::new(),
        [one] => format!("; did you mean `{one}`?"),
        many => format!(
            "; did you mean one of: {}?",
            many.iter()
                .map(|s| format!("`{s}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

impl CatalogError {
    /// Builds an [`CatalogError::Invalid`].
    pub fn invalid(
        origin: impl Into<String>,
        line: Option<u64>,
        field: Option<&str>,
        message: impl Into<String>,
    ) -> Self {
        CatalogError::Invalid {
            origin: origin.into(),
            line,
            field: field.map(str::to_owned),
            message: message.into(),
        }
    }
}

/// A piece of user input quoted in an error message: control characters escaped, at most 40
/// characters (then `…`), so that a bad cell or flag cannot break the one-line error.
pub fn shown(text: &str) -> String {
    let mut out = String::new();
    for (i, c) in text.chars().enumerate() {
        if i == 40 {
            out.push('…');
            break;
        }
        if c.is_control() {
            out.extend(c.escape_debug());
        } else {
            out.push(c);
        }
    }
    out
}

/// Result alias of this crate.
pub type Result<T, E = CatalogError> = std::result::Result<T, E>;
