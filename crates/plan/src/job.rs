//! Batch work as a job over its window, for LLM and diffusion alike: the work of a period (a
//! day for `mode = "batch"`) runs as one job inside a window (`slo.window_hours` from
//! `slo.window_start_utc`), on the fewest instances that finish it within the window at p99,
//! billed only while they run: the fleet scales to zero between windows.
//!
//! The finish time at p99 of one run, in hours from the window's opening, is
//!
//! ```text
//! finish = (cold start + work / units) × (1 + overhead) + tail + [on spot] cold start
//! ```
//!
//! where `work` is the run's busy unit-hours (what one replica, or one GPU for diffusion, would
//! take alone at full throughput), `units` the replicas or GPUs, `tail` the last piece of work
//! that cannot be shared (the p99 request at full load, one diffusion job), and `overhead` the
//! extra work spot interruptions cost (`pricing.spot_interruption_overhead`, 0 on demand). On
//! spot, the p99 run also allows one replacement instance's cold start after an interruption
//! near its end. Each instance bills `(cold start + work / units) × (1 + overhead)` per run
//! (`cost::buy` adds the overhead to spot hours): never more than the window.

use inferplan_catalog::bounds;
use serde::{Deserialize, Serialize};

/// When a job may run.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Window {
    /// Hour of the day (UTC) the first window opens.
    pub start_utc: u32,
    /// Hours each window lasts.
    pub hours: f64,
    /// Hours from one window's opening to the next (24 for a daily batch).
    pub period_hours: f64,
}

impl Window {
    /// The window of daily batch work: `hours` (default 24) from `start_utc` (default 0).
    pub fn daily(hours: Option<f64>, start_utc: Option<u32>) -> Window {
        Window {
            start_utc: start_utc.unwrap_or(0) % 24,
            hours: hours.unwrap_or(24.0).clamp(1e-6, 24.0),
            period_hours: 24.0,
        }
    }

    /// The windows of deadline work (`mode = "async"`): what arrives in a period of half the
    /// deadline runs in the next half, so that nothing waits longer than the deadline; periods
    /// and windows of at most a day. `None` when the deadline is shorter than two minutes.
    pub fn for_deadline(deadline_s: f64) -> Option<Window> {
        let half_h = deadline_s / 2.0 / 3600.0;
        if half_h.is_nan() || half_h * 60.0 < 1.0 {
            return None;
        }
        let period = half_h.min(24.0);
        Some(Window {
            start_utc: 0,
            hours: (deadline_s / 3600.0 - period).min(24.0),
            period_hours: period,
        })
    }

    /// Runs a day: one per period, the last one possibly shorter than a period.
    pub fn runs_per_day(&self) -> u32 {
        (24.0 / self.period_hours.clamp(1e-6, 24.0)).ceil().max(1.0) as u32
    }
}

/// What a job needs to know of the work and of one unit (an LLM replica, a diffusion GPU).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct JobSpec {
    /// Busy unit-hours of one run at full throughput.
    pub work_unit_hours: f64,
    /// Units on one instance.
    pub units_per_instance: u32,
    /// Instances one unit spans (pipeline stages over nodes).
    pub instances_per_unit: u32,
    /// Seconds from asking for an instance to its first result.
    pub cold_start_s: f64,
    /// The last piece of work, which no second unit can share, seconds.
    pub tail_s: f64,
    /// Extra work spot interruptions cost, as a fraction; `None` on demand.
    pub spot_overhead: Option<f64>,
    /// When it may run.
    pub window: Window,
}

/// How a job runs and what it bills.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BatchJob {
    /// Hour of the day (UTC) the first window opens.
    pub window_start_utc: u32,
    /// Hours each window lasts.
    pub window_hours: f64,
    /// Runs a day (one per window).
    pub runs_per_day: u32,
    /// Hours from one window's opening to the next (24 for daily batch work).
    #[serde(default = "a_day")]
    pub period_hours: f64,
    /// Replicas (LLM) or GPUs (diffusion) of a run.
    pub units: u32,
    /// Instances of a run.
    pub instances: u32,
    /// Busy unit-hours of one run at full throughput.
    pub work_unit_hours: f64,
    /// Hours each instance runs and bills per run: its cold start and its share of the work,
    /// with the interruption overhead on spot.
    pub run_hours: f64,
    /// Hours from the window's opening to the last result of a run, at p99.
    pub finish_p99_hours: f64,
    /// Whether it runs on spot.
    pub on_spot: bool,
    /// Extra work for spot interruptions (0 on demand), as a fraction.
    pub interruption_overhead: f64,
}

impl BatchJob {
    /// The window as `22:00–06:00 UTC (8 h)`, or `30 min every 30 min` for deadline work.
    pub fn window_text(&self) -> String {
        if self.runs_per_day > 1 {
            return format!(
                "{} every {}",
                hours(self.window_hours),
                hours(self.period_hours)
            );
        }
        let end = (f64::from(self.window_start_utc) + self.window_hours).rem_euclid(24.0);
        let (h, m) = (
            end.floor() as u32,
            ((end - end.floor()) * 60.0).round() as u32,
        );
        let (h, m) = if m == 60 { ((h + 1) % 24, 0) } else { (h, m) };
        let end = if self.window_hours >= 24.0 - 1e-9 && h == self.window_start_utc && m == 0 {
            "24:00".to_owned()
        } else {
            format!("{h:02}:{m:02}")
        };
        format!(
            "{:02}:00–{end} UTC ({})",
            self.window_start_utc,
            hours(self.window_hours)
        )
    }

    /// One line: the window, the runs, the instances and their hours, the finish at p99;
    /// `unit` names what shares the work (`replica`, `GPU`).
    pub fn summary(&self, unit: &str) -> String {
        format!(
            "window {}, {} run{} a day: {} instance{} ({} {}) running about {} each{}, finished \
             {} after the window opens at p99; none between windows",
            self.window_text(),
            self.runs_per_day,
            if self.runs_per_day == 1 { "" } else { "s" },
            self.instances,
            if self.instances == 1 { "" } else { "s" },
            self.units,
            if self.units == 1 {
                unit.to_owned()
            } else {
                format!("{unit}s")
            },
            hours(self.run_hours),
            if self.on_spot {
                format!(
                    " on spot ({:.0} % interruption overhead included)",
                    self.interruption_overhead * 100.0
                )
            } else {
                String::new()
            },
            hours(self.finish_p99_hours)
        )
    }
}

fn a_day() -> f64 {
    24.0
}

/// Why a job cannot be planned.
#[derive(Debug, Clone, PartialEq)]
pub enum JobError {
    /// Even with unlimited units, a cold start and the last piece of work outlast the window.
    WindowTooShort {
        /// The least finish time, hours.
        least_hours: f64,
    },
    /// More units than a plan proposes ([`bounds::REPLICAS`]).
    TooManyUnits(f64),
}

impl JobError {
    /// The rejection reason code and its detail.
    pub fn reason(&self, window: &Window) -> (&'static str, String) {
        match self {
            JobError::WindowTooShort { least_hours } => (
                "window_too_short",
                format!(
                    "a run needs at least {least_hours:.2} h (a cold start and the last request \
                     or job, which no second replica can share) but the window is {:.2} h",
                    window.hours
                ),
            ),
            JobError::TooManyUnits(n) => (
                "too_many_replicas",
                format!(
                    "finishing within {:.2} h needs {n:.0} replicas, more than the {} a plan \
                     proposes (docs/limits.md)",
                    window.hours,
                    bounds::REPLICAS.max
                ),
            ),
        }
    }
}

/// Plans a job: the fewest units that finish each run within the window at p99 (whole
/// instances, every unit of an instance working), and the instances billed each hour of the
/// day (before the spot overhead, which `cost::buy` adds).
pub fn plan_job(s: &JobSpec) -> Result<(BatchJob, [f64; 24]), JobError> {
    let o = s.spot_overhead.unwrap_or(0.0).max(0.0);
    let cold_h = s.cold_start_s.max(0.0) / 3600.0;
    let tail_h = s.tail_s.max(0.0) / 3600.0;
    let replacement_h = if s.spot_overhead.is_some() {
        cold_h
    } else {
        0.0
    };
    let work = s.work_unit_hours.max(0.0);
    let fixed = cold_h * (1.0 + o) + tail_h + replacement_h;
    // Time left for the shared work, per unit, before the overhead.
    let room = (s.window.hours - tail_h - replacement_h) / (1.0 + o) - cold_h;
    if room <= 0.0 {
        return Err(JobError::WindowTooShort { least_hours: fixed });
    }
    let upi = s.units_per_instance.max(1);
    let ipu = s.instances_per_unit.max(1);
    let least = (work / room).ceil().max(1.0);
    if least > bounds::REPLICAS.max {
        return Err(JobError::TooManyUnits(least));
    }
    // Whole instances; every unit on them shares the work.
    let hosts = (least as u32).div_ceil(upi);
    let units = hosts * upi;
    let instances = hosts * ipu;
    let busy_h = cold_h + work / f64::from(units);
    let run_hours = busy_h * (1.0 + o);
    let finish = run_hours + tail_h + replacement_h;
    let mut billed = [0.0; 24];
    let runs = s.window.runs_per_day();
    for k in 0..runs {
        let start = f64::from(s.window.start_utc) + f64::from(k) * s.window.period_hours;
        add_interval(&mut billed, start, busy_h, f64::from(instances));
    }
    Ok((
        BatchJob {
            window_start_utc: s.window.start_utc,
            window_hours: s.window.hours,
            runs_per_day: runs,
            period_hours: s.window.period_hours,
            units,
            instances,
            work_unit_hours: work,
            run_hours,
            finish_p99_hours: finish,
            on_spot: s.spot_overhead.is_some(),
            interruption_overhead: o,
        },
        billed,
    ))
}

/// `24 h`, `3.5 h`, `45 min`.
pub fn hours(h: f64) -> String {
    if h < 1.0 {
        format!("{:.0} min", h * 60.0)
    } else if (h - h.round()).abs() < 0.05 {
        format!("{:.0} h", h)
    } else {
        format!("{h:.1} h")
    }
}

/// Adds `count` instances running `hours` from `start` (hours after 00:00 UTC, wrapping over
/// midnight) to the instances billed each hour.
fn add_interval(billed: &mut [f64; 24], start: f64, hours: f64, count: f64) {
    let mut t = start.rem_euclid(24.0);
    let mut left = hours.clamp(0.0, 24.0);
    while left > 1e-12 {
        let hour = t.floor();
        // What is left of this hour (a whole hour when rounding put `t` on its end).
        let rest = hour + 1.0 - t;
        let take = left.min(if rest > 1e-12 { rest } else { 1.0 });
        billed[(hour as usize) % 24] += count * take;
        left -= take;
        t = (t + take).rem_euclid(24.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(work: f64, window: f64) -> JobSpec {
        JobSpec {
            work_unit_hours: work,
            units_per_instance: 1,
            instances_per_unit: 1,
            cold_start_s: 180.0,
            tail_s: 30.0,
            spot_overhead: None,
            window: Window::daily(Some(window), Some(22)),
        }
    }

    #[test]
    fn a_half_day_of_work_in_a_whole_day_runs_on_one_instance_for_half_a_day() {
        let (job, billed) = plan_job(&spec(12.24, 24.0)).unwrap();
        assert_eq!((job.units, job.instances), (1, 1));
        let hours: f64 = billed.iter().sum();
        assert!((hours - (12.24 + 0.05)).abs() < 1e-9, "{hours}");
        assert!(job.finish_p99_hours <= 24.0);
        // It opens at 22:00 UTC and runs through the night.
        assert!((billed[22] - 1.0).abs() < 1e-9 && billed[21] == 0.0);
    }

    #[test]
    fn a_short_window_takes_more_instances_for_fewer_hours_each() {
        let (job, billed) = plan_job(&spec(12.24, 4.0)).unwrap();
        assert_eq!(job.units, 4);
        assert!(job.finish_p99_hours <= 4.0);
        assert!(billed.iter().all(|&b| b <= 4.0 + 1e-9));
        let e = plan_job(&spec(1.0, 0.05)).unwrap_err();
        assert!(matches!(e, JobError::WindowTooShort { .. }));
    }

    #[test]
    fn deadline_work_runs_in_the_half_after_its_half() {
        let w = Window::for_deadline(7200.0).unwrap();
        assert_eq!((w.period_hours, w.hours, w.runs_per_day()), (1.0, 1.0, 24));
        // A two-day deadline: daily runs within a day.
        let w = Window::for_deadline(2.0 * 86_400.0).unwrap();
        assert_eq!((w.period_hours, w.hours, w.runs_per_day()), (24.0, 24.0, 1));
        assert!(Window::for_deadline(60.0).is_none());
        // Every run of a deadline job is billed inside its own period.
        let spec = JobSpec {
            window: Window::for_deadline(3.0 * 3600.0).unwrap(),
            ..spec(3.0, 24.0)
        };
        let (job, billed) = plan_job(&spec).unwrap();
        assert_eq!(job.runs_per_day, 16);
        assert!(job.finish_p99_hours <= 1.5 + 1e-9);
        let per_run = job.run_hours * f64::from(job.instances);
        assert!((billed.iter().sum::<f64>() - per_run * 16.0).abs() < 1e-9);
    }

    #[test]
    fn intervals_wrap_over_midnight_and_keep_their_length() {
        let mut b = [0.0; 24];
        add_interval(&mut b, 22.5, 3.25, 2.0);
        assert!((b[22] - 1.0).abs() < 1e-9);
        assert!((b[23] - 2.0).abs() < 1e-9);
        assert!((b[0] - 2.0).abs() < 1e-9);
        assert!((b[1] - 1.5).abs() < 1e-9);
        assert!((b.iter().sum::<f64>() - 6.5).abs() < 1e-9);
    }
}
