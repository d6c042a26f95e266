//! The suggestion: the cheaper or the safer deployment from a plan, by the fleet verdicts.

use super::analysis::Report;
use super::error::RightsizeError;
use super::statistics::positive;
use super::thresholds::{HOT_UTIL_PCT, SAFE_SLO_HEADROOM, UNDER_MIN_SHARE_PCT};
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
}

/// Plans `workload` with [`inferplan_plan::plan`] and picks from the answer
/// ([`suggest_from_plan`]). An error when the planner refuses the workload (unknown model).
pub fn suggest(
    report: &Report,
    workload: &Workload,
    inputs: &Inputs<'_>,
    current_usd_per_hour: Option<f64>,
) -> Result<Suggestion, RightsizeError> {
    let p = plan(inputs, workload)?;
    Ok(suggest_from_plan(report, &p, current_usd_per_hour))
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
/// A current cost that is not a positive finite number is ignored.
pub fn suggest_from_plan(
    report: &Report,
    plan: &Plan,
    current_usd_per_hour: Option<f64>,
) -> Suggestion {
    let current = positive(current_usd_per_hour);
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
    };
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
        let safe = plan
            .candidates
            .iter()
            .position(|c| c.slo_headroom >= SAFE_SLO_HEADROOM);
        let (i, why) = match safe {
            Some(i) => (
                i,
                format!("the cheapest deployment with SLO headroom ≥ {SAFE_SLO_HEADROOM}"),
            ),
            None => {
                let i = plan
                    .candidates
                    .iter()
                    .enumerate()
                    .max_by(|a, b| {
                        a.1.slo_headroom
                            .total_cmp(&b.1.slo_headroom)
                            .then(b.0.cmp(&a.0))
                    })
                    .map_or(0, |(i, _)| i);
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
            "{}: {} is {why}{}.{mem_note}{provisional}",
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
                     that meets the SLOs, {}, costs no less than the current ${cur:.2}/h: check \
                     that the workload's traffic matches what these metrics saw.{provisional}",
                    pct(o.avg_util_pct.unwrap_or(0.0)),
                    describe(c, 1)
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
                     deployment that meets the SLOs{}.{tight}{provisional}",
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
