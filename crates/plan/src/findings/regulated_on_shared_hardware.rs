//! IP107 `regulated-on-shared-hardware`.

use super::{finding, num, Context, Finding, Rule, Severity};
use crate::workload::DataClass;

crate::declare_rule! {
    /// **What it checks.** The workload has `constraints.data_class = "regulated"` and the instance is
    /// a fractional-GPU size: `gpu_count` below 1 in `data/catalog/aws_instances.csv` (g6f and gr6f,
    /// with 1/8, 1/4 or 1/2 of an L4).
    ///
    /// **Why it matters.** Regulated data (personal, financial, health) should run on single-tenant
    /// hardware. EC2 offers it as Dedicated Instances and Dedicated Hosts, which remove co-residency
    /// with other customers; [A]: "For inference workloads on regulated data (PII, financial data),
    /// Dedicated Instances eliminate the risk of co-residency side-channel attacks". A fractional-GPU
    /// instance is by construction a slice of a physical GPU that AWS partitions among instances
    /// ("AWS partitions NVIDIA L4 GPUs creating instances with as little as 1/8th of a GPU", Cast AI's
    /// documentation on AWS fractional GPUs; AWS What's New, "Announcing general availability of
    /// Amazon EC2 G6f instances with fractional GPUs", July 2025). inferplan therefore treats a
    /// fractional size as **not dedicated-capable**. This is an assumption: we found no AWS page that
    /// lists the dedicated-tenancy support of G6f sizes; check yours with
    /// `aws ec2 describe-instance-types` and the Dedicated Hosts documentation before relying on it.
    ///
    /// The catalog has no per-size tenancy data, so whole-GPU sizes are not flagged. [A] states that
    /// G7 supports Dedicated Instances only in the 12xlarge, 24xlarge and 48xlarge sizes; that claim
    /// is unverified here, and if it holds the smaller G7 sizes would not be dedicated-capable
    /// either. Regulated workloads should also keep to their approved regions
    /// (`constraints.regions`).
    ///
    /// **What to do.** Use a whole-GPU size of the family (g6.xlarge instead of g6f.large) and launch
    /// it with dedicated tenancy; budget the dedicated-tenancy fees.
    ///
    /// **Example.**
    ///
    /// > g6f.large is a fractional-GPU size (0.125 of one L4): a slice of a physical GPU shared with
    /// > other instances, so it is not a dedicated-capable size (no Dedicated Instance or Host).
    /// > Regulated data needs a whole-GPU size with dedicated tenancy (e.g. g6.xlarge with tenancy =
    /// > dedicated).
    pub struct RegulatedOnSharedHardware {
        code: "IP107",
        name: "regulated-on-shared-hardware",
        severity: Error,
        summary: "regulated data on a fractional-GPU size",
        docs: "docs/findings.md#ip107-regulated-on-shared-hardware",
    }
}

impl Rule for RegulatedOnSharedHardware {
    fn check(&self, ctx: &Context<'_>) -> Option<Finding> {
        let inst = ctx.instance;
        if ctx.workload.constraints.data_class != DataClass::Regulated || inst.gpu_count >= 1.0 {
            return None;
        }
        let whole = inst
            .family
            .strip_suffix('f')
            .filter(|f| !f.is_empty())
            .map(|f| format!(" (e.g. {f}.xlarge with tenancy = dedicated)"))
            .unwrap_or_default();
        Some(finding(
            self,
            Severity::Error,
            format!(
                "{name} is a fractional-GPU size ({frac} of one {gpu}): a slice of a physical \
                 GPU shared with other instances, so it is not a dedicated-capable size (no \
                 Dedicated Instance or Host). Regulated data needs a whole-GPU size with \
                 dedicated tenancy{whole}.",
                name = inst.name,
                frac = num(inst.gpu_count, 3),
                gpu = ctx.gpu.name,
            ),
        ))
    }
}
