//! The query stage: the only place that talks to DataFusion. It registers
//! the lake's tables, the shared snapshot views and the named queries kept
//! in `queries/`, and runs analysts' read-only SQL.

mod catalog;
mod functions;
pub mod output;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use chrono::{NaiveDate, TimeDelta};
use datafusion::arrow::array::{
    Date32Array, Int64Array, RecordBatch, StringArray, TimestampMicrosecondArray,
};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::datasource::file_format::parquet::ParquetFormat;
use datafusion::datasource::listing::{
    ListingOptions, ListingTable, ListingTableConfig, ListingTableUrl,
};
use datafusion::datasource::{MemTable, TableProvider};
use datafusion::execution::disk_manager::{DiskManagerBuilder, DiskManagerMode};
use datafusion::execution::runtime_env::RuntimeEnvBuilder;
use datafusion::prelude::{SQLOptions, SessionConfig, SessionContext, col, lit};

pub use catalog::{NamedQuery, named_queries, named_queries_with};
pub use functions::percentage;

use crate::lake::{self, MICROS_PER_DAY, PARTITION_COLUMN, Table};

/// What a snapshot is computed for: `--as-of`, `--stale-days`, `--days`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnapshotOptions {
    /// `None`: the UTC date of the newest report in the lake.
    pub as_of: Option<NaiveDate>,
    pub stale_days: u32,
    /// Days of history for queries that span days (compliance_trend).
    pub days: u32,
    /// The device a query is about (device_detail), as given.
    pub device: Option<String>,
}

impl Default for SnapshotOptions {
    fn default() -> Self {
        SnapshotOptions {
            as_of: None,
            stale_days: 7,
            days: 30,
            device: None,
        }
    }
}

/// A query's result: its schema (kept even when there are no rows) and rows.
#[derive(Debug, Clone)]
pub struct QueryResult {
    pub schema: SchemaRef,
    pub batches: Vec<RecordBatch>,
}

impl QueryResult {
    pub fn num_rows(&self) -> usize {
        self.batches.iter().map(RecordBatch::num_rows).sum()
    }
}

/// An open lake, ready to run queries.
#[derive(Debug)]
pub struct Engine {
    lake: PathBuf,
    as_of: NaiveDate,
    _lock: lake::ReadLock,
}

/// Memory DataFusion may use for a named query before it fails, rather than
/// the machine swapping.
const MEMORY_LIMIT: usize = 8 << 30;

/// What an analyst's query may cost: `posture sql --memory-limit --timeout`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bounds {
    pub memory_bytes: u64,
    pub time: std::time::Duration,
}

impl Default for Bounds {
    fn default() -> Bounds {
        Bounds {
            memory_bytes: 4 << 30,
            time: std::time::Duration::from_secs(300),
        }
    }
}

impl Engine {
    /// Opens the lake for reading. Fails, with a hint, when there is no lake
    /// or it holds no reports yet.
    pub fn open(lake_dir: &Path, as_of: Option<NaiveDate>) -> Result<Engine> {
        let has_data = [Table::Reports]
            .iter()
            .chain(Table::VENDOR.iter())
            .any(|t| lake_dir.join(t.name()).is_dir());
        if !has_data {
            bail!(crate::Hinted::new(
                format!(
                    "`{}` is not a lake: it has no `reports` table",
                    lake_dir.display()
                ),
                "create one with `posture ingest --lake LAKE INBOX`",
            ));
        }
        let lock = lake::lock_for_reading(lake_dir)?;
        let newest = newest_partition(lake_dir)?;
        let as_of = match (as_of, newest) {
            (Some(day), _) => day,
            (None, Some(day)) => {
                warn_if_future(lake_dir, day);
                day
            }
            (None, None) => bail!(crate::Hinted::new(
                format!("the lake `{}` holds no reports yet", lake_dir.display()),
                "ingest some with `posture ingest --lake LAKE INBOX`",
            )),
        };
        Ok(Engine {
            lake: lake_dir.to_path_buf(),
            as_of,
            _lock: lock,
        })
    }

    /// The as-of day in force: `--as-of`, or the day of the newest report.
    pub fn as_of(&self) -> NaiveDate {
        self.as_of
    }

    /// A session with the lake's tables and the snapshot views. With
    /// `snapshot`, the report tables are cut at the as-of day (so partitions
    /// after it are never read) and `snapshot_days` holds `days` days ending
    /// on it; without, analysts see the whole tables.
    async fn session(
        &self,
        options: &SnapshotOptions,
        days: u32,
        cut: bool,
        memory_bytes: usize,
    ) -> Result<SessionContext> {
        // No spilling: it would write temporary files outside the lake, and
        // a query over the limit should fail, not fill the disk.
        let runtime = RuntimeEnvBuilder::new()
            .with_memory_limit(memory_bytes, 1.0)
            .with_disk_manager_builder(
                DiskManagerBuilder::default().with_mode(DiskManagerMode::Disabled),
            )
            .build_arc()?;
        let config = SessionConfig::new().with_information_schema(true);
        let ctx = SessionContext::new_with_config_rt(config, runtime);
        functions::register(&ctx);
        for table in Table::ALL {
            let provider = listing_table(&self.lake, table)?;
            let cut_here = cut && table.holds_reports();
            if cut_here {
                let as_of = self.as_of.format("%Y-%m-%d").to_string();
                let view = ctx
                    .read_table(provider)?
                    .filter(col(PARTITION_COLUMN).lt_eq(lit(as_of)))?
                    .into_view();
                ctx.register_table(table.name(), view)?;
            } else {
                ctx.register_table(table.name(), provider)?;
            }
        }
        ctx.register_table(
            "snapshot_days",
            snapshot_days(self.as_of, options.stale_days, days)?,
        )?;
        ctx.register_table("parameters", parameters(self.as_of, options)?)?;
        for (name, sql) in catalog::VIEWS {
            ctx.sql(sql)
                .await
                .with_context(|| format!("cannot create the view `{name}`"))?;
        }
        Ok(ctx)
    }

    /// Runs a named query of `queries/`.
    pub async fn run_named(
        &self,
        query: &NamedQuery,
        options: &SnapshotOptions,
    ) -> Result<QueryResult> {
        let days = if query.spans_days {
            options.days.max(1)
        } else if query.compares_days {
            2
        } else {
            1
        };
        let ctx = self.session(options, days, true, MEMORY_LIMIT).await?;
        let df = ctx
            .sql(&query.sql)
            .await
            .with_context(|| format!("the query `{}` does not plan", query.name))?;
        collect(df)
            .await
            .with_context(|| format!("the query `{}` failed", query.name))
    }

    /// Runs an analyst's SQL, refusing anything that writes or changes
    /// settings, within `bounds`. The snapshot views are there for the
    /// default as-of day.
    pub async fn run_sql(
        &self,
        sql: &str,
        options: &SnapshotOptions,
        bounds: &Bounds,
    ) -> Result<QueryResult> {
        let memory = usize::try_from(bounds.memory_bytes).unwrap_or(usize::MAX);
        let run = async {
            let ctx = self.session(options, 1, false, memory).await?;
            let read_only = SQLOptions::new()
                .with_allow_ddl(false)
                .with_allow_dml(false)
                .with_allow_statements(false);
            let df = match ctx.sql_with_options(sql, read_only).await {
                Ok(df) => df,
                Err(e) => return Err(sql_error(&ctx, e)),
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
                "narrow it (a WHERE on `date`, fewer joins), or give it more time with --timeout SECONDS",
            )),
        }
    }
}

/// A query that ran out of its memory says which flag bounds it.
fn execution_error(e: datafusion::error::DataFusionError, bounds: &Bounds) -> anyhow::Error {
    let message = e.strip_backtrace();
    if matches!(
        e.find_root(),
        datafusion::error::DataFusionError::ResourcesExhausted(_)
    ) {
        return crate::Hinted::new(
            format!(
                "the query needs more memory than its limit of {} MiB (--memory-limit): {message}",
                bounds.memory_bytes >> 20
            ),
            "narrow it (a WHERE on `date`, fewer columns or groups), or give it more with --memory-limit SIZE",
        )
        .into();
    }
    anyhow::anyhow!(message)
}

async fn collect(df: datafusion::dataframe::DataFrame) -> Result<QueryResult> {
    let schema: SchemaRef = Arc::new(df.schema().as_arrow().clone());
    let batches = df.collect().await?;
    Ok(QueryResult { schema, batches })
}

/// Turns DataFusion's planning errors into one plain sentence with a hint.
fn sql_error(ctx: &SessionContext, e: datafusion::error::DataFusionError) -> anyhow::Error {
    let message = e.strip_backtrace();
    let lower = message.to_lowercase();
    // SQLOptions refuses with "DDL not supported: ...", "DML not supported: ..."
    // or "Statement not supported: ...".
    let writes = [
        "ddl not supported",
        "dml not supported",
        "statement not supported",
    ];
    if writes.iter().any(|w| lower.contains(w)) {
        return crate::Hinted::new(
            format!("refused: `posture sql` is read-only ({message})"),
            "only queries (SELECT, WITH, EXPLAIN of a query) are allowed",
        )
        .into();
    }
    if lower.contains("not found") || lower.contains("no field named") {
        let mut tables: Vec<String> = ctx
            .catalog("datafusion")
            .and_then(|c| c.schema("public"))
            .map(|s| s.table_names())
            .unwrap_or_default();
        tables.sort();
        return crate::Hinted::new(
            message,
            format!(
                "tables and views: {}; see a table's columns with `SHOW COLUMNS FROM reports`",
                tables.join(", ")
            ),
        )
        .into();
    }
    anyhow::anyhow!(message)
}

/// A lake table as DataFusion sees it: Hive partitions as a `date` column,
/// the schema of the contract (so an empty table still has its columns).
fn listing_table(lake_dir: &Path, table: Table) -> Result<Arc<dyn TableProvider>> {
    let dir = std::path::absolute(lake_dir.join(table.name()))?;
    if !dir.is_dir() {
        // Nothing was ever written to it (a clean ingest has no quarantine).
        let mut fields = table.schema().fields().to_vec();
        fields.push(Arc::new(Field::new(
            PARTITION_COLUMN,
            DataType::Utf8,
            false,
        )));
        let schema = Arc::new(Schema::new(fields));
        return Ok(Arc::new(MemTable::try_new(schema, vec![vec![]])?));
    }
    let url = url::Url::from_directory_path(&dir)
        .map_err(|()| anyhow::anyhow!("cannot turn `{}` into a URL", dir.display()))?;
    let url = ListingTableUrl::try_new(url, None)?;
    let options = ListingOptions::new(Arc::new(ParquetFormat::default()))
        .with_file_extension(".parquet")
        .with_table_partition_cols(vec![(PARTITION_COLUMN.to_owned(), DataType::Utf8)]);
    let config = ListingTableConfig::new(url)
        .with_listing_options(options)
        .with_schema(table.schema());
    Ok(Arc::new(ListingTable::try_new(config)?))
}

/// A tokio runtime for DataFusion, which is async.
pub fn runtime() -> Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?)
}

/// The default as-of day follows the newest report, as the spec says, so
/// one agent with a clock years ahead moves every snapshot to that day (and
/// every other device looks stale). The rule stands; the surprise is said.
fn warn_if_future(lake_dir: &Path, newest: NaiveDate) {
    let today = chrono::Utc::now().date_naive();
    if newest > today + TimeDelta::days(1) {
        eprintln!(
            "warning: the lake `{}` holds reports dated {newest}, after today ({today}); the default --as-of is that day\n\
             hint: pass --as-of, and look for a device whose clock is wrong: \
             posture sql --lake LAKE \"SELECT device_id, observed_at FROM reports WHERE date > '{today}'\"",
            lake_dir.display()
        );
    }
}

/// The newest `date=` partition of `reports` or a vendor table that holds a
/// file: the UTC date of the newest `observed_at`, read from the layout
/// rather than the data.
pub fn newest_partition(lake_dir: &Path) -> Result<Option<NaiveDate>> {
    let mut files = lake::table_files(lake_dir, Table::Reports)?;
    for table in Table::VENDOR {
        files.extend(lake::table_files(lake_dir, table)?);
    }
    Ok(files
        .iter()
        .filter_map(|f| {
            let dir = f.parent()?.file_name()?.to_str()?;
            let day = dir.strip_prefix(&format!("{PARTITION_COLUMN}="))?;
            NaiveDate::parse_from_str(day, "%Y-%m-%d").ok()
        })
        .max())
}

/// The query's parameters as a one-row table: `as_of`, `stale_days`, `days`
/// and `device_id` (lower case, as the lake stores it; NULL when not given).
fn parameters(as_of: NaiveDate, options: &SnapshotOptions) -> Result<Arc<MemTable>> {
    let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).expect("valid date");
    let schema = Arc::new(Schema::new(vec![
        Field::new("as_of", DataType::Date32, false),
        Field::new("stale_days", DataType::Int64, false),
        Field::new("days", DataType::Int64, false),
        Field::new("device_id", DataType::Utf8, true),
    ]));
    let batch = RecordBatch::try_new(
        schema.clone(),
        vec![
            Arc::new(Date32Array::from(vec![i32::try_from(
                (as_of - epoch).num_days(),
            )?])),
            Arc::new(Int64Array::from(vec![i64::from(options.stale_days)])),
            Arc::new(Int64Array::from(vec![i64::from(options.days)])),
            Arc::new(StringArray::from(vec![
                options.device.as_ref().map(|d| d.to_lowercase()),
            ])),
        ],
    )?;
    Ok(Arc::new(MemTable::try_new(schema, vec![vec![batch]])?))
}

/// One row per snapshot day: the day, its end (exclusive) and the staleness
/// cut-off. Parameters travel as data, never pasted into SQL text.
fn snapshot_days(as_of: NaiveDate, stale_days: u32, days: u32) -> Result<Arc<MemTable>> {
    let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).expect("valid date");
    let mut day_numbers = Vec::new();
    let mut ends = Vec::new();
    let mut stale_before = Vec::new();
    for back in (0..days).rev() {
        let day = as_of - TimeDelta::days(i64::from(back));
        let number = (day - epoch).num_days();
        let end = (number + 1) * MICROS_PER_DAY;
        day_numbers.push(i32::try_from(number)?);
        ends.push(end);
        stale_before.push(end - i64::from(stale_days) * MICROS_PER_DAY);
    }
    let schema = Arc::new(Schema::new(vec![
        Field::new("day", DataType::Date32, false),
        lake::timestamp("day_end", false),
        lake::timestamp("stale_before", false),
    ]));
    let batch = RecordBatch::try_new(
        schema.clone(),
        vec![
            Arc::new(Date32Array::from(day_numbers)),
            Arc::new(TimestampMicrosecondArray::from(ends).with_timezone("UTC")),
            Arc::new(TimestampMicrosecondArray::from(stale_before).with_timezone("UTC")),
        ],
    )?;
    Ok(Arc::new(MemTable::try_new(schema, vec![vec![batch]])?))
}
