//! The flags LLM and diffusion workloads share, applied over either kind of workload.

use crate::args::PlanSharedArgs;
use inferplan_plan::workload::{Constraints, Mode, Percentile};

/// The fields of a workload the shared flags set.
pub struct Shared<'a> {
    /// `traffic.burstiness`.
    pub burstiness: &'a mut f64,
    /// `slo.percentile`.
    pub percentile: &'a mut Percentile,
    /// `slo.mode`.
    pub mode: &'a mut Mode,
    /// `slo.deadline_s`.
    pub deadline_s: &'a mut Option<f64>,
    /// `slo.window_hours` and `slo.window_start_utc`: a batch job's window, dropped when
    /// `--mode` makes the work interactive or async.
    pub window: (&'a mut Option<f64>, &'a mut Option<u32>),
    /// `[constraints]`.
    pub constraints: &'a mut Constraints,
}

/// Applies the shared flags that were given over `w`.
pub fn apply(a: &PlanSharedArgs, w: Shared<'_>) {
    let PlanSharedArgs {
        burstiness,
        percentile,
        mode,
        deadline_s,
        regions,
        tenancy,
        data_class,
        families,
        redundancy,
    } = a;
    if let Some(b) = *burstiness {
        *w.burstiness = b;
    }
    if let Some(p) = *percentile {
        *w.percentile = p;
    }
    if let Some(m) = *mode {
        *w.mode = m;
        if m != Mode::Batch {
            *w.window.0 = None;
            *w.window.1 = None;
        }
    }
    if deadline_s.is_some() {
        *w.deadline_s = *deadline_s;
    }
    let k = w.constraints;
    if !regions.is_empty() {
        k.regions = regions.clone();
    }
    if let Some(t) = *tenancy {
        k.tenancy = t;
    }
    if let Some(d) = *data_class {
        k.data_class = d;
    }
    if !families.is_empty() {
        k.instance_families = families.clone();
    }
    if *redundancy {
        k.redundancy = true;
    }
}
