//! The API's errors: `{"error": message, "field": name?, "line": n?}` with a status.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

/// An error answer. `error` is the command line's message (what it prints after `error: `),
/// `field` and `line` are set when the message names them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ApiError {
    /// The HTTP status.
    #[serde(skip)]
    pub status: StatusCode,
    /// The message.
    pub error: String,
    /// The field or flag at fault, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// The line of the input at fault, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<u64>,
}

impl ApiError {
    /// An error with `status` and `message`, no field or line.
    pub fn new(status: StatusCode, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            error: message.into(),
            field: None,
            line: None,
        }
    }

    /// 400 Bad Request naming `field`.
    pub fn bad_field(field: &str, message: impl Into<String>) -> ApiError {
        ApiError {
            field: Some(field.to_owned()),
            ..ApiError::new(StatusCode::BAD_REQUEST, message)
        }
    }

    /// The error of a command's message (exit code 2): 404 when it names something the
    /// catalog does not have, 400 otherwise; the field and line parsed from the message's
    /// `origin:line: field `name`: ...` or `--flag` forms.
    pub fn from_command(message: &str) -> ApiError {
        let unknown = is_unknown_name(message);
        ApiError {
            status: if unknown {
                StatusCode::NOT_FOUND
            } else {
                StatusCode::BAD_REQUEST
            },
            error: message.to_owned(),
            field: field_of(message),
            line: line_of(message),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status;
        let body = serde_json::to_string(&self).unwrap_or_else(|_| "{}".to_owned());
        (
            status,
            [(axum::http::header::CONTENT_TYPE, "application/json")],
            body + "\n",
        )
            .into_response()
    }
}

/// Whether a command's message says a name is not in the catalog (the catalog's "unknown
/// model `x`" and "did you mean" forms).
fn is_unknown_name(message: &str) -> bool {
    // The catalog's `CatalogError::Unknown`: "unknown {kind} `{name}`[; did you mean ...]", with
    // the kinds the catalog names things by (a precision or an engine is a bad value: 400).
    const KINDS: [&str; 6] = [
        "gpu",
        "instance",
        "model",
        "region",
        "diffusion model",
        "gpu, instance or model",
    ];
    KINDS
        .iter()
        .any(|k| message.contains(&format!("unknown {k} `")))
}

/// The field a message names: `field `name`` (the workload and catalog readers) or a flag
/// `'--name <NAME>'` / `--name:` (clap and the commands), as the flag's name.
fn field_of(message: &str) -> Option<String> {
    if let Some(i) = message.find("field `") {
        let rest = &message[i + 7..];
        return rest.find('`').map(|j| rest[..j].to_owned());
    }
    let start = message.find("--")?;
    let rest = &message[start + 2..];
    let end = rest
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '_'))
        .unwrap_or(rest.len());
    (end > 0).then(|| rest[..end].to_owned())
}

/// The line a located message names: `origin:LINE: ...`.
fn line_of(message: &str) -> Option<u64> {
    let first = message.split(": ").next()?;
    let (_, n) = first.rsplit_once(':')?;
    n.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn located_messages_give_their_line_and_field() {
        let e = ApiError::from_command("workload.toml:7: field `traffic.rate_rps`: must be > 0");
        assert_eq!(e.line, Some(7));
        assert_eq!(e.field.as_deref(), Some("traffic.rate_rps"));
        assert_eq!(e.status, StatusCode::BAD_REQUEST);
        let e = ApiError::from_command("invalid value 'x' for '--top <TOP>': not a whole number");
        assert_eq!(e.field.as_deref(), Some("top"));
        assert_eq!(e.line, None);
        let e =
            ApiError::from_command("unknown gpu, instance or model `h1000`; did you mean `H100`?");
        assert_eq!(e.status, StatusCode::NOT_FOUND);
        let e = ApiError::from_command("--model: unknown model `x`");
        assert_eq!(e.status, StatusCode::NOT_FOUND);
        let e = ApiError::from_command("unknown field `foo`, expected one of `a`");
        assert_eq!(e.status, StatusCode::BAD_REQUEST);
    }
}
