//! SageMaker hosting facts the planner, the renderer and the simulator share: its limits
//! ([`limits`]), the SageMaker containers that exist for an engine ([`container_for`]), each
//! with its source, and how long a new instance takes to serve ([`start`]).

pub mod limits;
pub mod start;

pub use start::{instance_start, InstanceStart, INSTANCE_START_S};

use crate::cold_start::ColdStart;
use crate::startup::{MIN_PROBE_BUDGET_S, PROBE_MARGIN};
use inferplan_perf::Engine;
use serde::{Deserialize, Serialize};

/// How long a new SageMaker instance takes to serve, as a [`ColdStart`]: the provisioning
/// SageMaker's own figure gives ([`INSTANCE_START_S`], as `boot_s`), then the container
/// downloads the checkpoint from the Hub itself (`HF_MODEL_ID`, no `ModelDataUrl`), starts the
/// engine without compile caches and reads the weights ([`instance_start`]: the same figure
/// the simulator waits for). `download_bytes` is what one instance downloads. The planner's
/// SageMaker candidates and `render --platform sagemaker` both use it.
pub fn cold_start(download_bytes: f64, engine: Engine) -> ColdStart {
    let start = instance_start(download_bytes, Some(engine));
    ColdStart {
        seconds: start.seconds,
        boot_s: start.provision_s,
        basis: start.basis,
        ..start.cold
    }
}

/// What `ContainerStartupHealthCheckTimeoutInSeconds` and `ModelDataDownloadTimeoutInSeconds`
/// must allow for `cold` ([`cold_start`]): the container's part of it (without the launch)
/// with the EKS startup probe's margin, at least its minimum; before clamping to SageMaker's
/// [`limits::STARTUP_TIMEOUT_RANGE_S`].
pub fn startup_budget_s(cold: &ColdStart) -> u32 {
    let in_container = cold.seconds - cold.boot_s;
    let s = (in_container * PROBE_MARGIN).ceil().max(MIN_PROBE_BUDGET_S);
    if s.is_finite() {
        s.min(f64::from(u32::MAX)) as u32
    } else {
        MIN_PROBE_BUDGET_S as u32
    }
}

/// Registry account of the AWS Deep Learning Containers (LMI and the Hugging Face TGI
/// containers alike): `available_images.md` in aws/deep-learning-containers.
pub const REGISTRY_ACCOUNT: &str = "763104351884";

/// A SageMaker serving container for an engine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Container {
    /// What it is, for tables (`LMI V18 (vLLM)`).
    pub name: &'static str,
    /// Repository and tag in [`REGISTRY_ACCOUNT`]'s registry.
    pub image_tag: &'static str,
    /// The engine it runs.
    pub engine: Engine,
    /// Release and date.
    pub release: &'static str,
    /// Where the image and its release are published.
    pub source: &'static str,
    /// Whether `inferplan render --platform sagemaker` writes a template for it.
    pub rendered: bool,
}

impl Container {
    /// The image URI in `region`.
    pub fn image(&self, region: &str) -> String {
        format!(
            "{REGISTRY_ACCOUNT}.dkr.ecr.{region}.amazonaws.com/{}",
            self.image_tag
        )
    }
}

/// The Large Model Inference (LMI) container running vLLM, the one `render --platform
/// sagemaker` writes. Source: "LMI V18 (DJL-Serving 0.36.0)", the LMI (vLLM) image of
/// 2025-12-15 with vLLM 0.12.0, `serving/docs/lmi/release_notes.md` in
/// deepjavalibrary/djl-serving (commit 171b75750892d7e097460db0526b1a66540610e2).
pub const LMI_VLLM: Container = Container {
    name: "LMI V18 (vLLM)",
    image_tag: "djl-inference:0.36.0-lmi18.0.0-cu128",
    engine: Engine::Vllm,
    release: "LMI V18 (DJL-Serving 0.36.0, vLLM 0.12.0), released 2025-12-15",
    source: "deepjavalibrary/djl-serving serving/docs/lmi/release_notes.md (commit 171b75750892d7e097460db0526b1a66540610e2)",
    rendered: true,
};

/// The Hugging Face LLM inference container for SageMaker running TGI. Source: the table of
/// `huggingface-pytorch-tgi-inference` images in `docs/sagemaker/tgi.md` of a copy of
/// huggingface/hub-docs (ark393/hub-docs, commit 0ebcd742e5a86f1066e46c632090c1c7cdc05f50),
/// "2.4.0-tgi3.0.1", pushed 2025-01-09, the newest it lists.
pub const HF_TGI: Container = Container {
    name: "Hugging Face TGI 3.0.1",
    image_tag: "huggingface-pytorch-tgi-inference:2.4.0-tgi3.0.1-gpu-py311-cu124-ubuntu22.04-v2.0",
    engine: Engine::Tgi,
    release: "TGI 3.0.1 on PyTorch 2.4.0, pushed 2025-01-09",
    source: "huggingface/hub-docs docs/sagemaker/tgi.md (copy ark393/hub-docs, commit 0ebcd742e5a86f1066e46c632090c1c7cdc05f50)",
    rendered: false,
};

/// The SageMaker container of `engine` on NVIDIA GPUs, or why there is none the planner
/// knows of (SGLang, TensorRT-LLM, LMDeploy and Neuron are not modelled on SageMaker).
pub fn container_for(engine: Engine, nvidia: bool) -> Result<Container, String> {
    if !nvidia {
        return Err(format!(
            "no SageMaker container for {engine} on this accelerator is modelled (the planner knows LMI with vLLM and the TGI container, on NVIDIA GPUs)"
        ));
    }
    match engine {
        Engine::Vllm => Ok(LMI_VLLM),
        Engine::Tgi => Ok(HF_TGI),
        other => Err(format!(
            "no SageMaker container for {other} is modelled (the planner knows LMI with vLLM and the Hugging Face TGI container)"
        )),
    }
}

/// The endpoint type a SageMaker candidate is planned as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EndpointType {
    /// A real-time endpoint (`InvokeEndpoint`), warm instances.
    RealTime,
    /// An asynchronous endpoint (`InvokeEndpointAsync`, S3 input and output) that scales to
    /// zero.
    Async,
    /// A Batch Transform job over the day's requests.
    BatchTransform,
}

impl EndpointType {
    /// Short name (`real-time`, `async`, `batch transform`).
    pub fn as_str(self) -> &'static str {
        match self {
            EndpointType::RealTime => "real-time",
            EndpointType::Async => "async",
            EndpointType::BatchTransform => "batch transform",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn images_are_regional_and_pinned() {
        assert_eq!(
            LMI_VLLM.image("eu-west-1"),
            "763104351884.dkr.ecr.eu-west-1.amazonaws.com/djl-inference:0.36.0-lmi18.0.0-cu128"
        );
        assert!(container_for(Engine::Sglang, true).is_err());
        assert!(container_for(Engine::Vllm, false).is_err());
        assert_eq!(container_for(Engine::Tgi, true).unwrap(), HF_TGI);
    }
}
