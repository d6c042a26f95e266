//! The suggestion: the cheaper or the safer deployment from a plan, by the fleet verdicts.

use super::analysis::Report;
use super::error::RightsizeError;
use super::statistics::positive;
use super::thresholds::{HOT_UTIL_PCT, SAFE_SLO_HEADROOM, TARGET_UTIL_PCT, UNDER_MIN_SHARE_PCT};
use super::verdict::{duration, hot_on_most_days, pct, VerdictCode};
use inferplan_plan::search::{plan, Inputs, Plan};
use inferplan_plan::{Candidate, Workload};
use serde::Serialize;

/// What the suggestion asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Over-provisioned: move to the cheapest deployment that meets the SLOs.
    Cheaper,
    /// Under-provisioned or memory at risk: move to a deployment with SLO headroom.
    Safer,
    /// Right-sized, or nothing cheaper: keep the deployment.
    Keep,
    /// No deployment meets the workload's SLOs.
    NoCandidate,
    /// The metrics have no usable samples.
    NoData,
}

/// The deployment [`suggest`] picks and why.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Suggestion {
    /// What to do.
    pub action: Action,
    /// Why, with the numbers, in a few sentences.
    pub reason: String,
    /// The deployment picked (the planner's cheapest for reference when keeping).
    pub candidate: Option<Candidate>,
    /// 1-based rank of the candidate in the plan (cheapest first).
    pub rank: Option<usize>,
    /// The current cost, when given, $/hour.
    pub current_usd_per_hour: Option<f64>,
    /// Current cost − the candidate's, $/hour (negative: the candidate costs more).
    pub saving_usd_per_hour: Option<f64>,
    /// The saving as a share of the current cost, %.
    pub saving_pct: Option<f64>,
    /// Deployments that meet the SLOs.
    pub candidates: usize,
    /// Configurations the planner considered.
    pub considered: usize,
    /// How the needed capacity was measured, when the current instance type is known and the
    /// fleet is over- or under-provisioned; `null` when the pick is sized from the workload.
    pub sizing: Option<MeasuredSizing>,
    /// Requests/s the candidate serves within the SLOs, spare replicas left out.
    pub candidate_capacity_rps: Option<f64>,
}

/// The deployment running today.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Current {
    /// Its instance type (`--instance`): with it, the suggestion is sized from the measured
    /// load.
    pub instance: Option<String>,
    /// What it costs, $/hour; default (with the instance type): its instances on demand.
    pub usd_per_hour: Option<f64>,
}

/// The capacity the fleet needs, from what it serves today and how busy the metrics say it is:
/// `capacity_rps × observed_util_pct ÷ target_util_pct`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MeasuredSizing {
    /// Instance type today.
    pub instance: String,
    /// Instances today: the hosts in the metrics, or the instances their GPUs fill if more.
    pub instances: u32,
    /// The layout assumed on it: the planner's cheapest on that instance type for the workload.
    pub layout: String,
    /// Requests/s today's instances serve within the SLOs (spares included), by the planner.
    pub capacity_rps: f64,
    /// The utilisation the sizing reads, %: the 95th percentile, at least 80 % when
    /// under-provisioned (a saturated GPU hides how much more load is queueing).
    pub observed_util_pct: f64,
    /// Utilisation the new fleet is sized to, %.
    pub target_util_pct: f64,
    /// `capacity_rps × observed_util_pct ÷ target_util_pct`: the requests/s the new fleet
    /// must serve at its peak.
    pub needed_capacity_rps: f64,
    /// Mean load, requests/s: `capacity_rps × avg_util_pct ÷ 100`, at most the need.
    pub mean_load_rps: f64,
    /// Today's cost, $/hour: as given, else the instances on demand.
    pub current_usd_per_hour: f64,
}

/// Requests/s a candidate serves within the SLOs with its spare replicas left out.
fn serving_capacity(c: &Candidate, redundancy: bool) -> f64 {
    let spare = if redundancy {
        c.replicas_per_instance.max(1)
    } else {
        0
    };
    f64::from(c.replicas.saturating_sub(spare).max(1)) * c.max_rps_per_replica
}

/// Plans `workload` with [`inferplan_plan::plan`] and picks from the answer. With the current
/// instance type known and the fleet over- or under-provisioned, the pick is sized from the
/// measured load ([`MeasuredSizing`]): the workload is planned again for that capacity, and the
/// pick never goes against the verdict (more capacity when under-provisioned, a lower cost when
/// over-provisioned). Otherwise [`suggest_from_plan`] on the workload as written. An error
/// when the planner refuses the workload (unknown model) or the instance type is unknown.
pub fn suggest(
    report: &Report,
    workload: &Workload,
    inputs: &Inputs<'_>,
    current: &Current,
) -> Result<Suggestion, RightsizeError> {
    // The metrics are of an EKS fleet (DCGM): its suggestions are EKS options.
    let eks = {
        let mut w = workload.clone();
        w.constraints.platforms = vec![inferplan_plan::workload::Platform::Eks];
        w
    };
    let workload = &eks;
    let p = plan(inputs, workload)?;
    let resize = report.has(VerdictCode::UnderProvisioned)
        || (report.has(VerdictCode::OverProvisioned) && !report.has(VerdictCode::MemoryAtRisk));
    let Some(name) = current.instance.as_deref().filter(|_| resize) else {
        return Ok(suggest_from_plan(report, &p, current.usd_per_hour));
    };
    let inst = inputs.catalog.instance(name)?;
    let Some(today) = p.candidates.iter().find(|c| c.instance == inst.name) else {
        let mut out = suggest_from_plan(report, &p, current.usd_per_hour);
        out.reason.push_str(&format!(
            " Sized from the workload file, not the measured load: no deployment of the \
             workload on {} meets its SLOs, so its capacity today is unknown.",
            inst.name
        ));
        return Ok(out);
    };
    let o = &report.overall;
    let (Some(avg), Some(p95)) = (o.avg_util_pct, o.p95_util_pct.or(o.avg_util_pct)) else {
        return Ok(suggest_from_plan(report, &p, current.usd_per_hour));
    };
    let mut hosts: Vec<&str> = report.gpus.iter().map(|g| g.instance.as_str()).collect();
    hosts.sort_unstable();
    hosts.dedup();
    // Hosts in the metrics, or the instances the GPUs seen fill, whichever is more.
    let filled = (report.gpus.len() as u32).div_ceil(inst.whole_gpus().max(1));
    let instances = (hosts.len() as u32).max(filled).max(1);
    let per_instance = today.max_rps_per_replica * f64::from(today.replicas_per_instance.max(1))
        / f64::from(today.pp.max(1));
    let capacity = per_instance * f64::from(instances);
    let under = report.has(VerdictCode::UnderProvisioned);
    let observed = if under { p95.max(HOT_UTIL_PCT) } else { p95 };
    let needed = capacity * observed / TARGET_UTIL_PCT;
    let mean_load = (capacity * avg / 100.0).clamp(needed * 1e-3, needed);
    let on_demand = inst
        .on_demand(&today.region)
        .map(|price| price * f64::from(instances));
    let Some(current_cost) = positive(current.usd_per_hour).or(on_demand) else {
        return Ok(suggest_from_plan(report, &p, current.usd_per_hour));
    };
    let sizing = MeasuredSizing {
        instance: inst.name.clone(),
        instances,
        layout: layout(today),
        capacity_rps: capacity,
        observed_util_pct: observed,
        target_util_pct: TARGET_UTIL_PCT,
        needed_capacity_rps: needed,
        mean_load_rps: mean_load,
        current_usd_per_hour: current_cost,
    };
    let mut w = workload.clone();
    w.traffic.rate_rps = mean_load;
    w.traffic.peak_rps = Some(needed);
    w.traffic.daily_profile = None;
    w.traffic.peak_minutes_per_day = None;
    let resized = plan(inputs, &w)?;
    Ok(pick(report, &resized, Some(current_cost), Some(sizing)))
}

fn layout(c: &Candidate) -> String {
    let layout = if c.pp > 1 {
        format!("TP{} PP{}", c.tp, c.pp)
    } else {
        format!("TP{}", c.tp)
    };
    format!(
        "{layout} {} {}, {} replica{} per instance at {:.2} req/s each",
        c.precision,
        c.engine,
        c.replicas_per_instance,
        if c.replicas_per_instance == 1 {
            ""
        } else {
            "s"
        },
        c.max_rps_per_replica
    )
}

fn describe(c: &Candidate, rank: usize) -> String {
    let layout = if c.pp > 1 {
        format!("TP{} PP{}", c.tp, c.pp)
    } else {
        format!("TP{}", c.tp)
    };
    format!(
        "#{rank} {} {layout} {} {} ×{} replica{} (${:.2}/h, SLO headroom {:.2})",
        c.instance,
        c.precision,
        c.engine,
        c.replicas,
        if c.replicas == 1 { "" } else { "s" },
        c.usd_per_hour,
        c.slo_headroom
    )
}

/// Picks a deployment from a plan by the report's fleet verdicts:
///
/// - under-provisioned or memory at risk (safety first, even when the average is low): the
///   cheapest candidate with SLO headroom ≥ 1.3, else the one with the most headroom;
/// - over-provisioned: the cheapest candidate, with the saving against the current cost when
///   known (`keep` when it is not cheaper);
/// - right-sized: `keep`, with the planner's cheapest for reference.
///
/// A current cost that is not a positive finite number is ignored. Never against the verdict:
/// with the current cost known, an under-provisioned fleet is not offered a deployment that
/// costs less than today's (without the instance type its capacity is unknown, so a cheaper
/// deployment could be a smaller one), and an over-provisioned one keeps when nothing costs less.
pub fn suggest_from_plan(
    report: &Report,
    plan: &Plan,
    current_usd_per_hour: Option<f64>,
) -> Suggestion {
    pick(report, plan, current_usd_per_hour, None)
}

fn pick(
    report: &Report,
    plan: &Plan,
    current_usd_per_hour: Option<f64>,
    sizing: Option<MeasuredSizing>,
) -> Suggestion {
    let current = positive(current_usd_per_hour);
    let redundancy = plan.workload.constraints.redundancy;
    let mut out = Suggestion {
        action: Action::Keep,
        reason: String::new(),
        candidate: None,
        rank: None,
        current_usd_per_hour: current,
        saving_usd_per_hour: None,
        saving_pct: None,
        candidates: plan.candidates.len(),
        considered: plan.considered,
        sizing: None,
        candidate_capacity_rps: None,
    };
    let measured = sizing.as_ref().map_or(String::new(), |m| {
        format!(
            " Sized from the measured load: {n} × {inst} ({layout}) serve {cap:.2} req/s within \
             the SLOs; at {u} utilisation{p95} that is {load:.2} req/s, which needs {need:.2} \
             req/s of capacity at the {target:.0} % target.",
            n = m.instances,
            inst = m.instance,
            layout = m.layout,
            cap = m.capacity_rps,
            u = pct(m.observed_util_pct),
            p95 = if report.has(VerdictCode::UnderProvisioned) {
                " (the 95th percentile, at least 80 %)"
            } else {
                " (the 95th percentile)"
            },
            load = m.capacity_rps * m.observed_util_pct / 100.0,
            need = m.needed_capacity_rps,
            target = m.target_util_pct
        )
    });
    let sizing_ref = sizing.clone();
    out.sizing = sizing;
    let o = &report.overall;
    if report.has(VerdictCode::NoData) {
        out.action = Action::NoData;
        out.reason = "the metrics have no usable samples, so there is nothing to judge".to_owned();
        return out;
    }
    if plan.candidates.is_empty() {
        out.action = Action::NoCandidate;
        let reasons: Vec<String> = plan
            .rejected
            .iter()
            .map(|(r, n)| format!("{r}: {n}"))
            .collect();
        out.reason = format!(
            "no deployment of {} meets the workload's SLOs ({} configurations considered; \
             rejected: {}); relax the SLOs or the constraints and plan again",
            plan.model,
            plan.considered,
            reasons.join(", ")
        );
        return out;
    }
    let under = report.verdict(VerdictCode::UnderProvisioned);
    let memory = report.verdict(VerdictCode::MemoryAtRisk);
    let over = report.verdict(VerdictCode::OverProvisioned);
    let provisional = if [under, over].iter().flatten().any(|v| v.provisional) {
        format!(
            " The utilisation verdict is provisional: {} of metrics, the thresholds are for \
             at least 7 days.",
            duration(o.window_s)
        )
    } else {
        String::new()
    };
    let pick = |out: &mut Suggestion, i: usize| {
        let c = &plan.candidates[i];
        out.candidate = Some(c.clone());
        out.rank = Some(i + 1);
        out.candidate_capacity_rps = Some(serving_capacity(c, redundancy));
        if let Some(cur) = current {
            let saving = cur - c.usd_per_hour;
            out.saving_usd_per_hour = Some(saving);
            out.saving_pct = Some(saving / cur * 100.0);
        }
    };
    let cost_vs_current = |c: &Candidate| match current {
        Some(cur) if c.usd_per_hour < cur => format!(
            ", saving ${:.2}/h ({:.0} %) against the current ${cur:.2}/h",
            cur - c.usd_per_hour,
            (cur - c.usd_per_hour) / cur * 100.0
        ),
        Some(cur) => format!(
            ", ${:.2}/h ({:.0} %) more than the current ${cur:.2}/h",
            c.usd_per_hour - cur,
            (c.usd_per_hour - cur) / cur * 100.0
        ),
        None => String::new(),
    };
    if under.is_some() || memory.is_some() {
        out.action = Action::Safer;
        let mut causes = Vec::new();
        if under.is_some() {
            let share = o.share_above_80_pct.unwrap_or(0.0);
            let mut why = Vec::new();
            if share >= UNDER_MIN_SHARE_PCT {
                why.push(format!("in {} of the samples", pct(share)));
            }
            if hot_on_most_days(o) {
                why.push(format!("on {} of {} days", o.hot_days, o.days));
            }
            causes.push(format!(
                "under-provisioned (above {HOT_UTIL_PCT:.0} % {})",
                why.join(" and ")
            ));
        }
        if memory.is_some() {
            causes.push(format!(
                "memory at risk (framebuffer up to {}, p95 {})",
                pct(o.max_mem_pct.unwrap_or(0.0)),
                pct(o.p95_mem_pct.unwrap_or(0.0))
            ));
        }
        // Never against the verdict: under-provisioned asks for more capacity than today's
        // (measured), or, without today's capacity, for no less money than today's.
        let eligible = |c: &Candidate| {
            if under.is_none() {
                return true;
            }
            match (&sizing_ref, current) {
                (Some(m), _) => serving_capacity(c, redundancy) > m.capacity_rps,
                (None, Some(cur)) => c.usd_per_hour >= cur,
                (None, None) => true,
            }
        };
        let allowed: Vec<usize> = (0..plan.candidates.len())
            .filter(|&i| eligible(&plan.candidates[i]))
            .collect();
        if allowed.is_empty() {
            out.action = Action::Keep;
            out.reason = format!(
                "{}: no deployment that meets the SLOs has more capacity than today's{}; \
                 scale out the current deployment.{measured}{provisional}",
                causes.join(" and "),
                if sizing_ref.is_some() {
                    ""
                } else {
                    " and costs no less"
                }
            );
            return out;
        }
        let safe = allowed
            .iter()
            .copied()
            .find(|&i| plan.candidates[i].slo_headroom >= SAFE_SLO_HEADROOM);
        let (i, why) = match safe {
            Some(i) => (
                i,
                format!(
                    "the cheapest deployment with {}SLO headroom ≥ {SAFE_SLO_HEADROOM}",
                    if under.is_some() && sizing_ref.is_some() {
                        "more capacity than today's and "
                    } else if under.is_some() && current.is_some() {
                        "a cost no lower than today's and "
                    } else {
                        ""
                    }
                ),
            ),
            None => {
                let i = allowed
                    .iter()
                    .copied()
                    .max_by(|&a, &b| {
                        plan.candidates[a]
                            .slo_headroom
                            .total_cmp(&plan.candidates[b].slo_headroom)
                            .then(b.cmp(&a))
                    })
                    .unwrap_or(allowed[0]);
                (
                    i,
                    format!(
                        "no deployment reaches SLO headroom {SAFE_SLO_HEADROOM}; this one has \
                         the most"
                    ),
                )
            }
        };
        pick(&mut out, i);
        let c = &plan.candidates[i];
        let mem_note = if memory.is_some() {
            " Every planned deployment holds the weights and the KV cache of a p99 request \
             within the engine's memory limits."
        } else {
            ""
        };
        out.reason = format!(
            "{}: {} is {why}{}.{mem_note}{measured}{provisional}",
            causes.join(" and "),
            describe(c, i + 1),
            cost_vs_current(c)
        );
        return out;
    }
    let c = &plan.candidates[0];
    if over.is_some() {
        pick(&mut out, 0);
        match current {
            Some(cur) if c.usd_per_hour >= cur => {
                out.action = Action::Keep;
                out.reason = format!(
                    "over-provisioned (average utilisation {}), but the cheapest deployment \
                     that meets the SLOs, {}, costs no less than the current ${cur:.2}/h: {}\
                     {measured}{provisional}",
                    pct(o.avg_util_pct.unwrap_or(0.0)),
                    describe(c, 1),
                    if sizing_ref.is_some() {
                        "keep it, or fewer instances of the same type."
                    } else {
                        "check that the workload's traffic matches what these metrics saw."
                    }
                );
            }
            _ => {
                out.action = Action::Cheaper;
                let tight = if c.slo_headroom < SAFE_SLO_HEADROOM {
                    match plan
                        .candidates
                        .iter()
                        .position(|x| x.slo_headroom >= SAFE_SLO_HEADROOM)
                    {
                        Some(i) => format!(
                            " It runs close to the SLOs (headroom {:.2}); with headroom ≥ \
                             {SAFE_SLO_HEADROOM} the cheapest is {}.",
                            c.slo_headroom,
                            describe(&plan.candidates[i], i + 1)
                        ),
                        None => format!(
                            " It runs close to the SLOs (headroom {:.2}).",
                            c.slo_headroom
                        ),
                    }
                } else {
                    String::new()
                };
                out.reason = format!(
                    "over-provisioned (average utilisation {} over {}): {} is the cheapest \
                     deployment that meets the SLOs{}.{tight}{measured}{provisional}",
                    pct(o.avg_util_pct.unwrap_or(0.0)),
                    duration(o.window_s),
                    describe(c, 1),
                    cost_vs_current(c)
                );
            }
        }
        return out;
    }
    pick(&mut out, 0);
    out.action = Action::Keep;
    let status = if report.has(VerdictCode::RightSized) {
        format!(
            "right-sized (average utilisation {})",
            pct(o.avg_util_pct.unwrap_or(0.0))
        )
    } else {
        "no utilisation verdict".to_owned()
    };
    out.reason = format!(
        "{status}: keep the deployment; for reference, the planner's cheapest is {}{}.",
        describe(c, 1),
        cost_vs_current(c)
    );
    out
}
