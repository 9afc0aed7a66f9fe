//! Query results as the text tables a page shows: cells as text, links,
//! and a size budget so that no page grows with the fleet.

use anyhow::{Context, Result};
use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::util::display::array_value_to_string;
use serde::Serialize;

use crate::query::QueryResult;
use crate::query::output::with_text_timestamps;

/// A query result read as text, cell by cell, without copying it.
#[derive(Debug)]
pub struct TextTable {
    pub headers: Vec<String>,
    pub numeric: Vec<bool>,
    batches: Vec<RecordBatch>,
    /// The first row of each batch, and the total at the end.
    starts: Vec<usize>,
}

impl TextTable {
    pub fn new(result: &QueryResult) -> Result<TextTable> {
        let result = with_text_timestamps(result)?;
        let mut starts = vec![0];
        for b in &result.batches {
            starts.push(starts.last().copied().unwrap_or(0) + b.num_rows());
        }
        Ok(TextTable {
            headers: result
                .schema
                .fields()
                .iter()
                .map(|f| f.name().clone())
                .collect(),
            numeric: result
                .schema
                .fields()
                .iter()
                .map(|f| f.data_type().is_numeric())
                .collect(),
            batches: result.batches,
            starts,
        })
    }

    pub fn len(&self) -> usize {
        self.starts.last().copied().unwrap_or(0)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The index of a column; the named queries' columns are a contract, so
    /// a missing one is a bug in `queries/` or a user override.
    pub fn column(&self, name: &str) -> Result<usize> {
        self.headers
            .iter()
            .position(|h| h == name)
            .with_context(|| format!("the query result has no column `{name}`"))
    }

    /// One cell as text; NULL is the empty string.
    pub fn cell(&self, row: usize, column: usize) -> String {
        let batch = self.starts.partition_point(|s| *s <= row) - 1;
        let array = self.batches[batch].column(column);
        let index = row - self.starts[batch];
        if array.is_null(index) {
            return String::new();
        }
        array_value_to_string(array, index).unwrap_or_default()
    }

    pub fn get(&self, row: usize, name: &str) -> Result<String> {
        Ok(self.cell(row, self.column(name)?))
    }
}

/// A table cell as the template renders it (escaped there).
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Cell {
    pub text: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub href: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub class: Option<String>,
}

/// A table on a page: at most `budget` rows, with a note pointing at the
/// CSV that holds them all when it is cut.
#[derive(Debug, Clone, Serialize)]
pub struct PageTable {
    pub id: String,
    pub headers: Vec<String>,
    pub numeric: Vec<bool>,
    pub rows: Vec<Vec<Cell>>,
    pub total: usize,
    pub cut: bool,
    pub csv: String,
}

/// Columns whose values are states get a class, so failures stand out.
fn state_class(header: &str, text: &str) -> Option<String> {
    let is_state = matches!(
        header,
        "state" | "policy_state" | "setting_state" | "compliance"
    );
    is_state.then(|| format!("state-{text}"))
}

impl PageTable {
    /// The rows `rows` of `table` (in that order), showing the columns
    /// `columns`; `link` gives a cell's link from (row, column name).
    pub fn build(
        id: &str,
        table: &TextTable,
        rows: &[usize],
        columns: &[&str],
        budget: usize,
        csv: &str,
        link: &dyn Fn(usize, &str) -> Option<String>,
    ) -> Result<PageTable> {
        let indexes = columns
            .iter()
            .map(|c| table.column(c))
            .collect::<Result<Vec<_>>>()?;
        let shown = rows
            .iter()
            .take(budget)
            .map(|&row| {
                columns
                    .iter()
                    .zip(&indexes)
                    .map(|(name, &col)| {
                        let text = table.cell(row, col);
                        Cell {
                            href: link(row, name),
                            class: if table.numeric[col] {
                                Some("num".to_owned())
                            } else {
                                state_class(name, &text)
                            },
                            text,
                        }
                    })
                    .collect()
            })
            .collect();
        Ok(PageTable {
            id: id.to_owned(),
            headers: columns.iter().map(|c| c.replace('_', " ")).collect(),
            numeric: indexes.iter().map(|&i| table.numeric[i]).collect(),
            rows: shown,
            total: rows.len(),
            cut: rows.len() > budget,
            csv: csv.to_owned(),
        })
    }

    /// Every row and column of `table`.
    pub fn all(
        id: &str,
        table: &TextTable,
        budget: usize,
        csv: &str,
        link: &dyn Fn(usize, &str) -> Option<String>,
    ) -> Result<PageTable> {
        let rows: Vec<usize> = (0..table.len()).collect();
        let columns: Vec<&str> = table.headers.iter().map(String::as_str).collect();
        PageTable::build(id, table, &rows, &columns, budget, csv, link)
    }
}
