//! How long a new SageMaker instance takes to serve: the instance's provisioning, then what
//! the container does, from the shared cold-start model ([`cold_start_s`]).
//!
//! ```text
//! seconds = provisioning + (download from the Hub + engine start without compile caches
//!                           + reading the weights)
//! ```
//!
//! The container part is the cold start of [`Delivery::HubToNodeCache`] without its boot:
//! the rendered LMI container downloads the checkpoint itself (`HF_MODEL_ID`), starts vLLM
//! with empty compile caches and reads the weights, at the per-instance ceilings (no
//! instance figures: SageMaker does not publish the network of its `ml.` hosts). It is what
//! `render --platform sagemaker` gives the container's startup health check (before the
//! margin), and what the simulator waits for after [`INSTANCE_START_S`]. A SageMaker
//! endpoint is billed per instance-hour; there are no pods or nodes to split.

use crate::cold_start::{cold_start_s, engine_start_s, ColdStart, Delivery, Node};
use inferplan_perf::Engine;
use serde::Serialize;

/// From SageMaker's decision to add an instance to a started container on it, before the
/// container loads a model, seconds.
///
/// AWS Machine Learning Blog, "Introducing container caching in Amazon SageMaker AI for
/// faster model scaling" (2026-06-16,
/// <https://aws.amazon.com/blogs/machine-learning/introducing-container-caching-in-amazon-sagemaker-ai-for-faster-model-scaling/>):
/// the container image is cached on accelerator instances without opt-in, and an early-access
/// customer's endpoint on ml.g4dn.xlarge with a 15.7 GB image and no model weights scaled out
/// in 134 s at the median (381 s before caching). That figure is instance provisioning plus
/// that container's own start; it is taken whole as the provisioning (an upper bound: the
/// engine start is counted again below). The same post measured Qwen3-8B with the LMI
/// container on ml.g6.2xlarge at 258 s end to end with caching (model download 77 s).
pub const INSTANCE_START_S: f64 = 134.0;

/// The start of a new instance of an endpoint.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct InstanceStart {
    /// Provisioning to a started container ([`INSTANCE_START_S`]).
    pub provision_s: f64,
    /// The container: download, engine start and read (the cold start without its boot).
    pub container_s: f64,
    /// `provision_s + container_s`.
    pub seconds: f64,
    /// The container's cold start, for its parts and basis.
    pub cold: ColdStart,
    /// How the figure adds up, in one line.
    pub basis: String,
}

/// The start of a new instance whose container downloads `bytes` of weights from the Hub and
/// serves them with `engine`.
pub fn instance_start(bytes: f64, engine: Option<Engine>) -> InstanceStart {
    let cold = cold_start_s(
        Delivery::HubToNodeCache,
        bytes,
        engine_start_s(engine, false),
        None,
        Node::New,
    );
    let container_s = (cold.seconds - cold.boot_s).max(0.0);
    let seconds = INSTANCE_START_S + container_s;
    let basis = format!(
        "provisioning {INSTANCE_START_S:.0} s (AWS, container image cached) + container {:.0} s \
         (download {:.0} s + engine start {:.0} s + read {:.0} s) = {seconds:.0} s",
        container_s, cold.fetch_s, cold.engine_start_s, cold.load_s
    );
    InstanceStart {
        provision_s: INSTANCE_START_S,
        container_s,
        seconds,
        cold,
        basis,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The container part is the Hub cold start without the boot, and grows with the bytes
    /// at the Hub's rate.
    #[test]
    fn the_container_part_is_the_hub_cold_start_without_its_boot() {
        let small = instance_start(2.5e9, Some(Engine::Vllm));
        let cold = cold_start_s(
            Delivery::HubToNodeCache,
            2.5e9,
            engine_start_s(Some(Engine::Vllm), false),
            None,
            Node::New,
        );
        assert!((small.container_s - (cold.seconds - cold.boot_s)).abs() < 1e-9);
        assert!((small.seconds - INSTANCE_START_S - small.container_s).abs() < 1e-9);
        let big = instance_start(16.4e9, Some(Engine::Vllm));
        // 13.9 GB more, downloaded at the Hub's 0.5 GB/s and read from the node cache.
        let more = big.seconds - small.seconds;
        assert!(
            more > 13.9 / 0.5 && more < 13.9 / 0.5 + 13.9 / 1.0,
            "{more}"
        );
        assert!(big.basis.contains("provisioning 134 s"), "{}", big.basis);
    }
}
