//! IP101 `isolated-tenant-without-mig`.

use super::{finding, usd, Context, Finding, Rule, Severity, Shape};
use crate::workload::Tenancy;

/// IP101 `isolated-tenant-without-mig`: an isolated tenant on a GPU without MIG.
///
/// **What it checks.** The workload asks for `tenancy = "isolated"` and the candidate's GPU
/// has no Multi-Instance GPU support (`mig_max_instances` empty in the catalog: L4, L40S,
/// A10G, T4, V100, ...).
///
/// **Why it matters.** Without MIG two tenants on one GPU share memory and compute with no
/// hardware boundary; containers, namespaces and time-slicing are not isolation. An isolated
/// tenant then needs whole instances of its own, so every tenant costs at least one instance
/// however little it uses (the per-instance isolation cost). A fractional-GPU size (g6f) is
/// itself a slice of a shared physical GPU.
///
/// **Example.** `L40S (g6e.xlarge) has no MIG: an isolated tenant cannot share a GPU with
/// hardware isolation, so each tenant needs whole g6e.xlarge instances (1 GPU, $1.86/h on
/// demand), however little it uses: each isolated tenant costs at least $1.86/h. Budget
/// per-instance isolation, or use a MIG-capable GPU (A100, H100, H200, B200, RTX PRO 6000)
/// to give each tenant a hardware partition.`
pub struct IsolatedTenantWithoutMig;

impl Rule for IsolatedTenantWithoutMig {
    fn code(&self) -> &'static str {
        "IP101"
    }

    fn name(&self) -> &'static str {
        "isolated-tenant-without-mig"
    }

    fn docs(&self) -> &'static str {
        "docs/findings.md#ip101-isolated-tenant-without-mig"
    }

    fn check(&self, ctx: &Context<'_>) -> Option<Finding> {
        self.check_shape(ctx.workload.constraints.tenancy, &Shape::of(ctx))
    }
}

impl IsolatedTenantWithoutMig {
    /// The rule on the facts shared by LLM replicas and diffusion job workers.
    pub fn check_shape(&self, tenancy: Tenancy, c: &Shape<'_>) -> Option<Finding> {
        if tenancy != Tenancy::Isolated || c.gpu.mig_max_instances.is_some_and(|n| n > 1) {
            return None;
        }
        let inst = &c.instance.name;
        let gpus = if c.instance.gpu_count < 1.0 {
            format!(
                "{} of a GPU, a slice of a physical GPU shared with other instances",
                super::num(c.instance.gpu_count, 3)
            )
        } else {
            let n = c.gpus_per_instance.max(1);
            format!("{n} GPU{}", if n == 1 { "" } else { "s" })
        };
        let price = match c.on_demand_usd_hr() {
            Some(p) => format!(
                ", {p}/h on demand), however little it uses: each isolated tenant costs at \
                 least {p}/h",
                p = usd(p)
            ),
            None => "), however little it uses".to_owned(),
        };
        let idle = if c.gpus_per_replica < c.gpus_per_instance && c.replicas <= 1 {
            format!(
                " A tenant with one {}-GPU {} leaves {} of the {} GPUs idle.",
                c.gpus_per_replica,
                c.unit,
                c.gpus_per_instance - c.gpus_per_replica,
                c.gpus_per_instance
            )
        } else {
            String::new()
        };
        Some(finding(
            self,
            Severity::Warning,
            format!(
                "{gpu} ({inst}) has no MIG: an isolated tenant cannot share a GPU with hardware \
                 isolation, so each tenant needs whole {inst} instances ({gpus}{price}.{idle} \
                 Budget per-instance isolation, or use a MIG-capable GPU (A100, H100, H200, \
                 B200, RTX PRO 6000) to give each tenant a hardware partition.",
                gpu = c.gpu.name,
            ),
        ))
    }
}
