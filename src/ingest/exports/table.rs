//! An export's rows as text cells under their column names, whatever the
//! file format: CSV (RFC 4180, a header row), the report API's JSON
//! (`{"Schema": [{"Column": ..}], "Values": [[..]]}`) or a JSON object with a
//! `value` array of objects (Graph and the Defender machines API).

use std::collections::HashMap;

use serde_json::Value;

use super::super::Position;

/// One row: where it is, its cells (empty text is absent), and its text as
/// read, for the quarantine.
#[derive(Debug, Clone)]
pub struct RawRow {
    pub position: Position,
    pub cells: Vec<Option<String>>,
    pub raw: String,
}

/// A row that could not be cut out of the file at all.
#[derive(Debug, Clone)]
pub struct BadRow {
    pub position: Position,
    pub reason: String,
    pub raw: String,
}

#[derive(Debug, Clone, Default)]
pub struct RawTable {
    pub columns: Vec<String>,
    index: HashMap<String, usize>,
    pub rows: Vec<RawRow>,
    pub bad: Vec<BadRow>,
}

impl RawTable {
    fn with_columns(columns: Vec<String>) -> RawTable {
        let index = columns
            .iter()
            .enumerate()
            .map(|(i, c)| (c.to_lowercase(), i))
            .collect();
        RawTable {
            columns,
            index,
            rows: Vec::new(),
            bad: Vec::new(),
        }
    }

    /// Whether the table has `column` (names match ignoring case).
    pub fn has(&self, column: &str) -> bool {
        self.index.contains_key(&column.to_lowercase())
    }

    /// A row's cell of `column`, `None` when the column is absent or the cell
    /// is empty.
    pub fn get<'r>(&self, row: &'r RawRow, column: &str) -> Option<&'r str> {
        let i = *self.index.get(&column.to_lowercase())?;
        row.cells.get(i)?.as_deref()
    }
}

fn cell(text: &str) -> Option<String> {
    let text = text.trim();
    (!text.is_empty()).then(|| text.to_owned())
}

/// Reads CSV text with a header row. A row with another number of fields
/// than the header is kept apart with its line.
pub fn from_csv(text: &str) -> Result<RawTable, String> {
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .from_reader(text.as_bytes());
    let headers = reader
        .headers()
        .map_err(|e| format!("not valid CSV: {e}"))?
        .iter()
        .map(|h| h.trim().to_owned())
        .collect::<Vec<_>>();
    let mut table = RawTable::with_columns(headers);
    let mut record = csv::StringRecord::new();
    // Lines are counted here, from byte offsets: the csv crate's own line
    // numbers do not count `\r\n` line ends as the operator's editor does.
    let mut counted_to = 0;
    let mut line = 1;
    let mut line_at = |offset: usize| {
        line += text.as_bytes()[counted_to..offset]
            .iter()
            .filter(|b| **b == b'\n')
            .count() as u64;
        counted_to = offset;
        line
    };
    loop {
        let start = reader.position().byte() as usize;
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {
                let end = (reader.position().byte() as usize).min(text.len());
                let slice = text.get(start..end).unwrap_or_default();
                // Blank lines before the record belong to no record.
                let skipped = slice.len() - slice.trim_start_matches(['\r', '\n']).len();
                let position = Position::Line(line_at(start + skipped));
                let raw = slice[skipped..].trim_end_matches(['\r', '\n']).to_owned();
                if record.iter().all(|f| f.trim().is_empty()) {
                    continue;
                }
                if record.len() != table.columns.len() {
                    table.bad.push(BadRow {
                        position,
                        reason: format!(
                            "the row has {} fields, the header {}",
                            record.len(),
                            table.columns.len()
                        ),
                        raw,
                    });
                    continue;
                }
                table.rows.push(RawRow {
                    position,
                    cells: record.iter().map(cell).collect(),
                    raw,
                });
            }
            Err(e) => {
                // csv cannot cut the rest of the file into rows.
                let raw = text.get(start..).unwrap_or_default().to_owned();
                table.bad.push(BadRow {
                    position: Position::Line(line_at(start.min(text.len()))),
                    reason: format!("not valid CSV: {e} (the rest of the file is kept here)"),
                    raw,
                });
                break;
            }
        }
    }
    Ok(table)
}

fn json_cell(value: &Value) -> Option<String> {
    match value {
        Value::Null => None,
        Value::String(s) => cell(s),
        other => Some(other.to_string()),
    }
}

/// The top-level keys that make a JSON file a vendor export rather than an
/// agent report, compared ignoring case; but `Schema` only as Intune's
/// report API spells it, since an agent report may start with `"schema"`.
pub fn is_export_key(key: &str) -> bool {
    if key == "Schema" {
        return true;
    }
    [
        "value",
        "values",
        "@odata.context",
        "@odata.count",
        "@odata.nextLink",
        "TotalRowCount",
    ]
    .iter()
    .any(|k| k.eq_ignore_ascii_case(key))
}

/// Reads an export's JSON, in every shape it is known to come in:
/// `{"Schema": [{"Column": ..}], "Values": [[..]]}` (Intune's report API),
/// `{"value": [{..}, ..]}` (Graph and the Defender APIs; `values` too), or a
/// bare array of objects; keys compared ignoring case. Rows are numbered from
/// 0 (`array index`).
pub fn from_json(text: &str) -> Result<RawTable, String> {
    let root: Value = serde_json::from_str(text).map_err(|e| format!("not valid JSON: {e}"))?;
    let root = match root {
        Value::Array(items) => return Ok(from_objects(&items, "the array")),
        Value::Object(root) => root,
        _ => {
            return Err(
                "not a known export: the JSON is neither an object nor an array".to_owned(),
            );
        }
    };
    let key = |k: &str| {
        root.iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(k))
            .map(|(_, v)| v)
    };
    if let (Some(Value::Array(schema)), Some(Value::Array(values))) = (key("Schema"), key("Values"))
    {
        let columns = schema
            .iter()
            .map(|c| match c {
                Value::Object(o) => o
                    .iter()
                    .find(|(k, _)| k.eq_ignore_ascii_case("Column"))
                    .and_then(|(_, v)| v.as_str())
                    .unwrap_or_default()
                    .to_owned(),
                Value::String(s) => s.clone(),
                _ => String::new(),
            })
            .collect();
        let mut table = RawTable::with_columns(columns);
        for (i, row) in values.iter().enumerate() {
            let position = Position::Index(i as u64);
            match row {
                Value::Array(cells) if cells.len() == table.columns.len() => {
                    table.rows.push(RawRow {
                        position,
                        cells: cells.iter().map(json_cell).collect(),
                        raw: row.to_string(),
                    });
                }
                _ => table.bad.push(BadRow {
                    position,
                    reason: format!(
                        "the row is not an array of {} values, one per `Schema` column",
                        table.columns.len()
                    ),
                    raw: row.to_string(),
                }),
            }
        }
        return Ok(table);
    }
    for name in ["value", "values"] {
        if let Some(Value::Array(items)) = key(name) {
            return Ok(from_objects(items, &format!("`{name}`")));
        }
    }
    let keys: Vec<&str> = root.keys().map(String::as_str).collect();
    Err(format!(
        "not a known export: a JSON object with the keys `{}` (expected `Schema` and `Values`, or `value`)",
        keys.join(", ")
    ))
}

/// Rows from an array of objects: the columns are every key seen, in the
/// order first seen.
fn from_objects(items: &[Value], what: &str) -> RawTable {
    let mut columns: Vec<String> = Vec::new();
    let mut seen: HashMap<String, ()> = HashMap::new();
    for item in items {
        if let Value::Object(o) = item {
            for k in o.keys() {
                if seen.insert(k.to_lowercase(), ()).is_none() {
                    columns.push(k.clone());
                }
            }
        }
    }
    let mut table = RawTable::with_columns(columns);
    for (i, item) in items.iter().enumerate() {
        let position = Position::Index(i as u64);
        let Value::Object(o) = item else {
            table.bad.push(BadRow {
                position,
                reason: format!("not a JSON object: an element of {what} must be an object"),
                raw: item.to_string(),
            });
            continue;
        };
        let mut cells = vec![None; table.columns.len()];
        for (k, v) in o {
            if let Some(&i) = table.index.get(&k.to_lowercase()) {
                cells[i] = json_cell(v);
            }
        }
        table.rows.push(RawRow {
            position,
            cells,
            raw: item.to_string(),
        });
    }
    table
}

/// One line of a JSON-lines export (one object), as a one-row table.
pub fn from_json_line(line: &str, position: Position) -> Result<RawTable, String> {
    let value: Value = serde_json::from_str(line).map_err(|e| format!("not valid JSON: {e}"))?;
    if !value.is_object() {
        return Err("not a JSON object: each line must be one object".to_owned());
    }
    let mut table = from_objects(std::slice::from_ref(&value), "the line");
    for row in &mut table.rows {
        row.position = position;
        row.raw = line.to_owned();
    }
    Ok(table)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_rows_keep_lines_and_quoted_newlines() {
        let t = from_csv("A,B\r\n1,\"x\ny\"\r\n\r\n2, \r\n3\r\n").unwrap();
        assert_eq!(t.columns, ["A", "B"]);
        assert_eq!(t.rows.len(), 2);
        assert_eq!(t.rows[0].position, Position::Line(2));
        assert_eq!(t.get(&t.rows[0], "b"), Some("x\ny"));
        assert_eq!(t.rows[1].position, Position::Line(5));
        assert_eq!(t.get(&t.rows[1], "B"), None);
        assert_eq!(t.bad.len(), 1);
        assert_eq!(t.bad[0].position, Position::Line(6));
        assert_eq!(t.bad[0].raw, "3");
        assert_eq!(t.bad[0].reason, "the row has 1 fields, the header 2");
    }

    #[test]
    fn json_in_both_shapes() {
        let t = from_json(r#"{"Schema":[{"Column":"A","PropertyType":"String"},{"Column":"B"}],"Values":[["x",1],["y"]]}"#).unwrap();
        assert_eq!(t.columns, ["A", "B"]);
        assert_eq!(t.get(&t.rows[0], "B"), Some("1"));
        assert_eq!(t.bad[0].position, Position::Index(1));
        let t = from_json(
            r#"{"@odata.context":"x","value":[{"id":"m1","tags":["a"]},{"id":"m2","x":null}]}"#,
        )
        .unwrap();
        assert_eq!(t.columns, ["id", "tags", "x"]);
        assert_eq!(t.get(&t.rows[0], "tags"), Some(r#"["a"]"#));
        assert_eq!(t.get(&t.rows[1], "x"), None);
        // A bare array, and `values`, keys compared ignoring case.
        let t = from_json(r#"[{"DeviceId":"a"},{"deviceid":"b","X":1}]"#).unwrap();
        assert_eq!(t.columns, ["DeviceId", "X"]);
        assert_eq!(t.get(&t.rows[1], "DEVICEID"), Some("b"));
        let t = from_json(r#"{"Values":[{"id":"m1"}]}"#).unwrap();
        assert_eq!(t.get(&t.rows[0], "id"), Some("m1"));
        let t = from_json_line(
            r#"{"deviceId":"m1","isCompliant":false}"#,
            Position::Line(7),
        )
        .unwrap();
        assert_eq!(t.rows[0].position, Position::Line(7));
        assert_eq!(t.get(&t.rows[0], "iscompliant"), Some("false"));
        assert_eq!(
            from_json(r#"{"a":1,"b":2}"#).unwrap_err(),
            "not a known export: a JSON object with the keys `a, b` (expected `Schema` and `Values`, or `value`)"
        );
    }
}
