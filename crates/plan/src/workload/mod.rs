//! The workload a plan is for: model, traffic, request lengths, SLOs and constraints, read
//! from a TOML file (`inferplan plan WORKLOAD.toml`) or built from flags. Every field but
//! `model.name` and `traffic.rate_rps` has a default (see `docs/plan.md`); unknown fields are
//! an error.
//!
//! [`Workload::from_toml`] reads the text, [`Workload::resolve_lengths`] takes the lengths
//! from a trace, and [`Workload::validate`] checks the values; [`Workload::load`] does all
//! three for a file.

mod length;
mod read;
mod types;
mod validate;

pub use length::Length;
pub(crate) use read::parse_toml;
pub use types::{
    Adapters, Constraints, DataClass, Lengths, Mode, ModelSpecIn, Percentile, Platform, Pricing,
    Slo, Tenancy, Traffic, Workload, ADAPTER_TARGETS, WEIGHTS_SOURCES,
};
pub(crate) use validate::{check_burstiness, check_profile, check_window, err, within};
