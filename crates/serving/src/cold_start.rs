//! Cold start of a new replica: instance boot, engine start and reading the weights.
//!
//! `seconds = boot + engine start + weights / read bandwidth`. The planner (rule IP105,
//! `cold-start-over-budget`), the renderer (through [`startup`](crate::startup)) and the
//! simulator's default `--cold-start-s` use the same function. Every constant below
//! says where it comes from; those without a source say they are assumptions.
//! `docs/findings.md#ip105-cold-start-over-budget` explains the model and its limits.

use inferplan_catalog::Instance;
use serde::Serialize;
use std::fmt;

/// Bytes in a GiB over bytes in a GB: weights are sized in GiB, bandwidths are in GB/s.
const GB_PER_GIB: f64 = 1.073_741_824;

/// Launch of a new instance until it can start a container, seconds.
///
/// depot.dev ("Making EC2 boot time 8x faster", 2024) measured about 40 s from
/// `RunInstances` to a usable instance with a stock AMI; brevdev/ec2-coldboot-research
/// measured 25.8 s on average from the API call to SSH. A GPU node also loads the NVIDIA
/// driver, registers with the cluster and starts the device plugin: the 20 s added for
/// that are an assumption, as is the image being cached or lazily pulled (a 10-20 GB
/// inference image pulled in full adds minutes).
pub const INSTANCE_BOOT_S: f64 = 60.0;

/// Engine start without reading the weights, seconds: imports, engine init,
/// `torch.compile` and CUDA-graph capture with their caches on a shared volume.
///
/// tensorfuse.io ("Reducing GPU cold start time when using vLLM", 2025-09-01, Llama 3.1 8B
/// on L40S) measured 10 s Dynamo transformation + 13 s graph compilation + 7 s graph
/// capture + 34 s engine init and imports = 64 s with warm caches (200 s without).
pub const ENGINE_START_S: f64 = 64.0;

/// Fraction of the instance's network bandwidth a parallel download reaches.
///
/// dvassallo/s3-benchmark (2019, many parallel byte-range GETs) measured 1,156 MB/s on
/// c5.4xlarge (10 Gbps: 92 %), 2,710 MB/s on c5.18xlarge (25 Gbps: 87 %) and 5,741 MB/s on
/// c5n.9xlarge (50 Gbps: 92 %). The S3 performance guidelines ask for one concurrent request
/// per 85-90 MB/s of throughput (about 15 to fill 10 Gb/s). Applied to FSx for Lustre too
/// (an assumption).
pub const NETWORK_EFFICIENCY: f64 = 0.85;

/// Highest S3 read rate one instance reaches, GB/s, however fast its network.
///
/// dvassallo/s3-benchmark measured 6,269 MB/s on p3dn.24xlarge and 8,003 MB/s on
/// c5n.18xlarge (both 100 Gbps); Anyscale ("Loading Llama-2 70b 20x faster", 2023) loaded
/// Llama 2 70B (~128 GiB) from S3 on a p4de.24xlarge in about 20 s including engine start
/// (≳ 6.9 GB/s) with many parallel streams. 6.25 GB/s (50 Gbps) is the conservative end.
/// A naive single-stream download is far slower (Anyscale's starting point was 4 min 25 s).
pub const S3_CEILING_GBS: f64 = 6.25;

/// Sequential read of one local NVMe instance-store device, GB/s.
///
/// cloudperf ("3 Million Storage IOPS on AWS Cloud Instance", 2017) measured 15 GB/s over
/// the 8 NVMe devices of an i3.16xlarge, about 1.9 GB/s per device. The weights are assumed
/// to sit on one device; a RAID 0 over several devices reads proportionally faster. AWS
/// publishes IOPS, not throughput, per GPU instance store.
pub const NVME_DEVICE_GBS: f64 = 1.9;

/// Throughput per TiB of the fastest FSx for Lustre Persistent_2 SSD tier, MB/s.
///
/// FSx for Lustre User Guide, "Managing provisioned throughput capacity": Persistent_2 SSD
/// file systems offer 125, 250, 500 and 1000 MB/s/TiB; file system throughput = storage
/// capacity (TiB) × throughput per TiB.
pub const FSX_MBPS_PER_TIB: f64 = 1000.0;

/// Size of the reference FSx for Lustre file system, TiB (an assumption: a file system
/// sized for a handful of models; a bigger one reads proportionally faster).
pub const FSX_REFERENCE_TIB: f64 = 4.8;

/// Network bandwidth assumed when the catalog has none for the instance, Gbps (an
/// assumption).
pub const DEFAULT_NETWORK_GBPS: f64 = 10.0;

/// Cold start assumed when no instance is known (the simulator given only a GPU), seconds
/// (an assumption).
pub const WITHOUT_INSTANCE_S: f64 = 180.0;

/// Where the weights of a new replica are read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum WeightsSource {
    /// Amazon S3 in the same region, over the instance network.
    S3,
    /// The instance's own NVMe instance store (already staged there).
    Nvme,
    /// An FSx for Lustre file system.
    Fsx,
}

impl WeightsSource {
    /// Every source, in display order.
    pub const ALL: [WeightsSource; 3] =
        [WeightsSource::S3, WeightsSource::Nvme, WeightsSource::Fsx];

    /// Reads `s3`, `nvme` (or `local`, `instance-store`) and `fsx` (or `lustre`,
    /// `fsx-lustre`), ignoring case.
    pub fn parse(s: &str) -> Option<WeightsSource> {
        match s.trim().to_ascii_lowercase().as_str() {
            "s3" => Some(WeightsSource::S3),
            "nvme" | "local" | "local-nvme" | "instance-store" => Some(WeightsSource::Nvme),
            "fsx" | "lustre" | "fsx-lustre" | "fsx_lustre" => Some(WeightsSource::Fsx),
            _ => None,
        }
    }

    /// The name used in workload files: `s3`, `nvme`, `fsx`.
    pub fn as_str(self) -> &'static str {
        match self {
            WeightsSource::S3 => "s3",
            WeightsSource::Nvme => "nvme",
            WeightsSource::Fsx => "fsx",
        }
    }
}

impl fmt::Display for WeightsSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How long a new replica takes to serve its first request, and why.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ColdStart {
    /// Total: `boot_s + engine_start_s + load_s`.
    pub seconds: f64,
    /// Instance launch to a running container (0 when the weights are already on the
    /// instance's NVMe, which means the instance is running).
    pub boot_s: f64,
    /// Engine start without the weights.
    pub engine_start_s: f64,
    /// Reading the weights: `weights / read_gbs`.
    pub load_s: f64,
    /// Read bandwidth of the weights, GB/s (10^9 bytes per second).
    pub read_gbs: f64,
    /// The source the estimate uses (S3 when NVMe was asked for but is too small or absent,
    /// or the source was not recognised).
    pub source: WeightsSource,
    /// How the figure was obtained, in one line.
    pub basis: String,
}

/// Cold start of a replica on `instance` that reads `weights_gib` GiB from `source` (`s3`,
/// `nvme` or `fsx`; anything else is read as `s3` and said so in `basis`).
///
/// - `s3`: boot + engine start + weights at min(network × [`NETWORK_EFFICIENCY`],
///   [`S3_CEILING_GBS`]).
/// - `nvme`: the weights are already on the instance store, so the instance is running
///   (a restarted replica, or a node from a warm pool): engine start + weights at
///   [`NVME_DEVICE_GBS`]. When the instance has no instance store, or less than the
///   weights, the estimate falls back to `s3`.
/// - `fsx`: boot + engine start + weights at min([`FSX_MBPS_PER_TIB`] ×
///   [`FSX_REFERENCE_TIB`], network × [`NETWORK_EFFICIENCY`]).
///
/// `weights_gib` is what this instance reads: the whole model for a replica inside one
/// instance, its share for a replica spread over several.
pub fn cold_start_s(weights_gib: f64, source: &str, instance: &Instance) -> ColdStart {
    let gib = if weights_gib.is_finite() {
        weights_gib.max(0.0)
    } else {
        0.0
    };
    let gb = gib * GB_PER_GIB;
    let mut notes = Vec::new();
    let asked = WeightsSource::parse(source).unwrap_or_else(|| {
        notes.push(format!("unknown weights source `{source}`, read as s3"));
        WeightsSource::S3
    });
    let (network_gbps, network_note) = match instance.network_gbps.filter(|g| *g > 0.0) {
        Some(g) => (g, format!("{} Gbps", trim1(g))),
        None => (
            DEFAULT_NETWORK_GBPS,
            format!(
                "{} Gbps assumed (no network figure)",
                trim(DEFAULT_NETWORK_GBPS)
            ),
        ),
    };
    let network_gbs = network_gbps / 8.0 * NETWORK_EFFICIENCY;
    let source = match asked {
        WeightsSource::Nvme => match instance.local_nvme_gb {
            Some(disk) if disk >= gb => WeightsSource::Nvme,
            Some(disk) if disk > 0.0 => {
                notes.push(format!(
                    "{} GB of instance store cannot hold {} GB of weights, read from s3",
                    trim(disk),
                    trim1(gb)
                ));
                WeightsSource::S3
            }
            _ => {
                notes.push("no instance store, read from s3".to_owned());
                WeightsSource::S3
            }
        },
        other => other,
    };
    let (boot_s, read_gbs, how) = match source {
        WeightsSource::S3 => {
            let read = network_gbs.min(S3_CEILING_GBS);
            let how = if read < network_gbs {
                "the per-instance S3 ceiling".to_owned()
            } else {
                format!("{network_note} × {NETWORK_EFFICIENCY}")
            };
            (INSTANCE_BOOT_S, read, how)
        }
        WeightsSource::Nvme => (
            0.0,
            NVME_DEVICE_GBS,
            "one NVMe device of a running instance; RAID 0 over several reads faster".to_owned(),
        ),
        WeightsSource::Fsx => {
            let fs = FSX_MBPS_PER_TIB * FSX_REFERENCE_TIB / 1000.0;
            let read = fs.min(network_gbs);
            let how = if fs <= network_gbs {
                format!("a {FSX_REFERENCE_TIB} TiB FSx for Lustre at {FSX_MBPS_PER_TIB} MB/s/TiB")
            } else {
                format!("{network_note} × {NETWORK_EFFICIENCY}")
            };
            (INSTANCE_BOOT_S, read, how)
        }
    };
    let load_s = if gb > 0.0 { gb / read_gbs } else { 0.0 };
    let seconds = boot_s + ENGINE_START_S + load_s;
    let mut basis = format!(
        "{}: boot {} s + engine start {} s + {} GiB from {} at {} GB/s ({}) = {} s",
        instance.name,
        trim(boot_s),
        trim(ENGINE_START_S),
        trim1(gib),
        source,
        trim2(read_gbs),
        how,
        trim(load_s.round()),
    );
    for n in notes {
        basis.push_str("; ");
        basis.push_str(&n);
    }
    ColdStart {
        seconds,
        boot_s,
        engine_start_s: ENGINE_START_S,
        load_s,
        read_gbs,
        source,
        basis,
    }
}

fn trim(x: f64) -> String {
    num(x, 0)
}

fn trim1(x: f64) -> String {
    num(x, 1)
}

fn trim2(x: f64) -> String {
    num(x, 2)
}

/// `x` with at most `digits` decimals, trailing zeros dropped.
fn num(x: f64, digits: usize) -> String {
    let s = format!("{x:.digits$}");
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_owned()
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inst(name: &str, net: Option<f64>, nvme: Option<f64>) -> Instance {
        Instance {
            name: name.to_owned(),
            family: name.split('.').next().unwrap_or_default().to_owned(),
            cloud: "aws".to_owned(),
            gpu_label: String::new(),
            gpu: None,
            gpu_count: 1.0,
            gpu_mem_mib: None,
            vcpus: None,
            ram_gib: None,
            local_nvme_gb: nvme,
            network_gbps: net,
            efa: false,
            interconnect: inferplan_catalog::Interconnect::Single,
            regions_available: Vec::new(),
            prices: Vec::new(),
            source: String::new(),
            notes: String::new(),
        }
    }

    #[test]
    fn s3_is_network_bound_on_small_instances_and_capped_on_large_ones() {
        let small = cold_start_s(10.0, "s3", &inst("x.small", Some(2.5), None));
        assert!((small.read_gbs - 2.5 / 8.0 * 0.85).abs() < 1e-12);
        assert_eq!(small.boot_s, INSTANCE_BOOT_S);
        let big = cold_start_s(10.0, "S3", &inst("x.big", Some(3200.0), None));
        assert_eq!(big.read_gbs, S3_CEILING_GBS);
        assert!(big.basis.contains("ceiling"), "{}", big.basis);
        let expect = INSTANCE_BOOT_S + ENGINE_START_S + 10.0 * GB_PER_GIB / S3_CEILING_GBS;
        assert!((big.seconds - expect).abs() < 1e-9);
    }

    #[test]
    fn nvme_needs_room_and_skips_boot() {
        let ok = cold_start_s(100.0, "nvme", &inst("x", Some(100.0), Some(3800.0)));
        assert_eq!(ok.source, WeightsSource::Nvme);
        assert_eq!(ok.boot_s, 0.0);
        assert_eq!(ok.read_gbs, NVME_DEVICE_GBS);
        let small = cold_start_s(100.0, "nvme", &inst("x", Some(100.0), Some(100.0)));
        assert_eq!(small.source, WeightsSource::S3);
        assert!(small.basis.contains("cannot hold"), "{}", small.basis);
        let none = cold_start_s(1.0, "nvme", &inst("x", Some(100.0), None));
        assert_eq!(none.source, WeightsSource::S3);
    }

    #[test]
    fn fsx_is_the_smaller_of_file_system_and_network() {
        let fast = cold_start_s(50.0, "fsx", &inst("x", Some(400.0), None));
        assert!((fast.read_gbs - 4.8).abs() < 1e-12);
        let slow = cold_start_s(50.0, "fsx", &inst("x", Some(10.0), None));
        assert!((slow.read_gbs - 10.0 / 8.0 * 0.85).abs() < 1e-12);
    }

    #[test]
    fn odd_inputs_do_not_panic() {
        let c = cold_start_s(f64::NAN, "tape", &inst("x", None, None));
        assert_eq!(c.load_s, 0.0);
        assert_eq!(c.source, WeightsSource::S3);
        assert!(c.basis.contains("unknown weights source"));
        assert!(c.basis.contains("assumed"));
        assert!(c.seconds.is_finite());
    }
}
