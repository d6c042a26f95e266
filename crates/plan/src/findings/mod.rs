//! Findings: rules with stable codes (`IP1xx`) that flag risks of a deployment choice, as
//! [`Diagnostic`]s. One rule per file, declared with [`declare_rule!`](crate::declare_rule):
//! its doc comment is its section of `docs/findings.md`, and the table there lists them all
//! ([`metas`]). Diffusion plans apply IP101 and IP103 through [`Shape`], and the diffusion
//! rules IP111 and IP112 through [`warm_pool_idle_cost`] and [`cpu_offload_on_the_job_path`].
//!
//! To add a rule: a new file with a rule declared by `declare_rule!` (the next free code, a
//! kebab-case name, a `docs/findings.md#<code>-<name>` anchor, a one-line summary, a doc
//! comment saying what it checks, why it matters, what to do and an example message) and
//! implementing [`Rule`], an entry at the end of [`all`], `UPDATE_DOCS=1 cargo test -p
//! inferplan-plan` to write its section, and a firing and a non-firing case in
//! `crates/plan/tests/plan/findings.rs`. Codes are never reused or renumbered.

mod cold_start_over_budget;
mod cpu_offload_on_the_job_path;
mod fp8_without_native_support;
mod isolated_tenant_without_mig;
mod low_bit_quality;
mod multi_node_needs_efa_and_one_az;
mod one_instance_holds_every_replica;
mod peak_kept_warm;
mod regulated_on_shared_hardware;
mod retries_need_idempotency_keys;
mod scale_on_queue_not_gpu_utilization;
mod single_gpu_replicas_on_large_instances;
mod spot_for_stateful_chat;
mod warm_pool_idle_cost;

pub use cold_start_over_budget::ColdStartOverBudget;
pub use cpu_offload_on_the_job_path::{cpu_offload_on_the_job_path, CpuOffloadOnTheJobPath};
pub use fp8_without_native_support::Fp8WithoutNativeSupport;
pub use isolated_tenant_without_mig::IsolatedTenantWithoutMig;
pub use low_bit_quality::LowBitQuality;
pub use multi_node_needs_efa_and_one_az::MultiNodeNeedsEfaAndOneAz;
pub use one_instance_holds_every_replica::OneInstanceHoldsEveryReplica;
pub use peak_kept_warm::PeakKeptWarm;
pub use regulated_on_shared_hardware::RegulatedOnSharedHardware;
pub use retries_need_idempotency_keys::RetriesNeedIdempotencyKeys;
pub use scale_on_queue_not_gpu_utilization::ScaleOnQueueNotGpuUtilization;
pub use single_gpu_replicas_on_large_instances::SingleGpuReplicasOnLargeInstances;
pub use spot_for_stateful_chat::SpotForStatefulChat;
pub use warm_pool_idle_cost::{warm_pool_idle_cost, WarmPoolIdleCost, IDLE_SHARE_FLAGGED};

pub use crate::diagnostic::Severity;

use crate::candidate::Candidate;
use crate::diagnostic::{Diagnostic, Meta, RuleMeta};
use crate::workload::Workload;
use inferplan_catalog::{Gpu, Instance, ModelSpec};

/// One finding about a candidate: a [`Diagnostic`] without location keys (it sits inside its
/// candidate).
pub type Finding = Diagnostic;

/// What a rule looks at.
pub struct Context<'a> {
    /// The workload.
    pub workload: &'a Workload,
    /// The candidate deployment (findings not yet filled).
    pub candidate: &'a Candidate,
    /// Its instance type.
    pub instance: &'a Instance,
    /// Its GPU.
    pub gpu: &'a Gpu,
    /// The model.
    pub model: &'a ModelSpec,
}

/// The facts about a deployment that rules common to LLM replicas and diffusion job workers
/// read.
pub struct Shape<'a> {
    /// Instance type.
    pub instance: &'a Instance,
    /// Its GPU.
    pub gpu: &'a Gpu,
    /// Region of the price (empty: us-east-1).
    pub region: &'a str,
    /// GPUs of one replica or worker.
    pub gpus_per_replica: u32,
    /// GPUs of one instance.
    pub gpus_per_instance: u32,
    /// Replicas or workers at the peak.
    pub replicas: u32,
    /// Replicas or workers that share one instance.
    pub replicas_per_instance: u32,
    /// What one is called in messages: `replica`, `job worker`.
    pub unit: &'static str,
}

impl<'a> Shape<'a> {
    /// The shape of an LLM candidate.
    pub fn of(ctx: &Context<'a>) -> Shape<'a> {
        let c = ctx.candidate;
        Shape {
            instance: ctx.instance,
            gpu: ctx.gpu,
            region: &c.region,
            gpus_per_replica: c.gpus_per_replica,
            gpus_per_instance: c.gpus_per_instance,
            replicas: c.replicas,
            replicas_per_instance: c.replicas_per_instance,
            unit: "replica",
        }
    }

    /// On-demand price of the instance type in its region (us-east-1 when unset).
    pub fn on_demand_usd_hr(&self) -> Option<f64> {
        let region = if self.region.is_empty() {
            inferplan_catalog::DEFAULT_REGION
        } else {
            self.region
        };
        self.instance.on_demand(region)
    }
}

/// A finding rule: what it is ([`Meta`], from [`declare_rule!`](crate::declare_rule)) and what
/// it checks.
pub trait Rule: Meta {
    /// The finding, if the rule applies.
    fn check(&self, ctx: &Context<'_>) -> Option<Finding>;
}

/// Every rule, in code order. The order is stable: new rules are appended.
pub fn all() -> Vec<Box<dyn Rule>> {
    vec![
        Box::new(IsolatedTenantWithoutMig),
        Box::new(MultiNodeNeedsEfaAndOneAz),
        Box::new(SingleGpuReplicasOnLargeInstances),
        Box::new(SpotForStatefulChat),
        Box::new(ColdStartOverBudget),
        Box::new(Fp8WithoutNativeSupport),
        Box::new(RegulatedOnSharedHardware),
        Box::new(ScaleOnQueueNotGpuUtilization),
        Box::new(RetriesNeedIdempotencyKeys),
        Box::new(OneInstanceHoldsEveryReplica),
        Box::new(PeakKeptWarm),
        Box::new(LowBitQuality),
    ]
}

/// What every finding rule is, in code order: the rules of [`all`] and the diffusion rules
/// IP111 and IP112.
pub fn metas() -> Vec<&'static RuleMeta> {
    let mut out: Vec<&'static RuleMeta> = all().iter().map(|r| r.meta()).collect();
    out.extend([&WarmPoolIdleCost::META, &CpuOffloadOnTheJobPath::META]);
    out.sort_by_key(|m| m.code);
    out
}

/// The findings of every rule about one candidate, in rule order.
pub fn check(ctx: &Context<'_>) -> Vec<Finding> {
    all().iter().filter_map(|r| r.check(ctx)).collect()
}

/// A finding of `rule`.
fn finding(rule: &dyn Meta, severity: Severity, message: String) -> Finding {
    rule.meta().diagnostic(severity, (), message)
}

/// Instances one replica spans (1 unless tensor or pipeline parallelism crosses nodes).
fn nodes_per_replica(c: &Candidate) -> u32 {
    c.nodes_per_replica()
}

/// `$1.86`, `$55.04`, `$1,234`.
fn usd(x: f64) -> String {
    if x >= 1000.0 {
        let whole = x.round() as u64;
        let (thousands, rest) = (whole / 1000, whole % 1000);
        format!("${thousands},{rest:03}")
    } else {
        format!("${x:.2}")
    }
}

/// A number with up to `digits` decimals, without trailing zeros (`2`, `2.5`, `0.27`).
fn num(x: f64, digits: usize) -> String {
    let s = format!("{x:.digits$}");
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_owned()
    } else {
        s
    }
}

/// A duration: `45 s`, `3 min 32 s`, `1 h 05 min`.
fn duration(seconds: f64) -> String {
    let s = seconds.max(0.0).round() as u64;
    if s < 60 {
        format!("{s} s")
    } else if s < 3600 {
        format!("{} min {:02} s", s / 60, s % 60)
    } else {
        format!("{} h {:02} min", s / 3600, (s % 3600) / 60)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        assert_eq!(usd(1.8611), "$1.86");
        assert_eq!(usd(1234.4), "$1,234");
        assert_eq!(num(2.0, 2), "2");
        assert_eq!(num(0.2734, 2), "0.27");
        assert_eq!(num(6.26, 1), "6.3");
        assert_eq!(duration(45.2), "45 s");
        assert_eq!(duration(212.0), "3 min 32 s");
        assert_eq!(duration(3900.0), "1 h 05 min");
    }

    #[test]
    fn anchors_follow_code_and_name() {
        for (i, m) in metas().iter().enumerate() {
            assert_eq!(m.code, format!("IP{}", 101 + i), "codes in order");
            assert_eq!(m.docs, m.anchor("findings"), "{}", m.code);
        }
    }

    /// The table and the sections of `docs/findings.md` are the rules' summaries and doc
    /// comments.
    #[test]
    fn docs_show_the_rules() {
        let page = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/findings.md");
        let update = std::env::var_os("UPDATE_DOCS").is_some();
        let refresh = "UPDATE_DOCS=1 cargo test -p inferplan-plan";
        crate::diagnostic::docs::keep_current(&page, &metas(), update, refresh).unwrap();
    }
}
