//! `inferplan serve` as a process: it says where it listens, answers, warns when bound beyond
//! loopback, and stops cleanly on SIGTERM and SIGINT. (The API itself is tested in
//! crates/serve/tests/serve.)

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Starts `inferplan serve` with `args` and returns it with the address it printed.
fn start(args: &[&str]) -> (Child, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_inferplan"))
        .arg("serve")
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("inferplan serve starts");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let addr = line
        .split("http://")
        .nth(1)
        .and_then(|s| s.split('/').next())
        .unwrap_or_else(|| panic!("no address in `{line}`"))
        .to_owned();
    (child, addr, line)
}

/// GET `path` from `addr`: status line and body.
fn get(addr: &str, path: &str) -> String {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    out
}

/// Sends `signal` to the child and waits (at most 20 s) for it to exit.
fn stop(mut child: Child, signal: &str) -> std::process::ExitStatus {
    let status = Command::new("kill")
        .args([signal, &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let started = Instant::now();
    loop {
        if let Some(s) = child.try_wait().unwrap() {
            return s;
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "still running after {signal}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn serve_answers_on_loopback_and_stops_on_sigterm_and_sigint() {
    for signal in ["-TERM", "-INT"] {
        let (mut child, addr, line) = start(&["--bind", "127.0.0.1:0"]);
        assert!(addr.starts_with("127.0.0.1:"), "{line}");
        let reply = get(&addr, "/api/catalog/show/H100");
        assert!(reply.starts_with("HTTP/1.1 200"), "{reply}");
        assert!(reply.contains("\"name\""), "{reply}");
        let mut err = String::new();
        let stderr = child.stderr.take().unwrap();
        let status = stop(child, signal);
        BufReader::new(stderr).read_to_string(&mut err).unwrap();
        assert!(status.success(), "{signal}: {status:?} {err}");
        assert!(!err.contains("warning"), "{err}");
    }
}

#[test]
fn serve_beyond_loopback_warns_that_there_is_no_authentication() {
    let (mut child, _, _) = start(&["--bind", "0.0.0.0:0"]);
    let stderr = child.stderr.take().unwrap();
    let status = stop(child, "-TERM");
    let mut err = String::new();
    BufReader::new(stderr).read_to_string(&mut err).unwrap();
    assert!(status.success());
    assert!(err.starts_with("warning: listening on 0.0.0.0:"), "{err}");
    assert!(err.contains("no authentication"), "{err}");
}

#[test]
fn serve_refuses_a_bad_bind_and_limits() {
    let out = crate::common::inferplan(&["serve", "--bind", "localhost"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(crate::common::stderr(&out).contains("--bind"));
    let out = crate::common::inferplan(&["serve", "--max-body-bytes", "10"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(crate::common::stderr(&out).contains("--max-body-bytes"));
}

#[test]
fn serve_answers_from_the_catalog_dir_loaded_at_start() {
    let dir = crate::support::repo().join("examples/catalog-dir");
    let (child, addr, _) = start(&[
        "--bind",
        "127.0.0.1:0",
        "--catalog-dir",
        dir.to_str().unwrap(),
    ]);
    let reply = get(&addr, "/api/catalog/show/dc1-ada4");
    let status = stop(child, "-TERM");
    assert!(reply.starts_with("HTTP/1.1 200"), "{reply}");
    assert!(reply.contains("rack 12 in dc-1"), "{reply}");
    assert!(status.success());
    // Without it, the name is unknown: a 404 with the catalog's message.
    let (child, addr, _) = start(&["--bind", "127.0.0.1:0"]);
    let reply = get(&addr, "/api/catalog/show/dc1-ada4");
    stop(child, "-TERM");
    assert!(reply.starts_with("HTTP/1.1 404"), "{reply}");
    assert!(
        reply.contains("unknown gpu, instance or model `dc1-ada4`"),
        "{reply}"
    );
}

#[test]
fn a_request_in_flight_is_answered_after_sigterm() {
    let (child, addr, _) = start(&["--bind", "127.0.0.1:0"]);
    let body = std::fs::read(crate::support::repo().join("examples/chat-70b-fp8.toml")).unwrap();
    let mut s = TcpStream::connect(&addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    write!(
        s,
        "POST /api/plan HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .unwrap();
    s.write_all(&body).unwrap();
    // The plan computes for a while in a debug build; stop the server meanwhile.
    std::thread::sleep(Duration::from_millis(30));
    let pid = child.id();
    let stopping = std::thread::spawn(move || stop(child, "-TERM"));
    let mut reply = String::new();
    s.read_to_string(&mut reply).unwrap();
    assert!(reply.starts_with("HTTP/1.1 200"), "{pid}: {reply}");
    assert!(reply.contains("\"candidates\""));
    assert!(stopping.join().unwrap().success());
}
