//! Bad input and overload each get the designed status and message, never a panic: malformed
//! JSON, wrong types, refused flags, huge and slow bodies, path traversal on the asset route,
//! unknown routes, a full queue and a computation past its time limit.

use crate::http::{raw, request, shared, start, start_with};
use inferplan_serve::{Backend, Call, Limits, Outcome};
use std::io::Write;
use std::net::TcpStream;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Asserts a JSON error answer with `status` whose message contains `needle`; returns it.
fn error(reply: &crate::http::Reply, status: u16, needle: &str) -> serde_json::Value {
    assert_eq!(
        reply.status,
        status,
        "{}",
        String::from_utf8_lossy(&reply.body)
    );
    assert_eq!(reply.header("content-type"), Some("application/json"));
    let v = reply.json();
    let message = v["error"].as_str().expect("an error message");
    assert!(message.contains(needle), "`{message}` lacks `{needle}`");
    v
}

#[test]
fn malformed_json_is_a_400_with_its_line() {
    let reply = request(
        shared(),
        "POST",
        "/api/fit",
        b"{\n\"model\": \"llama-3.1-8b\",\n\"gpu\": }",
    );
    let v = error(&reply, 400, "not valid JSON");
    assert_eq!(v["line"], 3);
    let reply = request(shared(), "POST", "/api/plan", b"{\"model\": ");
    error(&reply, 400, "not valid JSON");
    let reply = request(shared(), "POST", "/api/fit", b"[\"--model\", \"x\"]");
    error(&reply, 400, "JSON object of flags");
    let reply = request(shared(), "POST", "/api/fit", &[0xff, 0xfe, 0x00]);
    error(&reply, 400, "not UTF-8");
}

#[test]
fn wrong_types_name_the_field() {
    let reply = request(
        shared(),
        "POST",
        "/api/fit",
        br#"{"model": {"name": "x"}, "gpu": "H100"}"#,
    );
    assert_eq!(
        error(&reply, 400, "expected a string, number")["field"],
        "model"
    );
    let reply = request(
        shared(),
        "POST",
        "/api/fit",
        br#"{"model": "llama-3.1-8b", "gpu": "H100", "tp": "two"}"#,
    );
    assert_eq!(error(&reply, 400, "--tp")["field"], "tp");
    let reply = request(
        shared(),
        "POST",
        "/api/estimate",
        br#"{"model": "llama-3.1-8b", "gpu": "H100", "concurrency": 1e9}"#,
    );
    assert_eq!(error(&reply, 400, "--concurrency")["field"], "concurrency");
    let reply = request(
        shared(),
        "POST",
        "/api/fit",
        br#"{"modle": "llama-3.1-8b", "gpu": "H100"}"#,
    );
    assert_eq!(error(&reply, 400, "--modle")["field"], "modle");
    // A workload field of the wrong type, sent as JSON: the field, no line of generated TOML.
    let reply = request(
        shared(),
        "POST",
        "/api/plan",
        br#"{"model": {"name": "llama-3.1-8b"}, "traffic": {"rate_rps": "fast"}}"#,
    );
    let v = error(&reply, 400, "rate_rps");
    assert_eq!(v["field"], "traffic.rate_rps");
    assert!(v.get("line").is_none(), "{v}");
}

#[test]
fn flags_naming_server_files_are_refused() {
    for (path, body) in [
        (
            "/api/fit",
            r#"{"model-config": "/etc/passwd", "gpu": "H100"}"#,
        ),
        ("/api/plan?params=/etc/passwd", ""),
        (
            "/api/simulate",
            r#"{"trace": "/etc/passwd", "model": "llama-3.1-8b", "gpu": "H100"}"#,
        ),
        ("/api/render?out=/tmp/x", "name = \"x\""),
        ("/api/fit?catalog_dir=/", ""),
        ("/api/fit", r#"{"help": true}"#),
    ] {
        let reply = request(shared(), "POST", path, body.as_bytes());
        error(&reply, 400, "not taken by the API");
    }
    let reply = request(
        shared(),
        "POST",
        "/api/plan",
        b"[model]\nname = \"llama-3.1-8b\"\n[lengths]\ntrace = \"/etc/passwd\"\n",
    );
    assert_eq!(
        error(&reply, 400, "reads no file")["field"],
        "lengths.trace"
    );
    let reply = request(
        shared(),
        "POST",
        "/api/lint?file=../../etc/passwd",
        b"a: 1\n",
    );
    error(&reply, 400, "relative path");
    let reply = request(shared(), "POST", "/api/lint?file=-", b"a: 1\n");
    error(&reply, 400, "relative path");
}

#[test]
fn simulations_are_capped() {
    let base = r#""model": "llama-3.1-8b", "gpu": "H100", "rate_rps": 2"#;
    let reply = request(
        shared(),
        "POST",
        "/api/simulate",
        format!("{{{base}, \"max_sim_requests\": 100000000}}").as_bytes(),
    );
    assert_eq!(
        error(&reply, 400, "at most 1000000")["field"],
        "max_sim_requests"
    );
    let reply = request(
        shared(),
        "POST",
        "/api/simulate",
        format!("{{{base}, \"seeds\": 64}}").as_bytes(),
    );
    assert_eq!(error(&reply, 400, "at most 8")["field"], "seeds");
    let reply = request(
        shared(),
        "POST",
        "/api/simulate",
        format!("{{{base}, \"duration\": 1e7}}").as_bytes(),
    );
    assert_eq!(error(&reply, 400, "at most 86400")["field"], "duration");
    // Past the cap through rate × duration: the simulator's own ceiling, at the server's value.
    let reply = request(
        shared(),
        "POST",
        "/api/simulate",
        format!("{{{base}, \"rate_rps\": 100, \"duration\": 86400}}").as_bytes(),
    );
    error(&reply, 400, "1000000");
}

#[test]
fn bodies_over_the_limit_are_a_413() {
    let small = start(Limits {
        body_bytes: 4096,
        ..Limits::default()
    });
    let reply = request(small, "POST", "/api/plan", &vec![b'#'; 5000]);
    error(&reply, 413, "4096 bytes");
    // Without a length given (chunked): cut at the limit all the same.
    let mut chunked = b"POST /api/lint HTTP/1.1\r\nHost: x\r\nConnection: close\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
    for _ in 0..10 {
        chunked.extend_from_slice(b"400\r\n");
        chunked.extend_from_slice(&[b'#'; 0x400]);
        chunked.extend_from_slice(b"\r\n");
    }
    chunked.extend_from_slice(b"0\r\n\r\n");
    error(&raw(small, &chunked), 413, "4096 bytes");
    // The default limit is 1 MiB.
    let reply = request(shared(), "POST", "/api/lint", &vec![b'#'; (1 << 20) + 1]);
    error(&reply, 413, "1048576 bytes");
}

#[test]
fn a_slow_body_is_cut_off_with_a_408() {
    let addr = start(Limits {
        body_read: Duration::from_millis(500),
        ..Limits::default()
    });
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let started = Instant::now();
    s.write_all(b"POST /api/plan HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: 1000\r\n\r\n[model]\n").unwrap();
    // A byte now and then, never the whole body.
    for _ in 0..3 {
        std::thread::sleep(Duration::from_millis(200));
        if s.write_all(b"#").is_err() {
            break;
        }
    }
    let reply = crate::http::read_reply(&mut s);
    error(&reply, 408, "longer than 0.5 s");
    assert!(started.elapsed() < Duration::from_secs(10));
}

#[test]
fn a_slow_request_head_is_cut_off() {
    let addr = start(Limits {
        body_read: Duration::from_millis(500),
        ..Limits::default()
    });
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let started = Instant::now();
    s.write_all(b"GET /api/catalog/gpus HTTP/1.1\r\nHost: x\r\n")
        .unwrap();
    // The head never ends: the server closes the connection (with a 408 or without a word).
    let mut got = Vec::new();
    let _ = std::io::Read::read_to_end(&mut s, &mut got);
    let elapsed = started.elapsed();
    assert!(
        elapsed >= Duration::from_millis(400) && elapsed < Duration::from_secs(10),
        "{elapsed:?}"
    );
    let text = String::from_utf8_lossy(&got);
    assert!(got.is_empty() || text.starts_with("HTTP/1.1 408"), "{text}");
}

#[test]
fn path_traversal_on_assets_finds_nothing() {
    for path in [
        "/assets/../../../../etc/passwd",
        "/assets/..%2f..%2f..%2fetc%2fpasswd",
        "/assets/%2e%2e/%2e%2e/Cargo.toml",
        "/assets/index.html/../../Cargo.toml",
        "/assets/./index.html",
        "/assets//etc/passwd",
        "/assets/src/lib.rs",
        "/assets/..\\..\\Cargo.toml",
    ] {
        let reply = raw(
            shared(),
            format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").as_bytes(),
        );
        assert_eq!(
            reply.status,
            404,
            "{path}: {}",
            String::from_utf8_lossy(&reply.body)
        );
        let body = String::from_utf8_lossy(&reply.body);
        assert!(
            !body.contains("root:") && !body.contains("[workspace]"),
            "{path}: {body}"
        );
    }
    let reply = request(shared(), "GET", "/assets/index.html", b"");
    assert_eq!(reply.status, 200);
    assert_eq!(
        reply.header("content-type"),
        Some("text/html; charset=utf-8")
    );
    let page = request(shared(), "GET", "/", b"");
    assert_eq!(page.body, reply.body);
}

#[test]
fn unknown_routes_and_methods_are_named() {
    error(
        &request(shared(), "GET", "/api/nope", b""),
        404,
        "no route GET /api/nope",
    );
    error(
        &request(shared(), "POST", "/nope/../api/plan", b""),
        404,
        "no route",
    );
    error(
        &request(shared(), "GET", "/api/plan", b""),
        405,
        "/api/plan does not take GET",
    );
    error(
        &request(shared(), "DELETE", "/api/catalog/gpus", b""),
        405,
        "does not take DELETE",
    );
    error(
        &request(shared(), "GET", "/api/catalog/tpus", b""),
        404,
        "no catalog list `tpus`",
    );
    error(
        &request(shared(), "POST", "/api/render", b""),
        400,
        "give a workload",
    );
    error(
        &request(shared(), "POST", "/api/render?archive=zip", b"x = 1"),
        400,
        "tar.gz",
    );
    error(
        &request(shared(), "POST", "/api/lint?format=xml", b"a: 1"),
        400,
        "json or sarif",
    );
    let v = request(shared(), "GET", "/api/openapi.json", b"").json();
    assert!(v["openapi"].as_str().unwrap().starts_with("3."));
}

#[test]
fn every_path_of_the_openapi_document_is_routed() {
    let v = request(shared(), "GET", "/api/openapi.json", b"").json();
    let paths = v["paths"].as_object().unwrap();
    assert!(paths.len() >= 12);
    for (path, methods) in paths {
        let concrete = path.replace("{list}", "gpus").replace(
            "{name}",
            if path.starts_with("/assets") {
                "index.html"
            } else {
                "H100"
            },
        );
        for method in methods.as_object().unwrap().keys() {
            let method = method.to_ascii_uppercase();
            // An empty body: every route answers, with its answer or its own refusal.
            let reply = request(shared(), &method, &concrete, b"");
            let text = String::from_utf8_lossy(&reply.body);
            let unrouted = text.contains("no route") || text.contains("does not take");
            assert!(!unrouted, "{method} {concrete}: {} {text}", reply.status);
        }
    }
}

/// A backend that takes `delay` per call and answers `{}`.
struct Slow(Duration);

impl Backend for Slow {
    fn run(&self, _: &Call) -> Outcome {
        std::thread::sleep(self.0);
        Outcome::Json {
            code: 0,
            body: "{}\n".to_owned(),
        }
    }
}

#[test]
fn past_the_time_limit_is_a_503() {
    let addr = start_with(
        Arc::new(Slow(Duration::from_millis(1500))),
        Limits {
            compute: Duration::from_millis(300),
            ..Limits::default()
        },
    );
    let reply = request(addr, "POST", "/api/fit", b"");
    error(&reply, 503, "longer than this server's limit of 0.3 s");
}

#[test]
fn a_full_queue_answers_503_at_once() {
    let addr = start_with(
        Arc::new(Slow(Duration::from_millis(800))),
        Limits {
            concurrency: 1,
            queue: 2,
            queue_wait: Duration::from_secs(30),
            ..Limits::default()
        },
    );
    let replies: Vec<_> = (0..8)
        .map(|_| std::thread::spawn(move || request(addr, "POST", "/api/fit", b"")))
        .collect::<Vec<_>>()
        .into_iter()
        .map(|h| h.join().unwrap())
        .collect();
    let ok = replies.iter().filter(|r| r.status == 200).count();
    let busy: Vec<_> = replies.iter().filter(|r| r.status == 503).collect();
    assert_eq!(ok + busy.len(), 8);
    // One computing and two waiting get through; the rest are turned away.
    assert!(ok >= 3 && !busy.is_empty(), "{ok} ok, {} busy", busy.len());
    for r in busy {
        error(r, 503, "busy");
    }
    // A wait past queue_wait is a 503 too.
    let addr = start_with(
        Arc::new(Slow(Duration::from_millis(1500))),
        Limits {
            concurrency: 1,
            queue_wait: Duration::from_millis(200),
            ..Limits::default()
        },
    );
    let first = std::thread::spawn(move || request(addr, "POST", "/api/fit", b""));
    std::thread::sleep(Duration::from_millis(300));
    error(
        &request(addr, "POST", "/api/fit", b""),
        503,
        "no slot within 0.2 s",
    );
    assert_eq!(first.join().unwrap().status, 200);
}
