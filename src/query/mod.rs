//! The query stage: the only place that talks to DataFusion. It registers
//! the lake's tables, the shared snapshot views and the named queries kept
//! in `queries/`, and runs analysts' read-only SQL.

mod analyst;
mod cache;
mod catalog;
mod cluster;
mod functions;
mod location;
pub mod output;
mod shared;
mod statements;

use std::path::Path;
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use chrono::{NaiveDate, TimeDelta};
use datafusion::arrow::array::{Array, AsArray, RecordBatch};
use datafusion::arrow::datatypes::Int64Type;
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::common::{ScalarValue, ToDFSchema};
use datafusion::dataframe::DataFrame;
use datafusion::datasource::TableProvider;
use datafusion::datasource::file_format::parquet::ParquetFormat;
use datafusion::datasource::listing::{ListingOptions, ListingTable, ListingTableConfig};
use datafusion::execution::disk_manager::{DiskManagerBuilder, DiskManagerMode};
use datafusion::execution::runtime_env::RuntimeEnvBuilder;
use datafusion::logical_expr::{EmptyRelation, Expr, LogicalPlan, LogicalPlanBuilder};
use datafusion::prelude::{SessionConfig, SessionContext, col, lit};

pub use analyst::SqlSession;
pub use catalog::{NamedQuery, named_queries, named_queries_with};
pub use cluster::EngineKind;
pub use functions::percentage;
pub use location::Location;
pub use shared::SharedSession;
pub use statements::{Split, Statement, split as split_statements};

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
pub struct Engine {
    lake: Location,
    /// The object store of an `s3://` lake, given to every session.
    store: Option<Arc<dyn datafusion::object_store::ObjectStore>>,
    as_of: NaiveDate,
    /// The newest day of `reports` that holds a file (the cluster check).
    newest_reports: Option<NaiveDate>,
    engine: EngineKind,
    /// Which days' compacted snapshot is valid (docs/compaction.md), and
    /// which days hold files; read under the lock.
    snapshot: lake::SnapshotDays,
    /// A folder lake's shared lock; an object store has no locks (a lake is
    /// published there whole, docs/scale-out.md).
    _lock: Option<lake::ReadLock>,
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
    /// Opens a lake folder or object-store prefix for reading. Fails, with a
    /// hint, when there is no lake or it holds no reports yet.
    pub async fn open(lake: &Location, as_of: Option<NaiveDate>) -> Result<Engine> {
        match lake {
            Location::Dir(dir) => Engine::open_dir(dir, as_of),
            Location::S3(url) => Engine::open_store(url, as_of).await,
        }
    }

    fn open_dir(lake_dir: &Path, as_of: Option<NaiveDate>) -> Result<Engine> {
        // A lake whose every row was quarantined has an ingest log: its
        // quarantine is worth reading.
        let has_data = [Table::Reports, Table::IngestLog]
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
        let snapshot = lake::SnapshotDays::of(lake_dir)?;
        // With nothing observed yet, the day of the newest ingest run.
        let newest = match newest_partition(lake_dir)? {
            Some(day) => Some(day),
            None => newest_partition_of(lake_dir, Table::IngestLog)?,
        };
        let as_of = match (as_of, newest) {
            (Some(day), _) => day,
            (None, Some(day)) => {
                warn_if_future(&lake_dir.display(), day);
                day
            }
            (None, None) => bail!(crate::Hinted::new(
                format!("the lake `{}` holds no reports yet", lake_dir.display()),
                "ingest some with `posture ingest --lake LAKE INBOX`",
            )),
        };
        Ok(Engine {
            lake: Location::Dir(lake_dir.to_path_buf()),
            store: None,
            as_of,
            newest_reports: newest_partition_of(lake_dir, Table::Reports)?,
            engine: EngineKind::Local,
            snapshot,
            _lock: Some(lock),
        })
    }

    async fn open_store(url: &url::Url, as_of: Option<NaiveDate>) -> Result<Engine> {
        let store = location::s3_store(url)?;
        let newest_of = async |table| -> Result<Option<NaiveDate>> {
            let files = location::store_files(store.as_ref(), url, table).await?;
            Ok(files.into_iter().map(|(day, _)| day).max())
        };
        let newest_reports = newest_of(Table::Reports).await?;
        let mut newest = newest_reports;
        for table in Table::VENDOR {
            newest = newest.max(newest_of(table).await?);
        }
        let Some(newest) = newest else {
            bail!(crate::Hinted::new(
                format!("`{url}` holds no lake: no `reports/date=…/*.parquet`"),
                "publish a lake there (docs/scale-out.md), and check the bucket and prefix",
            ));
        };
        let snapshot = location::store_snapshot(store.as_ref(), url).await?;
        Ok(Engine {
            lake: Location::S3(url.clone()),
            store: Some(store),
            as_of: as_of.unwrap_or_else(|| {
                warn_if_future(url, newest);
                newest
            }),
            newest_reports,
            engine: EngineKind::Local,
            snapshot,
            _lock: None,
        })
    }

    /// Runs this lake's queries on `engine`. A cluster must see the lake
    /// as this machine does: a Ballista scheduler that cannot see the files
    /// answers with empty results rather than an error, so the newest day of
    /// `reports` is read on both sides first and must agree.
    pub async fn on(mut self, engine: EngineKind) -> Result<Engine> {
        if engine == EngineKind::Local {
            return Ok(self);
        }
        let here = self.probe().await?;
        self.engine = engine;
        let there = self
            .probe()
            .await
            .with_context(|| format!("the cluster `{}` cannot read the lake", self.engine))?;
        if here != there {
            bail!(crate::Hinted::new(
                format!(
                    "the cluster `{}` sees {} reports in the newest day of `{}`, this machine sees {}",
                    self.engine, there.0, self.lake, here.0
                ),
                match &self.lake {
                    Location::Dir(dir) => format!(
                        "every scheduler and executor must see the lake at the same path (`{}`); see docs/scale-out.md",
                        std::path::absolute(dir)?.display()
                    ),
                    Location::S3(url) => format!(
                        "every scheduler and executor must be able to read `{url}` (their AWS_* environment); see docs/scale-out.md"
                    ),
                },
            ));
        }
        Ok(self)
    }

    /// The newest partition of `reports` read for real (rows and bytes of
    /// `report_id`), so that listing the files and reading them are both
    /// exercised where the plan runs.
    async fn probe(&self) -> Result<(i64, i64)> {
        use datafusion::functions::expr_fn::octet_length;
        use datafusion::functions_aggregate::expr_fn::{count, sum};
        let ctx = self
            .session(&SnapshotOptions::default(), 1, false, MEMORY_LIMIT)
            .await?;
        let newest = self
            .newest_reports
            .map(|d| d.format("%Y-%m-%d").to_string());
        let batches = ctx
            .table(Table::Reports.name())
            .await?
            .filter(col(PARTITION_COLUMN).eq(lit(newest.unwrap_or_default())))?
            .aggregate(
                vec![],
                vec![
                    count(lit(1)).alias("rows"),
                    sum(octet_length(col("report_id"))).alias("bytes"),
                ],
            )?
            .collect()
            .await?;
        let value = |column: usize| -> i64 {
            batches
                .first()
                .and_then(|b| b.column(column).as_primitive_opt::<Int64Type>())
                .filter(|a| !a.is_empty() && !a.is_null(0))
                .map_or(0, |a| a.value(0))
        };
        Ok((value(0), value(1)))
    }

    /// Where the lake is read from.
    pub fn lake(&self) -> &Location {
        &self.lake
    }

    /// An object-store lake's files with their SHA-256, named as in a
    /// folder lake (`reports/date=…/….parquet`).
    pub async fn store_checksums(&self) -> Result<Vec<(String, String)>> {
        match (&self.lake, &self.store) {
            (Location::S3(url), Some(store)) => {
                location::store_checksums(store.as_ref(), url).await
            }
            _ => bail!("`{}` is not an object-store lake", self.lake),
        }
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
        if let (Location::S3(url), Some(store)) = (&self.lake, &self.store) {
            runtime.register_object_store(url, Arc::clone(store));
        }
        let mut config = SessionConfig::from_env()?.with_information_schema(true);
        // Reading raw or daily rows of many days, of which the joins keep
        // few (each device's latest report), the scans test the joins'
        // filters while decoding and decode the other columns of the rows
        // kept only (at 2,000,000 reports, `device_detail` 8.7 -> 6.8 s);
        // reading the as-of snapshot, whose rows all join, that is extra
        // work (docs/benchmarks.md). The environment may still say.
        let one_day = (days == 1).then_some(self.as_of);
        let reads_as_of = self.reads_as_of_snapshot(one_day);
        if std::env::var_os("DATAFUSION_EXECUTION_PARQUET_PUSHDOWN_FILTERS").is_none() {
            config.options_mut().execution.parquet.pushdown_filters = !reads_as_of;
        }
        let ctx = cluster::context(&self.engine, config, runtime).await?;
        functions::register(&ctx);
        for table in Table::ALL {
            let provider = listing_table(&ctx, &self.lake, table)?;
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
        self.register_day_end_tables(&ctx, cut.then_some(self.as_of), one_day)
            .await?;
        ctx.register_table(
            "snapshot_days",
            snapshot_days(&ctx, self.as_of, options.stale_days, days)?,
        )?;
        ctx.register_table("parameters", parameters(&ctx, self.as_of, options)?)?;
        // On the local engine, `latest_reports` is computed once per
        // session, and the current states read the days that hold a latest
        // report (cache.rs); the `day_end_*` names keep the whole tables.
        let mut whole_tables = Vec::new();
        for (name, sql) in catalog::VIEWS {
            ctx.sql(catalog::view_sql(name, sql, days))
                .await
                .with_context(|| format!("cannot create the view `{name}`"))?;
            match name {
                // Read by several views of one plan: computed once.
                "machine_keys" | "device_keys" if self.engine == EngineKind::Local => {
                    cache_view(&ctx, name).await?;
                }
                // Created after every view that must read the whole
                // `day_end_*` tables, before the current states.
                "current_export_policy_states" if self.engine == EngineKind::Local => {
                    whole_tables = share_latest_reports(&ctx).await?;
                }
                "current_setting_states" => {
                    for (table, whole) in whole_tables.drain(..) {
                        ctx.deregister_table(table)?;
                        ctx.register_table(table, whole)?;
                    }
                }
                _ => {}
            }
        }
        if reads_as_of && !cut {
            // An analyst's `day_end_*` tables, and the views that show
            // every day's reports, are whole; the snapshot views keep
            // reading the as-of snapshot.
            for (raw, _) in Table::SNAPSHOT {
                ctx.deregister_table(format!("day_end_{}", raw.name()))?;
            }
            self.register_day_end_tables(&ctx, None, None).await?;
            for (name, sql) in catalog::VIEWS {
                if ["day_end_keyed_reports", "last_reports_of_day"].contains(&name) {
                    ctx.deregister_table(name)?;
                    ctx.sql(catalog::view_sql(name, sql, days))
                        .await
                        .with_context(|| format!("cannot create the view `{name}`"))?;
                }
            }
        }
        Ok(ctx)
    }

    /// `day_end_reports`, `day_end_policy_states`, `day_end_setting_states`:
    /// for each day, the valid snapshot partition of the day (each device's
    /// last report of the day, with its rows) or else the raw partition. The
    /// views that need only each day's last report read these
    /// (docs/compaction.md); the same rows win there as in the raw tables.
    /// With `cut`, only the days up to it. With `one_day` (a session whose
    /// snapshot is that one day), a valid as-of snapshot of a day up to it
    /// stands for every day up to its own: it holds each device's newest
    /// report by then, which is all such a snapshot's views need of them.
    pub(crate) async fn register_day_end_tables(
        &self,
        ctx: &SessionContext,
        cut: Option<NaiveDate>,
        one_day: Option<NaiveDate>,
    ) -> Result<()> {
        let as_of = self
            .reads_as_of_snapshot(one_day)
            .then(|| self.snapshot.as_of.clone())
            .flatten();
        let cut = cut.map(|day| day.format("%Y-%m-%d").to_string());
        let in_scope = |day: &String| {
            cut.as_ref().is_none_or(|cut| day <= cut)
                && as_of.as_ref().is_none_or(|as_of| day > as_of)
        };
        for (raw, daily, as_of_table) in Table::AS_OF {
            let name = format!("day_end_{}", raw.name());
            let mut raw_rows = ctx.table(raw.name()).await?;
            if let Some(cut) = &cut {
                raw_rows = raw_rows.filter(col(PARTITION_COLUMN).lt_eq(lit(cut.as_str())))?;
            }
            // Each side is read only when it has files in this session's
            // days. An empty side is left out rather than unioned in as an
            // empty scan: on a Ballista 55 cluster such a union never
            // finishes (its tasks report different numbers of operator
            // metrics, docs/scale-out.md). The rows are the same.
            let valid = &self.snapshot.valid;
            let days = |table: Table, from_snapshot: bool| -> Vec<Expr> {
                self.snapshot.with_files[&table]
                    .iter()
                    .filter(|day| valid.contains(*day) == from_snapshot && in_scope(day))
                    .map(|day| lit(day.as_str()))
                    .collect()
            };
            let (from_snapshot, from_raw) = (days(daily, true), days(raw, false));
            let mut parts = Vec::new();
            if as_of.is_some() {
                parts.push(ctx.read_table(listing_table(ctx, &self.lake, as_of_table)?)?);
            }
            if !from_snapshot.is_empty() {
                parts.push(
                    ctx.read_table(listing_table(ctx, &self.lake, daily)?)?
                        .filter(col(PARTITION_COLUMN).in_list(from_snapshot, false))?,
                );
            }
            if parts.is_empty() {
                parts.push(raw_rows);
            } else if !from_raw.is_empty() {
                parts.push(raw_rows.filter(col(PARTITION_COLUMN).in_list(from_raw, false))?);
            }
            let mut parts = parts.into_iter();
            let mut rows = parts.next().expect("one side at least");
            for part in parts {
                rows = rows.union(part)?;
            }
            ctx.register_table(name, rows.into_view())?;
        }
        Ok(())
    }

    /// Whether a session whose snapshot is the one day `one_day` reads the
    /// as-of snapshot (a valid one of a day up to it, on the local engine)
    /// in place of the days up to the as-of snapshot's.
    fn reads_as_of_snapshot(&self, one_day: Option<NaiveDate>) -> bool {
        let (Some(one_day), Some(day)) = (one_day, &self.snapshot.as_of) else {
            return false;
        };
        self.engine == EngineKind::Local && *day <= one_day.format("%Y-%m-%d").to_string()
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
        self.sql_session(options, bounds).await?.run(sql).await
    }

    /// A session for an analyst's statements, one after another (the shell
    /// of `posture sql`), each refused if it writes, and bounded.
    pub async fn sql_session(
        &self,
        options: &SnapshotOptions,
        bounds: &Bounds,
    ) -> Result<SqlSession> {
        let memory = usize::try_from(bounds.memory_bytes).unwrap_or(usize::MAX);
        Ok(SqlSession {
            ctx: self.session(options, 1, false, memory).await?,
            bounds: bounds.clone(),
            engine: self.engine.clone(),
        })
    }
}

/// Replaces the views `latest_reports` and `current_export_policy_states`
/// by their rows computed once, and the `day_end_*` tables the current
/// states read by the same cut to the days of those rows' reports; returns
/// the whole tables, to be put back once the views that read the cut ones
/// are created.
async fn share_latest_reports(
    ctx: &SessionContext,
) -> Result<Vec<(&'static str, Arc<dyn TableProvider>)>> {
    let mut shared = Vec::new();
    for name in ["latest_reports", "current_export_policy_states"] {
        shared.push(cache_view(ctx, name).await?);
    }
    let mut whole_tables = Vec::new();
    for table in ["day_end_policy_states", "day_end_setting_states"] {
        let whole = ctx.table_provider(table).await?;
        let cut = cache::OnReportDays::new(Arc::clone(&whole), shared.clone());
        ctx.deregister_table(table)?;
        ctx.register_table(table, Arc::new(cut))?;
        whole_tables.push((table, whole));
    }
    Ok(whole_tables)
}

/// Replaces the view `name` by its rows, computed the first time a plan
/// reads them (cache.rs); views created after it read those rows.
async fn cache_view(ctx: &SessionContext, name: &str) -> Result<Arc<cache::CachedView>> {
    let view = ctx.table_provider(name).await?;
    let plan = view
        .get_logical_plan()
        .with_context(|| format!("`{name}` is not a view"))?
        .into_owned();
    let rows = Arc::new(cache::CachedView::new(name, plan));
    ctx.deregister_table(name)?;
    ctx.register_table(name, Arc::clone(&rows) as Arc<dyn TableProvider>)?;
    Ok(rows)
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
fn listing_table(
    ctx: &SessionContext,
    lake: &Location,
    table: Table,
) -> Result<Arc<dyn TableProvider>> {
    // An object store has no folders: a table without files lists empty.
    if let Location::Dir(dir) = lake
        && !dir.join(table.name()).is_dir()
    {
        // Nothing was ever written to it (a clean ingest has no quarantine).
        let mut fields = table.schema().fields().to_vec();
        fields.push(Arc::new(Field::new(
            PARTITION_COLUMN,
            DataType::Utf8,
            false,
        )));
        let schema = Schema::new(fields).to_dfschema_ref()?;
        let plan = LogicalPlan::EmptyRelation(EmptyRelation {
            produce_one_row: false,
            schema,
        });
        return Ok(DataFrame::new(ctx.state(), plan).into_view());
    }
    let url = lake.table_url(table)?;
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
fn warn_if_future(lake: &dyn std::fmt::Display, newest: NaiveDate) {
    let today = chrono::Utc::now().date_naive();
    if newest > today + TimeDelta::days(1) {
        eprintln!(
            "warning: the lake `{}` holds reports dated {newest}, after today ({today}); the default --as-of is that day\n\
             hint: pass --as-of, and look for a device whose clock is wrong: \
             posture sql --lake LAKE \"SELECT device_id, observed_at FROM reports WHERE date > '{today}'\"",
            lake
        );
    }
}

/// The newest `date=` partition of `reports` or a vendor table that holds a
/// file: the UTC date of the newest `observed_at`, read from the layout
/// rather than the data.
pub fn newest_partition(lake_dir: &Path) -> Result<Option<NaiveDate>> {
    let mut newest = newest_partition_of(lake_dir, Table::Reports)?;
    for table in Table::VENDOR {
        newest = newest.max(newest_partition_of(lake_dir, table)?);
    }
    Ok(newest)
}

/// The newest `date=` partition of one table that holds a file.
fn newest_partition_of(lake_dir: &Path, table: Table) -> Result<Option<NaiveDate>> {
    Ok(lake::table_files(lake_dir, table)?
        .iter()
        .filter_map(|f| {
            let dir = f.parent()?.file_name()?.to_str()?;
            let day = dir.strip_prefix(&format!("{PARTITION_COLUMN}="))?;
            NaiveDate::parse_from_str(day, "%Y-%m-%d").ok()
        })
        .max())
}

/// A table of literal rows, as a plan (`VALUES`) rather than a memory
/// table: a plan travels to a Ballista cluster, a memory table does not.
fn values_view(
    ctx: &SessionContext,
    columns: &[&str],
    rows: Vec<Vec<Expr>>,
) -> Result<Arc<dyn TableProvider>> {
    let names = columns
        .iter()
        .enumerate()
        .map(|(i, name)| col(format!("column{}", i + 1)).alias(*name));
    let plan = LogicalPlanBuilder::values(rows)?.project(names)?.build()?;
    Ok(DataFrame::new(ctx.state(), plan).into_view())
}

fn date_literal(day: NaiveDate) -> Result<Expr> {
    let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).expect("valid date");
    let days = i32::try_from((day - epoch).num_days())?;
    Ok(lit(ScalarValue::Date32(Some(days))))
}

fn timestamp_literal(micros: i64) -> Expr {
    lit(ScalarValue::TimestampMicrosecond(
        Some(micros),
        Some("UTC".into()),
    ))
}

/// The query's parameters as a one-row table: `as_of`, `stale_days`, `days`
/// and `device_id` (lower case, as the lake stores it; NULL when not given).
fn parameters(
    ctx: &SessionContext,
    as_of: NaiveDate,
    options: &SnapshotOptions,
) -> Result<Arc<dyn TableProvider>> {
    let device = options.device.as_ref().map(|d| d.to_lowercase());
    values_view(
        ctx,
        &["as_of", "stale_days", "days", "device_id"],
        vec![vec![
            date_literal(as_of)?,
            lit(i64::from(options.stale_days)),
            lit(i64::from(options.days)),
            lit(ScalarValue::Utf8(device)),
        ]],
    )
}

/// One row per snapshot day: the day, its end (exclusive) and the staleness
/// cut-off. Parameters travel as data, never pasted into SQL text.
fn snapshot_days(
    ctx: &SessionContext,
    as_of: NaiveDate,
    stale_days: u32,
    days: u32,
) -> Result<Arc<dyn TableProvider>> {
    let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).expect("valid date");
    let mut rows = Vec::new();
    for back in (0..days.max(1)).rev() {
        let day = as_of - TimeDelta::days(i64::from(back));
        let end = ((day - epoch).num_days() + 1) * MICROS_PER_DAY;
        rows.push(vec![
            date_literal(day)?,
            timestamp_literal(end),
            timestamp_literal(end - i64::from(stale_days) * MICROS_PER_DAY),
        ]);
    }
    values_view(ctx, &["day", "day_end", "stale_before"], rows)
}
