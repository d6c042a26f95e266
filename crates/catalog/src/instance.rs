//! Cloud instance types and their prices.

use crate::error::Result;
use crate::table::Row;
use serde::Serialize;

/// How the GPUs of one instance talk to each other.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Interconnect {
    /// One GPU (or a fraction): no GPU-to-GPU traffic.
    Single,
    /// NVLink bridges between GPU pairs or rings.
    NvLink,
    /// Every GPU reaches every other at full NVLink bandwidth through switches.
    NvSwitch,
    /// Through the PCIe host bridge.
    Pcie,
    /// AWS NeuronLink between Neuron chips.
    NeuronLink,
}

impl Interconnect {
    fn from_text(s: &str) -> Interconnect {
        let l = s.to_ascii_lowercase();
        if l.contains("nvswitch") {
            Interconnect::NvSwitch
        } else if l.contains("nvlink") {
            Interconnect::NvLink
        } else if l.contains("neuronlink") {
            Interconnect::NeuronLink
        } else if l.contains("pcie") {
            Interconnect::Pcie
        } else {
            Interconnect::Single
        }
    }
}

/// A price of one instance type in one region.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RegionPrice {
    /// Region code, e.g. `us-east-1`.
    pub region: String,
    /// On-demand Linux price, USD per hour.
    pub on_demand_usd_hr: Option<f64>,
    /// Median spot price over the region's zones, USD per hour.
    pub spot_usd_hr: Option<f64>,
    /// Cheapest zone's spot price, USD per hour.
    pub spot_min_usd_hr: Option<f64>,
    /// Where the on-demand price comes from, with its date.
    pub on_demand_source: String,
    /// Where the spot price comes from.
    pub spot_source: String,
    /// Date of the on-demand price (`YYYY-MM-DD`), when its source gives one.
    pub as_of: Option<String>,
    /// Why a price is missing or doubtful, when it is.
    pub note: String,
}

/// The first `YYYY-MM-DD` date in `text`, e.g. in
/// `Karpenter zz_generated.pricing_aws.go, us-east-1, generated 2026-07-20T13:44:30Z`.
pub fn date_in(text: &str) -> Option<String> {
    let b = text.as_bytes();
    (0..b.len().saturating_sub(9)).find_map(|i| {
        let w = &b[i..i + 10];
        let digits = |r: std::ops::Range<usize>| w[r].iter().all(u8::is_ascii_digit);
        (digits(0..4) && w[4] == b'-' && digits(5..7) && w[7] == b'-' && digits(8..10))
            .then(|| text[i..i + 10].to_owned())
    })
}

/// One cloud instance type.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Instance {
    /// Instance type, e.g. `g6e.12xlarge`.
    pub name: String,
    /// Family, e.g. `g6e`.
    pub family: String,
    /// Cloud provider.
    pub cloud: String,
    /// Accelerator as the cloud names it.
    pub gpu_label: String,
    /// Name of the matching `gpus.csv` row, when the GPU is in the catalog.
    pub gpu: Option<String>,
    /// Accelerators; a fraction for fractional-GPU instances (g6f).
    pub gpu_count: f64,
    /// Accelerator memory per GPU (or per slice) as the cloud API reports it, in MiB.
    pub gpu_mem_mib: Option<f64>,
    /// vCPUs.
    pub vcpus: Option<f64>,
    /// Host memory in GiB.
    pub ram_gib: Option<f64>,
    /// Local NVMe in GB.
    pub local_nvme_gb: Option<f64>,
    /// Baseline network bandwidth in Gbps.
    pub network_gbps: Option<f64>,
    /// Elastic Fabric Adapter available.
    pub efa: bool,
    /// Most EFA interfaces the instance takes (`efa_max_interfaces`), when the catalog has it.
    pub efa_max_interfaces: Option<u32>,
    /// GPU-to-GPU link.
    pub interconnect: Interconnect,
    /// Regions where the type is known to be offered (may be non-exhaustive).
    pub regions_available: Vec<String>,
    /// Prices by region, sorted by region.
    pub prices: Vec<RegionPrice>,
    /// Where the shape comes from.
    pub source: String,
    /// Caveats.
    pub notes: String,
}

/// The region the embedded on-demand prices are for.
pub const DEFAULT_REGION: &str = "us-east-1";

impl Instance {
    /// Reads an `aws_instances.csv` row (its us-east-1 price becomes the first price).
    pub fn from_row(r: &Row<'_>) -> Result<Instance> {
        let gpu = r
            .get("gpus_csv_name")
            .filter(|s| !s.starts_with('('))
            .map(str::to_owned);
        let mut inst = Instance {
            name: r.req("instance_type")?.to_owned(),
            family: r.get("family").unwrap_or_default().to_owned(),
            cloud: r.get("cloud").unwrap_or("aws").to_owned(),
            gpu_label: r.get("gpu_name").unwrap_or_default().to_owned(),
            gpu,
            gpu_count: r.req_f64("gpu_count")?,
            gpu_mem_mib: r.f64("gpu_mem_per_gpu_mib_ec2")?,
            vcpus: r.f64("vcpus")?,
            ram_gib: r.f64("ram_gib")?,
            local_nvme_gb: r.f64("local_nvme_gb")?,
            network_gbps: r.f64("network_gbps")?,
            efa: r.bool("efa")?.unwrap_or(false),
            efa_max_interfaces: r
                .f64("efa_max_interfaces")?
                .filter(|n| n.is_finite() && *n >= 1.0 && *n <= 64.0)
                .map(|n| n as u32),
            interconnect: Interconnect::from_text(r.get("gpu_interconnect").unwrap_or_default()),
            regions_available: r
                .get("regions_available")
                .map(|s| {
                    // `us-east-2; us-west-2 (GA 2026-06-18); ...`: the first word of each entry,
                    // when it is a region (dates and notes are not).
                    s.split([';', '|'])
                        .filter_map(|entry| entry.split_whitespace().next())
                        .map(|x| x.trim_end_matches(','))
                        .filter(|x| AWS_REGIONS.contains(x))
                        .map(str::to_owned)
                        .collect()
                })
                .unwrap_or_default(),
            prices: Vec::new(),
            source: r.get("source_url").unwrap_or_default().to_owned(),
            notes: r.get("notes").unwrap_or_default().to_owned(),
        };
        if inst.gpu_count <= 0.0 {
            return Err(r.error("gpu_count", "must be greater than zero"));
        }
        let od = r.f64("on_demand_usd_hr_us_east_1")?;
        let spot = r.f64("spot_usd_hr_us_east_1")?;
        if od.is_some() || spot.is_some() {
            let date = r.get("on_demand_price_source_date").unwrap_or_default();
            inst.prices.push(RegionPrice {
                region: DEFAULT_REGION.to_owned(),
                on_demand_usd_hr: od,
                spot_usd_hr: spot,
                spot_min_usd_hr: None,
                on_demand_source: date.to_owned(),
                spot_source: r.get("spot_price_date").unwrap_or_default().to_owned(),
                as_of: date_in(date),
                note: String::new(),
            });
        }
        Ok(inst)
    }

    /// Whole GPUs a model can be sharded over (1 for a fractional slice).
    pub fn whole_gpus(&self) -> u32 {
        (self.gpu_count.ceil() as u32).max(1)
    }

    /// Memory of one GPU (or slice) in GiB, as the cloud reports it.
    pub fn gpu_mem_gib(&self) -> Option<f64> {
        self.gpu_mem_mib.map(|m| m / 1024.0)
    }

    /// The price record for `region`.
    pub fn price(&self, region: &str) -> Option<&RegionPrice> {
        self.prices.iter().find(|p| p.region == region)
    }

    /// On-demand USD per hour in `region`.
    pub fn on_demand(&self, region: &str) -> Option<f64> {
        self.price(region).and_then(|p| p.on_demand_usd_hr)
    }

    /// The newest date of any of this type's prices.
    pub fn newest_price_date(&self) -> Option<&str> {
        self.prices.iter().filter_map(|p| p.as_of.as_deref()).max()
    }

    /// True when the on-demand price of `p` is undated or older than the newest dated price
    /// of this type (another region's source is newer).
    pub fn price_is_older(&self, p: &RegionPrice) -> bool {
        match (self.newest_price_date(), p.as_of.as_deref()) {
            (Some(newest), Some(d)) => d < newest,
            (Some(_), None) => p.on_demand_usd_hr.is_some(),
            (None, _) => false,
        }
    }

    /// Sets (or merges) a price for one region; values present in `p` win, and missing ones
    /// keep what was there.
    pub fn merge_price(&mut self, p: RegionPrice) {
        match self.prices.iter_mut().find(|x| x.region == p.region) {
            Some(x) => {
                if p.on_demand_usd_hr.is_some() {
                    x.on_demand_usd_hr = p.on_demand_usd_hr;
                    x.on_demand_source = p.on_demand_source;
                    x.as_of = p.as_of;
                    // A new on-demand price replaces the doubt about the old one.
                    x.note = String::new();
                }
                if p.spot_usd_hr.is_some() {
                    x.spot_usd_hr = p.spot_usd_hr;
                    x.spot_min_usd_hr = p.spot_min_usd_hr;
                    x.spot_source = p.spot_source;
                }
                if !p.note.is_empty() {
                    x.note = p.note;
                }
            }
            None => self.prices.push(p),
        }
        self.prices.sort_by(|a, b| a.region.cmp(&b.region));
    }
}

/// The AWS region codes (AWS documentation, "Regions and Availability Zones", region list as
/// of 2026-12; GovCloud and China included). Region names read from data must be one of these.
pub const AWS_REGIONS: &[&str] = &[
    "af-south-1",
    "ap-east-1",
    "ap-east-2",
    "ap-northeast-1",
    "ap-northeast-2",
    "ap-northeast-3",
    "ap-south-1",
    "ap-south-2",
    "ap-southeast-1",
    "ap-southeast-2",
    "ap-southeast-3",
    "ap-southeast-4",
    "ap-southeast-5",
    "ap-southeast-6",
    "ap-southeast-7",
    "ca-central-1",
    "ca-west-1",
    "cn-north-1",
    "cn-northwest-1",
    "eu-central-1",
    "eu-central-2",
    "eu-north-1",
    "eu-south-1",
    "eu-south-2",
    "eu-west-1",
    "eu-west-2",
    "eu-west-3",
    "il-central-1",
    "me-central-1",
    "me-south-1",
    "mx-central-1",
    "sa-east-1",
    "us-east-1",
    "us-east-2",
    "us-gov-east-1",
    "us-gov-west-1",
    "us-west-1",
    "us-west-2",
];
