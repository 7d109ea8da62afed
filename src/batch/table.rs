//! A batch's table: CSV (a header row of variable names) or JSON Lines (an object a line), or
//! a JSON array of objects (the service's `rows`).

use std::path::Path;

use serde_json::Value;

use super::error::BatchError;
use crate::spec::template::Values;

/// One row of a batch table.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// 1-based row number (data rows; a CSV header is not counted).
    pub number: usize,
    /// The row's `id` cell, else its number.
    pub id: String,
    /// The row's cells by column name.
    pub values: Values,
}

/// How a table is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TableFormat {
    /// Comma-separated, a header row first (RFC 4180 quoting).
    Csv,
    /// One JSON object a line; blank lines are skipped.
    JsonLines,
}

impl TableFormat {
    /// The format a file name says: `.csv`, else `.jsonl`/`.ndjson`; `None` otherwise.
    pub fn of(path: &Path) -> Option<TableFormat> {
        match path.extension()?.to_str()?.to_ascii_lowercase().as_str() {
            "csv" => Some(TableFormat::Csv),
            "jsonl" | "ndjson" => Some(TableFormat::JsonLines),
            _ => None,
        }
    }
}

fn row(number: usize, values: Values) -> Row {
    let id = match values.get("id") {
        Some(Value::String(s)) if !s.trim().is_empty() => s.trim().to_string(),
        Some(Value::Number(n)) => n.to_string(),
        _ => number.to_string(),
    };
    Row { number, id, values }
}

/// Reads a table file (its format from its extension).
///
/// # Errors
/// [`BatchError::Read`], or [`BatchError::Table`] naming the line.
pub fn read_rows(path: &Path) -> Result<Vec<Row>, BatchError> {
    let format = TableFormat::of(path).ok_or_else(|| BatchError::Table {
        what: path.display().to_string(),
        line: 0,
        message: "unknown table format (expected a .csv or .jsonl file)".into(),
    })?;
    let text = std::fs::read_to_string(path).map_err(|source| BatchError::Read {
        path: path.into(),
        source,
    })?;
    rows_from_text(&text, format, &path.display().to_string())
}

/// Reads a table from text; `what` names it in errors.
///
/// # Errors
/// [`BatchError::Table`] naming the line; a table without rows.
pub fn rows_from_text(text: &str, format: TableFormat, what: &str) -> Result<Vec<Row>, BatchError> {
    let bad = |line: usize, message: String| BatchError::Table {
        what: what.to_string(),
        line,
        message,
    };
    let mut rows = Vec::new();
    match format {
        TableFormat::Csv => {
            let mut reader = csv::ReaderBuilder::new()
                .trim(csv::Trim::Headers)
                .from_reader(text.as_bytes());
            let headers = reader.headers().map_err(|e| bad(1, e.to_string()))?.clone();
            if let Some(i) = (0..headers.len()).find(|&i| headers[i].is_empty()) {
                return Err(bad(1, format!("column {} has no name", i + 1)));
            }
            for (n, record) in reader.records().enumerate() {
                let record = record.map_err(|e| {
                    let line = e.position().map_or(n + 2, |p| p.line() as usize);
                    bad(line, e.to_string())
                })?;
                let values = headers
                    .iter()
                    .zip(record.iter())
                    .map(|(h, v)| (h.to_string(), Value::String(v.to_string())))
                    .collect();
                rows.push(row(n + 1, values));
            }
        }
        TableFormat::JsonLines => {
            for (i, line) in text.lines().enumerate() {
                if line.trim().is_empty() {
                    continue;
                }
                let values: Values = serde_json::from_str(line)
                    .map_err(|e| bad(i + 1, format!("expected a JSON object: {e}")))?;
                rows.push(row(rows.len() + 1, values));
            }
        }
    }
    if rows.is_empty() {
        return Err(bad(0, "the table has no rows".into()));
    }
    Ok(rows)
}

/// Rows given as JSON objects (the service's `rows`).
///
/// # Errors
/// [`BatchError::Table`] when there are none.
pub fn rows_from_json(values: Vec<Values>) -> Result<Vec<Row>, BatchError> {
    if values.is_empty() {
        return Err(BatchError::Table {
            what: "rows".into(),
            line: 0,
            message: "the batch has no rows".into(),
        });
    }
    Ok(values
        .into_iter()
        .enumerate()
        .map(|(i, v)| row(i + 1, v))
        .collect())
}

/// A cell's value made safe inside a file name: no folder separators, no `..`, no control
/// characters; empty becomes `_`.
fn safe(value: &Value) -> String {
    let text = match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    let mut out: String = text
        .trim()
        .chars()
        .map(|c| {
            if c == '/' || c == '\\' || c.is_control() || c == ':' {
                '_'
            } else {
                c
            }
        })
        .collect();
    while out.contains("..") {
        out = out.replace("..", "_");
    }
    if out.is_empty() {
        "_".into()
    } else {
        out
    }
}

/// The output file of `row` by `pattern`: `{{column}}` replaced by the row's (file-name safe)
/// cell, `{{row}}` by its number, `{{id}}` by its id.
pub(super) fn output_name(pattern: &str, row: &Row) -> String {
    let mut out = String::new();
    let mut rest = pattern;
    while let Some(open) = rest.find("{{") {
        let Some(close) = rest[open..].find("}}").map(|c| open + c) else {
            break;
        };
        let name = rest[open + 2..close].trim();
        let value = match name {
            "row" => Some(Value::from(row.number)),
            "id" => Some(Value::String(row.id.clone())),
            _ => row.values.get(name).cloned(),
        };
        out.push_str(&rest[..open]);
        match value {
            Some(v) => out.push_str(&safe(&v)),
            None => out.push_str(&rest[open..close + 2]),
        }
        rest = &rest[close + 2..];
    }
    out + rest
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_rows_are_read_with_quoting_and_ids() {
        let rows = rows_from_text(
            "id,title\nleeds,\"Hello, Leeds\"\n,Plain\n",
            TableFormat::Csv,
            "t.csv",
        )
        .unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].id, "leeds");
        assert_eq!(rows[0].values["title"], "Hello, Leeds");
        assert_eq!(rows[1].id, "2");
        let err = rows_from_text("a,b\n1\n", TableFormat::Csv, "t.csv").unwrap_err();
        assert!(err.to_string().contains("line 2"), "{err}");
    }

    #[test]
    fn json_lines_and_output_names() {
        let rows = rows_from_text(
            "{\"id\": 7, \"site\": \"../etc/x\"}\n\n{\"site\": \"York\"}\n",
            TableFormat::JsonLines,
            "t.jsonl",
        )
        .unwrap();
        assert_eq!(rows[0].id, "7");
        assert_eq!(
            output_name("out/{{site}}-{{row}}.mp4", &rows[0]),
            "out/__etc_x-1.mp4"
        );
        assert_eq!(output_name("out/{{id}}.mp4", &rows[1]), "out/2.mp4");
        assert!(rows_from_text("[1]\n", TableFormat::JsonLines, "t").is_err());
    }
}
