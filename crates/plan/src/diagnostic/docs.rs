//! The generated parts of the rule pages (`docs/findings.md`, `docs/lint.md`): the table of
//! rules and one section per rule, both from [`RuleMeta`]. Each page marks them with
//! `<!-- KEY: ... -->` and `<!-- end of KEY -->` lines; a test per page compares them with
//! [`splice`] and rewrites them under `UPDATE_DOCS=1`.

use super::RuleMeta;

/// The table of rules: code, linked name, severity (with its note), summary.
pub fn table(rules: &[&RuleMeta]) -> String {
    let mut out = "| code | name | severity | summary |\n|---|---|---|---|\n".to_owned();
    for r in rules {
        let severity = if r.severity_note.is_empty() {
            r.severity.as_str().to_owned()
        } else {
            format!("{}; {}", r.severity, r.severity_note)
        };
        out += &format!(
            "| {} | [{}](#{}) | {severity} | {} |\n",
            r.code,
            r.name,
            anchor(r),
            r.summary
        );
    }
    out
}

/// One section per rule: `## <code> <name>` and its explanation.
pub fn sections(rules: &[&RuleMeta]) -> String {
    let mut out = String::new();
    for (i, r) in rules.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        out += &format!("## {} {}\n\n{}", r.code, r.name, r.explanation());
    }
    out
}

/// The heading anchor of a rule: what follows `#` in its `docs`.
fn anchor(r: &RuleMeta) -> &str {
    r.docs.split_once('#').map_or("", |(_, a)| a)
}

/// `doc` with the lines between the line starting `<!-- KEY:` and the line
/// `<!-- end of KEY -->` replaced by `content`; an error names a missing marker.
pub fn splice(doc: &str, key: &str, content: &str) -> Result<String, String> {
    let start = format!("<!-- {key}:");
    let end = format!("<!-- end of {key} -->");
    let head = doc
        .find(&start)
        .ok_or_else(|| format!("no `{start}` line"))?;
    let head = head + doc[head..].find('\n').map_or(doc.len() - head, |n| n + 1);
    let tail = doc[head..]
        .find(&end)
        .map(|n| head + n)
        .ok_or_else(|| format!("no `{end}` line after `{start}`"))?;
    Ok(format!("{}{content}{}", &doc[..head], &doc[tail..]))
}

/// The rule table and sections of the documentation page `page`, generated from `rules`:
/// rewrites the page when `update` (tests pass `UPDATE_DOCS`), and otherwise says whether it is
/// current (`Err` names the page and the command that refreshes it).
pub fn keep_current(
    page: &std::path::Path,
    rules: &[&RuleMeta],
    update: bool,
    refresh: &str,
) -> Result<(), String> {
    let doc = std::fs::read_to_string(page).map_err(|e| format!("{}: {e}", page.display()))?;
    let updated = splice(&doc, "rules table", &table(rules))?;
    let updated = splice(&updated, "rule sections", &sections(rules))?;
    if update {
        std::fs::write(page, updated).map_err(|e| format!("{}: {e}", page.display()))
    } else if doc == updated {
        Ok(())
    } else {
        Err(format!("{} is stale: run {refresh}", page.display()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnostic::Severity;

    const RULE: RuleMeta = RuleMeta {
        code: "IX101",
        name: "an-example",
        severity: Severity::Error,
        severity_note: "warning when mild",
        summary: "it fires",
        docs: "docs/x.md#ix101-an-example",
        doc: " **What it checks.** X.\n\n **Why it matters.** Y.\n",
    };

    #[test]
    fn table_and_sections() {
        assert_eq!(
            table(&[&RULE]),
            "| code | name | severity | summary |\n|---|---|---|---|\n\
             | IX101 | [an-example](#ix101-an-example) | error; warning when mild | it fires |\n"
        );
        assert_eq!(
            sections(&[&RULE, &RULE]),
            "## IX101 an-example\n\n**What it checks.** X.\n\n**Why it matters.** Y.\n\n\
             ## IX101 an-example\n\n**What it checks.** X.\n\n**Why it matters.** Y.\n"
        );
    }

    #[test]
    fn splice_replaces_between_markers() {
        let doc = "a\n<!-- t: generated -->\nold\n<!-- end of t -->\nb\n";
        assert_eq!(
            splice(doc, "t", "new\n").unwrap(),
            "a\n<!-- t: generated -->\nnew\n<!-- end of t -->\nb\n"
        );
        assert!(splice(doc, "u", "").is_err());
        assert!(splice("<!-- t: x -->\n", "t", "").is_err());
    }
}
