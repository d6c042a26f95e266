//! IL111 `tensor-parallel-not-dividing-heads`.

use super::super::{finding, Context, Finding, Rule, Severity};
use super::{parallelism, servers};

inferplan_plan::declare_rule! {
    /// **What it checks.** For a server whose model is in the catalog and whose TP is above 1: TP must
    /// divide the attention heads, and TP and the KV heads must divide one another (with fewer KV
    /// heads than ranks, each KV head is replicated). Models with multi-head latent attention
    /// (DeepSeek, Kimi) are checked on the query heads only.
    ///
    /// **Why it matters.** Tensor parallelism gives each GPU a whole number of heads. vLLM refuses to
    /// start ("Total number of attention heads (40) must be divisible by tensor parallel size (3)"),
    /// and so do the other engines: the pod crash-loops.
    ///
    /// **Example.**
    ///
    /// > TP 3 does not divide the 40 attention heads of Qwen2.5 14B: the engine refuses to start. Use
    /// > TP 1, 2, 4 or 8, and give the pod that many GPUs.
    ///
    /// **Fix.** Choose a TP from the list in the message and set the GPU limit to match; add pipeline
    /// parallelism to use more GPUs.
    pub struct TensorParallelNotDividingHeads {
        code: "IL111",
        name: "tensor-parallel-not-dividing-heads",
        severity: Error,
        summary: "the tensor-parallel degree must divide the attention heads (and fit the KV heads)",
        docs: "docs/lint.md#il111-tensor-parallel-not-dividing-heads",
    }
}

impl Rule for TensorParallelNotDividingHeads {
    fn check(&self, ctx: &Context<'_>) -> Vec<Finding> {
        let mut out = Vec::new();
        for s in servers(ctx) {
            let Some((m, _)) = ctx.model(s.engine) else {
                continue;
            };
            let Some(p) = parallelism(&s) else {
                continue;
            };
            let tp = u64::from(p.tp);
            if tp <= 1 {
                continue;
            }
            let ok = |t: u64| {
                m.heads % t == 0
                    && (m.mla.is_some()
                        || m.kv_heads == 0
                        || m.kv_heads % t == 0
                        || t.is_multiple_of(m.kv_heads))
            };
            if ok(tp) {
                continue;
            }
            let what = if m.heads % tp != 0 {
                format!(
                    "does not divide the {} attention heads of {}",
                    m.heads, m.name
                )
            } else {
                format!(
                    "and the {} KV heads of {} do not divide one another",
                    m.kv_heads, m.name
                )
            };
            let upto = 16.max(u64::from(s.pod.gpus()));
            let valid: Vec<String> = (1..=upto)
                .filter(|t| ok(*t))
                .map(|t| t.to_string())
                .collect();
            let list = match valid.as_slice() {
                [] => "1".to_owned(),
                [one] => one.clone(),
                [rest @ .., last] => format!("{} or {last}", rest.join(", ")),
            };
            let line = if p.tp_line > 0 {
                p.tp_line
            } else {
                s.engine.line
            };
            out.push(finding(
                self,
                Severity::Error,
                &s.workload.object,
                line,
                format!(
                    "TP {tp} {what}: the engine refuses to start. Use TP {list}, and give the \
                     pod that many GPUs."
                ),
            ));
        }
        out
    }
}
