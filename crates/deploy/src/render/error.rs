//! Errors of `render`: a plan file that does not have what rendering needs, a candidate that
//! is not there, an engine the renderer does not write manifests for, a catalog miss.

use inferplan_catalog::CatalogError;
use thiserror::Error;

/// Why a plan could not be turned into manifests.
#[derive(Debug, Error)]
pub enum RenderError {
    /// A field of the plan JSON is missing or has the wrong type.
    #[error("plan JSON: field `{field}`: {message}")]
    Plan {
        /// Dotted path of the field, e.g. `candidates[0].tp`.
        field: String,
        /// What is wrong.
        message: String,
    },
    /// `--candidate N` is not in the plan.
    #[error(
        "candidate {candidate} is not in the plan: it lists {count} candidate(s), numbered from 1"
    )]
    NoSuchCandidate {
        /// The 1-based number asked for.
        candidate: usize,
        /// Candidates in the plan.
        count: usize,
    },
    /// The candidate runs an engine the renderer has no manifests for.
    #[error(
        "candidate {candidate} runs {engine}; render writes vLLM and SGLang on GPUs, TensorRT-LLM, TGI and LMDeploy inside one GPU instance, and vLLM's Neuron backend inside one Inferentia2 or Trainium instance{}",
        suggest(alternatives)
    )]
    UnsupportedEngine {
        /// The 1-based candidate number.
        candidate: usize,
        /// Its engine.
        engine: String,
        /// 1-based numbers of the plan's candidates the renderer writes.
        alternatives: Vec<usize>,
    },
    /// A value that cannot be rendered (zero GPUs, a non-positive rate, ...).
    #[error("{field}: {message}")]
    Invalid {
        /// The input field.
        field: String,
        /// What is wrong.
        message: String,
    },
    /// The instance, GPU or model is not in the catalog.
    #[error(transparent)]
    Catalog(#[from] CatalogError),
}

fn suggest(alternatives: &[usize]) -> String {
    match alternatives {
        [] => "; re-plan with `engines = [\"vllm\", \"sglang\"]` in the workload's [model] table"
            .to_owned(),
        [one] => format!("; candidate {one} renders (`--candidate {one}`)"),
        many => format!(
            "; candidates {} render (`--candidate {}`)",
            many.iter()
                .map(|n| n.to_string())
                .collect::<Vec<_>>()
                .join(", "),
            many[0]
        ),
    }
}

impl RenderError {
    /// A plan-field error.
    pub fn plan(field: impl Into<String>, message: impl Into<String>) -> RenderError {
        RenderError::Plan {
            field: field.into(),
            message: message.into(),
        }
    }

    /// An invalid-value error.
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> RenderError {
        RenderError::Invalid {
            field: field.into(),
            message: message.into(),
        }
    }
}
