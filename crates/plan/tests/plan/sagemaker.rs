//! The SageMaker candidates: the same replica as an EKS one on the `ml.*` twin of its
//! instance, priced only from a managed price, shown without one otherwise, and ranked after
//! every priced option.

use crate::planner::inputs;
use inferplan_catalog::{Catalog, ManagedPrice, Usage};
use inferplan_plan::contract::PlanJson;
use inferplan_plan::workload::Platform;
use inferplan_plan::{plan, Candidate, Inputs, Plan, Workload};
use inferplan_serving::sagemaker::EndpointType;
use proptest::prelude::*;

fn example(name: &str) -> Workload {
    Workload::load(&crate::support::example(name)).unwrap()
}

/// The fraud-scoring example over two families (a quicker search).
fn fraud() -> Workload {
    let mut w = example("fraud-scoring-small.toml");
    w.constraints.instance_families = vec!["g6e".to_owned(), "g7e".to_owned()];
    w
}

fn plan_with(catalog: &Catalog, w: &Workload) -> Plan {
    let i = inputs();
    plan(
        &Inputs {
            catalog,
            efficiency: i.efficiency,
            memory: i.memory,
        },
        w,
    )
    .unwrap()
}

fn managed(c: &Candidate) -> &inferplan_plan::sagemaker::SageMakerOption {
    c.sagemaker.as_ref().expect("a SageMaker candidate")
}

fn hosting(instance: &str, usd: f64) -> ManagedPrice {
    ManagedPrice {
        platform: "sagemaker".to_owned(),
        instance_type: instance.to_owned(),
        region: "us-east-1".to_owned(),
        usage: Usage::Hosting,
        usd_per_hour: usd,
        source: "test".to_owned(),
        as_of: None,
    }
}

#[test]
fn the_json_says_the_platform_of_every_candidate() {
    let p = plan_with(inputs().catalog, &fraud());
    let json = serde_json::to_value(PlanJson::new(&p, 2)).unwrap();
    let candidates = json["candidates"].as_array().unwrap();
    let platforms: Vec<&str> = candidates
        .iter()
        .map(|c| c["platform"].as_str().expect("platform is written"))
        .collect();
    assert!(
        platforms.contains(&"eks") && platforms.contains(&"sagemaker"),
        "{platforms:?}"
    );
    for c in candidates {
        match c["platform"].as_str().unwrap() {
            "eks" => assert!(c["sagemaker"].is_null()),
            _ => {
                let m = &c["sagemaker"];
                assert!(m["instance_type"].as_str().unwrap().starts_with("ml."));
                assert_eq!(
                    m["instance_type"].as_str().unwrap(),
                    format!("ml.{}", c["instance"].as_str().unwrap())
                );
                assert_eq!(m["endpoint"], "real_time");
                assert_eq!(m["container"], "LMI V18 (vLLM)");
            }
        }
    }
    // Read back, a plan with unpriced candidates writes the same bytes.
    let text = serde_json::to_string(&PlanJson::new(&p, 2)).unwrap();
    let read: PlanJson = serde_json::from_str(&text).unwrap();
    assert_eq!(serde_json::to_string(&read).unwrap(), text);
}

#[test]
fn without_a_managed_price_a_sagemaker_candidate_says_why_and_ranks_last() {
    let p = plan_with(inputs().catalog, &fraud());
    let sm: Vec<&Candidate> = p
        .candidates
        .iter()
        .filter(|c| c.platform == Platform::Sagemaker)
        .collect();
    assert!(!sm.is_empty());
    for c in &sm {
        // The EC2 twin has a price; the SageMaker candidate never takes it.
        assert!(inputs()
            .catalog
            .instance(&c.instance)
            .unwrap()
            .on_demand("us-east-1")
            .is_some());
        assert!(!c.priced() && c.usd_per_hour.is_infinite());
        let why = managed(c).no_price.as_deref().expect("a reason");
        assert!(
            why.contains("no hosting price") && why.contains("--prices"),
            "{why}"
        );
        assert!(managed(c).price.is_none());
        let json = serde_json::to_value(c).unwrap();
        assert!(json["usd_per_hour"].is_null() && json["purchase_mix"]["usd_per_hour"].is_null());
    }
    let first_unpriced = p.candidates.iter().position(|c| !c.priced()).unwrap();
    assert!(p.candidates[first_unpriced..].iter().all(|c| !c.priced()));
    assert!(p.candidates[..first_unpriced].iter().all(Candidate::priced));
}

#[test]
fn a_managed_price_prices_the_sagemaker_candidate_and_nothing_else() {
    let mut catalog = inputs().catalog.clone();
    catalog.merge_managed_prices(vec![hosting("ml.g6e.xlarge", 3.0)]);
    let p = plan_with(&catalog, &fraud());
    let c = p
        .candidates
        .iter()
        .find(|c| c.platform == Platform::Sagemaker && c.instance == "g6e.xlarge")
        .unwrap();
    let m = managed(c);
    assert_eq!(m.price.as_ref().unwrap().usd_per_hour, 3.0);
    let hours = c.purchase_mix.billed_instance_hours_per_day;
    assert!((c.usd_per_hour - hours / 24.0 * 3.0).abs() < 1e-9);
    // All on demand, no spot and no savings plan on SageMaker.
    assert_eq!(
        c.purchase_mix.savings_plan_instances + c.purchase_mix.spot_instances,
        0
    );
    // Changing the EC2 price of the same hardware changes the EKS twin, not this.
    let mut dearer = catalog.clone();
    let mut ec2 = dearer
        .instance("g6e.xlarge")
        .unwrap()
        .price("us-east-1")
        .unwrap()
        .clone();
    ec2.on_demand_usd_hr = ec2.on_demand_usd_hr.map(|p| p * 3.0);
    dearer.merge_user_prices(vec![inferplan_catalog::prices::PriceRow {
        instance_type: "g6e.xlarge".to_owned(),
        price: ec2,
    }]);
    let q = plan_with(&dearer, &fraud());
    let find = |p: &Plan, platform| {
        p.candidates
            .iter()
            .find(|c| c.platform == platform && c.instance == "g6e.xlarge" && c.tp == 1)
            .map(|c| c.usd_per_hour)
            .unwrap()
    };
    assert_eq!(find(&q, Platform::Sagemaker), find(&p, Platform::Sagemaker));
    assert!(find(&q, Platform::Eks) > find(&p, Platform::Eks));
    // Other ml types stay unpriced.
    assert!(p
        .candidates
        .iter()
        .filter(|c| c.platform == Platform::Sagemaker && c.instance != "g6e.xlarge")
        .all(|c| !c.priced()));
}

#[test]
fn sagemaker_candidates_follow_the_endpoint_advice_and_the_limits() {
    let mut w = example("async-documents.toml");
    w.constraints.platforms = vec![Platform::Sagemaker];
    let p = plan_with(inputs().catalog, &w);
    assert!(!p.candidates.is_empty());
    for c in &p.candidates {
        let m = managed(c);
        assert_eq!(m.endpoint, EndpointType::Async);
        assert_eq!(m.usage, Usage::Hosting);
        // One model copy per instance, inside one instance.
        assert_eq!((c.replicas_per_instance, c.pp), (1, 1));
        assert!(m.startup_budget_s <= 3600);
        assert!(m.cold_start_s > m.startup_budget_s as f64 / 1.25);
        assert!(m
            .limits
            .iter()
            .any(|l| l.limit.contains("asynchronous processing")));
    }
    // A batch workload becomes Batch Transform, only on types it runs on (no ml.p5).
    let mut b = example("fraud-scoring-small.toml");
    b.slo.mode = inferplan_plan::workload::Mode::Batch;
    b.slo.e2e_ms = None;
    b.traffic.peak_rps = None;
    b.constraints.platforms = vec![Platform::Sagemaker];
    b.constraints.instance_families = vec!["g6e".to_owned(), "p5".to_owned()];
    let p = plan_with(inputs().catalog, &b);
    assert!(!p.candidates.is_empty());
    for c in &p.candidates {
        assert_eq!(managed(c).endpoint, EndpointType::BatchTransform);
        assert_eq!(managed(c).usage, Usage::BatchTransform);
        assert!(c.purchase_mix.batch_job.is_some());
        assert_eq!(c.family, "g6e");
    }
    assert!(p
        .rejections
        .iter()
        .any(|r| r.instance.starts_with("p5") && r.reason == "sagemaker_no_instance_type"));
}

#[test]
fn eks_operations_cost_is_added_to_eks_options_only() {
    let base = plan_with(inputs().catalog, &fraud());
    let mut w = fraud();
    w.constraints.eks_operations_usd_per_hour = 5.0;
    let ops = plan_with(inputs().catalog, &w);
    for c in ops
        .candidates
        .iter()
        .filter(|c| c.platform == Platform::Eks)
    {
        let b = base
            .candidates
            .iter()
            .find(|b| b.platform == Platform::Eks && b.instance == c.instance && b.tp == c.tp)
            .unwrap();
        assert!((c.usd_per_hour - b.usd_per_hour - 5.0).abs() < 1e-9);
        assert!(c
            .purchase_mix
            .assumptions
            .iter()
            .any(|a| a.contains("EKS operations")));
    }
    w.constraints.eks_operations_usd_per_hour = -1.0;
    assert!(w
        .validate()
        .unwrap_err()
        .to_string()
        .contains("eks_operations_usd_per_hour"));
    w.constraints.eks_operations_usd_per_hour = 0.0;
    w.constraints.platforms.clear();
    assert!(w
        .validate()
        .unwrap_err()
        .to_string()
        .contains("constraints.platforms"));
}

/// The key of a candidate, to compare plans.
fn key(c: &Candidate) -> String {
    format!(
        "{} {} tp{} pp{} {} {}",
        c.platform, c.instance, c.tp, c.pp, c.precision, c.engine
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4))]

    /// Filtering the platforms never adds a candidate: each platform alone finds a subset of
    /// what both find, with the same numbers, and only its own platform.
    #[test]
    fn filtering_platforms_never_adds_candidates(
        rate in 20.0f64..400.0,
        e2e in 150.0f64..2000.0,
    ) {
        let mut w = fraud();
        w.traffic.rate_rps = rate;
        w.traffic.peak_rps = Some(rate * 2.0);
        w.slo.e2e_ms = Some(e2e);
        let both = plan_with(inputs().catalog, &w);
        let all: std::collections::BTreeMap<String, &Candidate> =
            both.candidates.iter().map(|c| (key(c), c)).collect();
        for only in Platform::ALL {
            w.constraints.platforms = vec![only];
            let one = plan_with(inputs().catalog, &w);
            for c in &one.candidates {
                prop_assert_eq!(c.platform, only);
                let twin = all.get(&key(c));
                prop_assert!(twin.is_some(), "{} only with {}", key(c), only);
                prop_assert_eq!(twin.unwrap().replicas, c.replicas);
                prop_assert!(
                    twin.unwrap().usd_per_hour == c.usd_per_hour,
                    "{} costs differ", key(c)
                );
            }
        }
    }
}
