//! Managed platforms: the SageMaker instance types (`ml.*`) and the EC2 hardware each runs on,
//! and managed prices (per `ml.*` instance-hour, per region and usage), which come only from a
//! price list of the managed service itself, never from the EC2 price of the same hardware.
//!
//! The embedded catalog has the instance types (`data/catalog/sagemaker_instance_types.csv`,
//! from the SageMaker API's own enums) and no prices: no dated copy of AWS's price list for
//! SageMaker hosting could be found (`data/catalog/SOURCES.md`). A user supplies them in a
//! `prices.csv` (`--prices FILE`, or in `--catalog-dir`), see [`read_managed_row`].

use crate::bounds;
use crate::error::Result;
use crate::instance::date_in;
use crate::table::{Row, Table};
use serde::{Deserialize, Serialize};

/// The managed platform a price is for.
pub const SAGEMAKER: &str = "sagemaker";

/// What a SageMaker instance-hour is bought for: hosting (real-time and asynchronous
/// endpoints, one price) or Batch Transform (its own price list entry).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Usage {
    /// Real-time and asynchronous endpoints.
    Hosting,
    /// Batch Transform jobs.
    BatchTransform,
}

impl Usage {
    /// The `usage` column's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Usage::Hosting => "hosting",
            Usage::BatchTransform => "batch_transform",
        }
    }

    fn parse(s: &str) -> Option<Usage> {
        match s.trim().to_ascii_lowercase().as_str() {
            "hosting" | "real_time" | "realtime" | "async" => Some(Usage::Hosting),
            "batch_transform" | "batch" => Some(Usage::BatchTransform),
            _ => None,
        }
    }
}

/// One SageMaker instance type and the EC2 type whose hardware (GPUs, memory, network) it is.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SageMakerType {
    /// `ml.g6e.xlarge`.
    pub instance_type: String,
    /// `g6e.xlarge`.
    pub ec2_instance_type: String,
    /// Whether endpoints (production variants) run on it.
    pub hosting: bool,
    /// Whether Batch Transform jobs run on it.
    pub batch_transform: bool,
    /// Where the list comes from.
    pub source: String,
}

impl SageMakerType {
    /// Reads a `sagemaker_instance_types.csv` row.
    pub fn from_row(r: &Row<'_>) -> Result<SageMakerType> {
        let instance_type = r.req("instance_type")?.to_owned();
        if !instance_type.starts_with("ml.") {
            return Err(r.error(
                "instance_type",
                format!(
                    "`{instance_type}` is not a SageMaker instance type (they start with `ml.`)"
                ),
            ));
        }
        Ok(SageMakerType {
            instance_type,
            ec2_instance_type: r.req("ec2_instance_type")?.to_owned(),
            hosting: r.bool("hosting")?.unwrap_or(false),
            batch_transform: r.bool("batch_transform")?.unwrap_or(false),
            source: format!(
                "{} (retrieved {})",
                r.req("source")?,
                r.get("retrieved").unwrap_or("undated")
            ),
        })
    }
}

/// A managed price: one `ml.*` instance-hour in one region for one usage.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ManagedPrice {
    /// The managed platform (`sagemaker`).
    pub platform: String,
    /// `ml.g6e.xlarge`.
    pub instance_type: String,
    /// Region code.
    pub region: String,
    /// Hosting (real-time and async) or Batch Transform.
    pub usage: Usage,
    /// On-demand price, USD per instance-hour.
    pub usd_per_hour: f64,
    /// Where it comes from (the price list, or the user's file and line).
    pub source: String,
    /// Date of the price (`YYYY-MM-DD`), when given.
    pub as_of: Option<String>,
}

/// Whether a row of a price file is a managed one: a `platform` of `sagemaker`, or an `ml.`
/// instance type without a platform. A `platform` of `eks` or `ec2` (or none) with another
/// instance type is an EC2 row.
pub fn is_managed_row(r: &Row<'_>) -> Result<bool> {
    let instance = r.get("instance_type").unwrap_or_default();
    let ml = instance.starts_with("ml.");
    match r.get("platform").map(|p| p.trim().to_ascii_lowercase()) {
        None => Ok(ml),
        Some(p) if p == SAGEMAKER => Ok(true),
        Some(p) if p == "eks" || p == "ec2" => {
            if ml {
                Err(r.error(
                    "platform",
                    format!(
                        "`{instance}` is a SageMaker instance type, priced with platform `sagemaker`, not `{p}`"
                    ),
                ))
            } else {
                Ok(false)
            }
        }
        Some(p) => Err(r.error(
            "platform",
            format!("unknown platform `{p}`; expected one of: eks, ec2, sagemaker"),
        )),
    }
}

/// Reads one managed row of a price file:
/// `platform,instance_type,region,on_demand_usd_hr[,usage][,source][,date]`, where `usage` is
/// `hosting` (real-time and async endpoints, the default) or `batch_transform`. A SageMaker
/// instance type starts with `ml.`; it has no spot price; the price is positive.
pub fn read_managed_row(table: &Table, r: &Row<'_>) -> Result<ManagedPrice> {
    let instance_type = r.req("instance_type")?.to_owned();
    if !instance_type.starts_with("ml.") {
        return Err(r.error(
            "instance_type",
            format!(
                "`{instance_type}` is not a SageMaker instance type: they start with `ml.` (`ml.{instance_type}`)"
            ),
        ));
    }
    for spot in ["spot_usd_hr", "spot_usd_hr_min", "spot_usd_hr_median"] {
        if r.get(spot).is_some() {
            return Err(r.error(spot, "SageMaker hosting has no spot price; leave it empty"));
        }
    }
    let price = r.get("on_demand_usd_hr").ok_or_else(|| {
        r.error(
            "on_demand_usd_hr",
            "a SageMaker row needs its on-demand price",
        )
    })?;
    let usd_per_hour = price
        .trim()
        .parse::<f64>()
        .map_err(|_| r.error("on_demand_usd_hr", format!("`{price}` is not a number")))
        .and_then(|v| {
            bounds::USD
                .check(v)
                .map_err(|m| r.error("on_demand_usd_hr", m))
        })?;
    if usd_per_hour <= 0.0 {
        return Err(r.error(
            "on_demand_usd_hr",
            "a price of 0 is not a price: leave the row out and the candidate says it has none",
        ));
    }
    let usage = match r.get("usage") {
        None => Usage::Hosting,
        Some(u) => Usage::parse(u).ok_or_else(|| {
            r.error(
                "usage",
                format!("unknown usage `{u}`; expected one of: hosting, batch_transform"),
            )
        })?,
    };
    let as_of = match r.get("date") {
        Some(d) => Some(
            date_in(d)
                .filter(|x| x == d)
                .ok_or_else(|| r.error("date", format!("`{d}` is not a date (YYYY-MM-DD)")))?,
        ),
        None => None,
    };
    Ok(ManagedPrice {
        platform: SAGEMAKER.to_owned(),
        instance_type,
        region: r.req("region")?.to_owned(),
        usage,
        usd_per_hour,
        source: r
            .get("source")
            .map_or_else(|| format!("{}:{}", table.origin(), r.line()), str::to_owned),
        as_of,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(text: &str) -> Vec<Result<Option<ManagedPrice>>> {
        let t = Table::parse(text, "prices.csv").unwrap();
        t.rows()
            .map(|r| {
                if is_managed_row(&r)? {
                    read_managed_row(&t, &r).map(Some)
                } else {
                    Ok(None)
                }
            })
            .collect()
    }

    #[test]
    fn managed_rows_are_told_by_platform_or_prefix() {
        let out = rows(
            "platform,instance_type,region,on_demand_usd_hr,usage,date\n\
             sagemaker,ml.g6.xlarge,us-east-1,1.5,hosting,2026-12-01\n\
             ,ml.g6.xlarge,us-east-1,1.2,batch_transform,\n\
             eks,g6.xlarge,us-east-1,0.8,,\n",
        );
        let a = out[0].as_ref().unwrap().as_ref().unwrap();
        assert_eq!((a.usage, a.usd_per_hour), (Usage::Hosting, 1.5));
        assert_eq!(a.as_of.as_deref(), Some("2026-12-01"));
        let b = out[1].as_ref().unwrap().as_ref().unwrap();
        assert_eq!(b.usage, Usage::BatchTransform);
        assert_eq!(b.source, "prices.csv:3");
        assert!(out[2].as_ref().unwrap().is_none());
    }

    #[test]
    fn bad_managed_rows_name_file_line_and_field() {
        for (row, field) in [
            ("eks,ml.g6.xlarge,us-east-1,1.5,", "platform"),
            ("gke,g6.xlarge,us-east-1,1.5,", "platform"),
            ("sagemaker,g6.xlarge,us-east-1,1.5,", "instance_type"),
            ("sagemaker,ml.g6.xlarge,us-east-1,0,", "on_demand_usd_hr"),
            (
                "sagemaker,ml.g6.xlarge,us-east-1,cheap,",
                "on_demand_usd_hr",
            ),
            ("sagemaker,ml.g6.xlarge,us-east-1,,", "on_demand_usd_hr"),
            ("sagemaker,ml.g6.xlarge,us-east-1,1.5,spot", "usage"),
        ] {
            let text = format!("platform,instance_type,region,on_demand_usd_hr,usage\n{row}\n");
            let e = rows(&text)[0].as_ref().unwrap_err().to_string();
            assert!(
                e.starts_with("prices.csv:2") && e.contains(&format!("`{field}`")),
                "{row}: {e}"
            );
        }
    }
}
