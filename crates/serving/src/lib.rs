//! Facts about serving a model on a GPU instance that several parts of inferplan need, each
//! defined once here so that the planner, the renderer, the linter and the simulator cannot
//! drift apart:
//!
//! - [`cold_start`]: how long a new replica takes to serve ([`cold_start_s`]), from sourced
//!   constants. The planner's finding IP105 and the simulator's default `--cold-start-s` read it.
//! - [`startup`]: what a startup probe must allow: the budget the renderer gives
//!   ([`startup::probe_budget_s`]) and the lower bound the linter's IL104 checks
//!   ([`startup::least_start_s`]).
//! - [`checkpoint`]: the weight and KV-cache formats a server runs: how the renderer asks vLLM
//!   for one and how the linter recognises one in a manifest.
//! - [`flags`]: engine flags, one table per engine: the renderer writes arguments through it
//!   and the linter reads them back through it.
//!
//! How the weights reach a node (delivery) and the memory peak while they load belong here
//! too, when they become code.
//!
//! The crate sits between `inferplan-perf` and `inferplan-plan`; it depends on the catalog
//! only. It never prints.

pub mod checkpoint;
pub mod cold_start;
pub mod flags;
pub mod startup;

pub use cold_start::{cold_start_s, ColdStart, WeightsSource};
