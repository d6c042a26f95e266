//! The test binary of `inferplan-deploy`: one module per area.
//! Inputs live in `tests/fixtures/`, expected outputs in `tests/snapshots/` (see
//! `tests/support.rs` at the repository root for `UPDATE_SNAPSHOTS=1`).

#[path = "../../../../tests/planner.rs"]
mod planner;
#[path = "../../../../tests/support.rs"]
mod support;

mod cloudwatch;
mod deployed;
mod diffusion;
mod lint;
mod lmdeploy;
mod neuron;
mod render;
mod rightsize;
mod round_trip;
mod sagemaker;
mod tgi;
mod trtllm;
