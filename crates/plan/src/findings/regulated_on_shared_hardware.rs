//! IP107 `regulated-on-shared-hardware`.

use super::{finding, num, Context, Finding, Rule, Severity};
use crate::workload::DataClass;

/// IP107 `regulated-on-shared-hardware`: regulated data on an instance size that cannot be
/// dedicated.
///
/// **What it checks.** The workload has `data_class = "regulated"` and the instance is a
/// fractional-GPU size (`gpu_count < 1` in the catalog, e.g. g6f.large with 1/8 of an L4).
///
/// **Why it matters.** Regulated data (PII, financial, health) should run on single-tenant
/// hardware: Dedicated Instances or Dedicated Hosts, which remove co-residency with other
/// customers. A fractional-GPU size is by construction a slice of a physical GPU that AWS
/// partitions among instances, so it is treated as not dedicated-capable. inferplan has no
/// per-size tenancy data: it flags only fractional sizes, as an assumption; check the
/// dedicated-tenancy support of whole-GPU sizes too.
///
/// **Example.** `g6f.large is a fractional-GPU size (0.125 of one L4): a slice of a physical
/// GPU shared with other instances, so it is not a dedicated-capable size (no Dedicated
/// Instance or Host). Regulated data needs a whole-GPU size with dedicated tenancy (e.g.
/// g6.xlarge with tenancy = dedicated).`
pub struct RegulatedOnSharedHardware;

impl Rule for RegulatedOnSharedHardware {
    fn code(&self) -> &'static str {
        "IP107"
    }

    fn name(&self) -> &'static str {
        "regulated-on-shared-hardware"
    }

    fn docs(&self) -> &'static str {
        "docs/findings.md#ip107-regulated-on-shared-hardware"
    }

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
