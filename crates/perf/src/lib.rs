//! The inferplan performance model: what a model needs in GPU memory ([`memory`]) and, with
//! later work, how fast it runs.

pub mod error;
pub mod memory;
pub mod memory_validation;
pub mod params;
pub mod step;

pub use error::PerfError;
pub use memory::{fit, EngineLimits, FitInput, FitReport};
pub use params::MemoryParams;
