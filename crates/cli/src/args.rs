//! Command-line arguments (clap types stay here; commands turn them into library inputs).

use clap::{Args, Parser, Subcommand, ValueEnum};
use inferplan_catalog::bounds::*;
use inferplan_catalog::Dtype;
use inferplan_deploy::rightsize::UtilUnit;
use inferplan_perf::{Engine, PerfError};
use inferplan_plan::autoscaling::{self, PolicyKind, ScalingPolicy, SelectPolicy};
use inferplan_plan::workload::{DataClass, Mode, Percentile, Platform as PlanPlatform, Tenancy};
use inferplan_sim::fleet::{Router, ScaleMetric, Trigger};
use serde::de::{value::StrDeserializer, DeserializeOwned, IntoDeserializer};
use std::path::PathBuf;

/// A flag's number parser that also checks the flag's [`Bound`] (finite, in range), so clap's
/// error names the flag: `invalid value '1e308' for '--rate-rps <RATE_RPS>': must be a number
/// in (0, 100000] requests/s, got 1e308`.
fn real(bound: Bound) -> impl Fn(&str) -> Result<f64, String> + Clone + Send + Sync + 'static {
    move |s| {
        let v: f64 = s
            .trim()
            .parse()
            .map_err(|_| format!("not a number; must be {bound}"))?;
        bound.check(v)
    }
}

/// A whole-number flag's parser that checks the flag's [`Bound`] (see [`real`]).
fn whole<T: TryFrom<u64>>(
    bound: Bound,
) -> impl Fn(&str) -> Result<T, String> + Clone + Send + Sync + 'static {
    move |s| {
        let v: u64 = s
            .trim()
            .parse()
            .map_err(|_| format!("not a whole number; must be {bound}"))?;
        let v = bound.check_u64(v)?;
        T::try_from(v).map_err(|_| format!("must be {bound}, got {v}"))
    }
}

/// `--engine`: the performance model's own names (`Engine::from_str`), so clap's error names
/// the flag and the engines.
fn engine(s: &str) -> Result<Engine, String> {
    s.parse().map_err(|e| match e {
        PerfError::Refused { message, .. } => message,
        other => other.to_string(),
    })
}

/// A plan's `--engine`: checked against the engines `estimate` takes, kept as written (it
/// overrides the workload file's `model.engines`, which the plan echoes).
fn engine_name(s: &str) -> Result<String, String> {
    engine(s).map(|_| s.to_owned())
}

/// `--precision` and `--kv-dtype`: the catalog's own names (`Dtype::from_str`).
fn dtype(s: &str) -> Result<Dtype, String> {
    s.parse()
}

/// A plan's `--precision`: a weight format or `any`, kept as written (it overrides the
/// workload file's `model.precision`).
fn precision_or_any(s: &str) -> Result<String, String> {
    if s.trim().eq_ignore_ascii_case("any") {
        return Ok(s.to_owned());
    }
    dtype(s)
        .map(|_| s.to_owned())
        .map_err(|m| format!("{m}, or `any`"))
}

/// A value of a workload enum (`p99`, `async`, `shared`, ...) by the name the workload file
/// uses (its serde name), so clap's error lists the names the library accepts.
fn named<T: DeserializeOwned>(s: &str) -> Result<T, String> {
    let d: StrDeserializer<'_, serde::de::value::Error> = s.into_deserializer();
    T::deserialize(d).map_err(|e| e.to_string())
}

/// `--router`: the simulator's routers.
fn router(s: &str) -> Result<Router, String> {
    Ok(match s {
        "random" => Router::Random,
        "round-robin" | "rr" => Router::RoundRobin,
        "least-outstanding" | "lor" => Router::LeastOutstanding,
        "least-kv" => Router::LeastKv,
        other => {
            return Err(format!(
                "unknown `{other}`; use random, round-robin, least-outstanding or least-kv"
            ))
        }
    })
}

/// `--util-unit`: the rightsize reader's own names (`UtilUnit::from_str`).
fn util_unit(s: &str) -> Result<UtilUnit, String> {
    s.parse()
}

/// Plan, simulate and audit GPU inference deployments.
///
/// inferplan answers capacity questions with numbers from an embedded, sourced catalog of GPUs,
/// cloud instances (with prices) and open models. Start with `inferplan fit`.
#[derive(Debug, Parser)]
#[command(
    name = "inferplan",
    version,
    propagate_version = true,
    max_term_width = 100
)]
pub struct Cli {
    /// Directory of catalog overrides: gpus.csv, instances.csv, models.csv, prices.csv, a
    /// SkyPilot vms.csv and *.json Hugging Face model configs (see docs/catalog.md).
    #[arg(long, global = true, env = "INFERPLAN_CATALOG_DIR", value_name = "DIR")]
    pub catalog_dir: Option<PathBuf>,

    /// A price file read after the catalog and `--catalog-dir`: EC2 rows and managed rows
    /// (`platform,instance_type,region,on_demand_usd_hr,usage,source,date` with `sagemaker` and
    /// an `ml.*` type), in the `prices.csv` format of docs/catalog.md.
    #[arg(long, global = true, value_name = "FILE")]
    pub prices: Option<PathBuf>,

    /// The command.
    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Does a model fit on a GPU or instance, and with how much room?
    ///
    /// Budgets GPU memory per GPU (weights, KV cache, activations, runtime overhead) two ways:
    /// the safety-margin rule (weights + KV + activations) × 1.2, and what vLLM would reserve
    /// for KV cache at --gpu-memory-utilization. Exit code 0 when it fits, 1 when it does not.
    ///
    /// Examples:
    ///   inferplan fit --model llama-3.3-70b --precision fp8 --instance g6e.12xlarge --context 8192 --concurrency 16
    ///   inferplan fit --model meta-llama/Llama-3.1-8B-Instruct --gpu A10G --context 4096
    ///   inferplan fit --model-config ./config.json --gpu H100 --gpus 2 --format json
    ///   inferplan fit --model wan2.1-t2v-14b --instance g6e.xlarge --seconds 5   (diffusion: VRAM with CPU offload)
    #[command(verbatim_doc_comment)]
    Fit(Box<FitArgs>),

    /// How fast does a deployment serve a workload, and at what cost per token?
    ///
    /// Predicts TTFT, TPOT, end-to-end latency, throughput (whole deployment and per GPU),
    /// requests/s and $ per million output tokens from the roofline step-time model with
    /// efficiencies fitted to published measurements (see VALIDATION.md). The batch is capped
    /// by the engine's limits and by the KV cache the `fit` memory budget leaves; requests
    /// beyond it queue.
    ///
    /// Examples:
    ///   inferplan estimate --model llama-3.1-8b --gpu H100 --input-tokens 1000 --output-tokens 200 --concurrency 32
    ///   inferplan estimate --model llama-3.3-70b --precision fp8 --instance p5.48xlarge --tp 8 --saturate
    ///   inferplan estimate --model qwen3-32b --instance g6e.12xlarge --engine sglang --rate-rps 2 --format json
    ///   inferplan estimate --model sdxl --instance g6.xlarge --steps 30   (diffusion: seconds and $ per image)
    #[command(verbatim_doc_comment)]
    Estimate(Box<EstimateArgs>),

    /// Find the cheapest deployments that keep a workload's SLOs.
    ///
    /// Searches every instance type, GPU count, TP/PP layout, precision and engine in the
    /// catalog: memory from `fit`, per-replica capacity at the SLO percentile from `estimate`
    /// (queueing included), replicas for the peak (N+1 on request), cost at a purchase mix (a
    /// savings plan for every instance busy enough for it to pay, on demand for the rest, spot
    /// for async/batch), and findings with stable codes. Exit code 1 when nothing meets the SLOs.
    ///
    /// With a diffusion model (images, video; `inferplan catalog diffusion`), sizes a pool of
    /// GPUs running one job each for a latency promise with queueing at the peak, and answers
    /// with the warm pool, $ per image or clip and the break-even volume against a managed
    /// price (see docs/diffusion.md and the section "Diffusion workloads" below).
    ///
    /// Examples:
    ///   inferplan plan examples/chat-70b-fp8.toml
    ///   inferplan plan examples/video-720p-report-clips.toml
    ///   inferplan plan --model sdxl --jobs-per-day 20000 --latency-s 15 --managed-usd-per-image 0.04
    ///   inferplan plan --model llama-3.1-8b --rate-rps 5 --ttft-ms 300 --tpot-ms 40
    ///   inferplan plan examples/single-gpu-13b-fp8.toml --format md > ADR.md
    #[command(verbatim_doc_comment)]
    Plan(Box<PlanArgs>),

    /// Simulate a fleet serving real or synthetic traffic, request by request.
    ///
    /// A deterministic discrete-event simulation: arrivals (Poisson, Gamma, a daily profile or
    /// a replayed trace), replicas running a vLLM-style continuous-batching scheduler with
    /// chunked prefill, a paged KV cache sized by `fit` and preemption, steps timed by the same
    /// model as `estimate`; a router, an autoscaler with cold starts, spot interruptions and
    /// client retries. Reports latency percentiles, SLO attainment, goodput and cost.
    ///
    /// Examples:
    ///   inferplan simulate --model llama-3.1-8b --gpu H100 --rate-rps 20 --requests 20000
    ///   inferplan simulate --model llama-3.3-70b --precision fp8 --instance p5.48xlarge --tp 4 --replicas 2 --trace ../shared/data/traces/azure_llm_2023_conv.csv --time-scale 0.5
    ///   inferplan simulate --model llama-3.1-8b --instance g6e.xlarge --rate-rps 7 --duration 3600 --autoscale queue:2 --max-replicas 10 --plot out.svg
    ///   inferplan simulate --model llama-3.1-8b --instance g6e.xlarge --rate-rps 7 --duration 3600 --autoscale inflight:24 --autoscale queue:6 --max-replicas 10
    ///   inferplan simulate --deploy d/ --workload examples/chat-70b-fp8.toml --duration 86400
    #[command(
        verbatim_doc_comment,
        mut_arg("model", |a| a.required_unless_present_any(["model_config", "deploy"])),
        mut_arg("instance", |a| a.required_unless_present_any(["gpu", "deploy"]))
    )]
    Simulate(Box<SimulateArgs>),

    /// Write the Kubernetes manifests, Karpenter node pool and Prometheus rules of a plan.
    ///
    /// From a workload file (planned first) or the JSON of `inferplan plan --format json`,
    /// for one candidate (default: the plan's #1, else the first render writes): a Deployment
    /// (or LeaderWorkerSet across nodes) running vLLM or SGLang on GPUs, or vLLM's Neuron
    /// backend on Inferentia2 and Trainium, with arguments from the plan, Service, PodDisruptionBudget,
    /// KEDA ScaledObject on queue depth, Karpenter NodePool and EC2NodeClass, PodMonitor, and
    /// alerting and recording rules for GPU health (DCGM) and the SLOs. See docs/render.md.
    ///
    /// Examples:
    ///   inferplan render examples/chat-70b-fp8.toml --out deploy/
    ///   inferplan plan examples/chat-70b-fp8.toml --format json --top 10 > plan.json && inferplan render --plan plan.json --candidate 4 --out deploy/
    #[command(verbatim_doc_comment)]
    Render(RenderArgs),

    /// Audit Kubernetes manifests for GPU-inference mistakes.
    ///
    /// Reads YAML files, directories, multi-document streams or `-` (stdin), Helm output
    /// included, and reports findings of rules with stable codes (see docs/lint.md). Also
    /// reads CloudFormation templates (YAML with `!Ref`-style tags, or JSON files given by
    /// name) for SageMaker endpoints: scaling policies, scale to zero, startup timeouts and
    /// volumes against the model. Exit code 1 when a finding at error level exists, 2 on
    /// unreadable input.
    ///
    /// Examples:
    ///   inferplan lint deploy/
    ///   helm template my-release ./chart | inferplan lint - --format sarif > lint.sarif
    #[command(verbatim_doc_comment)]
    Lint(LintArgs),

    /// Rightsize a deployment from GPU metrics (DCGM CSV or Prometheus range-query JSON).
    ///
    /// Reports average and peak utilisation and memory, verdicts by the practitioners'
    /// thresholds (average below 40 % over a week: over-provisioned; regularly above 80 %:
    /// under-provisioned; memory above 85 %: at risk), and, with a workload, the cheaper or
    /// safer deployment from `plan`. See docs/rightsize.md.
    ///
    /// Exit codes: 0 when no action is needed, 1 when the fleet is over- or under-provisioned
    /// or its memory is at risk, 2 on bad input.
    ///
    /// Example:
    ///   inferplan rightsize metrics.csv --instance g6e.2xlarge --workload examples/single-gpu-13b-fp8.toml --current-usd-per-hour 4.48
    #[command(verbatim_doc_comment)]
    Rightsize(RightsizeArgs),

    /// Fit the efficiency parameters of the performance model to measured rows.
    ///
    /// Fits per engine, GPU architecture and precision (where enough rows exist) and reports
    /// the in-sample error next to leave-one-source-out cross-validation. Writes the parameter
    /// file with --output (the embedded one is data/perf/efficiency.csv). Given the measured
    /// kernel timings instead (data/perf/kernels.csv), fits the per-GPU kernel curves
    /// (data/perf/kernel_curves.csv).
    ///
    /// Examples:
    ///   inferplan calibrate ../shared/data/measured/llm_throughput.csv ../shared/data/measured/aic_silicon_sample.csv --output data/perf/efficiency.csv
    ///   inferplan calibrate data/perf/kernels.csv --output data/perf/kernel_curves.csv
    #[command(verbatim_doc_comment)]
    Calibrate(CalibrateArgs),

    /// List or show catalog entries (GPUs, instance types with prices, models).
    #[command(subcommand)]
    Catalog(CatalogCommand),

    /// Score predictions against measured rows.
    ///
    /// Reads measured performance rows (the schemas of llm_throughput.csv and
    /// aic_silicon_sample.csv) and vLLM memory startups (vllm_memory.csv), predicts each row it
    /// can map, and reports absolute percentage errors by metric, GPU, engine and source, with
    /// every row it cannot map counted under a reason.
    ///
    /// Examples:
    ///   inferplan validate ../shared/data/measured/llm_throughput.csv ../shared/data/measured/aic_silicon_sample.csv
    ///   inferplan validate ../shared/data/measured/vllm_memory.csv --format md
    #[command(verbatim_doc_comment)]
    Validate(ValidateArgs),

    /// Serve the JSON API (one endpoint per command) and the web page.
    ///
    /// Answers with the same JSON as `--format json` of each command, computed by the same
    /// code. Binds to loopback unless --bind says otherwise; there is no authentication, so
    /// bind elsewhere only on a network you trust. Stops on Ctrl-C or SIGTERM after the
    /// requests in flight. See docs/serve.md.
    ///
    /// Examples:
    ///   inferplan serve
    ///   inferplan serve --bind 127.0.0.1:9000 --catalog-dir examples/catalog-dir
    #[command(verbatim_doc_comment)]
    Serve(ServeArgs),
}

/// Arguments of `serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address and port to listen on (port 0 picks a free one).
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub bind: std::net::SocketAddr,

    /// Largest request body, bytes (413 above).
    #[arg(long, default_value_t = 1 << 20, value_parser = clap::value_parser!(u64).range(1024..=(1 << 30)))]
    pub max_body_bytes: u64,

    /// Longest a request may compute, seconds (503 past it).
    #[arg(long, default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub timeout_s: u64,

    /// Requests computing at once (default: the cores); more wait in a queue.
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..=1024))]
    pub concurrency: Option<u64>,
}

/// Output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Aligned text for a terminal.
    Table,
    /// JSON (a stable contract: snake_case fields with units in their names).
    Json,
    /// Markdown tables.
    Md,
}

/// `--format` of the commands that answer with a table, JSON or Markdown.
#[derive(Debug, Args)]
pub struct FormatArg {
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

/// `--params`: the efficiency parameters of the performance model.
#[derive(Debug, Args)]
pub struct ParamsArg {
    /// Efficiency parameter file to use instead of the embedded one.
    #[arg(long, value_name = "CSV")]
    pub params: Option<PathBuf>,
}

/// `--region`: where prices are read.
#[derive(Debug, Args)]
pub struct RegionArg {
    /// Region of the on-demand prices.
    #[arg(long, default_value = "us-east-1")]
    pub region: String,
}

/// What runs where: shared by `fit`, `estimate` and `simulate`.
#[derive(Debug, Args)]
pub struct DeploymentArgs {
    /// Model name, Hugging Face id or alias (e.g. `llama-3.3-70b`).
    #[arg(
        long,
        required_unless_present = "model_config",
        conflicts_with = "model_config"
    )]
    pub model: Option<String>,

    /// A Hugging Face config.json to use instead of a catalog model.
    #[arg(long, value_name = "PATH")]
    pub model_config: Option<PathBuf>,

    /// Weight precision: bf16, fp16, fp8, int8, int4 (GPTQ/AWQ), fp4 (NVFP4), mxfp4.
    #[arg(long, default_value = "bf16", value_parser = dtype)]
    pub precision: Dtype,

    /// KV-cache precision: bf16, fp16 or fp8. Default: fp8 when the weights are 8-bit or
    /// smaller and the GPU has native FP8, else bf16.
    #[arg(long, value_parser = dtype)]
    pub kv_dtype: Option<Dtype>,

    /// Cloud instance type (e.g. g6e.12xlarge).
    #[arg(long, required_unless_present = "gpu", conflicts_with = "gpu")]
    pub instance: Option<String>,

    /// GPU name instead of an instance (e.g. H100, L40S, A10G).
    #[arg(long)]
    pub gpu: Option<String>,

    /// Number of GPUs with --gpu.
    #[arg(long, default_value_t = 1, requires = "gpu", value_parser = whole::<u32>(GPUS))]
    pub gpus: u32,

    /// Tensor-parallel degree. Default: all GPUs of the instance (or --gpus).
    #[arg(long, value_parser = whole::<u32>(GPUS))]
    pub tp: Option<u32>,

    /// Pipeline-parallel degree.
    #[arg(long, default_value_t = 1, value_parser = whole::<u32>(GPUS))]
    pub pp: u32,
}

/// Arguments of `fit`.
#[derive(Debug, Args)]
pub struct FitArgs {
    /// Model, hardware and layout.
    #[command(flatten)]
    pub dep: DeploymentArgs,

    /// Tokens per sequence (prompt + output). Default: 8192, or the model's maximum if lower.
    #[arg(long, value_parser = whole::<u64>(TOKENS))]
    pub context: Option<u64>,

    /// Sequences in flight.
    #[arg(long, default_value_t = 1, value_parser = whole::<u64>(SEQUENCES))]
    pub concurrency: u64,

    /// vLLM's --gpu-memory-utilization for the engine view.
    #[arg(long, default_value_t = 0.9, value_parser = real(FRACTION))]
    pub gpu_memory_utilization: f64,

    /// Multiplier on (weights + KV cache + activations).
    #[arg(long, default_value_t = 1.2, value_parser = real(SAFETY_MARGIN))]
    pub safety_margin: f64,

    /// Engine's max_num_seqs. Default: vLLM's (1024 on GPUs of 70 GiB or more, else 256).
    #[arg(long, value_parser = whole::<u64>(SEQUENCES))]
    pub max_num_seqs: Option<u64>,

    /// Engine's max_num_batched_tokens. Default: vLLM's (8192 on GPUs of 70 GiB or more, else 2048).
    #[arg(long, value_parser = whole::<u64>(TOKENS))]
    pub max_num_batched_tokens: Option<u64>,

    /// Tokens per KV-cache block.
    #[arg(long, default_value_t = 16, value_parser = whole::<u64>(BLOCK_TOKENS))]
    pub block_size: u64,

    /// Output format.
    #[command(flatten)]
    pub format: FormatArg,

    /// The image or video job (diffusion models).
    #[command(flatten)]
    pub job: DiffusionJobArgs,
}

/// Arguments of `estimate`.
#[derive(Debug, Args)]
pub struct EstimateArgs {
    /// Model, hardware and layout.
    #[command(flatten)]
    pub dep: DeploymentArgs,

    /// Serving engine: vllm, sglang, trtllm, tgi, lmdeploy, neuron.
    #[arg(long, default_value = "vllm", value_parser = engine)]
    pub engine: Engine,

    /// Prompt tokens per request.
    #[arg(long, default_value_t = 1000, value_parser = whole::<u64>(TOKENS))]
    pub input_tokens: u64,

    /// Generated tokens per request.
    #[arg(long, default_value_t = 200, value_parser = whole::<u64>(TOKENS))]
    pub output_tokens: u64,

    /// Closed loop: this many requests in flight at all times.
    #[arg(long, conflicts_with_all = ["saturate", "rate_rps"], value_parser = whole::<u64>(SEQUENCES))]
    pub concurrency: Option<u64>,

    /// Every request queued at once (offline throughput benchmarks): the largest batch that fits.
    #[arg(long, conflicts_with = "rate_rps")]
    pub saturate: bool,

    /// Open loop: Poisson arrivals at this many requests/s.
    #[arg(long, value_parser = real(RATE_RPS))]
    pub rate_rps: Option<f64>,

    /// Engine's max_num_seqs (default: the engine's own).
    #[arg(long, value_parser = whole::<u64>(SEQUENCES))]
    pub max_num_seqs: Option<u64>,

    /// Engine's token budget per step (default: the engine's own).
    #[arg(long, value_parser = whole::<u64>(TOKENS))]
    pub max_num_batched_tokens: Option<u64>,

    /// Fraction of GPU memory the engine budgets (default: the engine's own, 0.9 for vLLM).
    #[arg(long, value_parser = real(FRACTION))]
    pub gpu_memory_utilization: Option<f64>,

    /// Region of the on-demand price.
    #[command(flatten)]
    pub region: RegionArg,

    /// Efficiency parameters.
    #[command(flatten)]
    pub params: ParamsArg,

    /// Output format.
    #[command(flatten)]
    pub format: FormatArg,

    /// The image or video job (diffusion models).
    #[command(flatten)]
    pub job: DiffusionJobArgs,
}

/// One image or video generation job, for diffusion models (`inferplan catalog diffusion`
/// lists them). Unset values take the model's defaults.
#[derive(Debug, Args)]
#[command(next_help_heading = "Diffusion models (images and video)")]
pub struct DiffusionJobArgs {
    /// Output width in pixels (default: the model's).
    #[arg(long, value_parser = whole::<u64>(PIXELS))]
    pub width: Option<u64>,

    /// Output height in pixels (default: the model's).
    #[arg(long, value_parser = whole::<u64>(PIXELS))]
    pub height: Option<u64>,

    /// Frames per clip (video models; default: the model's clip length).
    #[arg(long, conflicts_with = "seconds", value_parser = whole::<u64>(FRAMES))]
    pub frames: Option<u64>,

    /// Clip length in seconds instead of --frames (video models). Clips longer than the model
    /// generates at once are made of consecutive segments.
    #[arg(long, value_parser = real(CLIP_SECONDS))]
    pub seconds: Option<f64>,

    /// Frames per second (video models; default: the model's).
    #[arg(long, value_parser = real(FPS))]
    pub fps: Option<f64>,

    /// Denoising steps (default: the model's reference setting).
    #[arg(long, value_parser = whole::<u64>(STEPS))]
    pub steps: Option<u64>,

    /// Images or clips generated together.
    #[arg(long, value_parser = whole::<u64>(BATCH))]
    pub batch: Option<u64>,

    /// No classifier-free guidance pass (guidance- or step-distilled variants, e.g. 4-step
    /// LightX2V or LCM checkpoints).
    #[arg(long)]
    pub no_cfg: bool,
}

impl DiffusionJobArgs {
    /// The first job flag given on the command line, for the refusal on a language model.
    /// Every field is named, so a new flag does not compile until it is sorted here.
    pub fn given(&self) -> Option<&'static str> {
        let DiffusionJobArgs {
            width,
            height,
            frames,
            seconds,
            fps,
            steps,
            batch,
            no_cfg,
        } = self;
        [
            ("--width", width.is_some()),
            ("--height", height.is_some()),
            ("--frames", frames.is_some()),
            ("--seconds", seconds.is_some()),
            ("--fps", fps.is_some()),
            ("--steps", steps.is_some()),
            ("--batch", batch.is_some()),
            ("--no-cfg", *no_cfg),
        ]
        .into_iter()
        .find_map(|(flag, given)| given.then_some(flag))
    }
}

/// Arguments of `plan`. Flags override the fields of the workload file. The model kind (LLM or
/// diffusion) decides which of the groups [`PlanLlmArgs`] and [`PlanDiffusionArgs`] applies;
/// flags of the other group are refused.
#[derive(Debug, Args)]
#[command(mut_arg("format", |a| a.help(
    "Output format: table, json, or md (an architecture decision record)"
)))]
pub struct PlanArgs {
    /// Workload file (TOML, see docs/plan.md). Without it, give at least --model and --rate-rps.
    pub workload: Option<PathBuf>,

    /// Model name, alias or Hugging Face id (`model.name`).
    #[arg(long)]
    pub model: Option<String>,

    /// Weight format, or `any` to let the planner choose (`model.precision`).
    #[arg(long, value_parser = precision_or_any)]
    pub precision: Option<String>,

    /// Flags of LLM workloads.
    #[command(flatten)]
    pub llm: PlanLlmArgs,

    /// Flags of both kinds of workload.
    #[command(flatten)]
    pub shared: PlanSharedArgs,

    /// How many candidates to show.
    #[arg(long, default_value_t = 5, value_parser = whole::<usize>(TOP))]
    pub top: usize,

    /// Also list why configurations were rejected.
    #[arg(long)]
    pub explain: bool,

    /// Output format: table, json, or md (an architecture decision record).
    #[command(flatten)]
    pub format: FormatArg,

    /// Flags of diffusion workloads.
    #[command(flatten)]
    pub diffusion: PlanDiffusionArgs,
}

/// The flags of `plan` for LLM workloads only.
#[derive(Debug, Args)]
pub struct PlanLlmArgs {
    /// Serving engines to consider, comma-separated (`model.engines`).
    #[arg(long, value_delimiter = ',', value_parser = engine_name)]
    pub engine: Vec<String>,

    /// Mean request rate, requests/s (`traffic.rate_rps`).
    #[arg(long, value_parser = real(RATE_RPS))]
    pub rate_rps: Option<f64>,

    /// Peak request rate, requests/s (`traffic.peak_rps`).
    #[arg(long, value_parser = real(RATE_RPS))]
    pub peak_rps: Option<f64>,

    /// How long the peak lasts, minutes per day (`traffic.peak_minutes_per_day`): shorter than
    /// a cold start, or not given, and the peak's capacity runs all day.
    #[arg(long, value_parser = real(MINUTES_PER_DAY))]
    pub peak_minutes_per_day: Option<f64>,

    /// Prompt tokens per request (`lengths.input_tokens`).
    #[arg(long, value_parser = whole::<u64>(TOKENS))]
    pub input_tokens: Option<u64>,

    /// Generated tokens per request (`lengths.output_tokens`).
    #[arg(long, value_parser = whole::<u64>(TOKENS))]
    pub output_tokens: Option<u64>,

    /// TTFT limit, ms (`slo.ttft_ms`).
    #[arg(long, value_parser = real(LATENCY_MS))]
    pub ttft_ms: Option<f64>,

    /// TPOT limit, ms (`slo.tpot_ms`).
    #[arg(long, value_parser = real(LATENCY_MS))]
    pub tpot_ms: Option<f64>,

    /// End-to-end limit, ms (`slo.e2e_ms`).
    #[arg(long, value_parser = real(LATENCY_MS))]
    pub e2e_ms: Option<f64>,

    /// Most GPUs per replica (`constraints.max_gpus_per_replica`).
    #[arg(long, value_parser = whole::<u32>(GPUS))]
    pub max_gpus_per_replica: Option<u32>,

    /// Cold-start budget, seconds (`constraints.cold_start_budget_s`).
    #[arg(long, value_parser = real(SECONDS))]
    pub cold_start_budget_s: Option<f64>,

    /// Platforms compared, comma-separated: eks, sagemaker (`constraints.platforms`; default
    /// both).
    #[arg(long, value_delimiter = ',', value_parser = named::<PlanPlatform>)]
    pub platforms: Vec<PlanPlatform>,

    /// What the EKS cluster costs besides its GPU instances, $/hour, added to every EKS option
    /// (`constraints.eks_operations_usd_per_hour`; default 0).
    #[arg(long, value_parser = real(USD))]
    pub eks_operations_usd_per_hour: Option<f64>,

    /// Simulate the top options at the peak (`inferplan simulate`) and re-rank them on
    /// simulated SLO attainment.
    #[arg(long)]
    pub verify: bool,

    /// Most requests one --verify simulation may serve (see docs/limits.md).
    #[arg(long, default_value_t = DEFAULT_MAX_SIM_REQUESTS, value_parser = whole::<u64>(REQUESTS))]
    pub max_sim_requests: u64,

    /// Seed of the --verify simulations.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,

    /// Efficiency parameters.
    #[command(flatten)]
    pub params: ParamsArg,
}

impl PlanLlmArgs {
    /// The first of these flags given on the command line, for the refusal on a diffusion
    /// workload. Every field is named, so a new flag does not compile until it is sorted here.
    pub fn given(&self) -> Option<&'static str> {
        let PlanLlmArgs {
            engine,
            rate_rps,
            peak_rps,
            peak_minutes_per_day,
            input_tokens,
            output_tokens,
            ttft_ms,
            tpot_ms,
            e2e_ms,
            max_gpus_per_replica,
            cold_start_budget_s,
            platforms,
            eks_operations_usd_per_hour,
            verify,
            // With defaults, so never "given"; only --verify reads them.
            max_sim_requests: _,
            seed: _,
            params: ParamsArg { params },
        } = self;
        [
            ("--engine", !engine.is_empty()),
            ("--rate-rps", rate_rps.is_some()),
            ("--peak-rps", peak_rps.is_some()),
            ("--peak-minutes-per-day", peak_minutes_per_day.is_some()),
            ("--input-tokens", input_tokens.is_some()),
            ("--output-tokens", output_tokens.is_some()),
            ("--ttft-ms", ttft_ms.is_some()),
            ("--tpot-ms", tpot_ms.is_some()),
            ("--e2e-ms", e2e_ms.is_some()),
            ("--max-gpus-per-replica", max_gpus_per_replica.is_some()),
            ("--cold-start-budget-s", cold_start_budget_s.is_some()),
            ("--platforms", !platforms.is_empty()),
            (
                "--eks-operations-usd-per-hour",
                eks_operations_usd_per_hour.is_some(),
            ),
            ("--verify", *verify),
            ("--params", params.is_some()),
        ]
        .into_iter()
        .find_map(|(flag, given)| given.then_some(flag))
    }
}

/// The flags of `plan` that LLM and diffusion workloads share.
#[derive(Debug, Args)]
pub struct PlanSharedArgs {
    /// Coefficient of variation of inter-arrival times; 1 = Poisson (`traffic.burstiness`).
    #[arg(long, value_parser = real(BURSTINESS))]
    pub burstiness: Option<f64>,

    /// Percentile of the limits: p50, p90 or p99 (`slo.percentile`).
    #[arg(long, value_parser = named::<Percentile>)]
    pub percentile: Option<Percentile>,

    /// interactive, async or batch (`slo.mode`).
    #[arg(long, value_parser = named::<Mode>)]
    pub mode: Option<Mode>,

    /// Async deadline, seconds (`slo.deadline_s`).
    #[arg(long, value_parser = real(SECONDS))]
    pub deadline_s: Option<f64>,

    /// Allowed regions, comma-separated (`constraints.regions`).
    #[arg(long, value_delimiter = ',')]
    pub regions: Vec<String>,

    /// shared or isolated (`constraints.tenancy`).
    #[arg(long, value_parser = named::<Tenancy>)]
    pub tenancy: Option<Tenancy>,

    /// general or regulated (`constraints.data_class`).
    #[arg(long, value_parser = named::<DataClass>)]
    pub data_class: Option<DataClass>,

    /// Allowed instance families, comma-separated (`constraints.instance_families`).
    #[arg(long, value_delimiter = ',')]
    pub families: Vec<String>,

    /// Keep one instance of spare replicas, N+1 (`constraints.redundancy`).
    #[arg(long)]
    pub redundancy: bool,
}

/// The flags of `plan` for diffusion workloads only.
#[derive(Debug, Args)]
pub struct PlanDiffusionArgs {
    /// Diffusion workloads: jobs per day (`traffic.jobs_per_day`).
    #[arg(long, help_heading = "Diffusion workloads", value_parser = real(JOBS_PER_DAY))]
    pub jobs_per_day: Option<f64>,

    /// Diffusion workloads: latency limit of a job, queueing included, seconds
    /// (`slo.latency_s`).
    #[arg(long, help_heading = "Diffusion workloads", value_parser = real(SECONDS))]
    pub latency_s: Option<f64>,

    /// Diffusion workloads: what a managed service charges per clip or image, $, for the
    /// break-even volume (`managed.usd_per_output`).
    #[arg(
        long,
        alias = "managed-usd-per-image",
        help_heading = "Diffusion workloads",
        value_parser = real(USD)
    )]
    pub managed_usd_per_clip: Option<f64>,

    /// Diffusion workloads: the job (`[job]`).
    #[command(flatten)]
    pub job: DiffusionJobArgs,
}

impl PlanDiffusionArgs {
    /// The first workload flag of this group given on the command line, for the refusal on
    /// an LLM workload (the job's flags: [`DiffusionJobArgs::given`]). Every field is named,
    /// so a new flag does not compile until it is sorted here.
    pub fn given(&self) -> Option<&'static str> {
        let PlanDiffusionArgs {
            jobs_per_day,
            latency_s,
            managed_usd_per_clip,
            job: _,
        } = self;
        [
            ("--jobs-per-day", jobs_per_day.is_some()),
            ("--latency-s", latency_s.is_some()),
            ("--managed-usd-per-clip", managed_usd_per_clip.is_some()),
        ]
        .into_iter()
        .find_map(|(flag, given)| given.then_some(flag))
    }
}

/// Arguments of `simulate`.
#[derive(Debug, Args)]
pub struct SimulateArgs {
    /// Model, hardware and layout of one replica.
    #[command(flatten)]
    pub dep: DeploymentArgs,

    /// Simulate the deployment in this directory of manifests (what `render` writes, or a
    /// Deployment/LeaderWorkerSet with its ScaledObject or HorizontalPodAutoscaler and
    /// NodePool): model, engine arguments, GPUs, replicas and autoscaling come from it.
    #[arg(
        long,
        value_name = "DIR",
        conflicts_with_all = [
            "model", "model_config", "instance", "gpu", "tp", "pp", "precision", "kv_dtype",
            "engine", "replicas", "autoscale", "min_replicas", "max_replicas"
        ]
    )]
    pub deploy: Option<PathBuf>,

    /// Traffic and SLOs from a workload file (rates, daily profile, burstiness, lengths,
    /// SLOs; an async workload's `deadline_s` is its end-to-end limit) instead of the
    /// traffic flags.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["rate_rps", "trace", "concurrency"])]
    pub workload: Option<PathBuf>,

    /// Serving engine: vllm, sglang, trtllm, tgi, lmdeploy, neuron.
    #[arg(long, default_value = "vllm", value_parser = engine)]
    pub engine: Engine,

    /// Replicas at the start.
    #[arg(long, default_value_t = 1, value_parser = whole::<u32>(REPLICAS))]
    pub replicas: u32,

    /// Requests: lengths, arrivals and how many.
    #[command(flatten)]
    pub traffic: SimTrafficArgs,

    /// Seed of the random numbers: the same seed gives the same output.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,

    /// Run this many seeds (seed, seed + 1, ...) in parallel and report each and their spread.
    #[arg(long, default_value_t = 1, value_parser = whole::<u32>(SEEDS))]
    pub seeds: u32,

    /// Router: random (a Kubernetes Service's kube-proxy: what `render` writes), round-robin,
    /// least-outstanding (a gateway that tracks requests in flight), least-kv. Default:
    /// least-outstanding; random with --deploy (the rendered Service).
    #[arg(long, value_parser = router)]
    pub router: Option<Router>,

    /// Autoscaling.
    #[command(flatten)]
    pub autoscale: AutoscaleArgs,

    /// Cold start of a new replica, seconds. Default: the estimate of boot, engine start and
    /// reading the weights from S3 on the instance's network (see docs/findings.md, IP105).
    #[arg(long, value_parser = real(SECONDS_OR_ZERO))]
    pub cold_start_s: Option<f64>,

    /// Spot interruptions per replica-hour.
    #[arg(long, value_parser = real(SPOT_RATE))]
    pub spot_rate_per_hour: Option<f64>,

    /// Warning before a spot replica is lost, seconds.
    #[arg(long, default_value_t = 120.0, value_parser = real(SECONDS_OR_ZERO))]
    pub spot_notice_s: f64,

    /// Clients retry when no first token arrived after this many seconds.
    #[arg(long, value_parser = real(SECONDS))]
    pub timeout_s: Option<f64>,

    /// Retries per request after the first attempt.
    #[arg(long, default_value_t = 2, value_parser = whole::<u32>(RETRIES))]
    pub retries: u32,

    /// Requests carry idempotency keys (a retry does not add duplicate work).
    #[arg(long)]
    pub idempotency_keys: bool,

    /// TTFT SLO, ms, for attainment and goodput.
    #[arg(long, value_parser = real(LATENCY_MS))]
    pub ttft_ms: Option<f64>,

    /// TPOT SLO, ms.
    #[arg(long, value_parser = real(LATENCY_MS))]
    pub tpot_ms: Option<f64>,

    /// End-to-end SLO, ms.
    #[arg(long, value_parser = real(LATENCY_MS))]
    pub e2e_ms: Option<f64>,

    /// Region of the price.
    #[command(flatten)]
    pub region: RegionArg,

    /// Write a chart of latency and replicas over time.
    #[arg(long, value_name = "SVG")]
    pub plot: Option<PathBuf>,

    /// Efficiency parameters.
    #[command(flatten)]
    pub params: ParamsArg,

    /// Output format: table, json or csv.
    #[arg(long, value_enum, default_value_t = SimFormat::Table)]
    pub format: SimFormat,
}

/// The requests `simulate` sends: lengths, arrivals and how many.
#[derive(Debug, Args)]
pub struct SimTrafficArgs {
    /// Prompt tokens: a number, or `uniform:lo=A,hi=B`, `normal:mean=M,sd=S`,
    /// `lognormal:mean=M,p99=P`.
    #[arg(long, default_value = "1000")]
    pub input_tokens: String,

    /// Generated tokens, in the same forms as --input-tokens.
    #[arg(long, default_value = "200")]
    pub output_tokens: String,

    /// Mean arrival rate, requests/s (not with --trace).
    #[arg(long, value_parser = real(RATE_RPS))]
    pub rate_rps: Option<f64>,

    /// Closed loop: this many clients, each sending its next request when the previous one
    /// is answered (instead of --rate-rps).
    #[arg(long, conflicts_with = "rate_rps", value_parser = whole::<u32>(CLIENTS))]
    pub concurrency: Option<u32>,

    /// Warm-up, seconds: closed-loop clients start spread over it, and requests arriving
    /// during it are left out of the latency figures.
    #[arg(long, value_parser = real(SECONDS_OR_ZERO))]
    pub warmup_s: Option<f64>,

    /// Arrival process: `poisson`, `gamma:cv=C` (burstiness), or a daily profile
    /// `profile:hourly=r0/r1/.../r23[,cv=C]` (requests/s in each hour; no --rate-rps).
    #[arg(long, default_value = "poisson")]
    pub arrivals: String,

    /// Replay a trace (`TIMESTAMP,ContextTokens,GeneratedTokens` or
    /// `arrival_s,input_tokens,output_tokens`): its arrivals and lengths.
    #[arg(long, value_name = "CSV")]
    pub trace: Option<PathBuf>,

    /// Speed up (> 1) or slow down (< 1) the trace.
    #[arg(long, default_value_t = 1.0, value_parser = real(TIME_SCALE))]
    pub time_scale: f64,

    /// Loop the trace this many times.
    #[arg(long, default_value_t = 1, value_parser = whole::<u32>(REPEAT))]
    pub repeat: u32,

    /// Stop after this many requests.
    #[arg(long, value_parser = whole::<u64>(REQUESTS))]
    pub requests: Option<u64>,

    /// Refuse to simulate more requests than this (a ceiling on work; --requests, or the rate
    /// × --duration, or a trace's rows × --repeat, must stay below it). See docs/limits.md.
    #[arg(long, default_value_t = DEFAULT_MAX_SIM_REQUESTS, value_parser = whole::<u64>(REQUESTS))]
    pub max_sim_requests: u64,

    /// Stop arrivals after this many simulated seconds.
    #[arg(long, value_parser = real(SIM_SECONDS))]
    pub duration: Option<f64>,

    /// Share of each prompt's tokens found in the engine's prefix cache, 0 to 1 (vLLM's
    /// automatic prefix caching, SGLang's radix cache, TensorRT-LLM's KV block reuse): that
    /// share of the prefill is skipped, the KV blocks are still held.
    #[arg(long, default_value_t = 0.0, value_parser = real(HIT_RATE))]
    pub prefix_hit_rate: f64,
}

/// The autoscaler of `simulate`: a KEDA ScaledObject driving the HPA, with `render`'s values
/// as defaults.
#[derive(Debug, Args)]
pub struct AutoscaleArgs {
    /// A trigger, repeatable (the HPA takes the largest): `queue:N` (requests waiting per
    /// replica), `inflight:N` (running + waiting per replica) or `gpu:F` (GPU busy fraction,
    /// to show why it fails); `,activation=A` sets KEDA's activation threshold.
    #[arg(long, value_parser = trigger)]
    pub autoscale: Vec<Trigger>,

    /// Fewest replicas when autoscaling (0: scale to zero when no trigger is active).
    #[arg(long, default_value_t = 1, value_parser = whole::<u32>(MIN_REPLICAS))]
    pub min_replicas: u32,

    /// Most replicas when autoscaling.
    #[arg(long, default_value_t = 16, value_parser = whole::<u32>(REPLICAS))]
    pub max_replicas: u32,

    /// Seconds between autoscaling decisions (KEDA's pollingInterval; render writes 15).
    #[arg(long, default_value_t = f64::from(autoscaling::POLLING_INTERVAL_S), value_parser = real(SCALE_INTERVAL))]
    pub scale_interval_s: f64,

    /// Age of the metrics the autoscaler reads, seconds (the Prometheus scrape interval;
    /// render's PodMonitor scrapes every 15 s).
    #[arg(long, default_value_t = f64::from(autoscaling::SCRAPE_INTERVAL_S), value_parser = real(SECONDS_OR_ZERO))]
    pub metric_lag_s: f64,

    /// The HPA behavior the flags below change: `rendered` (what render writes: up by one
    /// node's worth per 60 s; down after a 600 s window by 1 pod per 300 s) or `kubernetes`
    /// (the HPA's defaults without a behavior: up by 100 % or 4 pods per 15 s; down after a
    /// 300 s window by 100 % per 15 s).
    #[arg(long, value_enum, default_value_t = BehaviorBase::Rendered)]
    pub scale_behavior: BehaviorBase,

    /// Scale-up stabilization window, seconds (the lowest recent recommendation wins).
    #[arg(long, value_parser = whole::<u32>(STABILIZATION_WINDOW))]
    pub scale_up_stabilization_s: Option<u32>,

    /// Scale-down stabilization window, seconds (the highest recent recommendation wins).
    #[arg(long, value_parser = whole::<u32>(STABILIZATION_WINDOW))]
    pub scale_down_stabilization_s: Option<u32>,

    /// Scale-up policy, repeatable, replacing the behavior's: `pods:N/P` or `percent:N/P`
    /// (at most N pods or N % per P seconds).
    #[arg(long, value_parser = policy)]
    pub scale_up_policy: Vec<ScalingPolicy>,

    /// Scale-down policy, repeatable, as --scale-up-policy.
    #[arg(long, value_parser = policy)]
    pub scale_down_policy: Vec<ScalingPolicy>,

    /// Which scale-up policy wins: max (the most change), min, or disabled (never scale up).
    #[arg(long, value_enum)]
    pub scale_up_select: Option<Select>,

    /// Which scale-down policy wins: max, min, or disabled (never scale down).
    #[arg(long, value_enum)]
    pub scale_down_select: Option<Select>,

    /// With --min-replicas 0: seconds without an active trigger before scaling to zero
    /// (KEDA's cooldownPeriod).
    #[arg(long, default_value_t = f64::from(autoscaling::KEDA_COOLDOWN_PERIOD_S), value_parser = real(SECONDS_OR_ZERO))]
    pub scale_to_zero_after_s: f64,
}

/// The behavior `simulate`'s scaling flags start from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum BehaviorBase {
    /// What `render` writes.
    Rendered,
    /// The HPA's defaults when a manifest sets no `behavior`.
    Kubernetes,
}

/// `selectPolicy` of a scaling direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Select {
    /// The policy allowing the most change.
    Max,
    /// The policy allowing the least change.
    Min,
    /// No scaling in this direction.
    Disabled,
}

impl From<Select> for SelectPolicy {
    fn from(s: Select) -> SelectPolicy {
        match s {
            Select::Max => SelectPolicy::Max,
            Select::Min => SelectPolicy::Min,
            Select::Disabled => SelectPolicy::Disabled,
        }
    }
}

/// `--autoscale`: `queue:N`, `inflight:N` or `gpu:F`, each with an optional
/// `,activation=A`.
fn trigger(s: &str) -> Result<Trigger, String> {
    let usage = "expected `queue:N`, `inflight:N` or `gpu:F`, optionally with `,activation=A`";
    let (head, rest) = s.split_once(',').unwrap_or((s, ""));
    let (kind, value) = head
        .split_once(':')
        .ok_or_else(|| format!("{usage}, got `{s}`"))?;
    let number = |v: &str, bound: Bound, what: &str| -> Result<f64, String> {
        let x: f64 = v
            .trim()
            .parse()
            .map_err(|_| format!("{what} `{v}` is not a number; must be {bound}"))?;
        bound.check(x).map_err(|m| format!("{what} {m}"))
    };
    let (metric, bound) = match kind.trim() {
        "queue" => (ScaleMetric::QueueDepth, SCALE_TARGET),
        "inflight" => (ScaleMetric::InFlight, SCALE_TARGET),
        "gpu" => (ScaleMetric::GpuUtilization, FRACTION),
        other => return Err(format!("unknown metric `{other}`; {usage}")),
    };
    let target = number(value, bound, "the target")?;
    let activation = match rest.trim() {
        "" => 0.0,
        a => match a.split_once('=') {
            Some(("activation", v)) => number(v, ACTIVATION, "the activation threshold")?,
            _ => return Err(format!("unknown option `{a}`; {usage}")),
        },
    };
    Ok(Trigger {
        metric,
        target,
        activation,
    })
}

/// `--scale-up-policy`, `--scale-down-policy`: `pods:N/P` or `percent:N/P`.
fn policy(s: &str) -> Result<ScalingPolicy, String> {
    let usage = "expected `pods:N/P` or `percent:N/P` (N pods or percent per P seconds)";
    let (kind, rest) = s
        .split_once(':')
        .ok_or_else(|| format!("{usage}, got `{s}`"))?;
    let (value, period) = rest
        .split_once('/')
        .ok_or_else(|| format!("{usage}, got `{s}`"))?;
    let kind = match kind.trim() {
        "pods" => PolicyKind::Pods,
        "percent" => PolicyKind::Percent,
        other => return Err(format!("unknown policy `{other}`; {usage}")),
    };
    let value = whole::<u32>(POLICY_VALUE)(value).map_err(|m| format!("the value: {m}"))?;
    let period_s = whole::<u32>(POLICY_PERIOD)(period).map_err(|m| format!("the period: {m}"))?;
    Ok(ScalingPolicy {
        kind,
        value,
        period_s,
    })
}

/// Output formats of `simulate`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SimFormat {
    /// Aligned text.
    Table,
    /// JSON (stable fields).
    Json,
    /// One CSV row of the main figures with a header.
    Csv,
}

/// Arguments of `render`.
#[derive(Debug, Args)]
pub struct RenderArgs {
    /// A workload file to plan and render (or give --plan).
    #[arg(required_unless_present = "plan", conflicts_with = "plan")]
    pub workload: Option<PathBuf>,

    /// The JSON of `inferplan plan --format json`.
    #[arg(long, value_name = "JSON")]
    pub plan: Option<PathBuf>,

    /// Which candidate (1 = the cheapest). Default: the plan's first; when it runs an engine
    /// render does not write (vLLM and SGLang on GPUs, vLLM's Neuron backend on Inferentia2 and
    /// Trainium are written), the first that runs one.
    #[arg(long, value_parser = whole::<usize>(TOP))]
    pub candidate: Option<usize>,

    /// Directory to write into (created if missing).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,

    /// Kubernetes namespace.
    #[arg(long, default_value = "inference")]
    pub namespace: String,

    /// Cluster name (Karpenter EC2NodeClass discovery tags).
    #[arg(long, default_value = "inference")]
    pub cluster: String,

    /// Prometheus URL for the KEDA scaler.
    #[arg(long, default_value = "http://prometheus-operated.monitoring.svc:9090")]
    pub prometheus_url: String,

    /// S3 prefix holding the checkpoint's files, for `weights_source` `s3` and `nvme`
    /// (default: s3://<cluster>-models/<checkpoint id>).
    #[arg(long, value_name = "S3_URI")]
    pub weights_uri: Option<String>,

    /// Where the model runs: `eks` writes Kubernetes manifests, Karpenter node pools and
    /// Prometheus rules; `sagemaker` writes one CloudFormation template (sagemaker.yaml) with
    /// the SageMaker model (LMI container running vLLM), endpoint config, endpoint,
    /// Application Auto Scaling target and policies, and CloudWatch alarms from the SLOs. A
    /// SageMaker endpoint runs one model copy per instance, so the default candidate is the
    /// first that has one replica per instance. See docs/sagemaker.md.
    #[arg(long, value_enum, default_value_t = Platform::Eks)]
    pub platform: Platform,

    /// Where alerts and autoscaling read metrics (EKS): `prometheus` writes Prometheus rules,
    /// a PodMonitor and a KEDA ScaledObject on Prometheus queries; `cloudwatch` writes
    /// cloudwatch-alarms.yaml (a CloudFormation stack of CloudWatch alarms on Container
    /// Insights GPU metrics and the engine's queue, same thresholds as the rules) and a KEDA
    /// ScaledObject with `aws-cloudwatch` triggers, and no Prometheus object; `both` writes
    /// both alarm sets, KEDA reading Prometheus. CloudWatch needs the CloudWatch
    /// Observability add-on; the README says what the agent must publish. See docs/render.md.
    #[arg(long, value_enum, default_value_t = MonitoringArg::Prometheus)]
    pub monitoring: MonitoringArg,

    /// Diffusion workloads (required for them): the container image of the queue worker.
    /// There is no standard diffusion server, so the image is yours; it must implement the
    /// worker contract of docs/render.md#diffusion-workers (one job at a time from the SQS
    /// queue, a per-clip timeout, two files for the exec probes). Pin it by digest.
    #[arg(long, value_name = "IMAGE")]
    pub worker_image: Option<String>,

    /// Diffusion workloads (required for them): the SQS queue the jobs arrive on,
    /// https://sqs.<region>.amazonaws.com/<account id>/<queue name>. The workers receive from
    /// it and KEDA scales them on its depth.
    #[arg(long, value_name = "URL")]
    pub queue_url: Option<String>,
}

/// Where `render` points alerts and autoscaling.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum MonitoringArg {
    /// Prometheus rules, PodMonitor, KEDA on Prometheus.
    Prometheus,
    /// CloudWatch alarms (CloudFormation), KEDA aws-cloudwatch; no Prometheus object.
    Cloudwatch,
    /// Prometheus rules and CloudWatch alarms; KEDA on Prometheus.
    Both,
}

/// Where `render` deploys to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Platform {
    /// Amazon EKS: Deployment, Service, KEDA, Karpenter, Prometheus rules.
    Eks,
    /// Amazon SageMaker: a real-time or asynchronous endpoint as CloudFormation.
    Sagemaker,
}

/// Arguments of `lint`.
#[derive(Debug, Args)]
pub struct LintArgs {
    /// YAML files, directories, or `-` for standard input.
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,

    /// Output format: text, json or sarif.
    #[arg(long, value_enum, default_value_t = LintFormat::Text)]
    pub format: LintFormat,
}

/// Output formats of `lint`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LintFormat {
    /// file:line, message and the offending snippet.
    Text,
    /// A list of findings.
    Json,
    /// SARIF 2.1.0 for code-scanning tools.
    Sarif,
}

/// Arguments of `rightsize`.
#[derive(Debug, Args)]
pub struct RightsizeArgs {
    /// Metric files: CSV (`timestamp,instance,gpu,gpu_util,fb_used_mib,...`) or Prometheus
    /// range-query JSON of DCGM metrics.
    #[arg(required = true)]
    pub files: Vec<PathBuf>,

    /// Unit of gpu_util in CSV files: auto, percent or fraction.
    #[arg(long, default_value = "auto", value_parser = util_unit)]
    pub util_unit: UtilUnit,

    /// Instance type the metrics come from (framebuffer size when the metrics lack it).
    #[arg(long)]
    pub instance: Option<String>,

    /// GPU the metrics come from (instead of --instance).
    #[arg(long, conflicts_with = "instance")]
    pub gpu: Option<String>,

    /// The workload served, to suggest a cheaper or safer deployment with `plan`.
    #[arg(long, value_name = "TOML")]
    pub workload: Option<PathBuf>,

    /// What the deployment costs now, $/hour (for the saving).
    #[arg(long, value_parser = real(USD))]
    pub current_usd_per_hour: Option<f64>,

    /// Output format.
    #[command(flatten)]
    pub format: FormatArg,
}

/// Arguments of `calibrate`.
#[derive(Debug, Args)]
pub struct CalibrateArgs {
    /// Measured performance CSV files.
    #[arg(required = true)]
    pub files: Vec<PathBuf>,

    /// Write the fitted parameter file here.
    #[arg(long, value_name = "CSV")]
    pub output: Option<PathBuf>,

    /// Fewest rows for a group (engine, architecture, precision) to get its own parameters.
    #[arg(long, default_value_t = 30, value_parser = whole::<usize>(MIN_ROWS))]
    pub min_rows: usize,

    /// Pull of each group's parameters towards its parent's (weight per squared log ratio).
    #[arg(long, default_value_t = 0.5, value_parser = real(SHRINK))]
    pub shrink: f64,

    /// Skip the cross-validation (faster).
    #[arg(long)]
    pub no_cv: bool,

    /// Cross-validate only these sources' folds (comma-separated source names, the ids'
    /// prefixes): each is still predicted by a table fitted on every other source, and the
    /// cross-validated figures cover their rows only. Quicker, for iterating on a few folds.
    #[arg(
        long,
        value_name = "SOURCES",
        value_delimiter = ',',
        conflicts_with = "no_cv"
    )]
    pub cv_sources: Vec<String>,

    /// Write every scored value here as CSV, with its in-sample and (unless --no-cv)
    /// cross-validated prediction, to break the error down by any column.
    #[arg(long, value_name = "CSV")]
    pub predictions: Option<PathBuf>,

    /// Output format.
    #[command(flatten)]
    pub format: FormatArg,
}

/// `catalog` subcommands.
#[derive(Debug, Subcommand)]
pub enum CatalogCommand {
    /// GPUs with memory, bandwidth and tensor throughput.
    Gpus(ListArgs),
    /// Instance types with GPUs and prices.
    Instances(InstanceListArgs),
    /// Models with parameters and KV-cache size.
    Models(ListArgs),
    /// Image and video diffusion models with their default jobs.
    Diffusion(ListArgs),
    /// Everything about one GPU, instance type or model, with sources.
    Show(ShowArgs),
    /// One instance type's prices in every region, with their dates and sources.
    Prices(PricesArgs),
}

/// Arguments of `catalog prices`.
#[derive(Debug, Args)]
pub struct PricesArgs {
    /// An instance type, e.g. `g7.2xlarge`.
    pub instance: String,

    /// Output format.
    #[command(flatten)]
    pub format: FormatArg,
}

/// Arguments of the catalog listings.
#[derive(Debug, Args)]
pub struct ListArgs {
    /// Output format.
    #[command(flatten)]
    pub format: FormatArg,
}

/// Arguments of `catalog instances`.
#[derive(Debug, Args)]
pub struct InstanceListArgs {
    /// Region whose prices to show.
    #[command(flatten)]
    pub region: RegionArg,

    /// Output format.
    #[command(flatten)]
    pub format: FormatArg,
}

/// Arguments of `catalog show`.
#[derive(Debug, Args)]
pub struct ShowArgs {
    /// A GPU, instance type or model name.
    pub name: String,

    /// Output format.
    #[command(flatten)]
    pub format: FormatArg,
}

/// Arguments of `validate`.
#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// Measured-data CSV files (schema detected from the header).
    #[arg(required_unless_present = "capacity")]
    pub files: Vec<PathBuf>,

    /// Efficiency parameters.
    #[command(flatten)]
    pub params: ParamsArg,

    /// How many of the worst-predicted rows to list.
    #[arg(long, default_value_t = 15, value_parser = whole::<usize>(LISTED))]
    pub worst: usize,

    /// Also simulate the latency-under-load rows (a concurrency or a request rate, with TTFT,
    /// TPOT/ITL or e2e) with `inferplan simulate` and score the simulator.
    #[arg(long)]
    pub simulate: bool,

    /// Also compare the planner's per-replica capacity at the SLO percentile with the
    /// simulator's (bisection with `simulate`) on the agreement matrix of VALIDATION.md.
    #[arg(long)]
    pub capacity: bool,

    /// Output format.
    #[command(flatten)]
    pub format: FormatArg,
}
