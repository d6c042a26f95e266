//! The search: every instance type, layout, precision and engine the workload allows, checked
//! for memory, sized for the SLOs at the peak, priced at the purchase mix, and ranked.

use crate::candidate::Candidate;
use crate::capacity::{AtLoad, Memo, Reject, SloModel};
use crate::cost::{job_mix, llm_job, purchase_mix, Sizing};
use crate::error::PlanError;
use crate::findings::{self, Context};
use crate::workload::{Constraints, DataClass, Mode, Platform, Tenancy, Workload};
use inferplan_catalog::bounds;
use inferplan_catalog::{Catalog, Dtype, Gpu, Instance, Interconnect, ModelSpec, Support};
use inferplan_perf::efficiency::EfficiencyTable;
use inferplan_perf::step::Efficiency;
use inferplan_perf::{Deployment, Engine, MemoryParams, Placement, Replica};
use inferplan_serving::checkpoint::{choose, Choice, ServedCheckpoint, Want};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A candidate that was not kept, and why.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Rejection {
    /// Instance type.
    pub instance: String,
    /// Tensor × pipeline layout, precision and engine, e.g. `tp4 fp8 vllm`.
    pub setup: String,
    /// Reason code (the key of `Plan::rejected`).
    pub reason: &'static str,
    /// Details with numbers.
    pub detail: String,
    /// For SLO misses: the smallest ratio of predicted value to limit at the lightest load
    /// (how far it is from feasible; 1.2 = 20 % over).
    pub miss: Option<f64>,
}

/// The answer of the planner.
#[derive(Debug, Clone, Serialize)]
pub struct Plan {
    /// The workload, with defaults filled in.
    pub workload: Workload,
    /// Catalog model planned for.
    pub model: String,
    /// Deployments that meet the SLOs, cheapest first.
    pub candidates: Vec<Candidate>,
    /// Configurations considered (instance × layout × precision × engine).
    pub considered: usize,
    /// Rejected configurations by reason.
    pub rejected: BTreeMap<&'static str, usize>,
    /// Every rejection, in search order.
    pub rejections: Vec<Rejection>,
    /// The SLO misses closest to feasible (when nothing meets the SLOs), best first.
    pub nearest_misses: Vec<Rejection>,
    /// The serving pattern that fits the workload.
    pub endpoint: crate::endpoint::EndpointAdvice,
    /// Cheaper multi-node options ranked below a near-tie on fewer nodes, with why.
    pub passed_over: Vec<PassedOver>,
}

/// Costs within this share of each other are a near-tie, % (the tolerance, an
/// assumption: prices and predicted capacities are not more precise than that). Near-ties
/// prefer fewer nodes per replica, then fewer GPUs per replica, then more SLO headroom.
pub const NEAR_TIE_PCT: f64 = 2.0;

/// A cheaper option spanning more nodes per replica, ranked below a near-tie that spans fewer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PassedOver {
    /// Its place among the plan's options (1-based, as the table numbers them).
    pub rank: usize,
    /// The place of the option ranked above it.
    pub preferred_rank: usize,
    /// The cheaper option passed over: instance and layout (`g6e.12xlarge TP4 PP2 fp8 vllm`).
    pub option: String,
    /// Its cost, $/hour.
    pub usd_per_hour: f64,
    /// The option ranked above it.
    pub preferred: String,
    /// Its cost, $/hour.
    pub preferred_usd_per_hour: f64,
    /// Why, in one sentence.
    pub reason: String,
}

fn option_label(c: &Candidate) -> String {
    format!(
        "{} TP{}{} {} {}",
        c.instance,
        c.tp,
        if c.pp > 1 {
            format!(" PP{}", c.pp)
        } else {
            String::new()
        },
        c.precision,
        c.engine
    )
}

/// Ranks candidates cheapest first; within a band of near-ties (each band: the cheapest left
/// and every candidate within [`NEAR_TIE_PCT`] of it) fewer nodes per replica first, then fewer
/// GPUs per replica, then more SLO headroom, then cost.
pub fn rank(candidates: &mut [Candidate]) {
    candidates.sort_by(|a, b| {
        a.usd_per_hour
            .total_cmp(&b.usd_per_hour)
            .then_with(|| unpriced_order(a, b))
            .then(b.slo_headroom.total_cmp(&a.slo_headroom))
            .then_with(|| a.instance.cmp(&b.instance))
            .then(a.tp.cmp(&b.tp))
            .then(a.pp.cmp(&b.pp))
            .then(a.platform.cmp(&b.platform))
    });
    let mut start = 0;
    while start < candidates.len() && candidates[start].priced() {
        let limit = candidates[start].usd_per_hour * (1.0 + NEAR_TIE_PCT / 100.0);
        let end = start
            + candidates[start..]
                .iter()
                .take_while(|c| c.usd_per_hour <= limit)
                .count()
                .max(1);
        candidates[start..end].sort_by(|a, b| {
            a.nodes_per_replica()
                .cmp(&b.nodes_per_replica())
                .then(a.gpus_per_replica.cmp(&b.gpus_per_replica))
                .then(b.slo_headroom.total_cmp(&a.slo_headroom))
                .then(a.usd_per_hour.total_cmp(&b.usd_per_hour))
                .then_with(|| a.instance.cmp(&b.instance))
                .then(a.tp.cmp(&b.tp))
                .then(a.pp.cmp(&b.pp))
                .then(a.platform.cmp(&b.platform))
        });
        start = end;
    }
}

/// The order of candidates without a price (after every priced one): fewest GPU-hours billed
/// a day first, then the smallest instance size (the same GPUs with fewer vCPUs), without
/// reading any price.
fn unpriced_order(a: &Candidate, b: &Candidate) -> std::cmp::Ordering {
    if a.priced() || b.priced() {
        return std::cmp::Ordering::Equal;
    }
    let gpu_hours = |c: &Candidate| {
        c.purchase_mix.billed_instance_hours_per_day * f64::from(c.gpus_per_instance)
    };
    gpu_hours(a)
        .total_cmp(&gpu_hours(b))
        .then(size_units(&a.instance).total_cmp(&size_units(&b.instance)))
}

/// The size of an instance type within its family, from its name: `large` 0.5, `xlarge` 1,
/// `12xlarge` 12, `metal` (and anything else) last.
fn size_units(instance: &str) -> f64 {
    let size = instance.rsplit('.').next().unwrap_or(instance);
    match size {
        "large" => 0.5,
        "xlarge" => 1.0,
        s => s
            .strip_suffix("xlarge")
            .and_then(|n| n.parse::<f64>().ok())
            .unwrap_or(f64::MAX),
    }
}

/// The cheaper multi-node options among `options` (ranked, as [`Plan::options`]) that a
/// near-tie on fewer nodes per replica ranks above.
pub fn passed_over(options: &[&Candidate]) -> Vec<PassedOver> {
    let mut out = Vec::new();
    for (k, c) in options.iter().enumerate() {
        let nodes = c.nodes_per_replica();
        if nodes <= 1 {
            continue;
        }
        let Some((j, p)) = options[..k]
            .iter()
            .enumerate()
            .find(|(_, p)| p.usd_per_hour > c.usd_per_hour && p.nodes_per_replica() < nodes)
        else {
            continue;
        };
        let pct = (p.usd_per_hour / c.usd_per_hour - 1.0) * 100.0;
        out.push(PassedOver {
            rank: k + 1,
            preferred_rank: j + 1,
            option: option_label(c),
            usd_per_hour: c.usd_per_hour,
            preferred: option_label(p),
            preferred_usd_per_hour: p.usd_per_hour,
            reason: format!(
                "{pct:.1} % cheaper, within the {NEAR_TIE_PCT:.0} % of a near-tie, but each \
                 replica spans {nodes} nodes (EFA, one AZ, a replica lost with any of its \
                 nodes: IP102) against {} for {}; article 000: start on a single node",
                p.nodes_per_replica(),
                option_label(p)
            ),
        });
    }
    out
}

impl Plan {
    /// The candidates, cheapest first, keeping only the cheapest instance size of each
    /// hardware and layout (a g6.2xlarge is a g6.xlarge with more CPU: the same option).
    pub fn options(&self) -> Vec<&Candidate> {
        self.option_indices()
            .into_iter()
            .map(|i| &self.candidates[i])
            .collect()
    }

    /// Where each of [`Plan::options`] stands in `candidates`.
    pub fn option_indices(&self) -> Vec<usize> {
        let mut seen = std::collections::BTreeSet::new();
        (0..self.candidates.len())
            .filter(|&i| {
                let c = &self.candidates[i];
                seen.insert((
                    c.platform,
                    c.gpu.clone(),
                    c.gpus_per_instance,
                    c.tp,
                    c.pp,
                    c.precision.as_str(),
                    c.engine,
                ))
            })
            .collect()
    }
}

impl Plan {
    /// What the table and the JSON show: the first `top` options of each platform (at least
    /// one), in rank order, as indices into `candidates`. Each keeps its place among all the
    /// options (`Candidate::rank`), which the table's `#` and `render --candidate N` use.
    pub fn shown_indices(&self, top: usize) -> Vec<usize> {
        let mut per: BTreeMap<Platform, usize> = BTreeMap::new();
        self.option_indices()
            .into_iter()
            .filter(|&i| {
                let n = per.entry(self.candidates[i].platform).or_default();
                *n += 1;
                *n <= top.max(1)
            })
            .collect()
    }

    /// The candidates [`Plan::shown_indices`] picks.
    pub fn shown(&self, top: usize) -> Vec<&Candidate> {
        self.shown_indices(top)
            .into_iter()
            .map(|i| &self.candidates[i])
            .collect()
    }

    /// The options passed over ([`Plan::passed_over`]) whose option and preferred option are
    /// both shown ([`Plan::shown`]).
    pub fn passed_over_shown(&self, top: usize) -> Vec<PassedOver> {
        let shown: Vec<usize> = self.shown(top).iter().map(|c| c.rank).collect();
        self.passed_over
            .iter()
            .filter(|o| shown.contains(&o.rank) && shown.contains(&o.preferred_rank))
            .cloned()
            .collect()
    }
}

/// Adds the EKS operations cost (`constraints.eks_operations_usd_per_hour`) to an EKS
/// candidate's mix, with an assumption saying so.
pub(crate) fn add_eks_operations(w: &Workload, mix: &mut crate::candidate::PurchaseMix) {
    let ops = w.constraints.eks_operations_usd_per_hour;
    if ops > 0.0 {
        mix.usd_per_hour += ops;
        mix.all_on_demand_usd_per_hour += ops;
        mix.saving_pct = if mix.all_on_demand_usd_per_hour > 0.0 {
            (1.0 - mix.usd_per_hour / mix.all_on_demand_usd_per_hour) * 100.0
        } else {
            0.0
        };
        mix.assumptions.push(format!(
            "EKS operations ${ops:.2}/h added (`constraints.eks_operations_usd_per_hour`: the cluster, its system nodes and upkeep, which SageMaker's instance price includes)"
        ));
    }
}

/// Fixed inputs of a search.
pub struct Inputs<'a> {
    /// The catalog.
    pub catalog: &'a Catalog,
    /// Efficiency parameters.
    pub efficiency: &'a EfficiencyTable,
    /// Engine memory parameters.
    pub memory: &'a MemoryParams,
}

/// Formats `any` considers, in order of preference at equal cost: 16-bit (BF16, or FP16 on a
/// GPU without BF16, see [`formats_on`]), FP8, FP4 and INT4.
const ANY_PRECISIONS: [Dtype; 4] = [Dtype::Fp8, Dtype::Bf16, Dtype::Fp4, Dtype::Int4];

/// The formats tried on `gpu`: with `any`, the 16-bit format is BF16 where the GPU runs it
/// natively and FP16 where it does not (T4, V100: vLLM serves a BF16 checkpoint there as
/// `--dtype half`), each format once; an explicit precision is tried as given.
fn formats_on(precisions: &[Dtype], gpu: &Gpu, any: bool) -> Vec<Dtype> {
    let mut out: Vec<Dtype> = Vec::new();
    for &d in precisions {
        let d = if any && d == Dtype::Bf16 && gpu.support(Dtype::Bf16) != Support::Native {
            Dtype::Fp16
        } else {
            d
        };
        if !out.contains(&d) {
            out.push(d);
        }
    }
    out
}

/// Whether a format is below 16 bits (FP8, INT8, INT4, FP4): the planner offers it under
/// `any` only with a catalogued checkpoint (or online FP8 from one), and IP114 states what
/// published evaluations say of its quality.
pub fn low_bit(d: Dtype) -> bool {
    !matches!(d, Dtype::Bf16 | Dtype::Fp16 | Dtype::Fp32)
}

/// Plans `w` over the whole catalog.
pub fn plan(inputs: &Inputs<'_>, w: &Workload) -> Result<Plan, PlanError> {
    let c = inputs.catalog;
    let model = c.model(&w.model.name)?;
    let engines = w
        .model
        .engines
        .iter()
        .map(|e| e.parse::<Engine>())
        .collect::<Result<Vec<_>, _>>()?;
    // An engine listed twice is searched once.
    let engines: Vec<Engine> = engines
        .iter()
        .enumerate()
        .filter(|(i, e)| !engines[..*i].contains(e))
        .map(|(_, &e)| e)
        .collect();
    let any = w.model.precision.eq_ignore_ascii_case("any");
    let precisions: Vec<Dtype> = if any {
        let mut v = ANY_PRECISIONS.to_vec();
        if let Some(native) = model.native_weights {
            if !v.contains(&native) {
                v.push(native);
            }
        }
        v
    } else {
        vec![w
            .model
            .precision
            .parse::<Dtype>()
            .map_err(|e| PlanError::input("model.precision", e.to_string()))?]
    };
    let mut out = Plan {
        workload: w.clone(),
        model: model.name.clone(),
        candidates: Vec::new(),
        considered: 0,
        rejected: BTreeMap::new(),
        rejections: Vec::new(),
        nearest_misses: Vec::new(),
        endpoint: crate::endpoint::advise(w, None),
        passed_over: Vec::new(),
    };
    let size: usize = c
        .instances()
        .iter()
        .map(|inst| layouts(w, inst).len() * precisions.len() * engines.len())
        .sum();
    if size as f64 > bounds::SEARCH.max {
        return Err(PlanError::input(
            "constraints",
            format!(
                "the search would evaluate {size} configurations, above the ceiling of {} \
                 (docs/limits.md): narrow it with constraints.instance_families, fewer engines \
                 or one precision",
                bounds::SEARCH.max
            ),
        ));
    }
    for region in &w.constraints.regions {
        c.region(region)?;
    }
    let sizing = Sizing::of(w);
    let memo = Memo::default();
    let longest = sizing.input_p99 + sizing.output_p99;
    if longest > model.max_context {
        return Err(PlanError::input(
            "lengths",
            format!(
                "the p99 prompt ({} tokens) plus the p99 output ({} tokens) is {longest} tokens, \
                 beyond the {} tokens of {}'s context window: the engine would refuse those \
                 requests; shorten them or choose a model with a longer context",
                sizing.input_p99, sizing.output_p99, model.max_context, model.name
            ),
        ));
    }
    for inst in c.instances() {
        let Some(gpu) = c.instance_gpu(inst) else {
            continue;
        };
        let reject_all = |out: &mut Plan, reason, detail: String| {
            out.considered += 1;
            *out.rejected.entry(reason).or_default() += 1;
            out.rejections.push(Rejection {
                instance: inst.name.clone(),
                setup: String::new(),
                reason,
                detail,
                miss: None,
            });
        };
        if let Some(reason) = instance_excluded(&w.constraints, inst) {
            reject_all(&mut out, reason.0, reason.1);
            continue;
        }
        let want_eks = w.constraints.platforms.contains(&Platform::Eks);
        let ec2 = cheapest_region(&w.constraints.regions, inst);
        // A SageMaker candidate needs its `ml.*` twin, and the hardware known in an allowed
        // region: a managed price there, or the EC2 type priced there (for availability only,
        // never for its price).
        let want_sagemaker = w.constraints.platforms.contains(&Platform::Sagemaker)
            && c.sagemaker_type(&inst.name).is_some_and(|t| {
                ec2.is_some()
                    || w.constraints.regions.iter().any(|r| {
                        c.managed_prices().iter().any(|p| {
                            p.instance_type.eq_ignore_ascii_case(&t.instance_type)
                                && p.region.eq_ignore_ascii_case(r)
                        })
                    })
            });
        if ec2.is_none() && !want_sagemaker {
            reject_all(
                &mut out,
                "no_price_in_regions",
                format!("no on-demand price in {}", w.constraints.regions.join(", ")),
            );
            continue;
        }
        if !want_eks && !want_sagemaker {
            reject_all(
                &mut out,
                "sagemaker_no_instance_type",
                format!(
                    "SageMaker offers no ml.{} (data/catalog/sagemaker_instance_types.csv)",
                    inst.name
                ),
            );
            continue;
        }
        for (tp, pp) in layouts(w, inst) {
            for weights in formats_on(&precisions, gpu, any) {
                for &engine in &engines {
                    out.considered += 1;
                    let setup = format!(
                        "tp{tp}{} {weights} {engine}",
                        if pp > 1 {
                            format!(" pp{pp}")
                        } else {
                            String::new()
                        }
                    );
                    let checkpoint =
                        match checkpoint_for(c, w, model, inst, gpu, tp * pp, weights, engine, any)
                        {
                            Ok(ck) => ck,
                            Err(r) => {
                                record(&mut out.rejected, &mut out.rejections, inst, setup, r);
                                continue;
                            }
                        };
                    match evaluate(
                        inputs, w, &sizing, &memo, model, inst, gpu, tp, pp, weights, engine,
                    ) {
                        Ok(mut cand) => {
                            cand.checkpoint = checkpoint;
                            if want_sagemaker {
                                let at = ec2.map(|(r, _)| r);
                                match crate::sagemaker::derive(c, w, &sizing, &cand, inst, gpu, at)
                                {
                                    Ok(mut managed) => {
                                        finish(w, &sizing, &mut managed);
                                        managed.findings = findings::check(&Context {
                                            workload: w,
                                            candidate: &managed,
                                            instance: inst,
                                            gpu,
                                            model,
                                        });
                                        out.candidates.push(managed);
                                    }
                                    Err(r) => record(
                                        &mut out.rejected,
                                        &mut out.rejections,
                                        inst,
                                        setup.clone(),
                                        r,
                                    ),
                                }
                            }
                            if !want_eks {
                                continue;
                            }
                            let Some((region, price)) = ec2 else {
                                let r = (
                                    "no_price_in_regions",
                                    format!(
                                        "EKS: no on-demand price in {}",
                                        w.constraints.regions.join(", ")
                                    ),
                                    None,
                                );
                                record(&mut out.rejected, &mut out.rejections, inst, setup, r);
                                continue;
                            };
                            cand.region = region.to_owned();
                            let mut mix = match eks_mix(w, &sizing, &cand, inst, region, price) {
                                Ok(m) => m,
                                Err(r) => {
                                    let r = (r.0, r.1, None);
                                    record(&mut out.rejected, &mut out.rejections, inst, setup, r);
                                    continue;
                                }
                            };
                            if let Some(job) = &mix.batch_job {
                                // A batch job runs its replicas only in its window.
                                cand.replicas = job.units;
                                cand.instances = job.instances;
                            } else {
                                // The peak's instances as bought: the autoscaler's headroom
                                // (`autoscaling::TARGET_SHARE`) may keep more than the SLO's
                                // replicas need.
                                cand.instances = cand.instances.max(
                                    mix.savings_plan_instances
                                        + mix.on_demand_instances
                                        + mix.spot_instances,
                                );
                            }
                            if let Some(p) = inst.price(region).filter(|p| !p.note.is_empty()) {
                                mix.assumptions.push(format!(
                                    "{} on-demand price in {region}: {}",
                                    inst.name, p.note
                                ));
                            }
                            add_eks_operations(w, &mut mix);
                            cand.usd_per_hour = mix.usd_per_hour;
                            cand.purchase_mix = mix;
                            finish(w, &sizing, &mut cand);
                            cand.findings = findings::check(&Context {
                                workload: w,
                                candidate: &cand,
                                instance: inst,
                                gpu,
                                model,
                            });
                            out.candidates.push(cand);
                        }
                        Err(r) => record(&mut out.rejected, &mut out.rejections, inst, setup, r),
                    }
                }
            }
        }
    }
    rank(&mut out.candidates);
    for (k, i) in out.option_indices().into_iter().enumerate() {
        out.candidates[i].rank = k + 1;
    }
    out.passed_over = passed_over(&out.options());
    out.nearest_misses = nearest_misses(&out.rejections);
    out.endpoint = crate::endpoint::advise(w, out.candidates.first());
    Ok(out)
}

/// The checkpoint a configuration serves (`inferplan_serving::checkpoint::choose`), `None`
/// when the catalog lists none for the model; rejected `no_checkpoint` when none serves the
/// format. Chat (interactive) workloads take only checkpoints with a chat template. Under
/// `any` (`offered`), a low-bit format is offered only with a checkpoint that exists: a model
/// without catalogued checkpoints is searched in 16 bits only.
#[allow(clippy::too_many_arguments)]
fn checkpoint_for(
    c: &Catalog,
    w: &Workload,
    model: &ModelSpec,
    inst: &Instance,
    gpu: &Gpu,
    gpus: u32,
    weights: Dtype,
    engine: Engine,
    offered: bool,
) -> Result<Option<ServedCheckpoint>, Reject> {
    let Some(mem) = inst.gpu_mem_gib().or_else(|| gpu.memory_gib()) else {
        // `evaluate` rejects it for the missing figure.
        return Ok(None);
    };
    let want = Want {
        precision: weights,
        chat: w.slo.mode == Mode::Interactive,
        named: w.model.checkpoint.as_deref(),
        // The engine that loads the weights: vLLM on a Neuron chip is NxD Inference's loader.
        engine: inferplan_serving::served_engine(engine, gpu.arch).as_str(),
        gpus,
        gpu_mem_gib: mem,
    };
    match choose(&c.checkpoints(&model.name), model, &want) {
        Choice::Serve(s) => Ok(Some(s)),
        Choice::Unknown if offered && low_bit(weights) => Err((
            "no_checkpoint",
            format!(
                "`precision = \"any\"` offers {weights} only with a checkpoint that exists, and \
                 data/models/checkpoints.csv lists none for {}; name one with \
                 `model.checkpoint` to plan it",
                model.name
            ),
            None,
        )),
        Choice::Unknown => Ok(None),
        Choice::None(detail) => Err(("no_checkpoint", detail, None)),
    }
}

/// Counts a rejection under its reason and keeps it, in search order.
pub(crate) fn record(
    rejected: &mut BTreeMap<&'static str, usize>,
    rejections: &mut Vec<Rejection>,
    inst: &Instance,
    setup: String,
    (reason, detail, miss): Reject,
) {
    *rejected.entry(reason).or_default() += 1;
    rejections.push(Rejection {
        instance: inst.name.clone(),
        setup,
        reason,
        detail,
        miss,
    });
}

/// The five misses closest to feasible (smallest ratio to the limit), ties in search order.
pub(crate) fn nearest_misses(rejections: &[Rejection]) -> Vec<Rejection> {
    let mut misses: Vec<Rejection> = rejections
        .iter()
        .filter(|r| r.miss.is_some())
        .cloned()
        .collect();
    misses.sort_by(|a, b| {
        a.miss
            .unwrap_or(f64::MAX)
            .total_cmp(&b.miss.unwrap_or(f64::MAX))
    });
    misses.truncate(5);
    misses
}

/// Instance-level exclusions from the constraints: (reason, detail).
pub(crate) fn instance_excluded(
    k: &Constraints,
    inst: &Instance,
) -> Option<(&'static str, String)> {
    if !k.instance_families.is_empty()
        && !k
            .instance_families
            .iter()
            .any(|f| f.eq_ignore_ascii_case(&inst.family))
    {
        return Some((
            "family_not_allowed",
            format!(
                "family {} not in {}",
                inst.family,
                k.instance_families.join(", ")
            ),
        ));
    }
    let fractional = inst.gpu_count < 1.0;
    if fractional && k.tenancy == Tenancy::Isolated {
        return Some((
            "shared_gpu_for_isolated_tenant",
            format!(
                "{} is a {} slice of a shared GPU",
                inst.name, inst.gpu_count
            ),
        ));
    }
    if fractional && k.data_class == DataClass::Regulated {
        return Some((
            "not_dedicated_capable",
            format!(
                "{} is a GPU slice on a shared host; regulated data needs a size that can run on dedicated hardware",
                inst.name
            ),
        ));
    }
    None
}

/// The allowed region with the lowest on-demand price.
pub(crate) fn cheapest_region<'w>(
    regions: &'w [String],
    inst: &Instance,
) -> Option<(&'w str, f64)> {
    regions
        .iter()
        .filter_map(|r| inst.on_demand(r).map(|p| (r.as_str(), p)))
        .min_by(|a, b| a.1.total_cmp(&b.1).then_with(|| a.0.cmp(b.0)))
}

/// TP × PP layouts to try on an instance: TP up to the instance's GPUs (powers of two), and
/// PP across instances only at full TP, within the workload's GPU limit.
fn layouts(w: &Workload, inst: &Instance) -> Vec<(u32, u32)> {
    let gpus = inst.whole_gpus().max(1);
    let limit = w.constraints.max_gpus_per_replica.max(1);
    let mut v = Vec::new();
    let mut tp = 1;
    while tp <= gpus && tp <= limit {
        v.push((tp, 1));
        tp *= 2;
    }
    // NxD Inference runs any TP degree (it pads heads; `inferplan_perf::neuron`), so a
    // Neuron instance of 6 or 12 chips is also offered whole, as AWS's own tables run it.
    if inst.interconnect == Interconnect::NeuronLink && !gpus.is_power_of_two() && gpus <= limit {
        v.push((gpus, 1));
    }
    if gpus >= 2 && gpus.is_power_of_two() {
        let mut pp = 2;
        while gpus * pp <= limit && pp <= 4 {
            v.push((gpus, pp));
            pp *= 2;
        }
    }
    v
}

/// Whether LMDeploy serves `model` with a `kv` cache, as `render` writes it: a backend for
/// the architecture and a `--quant-policy` for the cache ([`inferplan_serving::lmdeploy`]).
fn lmdeploy_serves(model: &ModelSpec, kv: Dtype) -> Result<(), String> {
    use inferplan_serving::lmdeploy as lm;
    let backend = lm::backend(model).ok_or_else(|| {
        format!(
            "LMDeploy {} serves {} (`{}`) with neither TurboMind nor its PyTorch engine",
            lm::VERSION,
            model.name,
            model.family
        )
    })?;
    lm::quant_policy(backend, kv, model.head_dim).map(|_| ())
}

/// The replica model of a configuration, its efficiencies and KV format. On a Neuron chip the
/// replica is compiled for the batch chosen for the SLOs ([`compiled_for_slo`]).
#[allow(clippy::too_many_arguments)]
fn prepare(
    inputs: &Inputs<'_>,
    w: &Workload,
    sizing: &Sizing,
    memo: &Memo,
    model: &ModelSpec,
    inst: &Instance,
    gpu: &Gpu,
    tp: u32,
    pp: u32,
    weights: Dtype,
    engine: Engine,
) -> Result<(Replica, Efficiency, Dtype), Reject> {
    if !engine.runs_on(gpu.arch) {
        return Err((
            "engine_unsupported",
            format!(
                "{engine} does not run on {} (or is not calibrated for it)",
                gpu.name
            ),
            None,
        ));
    }
    if let Some(why) = inferplan_perf::neuron::refusal(engine, model, gpu) {
        return Err(("engine_unsupported", why, None));
    }
    match gpu.support(weights) {
        Support::Native | Support::WeightOnly => {}
        _ => {
            return Err((
                "precision_unsupported",
                format!("{} cannot run {weights} weights", gpu.name),
                None,
            ))
        }
    }
    let mem = inst.gpu_mem_gib().or_else(|| gpu.memory_gib()).ok_or((
        "gpu_figures_missing",
        format!("memory of {} not known", gpu.name),
        None,
    ))?;
    let kv = inferplan_perf::memory::default_kv_dtype(weights, gpu);
    if engine == Engine::Lmdeploy {
        lmdeploy_serves(model, kv).map_err(|why| ("engine_unsupported", why, None))?;
    }
    let gpus = tp * pp;
    let interconnect = match (gpus, inst.interconnect) {
        (1, _) => Interconnect::Single,
        (_, Interconnect::Single) => Interconnect::Pcie,
        (_, link) => link,
    };
    let defaults = engine.defaults_on(gpu, mem, tp, pp);
    let d = Deployment {
        placement: Placement {
            model,
            gpu,
            gpu_mem_gib: mem,
            gpus: gpus.max(inst.whole_gpus()),
            interconnect,
            tp,
            attention_dp: 1,
            pp,
            weights,
            kv,
        },
        engine,
        limits: defaults.limits,
        kv_memory_fraction: defaults.kv_memory_fraction,
    };
    let context = (sizing.input_p99 + sizing.output_p99).min(model.max_context);
    let replica = Replica::new(&d, context, inputs.memory).map_err(|e| {
        let reason = match &e {
            inferplan_perf::PerfError::Refused {
                field: "memory", ..
            } => "does_not_fit",
            inferplan_perf::PerfError::Refused { field: "gpu", .. } => "gpu_figures_missing",
            inferplan_perf::PerfError::Refused {
                field: "context", ..
            } => "context_too_long",
            _ => "layout_invalid",
        };
        (reason, e.to_string(), None)
    })?;
    let eff = inputs.efficiency.lookup(gpu.arch, engine, weights).eff;
    let replica = match replica.neuron_shapes() {
        Some(shapes) => {
            compiled_for_slo(&d, context, inputs, w, sizing, memo, &eff, shapes, replica)
        }
        None => replica,
    };
    Ok((replica, eff, kv))
}

/// On a Neuron chip, the replica compiled for the batch that serves the most within the SLOs.
/// NxD Inference pads every token-generation step to the compiled batch
/// ([`inferplan_perf::neuron::Shapes::decode`]), so the batch the KV cache holds (`full`, what
/// the engine would be compiled for without a choice) decodes slowly even when few sequences
/// run: each batch of [`inferplan_perf::neuron::batch_choices`] is priced by the same SLO model
/// as the search, and the one of highest capacity is kept (the smaller on a tie). When none
/// meets the SLOs, a batch of one, the fastest decode step: the search then rejects it for what
/// no compiled batch fixes. The plan writes the batch (`Candidate::max_num_seqs`), render
/// compiles it (`--max-num-seqs`) and `plan --verify` simulates it (the same replica).
#[allow(clippy::too_many_arguments)]
fn compiled_for_slo(
    d: &Deployment<'_>,
    context: u64,
    inputs: &Inputs<'_>,
    w: &Workload,
    sizing: &Sizing,
    memo: &Memo,
    eff: &Efficiency,
    full_shapes: inferplan_perf::neuron::Shapes,
    full: Replica,
) -> Replica {
    let full_batch = full_shapes.max_num_seqs;
    let mut best: Option<(f64, Replica)> = None;
    let mut smallest: Option<Replica> = None;
    for batch in inferplan_perf::neuron::batch_choices(full_batch) {
        let replica = if batch == full_batch {
            full.clone()
        } else {
            let mut d = d.clone();
            d.limits.max_num_seqs = batch;
            match Replica::new(&d, context, inputs.memory) {
                Ok(r) => r,
                Err(_) => continue,
            }
        };
        let key = Memo::key(&replica, eff);
        let found = memo.capacity(&key, || SloModel::new(&replica, eff, w, sizing).capacity());
        if let Ok(capacity) = found {
            if best.as_ref().is_none_or(|(c, _)| capacity > *c) {
                best = Some((capacity, replica.clone()));
            }
        }
        if smallest.is_none() {
            smallest = Some(replica);
        }
    }
    best.map(|(_, r)| r).or(smallest).unwrap_or(full)
}

/// The replica model and efficiencies of a candidate the planner proposed, to simulate it.
pub fn replica_for(
    inputs: &Inputs<'_>,
    w: &Workload,
    c: &Candidate,
) -> Result<(Replica, Efficiency), PlanError> {
    let cat = inputs.catalog;
    let model = cat.model(&w.model.name)?;
    let inst = cat.instance(&c.instance)?;
    let gpu = cat.instance_gpu(inst).ok_or_else(|| {
        PlanError::input("candidate", format!("{} has no catalog GPU", inst.name))
    })?;
    let sizing = Sizing::of(w);
    prepare(
        inputs,
        w,
        &sizing,
        &Memo::default(),
        model,
        inst,
        gpu,
        c.tp,
        c.pp,
        c.precision,
        c.engine,
    )
    .map(|(r, e, _)| (r, e))
    .map_err(|(_, detail, _)| PlanError::input("candidate", detail))
}

/// The cost of candidate `c` when one replica serves `capacity` requests/s (a capacity found
/// by simulation rather than the analytic one), at its region's purchase mix, $/hour; with the
/// replicas that serves at the peak, spares included.
pub fn cost_at_capacity(
    inputs: &Inputs<'_>,
    w: &Workload,
    c: &Candidate,
    capacity: f64,
) -> Result<(f64, u32), PlanError> {
    if c.platform != Platform::Eks {
        return Err(PlanError::input(
            "candidate",
            format!(
                "{} runs on {}: only EKS candidates are re-priced from EC2 prices",
                c.instance, c.platform
            ),
        ));
    }
    let inst = inputs.catalog.instance(&c.instance)?;
    let Some(price) = inst.on_demand(&c.region) else {
        return Err(PlanError::input(
            "candidate",
            format!("{} has no on-demand price in {}", inst.name, c.region),
        ));
    };
    let sizing = Sizing::of(w);
    let mut sized = c.clone();
    sized.max_rps_per_replica = capacity;
    let spare = if w.constraints.redundancy {
        c.replicas_per_instance
    } else {
        0
    };
    sized.replicas = (sizing.rate_to_serve / capacity).ceil().max(1.0) as u32 + spare;
    let mut mix = eks_mix(w, &sizing, &sized, inst, &c.region, price)
        .map_err(|(_, detail)| PlanError::input("candidate", detail))?;
    if let Some(job) = &mix.batch_job {
        sized.replicas = job.units;
    }
    add_eks_operations(w, &mut mix);
    Ok((mix.usd_per_hour, sized.replicas))
}

/// The purchase mix of EKS candidate `c` on `inst` in `region` at on-demand `price`, the same
/// for the search and for a capacity found by simulation ([`cost_at_capacity`]): batch work as
/// a job over its window; other work as a pool billed hour by hour, at least the rendered
/// autoscaler's minimum (deadline work on EKS is a pool: the rendered engine holds the queue,
/// so it cannot scale to zero between runs of a job, docs/render.md "Async work"; a SageMaker
/// async endpoint can, `sagemaker::derive`). A job that cannot run gives its rejection.
fn eks_mix(
    w: &Workload,
    sizing: &Sizing,
    c: &Candidate,
    inst: &Instance,
    region: &str,
    price: f64,
) -> Result<crate::candidate::PurchaseMix, (&'static str, String)> {
    if w.slo.mode == Mode::Batch {
        let job = llm_job(w, c, inst);
        return job_mix(&w.pricing, w.slo.mode, inst, region, price, job)
            .map(|(m, _)| m)
            .map_err(|e| e.reason(&job.window));
    }
    let t = crate::autoscaling::of_candidate(w, c);
    let floor = std::array::from_fn(|h| t.floor_at(h as u32));
    Ok(purchase_mix(w, sizing, c, inst, region, price, floor))
}

/// A replica layout of a workload, to size it outside the search: the instance type, its
/// tensor × pipeline layout, weight format and engine.
#[derive(Debug, Clone, PartialEq)]
pub struct LayoutChoice {
    /// Instance type.
    pub instance: String,
    /// Tensor-parallel degree.
    pub tp: u32,
    /// Pipeline-parallel degree.
    pub pp: u32,
    /// Weight format.
    pub precision: Dtype,
    /// Serving engine.
    pub engine: Engine,
}

/// The replica model and efficiencies of `layout` serving `w`, and the analytic capacity of
/// one replica within the SLOs at the SLO percentile, requests/s (what the search sizes with).
pub fn analytic_capacity(
    inputs: &Inputs<'_>,
    w: &Workload,
    layout: &LayoutChoice,
) -> Result<(Replica, Efficiency, f64), PlanError> {
    let cat = inputs.catalog;
    let model = cat.model(&w.model.name)?;
    let inst = cat.instance(&layout.instance)?;
    let gpu = cat
        .instance_gpu(inst)
        .ok_or_else(|| PlanError::input("layout", format!("{} has no catalog GPU", inst.name)))?;
    let sizing = Sizing::of(w);
    let l = layout;
    let (replica, eff, _) = prepare(
        inputs,
        w,
        &sizing,
        &Memo::default(),
        model,
        inst,
        gpu,
        l.tp,
        l.pp,
        l.precision,
        l.engine,
    )
    .map_err(|(_, detail, _)| PlanError::input("layout", detail))?;
    let capacity = SloModel::new(&replica, &eff, w, &sizing)
        .capacity()
        .map_err(|(_, detail, _)| PlanError::input("layout", detail))?;
    Ok((replica, eff, capacity))
}

#[allow(clippy::too_many_arguments)]
fn evaluate(
    inputs: &Inputs<'_>,
    w: &Workload,
    sizing: &Sizing,
    memo: &Memo,
    model: &ModelSpec,
    inst: &Instance,
    gpu: &Gpu,
    tp: u32,
    pp: u32,
    weights: Dtype,
    engine: Engine,
) -> Result<Candidate, Reject> {
    let (replica, eff, kv) = prepare(
        inputs, w, sizing, memo, model, inst, gpu, tp, pp, weights, engine,
    )?;

    // The model is built only when the memo has not seen this replica.
    let model_at = std::cell::OnceCell::new();
    let model_at = || model_at.get_or_init(|| SloModel::new(&replica, &eff, w, sizing));
    let ratio = |a: &AtLoad| model_at().ratio(a);
    let key = Memo::key(&replica, &eff);
    let capacity = memo.capacity(&key, || model_at().capacity())?;
    let need = sizing.rate_to_serve / capacity;
    if need > bounds::REPLICAS.max {
        return Err((
            "too_many_replicas",
            format!(
                "needs {need:.0} replicas at {:.3} req/s each, more than the {} a plan proposes \
                 (docs/limits.md)",
                capacity,
                bounds::REPLICAS.max
            ),
            None,
        ));
    }
    let rpi = if pp > 1 {
        1
    } else {
        (inst.whole_gpus() / tp).max(1)
    };
    // N+1 at the instance level: a whole instance of spare replicas.
    let spare = if w.constraints.redundancy { rpi } else { 0 };
    let replicas = (need.ceil().max(1.0) as u32) + spare;
    let instances = replicas.div_ceil(rpi) * pp;
    let per_replica = (sizing.rate_to_serve / f64::from(replicas - spare).max(1.0)).min(capacity);
    let rate = per_replica.max(capacity * 1e-4);
    let (served, p99) = memo.at_and_p99(&key, rate, || model_at().at_and_p99(rate));
    let headroom = {
        let r = ratio(&served);
        if r > 0.0 {
            1.0 / r
        } else {
            capacity / per_replica.max(1e-9)
        }
    };
    let (weights_gib, _) = inferplan_perf::memory::weight_bytes(model, weights, tp, pp);
    Ok(Candidate {
        rank: 0,
        platform: Platform::Eks,
        instance: inst.name.clone(),
        family: inst.family.clone(),
        region: String::new(),
        gpu: gpu.name.clone(),
        accelerator: gpu.arch,
        gpus_per_instance: inst.whole_gpus(),
        gpus_per_replica: tp * pp,
        tp,
        pp,
        precision: weights,
        kv_dtype: kv,
        engine,
        replicas,
        replicas_per_instance: rpi,
        instances,
        max_rps_per_replica: capacity,
        ttft_p99_ms: p99.ttft,
        tpot_p99_ms: p99.tpot,
        e2e_p99_ms: p99.e2e,
        usd_per_hour: 0.0,
        usd_per_million_output_tokens: 0.0,
        usd_per_million_total_tokens: 0.0,
        utilization: 0.0,
        purchase_mix: crate::candidate::PurchaseMix::default(),
        slo_headroom: headroom,
        checkpoint: None,
        weights_gib: weights_gib / (1u64 << 30) as f64,
        findings: Vec::new(),
        sagemaker: None,
        max_num_seqs: replica.neuron_shapes().map(|s| s.max_num_seqs),
    })
}

/// Cost per token and utilisation (served load over billed capacity) from the mix and the mean
/// rate.
fn finish(w: &Workload, sizing: &Sizing, c: &mut Candidate) {
    let per_hour_tokens_out = w.traffic.rate_rps * sizing.output_mean * 3600.0;
    let per_hour_tokens_all =
        w.traffic.rate_rps * (sizing.input_mean + sizing.output_mean) * 3600.0;
    c.usd_per_million_output_tokens = c.usd_per_hour / per_hour_tokens_out * 1e6;
    c.usd_per_million_total_tokens = c.usd_per_hour / per_hour_tokens_all * 1e6;
    // Served load over billed capacity: the mean rate over what the billed instance-hours
    // serve (spares and warm peak capacity included).
    let per_instance =
        f64::from(c.replicas_per_instance.max(1)) / f64::from(c.pp.max(1)) * c.max_rps_per_replica;
    let billed_capacity = c.purchase_mix.billed_instance_hours_per_day / 24.0 * per_instance;
    c.utilization = if billed_capacity > 0.0 {
        (w.traffic.rate_rps / billed_capacity).min(1.0)
    } else {
        0.0
    };
}
