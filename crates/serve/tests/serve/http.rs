//! A small HTTP/1.1 client over `std::net` for the tests (one request per connection), and a
//! server started in-process on a free loopback port.

use inferplan_serve::{Backend, Limits};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::time::Duration;

/// A server running [`inferplan::api::Api`] under `limits`, on its own thread.
pub fn start(limits: Limits) -> SocketAddr {
    start_with(Arc::new(inferplan::api::Api::default()), limits)
}

/// A server running `backend` under `limits`, on its own thread, for the rest of the test run.
pub fn start_with(backend: Arc<dyn Backend>, limits: Limits) -> SocketAddr {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let bind = "127.0.0.1:0".parse().expect("an address");
        inferplan_serve::run(bind, backend, limits, |addr| {
            tx.send(addr).expect("the test waits");
        })
        .expect("the server runs");
    });
    rx.recv_timeout(Duration::from_secs(30))
        .expect("the server starts")
}

/// The server every test shares that needs the default limits.
pub fn shared() -> SocketAddr {
    static ADDR: std::sync::OnceLock<SocketAddr> = std::sync::OnceLock::new();
    *ADDR.get_or_init(|| start(Limits::default()))
}

/// An answer: status, headers (lower-case names) and body.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Reply {
    /// The body as text.
    pub fn text(&self) -> String {
        String::from_utf8(self.body.clone()).expect("a UTF-8 body")
    }

    /// The body as JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }

    /// A header's value.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Sends `method path` with `body` and reads the whole answer.
pub fn request(addr: SocketAddr, method: &str, path: &str, body: &[u8]) -> Reply {
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    head.extend_from_slice(body);
    raw(addr, &head)
}

/// Sends raw bytes and reads the whole answer.
pub fn raw(addr: SocketAddr, bytes: &[u8]) -> Reply {
    let mut s = TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(120)))
        .expect("timeout");
    s.write_all(bytes).expect("send");
    read_reply(&mut s)
}

/// Reads an answer to the end of the connection.
pub fn read_reply(s: &mut TcpStream) -> Reply {
    let mut all = Vec::new();
    s.read_to_end(&mut all).expect("read");
    parse(&all)
}

/// Parses an HTTP/1.1 answer (a Content-Length or chunked body, or to the end).
pub fn parse(all: &[u8]) -> Reply {
    let end = all
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or_else(|| panic!("no header end in {:?}", String::from_utf8_lossy(all)));
    let head = String::from_utf8_lossy(&all[..end]).to_string();
    let mut lines = head.split("\r\n");
    let status: u16 = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|s| s.parse().ok())
        .expect("a status line");
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let mut body = all[end + 4..].to_vec();
    if headers
        .iter()
        .any(|(n, v)| n == "transfer-encoding" && v.contains("chunked"))
    {
        body = dechunk(&body);
    }
    Reply {
        status,
        headers,
        body,
    }
}

/// The body of a chunked transfer.
fn dechunk(mut b: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let Some(i) = b.windows(2).position(|w| w == b"\r\n") else {
            return out;
        };
        let size = usize::from_str_radix(String::from_utf8_lossy(&b[..i]).trim(), 16).unwrap_or(0);
        if size == 0 {
            return out;
        }
        out.extend_from_slice(&b[i + 2..i + 2 + size]);
        b = &b[i + 2 + size + 2..];
    }
}

/// The CLI's answer to `args` in-process: exit code, standard output, standard error.
pub fn cli(args: &[&str]) -> (u8, String, String) {
    let mut argv = vec!["inferplan"];
    argv.extend_from_slice(args);
    inferplan::output::capture(|| inferplan::main_with(argv))
}
