//! `README.md` of a rendered diffusion worker: what was rendered from which plan, the message
//! contract the worker image must implement, the numbers behind the scaling, the timeouts and
//! the probes, and what to set up before applying.

use super::queue::{self, lead_minutes, queue_length, schedule, wait_budget_s};
use super::worker::{
    self, alive_limit_s, grace_period_s, JOB_TIMEOUT_FACTOR, MIN_JOB_TIMEOUT_S, READY_FILE,
    SHUTDOWN_S, SQS_MAX_VISIBILITY_S, VISIBILITY_TIMEOUT_S,
};
use super::{sqs, WorkerInput};
use crate::render::{karpenter, pod, weights};
use inferplan_perf::diffusion::Offload;
use inferplan_plan::workload::Mode;
use inferplan_serving::Delivery;
use std::fmt::Write as _;

/// The README text; `files` are the other rendered files with a one-line description each.
pub fn readme(input: &WorkerInput, files: &[(String, String)]) -> String {
    let i = input;
    let b = &i.base;
    let unit = i.unit();
    let mut s = String::new();
    let _ = writeln!(s, "# {}: {} workers on {}\n", b.name, i.model, b.instance);
    let j = &i.job;
    let job = if i.video {
        format!(
            "{}x{}, {} frames, {} steps{}",
            j.width,
            j.height,
            j.frames,
            j.steps,
            if j.cfg { " with CFG" } else { ", no CFG" }
        )
    } else {
        format!(
            "{}x{}, {} steps{}",
            j.width,
            j.height,
            j.steps,
            if j.cfg { " with CFG" } else { ", no CFG" }
        )
    };
    let promise = match i.mode {
        Mode::Interactive => format!("p99 within {:.0} s, queueing included", i.limit_s),
        Mode::Async => format!("every {unit} done within {:.0} s of its request", i.limit_s),
        Mode::Batch => format!(
            "the day's {unit}s within a {:.0}-hour window",
            i.limit_s / 3600.0
        ),
    };
    let _ = writeln!(
        s,
        "Rendered by `inferplan render` from candidate {} of the plan for workload `{}`: {} \
         ({job}; {promise}), denoiser in {}{}, one job at a time per {} on {} ({} GPU(s) per \
         instance), {}-{} workers, priced in {} at ${:.0}/day (${:.4} per {unit}; p99 latency \
         {:.0} s at the busiest hour).\n",
        b.candidate,
        b.workload,
        i.model,
        i.precision,
        match i.offload {
            Offload::None => String::new(),
            o => format!(" with {} CPU offload", o.as_str()),
        },
        b.gpu,
        b.instance,
        b.gpus_per_instance,
        b.min_replicas,
        b.max_replicas,
        i.plan_region,
        i.usd_per_day,
        i.usd_per_output,
        i.latency_p_s,
    );

    let _ = writeln!(s, "## Before applying\n");
    let _ = writeln!(
        s,
        "- The image `{}` must implement the worker contract below (there is no standard \
         diffusion server to render){}.",
        b.image,
        if b.image.contains("@sha256:") {
            ""
        } else {
            "; pin its digest"
        }
    );
    let _ = writeln!(
        s,
        "- The queue `{url}`: create it with `{tmpl}` in account {account}, region {region} \
         (`aws cloudformation deploy --template-file {tmpl} --stack-name {name}-queue --region \
         {region} --capabilities CAPABILITY_IAM`); its output `QueueUrl` is this URL. The queue \
         `{qname}`: visibility timeout {vis} s (the per-{unit} timeout {timeout} s + {shutdown} \
         s, the same number as the workers' grace period, so no second worker receives a \
         {unit} the first may still run), dead-letter queue `{dlq}` after {receives} receives \
         (a {unit} that kills its worker is not retried forever; kept 14 days), messages kept \
         {retention} s ({promise_limit} plus {receives} receives, at least SQS's 4 days), \
         long polling {wait} s, SSE with SQS-owned keys. The workers still keep their message \
         invisible themselves (below), so a {unit} lost with its node returns within \
         {VISIBILITY_TIMEOUT_S} s.",
        url = i.queue_url,
        tmpl = sqs::TEMPLATE,
        account = sqs::queue_account(&i.queue_url),
        region = i.queue_region,
        name = b.name,
        qname = sqs::queue_name(&i.queue_url),
        vis = sqs::queue_visibility_s(i),
        timeout = i.job_timeout_s,
        shutdown = SHUTDOWN_S,
        dlq = sqs::dead_letter_name(&i.queue_url),
        receives = sqs::MAX_RECEIVE_COUNT,
        retention = sqs::retention_s(i),
        wait = sqs::RECEIVE_WAIT_S,
        promise_limit = match i.mode {
            Mode::Batch => "the batch window".to_owned(),
            _ => format!("the limit ({:.0} s)", i.limit_s),
        }
    );
    let _ = writeln!(
        s,
        "- IAM: give the `{sa}` service account a role (EKS Pod Identity association) with the \
         stack's `WorkerPolicyArn` (`sqs:ReceiveMessage`, `sqs:DeleteMessage`, \
         `sqs:ChangeMessageVisibility` and `sqs:GetQueueAttributes` on the queue) and \
         `s3:PutObject` where the messages' results go{}; attach `KedaPolicyArn` \
         (`sqs:GetQueueAttributes`) to the KEDA operator's role (the TriggerAuthentication \
         `{auth}` uses the operator's identity).",
        if matches!(b.delivery, Delivery::S3ToNodeCache) {
            format!(
                ", and `s3:GetObject`/`s3:ListBucket` on `{}` (the init container copies the \
                 weights with this identity)",
                b.weights_uri
            )
        } else {
            String::new()
        },
        sa = worker::service_account_name(i),
        auth = queue::authentication_name(i),
    );
    if matches!(b.delivery, Delivery::S3ToNodeCache | Delivery::NvmePrepull) {
        let _ = writeln!(
            s,
            "- The weights are read from `{}` (`weights_source = \"{}\"`): put there the \
             pipeline's files as the worker loads them (`{}`{}); change the prefix in the \
             manifests, or render with `--weights-uri`.",
            b.weights_uri,
            b.weights_source,
            i.hf_id,
            if i.precision.bytes() < 2.0 {
                format!(
                    " with the denoiser already in {}: quantize it once, offline, so that no \
                     worker loads the 16-bit denoiser",
                    i.precision
                )
            } else {
                String::new()
            }
        );
    }
    if b.delivery == Delivery::NvmePrepull {
        let _ = writeln!(
            s,
            "- The pre-pull DaemonSet reads S3 as `{}`: give it a role with `s3:GetObject` and \
             `s3:ListBucket` on the prefix.",
            weights::service_account_name(b)
        );
    }
    if b.delivery == Delivery::FsxVolume {
        let _ = writeln!(
            s,
            "- Create the FSx for Lustre PersistentVolume `{}` holding the pipeline's files \
             under `{}` (static provisioning with the FSx CSI driver).",
            weights::claim_name(b),
            weights::checkpoint_dir(b)
        );
    }
    if i.mode == Mode::Interactive {
        let _ = writeln!(
            s,
            "- Callers wait for their {unit} (interactive, p99 within {:.0} s): put a front end \
             before the queue that sends the message and waits for `output_uri` (the SQS round \
             trip is milliseconds against the promise); the warm pool and the scheduled pool keep \
             the cold start ({:.0} s) off the callers' path.",
            i.limit_s, b.cold_start.seconds
        );
    }
    if i.queue_region != i.plan_region {
        let _ = writeln!(
            s,
            "- The queue is in {}, the plan priced {}: run the cluster where the queue is, or \
             re-plan with `regions = [\"{}\"]`.",
            i.queue_region, i.plan_region, i.queue_region
        );
    }
    let _ = writeln!(s);

    let _ = writeln!(s, "## Files\n");
    let _ = writeln!(s, "| file | what |\n|---|---|");
    for (f, what) in files {
        let _ = writeln!(s, "| `{f}` | {what} |");
    }
    let _ = writeln!(s, "| `README.md` | this file |\n");

    let _ = writeln!(s, "## The worker contract\n");
    let _ = writeln!(
        s,
        "Each pod runs one worker on one GPU; the worker runs one {unit} at a time. Its \
         environment says what to load and how long a {unit} may take (every value is in \
         `deployment.yaml`):\n"
    );
    let _ = writeln!(s, "| variable | value | meaning |\n|---|---|---|");
    for e in worker::env(i) {
        let v = e.value.clone().unwrap_or_default();
        let meaning = match e.name.as_str() {
            "QUEUE_URL" => "the SQS queue to receive from (KEDA reads the same variable)".to_owned(),
            "AWS_REGION" => "the queue's region".to_owned(),
            "MODEL_ID" => "the pipeline (diffusion catalog)".to_owned(),
            "MODEL_DIR" => "where its files are (see Weights); load from here only".to_owned(),
            "PRECISION" => "the denoiser's format the plan timed".to_owned(),
            "OFFLOAD" => match i.offload {
                Offload::None => "every component stays on the GPU".to_owned(),
                Offload::Model => "one component on the GPU at a time (diffusers `enable_model_cpu_offload`)".to_owned(),
                Offload::Sequential => "denoiser blocks streamed from host memory (diffusers `enable_sequential_cpu_offload`, LightX2V block offload)".to_owned(),
            },
            "JOB_WIDTH" | "JOB_HEIGHT" | "JOB_FRAMES" | "JOB_STEPS" | "JOB_CFG" | "JOB_BATCH" | "JOB_FPS" => {
                "the job the plan was sized for: the default, and the largest a message may ask".to_owned()
            }
            "JOB_TIMEOUT_S" => format!(
                "the per-{unit} timeout: {JOB_TIMEOUT_FACTOR} × the predicted {:.1} s, at least {MIN_JOB_TIMEOUT_S} s",
                i.job_s
            ),
            "VISIBILITY_TIMEOUT_S" => "the visibility timeout to receive with and to extend to".to_owned(),
            "VISIBILITY_HEARTBEAT_S" => "how often to extend it while the job runs".to_owned(),
            "READY_FILE" => "write it once the pipeline is loaded on the GPU".to_owned(),
            "ALIVE_FILE" => "touch it from the job loop at every receive and every job start".to_owned(),
            "HF_HUB_OFFLINE" => "the weights are local: never download at run time".to_owned(),
            _ => String::new(),
        };
        let _ = writeln!(s, "| `{}` | `{v}` | {meaning} |", e.name);
    }
    let _ = writeln!(s);
    let _ = writeln!(
        s,
        "A message body is a JSON object: `job_id` (string), `prompt` (string), optional \
         `negative_prompt`, `seed` (integer), {}`width`, `height`, {}`steps`, `cfg` (default: \
         the `JOB_*` values; larger jobs than those break the plan's sizing and must be \
         refused), and `output_uri`, the S3 URI to write the result to ({}).\n",
        if i.video {
            "`image_uri` (S3 URI of the first frame, image-to-video models), "
        } else {
            ""
        },
        if i.video { "`frames`, " } else { "" },
        if i.video { "an MP4 file" } else { "a PNG file" }
    );
    let _ = writeln!(s, "The loop:\n");
    let _ = writeln!(
        s,
        "1. Load the pipeline from `MODEL_DIR` onto the GPU ({}), then write `READY_FILE`.",
        match i.offload {
            Offload::None => format!("{:.1} GiB at the peak of a job", i.peak_memory_gib),
            _ => format!(
                "{:.1} GiB on the GPU at the peak of a job, {:.1} GiB of weights in host memory",
                i.peak_memory_gib, i.host_weights_gib
            ),
        }
    );
    let _ = writeln!(
        s,
        "2. Touch `ALIVE_FILE`; receive one message (`ReceiveMessage`, `MaxNumberOfMessages` 1, \
         `WaitTimeSeconds` 20, `VisibilityTimeout` `VISIBILITY_TIMEOUT_S`); none: back to 2."
    );
    let _ = writeln!(
        s,
        "3. Touch `ALIVE_FILE`; run the {unit}, extending the message's visibility to \
         `VISIBILITY_TIMEOUT_S` every `VISIBILITY_HEARTBEAT_S` (`ChangeMessageVisibility`) from a \
         timer. Abandon the {unit} at `JOB_TIMEOUT_S`: stop extending, leave the message (it \
         comes back, and goes to the dead-letter queue after its last receive)."
    );
    let _ = writeln!(
        s,
        "4. Write the result to `output_uri`, then delete the message (`DeleteMessage`): at least \
         once, so name results by `job_id` and overwrite."
    );
    let _ = writeln!(
        s,
        "5. On SIGTERM (scale-in, rollout, node drain, spot interruption): receive no more, \
         finish the {unit} in hand, exit. The pod has {} s (`terminationGracePeriodSeconds`: the \
         per-{unit} timeout plus {SHUTDOWN_S} s).\n",
        grace_period_s(i)
    );
    let _ = writeln!(
        s,
        "Why a heartbeat rather than one long visibility timeout: a worker that dies with its \
         {unit} (spot interruption, node failure) stops extending, and the message is visible \
         to another worker within {VISIBILITY_TIMEOUT_S} s instead of after the whole per-{unit} \
         timeout ({} s); each extension stays below SQS's {SQS_MAX_VISIBILITY_S} s limit \
         whatever the timeout. The queue's own visibility timeout ({} s, `{}`) is the bound \
         for a receive that sets none.\n",
        i.job_timeout_s,
        sqs::queue_visibility_s(i),
        sqs::TEMPLATE
    );

    let _ = writeln!(s, "## Probes\n");
    let _ = writeln!(
        s,
        "The worker serves no HTTP, so the probes are commands (`sh`, `test`, `date` and `stat` \
         must be in the image) reading the two files in the container's own filesystem, which a \
         restart empties:\n"
    );
    let _ = writeln!(
        s,
        "- startup: `{READY_FILE}` exists, within {} s ({} tries every {} s): the part of the \
         cold start inside the container (pipeline start {:.0} s + reading the weights {:.0} s) a \
         quarter more, as for LLM servers;",
        worker::startup_failure_threshold(i) * pod::STARTUP_PERIOD_S,
        worker::startup_failure_threshold(i),
        pod::STARTUP_PERIOD_S,
        b.cold_start.engine_start_s,
        b.cold_start.load_s,
    );
    let _ = writeln!(
        s,
        "- readiness: the same file (a rollout counts a worker once it is loaded);"
    );
    let _ = writeln!(
        s,
        "- liveness: `ALIVE_FILE` touched less than {} s ago (the per-{unit} timeout plus {} s): \
         the loop touches it at every receive and job start, so only a worker stuck beyond the \
         timeout it should have enforced is restarted. A health port served by another thread \
         would answer while the job loop hangs in a CUDA call.\n",
        alive_limit_s(i),
        SHUTDOWN_S
    );

    let _ = writeln!(s, "## Scaling\n");
    let _ = writeln!(
        s,
        "KEDA (`keda-scaledobject.yaml`) keeps {}-{} workers and takes the highest of its \
         triggers:\n",
        b.min_replicas, b.max_replicas
    );
    let _ = writeln!(
        s,
        "- `queue` (`aws-sqs-queue`): messages waiting and in flight over `queueLength` {}: the \
         {unit}s one worker finishes one after the other within {:.0} s ({}), at {:.1} s each. \
         `activationQueueLength` 0: {}.",
        queue_length(i),
        wait_budget_s(i),
        if i.scale_to_zero {
            format!(
                "the limit less a cold start of {:.0} s, since the first {unit} waits for a worker",
                b.cold_start.seconds
            )
        } else {
            "the limit; the warm pool means no cold start on the path".to_owned()
        },
        i.job_s,
        if i.scale_to_zero {
            "the first message starts a worker"
        } else {
            "the warm pool is never below one worker, so activation does not matter"
        }
    );
    let windows = schedule(i);
    if windows.is_empty() {
        let _ = writeln!(
            s,
            "- no scheduled pool: {}.",
            if i.scale_to_zero {
                format!(
                    "the plan scales to zero between jobs (the limit covers a cold start), \
                     so the queue alone drives the workers; KEDA removes the last one {} s \
                     after the queue empties (`cooldownPeriod`)",
                    inferplan_plan::autoscaling::KEDA_COOLDOWN_PERIOD_S
                )
            } else {
                "the plan's pool is the warm pool at every hour".to_owned()
            }
        );
    } else {
        let _ = writeln!(
            s,
            "- `pool-*` (`cron`, UTC): the plan's workers for the hours above the warm pool, \
             opened {} min early (the cold start) so that they are loaded when the hour begins:",
            lead_minutes(i)
        );
        for (start, len, n) in &windows {
            let _ = writeln!(
                s,
                "  - {start:02}:00-{:02}:00 UTC: {n} workers",
                (start + len) % 24
            );
        }
    }
    let _ = writeln!(
        s,
        "\nThe warm pool ({}) is the plan's quietest hour{}; the maximum ({}) its busiest. \
         Scale-in removes one worker per 5 minutes after a 10-minute window; a removed worker \
         finishes its {unit} first (grace period {} s).\n",
        b.min_replicas,
        if i.scale_to_zero {
            " (zero: the pool scales to zero)"
        } else {
            ""
        },
        b.max_replicas,
        grace_period_s(i)
    );

    let _ = writeln!(
        s,
        "## Weights (`weights_source = \"{}\"`)\n",
        b.weights_source
    );
    let gib = b.download_bytes as f64 / (1u64 << 30) as f64;
    let _ = writeln!(
        s,
        "{:.1} GiB ({}), the bytes the plan's cold start counted. {}\n",
        gib,
        b.download_source,
        match b.delivery {
            Delivery::S3ToNodeCache => format!(
                "The init container `fetch-weights` copies `{}` with {} parallel requests into \
                 the node cache `{}` ({} GiB, once per node, shared by the workers of the node).",
                b.weights_uri,
                weights::S3_CONCURRENCY,
                weights::node_cache_dir(b),
                pod::models_volume_gib(b)
            ),
            Delivery::NvmePrepull => format!(
                "The DaemonSet `{}-weights-prepull` copies `{}` into the node cache `{}` ({} GiB) \
                 as each node starts; the worker's init container `wait-for-weights` waits for it.",
                b.name,
                b.weights_uri,
                weights::node_cache_dir(b),
                pod::models_volume_gib(b)
            ),
            Delivery::FsxVolume => format!(
                "The workers mount the FSx for Lustre claim `{}` read-only.",
                weights::claim_name(b)
            ),
            Delivery::HubToNodeCache | Delivery::S3Stream => String::new(),
        }
    );
    let c = &b.cold_start;
    let _ = writeln!(
        s,
        "Cold start of a worker on a new node: {:.0} s = boot {:.0} s + copy to the node {:.0} s \
         + pipeline start {:.0} s + reading the weights {:.0} s ({}), the plan's figure.\n",
        c.seconds, c.boot_s, c.fetch_s, c.engine_start_s, c.load_s, c.basis
    );

    let _ = writeln!(s, "## Nodes\n");
    let capacity = b.capacity_types().join(", ");
    let _ = writeln!(
        s,
        "Karpenter NodePool `{}`: `{}` only, capacity types {capacity}, at most {} GPUs; root \
         volume {} GiB.{} Each worker requests 1 GPU, {} vCPUs and {} GiB of memory{}.",
        b.name,
        b.instance,
        karpenter::gpu_limit(b),
        karpenter::root_volume_gib(b),
        if capacity.contains("spot") {
            format!(
                " The plan buys spot for this {} work: an interrupted {unit} comes back to the \
                 queue within {VISIBILITY_TIMEOUT_S} s and runs again (the deployment carries \
                 `inferplan.io/interruption-tolerant`).",
                match i.mode {
                    Mode::Batch => "batch",
                    _ => "async",
                }
            )
        } else {
            String::new()
        },
        pod::cpu(b),
        pod::memory_gib(b),
        if i.offload == Offload::None {
            String::new()
        } else {
            format!(
                " (it holds the {:.1} GiB of offloaded weights)",
                i.host_weights_gib
            )
        }
    );
    let _ = writeln!(s, "\n## Apply\n");
    let _ = writeln!(
        s,
        "```\nkubectl create namespace {ns} --dry-run=client -o yaml | kubectl apply -f -\nkubectl apply -f .\ninferplan lint .\n```",
        ns = b.namespace
    );
    s
}
