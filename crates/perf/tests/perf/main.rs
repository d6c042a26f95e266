//! The test binary of `inferplan-perf`: one module per area.

#[path = "../../../../tests/support.rs"]
mod support;

mod diffusion;
mod llm;
mod neuron;
