//! IP103 `single-gpu-replicas-on-large-instances`.

use super::{finding, num, Context, Finding, Rule, Severity, Shape};

/// Fewest GPUs per instance for which packing one-GPU replicas is flagged.
const LARGE_INSTANCE_GPUS: u32 = 4;

crate::declare_rule! {
    /// **What it checks.** Each replica uses one GPU, the instance has at least 4 GPUs, and more than
    /// one replica is packed onto each instance.
    ///
    /// **Why it matters.** A one-GPU replica gets nothing from its neighbours: no NVLink traffic, no
    /// shared memory. But a host failure, an uncorrectable ECC error, a driver fault, a spot
    /// interruption or a node drain takes every replica on the instance down at once. The blast radius
    /// of one instance is `replicas per instance / replicas` of the capacity. [B] lists this as an
    /// anti-pattern: "8 GPUs on one node do not help if each job uses 1 GPU — you only increase the
    /// blast radius of a node failure and reduce resilience".
    ///
    /// **What to do.**
    ///
    /// - Prefer a one-GPU size of the family where one exists (g6.xlarge, g6e.xlarge, g7e.2xlarge,
    ///   p5.4xlarge, ...); the price per GPU is usually the same.
    /// - If the large size is needed (price, capacity, local NVMe), keep enough spare replicas to
    ///   absorb the loss of a whole instance, spread instances over AZs, and set a
    ///   PodDisruptionBudget so that drains take one node at a time.
    ///
    /// **Example.**
    ///
    /// > 1-GPU replicas on p5.48xlarge (8 GPUs): losing the instance takes 8 replicas (25 % of
    /// > capacity) down at once. Prefer a 1-GPU size of the family where one exists, or keep enough
    /// > spare replicas to absorb a whole instance (8 here), and set a PodDisruptionBudget so drains
    /// > take one node at a time.
    pub struct SingleGpuReplicasOnLargeInstances {
        code: "IP103",
        name: "single-gpu-replicas-on-large-instances",
        severity: Warning,
        summary: "several 1-GPU replicas share a 4+ GPU instance",
        docs: "docs/findings.md#ip103-single-gpu-replicas-on-large-instances",
    }
}

impl Rule for SingleGpuReplicasOnLargeInstances {
    fn check(&self, ctx: &Context<'_>) -> Option<Finding> {
        self.check_shape(&Shape::of(ctx))
    }
}

impl SingleGpuReplicasOnLargeInstances {
    /// The rule on the facts shared by LLM replicas and diffusion job workers.
    pub fn check_shape(&self, c: &Shape<'_>) -> Option<Finding> {
        if c.gpus_per_replica != 1
            || c.gpus_per_instance < LARGE_INSTANCE_GPUS
            || c.replicas_per_instance < 2
        {
            return None;
        }
        let lost = c.replicas_per_instance.min(c.replicas.max(1));
        let share = 100.0 * f64::from(lost) / f64::from(c.replicas.max(1));
        Some(finding(
            self,
            Severity::Warning,
            format!(
                "1-GPU {unit}s on {inst} ({gpus} GPUs): losing the instance takes {lost} \
                 {unit}{s} ({share} % of capacity) down at once. Prefer a 1-GPU size of the \
                 family where one exists, or keep enough spare {unit}s to absorb a whole \
                 instance ({per} here), and set a PodDisruptionBudget so drains take one node \
                 at a time.",
                unit = c.unit,
                inst = c.instance.name,
                gpus = c.gpus_per_instance,
                s = if lost == 1 { "" } else { "s" },
                share = num(share, 0),
                per = c.replicas_per_instance,
            ),
        ))
    }
}
