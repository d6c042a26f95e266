//! Why nothing qualified: the rejections grouped by cause, in the order a user can act on
//! them, and the most useful change, checked by planning again with it.

use crate::error::PlanError;
use crate::search::{plan, Inputs, Plan};
use crate::workload::Workload;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// Causes in the order they are reported, each with the reason codes it groups.
const CAUSES: [(&str, &[&str]); 5] = [
    ("no price in the allowed regions", &["no_price_in_regions"]),
    ("GPU figures missing", &["gpu_figures_missing"]),
    ("does not fit", &["does_not_fit", "context_too_long"]),
    (
        "SLO unreachable",
        &[
            "slo_unreachable",
            "slo_unreachable_ttft",
            "slo_unreachable_tpot",
            "slo_unreachable_e2e",
            "slo_unreachable_deadline",
            "no_capacity",
        ],
    ),
    ("too many replicas", &["too_many_replicas"]),
];

/// One cause and how many configurations it rejected.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Cause {
    /// What went wrong, e.g. `no price in the allowed regions`.
    pub cause: String,
    /// Configurations rejected for it.
    pub count: usize,
}

/// A change to the workload that was planned again and yields candidates.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Change {
    /// What to change, e.g. `--regions us-east-1`.
    pub change: String,
    /// The cheapest option the planner finds with it.
    pub cheapest: String,
    /// Its cost, USD per hour.
    pub usd_per_hour: f64,
}

/// The explanation of an empty plan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NothingQualified {
    /// Causes with a count, in the fixed order above, then the other reasons.
    pub causes: Vec<Cause>,
    /// The first change (another region, another family, a looser SLO) that yields candidates.
    pub change: Option<Change>,
}

/// Groups the rejections of `p` by cause.
pub fn causes(p: &Plan) -> Vec<Cause> {
    let mut out = Vec::new();
    let mut seen = BTreeSet::new();
    for (cause, codes) in CAUSES {
        let count = codes.iter().filter_map(|c| p.rejected.get(c)).sum();
        seen.extend(codes.iter().copied());
        if count > 0 {
            out.push(Cause {
                cause: cause.to_owned(),
                count,
            });
        }
    }
    for (code, &count) in &p.rejected {
        if !seen.contains(code) && count > 0 {
            out.push(Cause {
                cause: code.replace('_', " "),
                count,
            });
        }
    }
    out
}

/// Explains why `p` (planned for `w`) has no candidates, and finds the most useful change by
/// planning again: every region of the catalog, then every family, then SLOs loosened to
/// the nearest miss (plus 5 %).
pub fn explain(inputs: &Inputs<'_>, w: &Workload, p: &Plan) -> Result<NothingQualified, PlanError> {
    let mut change = None;
    for (label, candidate) in alternatives(inputs, w, p) {
        let q = plan(inputs, &candidate)?;
        if let Some(best) = q.options().into_iter().find(|c| c.priced()) {
            change = Some(Change {
                change: label(best),
                cheapest: format!(
                    "{} × {} in {} ({} {})",
                    best.instances, best.instance, best.region, best.precision, best.engine
                ),
                usd_per_hour: best.usd_per_hour,
            });
            break;
        }
    }
    Ok(NothingQualified {
        causes: causes(p),
        change,
    })
}

type Label = Box<dyn Fn(&crate::candidate::Candidate) -> String>;

/// The changes to try, in order, with how each is described.
fn alternatives(inputs: &Inputs<'_>, w: &Workload, p: &Plan) -> Vec<(Label, Workload)> {
    let mut out: Vec<(Label, Workload)> = Vec::new();
    let k = &w.constraints;
    let mut regions: Vec<String> = inputs
        .catalog
        .instances()
        .iter()
        .flat_map(|i| &i.prices)
        .filter(|p| p.on_demand_usd_hr.is_some())
        .map(|p| p.region.clone())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    regions.retain(|r| !k.regions.contains(r));
    if !regions.is_empty() {
        let mut v = w.clone();
        v.constraints.regions = regions;
        out.push((
            Box::new(|c| format!("another region: --regions {}", c.region)),
            v,
        ));
    }
    if !k.instance_families.is_empty() {
        let mut v = w.clone();
        v.constraints.instance_families.clear();
        out.push((
            Box::new(|c| {
                format!(
                    "another family: {} (allow it in instance_families)",
                    c.family
                )
            }),
            v,
        ));
    }
    if let Some(ratio) = p.nearest_misses.first().and_then(|m| m.miss) {
        let f = ratio * 1.05;
        let mut v = w.clone();
        for x in [&mut v.slo.ttft_ms, &mut v.slo.tpot_ms, &mut v.slo.e2e_ms]
            .into_iter()
            .flatten()
        {
            *x = (*x * f).ceil();
        }
        let slo = v.slo.clone();
        out.push((
            Box::new(move |_| {
                let parts: Vec<String> = [
                    ("--ttft-ms", slo.ttft_ms),
                    ("--tpot-ms", slo.tpot_ms),
                    ("--e2e-ms", slo.e2e_ms),
                ]
                .into_iter()
                .filter_map(|(n, x)| x.map(|x| format!("{n} {x}")))
                .collect();
                format!("a looser SLO: {}", parts.join(" "))
            }),
            v,
        ));
    }
    out
}
