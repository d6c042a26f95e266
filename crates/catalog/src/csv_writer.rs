//! The one CSV writer: every CSV file or output inferplan writes goes through [`to_csv`], so
//! every one quotes the same way and [`Table::parse`](crate::table::Table::parse) reads each
//! field back as written.

/// CSV text of `rows` (the header first), written by the `csv` crate: a field holding a comma,
/// a quote or a line break is put in quotes with its quotes doubled, any other field is
/// written as it is; lines end in `\n`. Rows may differ in length.
pub fn to_csv<R, F>(rows: impl IntoIterator<Item = R>) -> String
where
    R: IntoIterator<Item = F>,
    F: AsRef<str>,
{
    let mut w = csv::WriterBuilder::new()
        .flexible(true)
        .from_writer(Vec::new());
    for row in rows {
        // Writing to memory cannot fail, and a flexible writer takes rows of any length.
        for field in row {
            let _ = w.write_field(field.as_ref());
        }
        let _ = w.write_record(None::<&[u8]>);
    }
    let bytes = w.into_inner().unwrap_or_default();
    // Only whole `str` fields and ASCII quotes, commas and newlines were written.
    String::from_utf8(bytes).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::table::Table;

    #[test]
    fn plain_fields_are_written_as_they_are() {
        let text = to_csv([["a", "b c", "1.5"], ["*", "x;y", ""]]);
        assert_eq!(text, "a,b c,1.5\n*,x;y,\n");
    }

    #[test]
    fn quotes_commas_and_line_breaks_round_trip() {
        let tricky = "fit \"by hand\", then\nchecked";
        let text = to_csv([vec!["name", "source"], vec!["x", tricky]]);
        assert_eq!(
            text,
            "name,source\nx,\"fit \"\"by hand\"\", then\nchecked\"\n"
        );
        let t = Table::parse(&text, "round trip").unwrap();
        let row = t.rows().next().unwrap();
        assert_eq!(row.get("source"), Some(tricky));
        assert_eq!(row.get("name"), Some("x"));
    }
}
