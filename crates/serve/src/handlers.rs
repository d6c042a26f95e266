//! The routes: one API endpoint per command, the OpenAPI document, the page and its assets.
//! Each endpoint decodes its request into a [`Call`] (flags from the query string or a JSON
//! body, files from the body), runs it on the blocking pool under the limits, and answers with
//! the command's JSON or an [`ApiError`].

use crate::decode::{
    cap_simulation, json_flags, looks_like_json, query_flags, query_pairs, text, workload_toml,
};
use crate::{archive, assets, ApiError, Call, Outcome, State};
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, Request, State as S};
use axum::http::{header, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use std::sync::atomic::Ordering;

/// Every route.
pub fn routes(state: State) -> Router {
    Router::new()
        .route("/", get(index))
        .route("/assets/{*name}", get(asset))
        .route("/api/openapi.json", get(openapi))
        .route("/api/fit", post(fit))
        .route("/api/estimate", post(estimate))
        .route("/api/plan", post(plan))
        .route("/api/simulate", post(simulate))
        .route("/api/render", post(render))
        .route("/api/lint", post(lint))
        .route("/api/rightsize", post(rightsize))
        .route("/api/catalog/show/{name}", get(catalog_show))
        .route("/api/catalog/{list}", get(catalog_list))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .with_state(state)
}

type Answer = Result<Response, ApiError>;
/// `(name, value)` pairs of a query string, or `(name, text)` of files.
type Pairs = Vec<(String, String)>;
/// Files and the other fields of a JSON envelope.
type Envelope = (Pairs, serde_json::Map<String, serde_json::Value>);

/// The workload file's name in a call (as the command line would be given it).
const WORKLOAD: &str = "workload.toml";
/// The plan file's name in a `render` call.
const PLAN: &str = "plan.json";

async fn index() -> Response {
    asset_response("index.html")
}

async fn asset(Path(name): Path<String>) -> Response {
    asset_response(&name)
}

async fn openapi() -> Response {
    asset_response("openapi.json")
}

/// The embedded asset `name`, or a 404 (the name is only looked up in the fixed list).
fn asset_response(name: &str) -> Response {
    match assets::get(name) {
        Some((content_type, bytes)) => (
            [
                (header::CONTENT_TYPE, content_type),
                (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            ],
            bytes,
        )
            .into_response(),
        None => ApiError::new(StatusCode::NOT_FOUND, "no such asset").into_response(),
    }
}

async fn not_found(method: Method, uri: Uri) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        format!(
            "no route {method} {}; the API is described at /api/openapi.json",
            uri.path()
        ),
    )
}

async fn method_not_allowed(method: Method, uri: Uri) -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        format!(
            "{} does not take {method}; see /api/openapi.json",
            uri.path()
        ),
    )
}

/// The request body, at most the body limit (413 past it, 408 when it takes longer than the
/// body-read limit).
async fn body(state: &State, req: Request) -> Result<Bytes, ApiError> {
    let limit = state.limits.body_bytes;
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|s| s.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(too_large(limit));
    }
    let read = axum::body::to_bytes(req.into_body(), limit);
    match tokio::time::timeout(state.limits.body_read, read).await {
        Err(_) => Err(ApiError::new(
            StatusCode::REQUEST_TIMEOUT,
            format!(
                "the body took longer than {} s to arrive",
                state.limits.body_read.as_secs_f64()
            ),
        )),
        Ok(Err(e)) => {
            let chain = format!("{e} {:?}", std::error::Error::source(&e));
            if chain.contains("length limit") {
                Err(too_large(limit))
            } else {
                Err(ApiError::new(
                    StatusCode::BAD_REQUEST,
                    format!("could not read the body: {e}"),
                ))
            }
        }
        Ok(Ok(b)) => Ok(b),
    }
}

fn too_large(limit: usize) -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        format!("the body is larger than this server's limit of {limit} bytes"),
    )
}

/// Runs `call` on the blocking pool: waits for a slot (503 when the queue is full or the wait
/// is too long), then computes (503 past the time limit; the computation finishes in the
/// background holding its slot, so the pool never runs more than its concurrency).
async fn execute(state: &State, call: Call) -> Result<Outcome, ApiError> {
    struct Waiting<'a>(&'a std::sync::atomic::AtomicUsize);
    impl Drop for Waiting<'_> {
        fn drop(&mut self) {
            self.0.fetch_sub(1, Ordering::SeqCst);
        }
    }
    let limits = &state.limits;
    let queued = state.waiting.fetch_add(1, Ordering::SeqCst);
    let waiting = Waiting(&state.waiting);
    if queued >= limits.queue {
        return Err(busy(format!(
            "the server is busy ({queued} requests waiting); retry later"
        )));
    }
    let permit = match tokio::time::timeout(
        limits.queue_wait,
        state.permits.clone().acquire_owned(),
    )
    .await
    {
        Ok(Ok(p)) => p,
        _ => {
            return Err(busy(format!(
                "the server is busy (no slot within {} s); retry later",
                limits.queue_wait.as_secs_f64()
            )))
        }
    };
    drop(waiting);
    let backend = state.backend.clone();
    let task = tokio::task::spawn_blocking(move || {
        let _permit = permit;
        backend.run(&call)
    });
    match tokio::time::timeout(limits.compute, task).await {
        Err(_) => Err(busy(format!(
            "the request took longer than this server's limit of {} s",
            limits.compute.as_secs_f64()
        ))),
        Ok(Err(_)) => Err(ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "the command failed unexpectedly",
        )),
        Ok(Ok(outcome)) => Ok(outcome),
    }
}

fn busy(message: String) -> ApiError {
    ApiError::new(StatusCode::SERVICE_UNAVAILABLE, message)
}

/// The command's JSON answer: 200 with the exit code in `x-inferplan-exit` (1 when the answer
/// is "no"), or its error.
fn json_answer(outcome: Outcome) -> Answer {
    match outcome {
        Outcome::Json { code, body } => Ok((
            [
                (
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("application/json"),
                ),
                (
                    header::HeaderName::from_static("x-inferplan-exit"),
                    HeaderValue::from(u16::from(code)),
                ),
            ],
            body,
        )
            .into_response()),
        Outcome::Error(message) => Err(ApiError::from_command(&message)),
        Outcome::Files { .. } => Err(ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "the command answered with files",
        )),
    }
}

/// The flags of the query string, without the names in `reserved` (returned apart).
fn query(raw: Option<&str>, reserved: &[&str]) -> Result<(Vec<String>, Pairs), ApiError> {
    let pairs = query_pairs(raw.unwrap_or_default())?;
    let (special, flags): (Vec<_>, Vec<_>) = pairs
        .into_iter()
        .partition(|(k, _)| reserved.contains(&k.as_str()));
    Ok((query_flags(&flags)?, special))
}

/// A command of flags only (`fit`, `estimate`): from the query string and a JSON body.
async fn flags_command(state: State, command: &str, q: Option<String>, req: Request) -> Answer {
    let (mut args, _) = query(q.as_deref(), &[])?;
    let body = body(&state, req).await?;
    if !text(&body)?.trim().is_empty() {
        args.extend(json_flags(&body)?);
    }
    let mut all = vec![command.to_owned(), "--format=json".to_owned()];
    all.extend(args);
    json_answer(
        execute(
            &state,
            Call {
                args: all,
                files: vec![],
            },
        )
        .await?,
    )
}

async fn fit(S(state): S<State>, RawQuery(q): RawQuery, req: Request) -> Answer {
    flags_command(state, "fit", q, req).await
}

async fn estimate(S(state): S<State>, RawQuery(q): RawQuery, req: Request) -> Answer {
    flags_command(state, "estimate", q, req).await
}

/// `plan`: a workload (TOML, or its fields as JSON) in the body, flags in the query string;
/// `?format=md` answers with the architecture decision record (`plan --format md`) instead.
async fn plan(S(state): S<State>, RawQuery(q): RawQuery, req: Request) -> Answer {
    let (mut flags, special) = query(q.as_deref(), &["format"])?;
    let markdown = match special.last().map(|(_, v)| v.as_str()) {
        None | Some("json") => false,
        Some("md") => true,
        Some(other) => {
            return Err(ApiError::bad_field(
                "format",
                format!("format: `{other}` is not json or md"),
            ))
        }
    };
    cap_simulation(
        &mut flags,
        state.limits.sim_requests,
        state.limits.sim_seeds,
    )?;
    let body = body(&state, req).await?;
    let body = text(&body)?;
    let format = if markdown {
        "--format=md"
    } else {
        "--format=json"
    };
    let mut args = vec!["plan".to_owned(), format.to_owned()];
    args.extend(flags);
    let mut files = vec![];
    let json = looks_like_json(body);
    if !body.trim().is_empty() {
        files.push((WORKLOAD.to_owned(), workload_toml(body)?));
        args.push(WORKLOAD.to_owned());
    }
    let outcome = execute(&state, Call { args, files }).await?;
    match outcome {
        Outcome::Json { body, .. } if markdown => Ok((
            [
                (header::CONTENT_TYPE, "text/markdown; charset=utf-8"),
                (
                    header::CONTENT_DISPOSITION,
                    "attachment; filename=\"inferplan-plan.md\"",
                ),
            ],
            body,
        )
            .into_response()),
        other => json_answer(other).map_err(|e| from_json(e, json)),
    }
}

/// An error about a workload sent as JSON: its line is of the TOML written from it, so it
/// is left out.
fn from_json(mut e: ApiError, json: bool) -> ApiError {
    if json {
        e.line = None;
    }
    e
}

/// `simulate`: flags as a JSON body or the query string; a workload file (TOML) as the body
/// for `--workload`. Capped in requests and seeds.
async fn simulate(S(state): S<State>, RawQuery(q): RawQuery, req: Request) -> Answer {
    let (mut flags, _) = query(q.as_deref(), &[])?;
    let body = body(&state, req).await?;
    let body = text(&body)?;
    let mut files = vec![];
    if looks_like_json(body) {
        flags.extend(json_flags(body.as_bytes())?);
    } else if !body.trim().is_empty() {
        files.push((WORKLOAD.to_owned(), workload_toml(body)?));
        flags.push(format!("--workload={WORKLOAD}"));
    }
    cap_simulation(
        &mut flags,
        state.limits.sim_requests,
        state.limits.sim_seeds,
    )?;
    check_duration(&flags, state.limits.sim_duration_s)?;
    let mut args = vec!["simulate".to_owned(), "--format=json".to_owned()];
    args.extend(flags);
    json_answer(execute(&state, Call { args, files }).await?)
}

/// `--duration` at most `most` simulated seconds.
fn check_duration(flags: &[String], most: f64) -> Result<(), ApiError> {
    for f in flags {
        if let Some(v) = f.strip_prefix("--duration=") {
            if v.trim().parse::<f64>().is_ok_and(|d| d > most) {
                return Err(ApiError::bad_field(
                    "duration",
                    format!("--duration: at most {most} s on this server (got {v})"),
                ));
            }
        }
    }
    Ok(())
}

/// `render`: a plan's JSON (what `/api/plan` answers) or a workload (TOML) in the body, flags
/// in the query string; the files as JSON, or `?archive=tar.gz` as a tarball.
async fn render(S(state): S<State>, RawQuery(q): RawQuery, req: Request) -> Answer {
    let (flags, special) = query(q.as_deref(), &["archive"])?;
    let archive = match special.last().map(|(_, v)| v.as_str()) {
        None => false,
        Some("tar.gz") => true,
        Some(other) => {
            return Err(ApiError::bad_field(
                "archive",
                format!("archive: `{other}` is not a format; the one offered is tar.gz"),
            ))
        }
    };
    let body = body(&state, req).await?;
    let body = text(&body)?;
    let mut args = vec!["render".to_owned()];
    args.extend(flags);
    let files = if body.trim().is_empty() {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "give a workload (TOML) or a plan (the JSON of /api/plan) as the body",
        ));
    } else if looks_like_json(body) {
        args.push(format!("--plan={PLAN}"));
        vec![(PLAN.to_owned(), body.to_owned())]
    } else {
        args.push(WORKLOAD.to_owned());
        vec![(WORKLOAD.to_owned(), workload_toml(body)?)]
    };
    match execute(&state, Call { args, files }).await? {
        Outcome::Files { candidate, files } if archive => {
            let bytes = archive::tar_gz("inferplan-render", &files, 0)
                .map_err(|m| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, m))?;
            Ok((
                [
                    (header::CONTENT_TYPE, "application/gzip".to_owned()),
                    (
                        header::CONTENT_DISPOSITION,
                        format!("attachment; filename=\"inferplan-render-candidate-{candidate}.tar.gz\""),
                    ),
                ],
                bytes,
            )
                .into_response())
        }
        Outcome::Files { candidate, files } => {
            #[derive(serde::Serialize)]
            struct File<'a> {
                name: &'a str,
                text: &'a str,
            }
            #[derive(serde::Serialize)]
            struct Rendered<'a> {
                candidate: usize,
                files: Vec<File<'a>>,
            }
            let out = Rendered {
                candidate,
                files: files
                    .iter()
                    .map(|(name, text)| File { name, text })
                    .collect(),
            };
            let body = serde_json::to_string_pretty(&out)
                .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
            Ok(([(header::CONTENT_TYPE, "application/json")], body + "\n").into_response())
        }
        other => json_answer(other),
    }
}

/// A file name a request gives: no `..` part, no leading `/`, no control characters, not `-`
/// (standard input), at most 255 bytes.
fn file_name(name: &str) -> Result<String, ApiError> {
    let ok = !name.is_empty()
        && name.len() <= 255
        && name != "-"
        && !name.starts_with('/')
        && !name.starts_with('-')
        && !name.chars().any(char::is_control)
        && !name.split(['/', '\\']).any(|p| p == ".." || p.is_empty());
    if ok {
        Ok(name.to_owned())
    } else {
        Err(ApiError::bad_field(
            "file",
            "file: a file name is a relative path without `..`, at most 255 bytes",
        ))
    }
}

/// The files of a body: `{"files": {"name": "text", ...}}` (and `extra` fields beside it), or
/// the body itself as one file named `name`.
fn body_files(body: &str, name: String, extra: &[&str]) -> Result<Envelope, ApiError> {
    if looks_like_json(body) {
        if let Ok(serde_json::Value::Object(mut map)) = serde_json::from_str(body) {
            let envelope = map.contains_key("files")
                && map
                    .keys()
                    .all(|k| k == "files" || extra.contains(&k.as_str()));
            if envelope {
                let Some(serde_json::Value::Object(files)) = map.remove("files") else {
                    return Err(ApiError::bad_field(
                        "files",
                        "files: expected an object of file names to their text",
                    ));
                };
                let mut out = Vec::new();
                for (n, t) in files {
                    let serde_json::Value::String(t) = t else {
                        return Err(ApiError::bad_field(
                            "files",
                            format!("files: `{n}` must be the file's text, a string"),
                        ));
                    };
                    out.push((file_name(&n)?, t));
                }
                if out.is_empty() {
                    return Err(ApiError::bad_field("files", "files: no file given"));
                }
                return Ok((out, map));
            }
        }
    }
    Ok((vec![(name, body.to_owned())], serde_json::Map::new()))
}

/// `lint`: YAML (or a CloudFormation template) in the body, named by `?file=` (default
/// `manifests.yaml`), or several files as `{"files": {...}}`; `?format=sarif` for SARIF.
async fn lint(S(state): S<State>, RawQuery(q): RawQuery, req: Request) -> Answer {
    let (flags, special) = query(q.as_deref(), &["format", "file"])?;
    let mut format = "json";
    let mut name = "manifests.yaml".to_owned();
    for (k, v) in &special {
        match (k.as_str(), v.as_str()) {
            ("format", "json") => format = "json",
            ("format", "sarif") => format = "sarif",
            ("format", other) => {
                return Err(ApiError::bad_field(
                    "format",
                    format!("format: `{other}` is not json or sarif"),
                ))
            }
            (_, v) => name = file_name(v)?,
        }
    }
    let body = body(&state, req).await?;
    let body = text(&body)?;
    let (files, _) = body_files(body, name, &[])?;
    let mut args = vec!["lint".to_owned(), format!("--format={format}")];
    args.extend(flags);
    args.extend(files.iter().map(|(n, _)| n.clone()));
    json_answer(execute(&state, Call { args, files }).await?)
}

/// `rightsize`: metrics (CSV or Prometheus JSON) in the body named by `?file=`, or
/// `{"files": {...}, "workload": "TOML"}`; flags in the query string.
async fn rightsize(S(state): S<State>, RawQuery(q): RawQuery, req: Request) -> Answer {
    let (flags, special) = query(q.as_deref(), &["file"])?;
    let body = body(&state, req).await?;
    let body = text(&body)?;
    let default = if looks_like_json(body) {
        "metrics.json"
    } else {
        "metrics.csv"
    };
    let name = match special.last() {
        Some((_, v)) => file_name(v)?,
        None => default.to_owned(),
    };
    let (mut files, rest) = body_files(body, name, &["workload"])?;
    let mut args = vec!["rightsize".to_owned(), "--format=json".to_owned()];
    args.extend(flags);
    args.extend(files.iter().map(|(n, _)| n.clone()));
    if let Some(w) = rest.get("workload") {
        let serde_json::Value::String(w) = w else {
            return Err(ApiError::bad_field(
                "workload",
                "workload: expected the workload file's TOML as a string",
            ));
        };
        if files.iter().any(|(n, _)| n == WORKLOAD) {
            return Err(ApiError::bad_field(
                "files",
                format!("files: `{WORKLOAD}` is the workload's name; call the metrics otherwise"),
            ));
        }
        files.push((WORKLOAD.to_owned(), workload_toml(w)?));
        args.push(format!("--workload={WORKLOAD}"));
    }
    json_answer(execute(&state, Call { args, files }).await?)
}

/// `GET /api/catalog/{gpus,instances,models,diffusion}`, flags (`region`) in the query string.
async fn catalog_list(
    S(state): S<State>,
    Path(list): Path<String>,
    RawQuery(q): RawQuery,
) -> Answer {
    const LISTS: [&str; 4] = ["gpus", "instances", "models", "diffusion"];
    if !LISTS.contains(&list.as_str()) {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            format!(
                "no catalog list `{}`; the lists are {}, and show/{{name}}",
                list.chars()
                    .filter(|c| !c.is_control())
                    .take(64)
                    .collect::<String>(),
                LISTS.join(", ")
            ),
        ));
    }
    let (flags, _) = query(q.as_deref(), &[])?;
    let mut args = vec!["catalog".to_owned(), list, "--format=json".to_owned()];
    args.extend(flags);
    json_answer(
        execute(
            &state,
            Call {
                args,
                files: vec![],
            },
        )
        .await?,
    )
}

/// `GET /api/catalog/show/{name}`: one GPU, instance type or model.
async fn catalog_show(S(state): S<State>, Path(name): Path<String>) -> Answer {
    if name.is_empty() || name.len() > 256 || name.chars().any(char::is_control) {
        return Err(ApiError::bad_field(
            "name",
            "name: at most 256 characters, no control characters",
        ));
    }
    let args = vec![
        "catalog".to_owned(),
        "show".to_owned(),
        "--format=json".to_owned(),
        "--".to_owned(),
        name,
    ];
    json_answer(
        execute(
            &state,
            Call {
                args,
                files: vec![],
            },
        )
        .await?,
    )
}
