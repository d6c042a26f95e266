//! Facts about serving a model on a GPU instance that several parts of inferplan need, each
//! defined once here so that the planner, the renderer, the linter and the simulator cannot
//! drift apart:
//!
//! - [`cold_start`]: how the weights reach a replica ([`Delivery`], one per
//!   `weights_source`: Hub download, S3 stream or copy, FSx volume, pre-pulled NVMe cache) and
//!   how long a replica takes to serve ([`cold_start_s`]: delivery, bytes, engine start,
//!   instance, node), from sourced constants. The planner's finding IP105, its billing, the
//!   renderer and the simulator's default `--cold-start-s` read it.
//! - [`startup`]: what a startup probe must allow: the budget the renderer gives
//!   ([`startup::probe_budget_s`]) and the lower bound the linter's IL104 checks
//!   ([`startup::least_start`]), both from [`cold_start_s`].
//! - [`checkpoint`]: the weight and KV-cache formats a server runs: how the renderer asks vLLM
//!   for one and how the linter recognises one in a manifest; which catalogued checkpoint a
//!   deployment serves ([`checkpoint::choose`]) among those the rendered engine release loads
//!   ([`checkpoint::LOADERS`]), its download size, and the load-time peak of quantizing a
//!   16-bit checkpoint to FP8 per engine.
//! - [`flags`]: engine flags, one table per engine: the renderer writes arguments through it
//!   and the linter reads them back through it.
//!
//! - [`host`]: the share of an instance's memory a GPU pod gets ([`host::pod_memory_gib`]),
//!   which the renderer requests and the diffusion planner checks offloaded weights against.
//!
//! - [`sagemaker`]: SageMaker hosting's limits (payload, timeouts, volume), the containers
//!   that exist for an engine (LMI with vLLM, the TGI container), with sources, and how long a
//!   new instance takes to serve (provisioning, then the container's part of
//!   [`cold_start_s`]): the planner's SageMaker candidates, `render --platform sagemaker` and
//!   the simulator read them.
//!
//! - [`quality`]: what published evaluations say about the quality of low-bit checkpoints
//!   (`data/models/quantization_quality.csv`), for the planner's finding IP114.
//!
//! The crate sits between `inferplan-perf` and `inferplan-plan`; it depends on the catalog
//! only. It never prints.

pub mod checkpoint;
pub mod cold_start;
pub mod flags;
pub mod host;
pub mod lmdeploy;
pub mod quality;
pub mod sagemaker;
pub mod startup;

pub use cold_start::{
    cold_start_s, new_replica, served_engine, ColdStart, Delivery, Node, WeightsSource,
};
