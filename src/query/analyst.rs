//! Analysts' SQL: one session over the lake's tables and views that runs
//! statement after statement (the shell of `posture sql`, its scripts, and
//! a single query), each read-only and bounded by `--memory-limit` and
//! `--timeout`. The session is built once, so a shell's second statement
//! does not list the lake and plan the shared views again.

use std::sync::Arc;

use anyhow::{Result, bail};
use datafusion::arrow::array::{ArrayRef, RecordBatch, StringArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::prelude::{SQLOptions, SessionContext};

use super::{Bounds, EngineKind, QueryResult, execution_error, sql_error};
use crate::lake::Table;

/// A session for analysts' statements.
pub struct SqlSession {
    pub(super) ctx: SessionContext,
    pub(super) bounds: Bounds,
    pub(super) engine: EngineKind,
}

impl SqlSession {
    /// Runs one statement, refusing anything that writes or changes
    /// settings, within the session's bounds.
    pub async fn run(&self, sql: &str) -> Result<QueryResult> {
        let bounds = &self.bounds;
        let run = async {
            let read_only = SQLOptions::new()
                .with_allow_ddl(false)
                .with_allow_dml(false)
                .with_allow_statements(false);
            let df = match self.ctx.sql_with_options(sql, read_only).await {
                Ok(df) => df,
                Err(e) => return Err(sql_error(&self.ctx, e)),
            };
            let schema: SchemaRef = Arc::new(df.schema().as_arrow().clone());
            let batches = df.collect().await.map_err(|e| execution_error(e, bounds))?;
            Ok(QueryResult { schema, batches })
        };
        match tokio::time::timeout(bounds.time, run).await {
            Ok(outcome) => outcome,
            Err(_) => bail!(crate::Hinted::new(
                format!(
                    "the query was stopped after {} s (--timeout)",
                    bounds.time.as_secs()
                ),
                match self.engine {
                    EngineKind::Local =>
                        "narrow it (a WHERE on `date`, fewer joins), or give it more time with --timeout SECONDS",
                    EngineKind::Cluster(_) =>
                        "narrow it (a WHERE on `date`, fewer joins), or give it more time with --timeout SECONDS; \
                        a Ballista 55 job that unions an empty scan with a real one never finishes (docs/scale-out.md)",
                },
            )),
        }
    }

    /// The session's tables and views, the lake's tables first, each with
    /// its columns: `name`, `kind` (`table` or `view`), `columns`.
    pub async fn tables(&self) -> Result<QueryResult> {
        let mut rows = Vec::new();
        for name in self.names() {
            let Some(provider) = self.schema_provider()?.table(&name).await? else {
                continue;
            };
            let columns: Vec<String> = provider
                .schema()
                .fields()
                .iter()
                .map(|f| f.name().clone())
                .collect();
            rows.push([name.clone(), kind(&name).to_owned(), columns.join(", ")]);
        }
        text_result(&["name", "kind", "columns"], rows)
    }

    /// One table's or view's columns: `column`, `type`, `nullable`.
    pub async fn columns(&self, name: &str) -> Result<QueryResult> {
        let Some(provider) = self.schema_provider()?.table(name).await? else {
            bail!(crate::Hinted::new(
                format!("no table or view named `{name}`"),
                format!("tables and views: {}", self.names().join(", ")),
            ));
        };
        let rows = provider
            .schema()
            .fields()
            .iter()
            .map(|f| {
                [
                    f.name().clone(),
                    f.data_type().to_string(),
                    if f.is_nullable() { "yes" } else { "no" }.to_owned(),
                ]
            })
            .collect();
        text_result(&["column", "type", "nullable"], rows)
    }

    /// The names of the session's tables and views: the lake's tables in
    /// their order, then the views by name.
    pub fn names(&self) -> Vec<String> {
        let mut names = self
            .schema_provider()
            .map(|s| s.table_names())
            .unwrap_or_default();
        names.sort_by_key(|n| {
            let table = Table::ALL.iter().position(|t| t.name() == n);
            (table.unwrap_or(usize::MAX), n.clone())
        });
        names
    }

    fn schema_provider(&self) -> Result<Arc<dyn datafusion::catalog::SchemaProvider>> {
        self.ctx
            .catalog("datafusion")
            .and_then(|c| c.schema("public"))
            .ok_or_else(|| anyhow::anyhow!("the session has no `public` schema"))
    }
}

fn kind(name: &str) -> &'static str {
    if Table::ALL.iter().any(|t| t.name() == name) {
        "table"
    } else {
        "view"
    }
}

/// Rows of text as a query result, for the shell's listings.
fn text_result<const N: usize>(names: &[&str; N], rows: Vec<[String; N]>) -> Result<QueryResult> {
    let schema: SchemaRef = Arc::new(Schema::new(
        names
            .iter()
            .map(|n| Field::new(*n, DataType::Utf8, false))
            .collect::<Vec<_>>(),
    ));
    let columns: Vec<ArrayRef> = (0..N)
        .map(|i| Arc::new(StringArray::from_iter_values(rows.iter().map(|r| &r[i]))) as ArrayRef)
        .collect();
    let batch = RecordBatch::try_new(Arc::clone(&schema), columns)?;
    Ok(QueryResult {
        schema,
        batches: vec![batch],
    })
}
