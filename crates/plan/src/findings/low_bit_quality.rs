//! IP114 `low-bit-quality`.

use super::{finding, num, Context, Finding, Rule, Severity};
use crate::search::low_bit;
use inferplan_serving::quality::{evidence, published, Evidence, Published};

crate::declare_rule! {
    /// **What it checks.** The planner chose the weight format (`model.precision = "any"`) and
    /// chose one below 16 bits: FP8, INT8, INT4 or FP4. Such an option is offered only with a
    /// checkpoint that exists (`data/models/checkpoints.csv`, or online FP8 from a catalogued
    /// 16-bit checkpoint); this finding says which format and checkpoint it serves and what
    /// published evaluations say of its quality (`data/models/quantization_quality.csv`, one
    /// sourced row per evaluated checkpoint): the checkpoint's own figure when one is
    /// published, else the figure of another checkpoint of the same model and format, else that
    /// none is known.
    ///
    /// **Why it matters.** Fewer bits buy memory and speed, and the price is quality, which
    /// the cost table does not show. The published figures are small for FP8 and for INT8 and
    /// INT4 weight-only checkpoints of large models (about 99 to 100 % of the 16-bit score on
    /// OpenLLM v1 for Llama 3.1 70B and 405B), larger for small models and for FP4 (an NVFP4
    /// Llama 3.1 8B keeps 96.5 % of its average after quantization-aware training and 93.8 %
    /// rounded to nearest, GSM8k losing most). Averages of multiple-choice benchmarks also hide
    /// the tails: long contexts, rare output formats, code.
    ///
    /// **What to do.** Read the source; run your own evaluation set on the low-bit checkpoint
    /// and on the 16-bit one before switching. Where no figure is published, measure first.
    /// Set `model.precision` to the format you have validated to plan it alone.
    ///
    /// **Example message.**
    ///
    /// > INT4 weights (`hugging-quants/Meta-Llama-3.1-70B-Instruct-AWQ-INT4`, awq): no published
    /// > evaluation of this checkpoint is known here; another INT4 checkpoint of Llama 3.1 70B
    /// > (`neuralmagic/Meta-Llama-3.1-70B-Instruct-quantized.w4a16`, GPTQ (W4A16)) keeps
    /// > 99.8 % of the 16-bit score on OpenLLM v1 (average) (78.54 against 78.67; source:
    /// > https://huggingface.co/neuralmagic/Meta-Llama-3.1-70B-Instruct-quantized.w4a16).
    /// > Check quality on your own evaluation set before serving it.
    pub struct LowBitQuality {
        code: "IP114",
        name: "low-bit-quality",
        severity: Info,
        summary: "the planner chose weights below 16 bits: the format, its checkpoint and what published evaluations say of its quality",
        docs: "docs/findings.md#ip114-low-bit-quality",
    }
}

impl Rule for LowBitQuality {
    fn check(&self, ctx: &Context<'_>) -> Option<Finding> {
        let c = ctx.candidate;
        if !ctx.workload.model.precision.eq_ignore_ascii_case("any") || !low_bit(c.precision) {
            return None;
        }
        let format = c.precision.to_string().to_ascii_uppercase();
        let (served, id) = match &c.checkpoint {
            Some(s) if s.online_fp8 => (
                format!("quantized to FP8 while loading `{}`", s.hf_id),
                s.hf_id.clone(),
            ),
            Some(s) => (format!("`{}`", s.hf_id), s.hf_id.clone()),
            None => ("the workload's own checkpoint".to_owned(), String::new()),
        };
        let online = c.checkpoint.as_ref().is_some_and(|s| s.online_fp8);
        let subject = if online {
            "FP8 quantized while loading this checkpoint"
        } else {
            "this checkpoint"
        };
        let rows = published().map_or(&[][..], |r| r);
        let model = &ctx.model.name;
        let said = match evidence(rows, model, c.precision, &id) {
            Evidence::This(p) => format!("this checkpoint {}", figure(p)),
            Evidence::Other(p) => format!(
                "no published evaluation of {subject} is known here; another {format} \
                 checkpoint of {model} (`{}`, {}) {}",
                p.hf_id,
                p.method,
                figure(p)
            ),
            Evidence::None => format!(
                "no published evaluation of an {format} checkpoint of {model} is known here \
                 (data/models/quantization_quality.csv)"
            ),
        };
        Some(finding(
            self,
            Severity::Info,
            format!(
                "{format} weights ({served}): {said}. Check quality on your own evaluation set \
                 before serving it."
            ),
        ))
    }
}

/// `keeps 99.8 % of the 16-bit score on OpenLLM v1 (average) (78.54 against 78.67; source: …)`.
fn figure(p: &Published) -> String {
    let scores = match (p.quantized, p.baseline) {
        (Some(q), Some(b)) => format!("{} against {}; ", num(q, 2), num(b, 2)),
        _ => String::new(),
    };
    let source = p.source.split_whitespace().next().unwrap_or(&p.source);
    format!(
        "keeps {} % of the 16-bit score on {} ({scores}source: {source})",
        num(p.recovery_pct, 1),
        p.benchmark
    )
}
