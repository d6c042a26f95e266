//! The fleet: replicas behind a router, an autoscaler, spot interruptions and clients that
//! retry, driven by one event queue in integer microseconds.

mod config;
mod replicas;
mod report;
mod sim;
mod state;
mod sweep;

pub use config::{Autoscaler, Client, FleetConfig, Router, ScaleMetric, Slo, Spot};
pub use report::{Attainment, SimReport};
pub use sim::simulate;
pub use sweep::sweep;
