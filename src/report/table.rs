//! Query rows as the text a page shows: a whole (small) result cell by
//! cell, one batch of a stream at a time, and the page tables with their
//! size budget and the links to the evidence files that hold every row.

use std::borrow::Cow;

use anyhow::{Context, Result};
use datafusion::arrow::array::{Array, AsArray, RecordBatch};
use datafusion::arrow::datatypes::{DataType, SchemaRef};
use datafusion::arrow::util::display::array_value_to_string;
use serde::Serialize;

use super::evidence::Evidence;
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
        column(&self.headers, name)
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

fn column(headers: &[String], name: &str) -> Result<usize> {
    headers
        .iter()
        .position(|h| h == name)
        .with_context(|| format!("the query result has no column `{name}`"))
}

/// Rows kept from a stream: all of them, or the first few.
#[derive(Debug)]
pub struct Capture {
    schema: SchemaRef,
    batches: Vec<RecordBatch>,
    kept: usize,
    limit: usize,
}

impl Capture {
    /// Keeps at most `limit` rows.
    pub fn first(schema: SchemaRef, limit: usize) -> Capture {
        Capture {
            schema,
            batches: Vec::new(),
            kept: 0,
            limit,
        }
    }

    pub fn add(&mut self, batch: &RecordBatch) {
        let take = batch.num_rows().min(self.limit - self.kept);
        if take > 0 {
            self.batches.push(batch.slice(0, take));
            self.kept += take;
        }
    }

    pub fn table(self) -> Result<TextTable> {
        TextTable::new(&QueryResult {
            schema: self.schema,
            batches: self.batches,
        })
    }
}

/// One batch of a stream as text, for the columns asked for by name.
pub struct BatchText {
    batch: RecordBatch,
    columns: Vec<usize>,
}

impl BatchText {
    /// `batch`'s timestamps as RFC 3339 text; `names` picks the columns,
    /// which `get` then numbers in that order.
    pub fn new(batch: &RecordBatch, names: &[&str]) -> Result<BatchText> {
        let text = with_text_timestamps(&QueryResult {
            schema: batch.schema(),
            batches: vec![batch.clone()],
        })?;
        let headers: Vec<String> = text
            .schema
            .fields()
            .iter()
            .map(|f| f.name().clone())
            .collect();
        let columns = names
            .iter()
            .map(|n| column(&headers, n))
            .collect::<Result<_>>()?;
        let batch = text.batches.into_iter().next().expect("one batch");
        Ok(BatchText { batch, columns })
    }

    pub fn rows(&self) -> usize {
        self.batch.num_rows()
    }

    /// The cell of the `column`-th named column; NULL is `None`.
    pub fn get(&self, row: usize, column: usize) -> Option<Cow<'_, str>> {
        let array = self.batch.column(self.columns[column]);
        if array.is_null(row) {
            return None;
        }
        Some(match array.data_type() {
            DataType::Utf8 => Cow::Borrowed(array.as_string::<i32>().value(row)),
            DataType::Utf8View => Cow::Borrowed(array.as_string_view().value(row)),
            DataType::LargeUtf8 => Cow::Borrowed(array.as_string::<i64>().value(row)),
            _ => Cow::Owned(array_value_to_string(array, row).unwrap_or_default()),
        })
    }

    /// The cell as text, NULL as the empty string.
    pub fn text(&self, row: usize, column: usize) -> Cow<'_, str> {
        self.get(row, column).unwrap_or(Cow::Borrowed(""))
    }

    /// Whether the `column`-th named column holds numbers.
    pub fn numeric(&self, column: usize) -> bool {
        self.batch
            .column(self.columns[column])
            .data_type()
            .is_numeric()
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

impl Cell {
    /// A cell of column `header`: numbers right-aligned, states coloured.
    pub fn new(header: &str, numeric: bool, text: String, href: Option<String>) -> Cell {
        let class = if numeric {
            Some("num".to_owned())
        } else {
            state_class(header, &text)
        };
        Cell { text, href, class }
    }
}

/// A link to a file of the bundle, relative to the page.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct FileLink {
    pub href: String,
    pub path: String,
}

/// Where all of a table's rows are, as a page links them.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct EvidenceLinks {
    pub rows: usize,
    pub parquet: FileLink,
    pub csv: Vec<FileLink>,
    pub gzip: bool,
}

impl EvidenceLinks {
    /// `evidence`'s files from a page at `root` (`""` or `"../"`).
    pub fn new(evidence: &Evidence, root: &str) -> EvidenceLinks {
        let link = |path: &str| FileLink {
            href: format!("{root}{path}"),
            path: path.to_owned(),
        };
        EvidenceLinks {
            rows: evidence.rows,
            parquet: link(&evidence.parquet),
            csv: evidence.csv.iter().map(|p| link(p)).collect(),
            gzip: evidence.gzip,
        }
    }
}

/// A table on a page: at most a budget of rows, with the evidence files
/// that hold them all.
#[derive(Debug, Clone, Serialize)]
pub struct PageTable {
    pub id: String,
    pub headers: Vec<String>,
    pub numeric: Vec<bool>,
    pub rows: Vec<Vec<Cell>>,
    /// Rows in all, shown or not.
    pub total: usize,
    pub cut: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub evidence: Option<EvidenceLinks>,
    /// Said after the table when it is cut, e.g. which rows of the evidence
    /// are this table's.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub which: Option<String>,
}

/// Columns whose values are states get a class, so failures stand out.
fn state_class(header: &str, text: &str) -> Option<String> {
    let is_state = matches!(
        header,
        "state" | "policy_state" | "setting_state" | "compliance" | "current"
    );
    is_state.then(|| format!("state-{text}"))
}

impl PageTable {
    /// A table of the given cells; `total` rows in all.
    pub fn new(id: &str, columns: &[&str], numeric: Vec<bool>, rows: Vec<Vec<Cell>>) -> PageTable {
        PageTable {
            id: id.to_owned(),
            headers: columns.iter().map(|c| c.replace('_', " ")).collect(),
            numeric,
            total: rows.len(),
            rows,
            cut: false,
            evidence: None,
            which: None,
        }
    }

    /// The rows `rows` of `table` (in that order), showing the columns
    /// `columns`; `link` gives a cell's link from (row, column name).
    pub fn build(
        id: &str,
        table: &TextTable,
        rows: &[usize],
        columns: &[&str],
        link: &dyn Fn(usize, &str) -> Option<String>,
    ) -> Result<PageTable> {
        let indexes = columns
            .iter()
            .map(|c| table.column(c))
            .collect::<Result<Vec<_>>>()?;
        let cells = rows
            .iter()
            .map(|&row| {
                columns
                    .iter()
                    .zip(&indexes)
                    .map(|(name, &col)| {
                        Cell::new(
                            name,
                            table.numeric[col],
                            table.cell(row, col),
                            link(row, name),
                        )
                    })
                    .collect()
            })
            .collect();
        let numeric = indexes.iter().map(|&i| table.numeric[i]).collect();
        Ok(PageTable::new(id, columns, numeric, cells))
    }

    /// Every row and column of `table`.
    pub fn all(
        id: &str,
        table: &TextTable,
        link: &dyn Fn(usize, &str) -> Option<String>,
    ) -> Result<PageTable> {
        let rows: Vec<usize> = (0..table.len()).collect();
        let columns: Vec<&str> = table.headers.iter().map(String::as_str).collect();
        PageTable::build(id, table, &rows, &columns, link)
    }

    /// The table is part of a view whose rows are all in `evidence`: it is
    /// cut when it shows fewer than `total` rows.
    pub fn of(mut self, total: usize, evidence: EvidenceLinks) -> PageTable {
        self.total = total;
        self.cut = self.rows.len() < total;
        self.evidence = Some(evidence);
        self
    }

    /// Shows at most `budget` rows.
    pub fn at_most(mut self, budget: usize) -> PageTable {
        if self.rows.len() > budget {
            self.rows.truncate(budget);
            self.cut = true;
        }
        self
    }

    /// What the note after a cut table says about which rows are its own.
    pub fn which(mut self, text: String) -> PageTable {
        self.which = Some(text);
        self
    }

    /// Adds a column after the others, its cells from `cell(row)`.
    pub fn with_column(mut self, header: &str, cell: impl Fn(&[Cell]) -> String) -> PageTable {
        self.headers.push(header.replace('_', " "));
        self.numeric.push(false);
        for row in &mut self.rows {
            let text = cell(row);
            row.push(Cell::new(header, false, text, None));
        }
        self
    }
}
