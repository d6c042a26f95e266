//! IP103 `single-gpu-replicas-on-large-instances`.

use super::{finding, num, Context, Finding, Rule, Severity, Shape};

/// Fewest GPUs per instance for which packing one-GPU replicas is flagged.
const LARGE_INSTANCE_GPUS: u32 = 4;

/// IP103 `single-gpu-replicas-on-large-instances`: many one-GPU replicas share an instance.
///
/// **What it checks.** Each replica uses one GPU, the instance has at least 4 GPUs, and
/// several replicas are packed onto each instance.
///
/// **Why it matters.** A replica that needs one GPU gains nothing from seven neighbours on
/// the same host: no NVLink traffic, no shared memory. But one host failure, reboot, driver
/// fault, spot interruption or node drain takes all of them down at once, so the blast
/// radius of a node is `replicas per instance / replicas` of the capacity. One-GPU instance
/// sizes (g6e.xlarge, g6.xlarge, p5.4xlarge, ...) keep the loss to one replica, schedule
/// more flexibly and usually cost the same per GPU.
///
/// **Example.** `1-GPU replicas on p5.48xlarge (8 GPUs): losing the instance takes 8
/// replicas (25 % of capacity) down at once. Prefer a 1-GPU size of the family where one
/// exists, or keep enough spare replicas to absorb a whole instance (8 here), and set a
/// PodDisruptionBudget so drains take one node at a time.`
pub struct SingleGpuReplicasOnLargeInstances;

impl Rule for SingleGpuReplicasOnLargeInstances {
    fn code(&self) -> &'static str {
        "IP103"
    }

    fn name(&self) -> &'static str {
        "single-gpu-replicas-on-large-instances"
    }

    fn docs(&self) -> &'static str {
        "docs/findings.md#ip103-single-gpu-replicas-on-large-instances"
    }

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
