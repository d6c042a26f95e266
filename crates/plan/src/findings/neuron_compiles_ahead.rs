//! IP115 `neuron-compiles-ahead`.

use super::{finding, Context, Finding, Rule, Severity};
use inferplan_catalog::Arch;
use inferplan_perf::neuron;

crate::declare_rule! {
    /// **What it checks.** The candidate runs on an AWS Neuron chip (Inferentia2 on inf2,
    /// Trainium on trn1/trn1n, Trainium2 on trn2).
    ///
    /// **Why it matters.** vLLM on a Neuron chip runs NxD Inference, which compiles the model
    /// ahead of time for one batch size (`batch_size = max_num_seqs`) and one sequence length
    /// (`seq_len = max_model_len`), with a context-encoding and a token-generation graph per
    /// sequence bucket: powers of two from 128 up to `max_model_len` (aws-neuron-sdk
    /// `libraries/nxd-inference/developer_guides/vllm-user-guide-v1.rst`). A replica started
    /// without compiled artifacts compiles them before it serves, so its cold start is the
    /// compilation, not the weights download; AWS does not publish compile times for large
    /// models, so the plan's cold start does not include it. Changing the batch size, the TP
    /// degree or `max_model_len` means compiling again. Only the architectures NxD Inference
    /// lists are served (`model-reference.rst`: Llama 2 to 3.3 and models based on them such as
    /// Mistral, Llama 4, Mixtral, DBRX, Qwen2.5, Qwen3 and Qwen3 MoE; `data/perf/neuron_models.csv`);
    /// the planner rejects the others as `engine_unsupported`.
    ///
    /// **What to do.** Compile once per configuration, store the artifacts (S3 or the image) and
    /// point `NEURON_COMPILED_ARTIFACTS` at them so replicas load instead of compiling
    /// (`migrate-from-tnx-to-nxdi.rst`); measure the cold start of a replica that loads them before
    /// relying on autoscaling. Keep `max_num_seqs`, the TP degree and `--max-model-len` fixed
    /// between the compile and the deployment.
    ///
    /// **Example.**
    ///
    /// > Llama 3.1 8B on inf2.xlarge (Inferentia2, NxD Inference): the model is compiled ahead for
    /// > TP 1, batch size = max_num_seqs and max_model_len, 2 graphs per sequence bucket (128 up to
    /// > max_model_len: up to 22 graphs at the model's 131072-token context). Compile once, store
    /// > the artifacts and set NEURON_COMPILED_ARTIFACTS, or each new replica compiles before
    /// > serving (compile time is not published: the cold start counts an assumed 964 s, 60 s per
    /// > GB of weights, at least 600 s). NxD Inference serves llama models
    /// > (data/perf/neuron_models.csv).
    pub struct NeuronCompilesAhead {
        code: "IP115",
        name: "neuron-compiles-ahead",
        severity: Warning,
        summary: "a Neuron replica compiles its graphs before it serves",
        docs: "docs/findings.md#ip115-neuron-compiles-ahead",
    }
}

impl Rule for NeuronCompilesAhead {
    fn check(&self, ctx: &Context<'_>) -> Option<Finding> {
        if ctx.gpu.arch != Arch::Neuron {
            return None;
        }
        let c = ctx.candidate;
        let chip = ctx
            .gpu
            .architecture
            .split('(')
            .next()
            .unwrap_or_default()
            .trim();
        let short = ctx.gpu.name.split(" (").next().unwrap_or(&ctx.gpu.name);
        let max_len = ctx.model.max_context;
        Some(finding(
            self,
            Severity::Warning,
            format!(
                "{} on {} ({short}, {chip}, NxD Inference): the model is compiled ahead for TP {}, \
                 batch size = max_num_seqs and max_model_len, 2 graphs per sequence bucket (128 up \
                 to max_model_len: up to {} graphs at the model's {max_len}-token context). Compile \
                 once, store the artifacts and set NEURON_COMPILED_ARTIFACTS, or each new replica \
                 compiles before serving (compile time is not published: the cold start \
                 counts an assumed {:.0} s, {:.0} s per GB of weights, at least {:.0} s). NxD \
                 Inference serves {} models (data/perf/neuron_models.csv).",
                ctx.model.name,
                c.instance,
                c.tp,
                neuron::graphs(max_len),
                inferplan_serving::cold_start::neuron_compile_s(c.cold_start_bytes_per_node()),
                inferplan_serving::cold_start::NEURON_COMPILE_S_PER_GB,
                inferplan_serving::cold_start::NEURON_MIN_COMPILE_S,
                ctx.model.family,
            ),
        ))
    }
}
