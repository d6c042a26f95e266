//! The SageMaker side of a candidate ([`SageMakerOption`]): the one struct that says how a
//! candidate runs as a SageMaker endpoint. `crate::sagemaker` derives it; `plan` shows it,
//! `render --platform sagemaker` renders it, and a simulation of the endpoint reads it.

use inferplan_catalog::{ManagedPrice, Usage};
use inferplan_serving::sagemaker::EndpointType;
use serde::{Deserialize, Serialize};

/// One of SageMaker's limits as it applies to a candidate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LimitCheck {
    /// What is limited.
    pub limit: String,
    /// SageMaker's limit.
    pub value: String,
    /// What the plan needs, or why it is not checked.
    pub planned: String,
    /// Where the limit is documented.
    pub source: String,
}

/// The SageMaker side of a candidate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SageMakerOption {
    /// The SageMaker instance type (`ml.g6e.xlarge`).
    pub instance_type: String,
    /// The EC2 type whose hardware it is: the same GPUs, memory and network.
    pub hardware: String,
    /// Real-time, async (scale to zero) or Batch Transform.
    pub endpoint: EndpointType,
    /// Why that endpoint type (the endpoint advice).
    pub endpoint_reason: String,
    /// The container (`LMI V18 (vLLM)`).
    pub container: String,
    /// Its image in the candidate's region.
    pub image: String,
    /// Where the image and its release are published.
    pub container_source: String,
    /// Whether `render --platform sagemaker` writes a template for this container.
    pub rendered: bool,
    /// Which managed price applies: hosting (real-time and async) or Batch Transform.
    pub usage: Usage,
    /// The managed price used, with its source and date; `None` when none was supplied.
    pub price: Option<ManagedPrice>,
    /// Why there is no price, when there is none.
    pub no_price: Option<String>,
    /// Seconds from asking for an instance to its first answer: launch, download from the
    /// Hub, engine start, reading the weights (`inferplan_serving::sagemaker::cold_start`).
    pub cold_start_s: f64,
    /// How the cold start adds up.
    pub cold_start: String,
    /// What the container's health check and the model download must be allowed, seconds
    /// (the render's `ContainerStartupHealthCheckTimeoutInSeconds`, before clamping).
    pub startup_budget_s: u32,
    /// SageMaker's limits that apply, against the plan.
    pub limits: Vec<LimitCheck>,
}
