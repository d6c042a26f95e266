//! The test binary of the `inferplan` command: one module per area, shared helpers in
//! `common`. Expected outputs live in `tests/snapshots/` (see `tests/support.rs` at the
//! repository root for `UPDATE_SNAPSHOTS=1`).

#[path = "../../../../tests/support.rs"]
mod support;

mod architecture;
mod commands;
mod common;
mod deploy_edges;
mod docs;
mod hard_edges;
mod pinned;
mod serve;
mod simulate_deploy;
