//! What a candidate costs: replicas hour by hour from the daily profile, the always-on baseline
//! on a 1-year savings plan, the rest on demand, async and batch work on spot.

use crate::candidate::{Candidate, PurchaseMix};
use crate::workload::{Mode, Pricing, Workload};
use inferplan_catalog::Instance;

/// Lengths and rates the search sizes for.
#[derive(Debug, Clone, PartialEq)]
pub struct Sizing {
    /// Mean prompt tokens.
    pub input_mean: f64,
    /// 99th-percentile prompt tokens.
    pub input_p99: u64,
    /// Mean generated tokens.
    pub output_mean: f64,
    /// 99th-percentile generated tokens.
    pub output_p99: u64,
    /// Request rate of each hour of the day.
    pub hourly: [f64; 24],
    /// The rate the replicas are sized for: the peak for interactive work, the mean for batch
    /// work and for async work whose deadline spans an hour or more.
    pub rate_to_serve: f64,
}

impl Sizing {
    /// Sizing of a workload.
    pub fn of(w: &Workload) -> Sizing {
        let l = &w.lengths;
        let smooth = match w.slo.mode {
            Mode::Interactive => false,
            Mode::Batch => true,
            Mode::Async => w.slo.deadline_s.is_some_and(|d| d >= 3600.0),
        };
        Sizing {
            input_mean: l.input_tokens.mean(),
            input_p99: l.input_tokens.p99().ceil() as u64,
            output_mean: l.output_tokens.mean(),
            output_p99: l.output_tokens.p99().ceil() as u64,
            hourly: w.hourly_rates(),
            rate_to_serve: if smooth {
                w.traffic.rate_rps
            } else {
                w.peak_rps()
            },
        }
    }

    /// Replicas each hour for a per-replica capacity, with `spare` extra replicas.
    pub fn hourly_replicas(&self, capacity: f64, spare: u32, w: &Workload) -> [u32; 24] {
        let smooth = self.rate_to_serve < w.peak_rps();
        self.hourly.map(|r| {
            let rate = if smooth { self.rate_to_serve } else { r };
            (rate / capacity).ceil().max(1.0) as u32 + spare
        })
    }

    /// Mean replicas over the day.
    pub fn mean_replicas(&self, capacity: f64, spare: u32, w: &Workload) -> f64 {
        self.hourly_replicas(capacity, spare, w)
            .iter()
            .map(|&n| f64::from(n))
            .sum::<f64>()
            / 24.0
    }
}

impl Default for PurchaseMix {
    fn default() -> Self {
        PurchaseMix {
            savings_plan_instances: 0,
            on_demand_instances: 0,
            spot_instances: 0,
            usd_per_hour: 0.0,
            all_on_demand_usd_per_hour: 0.0,
            saving_pct: 0.0,
            assumptions: Vec::new(),
        }
    }
}

/// The purchase mix of a candidate in `region` at on-demand `price` per instance-hour.
pub fn purchase_mix(
    w: &Workload,
    sizing: &Sizing,
    c: &Candidate,
    inst: &Instance,
    region: &str,
    price: f64,
) -> PurchaseMix {
    let per_hour = sizing
        .hourly_replicas(c.max_rps_per_replica, spare_replicas(w, c), w)
        .map(|n| n.div_ceil(c.replicas_per_instance.max(1)) * c.pp.max(1));
    let mean = per_hour.iter().map(|&n| f64::from(n)).sum::<f64>() / 24.0;
    let base = per_hour.iter().copied().min().unwrap_or(0);
    let peak = per_hour.iter().copied().max().unwrap_or(0);
    buy(
        &w.pricing, w.slo.mode, inst, region, price, mean, base, peak,
    )
}

/// How to buy `mean` instances on average (`base` always on, up to `peak`) of `inst` at
/// on-demand `price` in `region`: async and batch work all on spot when allowed and priced;
/// otherwise the always-on baseline on a savings plan and the rest on demand.
#[allow(clippy::too_many_arguments)]
pub fn buy(
    p: &Pricing,
    mode: Mode,
    inst: &Instance,
    region: &str,
    price: f64,
    mean: f64,
    base: u32,
    peak: u32,
) -> PurchaseMix {
    let all_on_demand = mean * price;
    let spot = inst.price(region).and_then(|r| r.spot_usd_hr);
    let mut assumptions = Vec::new();
    let (sp, od, sport, cost) = match (mode, spot) {
        (Mode::Async | Mode::Batch, Some(spot)) if p.allow_spot => {
            assumptions.push(format!(
                "spot at ${spot:.2}/h (median of the {region} zones in the catalog) with {:.0} % extra work for interruptions",
                p.spot_interruption_overhead * 100.0
            ));
            (
                0,
                0,
                peak,
                mean * spot * (1.0 + p.spot_interruption_overhead),
            )
        }
        _ => {
            if base > 0 {
                assumptions.push(format!(
                    "1-year compute savings plan at {:.0} % off on-demand for the always-on baseline (an assumption: the catalog has no savings-plan rates)",
                    p.savings_plan_discount * 100.0
                ));
            }
            let b = f64::from(base);
            let base_cost = b * price * (1.0 - p.savings_plan_discount);
            (
                base,
                peak.saturating_sub(base),
                0,
                base_cost + (mean - b).max(0.0) * price,
            )
        }
    };
    PurchaseMix {
        savings_plan_instances: sp,
        on_demand_instances: od,
        spot_instances: sport,
        usd_per_hour: cost,
        all_on_demand_usd_per_hour: all_on_demand,
        saving_pct: if all_on_demand > 0.0 {
            (1.0 - cost / all_on_demand) * 100.0
        } else {
            0.0
        },
        assumptions,
    }
}

/// Spare replicas for N+1 redundancy: one instance's worth, so that losing any one instance
/// (not only one engine) leaves enough replicas for the peak.
pub fn spare_replicas(w: &Workload, c: &Candidate) -> u32 {
    if w.constraints.redundancy {
        c.replicas_per_instance.max(1)
    } else {
        0
    }
}
