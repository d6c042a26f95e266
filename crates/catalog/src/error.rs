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
    #[error("{origin}{}: {message}", location(*line, field.as_deref()))]
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

fn location(line: Option<u64>, field: Option<&str>) -> String {
    match (line, field) {
        (Some(l), Some(f)) => format!(":{l}: field `{f}`"),
        (Some(l), None) => format!(":{l}"),
        (None, Some(f)) => format!(": field `{f}`"),
        (None, None) => String::new(),
    }
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
