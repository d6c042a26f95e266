//! The fleet: replicas behind a router, an autoscaler, spot interruptions and clients that
//! retry, driven by one event queue in integer microseconds.

pub mod aas;
mod autoscale;
mod config;
mod flapping;
pub mod hpa;
mod managed;
mod nodes;
mod replicas;
mod report;
mod sim;
mod state;
mod sweep;

pub use aas::Managed;
pub use config::{Autoscaler, Client, FleetConfig, Nodes, Router, ScaleMetric, Slo, Spot, Trigger};
pub use flapping::{Flapping, FLAPPING_REVERSALS_PER_HOUR};
pub use managed::SAMPLE_S as MANAGED_SAMPLE_S;
pub use report::{Attainment, Hour, SimReport};
pub use sim::simulate;
pub use sweep::sweep;
