//! IP113 `peak-kept-warm`.

use super::{duration, finding, Context, Finding, Rule, Severity};

crate::declare_rule! {
    /// **What it checks.** The workload has a peak (`traffic.peak_rps`) above its busiest hour,
    /// and either does not say how long it lasts (`traffic.peak_minutes_per_day`) or its spikes
    /// are shorter than a replica's cold start. The plan then keeps the peak's capacity running,
    /// and billed, all day.
    ///
    /// **Why it matters.** An autoscaler adds capacity one cold start after it asks for it
    /// (IP105): a spike shorter than that is over before the new replicas serve, so the only way
    /// to serve it within the SLOs is capacity already running. Article [C] keeps "warm
    /// capacity" for spiky fraud scoring for this reason. That capacity is bought all day; when
    /// the spikes in fact last longer than a cold start, the planner could scale for them and
    /// bill the added instances only while they run.
    ///
    /// **What to do.** Measure how long the peaks last and state it in
    /// `traffic.peak_minutes_per_day`, or give a `traffic.daily_profile`; shorten the cold
    /// start (weights on local NVMe, IP105) so that more spikes outlast it.
    ///
    /// **Example message.**
    ///
    /// > The peak's 14 instances run all day: how long spikes last
    /// > is not given (`traffic.peak_minutes_per_day`), and a cold start takes about 2 min 13 s.
    /// > If spikes lasted at least 3 min, scaling for them would cost $7.87/h instead of
    /// > $18.24/h.
    pub struct PeakKeptWarm {
        code: "IP113",
        name: "peak-kept-warm",
        severity: Info,
        summary: "the peak's capacity runs all day: spikes are shorter than a cold start, or of unknown length",
        docs: "docs/findings.md#ip113-peak-kept-warm",
    }
}

impl Rule for PeakKeptWarm {
    fn check(&self, ctx: &Context<'_>) -> Option<Finding> {
        let mix = &ctx.candidate.purchase_mix;
        if !mix.peak_kept_warm {
            return None;
        }
        let cold = duration(mix.cold_start_s);
        let spike = (mix.cold_start_s / 60.0).ceil().max(1.0);
        let why = match ctx.workload.traffic.peak_minutes_per_day {
            Some(m) => {
                format!("spikes last {m} min a day, shorter than a cold start (about {cold})")
            }
            None => format!(
                "how long spikes last is not given (`traffic.peak_minutes_per_day`), and a cold \
                 start takes about {cold}"
            ),
        };
        let saving = match mix.usd_per_hour_if_spikes_outlast_cold_start {
            Some(scaled) if scaled < mix.usd_per_hour => format!(
                " If spikes lasted at least {spike:.0} min, scaling for them would cost \
                 ${scaled:.2}/h instead of ${:.2}/h.",
                mix.usd_per_hour
            ),
            _ => String::new(),
        };
        Some(finding(
            self,
            Severity::Info,
            format!(
                "The peak's {} instances run all day: {why}.{saving}",
                ctx.candidate.instances
            ),
        ))
    }
}
