//! Price files: per-region on-demand and spot prices, and the SkyPilot `vms.csv` importer.

use crate::error::{CatalogError, Result};
use crate::instance::{date_in, RegionPrice};
use crate::managed::{self, ManagedPrice};
use crate::stats::median_sorted;
use crate::table::Table;
use std::collections::BTreeMap;

/// One price row, keyed by instance type.
#[derive(Debug, Clone, PartialEq)]
pub struct PriceRow {
    /// Instance type.
    pub instance_type: String,
    /// The price.
    pub price: RegionPrice,
}

/// Reads a per-region price file: the columns of `aws_gpu_prices_by_region.csv`
/// (`instance_type,region,on_demand_usd_hr,spot_usd_hr_min,spot_usd_hr_median,source`), or the
/// short user form `instance_type,region,on_demand_usd_hr[,spot_usd_hr][,source][,date]`.
/// `date` (`YYYY-MM-DD`) is the date of the price; without it the price is undated. Managed
/// rows (`platform = sagemaker`, or an `ml.` instance type) are left to [`read_prices`].
pub fn read_region_prices(table: &Table) -> Result<Vec<PriceRow>> {
    table.require(&["instance_type", "region"])?;
    if !table.has("on_demand_usd_hr")
        && !table.has("spot_usd_hr")
        && !table.has("spot_usd_hr_median")
    {
        return Err(CatalogError::invalid(
            table.origin(),
            Some(1),
            Some("on_demand_usd_hr"),
            "a price file needs an on_demand_usd_hr or spot_usd_hr column",
        ));
    }
    let mut out = Vec::with_capacity(table.len());
    for r in table.rows() {
        if managed::is_managed_row(&r)? {
            continue;
        }
        let source = r.get("source").unwrap_or(table.origin()).to_owned();
        let as_of = match r.get("date") {
            Some(d) => Some(
                date_in(d)
                    .filter(|x| x == d)
                    .ok_or_else(|| r.error("date", format!("`{d}` is not a date (YYYY-MM-DD)")))?,
            ),
            None => None,
        };
        let spot = match r.f64("spot_usd_hr_median")? {
            Some(s) => Some(s),
            None => r.f64("spot_usd_hr")?,
        };
        out.push(PriceRow {
            instance_type: r.req("instance_type")?.to_owned(),
            price: RegionPrice {
                region: r.req("region")?.to_owned(),
                on_demand_usd_hr: r.f64("on_demand_usd_hr")?,
                spot_usd_hr: spot,
                spot_min_usd_hr: r.f64("spot_usd_hr_min")?.or(spot),
                on_demand_source: source.clone(),
                spot_source: source,
                as_of,
                note: String::new(),
            },
        });
    }
    Ok(out)
}

/// Reads a user's `prices.csv`: its EC2 rows ([`read_region_prices`]) and its managed rows
/// (`platform = sagemaker` or an `ml.` instance type, [`managed::read_managed_row`]).
pub fn read_prices(table: &Table) -> Result<(Vec<PriceRow>, Vec<ManagedPrice>)> {
    let ec2 = read_region_prices(table)?;
    let mut managed = Vec::new();
    for r in table.rows() {
        if managed::is_managed_row(&r)? {
            managed.push(managed::read_managed_row(table, &r)?);
        }
    }
    Ok((ec2, managed))
}

/// Reads a SkyPilot-style `vms.csv` (one row per instance type and availability zone, columns
/// `InstanceType,...,Price,SpotPrice,Region,AvailabilityZone`) and reduces it to one price per
/// instance type and region: the on-demand price, and the median and minimum spot price over
/// the zones that have one.
pub fn read_vms_csv(table: &Table) -> Result<Vec<PriceRow>> {
    table.require(&["InstanceType", "Price", "SpotPrice", "Region"])?;
    #[derive(Default)]
    struct Acc {
        on_demand: Option<f64>,
        spots: Vec<f64>,
    }
    let mut acc: BTreeMap<(String, String), Acc> = BTreeMap::new();
    for r in table.rows() {
        let key = (
            r.req("InstanceType")?.to_owned(),
            r.req("Region")?.to_owned(),
        );
        let a = acc.entry(key).or_default();
        if let Some(p) = r.f64("Price")? {
            a.on_demand = Some(a.on_demand.map_or(p, |x: f64| x.max(p)));
        }
        if let Some(s) = r.f64("SpotPrice")? {
            a.spots.push(s);
        }
    }
    let source = format!("{} (SkyPilot vms.csv)", table.origin());
    Ok(acc
        .into_iter()
        .map(|((instance_type, region), mut a)| {
            a.spots.sort_by(f64::total_cmp);
            let median = median_sorted(&a.spots);
            PriceRow {
                instance_type,
                price: RegionPrice {
                    region,
                    on_demand_usd_hr: a.on_demand,
                    spot_usd_hr: median,
                    spot_min_usd_hr: a.spots.first().copied(),
                    on_demand_source: source.clone(),
                    spot_source: source.clone(),
                    as_of: None,
                    note: String::new(),
                },
            }
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vms_aggregates_zones() {
        let text = "InstanceType,AcceleratorName,AcceleratorCount,vCPUs,MemoryGiB,GpuInfo,Price,SpotPrice,Region,AvailabilityZone\n\
g6.xlarge,L4,1.0,4.0,16.0,x,0.8048,0.30,us-east-1,use1-az1\n\
g6.xlarge,L4,1.0,4.0,16.0,x,0.8048,0.40,us-east-1,use1-az2\n\
g6.xlarge,L4,1.0,4.0,16.0,x,0.8048,,us-east-1,use1-az4\n\
g6.xlarge,L4,1.0,4.0,16.0,x,0.9,0.5,eu-west-1,euw1-az1\n";
        let t = Table::parse(text, "vms.csv").unwrap();
        let rows = read_vms_csv(&t).unwrap();
        assert_eq!(rows.len(), 2);
        let e = &rows[0].price;
        assert_eq!(e.region, "eu-west-1");
        let u = &rows[1].price;
        assert_eq!(u.on_demand_usd_hr, Some(0.8048));
        assert!((u.spot_usd_hr.unwrap() - 0.35).abs() < 1e-12);
        assert_eq!(u.spot_min_usd_hr, Some(0.30));
    }

    #[test]
    fn vms_needs_its_columns() {
        let t = Table::parse("InstanceType,Price\nx,1\n", "vms.csv").unwrap();
        let e = read_vms_csv(&t).unwrap_err().to_string();
        assert!(e.contains("vms.csv") && e.contains("SpotPrice"), "{e}");
    }
}
