//! LLM or diffusion: the kind of model a command is asked about, decided once here, and the
//! refusal of the other kind's flags.

use crate::args::DiffusionJobArgs;
use anyhow::bail;
use inferplan_perf::diffusion::{diffusion_model, DiffusionModel};
use inferplan_plan::diffusion::is_diffusion;

/// The kind of model a command is asked about.
pub enum Kind {
    /// A language model (the catalog's models, or a `--model-config`).
    Llm,
    /// An image or video diffusion model (`inferplan catalog diffusion`).
    Diffusion,
}

impl Kind {
    /// By `--model`, or else by the workload file's `model.name` (`plan`). Without either
    /// (`--model-config`), a language model.
    pub fn of(model: Option<&str>, workload: Option<&str>) -> Kind {
        let diffusion = match model {
            Some(_) => diffusion(model).is_some(),
            None => workload.is_some_and(is_diffusion),
        };
        if diffusion {
            Kind::Diffusion
        } else {
            Kind::Llm
        }
    }
}

/// The diffusion model `--model` names, if it names one: what makes `fit` and `estimate` a
/// [`Kind::Diffusion`] command.
pub fn diffusion(model: Option<&str>) -> Option<&'static DiffusionModel> {
    model.and_then(diffusion_model)
}

/// Refuses the diffusion job flags on a language model.
pub fn refuse_job_flags(j: &DiffusionJobArgs) -> anyhow::Result<()> {
    match j.given() {
        Some(flag) => {
            bail!("{flag}: only for diffusion models (`inferplan catalog diffusion` lists them)")
        }
        None => Ok(()),
    }
}
