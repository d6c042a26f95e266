//! The planner: the cheapest deployments of a model that keep a workload's SLOs, with their
//! cost, purchase mix and findings.

pub mod autoscaling;
pub mod candidate;
pub mod capacity;
pub mod contract;
pub mod cost;
pub mod diagnostic;
pub mod diffusion;
pub mod endpoint;
pub mod error;
pub mod findings;
pub mod job;
pub mod lengths;
pub mod managed;
pub mod multimodel;
pub mod nothing;
pub mod sagemaker;
pub mod search;
mod toml_location;
pub mod trace;
pub mod workload;

pub use candidate::{Candidate, PurchaseMix};
pub use diagnostic::{Diagnostic, Severity};
pub use error::PlanError;
pub use findings::Finding;
pub use search::{plan, Inputs, PassedOver, Plan, Rejection};
pub use trace::{LengthStats, Trace, TraceRequest, TraceStats};
pub use workload::Workload;
