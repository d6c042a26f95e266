//! `inferplan serve`: a JSON API with one endpoint per command and a web page, both answered by
//! the same library calls as the command line.
//!
//! This crate is the HTTP side only: the router ([`router`]), the request decoders
//! ([`decode`]), the limits (body size, body-read time, request time, concurrency) and the error
//! model ([`ApiError`]). What a request computes is the command line's own code, reached
//! through the [`Backend`] trait: the `inferplan` crate implements it by running the command
//! in-process with `--format json` on the request's flags and files, so an answer is the CLI's
//! answer byte for byte and nothing is computed twice. (The dependency points from the binary
//! to this crate; the command code stays where it is.)

pub mod archive;
pub mod assets;
pub mod decode;
mod error;
mod handlers;
mod limits;

pub use error::ApiError;
pub use limits::Limits;

use std::net::SocketAddr;
use std::sync::Arc;

/// One command to run: its arguments after the program name (the subcommand first, flags as
/// `--name=value`, `--format` included), and the files it reads, by the names the arguments
/// use. The files are the request's; a backend reads no other file on the request's behalf.
/// `render` (which has no `--format`) answers with [`Outcome::Files`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Call {
    /// The subcommand and its arguments, e.g. `["plan", "--format=json", "workload.toml"]`.
    pub args: Vec<String>,
    /// `(name, text)` of each file the arguments name.
    pub files: Vec<(String, String)>,
}

/// What a command answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The command's JSON (its standard output) and exit code: 0, or 1 when the answer is
    /// "no" (does not fit, nothing meets the SLOs, lint found an error).
    Json {
        /// The exit code, 0 or 1.
        code: u8,
        /// Standard output.
        body: String,
    },
    /// `render`'s files, `(name, text)`, in the order written, with the candidate rendered.
    Files {
        /// The candidate rendered (1 = the plan's first).
        candidate: usize,
        /// The files.
        files: Vec<(String, String)>,
    },
    /// Exit code 2: the one-line message the CLI writes after `error: `.
    Error(String),
}

/// Runs commands for the server: implemented by the `inferplan` binary over its command code.
pub trait Backend: Send + Sync + 'static {
    /// Runs one command (on a blocking thread; it may take seconds).
    fn run(&self, call: &Call) -> Outcome;
}

/// The server's state: the backend and the limits.
#[derive(Clone)]
pub struct State {
    backend: Arc<dyn Backend>,
    limits: Arc<Limits>,
    permits: Arc<tokio::sync::Semaphore>,
    waiting: Arc<std::sync::atomic::AtomicUsize>,
}

impl State {
    /// A state running `backend` under `limits`.
    pub fn new(backend: Arc<dyn Backend>, limits: Limits) -> State {
        let permits = Arc::new(tokio::sync::Semaphore::new(limits.concurrency));
        State {
            backend,
            limits: Arc::new(limits),
            permits,
            waiting: Arc::default(),
        }
    }
}

/// The router of every route: the API under `/api/`, the page and its assets elsewhere.
pub fn router(state: State) -> axum::Router {
    handlers::routes(state)
}

/// Whether the server at `addr` is reachable only from this machine.
pub fn is_loopback(addr: &SocketAddr) -> bool {
    addr.ip().is_loopback()
}

/// Serves `router` on `listener` until `shutdown` resolves (see [`shutdown_signal`]), then
/// finishes the requests in flight and returns. A connection whose request head has not arrived within `read` is
/// closed (slow clients hold no more than a socket for that long; the body has its own limit).
pub async fn serve(
    listener: tokio::net::TcpListener,
    router: axum::Router,
    read: std::time::Duration,
    shutdown: impl std::future::Future<Output = ()>,
) -> std::io::Result<()> {
    use hyper_util::rt::{TokioIo, TokioTimer};
    use hyper_util::service::TowerToHyperService;
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let mut connections = tokio::task::JoinSet::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let stream = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                // Out of file descriptors or a connection reset before it was accepted: wait a
                // little rather than spin.
                Err(_) => {
                    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                    continue;
                }
            },
        };
        let service = TowerToHyperService::new(router.clone());
        let mut stop = stop_rx.clone();
        connections.spawn(async move {
            let mut builder = hyper::server::conn::http1::Builder::new();
            builder.timer(TokioTimer::new()).header_read_timeout(read);
            let connection = builder.serve_connection(TokioIo::new(stream), service);
            let mut connection = std::pin::pin!(connection);
            tokio::select! {
                _ = connection.as_mut() => {}
                _ = stop.changed() => {
                    connection.as_mut().graceful_shutdown();
                    let _ = connection.await;
                }
            }
        });
        while connections.try_join_next().is_some() {}
    }
    let _ = stop_tx.send(true);
    while connections.join_next().await.is_some() {}
    Ok(())
}

/// A future that resolves on SIGINT (Ctrl-C) or SIGTERM, the handlers registered now (so a
/// signal that arrives before the future is first polled is not lost, nor fatal). Needs a
/// running tokio runtime.
pub fn shutdown_signal() -> std::io::Result<impl std::future::Future<Output = ()>> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let mut interrupt = signal(SignalKind::interrupt())?;
        let mut terminate = signal(SignalKind::terminate())?;
        Ok(async move {
            tokio::select! {
                _ = interrupt.recv() => {},
                _ = terminate.recv() => {},
            }
        })
    }
    #[cfg(not(unix))]
    {
        Ok(async {
            let _ = tokio::signal::ctrl_c().await;
        })
    }
}

/// Binds `addr`, calls `ready` with the address bound (port 0 picks one), and serves
/// `backend` until SIGINT or SIGTERM on a runtime of its own.
pub fn run(
    addr: SocketAddr,
    backend: Arc<dyn Backend>,
    limits: Limits,
    ready: impl FnOnce(SocketAddr),
) -> std::io::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .max_blocking_threads(limits.concurrency.max(1))
        .build()?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(addr).await?;
        let shutdown = shutdown_signal()?;
        ready(listener.local_addr()?);
        let read = limits.body_read;
        serve(
            listener,
            router(State::new(backend, limits)),
            read,
            shutdown,
        )
        .await
    })
}
