//! Fitting the diffusion efficiencies to measured rows, and cross-validating the fit.
//!
//! The global row: compute efficiency (0.05–1.00 by 0.01), per-step overhead (0–40 ms by 0.5)
//! and activation bytes per unit of width × tokens (0–600 by 20) by grid search over every
//! row, minimising the median |ln(predicted / measured)|. The activation term is what separates
//! GPUs with little memory bandwidth per FLOP (T4, GeForce) from the rest with one global
//! number instead of an efficiency per architecture. An architecture with at least
//! [`MIN_ARCH_ROWS`] rows gets its own compute efficiency (same grid, the global overhead and
//! activation bytes kept: they are software and model structure, not silicon), pulled towards
//! the global one as if the global value were [`PRIOR_ROWS`] more rows: `c = g + (c_arch − g) ×
//! n / (n + PRIOR_ROWS)`. Only rows that state their number format count for an architecture:
//! the format sets the peak the efficiency multiplies, and an unstated one (MLPerf summaries)
//! would fold a quantized run into the architecture's 16-bit efficiency. The bandwidth
//! efficiency is held (no row is weight-streaming bound).

use super::model::{DiffusionEfficiencies, DiffusionEfficiency, Execution};
use super::validate::DiffusionCase;
use crate::calibrate::TooFewSources;
use crate::efficiency::arch_name;
use crate::parallel::{self, Progress};
use inferplan_catalog::csv_writer;
use inferplan_catalog::stats::median_sorted;
use std::collections::{BTreeMap, BTreeSet};

/// Fewest rows for an architecture to get its own compute efficiency.
pub const MIN_ARCH_ROWS: usize = 8;

/// Activation bytes per unit on the grid: 0 to `ACTIVATION_GRID_STEPS × ACTIVATION_GRID_BYTES`.
pub const ACTIVATION_GRID_BYTES: f64 = 20.0;
/// Steps of the activation-bytes grid.
pub const ACTIVATION_GRID_STEPS: u32 = 30;

/// Weight of the global compute efficiency in an architecture's, in rows.
pub const PRIOR_ROWS: f64 = 10.0;

/// Median |ln(predicted / measured)| over the cases.
pub fn median_abs_log_error(cases: &[&DiffusionCase], e: &DiffusionEfficiency) -> f64 {
    let mut v: Vec<f64> = cases
        .iter()
        .map(|c| (c.predict(e) / c.value).ln().abs())
        .filter(|x| x.is_finite())
        .collect();
    v.sort_by(f64::total_cmp);
    median_sorted(&v).unwrap_or(f64::NAN)
}

/// The best compute efficiency on the grid for the given overheads and activation bytes, the
/// execution terms of `base` kept; ties keep the lowest.
fn best_on_grid(
    cases: &[&DiffusionCase],
    base: DiffusionEfficiency,
    overheads: &[f64],
    activation: &[f64],
) -> (DiffusionEfficiency, f64) {
    let mut best = (
        DiffusionEfficiency {
            compute: 0.5,
            step_overhead_ms: 0.0,
            activation_bytes: 0.0,
            ..base
        },
        f64::INFINITY,
    );
    for ci in 5..=100 {
        for &o in overheads {
            for &a in activation {
                let e = DiffusionEfficiency {
                    compute: f64::from(ci) / 100.0,
                    step_overhead_ms: o,
                    activation_bytes: a,
                    ..base
                };
                let err = median_abs_log_error(cases, &e);
                if err < best.1 {
                    best = (e, err);
                }
            }
        }
    }
    best
}

/// The execution terms with the other figures of `e` kept, each fitted on the rows it applies
/// to (its own evidence, as an architecture's compute efficiency): the compiled and TensorRT
/// activation shares (0–1 by 0.05) on those engines' rows, the eager dispatch (0–80 ms by 1)
/// on the eager rows; ties keep the lowest. A term without rows keeps its value.
fn best_execution(cases: &[&DiffusionCase], e: DiffusionEfficiency) -> DiffusionEfficiency {
    let of = |x: Execution| -> Vec<&DiffusionCase> {
        cases.iter().copied().filter(|c| c.execution == x).collect()
    };
    let best = |rows: &[&DiffusionCase], grid: &mut dyn Iterator<Item = DiffusionEfficiency>| {
        let mut best = (e, f64::INFINITY);
        if rows.is_empty() {
            return e;
        }
        for t in grid {
            let err = median_abs_log_error(rows, &t);
            if err < best.1 {
                best = (t, err);
            }
        }
        best.0
    };
    let compiled = best(
        &of(Execution::Compiled),
        &mut (0..=20).map(|i| DiffusionEfficiency {
            compiled_activation_share: f64::from(i) / 20.0,
            ..e
        }),
    )
    .compiled_activation_share;
    let tensorrt = best(
        &of(Execution::TensorRt),
        &mut (0..=20).map(|i| DiffusionEfficiency {
            tensorrt_activation_share: f64::from(i) / 20.0,
            ..e
        }),
    )
    .tensorrt_activation_share;
    let dispatch = best(
        &of(Execution::Eager),
        &mut (0..=80).map(|d| DiffusionEfficiency {
            eager_dispatch_ms: f64::from(d),
            ..e
        }),
    )
    .eager_dispatch_ms;
    DiffusionEfficiency {
        compiled_activation_share: compiled,
        tensorrt_activation_share: tensorrt,
        eager_dispatch_ms: dispatch,
        ..e
    }
}

/// Rounds of the alternating fit of the GPU terms and the execution terms.
pub const EXECUTION_ROUNDS: usize = 2;

/// The global efficiency alone (see the module comment) and its median |log error|: the GPU
/// terms (compute, overhead, activation bytes) and the execution terms (fused activation share,
/// eager dispatch) fitted in turn, [`EXECUTION_ROUNDS`] times, from the neutral execution
/// terms (every engine eager without a dispatch bound).
pub fn fit_efficiency(cases: &[&DiffusionCase], bandwidth: f64) -> (DiffusionEfficiency, f64) {
    let overheads: Vec<f64> = (0..=80).map(|i| f64::from(i) * 0.5).collect();
    let activation: Vec<f64> = (0..=ACTIVATION_GRID_STEPS)
        .map(|i| f64::from(i) * ACTIVATION_GRID_BYTES)
        .collect();
    let mut e = DiffusionEfficiency {
        compute: 0.5,
        bandwidth,
        step_overhead_ms: 0.0,
        activation_bytes: 0.0,
        compiled_activation_share: 1.0,
        tensorrt_activation_share: 1.0,
        eager_dispatch_ms: 0.0,
    };
    for _ in 0..EXECUTION_ROUNDS {
        (e, _) = best_on_grid(cases, e, &overheads, &activation);
        e = best_execution(cases, e);
    }
    let err = median_abs_log_error(cases, &e);
    (e, err)
}

/// The global row and the architecture rows (see the module comment), with the rows each was
/// fitted on.
pub fn fit_efficiencies(
    cases: &[&DiffusionCase],
    bandwidth: f64,
) -> (DiffusionEfficiencies, BTreeMap<String, usize>) {
    let (global, _) = fit_efficiency(cases, bandwidth);
    let mut groups: BTreeMap<String, Vec<&DiffusionCase>> = BTreeMap::new();
    for c in cases.iter().filter(|c| c.precision_stated) {
        groups.entry(arch_name(c.gpu.arch)).or_default().push(c);
    }
    let mut by_arch = BTreeMap::new();
    let mut rows = BTreeMap::from([("*".to_owned(), cases.len())]);
    for (arch, group) in groups {
        if group.len() < MIN_ARCH_ROWS {
            continue;
        }
        let (own, _) = best_on_grid(
            &group,
            global,
            &[global.step_overhead_ms],
            &[global.activation_bytes],
        );
        let n = group.len() as f64;
        let compute = global.compute + (own.compute - global.compute) * n / (n + PRIOR_ROWS);
        by_arch.insert(
            arch.clone(),
            DiffusionEfficiency {
                compute: (compute * 1000.0).round() / 1000.0,
                ..global
            },
        );
        rows.insert(arch, group.len());
    }
    (DiffusionEfficiencies { global, by_arch }, rows)
}

/// Leave-one-source-out predictions: each source's rows predicted by efficiencies fitted on
/// the other sources. In the order of `cases`; the folds run in parallel across the cores,
/// `progress` counting them.
pub fn cross_validate(
    cases: &[DiffusionCase],
    bandwidth: f64,
    progress: Progress<'_>,
) -> Result<Vec<f64>, TooFewSources> {
    let sources: BTreeSet<&str> = cases.iter().map(|c| c.source.as_str()).collect();
    if sources.len() < 2 {
        return Err(TooFewSources {
            sources: sources.len(),
        });
    }
    let folds: Vec<&str> = sources.into_iter().collect();
    let tables = parallel::map(&folds, progress, |held| {
        let train: Vec<&DiffusionCase> = cases.iter().filter(|c| c.source != *held).collect();
        fit_efficiencies(&train, bandwidth).0
    });
    let mut predicted = vec![f64::NAN; cases.len()];
    for (held, t) in folds.iter().zip(&tables) {
        for (i, c) in cases.iter().enumerate() {
            if c.source == *held {
                predicted[i] = c.predict_with(t);
            }
        }
    }
    Ok(predicted)
}

/// The `diffusion_efficiency.csv` text of a fit.
pub fn to_csv(
    t: &DiffusionEfficiencies,
    rows: &BTreeMap<String, usize>,
    provenance: &str,
) -> String {
    let header = [
        "arch",
        "compute_efficiency",
        "bandwidth_efficiency",
        "step_overhead_ms",
        "activation_bytes",
        "compiled_activation_share",
        "tensorrt_activation_share",
        "eager_dispatch_ms",
        "rows",
        "source",
    ]
    .map(str::to_owned);
    let line = |arch: &str, e: &DiffusionEfficiency| {
        [
            arch.to_owned(),
            e.compute.to_string(),
            e.bandwidth.to_string(),
            e.step_overhead_ms.to_string(),
            e.activation_bytes.to_string(),
            e.compiled_activation_share.to_string(),
            e.tensorrt_activation_share.to_string(),
            e.eager_dispatch_ms.to_string(),
            rows.get(arch).copied().unwrap_or(0).to_string(),
            provenance.to_owned(),
        ]
    };
    let body = std::iter::once(line("*", &t.global))
        .chain(t.by_arch.iter().map(|(arch, e)| line(arch, e)));
    csv_writer::to_csv(std::iter::once(header).chain(body))
}
