//! The test binary of `inferplan-plan`: one module per area.

#[path = "../../../../tests/planner.rs"]
mod planner;
#[path = "../../../../tests/support.rs"]
mod support;

mod billing;
mod diffusion;
mod findings;
mod multimodel;
mod sagemaker;
mod search;
mod workload;
