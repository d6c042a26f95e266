//! Where things are in a TOML text: the line of a byte offset, the dotted field path of an
//! error span, and the line a field is written on. Used by the workload reader and by
//! [`PlanError::locate`](crate::PlanError::locate).

use std::ops::Range;

/// 1-based line of a byte offset in `text` (offsets past the end give the last line).
pub(crate) fn line_of_offset(text: &str, offset: usize) -> usize {
    let end = offset.min(text.len());
    text.as_bytes()[..end]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

/// Joins the lines of a message, so that every error is one line.
pub(crate) fn one_line(message: &str) -> String {
    message
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join("; ")
}

/// The text between the backticks that follow `prefix` in `message`.
pub(crate) fn backticked_after<'m>(message: &'m str, prefix: &str) -> Option<&'m str> {
    let rest = &message[message.find(prefix)? + prefix.len()..];
    let rest = rest.strip_prefix('`')?;
    Some(&rest[..rest.find('`')?])
}

type DeTable<'i> = toml::de::DeTable<'i>;
type DeValue<'i> = toml::de::DeValue<'i>;

/// The dotted path (`slo.ttft_ms`, `traffic.daily_profile[3]`) of the innermost key or
/// value of `table` whose text contains the error span `target`; empty when none does (an
/// empty span is the document itself).
///
/// The whole tree is searched: the span of a `[header]` table covers only its header, and
/// that of a dotted-key table only the key, so a parent's span need not contain its children.
pub(crate) fn field_at(table: &DeTable<'_>, target: Range<usize>) -> String {
    if target.is_empty() {
        return String::new();
    }
    let mut best: Option<(usize, String)> = None;
    let mut path = String::new();
    search_table(table, &target, &mut path, &mut best);
    best.map(|(_, p)| p).unwrap_or_default()
}

type Best = Option<(usize, String)>;

fn consider(span: Range<usize>, target: &Range<usize>, path: &str, best: &mut Best) {
    let contains = span.start <= target.start && target.end <= span.end;
    if contains && best.as_ref().is_none_or(|(len, _)| span.len() <= *len) {
        *best = Some((span.len(), path.to_owned()));
    }
}

fn search_table(table: &DeTable<'_>, target: &Range<usize>, path: &mut String, best: &mut Best) {
    for (key, value) in table.iter() {
        let len = path.len();
        if !path.is_empty() {
            path.push('.');
        }
        path.push_str(key.get_ref());
        consider(key.span(), target, path, best);
        consider(value.span(), target, path, best);
        search_value(value.get_ref(), target, path, best);
        path.truncate(len);
    }
}

fn search_value(value: &DeValue<'_>, target: &Range<usize>, path: &mut String, best: &mut Best) {
    match value {
        DeValue::Table(table) => search_table(table, target, path, best),
        DeValue::Array(array) => {
            for (i, item) in array.iter().enumerate() {
                let len = path.len();
                path.push_str(&format!("[{i}]"));
                consider(item.span(), target, path, best);
                search_value(item.get_ref(), target, path, best);
                path.truncate(len);
            }
        }
        _ => {}
    }
}

/// 1-based line where the field at dotted `path` (as [`PlanError`] names fields) is written
/// in the TOML `text`; the line of the deepest part of the path that is written, or `None`
/// when not even its first part is.
pub(crate) fn line_of_field(text: &str, path: &str) -> Option<usize> {
    let root = toml::de::DeTable::parse(text).ok()?;
    let mut value: Option<&DeValue<'_>> = None;
    let mut table: Option<&DeTable<'_>> = Some(root.get_ref());
    let mut line = None;
    for segment in path.split('.') {
        let (key, indices) = match segment.find('[') {
            Some(i) => (&segment[..i], &segment[i..]),
            None => (segment, ""),
        };
        let t = match (table, value) {
            (Some(t), _) => t,
            (None, Some(DeValue::Table(t))) => t,
            _ => break,
        };
        let Some((k, v)) = t.iter().find(|(k, _)| k.get_ref() == key) else {
            break;
        };
        line = Some(line_of_offset(text, k.span().start));
        let mut current = v;
        for index in indices
            .split(['[', ']'])
            .filter(|s| !s.is_empty())
            .filter_map(|s| s.parse::<usize>().ok())
        {
            match current.get_ref() {
                DeValue::Array(a) if index < a.len() => {
                    current = &a[index];
                    line = Some(line_of_offset(text, current.span().start));
                }
                _ => return line,
            }
        }
        table = None;
        value = Some(current.get_ref());
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_of_offset_counts_newlines() {
        assert_eq!(line_of_offset("a\nb\nc", 0), 1);
        assert_eq!(line_of_offset("a\nb\nc", 2), 2);
        assert_eq!(line_of_offset("a\nb\nc", 99), 3);
    }
}
