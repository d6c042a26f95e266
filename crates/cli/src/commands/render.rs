//! `inferplan render`: the manifests, node pool and alert rules of a plan.

use crate::args::{MonitoringArg, Platform, RenderArgs};
use crate::commands::load::llm_workload;
use crate::output::emit;
use anyhow::{anyhow, bail, Context as _};
use inferplan_catalog::Catalog;
use inferplan_deploy::render::cloudwatch::Monitoring;
use inferplan_deploy::render::diffusion::{self as worker, WorkerOptions};
use inferplan_deploy::render::input::default_weights_uri;
use inferplan_deploy::render::{
    candidate_of, from_plan, number_of, read_plan, render, renderable_candidates, sagemaker,
};
use inferplan_perf::diffusion::DiffusionEfficiencies;
use inferplan_perf::{EfficiencyTable, MemoryParams};
use inferplan_plan::contract::PlanJson;
use inferplan_plan::diffusion::{diffusion_sign, plan_diffusion, DiffusionWorkload};
use inferplan_plan::workload::Platform as PlanPlatform;
use inferplan_plan::{plan, Inputs};
use std::path::Path;
use std::process::ExitCode;

/// What `render` writes: the candidate, the engine of the plan's #1 when render passed it
/// over, and the files `(name, text)` in the order written.
pub struct Rendered {
    /// The candidate rendered (1 = the plan's first).
    pub candidate: usize,
    /// `engine on instance` of the plan's first EKS option when it runs an engine render
    /// does not write.
    pub passed: Option<String>,
    /// Whether these are the queue workers of a diffusion workload.
    pub diffusion: bool,
    /// The files.
    pub files: Vec<(String, String)>,
}

/// Runs `render`: [`rendered`], written into `--out`.
pub fn run(c: &Catalog, a: &RenderArgs) -> anyhow::Result<ExitCode> {
    let Rendered {
        candidate,
        passed,
        diffusion,
        files,
    } = rendered(c, a)?;
    let out = &a.out;
    std::fs::create_dir_all(out).with_context(|| out.display().to_string())?;
    let mut s = match passed {
        None if diffusion => format!(
            "candidate {candidate} rendered into {} (queue workers of a diffusion workload):\n",
            out.display()
        ),
        Some(engine) => format!(
            "candidate {candidate} rendered into {} (the plan's first EKS option runs {engine}, \
             which render does not write):\n",
            out.display()
        ),
        None => format!("candidate {candidate} rendered into {}:\n", out.display()),
    };
    for (name, text) in &files {
        let path = out.join(name);
        std::fs::write(&path, text).with_context(|| path.display().to_string())?;
        s += &format!("  {name}\n");
    }
    emit(&s)?;
    Ok(ExitCode::SUCCESS)
}

/// The files `render` writes for its arguments (`--out` is not read): the command line
/// writes them into a directory, `inferplan serve` answers with them.
pub fn rendered(c: &Catalog, a: &RenderArgs) -> anyhow::Result<Rendered> {
    let RenderArgs {
        workload,
        plan: plan_file,
        candidate,
        out: _,
        namespace,
        cluster,
        prometheus_url,
        weights_uri,
        platform,
        monitoring,
        worker_image,
        queue_url,
    } = a;
    if let Some(source) = diffusion_source(plan_file.as_deref(), workload.as_deref())? {
        return run_diffusion(c, a, source);
    }
    if worker_image.is_some() || queue_url.is_some() {
        bail!(
            "--worker-image and --queue-url are for diffusion workloads (their queue workers); \
             an LLM plan renders its engine's server"
        );
    }
    if *platform == Platform::Sagemaker && *monitoring != MonitoringArg::Prometheus {
        bail!(
            "--monitoring applies to --platform eks; the SageMaker template always has its \
             CloudWatch alarms"
        );
    }
    let plan_json = match (plan_file, workload) {
        (Some(path), _) => {
            let text =
                crate::input::read_to_string(path).with_context(|| path.display().to_string())?;
            let value =
                serde_json::from_str(&text).map_err(|e| anyhow!("{}: {e}", path.display()))?;
            read_plan(&value)?
        }
        (None, Some(path)) => {
            let w = llm_workload(
                path,
                "render",
                "diffusion workloads render their queue workers (--worker-image, --queue-url)",
            )?;
            let efficiency = EfficiencyTable::embedded()?;
            let memory = MemoryParams::embedded()?;
            let p = plan(
                &Inputs {
                    catalog: c,
                    efficiency: &efficiency,
                    memory: &memory,
                },
                &w,
            )?;
            if p.candidates.is_empty() {
                bail!(
                    "{}: nothing in the catalog meets the SLOs (see `inferplan plan`)",
                    path.display()
                );
            }
            PlanJson::new(&p, usize::MAX)
        }
        (None, None) => bail!("give a workload file or --plan"),
    };
    // The plan's #1 unless it runs an engine render does not write.
    let (candidate, passed) = match (*candidate, platform) {
        (Some(n), _) => (n, None),
        (None, Platform::Eks) => {
            let first = renderable_candidates(&plan_json, c)
                .into_iter()
                .find(|&n| {
                    candidate_of(&plan_json, n).is_some_and(|c| c.platform == PlanPlatform::Eks)
                })
                .ok_or_else(|| {
                    anyhow!(
                        "no EKS candidate of the plan runs vLLM or SGLang on GPUs or vLLM's Neuron \
                         backend inside one Inferentia2 or Trainium instance, which is what \
                         render writes"
                    )
                })?;
            // The plan's first EKS option, when render passes over it for its engine.
            let passed = (0..plan_json.candidates.len())
                .find(|&i| plan_json.candidates[i].platform == PlanPlatform::Eks)
                .filter(|&i| number_of(&plan_json, i) != first)
                .map(|i| {
                    let c = &plan_json.candidates[i];
                    format!("{} on {}", c.engine, c.instance)
                });
            (first, passed)
        }
        (None, Platform::Sagemaker) => {
            let first = sagemaker::first_candidate(&plan_json, c).ok_or_else(|| {
                anyhow!(
                    "no candidate of the plan runs vLLM on GPUs with one replica inside one \
                     instance, which is what a SageMaker endpoint serves; render it for EKS"
                )
            })?;
            (first, None)
        }
    };
    match (platform, candidate_of(&plan_json, candidate)) {
        (Platform::Eks, Some(chosen)) if chosen.platform == PlanPlatform::Sagemaker => bail!(
            "candidate {candidate} is a SageMaker option ({}): render it with --platform \
             sagemaker, or choose an EKS candidate",
            chosen
                .sagemaker
                .as_ref()
                .map_or(chosen.instance.as_str(), |m| m.instance_type.as_str())
        ),
        (Platform::Sagemaker, Some(_)) => {
            sagemaker::hosting_type(&plan_json, candidate, c)?;
        }
        _ => {}
    }
    let mut input = from_plan(&plan_json, candidate, c)?;
    input.namespace = namespace.clone();
    input.cluster = cluster.clone();
    input.prometheus_url = prometheus_url.clone();
    input.monitoring = match monitoring {
        MonitoringArg::Prometheus => Monitoring::Prometheus,
        MonitoringArg::Cloudwatch => Monitoring::Cloudwatch,
        MonitoringArg::Both => Monitoring::Both,
    };
    if input.engine == inferplan_perf::Engine::Trtllm && input.monitoring != Monitoring::Prometheus
    {
        bail!(
            "--monitoring: candidate {candidate} runs TensorRT-LLM, which has no queue or batch \
             gauge to publish to CloudWatch (its load is read by Little's law from Prometheus \
             histograms, docs/render.md#tensorrt-llm-trtllm-serve); use --monitoring prometheus"
        );
    }
    if input.engine == inferplan_perf::Engine::Tgi && input.monitoring != Monitoring::Prometheus {
        bail!(
            "--monitoring: candidate {candidate} runs TGI, whose series carry no model label \
             for the CloudWatch dimensions (the PodMonitor adds it; the CloudWatch agent scrapes \
             the pods directly) and no KV-cache gauge, docs/render.md#tgi-text-generation-launcher; \
             use --monitoring prometheus"
        );
    }
    input.weights_uri = match weights_uri {
        Some(uri) => {
            if !uri.starts_with("s3://") {
                bail!("--weights-uri: `{uri}` is not an S3 URI (s3://bucket/prefix)");
            }
            uri.trim_end_matches('/').to_owned()
        }
        None => default_weights_uri(cluster, &input.checkpoint),
    };
    let files = match platform {
        Platform::Eks => render(&input),
        Platform::Sagemaker => sagemaker::render(&input)?,
    };
    Ok(Rendered {
        candidate,
        passed,
        diffusion: false,
        files,
    })
}

/// Where a diffusion workload comes from: its TOML file, or the JSON of `plan --format json`
/// on one (which holds the workload; the candidate is re-planned from it and checked).
enum DiffusionSource {
    File {
        origin: String,
        text: String,
    },
    Plan {
        origin: String,
        json: serde_json::Value,
    },
}

/// The diffusion workload `render` was given, if it was given one.
fn diffusion_source(
    plan: Option<&Path>,
    workload: Option<&Path>,
) -> anyhow::Result<Option<DiffusionSource>> {
    if let Some(path) = plan {
        let origin = path.display().to_string();
        let text = crate::input::read_to_string(path).with_context(|| origin.clone())?;
        let json: serde_json::Value =
            serde_json::from_str(&text).map_err(|e| anyhow!("{origin}: {e}"))?;
        let diffusion = json
            .pointer("/workload/model/name")
            .and_then(|v| v.as_str())
            .is_some_and(|n| inferplan_perf::diffusion::diffusion_model(n).is_some())
            && json.get("job").is_some();
        return Ok(diffusion.then_some(DiffusionSource::Plan { origin, json }));
    }
    let Some(path) = workload else {
        return Ok(None);
    };
    let Ok(text) = crate::input::read_to_string(path) else {
        return Ok(None);
    };
    Ok(diffusion_sign(&text).map(|_| DiffusionSource::File {
        origin: path.display().to_string(),
        text,
    }))
}

/// `render` on a diffusion workload: the queue workers of the plan's candidate.
fn run_diffusion(c: &Catalog, a: &RenderArgs, source: DiffusionSource) -> anyhow::Result<Rendered> {
    let RenderArgs {
        workload: _,
        plan: _,
        candidate,
        out: _,
        namespace,
        cluster,
        prometheus_url: _,
        weights_uri,
        platform,
        monitoring,
        worker_image,
        queue_url,
    } = a;
    let origin = match &source {
        DiffusionSource::File { origin, .. } | DiffusionSource::Plan { origin, .. } => {
            origin.clone()
        }
    };
    if *platform != Platform::Eks {
        bail!("{origin} is a diffusion workload: render writes its queue workers for EKS only (--platform eks)");
    }
    if *monitoring != MonitoringArg::Prometheus {
        bail!("{origin} is a diffusion workload: --monitoring applies to LLM servers (the workers are scaled on their SQS queue)");
    }
    let (Some(image), Some(queue)) = (worker_image, queue_url) else {
        let missing = match (worker_image, queue_url) {
            (None, None) => "--worker-image IMAGE and --queue-url URL",
            (None, Some(_)) => "--worker-image IMAGE",
            _ => "--queue-url URL",
        };
        bail!(
            "{origin} is a diffusion workload: its queue workers run your image on an SQS queue; \
             give {missing} (https://sqs.<region>.amazonaws.com/<account id>/<queue name>; the \
             image implements the worker contract of docs/render.md#diffusion-workers)"
        );
    };
    let (w, asked) = match &source {
        DiffusionSource::File { origin, text } => {
            let w = DiffusionWorkload::from_toml(text, origin)?;
            w.validate().map_err(|e| e.locate(origin, text))?;
            (w, None)
        }
        DiffusionSource::Plan { origin, json } => {
            let w: DiffusionWorkload = serde_json::from_value(json["workload"].clone())
                .map_err(|e| anyhow!("{origin}: field `workload`: {e}"))?;
            w.validate().map_err(|e| anyhow!("{origin}: {e}"))?;
            (w, Some(json))
        }
    };
    let p =
        plan_diffusion(c, DiffusionEfficiencies::embedded(), &w).map_err(|e| match &source {
            DiffusionSource::File { origin, text } => anyhow!(e.locate(origin, text)),
            DiffusionSource::Plan { origin, .. } => anyhow!("{origin}: {e}"),
        })?;
    if p.candidates.is_empty() {
        bail!("{origin}: nothing in the catalog keeps the promise (see `inferplan plan {origin}`)");
    }
    let number = candidate.unwrap_or(1);
    if let Some(json) = asked {
        // The plan file's candidate must be the one planned now (same catalog and model).
        let field = |k: &str| {
            json.pointer(&format!("/candidates/{}/{k}", number.saturating_sub(1)))
                .and_then(|v| v.as_str())
                .map(str::to_owned)
        };
        if let (Some(inst), Some(prec)) = (field("instance"), field("precision")) {
            let now = p
                .options()
                .get(number.saturating_sub(1))
                .map(|c| (c.instance.clone(), c.precision.to_string()));
            if now.as_ref() != Some(&(inst.clone(), prec.clone())) {
                bail!(
                    "{origin}: candidate {number} ({inst}, {prec}) is not what this inferplan plans for its workload ({}); re-plan with this version",
                    now.map_or("no such candidate".to_owned(), |(i, p)| format!("{i}, {p}"))
                );
            }
        }
    }
    let mut input = worker::from_plan(
        &p,
        number,
        c,
        &WorkerOptions {
            image: image.clone(),
            queue_url: queue.clone(),
        },
    )
    .map_err(|e| anyhow!("{origin}: {e}"))?;
    input.base.namespace = namespace.clone();
    input.base.cluster = cluster.clone();
    input.base.weights_uri = match weights_uri {
        Some(uri) => {
            if !uri.starts_with("s3://") {
                bail!("--weights-uri: `{uri}` is not an S3 URI (s3://bucket/prefix)");
            }
            uri.trim_end_matches('/').to_owned()
        }
        None => default_weights_uri(cluster, &input.base.checkpoint),
    };
    Ok(Rendered {
        candidate: number,
        passed: None,
        diffusion: true,
        files: worker::render(&input),
    })
}
