//! Fitted efficiencies (achieved fractions of datasheet peaks) per GPU architecture, engine and
//! weight precision, stored as data with their provenance (`data/perf/efficiency.csv`) and
//! refitted by `inferplan calibrate`.

use crate::engine::Engine;
use crate::error::PerfError;
use crate::step::{Efficiency, KernelScale};
use inferplan_catalog::csv_writer::to_csv;
use inferplan_catalog::table::Table;
use inferplan_catalog::{Arch, Dtype};

const EFFICIENCY_CSV: &str = include_str!("../../../data/perf/efficiency.csv");

/// Header of the parameter file.
pub const EFFICIENCY_COLUMNS: &str =
    "arch,engine,precision,bandwidth,compute,comm,kernel_bandwidth,kernel_compute,kernel_comm,kernel_link,kernel_floor,kernel_step_overhead_ms,kernel_request_overhead_ms,step_overhead_ms,request_overhead_ms,stream_overhead_ms,seq_overhead_ms,clump_exponent,eager_layer_ms,prefill_clump_exponent,rows,sources,fitted_on";

/// What a parameter row applies to; `None` matches anything.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Key {
    /// GPU generation.
    pub arch: Option<Arch>,
    /// Engine.
    pub engine: Option<Engine>,
    /// Weight-precision class (see [`precision_class`]).
    pub precision: Option<&'static str>,
}

impl Key {
    /// Matches everything.
    pub const ANY: Key = Key {
        arch: None,
        engine: None,
        precision: None,
    };

    /// The keys to try for a deployment, in the order [`EfficiencyTable::lookup`] tries them
    /// (see [`FALLBACK`]); a Neuron chip has no engine chain (its engines' rows on GPUs say
    /// nothing of NeuronCores).
    pub fn fallbacks(arch: Arch, engine: Engine, weights: Dtype) -> impl Iterator<Item = Key> {
        let keys = Key::all_levels(arch, engine, weights);
        FALLBACK
            .into_iter()
            .filter(move |l| arch != Arch::Neuron || !l.engine_chain())
            .map(move |l| keys[l as usize])
    }

    /// Every key a deployment's measured rows are fitted under: the architecture chain
    /// (architecture, engine and precision; architecture and engine; architecture), on a GPU
    /// the engine chain (engine and precision; engine, on any GPU architecture), and anything.
    pub fn groups(arch: Arch, engine: Engine, weights: Dtype) -> impl Iterator<Item = Key> {
        let keys = Key::all_levels(arch, engine, weights);
        Level::ALL
            .into_iter()
            .filter(move |l| arch != Arch::Neuron || !l.engine_chain())
            .map(move |l| keys[l as usize])
    }

    /// The key of each [`Level`], in [`Level::ALL`]'s order.
    fn all_levels(arch: Arch, engine: Engine, weights: Dtype) -> [Key; 6] {
        let p = Some(precision_class(weights));
        let (a, e) = (Some(arch), Some(engine));
        let key = |arch, engine, precision| Key {
            arch,
            engine,
            precision,
        };
        [
            key(a, e, p),
            key(a, e, None),
            key(a, None, None),
            key(None, e, p),
            key(None, e, None),
            Key::ANY,
        ]
    }

    /// Which level of the table the key is.
    pub fn level(&self) -> Level {
        match (
            self.arch.is_some(),
            self.engine.is_some(),
            self.precision.is_some(),
        ) {
            (true, true, true) => Level::ArchEnginePrecision,
            (true, true, false) => Level::ArchEngine,
            (true, false, _) => Level::Arch,
            (false, true, true) => Level::EnginePrecision,
            (false, true, false) => Level::Engine,
            (false, false, _) => Level::Any,
        }
    }

    /// The group a key's fit starts from and is pulled towards: the same key less its most
    /// specific field (precision, then engine, then architecture); `None` for `*,*,*`.
    pub fn parent(&self) -> Option<Key> {
        if self.precision.is_some() {
            Some(Key {
                precision: None,
                ..*self
            })
        } else if self.engine.is_some() && self.arch.is_some() {
            Some(Key {
                engine: None,
                ..*self
            })
        } else if *self == Key::ANY {
            None
        } else {
            Some(Key::ANY)
        }
    }

    fn field<T>(v: Option<T>, f: impl Fn(T) -> String) -> String {
        v.map_or_else(|| "*".to_owned(), f)
    }

    /// `arch,engine,precision` as written in the file.
    pub fn columns(&self) -> String {
        self.fields().join(",")
    }

    /// The `arch`, `engine` and `precision` fields (`*` for any).
    fn fields(&self) -> [String; 3] {
        [
            Key::field(self.arch, arch_name),
            Key::field(self.engine, |e| e.as_str().to_owned()),
            Key::field(self.precision, str::to_owned),
        ]
    }
}

/// The levels of the parameter table, from the most specific.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Level {
    /// `arch,engine,precision`.
    ArchEnginePrecision,
    /// `arch,engine,*`.
    ArchEngine,
    /// `arch,*,*`.
    Arch,
    /// `*,engine,precision`: the engine on any GPU architecture, one precision class.
    EnginePrecision,
    /// `*,engine,*`: the engine on any GPU architecture.
    Engine,
    /// `*,*,*`.
    Any,
}

impl Level {
    /// Every level, most specific first.
    pub const ALL: [Level; 6] = [
        Level::ArchEnginePrecision,
        Level::ArchEngine,
        Level::Arch,
        Level::EnginePrecision,
        Level::Engine,
        Level::Any,
    ];

    /// Whether the level is the engine's on any architecture.
    fn engine_chain(self) -> bool {
        matches!(self, Level::EnginePrecision | Level::Engine)
    }
}

/// The order in which a deployment's parameters are looked up, by level. A level the table
/// has no row for is passed over; `*,*,*` is always there. Where the table has no row for the
/// engine on the deployment's architecture, the engine's rows on other GPU architectures come
/// before the architecture's row of other engines: chosen by leave-one-source-out error
/// (VALIDATION.md, "Fallback levels under cross-validation"), where a source's rows fall back
/// because it alone ran that engine on that architecture (vLLM on Hopper and Blackwell, TGI on
/// A10G and MI300X): the engine's rows elsewhere predict them better than other engines' rows on
/// the same GPUs (TTFT 41.8 → 39.7 %, throughput p90 142 → 111 %).
pub const FALLBACK: [Level; 6] = [
    Level::ArchEnginePrecision,
    Level::ArchEngine,
    Level::EnginePrecision,
    Level::Engine,
    Level::Arch,
    Level::Any,
];

/// Precision classes that share kernels: `16bit`, `fp8`, `int8`, `int4`, `fp4`.
pub fn precision_class(d: Dtype) -> &'static str {
    match d {
        Dtype::Fp32 | Dtype::Bf16 | Dtype::Fp16 => "16bit",
        Dtype::Fp8 => "fp8",
        Dtype::Int8 => "int8",
        Dtype::Int4 => "int4",
        Dtype::Fp4 | Dtype::Mxfp4 => "fp4",
    }
}

/// Largest multiplier on measured kernel curves.
pub const MAX_KERNEL_SCALE: f64 = 2.0;

const PRECISION_CLASSES: [&str; 5] = ["16bit", "fp8", "int8", "int4", "fp4"];

/// The file name of an architecture (`hopper`, `cdna3`, ...).
pub fn arch_name(a: Arch) -> String {
    format!("{a:?}").to_ascii_lowercase()
}

const ARCHES: [Arch; 9] = [
    Arch::Volta,
    Arch::Turing,
    Arch::Ampere,
    Arch::Ada,
    Arch::Hopper,
    Arch::Blackwell,
    Arch::Cdna3,
    Arch::Neuron,
    Arch::Other,
];

/// One parameter row with its provenance.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// What it applies to.
    pub key: Key,
    /// The efficiencies.
    pub eff: Efficiency,
    /// Measured rows it was fitted on.
    pub rows: usize,
    /// Sources (id prefixes) of those rows, `;`-separated.
    pub sources: String,
    /// What data and command produced it.
    pub fitted_on: String,
}

/// The parameter table.
#[derive(Debug, Clone, PartialEq)]
pub struct EfficiencyTable {
    /// Rows, in file order.
    pub entries: Vec<Entry>,
}

impl EfficiencyTable {
    /// The embedded table.
    pub fn embedded() -> Result<EfficiencyTable, PerfError> {
        Self::parse(EFFICIENCY_CSV, "data/perf/efficiency.csv")
    }

    /// Parses a parameter file. It must have a `*,*,*` row.
    pub fn parse(text: &str, origin: &str) -> Result<EfficiencyTable, PerfError> {
        let err = |message: String| PerfError::Params {
            origin: origin.to_owned(),
            message,
        };
        let table = Table::parse(text, origin).map_err(|e| err(e.to_string()))?;
        let mut entries = Vec::new();
        for r in table.rows() {
            let fail = |e: inferplan_catalog::CatalogError| err(e.to_string());
            let key = Key {
                arch: wildcard(r.req("arch").map_err(fail)?, |s| {
                    ARCHES.into_iter().find(|a| arch_name(*a) == s)
                })
                .map_err(|v| err(format!("line {}: unknown arch `{v}`", r.line())))?,
                engine: wildcard(r.req("engine").map_err(fail)?, |s| s.parse::<Engine>().ok())
                    .map_err(|v| err(format!("line {}: unknown engine `{v}`", r.line())))?,
                precision: wildcard(r.req("precision").map_err(fail)?, |s| {
                    PRECISION_CLASSES.into_iter().find(|p| *p == s)
                })
                .map_err(|v| err(format!("line {}: unknown precision class `{v}`", r.line())))?,
            };
            let frac = |name: &str| -> Result<f64, PerfError> {
                let v = r.req_f64(name).map_err(fail)?;
                if v > 0.0 && v <= 1.0 {
                    Ok(v)
                } else {
                    Err(err(format!(
                        "line {}: field `{name}`: {v} is not an efficiency in (0, 1]",
                        r.line()
                    )))
                }
            };
            // Multipliers on measured kernels may exceed 1 (the engine beats the curve).
            let multiplier = |name: &str| -> Result<f64, PerfError> {
                let v = r.req_f64(name).map_err(fail)?;
                if v > 0.0 && v <= MAX_KERNEL_SCALE {
                    Ok(v)
                } else {
                    Err(err(format!(
                        "line {}: field `{name}`: {v} is not a kernel multiplier in (0, {MAX_KERNEL_SCALE}]",
                        r.line()
                    )))
                }
            };
            let ms = |name: &str| -> Result<f64, PerfError> {
                let v = r.req_f64(name).map_err(fail)?;
                if (0.0..10_000.0).contains(&v) {
                    Ok(v / 1e3)
                } else {
                    Err(err(format!(
                        "line {}: field `{name}`: {v} ms is out of range",
                        r.line()
                    )))
                }
            };
            let exponent = |name: &str| -> Result<f64, PerfError> {
                let v = r.req_f64(name).map_err(fail)?;
                if (0.0..=1.0).contains(&v) {
                    Ok(v)
                } else {
                    Err(err(format!(
                        "line {}: field `{name}`: {v} is not an exponent in [0, 1]",
                        r.line()
                    )))
                }
            };
            // A column added after files were written: 0 where a file has none.
            let optional_ms = |name: &str| match r.get(name) {
                Some(_) => ms(name),
                None => Ok(0.0),
            };
            entries.push(Entry {
                key,
                eff: Efficiency {
                    bandwidth: frac("bandwidth")?,
                    compute: frac("compute")?,
                    comm: frac("comm")?,
                    step_overhead_s: ms("step_overhead_ms")?,
                    request_overhead_s: ms("request_overhead_ms")?,
                    // Files written before the front end's per-stream cost had none.
                    stream_overhead_s: optional_ms("stream_overhead_ms")?,
                    // Files written before the per-sequence step cost had none.
                    seq_overhead_s: optional_ms("seq_overhead_ms")?,
                    // Files written before the closed loops' clumps had none: clients spread
                    // out.
                    clump_exponent: if r.get("clump_exponent").is_some() {
                        exponent("clump_exponent")?
                    } else {
                        0.0
                    },
                    // Files written before the eager prompt step had none.
                    eager_layer_s: optional_ms("eager_layer_ms")?,
                    // Files written before it had none: a prefill-first engine's clients
                    // stayed in lockstep rounds.
                    prefill_clump_exponent: match r.get("prefill_clump_exponent") {
                        Some(_) => exponent("prefill_clump_exponent")?,
                        None => 1.0,
                    },
                    kernel: KernelScale {
                        bandwidth: multiplier("kernel_bandwidth")?,
                        compute: multiplier("kernel_compute")?,
                        comm: multiplier("kernel_comm")?,
                        link: frac("kernel_link")?,
                        floor: multiplier("kernel_floor")?,
                        step_overhead_s: ms("kernel_step_overhead_ms")?,
                        request_overhead_s: ms("kernel_request_overhead_ms")?,
                    },
                },
                rows: r.u64("rows").map_err(fail)?.unwrap_or(0) as usize,
                sources: r.get("sources").unwrap_or_default().to_owned(),
                fitted_on: r.get("fitted_on").unwrap_or_default().to_owned(),
            });
        }
        if !entries.iter().any(|e| e.key == Key::ANY) {
            return Err(err(
                "no `*,*,*` row (the fallback for every deployment)".to_owned()
            ));
        }
        Ok(EfficiencyTable { entries })
    }

    /// The most specific entry for a deployment.
    pub fn lookup(&self, arch: Arch, engine: Engine, weights: Dtype) -> &Entry {
        Key::fallbacks(arch, engine, weights)
            .find_map(|k| self.entries.iter().find(|e| e.key == k))
            .unwrap_or(&self.entries[0])
    }

    /// The `*,*,*` entry.
    pub fn lookup_any(&self) -> &Entry {
        self.entries
            .iter()
            .find(|e| e.key == Key::ANY)
            .unwrap_or(&self.entries[0])
    }

    /// The file text.
    pub fn to_csv(&self) -> String {
        let header = EFFICIENCY_COLUMNS.split(',').map(str::to_owned).collect();
        let rows = self.entries.iter().map(|e| {
            let mut row = e.key.fields().to_vec();
            row.extend([
                format!("{:.4}", e.eff.bandwidth),
                format!("{:.4}", e.eff.compute),
                format!("{:.4}", e.eff.comm),
                format!("{:.4}", e.eff.kernel.bandwidth),
                format!("{:.4}", e.eff.kernel.compute),
                format!("{:.4}", e.eff.kernel.comm),
                format!("{:.4}", e.eff.kernel.link),
                format!("{:.4}", e.eff.kernel.floor),
                format!("{:.4}", e.eff.kernel.step_overhead_s * 1e3),
                format!("{:.4}", e.eff.kernel.request_overhead_s * 1e3),
                format!("{:.4}", e.eff.step_overhead_s * 1e3),
                format!("{:.4}", e.eff.request_overhead_s * 1e3),
                format!("{:.4}", e.eff.stream_overhead_s * 1e3),
                format!("{:.5}", e.eff.seq_overhead_s * 1e3),
                format!("{:.4}", e.eff.clump_exponent),
                format!("{:.4}", e.eff.eager_layer_s * 1e3),
                format!("{:.4}", e.eff.prefill_clump_exponent),
                e.rows.to_string(),
                e.sources.clone(),
                e.fitted_on.clone(),
            ]);
            row
        });
        to_csv(std::iter::once(header).chain(rows))
    }
}

fn wildcard<T>(s: &str, parse: impl Fn(&str) -> Option<T>) -> Result<Option<T>, String> {
    let s = s.trim();
    if s == "*" {
        return Ok(None);
    }
    parse(&s.to_ascii_lowercase())
        .map(Some)
        .ok_or_else(|| s.to_owned())
}
