//! `README.md` of a SageMaker render: what the template holds and where each number comes
//! from.

use super::super::input::RenderInput;
use super::{limits, lmi, Endpoint, EndpointKind, TEMPLATE};
use std::fmt::Write as _;

/// The README text.
pub fn readme(input: &RenderInput, e: &Endpoint) -> String {
    let mut s = String::new();
    let i = input;
    let kind = match e.kind {
        EndpointKind::RealTime => "a real-time",
        EndpointKind::Async => "an asynchronous",
    };
    let _ = writeln!(
        s,
        "# {}: {} on {} (SageMaker)\n",
        e.name, i.model, e.instance_type
    );
    let _ = writeln!(
        s,
        "Rendered by `inferplan render --platform sagemaker` from candidate {} of the plan for \
         workload `{}`: {} ({}) served by vLLM in the Large Model Inference container, {} \
         weights and {} KV cache, TP{} on {} ({} × {}), {kind} endpoint of {}-{} instances. \
         No price is shown: SageMaker hosting prices are not in the catalog yet, and the EC2 \
         price of {} is not the price of {}.\n",
        i.candidate,
        i.workload,
        i.model,
        i.checkpoint,
        i.precision,
        i.kv_dtype,
        i.tp,
        e.instance_type,
        i.gpus_per_instance,
        i.gpu,
        e.min_instances,
        e.max_instances,
        i.instance,
        e.instance_type,
    );
    let notes: Vec<&String> = i.notes.iter().chain(e.notes.iter()).collect();
    let _ = writeln!(s, "## Before applying\n");
    let _ = writeln!(
        s,
        "- Check that `{}` is offered in {} (not every EC2 GPU type is a SageMaker hosting \
         type in every region) and that the account's quota for it on endpoints allows {} \
         instances.",
        e.instance_type,
        if i.region.is_empty() {
            "the region"
        } else {
            &i.region
        },
        e.max_instances
    );
    let _ = writeln!(
        s,
        "- Gated checkpoints (Llama, Gemma) need a Hugging Face token: pass \
         `HuggingFaceToken=<token>` (it becomes the container's `HF_TOKEN`), or copy the \
         weights to S3 and give them as model data."
    );
    for n in notes {
        let _ = writeln!(s, "- {n}");
    }
    let _ = writeln!(s);
    let _ = writeln!(
        s,
        "Deploy with `aws cloudformation deploy --template-file {TEMPLATE} --stack-name {} \
         --parameter-overrides ExecutionRoleArn=arn:aws:iam::<account>:role/<role>{}`.\n",
        e.name,
        if e.kind == EndpointKind::Async {
            " AsyncOutputS3Uri=s3://<bucket>/<prefix>"
        } else {
            ""
        }
    );

    let _ = writeln!(s, "## Container\n");
    let _ = writeln!(
        s,
        "Image `{}` ({}). Its environment carries the same engine settings as the EKS \
         render's `vllm serve` arguments:\n",
        lmi::image(if i.region.is_empty() {
            "us-east-1"
        } else {
            &i.region
        }),
        lmi::LMI_RELEASE
    );
    let _ = writeln!(s, "| variable | value |\n|---|---|");
    for (k, v) in lmi::environment(i) {
        let _ = writeln!(s, "| `{k}` | `{v}` |");
    }
    let _ = writeln!(s);

    let _ = writeln!(s, "## Startup and storage\n");
    let _ = writeln!(
        s,
        "- `ContainerStartupHealthCheckTimeoutInSeconds` and `ModelDataDownloadTimeoutInSeconds`: \
         {} s: the container downloads the checkpoint from the Hub, starts the engine without \
         compile caches and reads the weights ({}; without the boot), × 1.25{}.",
        e.startup_timeout_s,
        e.startup_basis,
        if e.startup_budget_s != e.startup_timeout_s {
            format!(
                ", clamped to SageMaker's range {}-{} s from {} s",
                limits::STARTUP_TIMEOUT_RANGE_S.0,
                limits::STARTUP_TIMEOUT_RANGE_S.1,
                e.startup_budget_s
            )
        } else {
            String::new()
        }
    );
    let download_gb = i.download_bytes as f64 / 1e9;
    match e.volume_gb {
        Some(gb) => {
            let _ = writeln!(
                s,
                "- `VolumeSizeInGB`: {gb} GB, the checkpoint download ({download_gb:.1} GB, {}) \
                 plus 10 % and 4 GiB.",
                i.download_source
            );
        }
        None => {
            let _ = writeln!(
                s,
                "- No `VolumeSizeInGB`: {} has {} GB of NVMe instance store, which SageMaker \
                 uses instead; the checkpoint download is {download_gb:.1} GB ({}).",
                i.instance,
                i.local_nvme_gb.unwrap_or(0.0),
                i.download_source
            );
        }
    }
    let _ = writeln!(s);

    let _ = writeln!(s, "## Autoscaling\n");
    match e.kind {
        EndpointKind::RealTime => {
            let _ = writeln!(
                s,
                "Target tracking on `{}` at {} invocations per instance per minute: the rate \
                 at which an instance has {} requests in flight (the KEDA target of the EKS \
                 render, 80 % of the plan's capacity of {:.2} requests/s per replica) by \
                 Little's law at the plan's end-to-end p99 of {:.0} ms. {}-{} instances; \
                 scale-out cooldown {} s (a new instance's start, provisioning and container, and the scale-out alarm's 3 minutes and 60 s delay after it), scale-in cooldown {} s.\n",
                limits::INVOCATIONS_PER_INSTANCE,
                crate::lint::num(e.invocations_per_instance_per_minute, 2),
                i.target_in_flight,
                i.max_rps_per_replica,
                i.e2e_p99_ms,
                e.min_instances,
                e.max_instances,
                e.scale_out_cooldown_s,
                e.scale_in_cooldown_s
            );
        }
        EndpointKind::Async => {
            let _ = writeln!(
                s,
                "Target tracking on `ApproximateBacklogSizePerInstance` at {} requests per \
                 instance (the KEDA target of the EKS render), from 0 to {} instances, and a \
                 step policy adding one instance when `HasBacklogWithoutCapacity` is 1 (target \
                 tracking cannot scale out of zero). SageMaker hands each instance at most {} \
                 requests at a time (the plan's concurrency at its SLO capacity). Scale-out \
                 cooldown {} s (a new instance's start, provisioning and container, and the scale-out alarm's 3 minutes and 60 s delay after it), scale-in cooldown {} s.\n",
                e.backlog_per_instance,
                e.max_instances,
                e.max_concurrent_per_instance,
                e.scale_out_cooldown_s,
                e.scale_in_cooldown_s
            );
        }
    }

    let _ = writeln!(s, "## Limits\n");
    let _ = writeln!(
        s,
        "Real-time requests: {} MB payload, {} s per request. Asynchronous requests: {} GB \
         payload from S3, up to {} s (default {} s). Startup timeouts {}-{} s; volume {}-{} \
         GB. Sources: `crates/deploy/src/render/sagemaker/limits.rs`.",
        limits::REALTIME_PAYLOAD_BYTES / (1 << 20),
        limits::REALTIME_TIMEOUT_S,
        limits::ASYNC_PAYLOAD_BYTES / 1_000_000_000,
        limits::ASYNC_TIMEOUT_S,
        limits::ASYNC_DEFAULT_TIMEOUT_S,
        limits::STARTUP_TIMEOUT_RANGE_S.0,
        limits::STARTUP_TIMEOUT_RANGE_S.1,
        limits::VOLUME_RANGE_GB.0,
        limits::VOLUME_RANGE_GB.1,
    );
    s
}
