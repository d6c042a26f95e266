//! The comparison of the ways to serve many models (`traffic.models` > 1), as text or Markdown.

use crate::output::table;
use inferplan_plan::multimodel::MultiModel;

/// The comparison table, each pattern's reason, and the assumptions.
pub fn many_text(m: &MultiModel, md: bool) -> String {
    let mut s = if md {
        format!(
            "\n## Many models\n\nThe options above serve one of the models. All {} models, {:.3} req/s in all, each way to serve them priced:\n\n",
            m.models, m.total_rate_rps
        )
    } else {
        format!(
            "\nmany models: the table above serves one of the models; all {} models, {:.3} req/s in all, each way to serve them priced:\n\n",
            m.models, m.total_rate_rps
        )
    };
    let rows: Vec<Vec<String>> = m
        .patterns
        .iter()
        .map(|p| {
            vec![
                if p.wins { "*" } else { "" }.to_owned(),
                p.pattern.label().to_owned(),
                p.usd_per_hour
                    .map_or_else(|| "-".to_owned(), |u| format!("{u:.2}")),
                p.instances
                    .map_or_else(|| "-".to_owned(), |n| n.to_string()),
                if p.deployment.is_empty() {
                    "-".to_owned()
                } else {
                    p.deployment.clone()
                },
            ]
        })
        .collect();
    s += &table(
        &["", "pattern", "$/hour", "instances", "deployment"],
        &rows,
        md,
    );
    s += "\n";
    for p in &m.patterns {
        s += &format!(
            "{}{}: {}\n",
            if md { "- **" } else { "  " },
            if md {
                format!("{}**", p.pattern.label())
            } else {
                p.pattern.label().to_owned()
            },
            p.reason
        );
    }
    for a in &m.assumptions {
        s += &format!("{}assumption: {a}\n", if md { "- " } else { "  " });
    }
    s
}
