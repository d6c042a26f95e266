//! `inferplan render` for image and video diffusion workloads: a queue-worker Deployment.
//!
//! There is no standard diffusion server (nothing like vLLM's OpenAI API), so the worker image
//! is an input (`render --worker-image`) and what it must do is a contract, written into the
//! rendered README ([`readme`]): take one job at a time from an SQS queue, run it on its one
//! GPU within the per-clip timeout, write the result where the message says, delete the
//! message, and keep two files that the exec probes read.
//!
//! | file | object |
//! |---|---|
//! | `deployment.yaml` | the workers: one GPU each, the warm pool as the initial replicas ([`worker`]) |
//! | `worker-serviceaccount.yaml` | the workers' identity (SQS, S3 results, S3 weights) |
//! | `serviceaccount.yaml` | the pre-pull's identity (`nvme` weights) |
//! | `weights-pvc.yaml`, `weights-prepull-daemonset.yaml` | the weights' delivery, as for LLM servers ([`super::weights`]) |
//! | `pdb.yaml` | one worker at a time through voluntary disruptions |
//! | `keda-scaledobject.yaml` | KEDA on the queue's depth (`aws-sqs-queue`) and the plan's hourly pool (`cron`) ([`queue`]) |
//! | `keda-triggerauthentication.yaml` | how KEDA reads the queue (AWS pod identity of the operator) |
//! | `queue.cfn.yaml` | the SQS queue, its dead-letter queue and the IAM policies of the workers and KEDA, as CloudFormation ([`sqs`]) |
//! | `nodepool.yaml`, `ec2nodeclass.yaml` | Karpenter v1, as for LLM servers ([`super::karpenter`]) |
//! | `README.md` | what was rendered, the message contract and the figures behind every value |
//!
//! The objects that weights, Karpenter and the PodDisruptionBudget share with the LLM render
//! are built from [`WorkerInput::base`], a [`RenderInput`] holding the deployment facts they
//! read (name, instance, purchase mix, delivery, checkpoint bytes, cold start); its LLM-only
//! fields hold neutral values that no worker object reads.

pub mod queue;
pub mod readme;
pub mod sqs;
pub mod worker;

use super::error::RenderError;
use super::input::{
    default_weights_uri, dns_name, RenderInput, SloTargets, DEFAULT_CLUSTER, DEFAULT_NAMESPACE,
    DEFAULT_PROMETHEUS_URL, DEFAULT_THROTTLE_TEMP_C,
};
use super::k8s::MAX_REPLICAS;
use super::{karpenter, weights, workload, yaml};
use inferplan_catalog::{Catalog, Dtype};
use inferplan_perf::diffusion::{diffusion_model, memory, DiffusionJob, Offload};
use inferplan_perf::Engine;
use inferplan_plan::diffusion::{DiffusionCandidate, DiffusionPlan};
use inferplan_plan::workload::Mode;
use inferplan_serving::{new_replica, Delivery, WeightsSource};

/// What `render` needs beyond the plan for a diffusion worker: the two values only the user
/// knows.
#[derive(Debug, Clone, PartialEq)]
pub struct WorkerOptions {
    /// The worker's container image (`--worker-image`): there is no standard diffusion server
    /// image, so the user brings one that implements the contract of the README.
    pub image: String,
    /// The SQS queue the jobs arrive on (`--queue-url`,
    /// `https://sqs.<region>.amazonaws.com/<account>/<name>`).
    pub queue_url: String,
}

/// Everything the worker's objects are built from.
#[derive(Debug, Clone, PartialEq)]
pub struct WorkerInput {
    /// The facts the shared objects read (weights, Karpenter, PDB, labels).
    pub base: RenderInput,
    /// Diffusion catalog name.
    pub model: String,
    /// Hugging Face repository of the pipeline (the diffusion catalog's `hf_id`).
    pub hf_id: String,
    /// Whether it makes clips (else images).
    pub video: bool,
    /// The job the plan was sized for (each message's job must not be larger).
    pub job: DiffusionJob,
    /// Denoiser format.
    pub precision: Dtype,
    /// Where the weights live while a job runs.
    pub offload: Offload,
    /// GPU memory peak of a job, GiB (the plan's).
    pub peak_memory_gib: f64,
    /// Weights offloaded to host memory while a job runs, GiB (0 without offload).
    pub host_weights_gib: f64,
    /// One job on one GPU, seconds (the plan's prediction).
    pub job_s: f64,
    /// The per-clip timeout, seconds ([`worker::job_timeout_s`]).
    pub job_timeout_s: u32,
    /// The latency promise (interactive), deadline (async) or batch window, seconds.
    pub limit_s: f64,
    /// Interactive, async or batch.
    pub mode: Mode,
    /// Whether the pool scales to zero between jobs.
    pub scale_to_zero: bool,
    /// Workers the plan keeps in each hour of the day (UTC), spare included; all zero when
    /// the pool scales to zero (KEDA follows the queue alone).
    pub hourly_workers: [u32; 24],
    /// The SQS queue URL.
    pub queue_url: String,
    /// The queue's region (from its URL): where the cluster is taken to run.
    pub queue_region: String,
    /// The region the plan priced.
    pub plan_region: String,
    /// The plan's cost per day and per output, for the README.
    pub usd_per_day: f64,
    /// Cost per image or clip, $.
    pub usd_per_output: f64,
    /// The plan's job latency at the SLO percentile at the busiest hour, seconds.
    pub latency_p_s: f64,
}

/// Builds the worker of option `number` (1-based) of a diffusion plan: `plan.options()`, the
/// list `plan --format json` prints as `candidates`.
pub fn from_plan(
    plan: &DiffusionPlan,
    number: usize,
    catalog: &Catalog,
    opts: &WorkerOptions,
) -> Result<WorkerInput, RenderError> {
    let options = plan.options();
    let c =
        number
            .checked_sub(1)
            .and_then(|i| options.get(i))
            .ok_or(RenderError::NoSuchCandidate {
                candidate: number,
                count: options.len(),
            })?;
    WorkerInput::new(plan, c, number, catalog, opts)
}

impl WorkerInput {
    /// Resolves candidate `c` (number `number`, for messages) of `plan`.
    pub fn new(
        plan: &DiffusionPlan,
        c: &DiffusionCandidate,
        number: usize,
        catalog: &Catalog,
        opts: &WorkerOptions,
    ) -> Result<WorkerInput, RenderError> {
        let w = &plan.workload;
        let image = opts.image.trim();
        if image.is_empty() || image.chars().any(char::is_whitespace) {
            return Err(RenderError::invalid(
                "--worker-image",
                format!("`{}` is not an image reference", opts.image),
            ));
        }
        let queue_region = queue_region(&opts.queue_url)?;
        let m = diffusion_model(&plan.model).ok_or_else(|| {
            RenderError::invalid(
                "model.name",
                format!("`{}` is not in the diffusion catalog", plan.model),
            )
        })?;
        let inst = catalog.instance(&c.instance)?;
        let gpu = catalog.instance_gpu(inst).ok_or_else(|| {
            RenderError::invalid(
                "instance",
                format!("{} has no GPU in the catalog", inst.name),
            )
        })?;
        let gpu_memory_gib = inst
            .gpu_mem_gib()
            .or_else(|| gpu.memory_gib())
            .ok_or_else(|| {
                RenderError::invalid("gpu", format!("memory of {} not known", gpu.name))
            })?;
        let source =
            WeightsSource::parse(&w.constraints.weights_source).unwrap_or(WeightsSource::S3);
        if source == WeightsSource::Hub {
            return Err(RenderError::invalid(
                "constraints.weights_source",
                format!(
                    "`hub` is not rendered for diffusion workers: the diffusion catalog has no \
                     file listing of `{}` (its repositories hold several variants, so the cache \
                     cannot be sized from it); copy the files the worker loads to S3 and use \
                     `weights_source = \"s3\"` or `\"nvme\"`",
                    m.hf_id
                ),
            ));
        }
        // The bytes the plan's cold start counted: denoiser in the planned format, text
        // encoders and VAE in 16 bits (`inferplan_perf::diffusion::memory`).
        let mem = memory(m, &plan.job, c.precision, c.offload);
        let download_bytes = (mem.weights_gib * GIB).round() as u64;
        let cold_start = new_replica(
            &w.constraints.weights_source,
            None,
            gpu.arch,
            download_bytes as f64,
            inst,
        );
        let gpus_per_instance = c.gpus_per_instance.max(1);
        let min = if c.scale_to_zero { 0 } else { c.warm_pool_gpus };
        let mut max = c.gpus_peak.max(1);
        if max <= min {
            // An autoscaler whose bounds are equal cannot move (IL117): one instance more.
            max = min.saturating_add(gpus_per_instance);
        }
        if max > MAX_REPLICAS {
            return Err(RenderError::invalid(
                "gpus_peak",
                format!("{max} workers are above {MAX_REPLICAS}, the largest replica count Kubernetes accepts"),
            ));
        }
        let hourly_workers = if c.scale_to_zero {
            [0; 24]
        } else {
            c.hourly_gpus.map(|g| g.max(0.0).ceil() as u32)
        };
        let limit_s = w
            .limit_s()
            .unwrap_or_else(|| w.slo.window_hours.unwrap_or(24.0) * 3600.0);
        // A checkpoint directory per format: the FP8 pipeline's files are not the 16-bit
        // repository's.
        let checkpoint = match c.precision {
            Dtype::Bf16 | Dtype::Fp16 => m.hf_id.clone(),
            p => format!("{}-{p}", m.hf_id),
        };
        let instances = c.instances_peak.max(1);
        let name = dns_name(&w.name);
        let delivery = Delivery::of(source, None);
        let base = RenderInput {
            name,
            namespace: DEFAULT_NAMESPACE.to_owned(),
            cluster: DEFAULT_CLUSTER.to_owned(),
            prometheus_url: DEFAULT_PROMETHEUS_URL.to_owned(),
            // No engine: a diffusion worker. The shared objects never read it for workers.
            engine: Engine::Vllm,
            image: image.to_owned(),
            candidate: number,
            workload: w.name.clone(),
            model: m.name.clone(),
            served_model_name: m.hf_id.clone(),
            weights_uri: default_weights_uri(DEFAULT_CLUSTER, &checkpoint),
            checkpoint,
            native_weights: None,
            model_max_context: 0,
            instance: inst.name.clone(),
            region: queue_region.clone(),
            gpu: gpu.name.clone(),
            gpus_per_instance,
            gpu_memory_gib,
            gpu_tdp_w: gpu.tdp_w.filter(|w| *w > 0.0),
            gpu_temp_alert_c: DEFAULT_THROTTLE_TEMP_C,
            vcpus: inst.vcpus,
            ram_gib: inst.ram_gib,
            local_nvme_gb: inst.local_nvme_gb.filter(|g| *g > 0.0),
            tp: 1,
            pp: 1,
            gpus_per_replica: 1,
            nodes_per_replica: 1,
            gpus_per_pod: 1,
            replicas: max,
            min_replicas: min,
            scale_up_window_s: 0,
            run: None,
            floors: Vec::new(),
            scale_down_window_s: inferplan_plan::autoscaling::SCALE_DOWN_WINDOW_S,
            replicas_per_instance: gpus_per_instance,
            instances,
            precision: c.precision,
            kv_dtype: c.precision,
            max_model_len: 0,
            refused_share: None,
            max_model_len_basis: String::new(),
            max_replicas: max,
            max_num_seqs: 1,
            max_num_batched_tokens: 0,
            gpu_memory_utilization: 0.0,
            max_rps_per_replica: 1.0 / c.job_s.max(1e-9),
            e2e_p99_ms: c.latency_p_s * 1000.0,
            target_in_flight: 1,
            in_flight_at_capacity: 1.0,
            slo: SloTargets {
                ttft_ms: None,
                tpot_ms: None,
                e2e_ms: Some(limit_s * 1000.0),
                quantile: w.slo.percentile.quantile(),
                mode: w.slo.mode,
            },
            peak_hours_utc: Vec::new(),
            purchase: c.purchase_mix.clone(),
            weights_gib: mem.weights_gib,
            download_bytes,
            download_source: format!(
                "derived: denoiser {:.3}e9 parameters × {} B ({}), text encoders {:.3}e9 and \
                 VAE {:.1}e6 parameters × 2 B (data/models/diffusion/diffusion_models.csv)",
                m.denoiser_params / 1e9,
                c.precision.bytes(),
                c.precision,
                m.text_encoder_params / 1e9,
                m.vae_params / 1e6
            ),
            checkpoint_catalogued: false,
            weights_source: source.as_str().to_owned(),
            delivery,
            cold_start,
            efa_interfaces: None,
            placement_group: None,
            notes: Vec::new(),
            monitoring: super::cloudwatch::Monitoring::Prometheus,
            // The planner runs diffusion on NVIDIA GPUs only (`not_calibrated` elsewhere).
            neuron: None,
            lmdeploy: None,
        };
        let mut input = WorkerInput {
            base,
            model: m.name.clone(),
            hf_id: m.hf_id.clone(),
            video: m.video,
            job: plan.job,
            precision: c.precision,
            offload: c.offload,
            peak_memory_gib: c.peak_memory_gib,
            host_weights_gib: (mem.weights_gib - mem.resident_weights_gib).max(0.0),
            job_s: c.job_s,
            job_timeout_s: 0,
            limit_s,
            mode: w.slo.mode,
            scale_to_zero: c.scale_to_zero,
            hourly_workers,
            queue_url: opts.queue_url.clone(),
            queue_region,
            plan_region: c.region.clone(),
            usd_per_day: c.usd_per_day,
            usd_per_output: c.usd_per_output,
            latency_p_s: c.latency_p_s,
        };
        input.job_timeout_s = worker::job_timeout_s(input.job_s);
        Ok(input)
    }

    /// "clip" or "image".
    pub fn unit(&self) -> &'static str {
        if self.video {
            "clip"
        } else {
            "image"
        }
    }
}

const GIB: f64 = (1u64 << 30) as f64;

/// The region of an SQS queue URL `https://sqs.<region>.amazonaws.com/<account>/<name>`, or
/// an error naming `--queue-url` and the expected form.
pub fn queue_region(url: &str) -> Result<String, RenderError> {
    let bad = |why: &str| {
        RenderError::invalid(
            "--queue-url",
            format!(
                "`{url}` {why}: give the queue's URL, https://sqs.<region>.amazonaws.com/<account id>/<queue name> (`aws sqs get-queue-url --queue-name NAME`)"
            ),
        )
    };
    let rest = url
        .strip_prefix("https://sqs.")
        .ok_or_else(|| bad("does not start with https://sqs."))?;
    let (host, path) = rest
        .split_once('/')
        .ok_or_else(|| bad("has no account and queue name"))?;
    let region = host
        .strip_suffix(".amazonaws.com")
        .or_else(|| host.strip_suffix(".amazonaws.com.cn"))
        .ok_or_else(|| bad("is not an SQS endpoint (sqs.<region>.amazonaws.com)"))?;
    let valid_region = !region.is_empty()
        && region
            .chars()
            .all(|ch| ch.is_ascii_lowercase() || ch.is_ascii_digit() || ch == '-');
    let parts: Vec<&str> = path.split('/').collect();
    let valid_path = parts.len() == 2
        && parts[0].len() == 12
        && parts[0].chars().all(|ch| ch.is_ascii_digit())
        && !parts[1].is_empty()
        && parts[1].len() <= 80
        && parts[1]
            .chars()
            .all(|ch| ch.is_ascii_alphanumeric() || ch == '-' || ch == '_' || ch == '.');
    if !valid_region {
        return Err(bad("has no region"));
    }
    if !valid_path {
        return Err(bad("does not end in /<12-digit account id>/<queue name>"));
    }
    Ok(region.to_owned())
}

/// The rendered files, as (file name, content), `README.md` last.
pub fn render(input: &WorkerInput) -> Vec<(String, String)> {
    let base = &input.base;
    let mut files: Vec<(String, String, String)> = Vec::new();
    files.push((
        "deployment.yaml".to_owned(),
        yaml::document(&worker::deployment(input)),
        format!(
            "Deployment of the queue workers: one {} at a time on one {} each",
            input.unit(),
            base.gpu
        ),
    ));
    files.push((
        "worker-serviceaccount.yaml".to_owned(),
        yaml::document(&worker::service_account(input)),
        "ServiceAccount of the workers (give it a role through EKS Pod Identity: SQS and S3)"
            .to_owned(),
    ));
    if base.delivery == Delivery::NvmePrepull {
        if let Some(sa) = weights::service_account(base) {
            files.push((
                "serviceaccount.yaml".to_owned(),
                yaml::document(&sa),
                "ServiceAccount of the weights pre-pull (reads S3)".to_owned(),
            ));
        }
    }
    if let Some(pvc) = weights::claim(base) {
        files.push((
            "weights-pvc.yaml".to_owned(),
            yaml::document(&pvc),
            "PersistentVolumeClaim of the FSx for Lustre file system holding the weights"
                .to_owned(),
        ));
    }
    if let Some(ds) = weights::prepull_daemon_set(base) {
        files.push((
            "weights-prepull-daemonset.yaml".to_owned(),
            yaml::document(&ds),
            "DaemonSet that pre-pulls the weights from S3 into each node's NVMe cache".to_owned(),
        ));
    }
    files.push((
        "pdb.yaml".to_owned(),
        yaml::document(&workload::pdb(base)),
        "PodDisruptionBudget: one worker at a time".to_owned(),
    ));
    files.push((
        "keda-scaledobject.yaml".to_owned(),
        yaml::document(&queue::scaled_object(input)),
        "KEDA ScaledObject: workers from the queue's depth (aws-sqs-queue) and the plan's hourly pool (cron)"
            .to_owned(),
    ));
    files.push((
        "keda-triggerauthentication.yaml".to_owned(),
        yaml::document(&queue::trigger_authentication(input)),
        "KEDA TriggerAuthentication: the operator's AWS identity reads the queue".to_owned(),
    ));
    files.push((
        sqs::TEMPLATE.to_owned(),
        sqs::template(input),
        format!(
            "CloudFormation: the SQS queue `{}` (visibility {} s = the per-{} timeout + {} s, \
             dead-letter queue after {} receives, SSE) and the IAM policies of the workers and \
             KEDA",
            sqs::queue_name(&input.queue_url),
            sqs::queue_visibility_s(input),
            input.unit(),
            worker::SHUTDOWN_S,
            sqs::MAX_RECEIVE_COUNT
        ),
    ));
    files.push((
        "nodepool.yaml".to_owned(),
        yaml::document(&karpenter::node_pool(base)),
        "Karpenter NodePool: the plan's instance type and capacity types, GPU taint".to_owned(),
    ));
    files.push((
        "ec2nodeclass.yaml".to_owned(),
        yaml::document(&karpenter::ec2_node_class(base)),
        "Karpenter EC2NodeClass: AMI, subnets, NVMe instance store as ephemeral storage".to_owned(),
    ));
    let listing: Vec<(String, String)> = files
        .iter()
        .map(|(n, _, what)| (n.clone(), what.clone()))
        .collect();
    let mut out: Vec<(String, String)> = files.into_iter().map(|(n, t, _)| (n, t)).collect();
    out.push(("README.md".to_owned(), readme::readme(input, &listing)));
    out
}
