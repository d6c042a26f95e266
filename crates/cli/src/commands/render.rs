//! `inferplan render`: the manifests, node pool and alert rules of a plan.

use crate::args::{MonitoringArg, Platform, RenderArgs};
use crate::commands::load::llm_workload;
use crate::output::emit;
use anyhow::{anyhow, bail, Context as _};
use inferplan_catalog::Catalog;
use inferplan_deploy::render::cloudwatch::Monitoring;
use inferplan_deploy::render::input::default_weights_uri;
use inferplan_deploy::render::{from_plan, read_plan, render, renderable_candidates, sagemaker};
use inferplan_perf::{EfficiencyTable, MemoryParams};
use inferplan_plan::contract::PlanJson;
use inferplan_plan::{plan, Inputs};
use std::process::ExitCode;

/// Runs `render`.
pub fn run(c: &Catalog, a: &RenderArgs) -> anyhow::Result<ExitCode> {
    let RenderArgs {
        workload,
        plan: plan_file,
        candidate,
        out,
        namespace,
        cluster,
        prometheus_url,
        weights_uri,
        platform,
        monitoring,
    } = a;
    if *platform == Platform::Sagemaker && *monitoring != MonitoringArg::Prometheus {
        bail!(
            "--monitoring applies to --platform eks; the SageMaker template always has its \
             CloudWatch alarms"
        );
    }
    let plan_json = match (plan_file, workload) {
        (Some(path), _) => {
            let text = std::fs::read_to_string(path).with_context(|| path.display().to_string())?;
            let value =
                serde_json::from_str(&text).map_err(|e| anyhow!("{}: {e}", path.display()))?;
            read_plan(&value)?
        }
        (None, Some(path)) => {
            let w = llm_workload(
                path,
                "render",
                "rendering diffusion workers is not supported yet",
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
            let first = *renderable_candidates(&plan_json, c)
                .first()
                .ok_or_else(|| {
                    anyhow!(
                        "no candidate of the plan runs vLLM or SGLang on GPUs or vLLM's Neuron \
                     backend inside one Inferentia2 or Trainium instance, which is what render \
                     writes"
                    )
                })?;
            let passed = (first > 1)
                .then(|| {
                    plan_json
                        .candidates
                        .first()
                        .map(|c| format!("{} on {}", c.engine, c.instance))
                })
                .flatten();
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
    let mut input = from_plan(&plan_json, candidate, c)?;
    input.namespace = namespace.clone();
    input.cluster = cluster.clone();
    input.prometheus_url = prometheus_url.clone();
    input.monitoring = match monitoring {
        MonitoringArg::Prometheus => Monitoring::Prometheus,
        MonitoringArg::Cloudwatch => Monitoring::Cloudwatch,
        MonitoringArg::Both => Monitoring::Both,
    };
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
    std::fs::create_dir_all(out).with_context(|| out.display().to_string())?;
    let mut s = match passed {
        Some(engine) => format!(
            "candidate {candidate} rendered into {} (the plan's #1 runs {engine}, which render \
             does not write):\n",
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
