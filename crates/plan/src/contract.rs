//! The plan JSON: what `inferplan plan --format json` writes and `inferplan render --plan`
//! reads, as one set of types that derive both `Serialize` and `Deserialize`, so writer and
//! reader cannot drift apart.
//!
//! Type hierarchy:
//!
//! - [`PlanJson`]: the whole answer. [`PlanJson::new`] builds it from a [`Plan`] (its first
//!   `top` options); `plan --verify` sets [`PlanJson::verified`].
//!   - [`Workload`]: the workload planned, with defaults filled in (the planner's own type).
//!   - [`CandidateJson`]: one option, the owned form of a [`Candidate`] (built by
//!     destructuring it, so a new field of `Candidate` does not compile until it is here).
//!     - [`PurchaseMix`]: how its capacity is bought (the planner's own type).
//!     - [`FindingJson`]: one finding, the owned form of a [`Finding`].
//!   - [`RejectionJson`]: a near miss, the owned form of a [`Rejection`].
//!   - [`EndpointAdvice`]: the serving pattern (the planner's own type).
//!   - [`Verified`]: a candidate simulated by `plan --verify` (`inferplan_sim::verify` makes
//!     them).
//!   - [`MultiModel`]: the patterns for many models, priced (absent for one model).
//!
//! Every field is written, and read back; only `verified` is absent when nothing was
//! simulated, and `multi_model` for a single model. `docs/plan.md` lists the keys.

use crate::candidate::{no_price_null, Candidate, PurchaseMix};
use crate::diagnostic::Severity;
use crate::endpoint::EndpointAdvice;
use crate::findings::Finding;
use crate::managed::SageMakerOption;
use crate::multimodel::MultiModel;
use crate::nothing::NothingQualified;
use crate::search::{PassedOver, Plan, Rejection};
use crate::workload::Platform;
use crate::workload::Workload;
use inferplan_catalog::Dtype;
use inferplan_perf::Engine;
use inferplan_serving::checkpoint::ServedCheckpoint;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The JSON answer of `inferplan plan` for an LLM workload.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlanJson {
    /// The workload, with defaults filled in.
    pub workload: Workload,
    /// Catalog model planned for.
    pub model: String,
    /// Configurations considered (instance × layout × precision × engine).
    pub considered: usize,
    /// The first options, cheapest first ([`Plan::options`]).
    pub candidates: Vec<CandidateJson>,
    /// Rejected configurations by reason.
    pub rejected: BTreeMap<String, usize>,
    /// The SLO misses closest to feasible (when nothing meets the SLOs), best first.
    pub nearest_misses: Vec<RejectionJson>,
    /// The serving pattern that fits the workload.
    pub endpoint: EndpointAdvice,
    /// Cheaper multi-node options ranked below a near-tie on fewer nodes, with why.
    #[serde(default)]
    pub passed_over: Vec<PassedOver>,
    /// The candidates simulated by `plan --verify`, best first; absent without it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verified: Option<Vec<Verified>>,
    /// For many models (`traffic.models` > 1): the five ways to serve them, priced
    /// ([`crate::multimodel::compare`]); absent for one model.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub multi_model: Option<MultiModel>,
    /// Why nothing qualified (the causes by count, the change that yields candidates); only
    /// when there are no candidates.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub why_nothing: Option<NothingQualified>,
}

impl PlanJson {
    /// The first `top` options of a plan (at least one, when it has any), not verified.
    pub fn new(p: &Plan, top: usize) -> PlanJson {
        PlanJson {
            workload: p.workload.clone(),
            model: p.model.clone(),
            considered: p.considered,
            candidates: p.shown(top).into_iter().map(CandidateJson::from).collect(),
            rejected: p
                .rejected
                .iter()
                .map(|(reason, n)| ((*reason).to_owned(), *n))
                .collect(),
            nearest_misses: p.nearest_misses.iter().map(RejectionJson::from).collect(),
            endpoint: p.endpoint.clone(),
            passed_over: p.passed_over_shown(top),
            verified: None,
            multi_model: None,
            why_nothing: None,
        }
    }
}

/// One option of the plan: a [`Candidate`] with owned findings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CandidateJson {
    /// Its place among the plan's options, cheapest first (1-based): the table's `#`, what
    /// `render --candidate` asks for. 0 (absent) in plans written before it: then the
    /// candidate's position in `candidates` is its number.
    #[serde(default)]
    pub rank: usize,
    /// Where it runs: `eks` or `sagemaker` (plans written before there was a choice read as
    /// `eks`).
    #[serde(default)]
    pub platform: Platform,
    /// Instance type whose hardware runs it (a SageMaker candidate's `ml.*` type is
    /// `sagemaker.instance_type`).
    pub instance: String,
    /// Instance family (`g6e`, `p5`, ...).
    pub family: String,
    /// Region of the price.
    pub region: String,
    /// GPU of the instance.
    pub gpu: String,
    /// GPUs of one instance.
    pub gpus_per_instance: u32,
    /// GPUs of one replica (`tp × pp`).
    pub gpus_per_replica: u32,
    /// Tensor-parallel degree.
    pub tp: u32,
    /// Pipeline-parallel degree (> 1 only across nodes).
    pub pp: u32,
    /// Weight format.
    pub precision: Dtype,
    /// KV-cache format.
    pub kv_dtype: Dtype,
    /// Serving engine.
    pub engine: Engine,
    /// Replicas needed at the peak (including the N+1 spare when asked).
    pub replicas: u32,
    /// Replicas that share one instance.
    pub replicas_per_instance: u32,
    /// Instances at the peak.
    pub instances: u32,
    /// Highest request rate one replica sustains within the SLOs, requests/s.
    pub max_rps_per_replica: f64,
    /// TTFT p99 at the peak load per replica, ms.
    pub ttft_p99_ms: f64,
    /// TPOT p99 at the peak load per replica, ms.
    pub tpot_p99_ms: f64,
    /// End-to-end p99 at the peak load per replica, ms.
    pub e2e_p99_ms: f64,
    /// Cost per hour at the purchase mix (mean over the day); `null` when the candidate has
    /// no price (`sagemaker.no_price` says why).
    #[serde(with = "no_price_null")]
    pub usd_per_hour: f64,
    /// Cost of a million generated tokens at the mean rate (`null` without a price).
    #[serde(with = "no_price_null")]
    pub usd_per_million_output_tokens: f64,
    /// Cost of a million prompt + generated tokens at the mean rate (`null` without a price).
    #[serde(with = "no_price_null")]
    pub usd_per_million_total_tokens: f64,
    /// Mean rate over the capacity bought at the peak.
    pub utilization: f64,
    /// How to buy it.
    pub purchase_mix: PurchaseMix,
    /// Smallest ratio of an SLO limit to the predicted value (1 = at the limit).
    pub slo_headroom: f64,
    /// Checkpoint served (`hf_id`, `format`, `download_bytes`, ...); `null` when the catalog
    /// lists none for the model (checkpoint unknown).
    pub checkpoint: Option<ServedCheckpoint>,
    /// Weights of the whole model, GiB.
    pub weights_gib: f64,
    /// Things to know.
    pub findings: Vec<FindingJson>,
    /// A SageMaker candidate's endpoint ([`SageMakerOption`]); `null` on EKS.
    #[serde(default)]
    pub sagemaker: Option<SageMakerOption>,
    /// On a Neuron chip, the batch the graphs are compiled for, chosen for the SLOs (render's
    /// `--max-num-seqs`); absent on GPUs and in plans written before it (render then compiles
    /// the batch the KV cache holds).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_num_seqs: Option<u64>,
}

impl From<&Candidate> for CandidateJson {
    fn from(c: &Candidate) -> CandidateJson {
        let Candidate {
            rank,
            platform,
            instance,
            family,
            region,
            gpu,
            accelerator: _,
            gpus_per_instance,
            gpus_per_replica,
            tp,
            pp,
            precision,
            kv_dtype,
            engine,
            replicas,
            replicas_per_instance,
            instances,
            max_rps_per_replica,
            ttft_p99_ms,
            tpot_p99_ms,
            e2e_p99_ms,
            usd_per_hour,
            usd_per_million_output_tokens,
            usd_per_million_total_tokens,
            utilization,
            purchase_mix,
            slo_headroom,
            checkpoint,
            weights_gib,
            findings,
            sagemaker,
            max_num_seqs,
        } = c;
        CandidateJson {
            rank: *rank,
            platform: *platform,
            instance: instance.clone(),
            family: family.clone(),
            region: region.clone(),
            gpu: gpu.clone(),
            gpus_per_instance: *gpus_per_instance,
            gpus_per_replica: *gpus_per_replica,
            tp: *tp,
            pp: *pp,
            precision: *precision,
            kv_dtype: *kv_dtype,
            engine: *engine,
            replicas: *replicas,
            replicas_per_instance: *replicas_per_instance,
            instances: *instances,
            max_rps_per_replica: *max_rps_per_replica,
            ttft_p99_ms: *ttft_p99_ms,
            tpot_p99_ms: *tpot_p99_ms,
            e2e_p99_ms: *e2e_p99_ms,
            usd_per_hour: *usd_per_hour,
            usd_per_million_output_tokens: *usd_per_million_output_tokens,
            usd_per_million_total_tokens: *usd_per_million_total_tokens,
            utilization: *utilization,
            purchase_mix: purchase_mix.clone(),
            slo_headroom: *slo_headroom,
            checkpoint: checkpoint.clone(),
            weights_gib: *weights_gib,
            findings: findings.iter().map(FindingJson::from).collect(),
            sagemaker: sagemaker.clone(),
            max_num_seqs: *max_num_seqs,
        }
    }
}

/// One finding of a candidate: a [`Finding`] with owned strings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FindingJson {
    /// Stable code, `IP105`.
    pub code: String,
    /// Stable kebab-case name, `cold-start-over-budget`.
    pub name: String,
    /// How much it matters.
    pub severity: Severity,
    /// What was found, with the numbers, and what to do.
    pub message: String,
    /// Where the rule is explained (`docs/findings.md#...`).
    pub docs: String,
}

impl From<&Finding> for FindingJson {
    fn from(f: &Finding) -> FindingJson {
        let Finding {
            code,
            name,
            severity,
            location: (),
            message,
            docs,
        } = f;
        FindingJson {
            code: (*code).to_owned(),
            name: (*name).to_owned(),
            severity: *severity,
            message: message.clone(),
            docs: (*docs).to_owned(),
        }
    }
}

/// A configuration that was not kept: a [`Rejection`] with an owned reason.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RejectionJson {
    /// Instance type.
    pub instance: String,
    /// Tensor × pipeline layout, precision and engine, e.g. `tp4 fp8 vllm`.
    pub setup: String,
    /// Reason code (a key of [`PlanJson::rejected`]).
    pub reason: String,
    /// Details with numbers.
    pub detail: String,
    /// For SLO misses: the smallest ratio of predicted value to limit at the lightest load.
    pub miss: Option<f64>,
}

impl From<&Rejection> for RejectionJson {
    fn from(r: &Rejection) -> RejectionJson {
        let Rejection {
            instance,
            setup,
            reason,
            detail,
            miss,
        } = r;
        RejectionJson {
            instance: instance.clone(),
            setup: setup.clone(),
            reason: (*reason).to_owned(),
            detail: detail.clone(),
            miss: *miss,
        }
    }
}

/// One candidate simulated by `plan --verify`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Verified {
    /// Index of the candidate in the plan's candidates.
    pub candidate: usize,
    /// Share of requests within every SLO in the simulation.
    pub slo_attainment: f64,
    /// The share the SLO percentile asks for (0.99 for p99 limits).
    pub required: f64,
    /// Simulated TTFT p99, ms.
    pub ttft_p99_ms: f64,
    /// Simulated TPOT p99, ms.
    pub tpot_p99_ms: f64,
    /// Whether the simulation keeps the SLOs at their percentile (every limit met by at
    /// least that share of the requests) with the plan's replicas.
    pub passes: bool,
    /// Requests simulated.
    pub requests: u64,
    /// The rate simulated, requests/s: the peak; for a batch job the requests of one run over
    /// its window after the cold start, which its replicas must keep up with (a batch job
    /// passes when they answer the simulated requests as fast as they arrive).
    #[serde(default)]
    pub rate_rps: f64,
    /// Replicas serving the peak in the plan (the N+1 spares left out), as simulated above.
    #[serde(default)]
    pub analytic_replicas: u32,
    /// The fewest serving replicas that keep the SLOs at their percentile in simulation,
    /// searched down as well as up from the plan's; `None` when even twice the plan's
    /// replicas (plus two) do not.
    #[serde(default)]
    pub simulated_replicas: Option<u32>,
    /// Share of requests within every SLO with `simulated_replicas`.
    #[serde(default)]
    pub simulated_slo_attainment: Option<f64>,
    /// The plan's cost, $/hour.
    #[serde(default)]
    pub analytic_usd_per_hour: f64,
    /// The cost with `simulated_replicas` serving the peak (spares and purchase mix as the
    /// plan's), $/hour.
    #[serde(default)]
    pub simulated_usd_per_hour: Option<f64>,
    /// The day: 24 hours of the workload's profile through the autoscaling `render` writes
    /// for this option, on nodes as Karpenter provides them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub day: Option<DayVerified>,
    /// Why the day was not simulated (it would serve more requests than
    /// `--max-sim-requests`), when it was not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub day_skipped: Option<String>,
}

/// One hour of `plan --verify`'s day.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DayHour {
    /// Hour of the day (UTC, the profile's hour).
    pub hour: u32,
    /// Requests that arrived in it and were answered.
    pub requests: u64,
    /// Share of them within every SLO (`None` without an SLO or requests).
    pub slo_attainment: Option<f64>,
    /// Most replicas at once.
    pub replicas_max: u32,
    /// Most nodes at once.
    pub nodes_max: u32,
    /// Replicas the analytic plan sizes for this hour.
    pub planned_replicas: u32,
}

/// `plan --verify`'s day of one option.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DayVerified {
    /// The ScaledObject simulated: fewest and most replicas, in-flight and queue targets
    /// per replica.
    pub min_replicas: u32,
    /// Most replicas.
    pub max_replicas: u32,
    /// In-flight target per replica.
    pub target_in_flight: u32,
    /// Queue target per replica.
    pub target_queue: u32,
    /// Seconds from a pending pod to a node that can start it, and from there to ready.
    pub node_start_s: f64,
    /// A replica's start on a running node (image, weights, engine), seconds.
    pub pod_start_s: f64,
    /// Requests simulated.
    pub requests: u64,
    /// Share of the day's requests within every SLO (`None` without an SLO).
    pub slo_attainment: Option<f64>,
    /// Per hour.
    pub hours: Vec<DayHour>,
    /// Hours whose attainment is below what the SLO percentile asks.
    pub failing_hours: Vec<u32>,
    /// Changes of the replica count.
    pub scale_events: u64,
    /// Of them, reversals of direction.
    pub scale_reversals: u64,
    /// Node-hours simulated.
    pub node_hours: f64,
    /// Instance-hours the analytic plan bills for the day.
    pub planned_node_hours: f64,
    /// Cost of the simulated node-hours at the on-demand price, USD.
    pub cost_usd: f64,
    /// What would make the failing hours pass, when some fail.
    pub fix: Option<String>,
    /// A batch job's run, simulated from its opening; absent for other work.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub batch: Option<BatchDay>,
}

/// A batch job's run in `plan --verify`'s day: the rendered `cron` trigger's hours and
/// replicas, when the last request was answered, and the share answered within the window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BatchDay {
    /// The `cron` trigger's start, UTC (`22:00`): the window's opening.
    pub run_start_utc: String,
    /// Its end, UTC: the opening plus the hours the plan bills each instance.
    pub run_end_utc: String,
    /// Replicas it asks for.
    pub replicas: u32,
    /// Hours from the opening to the last answer, simulated.
    pub finish_hours: f64,
    /// The plan's finish at p99, hours from the opening.
    pub planned_finish_p99_hours: f64,
    /// The window, hours from the opening.
    pub window_hours: f64,
    /// Share of the day's requests answered within the window.
    pub answered_in_window: f64,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::search::{plan, Inputs};
    use inferplan_catalog::Catalog;
    use inferplan_perf::{EfficiencyTable, MemoryParams};

    fn plan_of(toml: &str) -> Plan {
        let w = Workload::from_toml(toml, "test").unwrap();
        w.validate().unwrap();
        plan(
            &Inputs {
                catalog: &Catalog::embedded().unwrap(),
                efficiency: &EfficiencyTable::embedded().unwrap(),
                memory: &MemoryParams::embedded().unwrap(),
            },
            &w,
        )
        .unwrap()
    }

    /// Written, read back and written again, a plan gives the same bytes: a plan with
    /// candidates, findings and simulated candidates, and one with only near misses.
    #[test]
    fn the_plan_json_round_trips_byte_for_byte() {
        let example = include_str!("../../../examples/chat-70b-fp8.toml");
        let infeasible = example.replace("ttft_ms = 500.0", "ttft_ms = 1.0");
        let verified = vec![Verified {
            candidate: 1,
            slo_attainment: 0.987_654_321,
            required: 0.99,
            ttft_p99_ms: 412.5,
            tpot_p99_ms: 31.25,
            passes: false,
            requests: 3000,
            rate_rps: 12.5,
            analytic_replicas: 3,
            simulated_replicas: Some(4),
            simulated_slo_attainment: Some(0.995),
            analytic_usd_per_hour: 118.34,
            simulated_usd_per_hour: Some(141.25),
            day: Some(DayVerified {
                min_replicas: 2,
                max_replicas: 4,
                target_in_flight: 20,
                target_queue: 5,
                node_start_s: 70.0,
                pod_start_s: 101.5,
                requests: 431_852,
                slo_attainment: Some(0.998),
                hours: vec![DayHour {
                    hour: 13,
                    requests: 30_218,
                    slo_attainment: Some(0.9975),
                    replicas_max: 3,
                    nodes_max: 3,
                    planned_replicas: 3,
                }],
                failing_hours: vec![],
                scale_events: 14,
                scale_reversals: 13,
                node_hours: 50.4,
                planned_node_hours: 52.0,
                cost_usd: 2775.49,
                fix: None,
                batch: None,
            }),
            day_skipped: None,
        }];
        for (text, verified) in [(example, Some(verified)), (&infeasible, None)] {
            let p = plan_of(text);
            let json = PlanJson {
                verified,
                ..PlanJson::new(&p, 10)
            };
            let written = serde_json::to_string_pretty(&json).unwrap();
            let read: PlanJson = serde_json::from_str(&written).unwrap();
            assert_eq!(read, json);
            assert_eq!(serde_json::to_string_pretty(&read).unwrap(), written);
            if p.candidates.is_empty() {
                assert!(read.nearest_misses.iter().any(|m| m.miss.is_some()));
            } else {
                assert!(read.candidates.iter().any(|c| !c.findings.is_empty()));
                assert!(written.contains("\"verified\""));
            }
        }
    }

    /// The contract writes what the planner's own types write, key for key.
    #[test]
    fn a_candidate_is_written_as_the_planner_writes_it() {
        let p = plan_of(include_str!("../../../examples/chat-70b-fp8.toml"));
        let c = &p.candidates[0];
        assert_eq!(
            serde_json::to_string(&CandidateJson::from(c)).unwrap(),
            serde_json::to_string(c).unwrap()
        );
        let json = PlanJson::new(&p, 1);
        assert!(!json.rejected.is_empty());
        assert_eq!(
            serde_json::to_string(&json.rejected).unwrap(),
            serde_json::to_string(&p.rejected).unwrap()
        );
    }
}
