//! The report stage: query results rendered as an HTML page, CSV files and a
//! manifest of checksums, the evidence bundle an auditor keeps. It receives
//! rows; it never runs SQL.

mod manifest;

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use chrono::NaiveDate;
use datafusion::arrow::array::{Array, RecordBatch};
use datafusion::arrow::datatypes::DataType;
use datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};
use minijinja::{Environment, context};
use serde::Serialize;

pub use manifest::{Manifest, ManifestFile, VerifyOutcome, sha256_file, verify};

use crate::query::QueryResult;
use crate::query::output::{self, with_text_timestamps};

/// One named query's result, as the report receives it.
#[derive(Debug, Clone)]
pub struct View {
    pub name: String,
    pub purpose: String,
    pub sql: String,
    pub result: QueryResult,
}

/// Everything a report shows and records.
#[derive(Debug, Clone)]
pub struct ReportInput {
    pub as_of: NaiveDate,
    pub stale_days: u32,
    pub views: Vec<View>,
    /// The lake's files that the queries read, relative to the lake, with
    /// their SHA-256.
    pub lake_files: Vec<(String, String)>,
    /// Seconds since the epoch to stamp on the bundle (`SOURCE_DATE_EPOCH`).
    pub generated_at: Option<i64>,
}

/// Rows shown on a page before the rest is left to the CSV file.
const ROWS_PER_VIEW: usize = 500;

#[derive(Serialize)]
struct ViewPage {
    name: String,
    title: String,
    purpose: String,
    csv: String,
    headers: Vec<String>,
    numeric: Vec<bool>,
    rows: Vec<Vec<String>>,
    total: usize,
    cut: bool,
}

/// Writes the bundle into `out` and returns its manifest.
pub fn render(input: &ReportInput, out: &Path) -> Result<Manifest> {
    std::fs::create_dir_all(out).with_context(|| format!("cannot create `{}`", out.display()))?;
    let mut written: Vec<PathBuf> = Vec::new();
    let mut pages = Vec::new();
    for view in &input.views {
        let csv_name = format!("{}.csv", view.name);
        let csv_path = out.join(&csv_name);
        let mut csv = Vec::new();
        output::write_csv(&neutralise_formulas(&view.result)?, &mut csv)?;
        std::fs::write(&csv_path, csv)
            .with_context(|| format!("cannot write `{}`", csv_path.display()))?;
        written.push(csv_path);
        let Cells {
            headers,
            numeric,
            rows,
        } = cells(&view.result, ROWS_PER_VIEW)?;
        let total = view.result.num_rows();
        pages.push(ViewPage {
            title: view.name.replace('_', " "),
            name: view.name.clone(),
            purpose: view.purpose.clone(),
            csv: csv_name,
            headers,
            numeric,
            cut: rows.len() < total,
            rows,
            total,
        });
    }
    let mut env = Environment::new();
    env.add_template("index.html", include_str!("templates/index.html"))?;
    let html = env.get_template("index.html")?.render(context! {
        as_of => input.as_of.to_string(),
        as_of_end => format!("{}T00:00:00Z", input.as_of.succ_opt().unwrap_or(input.as_of)),
        stale_days => input.stale_days,
        views => pages,
        version => env!("CARGO_PKG_VERSION"),
    })?;
    let index = out.join("index.html");
    std::fs::write(&index, html).with_context(|| format!("cannot write `{}`", index.display()))?;
    written.push(index);
    let manifest = Manifest::build(input, out, &written)?;
    manifest.write(out)?;
    Ok(manifest)
}

/// A view's table as the template shows it: header names, which columns are
/// numbers, and rows of text (escaping is the template's job).
struct Cells {
    headers: Vec<String>,
    numeric: Vec<bool>,
    rows: Vec<Vec<String>>,
}

/// The first `limit` rows of a result as text.
fn cells(result: &QueryResult, limit: usize) -> Result<Cells> {
    let result = with_text_timestamps(result)?;
    let headers = result
        .schema
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .collect();
    let numeric = result
        .schema
        .fields()
        .iter()
        .map(|f| f.data_type().is_numeric())
        .collect();
    let mut rows = Vec::new();
    let options = FormatOptions::default();
    'batches: for batch in &result.batches {
        let formatters = batch
            .columns()
            .iter()
            .map(|c| ArrayFormatter::try_new(c.as_ref(), &options))
            .collect::<Result<Vec<_>, _>>()?;
        for row in 0..batch.num_rows() {
            if rows.len() == limit {
                break 'batches;
            }
            rows.push(
                formatters
                    .iter()
                    .map(|f| f.value(row).to_string())
                    .collect(),
            );
        }
    }
    Ok(Cells {
        headers,
        numeric,
        rows,
    })
}

/// CSV written for people: text that a spreadsheet would run as a formula
/// (leading `=`, `+`, `-`, `@`, tab or carriage return) gets a leading `'`.
pub fn neutralise_formulas(result: &QueryResult) -> Result<QueryResult> {
    use datafusion::arrow::array::{AsArray, StringArray};
    use std::sync::Arc;
    let result = with_text_timestamps(result)?;
    let batches = result
        .batches
        .iter()
        .map(|batch| {
            let columns = batch
                .columns()
                .iter()
                .map(|c| {
                    if c.data_type() != &DataType::Utf8 {
                        return c.clone();
                    }
                    let text: StringArray = c
                        .as_string::<i32>()
                        .iter()
                        .map(|v| v.map(neutralise))
                        .collect();
                    Arc::new(text) as Arc<dyn Array>
                })
                .collect();
            RecordBatch::try_new(result.schema.clone(), columns)
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(QueryResult {
        schema: result.schema,
        batches,
    })
}

fn neutralise(text: &str) -> String {
    match text.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{text}"),
        _ => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::neutralise;

    #[test]
    fn formulas_are_neutralised() {
        assert_eq!(neutralise("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert_eq!(neutralise("+1"), "'+1");
        assert_eq!(neutralise("-2016281112"), "'-2016281112");
        assert_eq!(neutralise("@SUM"), "'@SUM");
        assert_eq!(neutralise("\tx"), "'\tx");
        assert_eq!(neutralise("ws-0042"), "ws-0042");
        assert_eq!(neutralise(""), "");
    }
}
