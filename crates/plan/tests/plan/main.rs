//! The test binary of `inferplan-plan`: one module per area, shared fixtures in `common`.

#[path = "../../../../tests/support.rs"]
mod support;

mod common;
mod diffusion;
mod findings;
mod search;
mod workload;
