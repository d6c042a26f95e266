//! The inferplan performance model: what a model needs in GPU memory ([`memory`]), how long
//! one engine step takes ([`step`]), and what that means for latency and throughput under a
//! load ([`estimate`]), with efficiencies fitted to measured data ([`efficiency`]).

mod bisect;
pub mod calibrate;
pub mod diffusion;
pub mod efficiency;
pub mod engine;
pub mod error;
pub mod estimate;
pub mod kernels;
pub mod measured;
pub mod memory;
pub mod memory_validation;
pub mod neuron;
pub mod parallel;
pub mod params;
pub mod portable;
pub mod step;
pub mod validation;

pub use efficiency::EfficiencyTable;
pub use engine::Engine;
pub use error::PerfError;
pub use estimate::{Deployment, Estimate, Load, Replica, Workload};
pub use memory::{fit, EngineLimits, FitInput, FitReport, Placement};
pub use params::MemoryParams;
