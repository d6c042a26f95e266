//! What a candidate costs: replicas hour by hour from the daily profile, the always-on baseline
//! on a 1-year savings plan, the rest on demand, async and batch work on spot.

use crate::candidate::{Candidate, PurchaseMix};
use crate::job::{hours, plan_job, JobError, JobSpec, Window};
use crate::workload::{Mode, Pricing, Workload};
use inferplan_catalog::Instance;

/// Share of a replica's SLO capacity the rendered autoscaler's in-flight target aims at
/// (`autoscaling::targets`): it keeps `1 / TARGET_SHARE` (25 %) more capacity than the load
/// needs, and [`Sizing::hourly_replicas`] bills the replicas it keeps: one capacity and one
/// target utilisation for the bill, the render and the simulated day.
pub const TARGET_SHARE: f64 = 0.8;

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

    /// Replicas each hour for a per-replica capacity, with `spare` extra replicas: those the
    /// SLO needs (the rate at `capacity`, and the N+1 spares), or those the rendered
    /// autoscaler keeps when more (the rate at [`TARGET_SHARE`] of the
    /// capacity, whose headroom also holds the spares where it is a replica or more; batch
    /// work and long deadlines, served at the mean rate all day, at their capacity). A peak
    /// above the busiest hour whose length is not given (`traffic.peak_minutes_per_day`) may
    /// come in any hour, so every hour holds the peak's replicas.
    pub fn hourly_replicas(&self, capacity: f64, spare: u32, w: &Workload) -> [u32; 24] {
        let kept = self.kept_capacity(capacity, w);
        let replicas = |rate: f64| {
            let at = |cap: f64| (rate / cap).ceil().max(1.0) as u32;
            (at(capacity) + spare).max(at(kept))
        };
        if self.smooth(w) {
            return [replicas(self.rate_to_serve); 24];
        }
        let peak = replicas(w.peak_rps());
        let busiest = self.hourly.map(replicas).into_iter().max().unwrap_or(0);
        if peak > busiest && w.traffic.peak_minutes_per_day.is_none() {
            return [peak; 24];
        }
        self.hourly.map(replicas)
    }

    /// The load one replica is sized for: [`TARGET_SHARE`] of its `capacity` for interactive
    /// work, the share the rendered autoscaler aims at; all of it for work served at the mean
    /// rate all day, which no autoscaler follows, and for async work, whose queue holds a
    /// burst until the replicas scale (the EKS scale-up window is the queue's slack, SageMaker
    /// scales on its backlog).
    pub fn kept_capacity(&self, capacity: f64, w: &Workload) -> f64 {
        if self.smooth(w) || w.slo.mode != Mode::Interactive {
            capacity
        } else {
            capacity * TARGET_SHARE
        }
    }

    /// Whether the replicas serve the mean rate all day (batch work, long deadlines).
    fn smooth(&self, w: &Workload) -> bool {
        self.rate_to_serve < w.peak_rps()
    }

    /// Instances hour by hour for one replica layout: what each hour needs and what is billed,
    /// every hour at least the instances of the replicas the rendered autoscaler keeps in it
    /// (`layout.floor`: its minimum, or the `cron` floor of the hour,
    /// `autoscaling::Targets::floor_at`), which run whatever the load.
    pub fn fleet(&self, w: &Workload, layout: &ReplicaLayout) -> Fleet {
        let mut f = self.fleet_for_load(w, layout);
        let per = layout.replicas_per_instance.max(1);
        let floor = layout.floor.map(|r| r.div_ceil(per) * layout.pp.max(1));
        for (b, &n) in f.billed.iter_mut().zip(&floor) {
            *b = b.max(f64::from(n));
        }
        let lowest = floor.iter().copied().min().unwrap_or(0);
        f.always_on = f.always_on.max(lowest);
        f.peak = f.peak.max(floor.iter().copied().max().unwrap_or(0));
        f
    }

    /// [`Sizing::fleet`] before the autoscaler's minimum: what the load needs and bills.
    fn fleet_for_load(&self, w: &Workload, layout: &ReplicaLayout) -> Fleet {
        let kept = self.kept_capacity(layout.capacity, w);
        // The SLO's replicas with their spares, or the autoscaler's when more
        // ([`Sizing::hourly_replicas`]).
        let instances = |rate: f64| {
            let at = |cap: f64| (rate / cap).ceil().max(1.0) as u32;
            (at(layout.capacity) + layout.spare)
                .max(at(kept))
                .div_ceil(layout.replicas_per_instance.max(1))
                * layout.pp.max(1)
        };
        let flat = |n: u32| Fleet {
            needed: [f64::from(n); 24],
            billed: [f64::from(n); 24],
            always_on: n,
            peak: n,
            peak_kept_warm: false,
            spike_minutes_billed: 0.0,
        };
        if self.smooth(w) {
            return flat(instances(self.rate_to_serve));
        }
        let base = self.hourly.map(instances);
        let busiest = base.iter().copied().max().unwrap_or(0);
        let peak = instances(w.peak_rps()).max(busiest);
        // A stated peak above the busiest hour's rate is a spike, even when it rounds to the
        // busiest hour's instances: otherwise a little more traffic could switch a warm peak
        // to hourly billing and cost less.
        let busiest_rate = self.hourly.iter().copied().fold(0.0, f64::max);
        let spike = w
            .traffic
            .peak_rps
            .is_some_and(|p| p > busiest_rate * (1.0 + 1e-9));
        if !spike {
            return Fleet {
                needed: base.map(f64::from),
                billed: base.map(f64::from),
                always_on: base.iter().copied().min().unwrap_or(0),
                peak,
                peak_kept_warm: false,
                spike_minutes_billed: 0.0,
            };
        }
        // A spike above the busiest hour. Unknown length: it may come in any hour, for any
        // time, so every hour needs the peak.
        let Some(minutes) = w.traffic.peak_minutes_per_day else {
            let mut f = flat(peak);
            f.peak_kept_warm = true;
            return f;
        };
        let with_spike = |spike_minutes: f64| {
            let share = spread_minutes(&self.hourly, spike_minutes);
            let mut out = [0.0; 24];
            for h in 0..24 {
                out[h] = f64::from(base[h]) + f64::from(peak - base[h]) * share[h] / 60.0;
            }
            out
        };
        let needed = with_spike(minutes);
        if minutes * 60.0 < layout.cold_start_s {
            // Shorter than a cold start: by the time new replicas serve, the spike is over.
            return Fleet {
                needed,
                billed: [f64::from(peak); 24],
                always_on: peak,
                peak,
                peak_kept_warm: true,
                spike_minutes_billed: 0.0,
            };
        }
        // Long enough to scale for: the added instances run for the spike and their start.
        let billed_minutes = (minutes + layout.cold_start_s / 60.0).min(1440.0);
        Fleet {
            needed,
            billed: with_spike(billed_minutes),
            always_on: base.iter().copied().min().unwrap_or(0),
            peak,
            peak_kept_warm: false,
            spike_minutes_billed: billed_minutes,
        }
    }
}

/// `minutes` of a day given to hours, busiest hours first (ties: the earlier hour), at most
/// 60 each.
fn spread_minutes(hourly: &[f64; 24], minutes: f64) -> [f64; 24] {
    let mut order: Vec<usize> = (0..24).collect();
    order.sort_by(|&a, &b| hourly[b].total_cmp(&hourly[a]).then(a.cmp(&b)));
    let mut left = minutes.clamp(0.0, 1440.0);
    let mut out = [0.0; 24];
    for h in order {
        let take = left.min(60.0);
        out[h] = take;
        left -= take;
    }
    out
}

/// What sizing a fleet needs to know of one replica layout.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ReplicaLayout {
    /// Requests/s one replica serves within the SLOs.
    pub capacity: f64,
    /// N+1 spare replicas.
    pub spare: u32,
    /// Replicas on one instance.
    pub replicas_per_instance: u32,
    /// Instances one replica spans (pipeline stages over nodes).
    pub pp: u32,
    /// Seconds from asking for a replica to its first answer.
    pub cold_start_s: f64,
    /// The fewest replicas the rendered autoscaler keeps each hour (UTC): its
    /// `minReplicaCount`, or the hour's `cron` floor when more
    /// (`autoscaling::Targets::floor_at`, `autoscaling::of_candidate`): every hour bills at
    /// least their instances, since they run whatever the load. 0 where no such floor is
    /// rendered ([`layout`] leaves it to [`purchase_mix`]'s caller).
    pub floor: [u32; 24],
}

/// Instances hour by hour (UTC).
#[derive(Debug, Clone, PartialEq)]
pub struct Fleet {
    /// Instances each hour needs to serve it at the SLOs, N+1 spares and the peak included, or
    /// those the rendered autoscaler keeps at its target share when more
    /// ([`Sizing::hourly_replicas`]).
    pub needed: [f64; 24],
    /// Instances billed each hour (fractional: instances that run part of the hour).
    pub billed: [f64; 24],
    /// Instances running all day.
    pub always_on: u32,
    /// Instances at the peak.
    pub peak: u32,
    /// Whether the peak's capacity runs all day because spikes are shorter than a cold start
    /// or of unknown length.
    pub peak_kept_warm: bool,
    /// Minutes a day the instances added for a spike run (its length plus their cold start),
    /// when the spike is scaled for; 0 otherwise.
    pub spike_minutes_billed: f64,
}

impl Fleet {
    /// Instance-hours a day needed.
    pub fn needed_hours(&self) -> f64 {
        self.needed.iter().sum()
    }

    /// Instance-hours a day billed.
    pub fn billed_hours(&self) -> f64 {
        self.billed.iter().sum()
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
            needed_instance_hours_per_day: 0.0,
            billed_instance_hours_per_day: 0.0,
            peak_kept_warm: false,
            cold_start_s: 0.0,
            usd_per_hour_if_spikes_outlast_cold_start: None,
            batch_job: None,
        }
    }
}

/// The layout of a candidate for [`Sizing::fleet`].
pub fn layout(w: &Workload, c: &Candidate, inst: &Instance) -> ReplicaLayout {
    let pp = c.pp.max(1);
    ReplicaLayout {
        capacity: c.max_rps_per_replica,
        spare: spare_replicas(w, c),
        replicas_per_instance: c.replicas_per_instance.max(1),
        pp,
        cold_start_s: c.cold_start(&w.constraints.weights_source, inst).seconds,
        floor: [0; 24],
    }
}

/// The purchase mix of a candidate in `region` at on-demand `price` per instance-hour: every
/// hour billed for at least what it needs, and at least the instances of `floor`, the
/// replicas the rendered autoscaler keeps each hour (`autoscaling::Targets::floor_at`).
pub fn purchase_mix(
    w: &Workload,
    sizing: &Sizing,
    c: &Candidate,
    inst: &Instance,
    region: &str,
    price: f64,
    floor: [u32; 24],
) -> PurchaseMix {
    let layout = ReplicaLayout {
        floor,
        ..layout(w, c, inst)
    };
    let fleet = sizing.fleet(w, &layout);
    let mut mix = mix_of(w, &fleet, inst, region, price);
    mix.cold_start_s = layout.cold_start_s;
    if fleet.spike_minutes_billed > 0.0 {
        mix.assumptions.push(format!(
            "the spikes above the busiest hour are scaled for: the instances they add run {:.0} min \
             a day (the spikes' {} min plus a cold start of about {:.0} s), on demand",
            fleet.spike_minutes_billed,
            w.traffic.peak_minutes_per_day.unwrap_or(0.0),
            layout.cold_start_s
        ));
    }
    if fleet.peak_kept_warm {
        // The shortest spikes an autoscaler could start the peak for: one cold start.
        let mut longer = w.clone();
        let minutes = (layout.cold_start_s / 60.0).ceil().clamp(1.0, 1440.0);
        longer.traffic.peak_minutes_per_day = Some(
            longer
                .traffic
                .peak_minutes_per_day
                .map_or(minutes, |m| m.max(minutes)),
        );
        let scaled = sizing.fleet(&longer, &layout);
        if !scaled.peak_kept_warm {
            mix.usd_per_hour_if_spikes_outlast_cold_start =
                Some(mix_of(w, &scaled, inst, region, price).usd_per_hour);
        }
        mix.assumptions.push(format!(
            "the peak's {} instances run all day: {}",
            fleet.peak,
            match w.traffic.peak_minutes_per_day {
                Some(m) => format!(
                    "its spikes ({} min a day) are shorter than a cold start (about {:.0} s)",
                    m, layout.cold_start_s
                ),
                None =>
                    "`traffic.peak_minutes_per_day` does not say how long spikes last".to_owned(),
            }
        ));
    }
    mix
}

fn mix_of(w: &Workload, fleet: &Fleet, inst: &Instance, region: &str, price: f64) -> PurchaseMix {
    let mut mix = buy(
        &w.pricing,
        w.slo.mode,
        inst,
        region,
        price,
        &fleet.billed,
        fleet.peak,
    );
    mix.needed_instance_hours_per_day = fleet.needed_hours();
    mix.peak_kept_warm = fleet.peak_kept_warm;
    mix
}

/// How to buy the instances `hourly` bills each hour of the day (up to `peak`) of `inst` at
/// on-demand `price` in `region`: async and batch work all on spot when allowed and priced;
/// otherwise a savings plan for every instance that runs long enough for the commitment to pay
/// (see [`commitment`]) and the rest on demand.
pub fn buy(
    p: &Pricing,
    mode: Mode,
    inst: &Instance,
    region: &str,
    price: f64,
    hourly: &[f64; 24],
    peak: u32,
) -> PurchaseMix {
    let mean = hourly.iter().sum::<f64>() / 24.0;
    let all_on_demand = mean * price;
    let spot = spot_price(p, mode, inst, region);
    let mut assumptions = Vec::new();
    let mut billed_hours = mean * 24.0;
    let (sp, od, sport, cost) = match spot {
        Some(spot) => {
            assumptions.push(format!(
                "spot at ${spot:.2}/h (median of the {region} zones in the catalog) with {:.0} % extra work for interruptions",
                p.spot_interruption_overhead * 100.0
            ));
            // Interrupted work runs again: its hours are billed too.
            billed_hours *= 1.0 + p.spot_interruption_overhead;
            (
                0,
                0,
                peak,
                mean * spot * (1.0 + p.spot_interruption_overhead),
            )
        }
        _ => {
            let (base, covered) = commitment(hourly, p.savings_plan_discount);
            if base > 0 {
                assumptions.push(format!(
                    "1-year compute savings plan at {:.0} % off on-demand for every instance busy at least that share of the day short of 24 h (an assumption: the catalog has no savings-plan rates)",
                    p.savings_plan_discount * 100.0
                ));
            }
            let base_cost = f64::from(base) * price * (1.0 - p.savings_plan_discount);
            (
                base,
                peak.saturating_sub(base),
                0,
                base_cost + (mean - covered).max(0.0) * price,
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
        needed_instance_hours_per_day: mean * 24.0,
        billed_instance_hours_per_day: billed_hours,
        peak_kept_warm: false,
        cold_start_s: 0.0,
        usd_per_hour_if_spikes_outlast_cold_start: None,
        batch_job: None,
    }
}

/// The spot price `inst` is bought at in `region`, when it is: async and batch work, spot
/// allowed, and a spot price in the catalog.
pub fn spot_price(p: &Pricing, mode: Mode, inst: &Instance, region: &str) -> Option<f64> {
    match mode {
        Mode::Async | Mode::Batch if p.allow_spot => inst.price(region).and_then(|r| r.spot_usd_hr),
        _ => None,
    }
}

/// What [`plan_job`] says of a job on `inst` in `region`, bought through [`buy`]: on spot
/// when [`spot_price`] allows, the instances billed only while they run; with the instances
/// each hour of the day runs (before the spot overhead). The mix's needed instance-hours are
/// the job's busy hours (without cold starts).
pub fn job_mix(
    p: &Pricing,
    mode: Mode,
    inst: &Instance,
    region: &str,
    price: f64,
    spec: JobSpec,
) -> Result<(PurchaseMix, [f64; 24]), JobError> {
    let spot = spot_price(p, mode, inst, region);
    let spec = JobSpec {
        spot_overhead: spot.map(|_| p.spot_interruption_overhead),
        ..spec
    };
    let (job, billed) = plan_job(&spec)?;
    let mut mix = buy(p, mode, inst, region, price, &billed, job.instances);
    let per_instance = spec.work_unit_hours / f64::from(job.units.max(1));
    mix.needed_instance_hours_per_day =
        per_instance * f64::from(job.instances) * f64::from(job.runs_per_day);
    mix.cold_start_s = spec.cold_start_s;
    mix.assumptions.push(format!(
        "{} job: {} run{} a day of up to {} from {:02}:00 UTC on {} instance{}, billed only \
         while they run (about {} each, a cold start included), none between windows; finish \
         at p99 = (cold start + the work shared out) × (1 + interruption overhead) + the last \
         request or job (which no second replica or GPU can share){}",
        if job.runs_per_day == 1 {
            "batch"
        } else {
            "deadline"
        },
        job.runs_per_day,
        if job.runs_per_day == 1 { "" } else { "s" },
        hours(job.window_hours),
        job.window_start_utc,
        job.instances,
        if job.instances == 1 { "" } else { "s" },
        hours(job.run_hours),
        if job.on_spot {
            " + one replacement cold start after an interruption"
        } else {
            ""
        }
    ));
    mix.batch_job = Some(job);
    Ok((mix, billed))
}

/// The job of a batch LLM candidate: the day's requests (`traffic.rate_rps` × 86 400) at the
/// replica's full throughput (`max_rps_per_replica`), its p99 request as the last piece of
/// work, in the workload's window.
pub fn llm_job(w: &Workload, c: &Candidate, inst: &Instance) -> JobSpec {
    let l = layout(w, c, inst);
    let window = Window::daily(w.slo.window_hours, w.slo.window_start_utc);
    JobSpec {
        work_unit_hours: w.traffic.rate_rps * window.period_hours
            / c.max_rps_per_replica.max(1e-12),
        units_per_instance: l.replicas_per_instance,
        instances_per_unit: l.pp,
        cold_start_s: l.cold_start_s,
        tail_s: c.e2e_p99_ms / 1e3,
        spot_overhead: None,
        window,
    }
}

/// The instances worth a savings plan, and the mean instances they serve: the k-th instance
/// (counting up from the always-on ones) runs `hours_k` = Σ_h clamp(hourly[h] − (k − 1), 0, 1)
/// hours a day, and a commitment billed 24 h at `1 − discount` of the on-demand rate pays when
/// `hours_k ≥ 24 × (1 − discount)`. Since `hours_k` falls with k, the instances bought are a
/// prefix; the cost, `Σ_k min(24 (1 − discount), hours_k)` on-demand hours, never falls when any
/// hour needs more instances.
pub fn commitment(hourly: &[f64; 24], discount: f64) -> (u32, f64) {
    let break_even = 24.0 * (1.0 - discount);
    let (mut count, mut covered) = (0u32, 0.0);
    loop {
        let floor = f64::from(count);
        let hours: f64 = hourly.iter().map(|b| (b - floor).clamp(0.0, 1.0)).sum();
        if hours <= 0.0 || hours + 1e-9 < break_even {
            return (count, covered / 24.0);
        }
        count += 1;
        covered += hours;
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
