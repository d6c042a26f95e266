//! Integration tests of the catalog crate: embedded data, derived numbers, importers, names,
//! overrides and bad input.

use inferplan_catalog::table::Table;
use inferplan_catalog::{hf_config, Catalog, CatalogError, Dtype};

const MODELS_CSV: &str = include_str!("../../../data/catalog/models.csv");

fn catalog() -> Catalog {
    Catalog::embedded().expect("embedded catalog loads")
}

#[test]
fn derived_params_and_kv_match_catalog_rows() {
    let c = catalog();
    let t = Table::parse(MODELS_CSV, "models.csv").unwrap();
    let mut report = Vec::new();
    for r in t.rows() {
        let name = r.req("name").unwrap();
        let m = c.model(name).unwrap();
        let p = m.params();
        let want_total = r.req_f64("params_b").unwrap() * 1e9;
        let want_active = r.req_f64("active_params_b").unwrap() * 1e9;
        let kv = r.req_f64("kv_cache_bytes_per_token_16bit").unwrap();
        let e_total = (p.total - want_total) / want_total;
        let e_active = (p.active - want_active) / want_active;
        report.push(format!(
            "{name}: total {:.3}B ({:+.2}%), active {:.3}B ({:+.2}%), kv {} vs {kv}",
            p.total / 1e9,
            e_total * 100.0,
            p.active / 1e9,
            e_active * 100.0,
            m.kv_bytes_per_token_full(2.0)
        ));
        eprintln!("{}", report.last().unwrap());
        assert!(
            e_total.abs() < 0.005 && e_active.abs() < 0.005,
            "{}",
            report.join("\n")
        );
        assert_eq!(m.kv_bytes_per_token_full(2.0), kv, "{name}");
    }
}
