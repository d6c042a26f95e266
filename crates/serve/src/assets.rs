//! The page and its assets, embedded in the binary from `crates/serve/assets/`. The routes
//! look a name up in [`ASSETS`], a fixed list: no path from a request ever reaches the file
//! system.

/// `(name, content type, bytes)` of every asset, served at `/assets/{name}` (and `index.html`
/// at `/`).
pub const ASSETS: &[(&str, &str, &[u8])] = &[
    (
        "index.html",
        "text/html; charset=utf-8",
        include_bytes!("../assets/index.html"),
    ),
    (
        "app.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../assets/app.js"),
    ),
    (
        "style.css",
        "text/css; charset=utf-8",
        include_bytes!("../assets/style.css"),
    ),
    // The rule documents the findings link to (`docs/findings.md#...`, `docs/lint.md#...`).
    (
        "docs/findings.md",
        "text/plain; charset=utf-8",
        include_bytes!("../../../docs/findings.md"),
    ),
    (
        "docs/lint.md",
        "text/plain; charset=utf-8",
        include_bytes!("../../../docs/lint.md"),
    ),
    (
        "openapi.json",
        "application/json",
        include_bytes!("../assets/openapi.json"),
    ),
];

/// The asset called `name`, with its content type.
pub fn get(name: &str) -> Option<(&'static str, &'static [u8])> {
    ASSETS
        .iter()
        .find(|(n, _, _)| *n == name)
        .map(|(_, t, b)| (*t, *b))
}
