//! A deterministic discrete-event simulator of an LLM serving fleet: traffic, replicas running
//! a continuous-batching scheduler on the perf crate's step-time model, a router, an
//! autoscaler, spot interruptions and client retries.

pub mod capacity;
pub mod day;
pub mod fleet;
pub mod limits;
pub mod metrics;
pub mod plot;
pub mod replica;
pub mod rng;
pub mod sagemaker;
pub mod step_times;
pub mod traffic;
pub mod validate;
pub mod verify;
