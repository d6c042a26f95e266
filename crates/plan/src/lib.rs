//! The planner: the cheapest deployments of a model that keep a workload's SLOs, with their
//! cost, purchase mix and findings.

pub mod candidate;
pub mod findings;
pub mod workload;

pub use candidate::{Candidate, PurchaseMix};
pub use findings::{Finding, Severity};
pub use workload::Workload;
