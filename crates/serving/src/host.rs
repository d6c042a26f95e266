//! What a GPU pod gets of its instance's host memory: the renderer requests it, and the
//! diffusion planner checks that the weights a job offloads to host memory fit in it.

/// Fraction of the instance's vCPUs and memory the GPU pods request together (the rest is
/// left for the kubelet, system daemons and DaemonSets such as the device plugin and
/// dcgm-exporter). An assumption.
pub const NODE_SHARE: f64 = 0.8;

/// Memory one of `pods` GPU pods on an instance with `ram_gib` GiB requests (and is limited
/// to), GiB: its share of [`NODE_SHARE`], at least 4 GiB; without a memory size in the
/// catalog, 32 GiB per GPU (an assumption).
pub fn pod_memory_gib(ram_gib: Option<f64>, pods: f64, gpus_per_pod: u32) -> u64 {
    match ram_gib {
        Some(r) if r > 0.0 => ((r * NODE_SHARE / pods.max(1.0)).floor() as u64).max(4),
        _ => u64::from(gpus_per_pod) * 32,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pod_gets_its_share_of_the_node() {
        // g6e.xlarge: 32 GiB, one pod.
        assert_eq!(pod_memory_gib(Some(32.0), 1.0, 1), 25);
        // Eight pods on 2,048 GiB.
        assert_eq!(pod_memory_gib(Some(2048.0), 8.0, 1), 204);
        assert_eq!(pod_memory_gib(Some(8.0), 8.0, 1), 4);
        assert_eq!(pod_memory_gib(None, 1.0, 2), 64);
    }
}
