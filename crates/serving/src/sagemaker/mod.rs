//! SageMaker hosting facts several parts share.
//!
//! - [`start`]: how long a new SageMaker instance takes to serve (provisioning, then the
//!   container's part of the shared cold start), for the simulator and the render's
//!   scale-out cooldown.

pub mod start;

pub use start::{instance_start, InstanceStart, INSTANCE_START_S};
