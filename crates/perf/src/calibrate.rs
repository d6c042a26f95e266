//! Fits the efficiency table to measured rows, and cross-validates the fit by source.
//!
//! Parameters are fitted level by level, each level starting from and pulled towards its
//! parent ([`Key::parent`]): one set for everything, then per GPU architecture, per
//! architecture and engine, and per architecture, engine and precision; beside that chain, per
//! engine and per engine and precision on any architecture; wherever a group has enough rows (a
//! Neuron architecture's step parameters are a root of their own, not pulled towards the
//! GPUs'). The loss is the mean absolute log error `|ln(predicted / measured)|` (capped, so a
//! few unmappable rows cannot dominate), minimised by a pattern search in log space. Every fit
//! starts from [`SEED`], so a leave-one-source-out fold ([`cross_validate`]) sees nothing of
//! the source it leaves out.

use crate::efficiency::{EfficiencyTable, Entry, Key, MAX_KERNEL_SCALE};
use crate::estimate::Load;
use crate::measured::Metric;
use crate::parallel::{self, Progress};
use crate::step::{Efficiency, KernelScale};
use crate::validation::Case;
use inferplan_catalog::Arch;
use std::collections::{BTreeMap, BTreeSet};

/// Calibration settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Options {
    /// Fewest rows for a group to get its own parameters.
    pub min_rows: usize,
    /// Weight of the pull towards the parent group (per squared log of the ratio).
    pub shrink: f64,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            min_rows: 30,
            shrink: 0.5,
        }
    }
}

/// Largest per-row loss: a row off by more than 4× counts as 4×.
const LOSS_CAP: f64 = 1.386_294_361_119_890_6; // ln 4
/// Bounds of the parameters: three efficiencies, four multipliers on kernel curves, then the
/// roofline's step and request overheads in ms, then the kernel path's, then the kernel path's
/// link fraction where there is no all-reduce curve, then the front end's cost per open stream
/// in ms, then the exponent of a closed loop's clumps of prompts, then the engine's host-side
/// time per decoding sequence and step in ms, then the eager prompt step's host time per layer in
/// ms (all three searched in log space, so their floors stand for 0; the per-sequence cost's,
/// 0.1 µs, is below anything a step of the search would move), then the clump exponent of a
/// prefill-first engine's closed loop with varying lengths (1: lockstep rounds).
const LO: [f64; N] = [
    0.02, 0.02, 0.02, 0.1, 0.1, 0.1, 0.05, 0.001, 0.01, 0.001, 0.01, 0.02, 0.001, 0.01, 0.0001,
    0.001, 0.01,
];
const HI: [f64; N] = [
    1.0,
    1.0,
    1.0,
    MAX_KERNEL_SCALE,
    MAX_KERNEL_SCALE,
    MAX_KERNEL_SCALE,
    MAX_KERNEL_SCALE,
    100.0,
    2000.0,
    100.0,
    2000.0,
    1.0,
    20.0,
    1.0,
    1.0,
    20.0,
    1.0,
];
const N: usize = 17;
/// The parameters only a request's first token depends on: the request overheads (roofline,
/// kernel path), the per-stream cost, the clump exponent and the eager prompt step's host time
/// per layer, and the prefill-first engines' clump exponent.
const FRONT_END: [usize; 6] = [8, 10, 12, 13, 15, 16];
/// The Neuron architecture's row, a root of its own (see [`fit`]).
const NEURON_ROOT: Key = Key {
    arch: Some(Arch::Neuron),
    engine: None,
    precision: None,
};
/// Where every fit starts, the in-sample one and each cross-validation fold's alike: round
/// figures of no data set (half of each datasheet peak, the kernel tables as measured, a
/// millisecond per step, ten per request, a clump of `c^0.5`), so a fold starts from nothing
/// fitted on the source it leaves out and `calibrate`'s table depends on its input files only,
/// not on the table embedded when it ran (which was fitted on every source).
pub const SEED: Efficiency = Efficiency {
    bandwidth: 0.5,
    compute: 0.5,
    comm: 0.5,
    step_overhead_s: 1e-3,
    request_overhead_s: 1e-2,
    stream_overhead_s: 1e-4,
    seq_overhead_s: SEQ_SEED_MS / 1e3,
    clump_exponent: CLUMP_SEED,
    prefill_clump_exponent: CLUMP_SEED,
    eager_layer_s: EAGER_SEED_MS / 1e3,
    kernel: KernelScale {
        bandwidth: 1.0,
        compute: 1.0,
        comm: 1.0,
        link: 0.5,
        floor: 1.0,
        step_overhead_s: 1e-3,
        request_overhead_s: 1e-2,
    },
};
/// Where the clump exponent starts when the starting table has none.
const CLUMP_SEED: f64 = 0.5;
/// Where the per-sequence step cost starts when the starting table has none, ms: 10 µs per
/// sequence, where a step of the search changes large batches' steps by a visible amount (at
/// the floor, 0.1 µs, no step of the search moves any prediction, as with the clump exponent).
const SEQ_SEED_MS: f64 = 0.01;
/// Where the eager prompt step's host time per layer starts when the starting table has none,
/// ms (about what the closed loops of at most four clients show, VALIDATION.md).
const EAGER_SEED_MS: f64 = 0.5;
/// The parameters the roofline uses, fitted on every row predicted by the roofline (every
/// measurement says something of datasheet fractions); the others belong to GPUs with kernel
/// curves and are fitted on their rows only. A GPU without curves is predicted by parameters
/// fitted as if no GPU had curves, a GPU with curves by parameters fitted on curve GPUs.
/// The front end's per-stream cost (12), the clump exponents (13 for engines that mix prompts
/// into decode steps, 16 for those that do not), the engine's host-side cost per decoding
/// sequence (14) and the eager prompt step (15, the host's) belong to neither path:
/// they are fitted with both, the kernel path's rows last.
const ROOFLINE: [usize; 10] = [0, 1, 2, 7, 8, 12, 13, 14, 15, 16];
const KERNEL: [usize; 12] = [3, 4, 5, 6, 9, 10, 11, 12, 13, 14, 15, 16];

fn to_vec(e: &Efficiency) -> [f64; N] {
    [
        e.bandwidth,
        e.compute,
        e.comm,
        e.kernel.bandwidth,
        e.kernel.compute,
        e.kernel.comm,
        e.kernel.floor,
        e.step_overhead_s * 1e3,
        e.request_overhead_s * 1e3,
        e.kernel.step_overhead_s * 1e3,
        e.kernel.request_overhead_s * 1e3,
        e.kernel.link,
        e.stream_overhead_s * 1e3,
        e.clump_exponent,
        e.seq_overhead_s * 1e3,
        e.eager_layer_s * 1e3,
        e.prefill_clump_exponent,
    ]
    .map(|v| v.max(1e-6).ln())
}

fn from_vec(v: &[f64; N]) -> Efficiency {
    let x = |i: usize| v[i].exp().clamp(LO[i], HI[i]);
    Efficiency {
        bandwidth: x(0),
        compute: x(1),
        comm: x(2),
        kernel: KernelScale {
            bandwidth: x(3),
            compute: x(4),
            comm: x(5),
            floor: x(6),
            step_overhead_s: x(9) / 1e3,
            request_overhead_s: x(10) / 1e3,
            link: x(11),
        },
        step_overhead_s: x(7) / 1e3,
        request_overhead_s: x(8) / 1e3,
        stream_overhead_s: x(12) / 1e3,
        clump_exponent: x(13),
        seq_overhead_s: x(14) / 1e3,
        eager_layer_s: x(15) / 1e3,
        prefill_clump_exponent: x(16),
    }
}

/// Mean capped absolute log error of `rows` with efficiencies `e`.
pub fn loss(cases: &[Case], rows: &[usize], e: &Efficiency) -> f64 {
    if rows.is_empty() {
        return 0.0;
    }
    let sum: f64 = rows
        .iter()
        .map(|&i| {
            let c = &cases[i];
            let p = c.predict(e);
            if p.is_finite() && p > 0.0 {
                (p / c.obs.value).ln().abs().min(LOSS_CAP)
            } else {
                LOSS_CAP
            }
        })
        .sum();
    sum / rows.len() as f64
}

/// Fits the parameters `free` (indices into the vector) to `rows`, the others kept at `start`.
fn fit_group(
    cases: &[Case],
    rows: &[usize],
    start: &Efficiency,
    shrink: f64,
    free: &[usize],
) -> Efficiency {
    let anchor = to_vec(start);
    let objective = |v: &[f64; N]| {
        let pull: f64 = v.iter().zip(&anchor).map(|(a, b)| (a - b).powi(2)).sum();
        loss(cases, rows, &from_vec(v)) + shrink * pull
    };
    let mut x = anchor;
    let mut best = objective(&x);
    let mut step = 0.7;
    while step > 0.01 {
        let mut improved = false;
        for &d in free {
            for dir in [1.0, -1.0] {
                let mut y = x;
                y[d] = (y[d] + dir * step).clamp(LO[d].ln(), HI[d].ln());
                let f = objective(&y);
                if f < best - 1e-9 {
                    best = f;
                    x = y;
                    improved = true;
                }
            }
        }
        if !improved {
            step /= 2.0;
        }
    }
    from_vec(&x)
}

/// Fits a table on the rows `train` of `cases`, starting from `start` (its `*,*,*` row).
pub fn fit(
    cases: &[Case],
    train: &[usize],
    start: &Efficiency,
    opts: &Options,
    fitted_on: &str,
) -> EfficiencyTable {
    // The `*,*,*` row always: it is every deployment's fallback, and with no rows it is `start`.
    let mut groups: BTreeMap<Key, Vec<usize>> = BTreeMap::from([(Key::ANY, Vec::new())]);
    for &i in train {
        let c = &cases[i];
        for k in Key::groups(c.arch, c.obs.engine, c.weights) {
            groups.entry(k).or_default().push(i);
        }
    }
    let roofline: Vec<Case> = cases.iter().map(Case::on_roofline).collect();
    // A table written before the clump exponent had none (0, the floor, where the search
    // cannot tell a direction): it starts from clumps of `√c`.
    // Likewise a table written before the per-sequence step cost.
    let start = &Efficiency {
        clump_exponent: if start.clump_exponent < LO[13] {
            CLUMP_SEED
        } else {
            start.clump_exponent
        },
        seq_overhead_s: if start.seq_overhead_s * 1e3 < LO[14] {
            SEQ_SEED_MS / 1e3
        } else {
            start.seq_overhead_s
        },
        eager_layer_s: if start.eager_layer_s * 1e3 < LO[15] {
            EAGER_SEED_MS / 1e3
        } else {
            start.eager_layer_s
        },
        ..*start
    };
    let mut fitted: BTreeMap<Key, Efficiency> = BTreeMap::new();
    let mut entries = Vec::new();
    // Parents come before children: the order of `keys()` reversed is general to specific.
    let mut order: Vec<(usize, Key)> = groups
        .keys()
        .map(|k| {
            (
                k.arch.is_some() as usize
                    + k.engine.is_some() as usize
                    + k.precision.is_some() as usize,
                *k,
            )
        })
        .collect();
    order.sort();
    for (_, key) in order {
        let rows = &groups[&key];
        if key != Key::ANY && rows.len() < opts.min_rows {
            continue;
        }
        // The nearest fitted group up the key's chain (precision, engine, architecture
        // dropped in turn), else the start.
        let parent = std::iter::successors(key.parent(), Key::parent)
            .find_map(|k| fitted.get(&k).copied())
            .unwrap_or(*start);
        // The `*,*,*` row is the root. A Neuron architecture's row starts from the root but
        // its step's parameters are not pulled towards it: NeuronCores' achieved fractions and
        // step costs (graphs compiled by the Neuron compiler, collectives over NeuronLink, the
        // Neuron runtime) owe nothing to the GPUs' that dominate the root, while its front end
        // (vLLM's API server) is the GPUs' and stays pulled. Its engine and precision rows are
        // pulled towards it as usual.
        let shrink_of = |front: bool| {
            if key == Key::ANY || (key == NEURON_ROOT && !front) {
                0.0
            } else {
                opts.shrink
            }
        };
        // The roofline's parameters on every row of the group through the roofline; the
        // kernel path's on the group's rows with curves, when it has enough of them (the
        // `*,*,*` row always), else they are the parent's.
        let kernel_rows: Vec<usize> = rows
            .iter()
            .copied()
            .filter(|&i| cases[i].replica().has_kernels())
            .collect();
        let mut eff = parent;
        for (set, part, dims) in [
            (&roofline[..], rows, &ROOFLINE[..]),
            (cases, &kernel_rows, &KERNEL[..]),
        ] {
            if key == Key::ANY || part.len() >= opts.min_rows {
                // The step's parameters on the rows that time steps (throughput, TPOT, e2e,
                // and the TTFT of offline static batches, which call the engine directly: a
                // prefill step and nothing else, the only measure of prefill compute some
                // accelerators have, e.g. AWS's Neuron tables); then the front end's and the
                // closed loops' on the other TTFT rows, which they alone move. Fitted
                // together, those TTFT rows bent the step's efficiencies to stand in for the
                // time a prompt waits (compute +25 %, throughput 1.7 points worse).
                let (ttft, steps): (Vec<usize>, Vec<usize>) =
                    part.iter().partition(|&&i| fronted_ttft(&cases[i]));
                let (front, step): (Vec<usize>, Vec<usize>) =
                    dims.iter().partition(|d| FRONT_END.contains(d));
                for (on, free, shrink) in [
                    (&steps, &step, shrink_of(false)),
                    (&ttft, &front, shrink_of(true)),
                ] {
                    if on.is_empty() {
                        continue;
                    }
                    let fitted = fit_group(set, on, &eff, shrink, free);
                    let (mut v, f) = (to_vec(&eff), to_vec(&fitted));
                    for &d in free {
                        v[d] = f[d];
                    }
                    eff = from_vec(&v);
                }
            }
        }
        fitted.insert(key, eff);
        let sources: BTreeSet<&str> = rows.iter().map(|&i| cases[i].obs.source.as_str()).collect();
        entries.push(Entry {
            key,
            eff,
            rows: rows.len(),
            sources: sources.into_iter().collect::<Vec<_>>().join(";"),
            fitted_on: fitted_on.to_owned(),
        });
    }
    EfficiencyTable { entries }
}

/// Whether case `c` is a TTFT that passes through a serving front end: every TTFT but an
/// offline static batch's (no API server, `Load::Static`), a disaggregated run's excepted (its
/// prefill pool queues).
fn fronted_ttft(c: &Case) -> bool {
    c.obs.metric == Metric::TtftMs
        && (!matches!(c.workload.load, Load::Static { .. }) || c.obs.disaggregated.is_some())
}

/// Leave-one-source-out cross-validation needs a source to leave out and another to fit on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("cross-validation needs at least two sources; {sources} given")]
pub struct TooFewSources {
    /// Distinct sources among the rows.
    pub sources: usize,
}

/// A held-out row's out-of-fold prediction.
#[derive(Debug, Clone, PartialEq)]
pub struct OutOfFold {
    /// Predicted by the fold's table through [`EfficiencyTable::lookup`].
    pub predicted: f64,
    /// The key of the row that lookup used.
    pub key: Key,
    /// The prediction with each row of the fold's table the case could fall back on
    /// ([`Key::groups`], most specific first; only those the fold fitted), to compare fallback
    /// orders by their cross-validated error.
    pub by_key: Vec<(Key, f64)>,
}

/// The table a leave-one-source-out fold fits: the rows of every source but `held_out`, from
/// [`SEED`]; nothing fitted on `held_out`'s rows reaches it.
pub fn fold_table(cases: &[Case], held_out: &str, opts: &Options) -> EfficiencyTable {
    let train: Vec<usize> = (0..cases.len())
        .filter(|&i| cases[i].obs.source != held_out)
        .collect();
    fit(cases, &train, &SEED, opts, "")
}

/// Out-of-fold predictions: for every source (or only those of `only`, when given), the
/// table fitted without that source's rows, from the neutral [`SEED`], predicts them; the
/// other rows are `None`. The folds run in parallel across the cores, `progress` counting
/// them.
pub fn cross_validate(
    cases: &[Case],
    opts: &Options,
    only: Option<&BTreeSet<String>>,
    progress: Progress<'_>,
) -> Result<Vec<Option<OutOfFold>>, TooFewSources> {
    let sources: BTreeSet<&str> = cases.iter().map(|c| c.obs.source.as_str()).collect();
    if sources.len() < 2 {
        return Err(TooFewSources {
            sources: sources.len(),
        });
    }
    let folds: Vec<&str> = sources
        .into_iter()
        .filter(|s| only.is_none_or(|o| o.contains(*s)))
        .collect();
    let out = parallel::map(&folds, progress, |fold| {
        let table = fold_table(cases, fold, opts);
        cases
            .iter()
            .enumerate()
            .filter(|(_, c)| c.obs.source == *fold)
            .map(|(i, c)| {
                let entry = table.lookup(c.arch, c.obs.engine, c.weights);
                let by_key = Key::groups(c.arch, c.obs.engine, c.weights)
                    .filter_map(|k| table.entries.iter().find(|e| e.key == k))
                    .map(|e| (e.key, c.predict(&e.eff)))
                    .collect();
                (
                    i,
                    OutOfFold {
                        predicted: c.predict(&entry.eff),
                        key: entry.key,
                        by_key,
                    },
                )
            })
            .collect::<Vec<_>>()
    });
    let mut predicted = vec![None; cases.len()];
    for (i, p) in out.into_iter().flatten() {
        predicted[i] = Some(p);
    }
    Ok(predicted)
}
