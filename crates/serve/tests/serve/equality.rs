//! Every endpoint against the command line's `--format json` for the same input.

use crate::http::{cli, request, shared};

/// The repository's root (examples, fixtures).
fn root() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

#[test]
fn plan_of_a_workload_file_is_the_clis_json() {
    let path = root().join("examples/chat-70b-fp8.toml");
    let toml = std::fs::read_to_string(&path).unwrap();
    let reply = request(shared(), "POST", "/api/plan", toml.as_bytes());
    assert_eq!(reply.status, 200, "{}", reply.text());
    // The CLI names the file as given; the API's file is `workload.toml`, which the plan JSON
    // does not echo.
    let (code, out, err) = cli(&["plan", path.to_str().unwrap(), "--format", "json"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(reply.text(), out);
    assert_eq!(reply.header("x-inferplan-exit"), Some("0"));
}
