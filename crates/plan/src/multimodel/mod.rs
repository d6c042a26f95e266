//! Many models (`traffic.models` > 1): the cheapest of five ways to serve them, each sized by
//! the one planner ([`crate::search::plan`]) and priced by its purchase mix.
//!
//! - **Dedicated**: an endpoint per model on whole GPUs, each sized for its own rate with its
//!   own minimum and N+1 replicas; the sum of the single-model plans.
//! - **Shared pool**: one pool sized for the summed rate whose replicas swap models in on
//!   demand ([`pool`]: residency, the swap time from `inferplan_serving::cold_start_s`, and
//!   whether the SLO percentile accepts a swap).
//! - **Multi-LoRA**: one base model for the summed rate, the models as LoRA adapters
//!   (`model.adapters`), its capacity cut by the published throughput cost of LoRA ([`lora`]).
//! - **MIG slices**: an endpoint per model on MIG slices of A100/H100/H200/B200 GPUs ([`mig`]);
//!   the slices are priced at their share of the instance and the instances bought whole.
//! - **Fractional GPUs**: an endpoint per model on fractional-GPU instance types (g6f).
//!
//! Each pattern says what it costs and why it wins or loses.

pub mod lora;
pub mod mig;
pub mod pool;

use crate::candidate::Candidate;
use crate::cost::{spare_replicas, Sizing};
use crate::error::PlanError;
use crate::search::{plan, Inputs, Plan};
use crate::workload::{Mode, Workload};
use inferplan_catalog::Catalog;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A way to serve many models.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MultiPattern {
    /// An endpoint per model on whole GPUs.
    Dedicated,
    /// One pool that swaps models in on demand.
    SharedPool,
    /// One base model with an adapter per model.
    MultiLora,
    /// An endpoint per model on MIG slices.
    MigSlices,
    /// An endpoint per model on fractional-GPU instances.
    FractionalGpus,
}

impl MultiPattern {
    /// Every pattern, in the order the answer lists them.
    pub const ALL: [MultiPattern; 5] = [
        MultiPattern::Dedicated,
        MultiPattern::SharedPool,
        MultiPattern::MultiLora,
        MultiPattern::MigSlices,
        MultiPattern::FractionalGpus,
    ];

    /// A short label for tables.
    pub fn label(self) -> &'static str {
        match self {
            MultiPattern::Dedicated => "dedicated endpoints",
            MultiPattern::SharedPool => "shared multi-model pool",
            MultiPattern::MultiLora => "multi-LoRA on one base",
            MultiPattern::MigSlices => "MIG slices",
            MultiPattern::FractionalGpus => "fractional GPUs",
        }
    }
}

/// One pattern, priced.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PatternCost {
    /// The pattern.
    pub pattern: MultiPattern,
    /// Mean cost per hour at the purchase mix; `null` when it cannot serve the models.
    pub usd_per_hour: Option<f64>,
    /// What is bought, e.g. `30 × 1 × g5.xlarge TP1 bf16 vllm`.
    pub deployment: String,
    /// Instances bought at the peak (whole instances; a MIG slice's instance counts once).
    pub instances: Option<u32>,
    /// Whether it is the cheapest pattern that serves the models.
    pub wins: bool,
    /// How it is sized, with the numbers, and why it wins or loses.
    pub reason: String,
}

/// The comparison for a workload of many models.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MultiModel {
    /// Models served.
    pub models: u32,
    /// Their summed mean rate, requests/s.
    pub total_rate_rps: f64,
    /// The five patterns, in [`MultiPattern::ALL`] order.
    pub patterns: Vec<PatternCost>,
    /// The cheapest pattern that serves the models.
    pub cheapest: Option<MultiPattern>,
    /// Assumptions behind the comparison.
    pub assumptions: Vec<String>,
}

/// Share of the memory a replica has left after its weights that resident adapters may take
/// (an assumption: the rest stays KV cache).
pub const ADAPTER_SHARE_OF_FREE: f64 = 0.5;

/// What kind of hardware an option of a per-model plan runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Hardware {
    Whole,
    Fractional,
    Mig,
}

fn hardware(c: &Candidate, catalog: &Catalog) -> Hardware {
    if c.family == mig::MIG_FAMILY {
        Hardware::Mig
    } else if catalog
        .instance(&c.instance)
        .is_ok_and(|i| i.gpu_count < 1.0)
    {
        Hardware::Fractional
    } else {
        Hardware::Whole
    }
}

/// `w` for one model of rate `rate`: its share of the peak, one model, no adapters.
pub fn per_model(w: &Workload, rate: f64) -> Workload {
    let mut one = w.clone();
    let share = rate / w.traffic.rate_rps;
    one.traffic.rate_rps = rate;
    one.traffic.peak_rps = w.traffic.peak_rps.map(|p| p * share);
    one.traffic.models = 1;
    one.traffic.model_rates_rps = None;
    one.model.adapters = None;
    one
}

/// `w` for all models on one deployment: the summed rate (and peak: the models' peaks are
/// taken to coincide) times `factor`.
pub fn aggregate(w: &Workload, factor: f64) -> Workload {
    let total: f64 = w.model_rates().iter().sum();
    let mut all = per_model(w, total);
    all.traffic.rate_rps = total * factor;
    all.traffic.peak_rps = all.traffic.peak_rps.map(|p| p * factor);
    all
}

fn setup(c: &Candidate) -> String {
    format!(
        "{} × {} TP{}{} {} {}",
        c.instances,
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

/// Why a plan has no option of a kind, from its rejections of that kind.
fn none_reason(p: &Plan, what: &str, keep: impl Fn(&str) -> bool) -> String {
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for r in p.rejections.iter().filter(|r| keep(&r.instance)) {
        *counts.entry(r.reason).or_default() += 1;
    }
    if counts.is_empty() {
        return format!("no {what} to consider within the constraints");
    }
    let mut v: Vec<_> = counts.into_iter().collect();
    v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    format!(
        "no {what} meets the SLOs: {}",
        v.iter()
            .map(|(r, n)| format!("{r}: {n}"))
            .collect::<Vec<_>>()
            .join(", ")
    )
}

/// Compares the five patterns for `w`; `None` for a single model.
pub fn compare(inputs: &Inputs<'_>, w: &Workload) -> Result<Option<MultiModel>, PlanError> {
    if w.traffic.models <= 1 {
        return Ok(None);
    }
    // The five patterns are priced as EKS pools (the EC2 prices of the catalog).
    let eks = {
        let mut x = w.clone();
        x.constraints.platforms = vec![crate::workload::Platform::Eks];
        x
    };
    let w = &eks;
    let rates = w.model_rates();
    let n = rates.len();
    let total: f64 = rates.iter().sum();
    let mut assumptions = Vec::new();

    // One plan per distinct rate, over the catalog and its MIG slices.
    let (derived, mut slices) = mig::with_slices(inputs.catalog)?;
    let families = &w.constraints.instance_families;
    if !families.is_empty() {
        slices.retain(|s| {
            inputs
                .catalog
                .instance(&s.parent)
                .is_ok_and(|p| families.iter().any(|f| f.eq_ignore_ascii_case(&p.family)))
        });
    }
    let with_slices = Inputs {
        catalog: &derived,
        efficiency: inputs.efficiency,
        memory: inputs.memory,
    };
    let mut groups: BTreeMap<u64, usize> = BTreeMap::new();
    for r in &rates {
        *groups.entry(r.to_bits()).or_default() += 1;
    }
    let mut per_rate = Vec::new();
    for (&bits, &count) in &groups {
        let rate = f64::from_bits(bits);
        let one = per_model(w, rate);
        // Whole and fractional GPUs: the single-model plan itself.
        let p = plan(inputs, &one)?;
        // MIG: the same plan over the slices only. The search sees every slice; those whose
        // parent family is not allowed are dropped from its candidates.
        let mut on_slices = one.clone();
        on_slices.constraints.instance_families = vec![mig::MIG_FAMILY.to_owned()];
        let q = plan(&with_slices, &on_slices)?;
        // All candidates, not `options()`: a fractional L4 is not the same hardware as a whole
        // one, though `options()` keeps one option per GPU model and layout.
        let kept: Vec<Candidate> = p
            .candidates
            .iter()
            .chain(
                q.candidates
                    .iter()
                    .filter(|c| slices.iter().any(|s| s.name == c.instance)),
            )
            .cloned()
            .collect();
        per_rate.push((rate, count, p, q, kept));
    }

    let mut patterns = Vec::new();

    // Dedicated endpoints and fractional GPUs: the sum of the per-model plans.
    for (pattern, kind, what) in [
        (
            MultiPattern::Dedicated,
            Hardware::Whole,
            "whole-GPU deployment",
        ),
        (
            MultiPattern::FractionalGpus,
            Hardware::Fractional,
            "fractional-GPU instance",
        ),
    ] {
        let mut cost = 0.0;
        let mut instances = 0u32;
        let mut parts = Vec::new();
        let mut missing = None;
        for (rate, count, p, _, kept) in &per_rate {
            match kept.iter().find(|c| hardware(c, inputs.catalog) == kind) {
                Some(c) => {
                    cost += c.usd_per_hour * *count as f64;
                    instances += c.instances * *count as u32;
                    parts.push((*count, *rate, c.clone()));
                }
                None => {
                    missing = Some(none_reason(p, what, |name| {
                        let h = inputs.catalog.instance(name).ok();
                        match kind {
                            Hardware::Fractional => h.is_some_and(|i| i.gpu_count < 1.0),
                            _ => h.is_some_and(|i| i.gpu_count >= 1.0),
                        }
                    }));
                    break;
                }
            }
        }
        patterns.push(match missing {
            Some(reason) => PatternCost {
                pattern,
                usd_per_hour: None,
                deployment: String::new(),
                instances: None,
                wins: false,
                reason,
            },
            None => {
                let deployment = parts
                    .iter()
                    .map(|(count, _, c)| format!("{count} × ({})", setup(c)))
                    .collect::<Vec<_>>()
                    .join(" + ");
                let sizing = parts
                    .iter()
                    .map(|(count, rate, c)| {
                        format!(
                            "{count} model{} at {rate} req/s: {} replica{} each ({:.2} req/s per replica, {:.0} % utilised, ${:.2}/h)",
                            if *count == 1 { "" } else { "s" },
                            c.replicas,
                            if c.replicas == 1 { "" } else { "s" },
                            c.max_rps_per_replica,
                            c.utilization * 100.0,
                            c.usd_per_hour
                        )
                    })
                    .collect::<Vec<_>>()
                    .join("; ");
                PatternCost {
                    pattern,
                    usd_per_hour: Some(cost),
                    deployment,
                    instances: Some(instances),
                    wins: false,
                    reason: format!(
                        "an endpoint per model, each sized by the single-model plan with its own minimum{} replicas: {sizing}",
                        if w.constraints.redundancy { " and N+1" } else { "" }
                    ),
                }
            }
        });
    }

    // MIG slices: the per-model plans on slices, the slices packed into whole instances.
    patterns.push({
        // Per slice type: slices used, their cost at their share, slices per instance, the
        // instance type, and the most slices one model uses.
        let mut by_slice: BTreeMap<String, (u32, f64, u32, String, u32)> = BTreeMap::new();
        let mut missing = None;
        let mut parts = Vec::new();
        for (rate, count, _, p, kept) in &per_rate {
            match kept
                .iter()
                .find(|c| hardware(c, inputs.catalog) == Hardware::Mig)
            {
                Some(c) => {
                    let s = slices
                        .iter()
                        .find(|s| s.name == c.instance)
                        .expect("a MIG option is one of the slices");
                    let e = by_slice.entry(s.name.clone()).or_insert((
                        0,
                        0.0,
                        s.per_instance,
                        s.parent.clone(),
                        0,
                    ));
                    e.0 += c.instances * *count as u32;
                    e.1 += c.usd_per_hour * *count as f64;
                    e.4 = e.4.max(c.instances);
                    parts.push(format!(
                        "{count} model{} at {rate} req/s: {} slice{} each ({:.2} req/s per slice)",
                        if *count == 1 { "" } else { "s" },
                        c.instances,
                        if c.instances == 1 { "" } else { "s" },
                        c.max_rps_per_replica
                    ));
                }
                None => {
                    missing = Some(if slices.is_empty() {
                        "no MIG-capable instance within the constraints (MIG needs A100, H100, H200 or B200 GPUs: data/catalog/mig_profiles.csv)".to_owned()
                    } else {
                        none_reason(p, "MIG slice", |name| {
                            slices.iter().any(|s| s.name == name)
                        })
                    });
                    break;
                }
            }
        }
        match missing {
            Some(reason) => PatternCost {
                pattern: MultiPattern::MigSlices,
                usd_per_hour: None,
                deployment: String::new(),
                instances: None,
                wins: false,
                reason,
            },
            None => {
                let mut cost = 0.0;
                let mut instances = 0;
                let mut bought = Vec::new();
                for (name, (used, slice_cost, per_instance, parent, most)) in &by_slice {
                    // With N+1, a model's slices sit on different instances, so that losing
                    // one instance leaves every model a slice.
                    let spread = if w.constraints.redundancy { *most } else { 1 };
                    let whole = used.div_ceil(*per_instance).max(spread);
                    // The unused slices of the last instance are paid too.
                    cost += slice_cost * f64::from(whole * per_instance) / f64::from(*used);
                    instances += whole;
                    bought.push(format!(
                        "{whole} × {parent} as {used} of its {} {} slices ({name})",
                        whole * per_instance,
                        name.rsplit('/').next().unwrap_or_default()
                    ));
                }
                PatternCost {
                    pattern: MultiPattern::MigSlices,
                    usd_per_hour: Some(cost),
                    deployment: bought.join(" + "),
                    instances: Some(instances),
                    wins: false,
                    reason: format!(
                        "an endpoint per model on a MIG slice (its share of memory, bandwidth and SMs), hardware-isolated: {}; whole instances bought, each slice priced at its share",
                        parts.join("; ")
                    ),
                }
            }
        }
    });

    // The shared pool: the summed rate on one pool that swaps models in.
    let agg = aggregate(w, 1.0);
    let pooled = plan(inputs, &agg)?;
    // Every whole-GPU option of the summed-rate plan, sized for residency: the cheapest.
    let mut best_pool: Option<PatternCost> = None;
    for c in pooled
        .candidates
        .iter()
        .filter(|c| hardware(c, inputs.catalog) == Hardware::Whole)
    {
        let p = shared_pool(inputs.catalog, w, &agg, &rates, c)?;
        if best_pool
            .as_ref()
            .is_none_or(|b| p.usd_per_hour < b.usd_per_hour)
        {
            best_pool = Some(p);
        }
    }
    patterns.push(best_pool.unwrap_or_else(|| PatternCost {
        pattern: MultiPattern::SharedPool,
        usd_per_hour: None,
        deployment: String::new(),
        instances: None,
        wins: false,
        reason: none_reason(&pooled, "whole-GPU deployment", |_| true),
    }));

    // Multi-LoRA: the summed rate on one base, with the throughput LoRA costs.
    patterns.push(multi_lora(inputs, w, n, &mut assumptions)?);
    patterns.sort_by_key(|p| p.pattern);

    // The winner and the reasons relative to it.
    let cheapest = patterns
        .iter()
        .filter_map(|p| p.usd_per_hour.map(|u| (p.pattern, u)))
        .min_by(|a, b| a.1.total_cmp(&b.1).then(a.0.cmp(&b.0)));
    if let Some((best, best_usd)) = cheapest {
        let best_label = best.label();
        for p in &mut patterns {
            match p.usd_per_hour {
                Some(_) if p.pattern == best => {
                    p.wins = true;
                    p.reason = format!("cheapest: {}", p.reason);
                }
                Some(u) if u - best_usd < 0.005 => {
                    p.reason = format!("as cheap as {best_label}, listed first: {}", p.reason);
                }
                Some(u) => {
                    p.reason = format!(
                        "${:.2}/h ({:+.0} %) more than {best_label}: {}",
                        u - best_usd,
                        (u / best_usd - 1.0) * 100.0,
                        p.reason
                    );
                }
                None => {}
            }
        }
    }
    assumptions.push(format!(
        "the {n} models' peaks are taken to coincide when one deployment serves them all (shared pool, multi-LoRA)"
    ));
    assumptions.push(
        "the shared pool's cost is the summed-rate plan's purchase mix scaled to the pool's instances; one model per replica (several models on one GPU are what MIG slices and fractional GPUs price)"
            .to_owned(),
    );
    Ok(Some(MultiModel {
        models: w.traffic.models,
        total_rate_rps: total,
        patterns,
        cheapest: cheapest.map(|b| b.0),
        assumptions,
    }))
}

/// The shared pool on the summed-rate plan's cheapest whole-GPU option `c`.
fn shared_pool(
    catalog: &Catalog,
    w: &Workload,
    agg: &Workload,
    rates: &[f64],
    c: &Candidate,
) -> Result<PatternCost, PlanError> {
    let inst = catalog.instance(&c.instance)?;
    let cold = c.cold_start(&w.constraints.weights_source, inst);
    // The instance runs: a swap restarts the engine and reads the weights.
    let swap_s = cold.seconds - cold.boot_s;
    let q = w.slo.percentile.quantile();
    let fits = match w.slo.mode {
        Mode::Batch => true,
        Mode::Async => w
            .slo
            .deadline_s
            .is_none_or(|d| swap_s + c.e2e_p99_ms / 1e3 <= d),
        Mode::Interactive => {
            w.slo
                .ttft_ms
                .is_none_or(|l| swap_s * 1e3 + c.ttft_p99_ms <= l)
                && w.slo
                    .e2e_ms
                    .is_none_or(|l| swap_s * 1e3 + c.e2e_p99_ms <= l)
        }
    };
    let spare = spare_replicas(agg, c);
    let capacity = c.replicas - spare;
    let sizing = Sizing::of(agg);
    let r = pool::size(rates, sizing.rate_to_serve, capacity, swap_s, 1.0 - q, fits);
    let replicas = r.replicas + spare;
    let rpi = c.replicas_per_instance.max(1);
    let instances = replicas.div_ceil(rpi) * c.pp.max(1);
    let usd = c.usd_per_hour * f64::from(instances) / f64::from(c.instances.max(1));
    let pct = format!("{:.0}", (1.0 - q) * 100.0);
    let verdict = if r.miss_probability > 0.0 {
        format!(
            "{:.1} % of requests find their model not resident and wait a {swap_s:.0} s swap{}",
            r.miss_probability * 100.0,
            if fits {
                ", which the SLO allows".to_owned()
            } else {
                format!(", within the {pct} % the SLO percentile lets go")
            }
        )
    } else if fits {
        "every model stays resident".to_owned()
    } else {
        format!(
            "a {swap_s:.0} s swap breaks the SLO for more than the {pct} % of requests its percentile lets go, so all {} models stay resident: one replica each, no sharing",
            rates.len()
        )
    };
    Ok(PatternCost {
        pattern: MultiPattern::SharedPool,
        usd_per_hour: Some(usd),
        deployment: format!(
            "{instances} × {} TP{} {} {}",
            c.instance, c.tp, c.precision, c.engine
        ),
        instances: Some(instances),
        wins: false,
        reason: format!(
            "one pool for the summed {:.3} req/s ({} replica{} of capacity at {:.2} req/s each), one model per replica: {} resident, {} replica{} swapping{}; {verdict} (swap {swap_s:.0} s: {})",
            sizing.rate_to_serve,
            capacity,
            if capacity == 1 { "" } else { "s" },
            c.max_rps_per_replica,
            r.resident,
            r.swapping_replicas,
            if r.swapping_replicas == 1 { "" } else { "s" },
            if spare > 0 {
                format!(", {spare} spare")
            } else {
                String::new()
            },
            cold.basis.replacen(
                &format!("boot {} s + ", cold.boot_s.round()),
                "",
                1
            )
        ),
    })
}

/// Multi-LoRA on the summed-rate plan of the base model, its capacity cut by LoRA's cost.
fn multi_lora(
    inputs: &Inputs<'_>,
    w: &Workload,
    n: usize,
    assumptions: &mut Vec<String>,
) -> Result<PatternCost, PlanError> {
    let none = |reason: String| PatternCost {
        pattern: MultiPattern::MultiLora,
        usd_per_hour: None,
        deployment: String::new(),
        instances: None,
        wins: false,
        reason,
    };
    let Some(adapters) = &w.model.adapters else {
        return Ok(none(format!(
            "the {n} models are full fine-tunes (no `model.adapters`): multi-LoRA serves them only if they are LoRA adapters of {}; give their rank to price it",
            w.model.name
        )));
    };
    let engine = w
        .model
        .engines
        .first()
        .map(|e| e.parse::<inferplan_perf::Engine>())
        .transpose()?
        .unwrap_or(inferplan_perf::Engine::Vllm);
    let penalty = lora::penalty(engine, adapters.rank)?;
    if penalty.assumed {
        assumptions.push(penalty.basis.clone());
    }
    let agg = aggregate(w, 1.0 / (1.0 - penalty.fraction));
    let p = plan(inputs, &agg)?;
    let Some(c) = p.candidates.first().cloned() else {
        return Ok(none(none_reason(
            &p,
            "deployment of the base model",
            |_| true,
        )));
    };
    let model = inputs.catalog.model(&w.model.name)?;
    let one = lora::adapter_gib(model, adapters.rank, &adapters.targets);
    let inst = inputs.catalog.instance(&c.instance)?;
    let gpu = inputs.catalog.instance_gpu(inst);
    let mem = inst
        .gpu_mem_gib()
        .or_else(|| gpu.and_then(|g| g.memory_gib()))
        .unwrap_or(0.0);
    let fraction = gpu.map_or(0.9, |g| engine.defaults(mem, g.arch).kv_memory_fraction);
    let free = mem * f64::from(c.gpus_per_replica.max(1)) * fraction - c.weights_gib;
    // Adapters resident on the GPU take at most this share of the memory left after the
    // weights (an assumption: the rest stays KV cache); the others wait in CPU memory
    // (vLLM's `--max-cpu-loras`) and are copied in when asked for.
    let on_gpu = if free > 0.0 {
        ((ADAPTER_SHARE_OF_FREE * free / one).floor() as usize).min(n)
    } else {
        0
    };
    if on_gpu == 0 {
        return Ok(none(format!(
            "one rank-{} adapter ({:.0} MiB) exceeds {:.0} % of the {:.1} GiB the cheapest base deployment ({}) leaves after its weights",
            adapters.rank,
            one * 1024.0,
            ADAPTER_SHARE_OF_FREE * 100.0,
            free.max(0.0),
            setup(&c)
        )));
    }
    let held = one * on_gpu as f64;
    let flags = if on_gpu < n {
        format!(
            "--enable-lora --max-loras {on_gpu} --max-cpu-loras {n} --max-lora-rank {}",
            adapters.rank
        )
    } else {
        format!(
            "--enable-lora --max-loras {n} --max-lora-rank {}",
            adapters.rank
        )
    };
    let resident = if on_gpu < n {
        format!(
            "{on_gpu} of the {n} adapters fit in {:.0} % of the memory left after the weights; the others wait in CPU memory",
            ADAPTER_SHARE_OF_FREE * 100.0
        )
    } else {
        format!("all {n} stay on the GPU")
    };
    let moe = if model.moe.is_some() && adapters.targets == "all-linear" {
        " (attention only: per-expert adapters are not priced)"
    } else {
        ""
    };
    Ok(PatternCost {
        pattern: MultiPattern::MultiLora,
        usd_per_hour: Some(c.usd_per_hour),
        deployment: format!("{} + {n} adapters ({flags})", setup(&c)),
        instances: Some(c.instances),
        wins: false,
        reason: format!(
            "one {} endpoint for the summed rate sized at {:.3} req/s ({} replica{}), the summed rate over (1 − {:.3}): {}; {n} rank-{} {} adapters{moe} of {:.0} MiB each, {resident}: {:.2} GiB on every replica, {:.0} % of the {:.1} GiB left after the weights, taken from the KV cache",
            w.model.name,
            agg.traffic.rate_rps,
            c.replicas,
            if c.replicas == 1 { "" } else { "s" },
            penalty.fraction,
            penalty.basis,
            adapters.rank,
            adapters.targets,
            one * 1024.0,
            held,
            held / free * 100.0,
            free
        ),
    })
}
