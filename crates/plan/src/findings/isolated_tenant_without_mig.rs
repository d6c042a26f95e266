//! IP101 `isolated-tenant-without-mig`.

use super::{finding, usd, Context, Finding, Rule, Severity, Shape};
use crate::workload::Tenancy;

crate::declare_rule! {
    /// **What it checks.** The workload sets `constraints.tenancy = "isolated"` and the candidate's GPU
    /// has no Multi-Instance GPU support (no `mig_max_instances` in `data/catalog/gpus.csv`: L4, L40S,
    /// A10G, T4, V100 and the accelerators that are not NVIDIA GPUs).
    ///
    /// **Why it matters.** MIG splits one GPU into hardware partitions with their own memory, cache
    /// and compute. Without it, two tenants on one GPU share everything: Kubernetes namespaces,
    /// separate containers and time-slicing give no hardware isolation. [B] makes this the most
    /// underestimated force of its decision: "two pods in different namespaces on the same node share
    /// the GPU without hardware isolation", so "multi-tenancy requires per-instance isolation,
    /// increasing base cost", and it asks to "model the per-instance isolation cost before
    /// committing". Each isolated tenant then costs at least one whole instance, however little
    /// traffic it has. A fractional-GPU size (g6f) does not help: it is itself a slice of a physical
    /// GPU shared with other instances.
    ///
    /// **What to do.**
    ///
    /// - Budget one instance (or more) per isolated tenant, and prefer the smallest size that holds a
    ///   replica (one GPU) so the floor per tenant is low.
    /// - Or choose a MIG-capable GPU (A100, H100, H200, B200, RTX PRO 6000/4500 Blackwell) and give
    ///   each tenant its own MIG partitions.
    /// - For many small tenants, a managed per-request service can be cheaper than a floor of one
    ///   instance per tenant ([B]).
    ///
    /// **Example.**
    ///
    /// > L40S (g6e.xlarge) has no MIG: an isolated tenant cannot share a GPU with hardware isolation,
    /// > so each tenant needs whole g6e.xlarge instances (1 GPU, $1.86/h on demand), however little
    /// > it uses: each isolated tenant costs at least $1.86/h. Budget per-instance isolation, or use
    /// > a MIG-capable GPU (A100, H100, H200, B200, RTX PRO 6000) to give each tenant a hardware
    /// > partition.
    pub struct IsolatedTenantWithoutMig {
        code: "IP101",
        name: "isolated-tenant-without-mig",
        severity: Warning,
        summary: "isolated tenancy on a GPU without MIG",
        docs: "docs/findings.md#ip101-isolated-tenant-without-mig",
    }
}

impl Rule for IsolatedTenantWithoutMig {
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
