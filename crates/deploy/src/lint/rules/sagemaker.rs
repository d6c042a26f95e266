//! What the SageMaker rules (IL122-IL126) share: the instance and checkpoint of a production
//! variant, resolved against the catalog.

use super::super::context::cloudformation::{Eval, SageMakerEndpoint};
use super::super::Context;
use crate::yaml::Node;
use inferplan_catalog::{Dtype, Instance, ModelSpec};
use inferplan_serving::checkpoint;

/// The checkpoint a SageMaker model downloads (its container's `HF_MODEL_ID`) and its size.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct VariantWeights<'c> {
    /// The `ml.` instance type without its prefix, from the catalog.
    pub instance: &'c Instance,
    /// The Hugging Face id.
    pub hf_id: String,
    /// Bytes of its weight files ([`checkpoint::download_size`], or derived).
    pub bytes: u64,
    /// Where the size comes from.
    pub basis: String,
    /// Model data read from S3 (`ModelDataUrl` or `ModelDataSource`) rather than the Hub.
    pub s3_model_data: bool,
    /// The catalog model.
    pub model: &'c ModelSpec,
    /// The format the checkpoint is stored in.
    pub format: Dtype,
    /// The container's environment.
    pub env: &'c Node,
}

/// The instance and checkpoint of `variant`, when both are known to the catalog. `Err` says
/// which value is not evaluable.
pub(crate) fn variant_weights<'c>(
    ctx: &Context<'c>,
    e: &SageMakerEndpoint<'_, 'c>,
    variant: &'c Node,
) -> Result<Option<VariantWeights<'c>>, String> {
    let t = e.template;
    let instance = match t.string(variant.get("InstanceType")) {
        Eval::Value(v) => v,
        Eval::Opaque(x) => return Err(format!("InstanceType is `{x}`")),
        _ => return Ok(None),
    };
    let Ok(inst) = ctx
        .catalog
        .instance(instance.strip_prefix("ml.").unwrap_or(&instance))
    else {
        return Ok(None);
    };
    let model = match e.model(variant) {
        Ok(Some(m)) => m,
        Ok(None) => return Ok(None),
        Err(x) => return Err(format!("ModelName is `{x}`")),
    };
    let container = model.props().at("PrimaryContainer");
    let env = container.at("Environment");
    let hf_id = match t.string(env.get("HF_MODEL_ID")) {
        Eval::Value(v) => v,
        Eval::Opaque(x) => return Err(format!("HF_MODEL_ID is `{x}`")),
        _ => return Ok(None),
    };
    let s3_model_data =
        container.get("ModelDataUrl").is_some() || container.get("ModelDataSource").is_some();
    let catalog = ctx.catalog;
    if let Some(c) = catalog
        .all_checkpoints()
        .iter()
        .find(|c| c.hf_id.eq_ignore_ascii_case(&hf_id))
    {
        if let Ok(m) = catalog.model(&c.model) {
            let (bytes, basis) = checkpoint::download_size(c, m);
            return Ok(Some(VariantWeights {
                instance: inst,
                hf_id,
                bytes,
                basis,
                s3_model_data,
                model: m,
                format: c.format,
                env,
            }));
        }
    }
    let last = hf_id.rsplit('/').next().unwrap_or(&hf_id);
    let (base, dtype) = inferplan_catalog::names::split_quantized(last);
    let Some(m) = [hf_id.as_str(), last, base.as_str()]
        .iter()
        .find_map(|n| catalog.model(n).ok())
    else {
        return Ok(None);
    };
    let format = dtype.or(m.native_weights).unwrap_or(Dtype::Bf16);
    let (bytes, basis) = checkpoint::derived_size(m, format);
    Ok(Some(VariantWeights {
        instance: inst,
        hf_id,
        bytes,
        basis,
        s3_model_data,
        model: m,
        format,
        env,
    }))
}
