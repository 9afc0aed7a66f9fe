//! One session for a whole bundle. `posture report` and `posture run` run
//! many named queries over the same lake and as-of day; one session
//! registers the lake's tables once, and, when the plans run in this
//! process, computes the views most of them read once, into files of the
//! bundle's work folder, instead of once per query. Results are streams of
//! record batches, so a caller holds one batch at a time.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, Result};
use chrono::{NaiveDate, TimeDelta};
use datafusion::arrow::array::{Array, AsArray};
use datafusion::arrow::datatypes::{DataType, Date32Type, SchemaRef};
use datafusion::catalog::{CatalogProvider, MemorySchemaProvider, TableProvider};
use datafusion::datasource::file_format::parquet::ParquetFormat;
use datafusion::datasource::listing::{
    ListingOptions, ListingTable, ListingTableConfig, ListingTableUrl,
};
use datafusion::error::DataFusionError;
use datafusion::execution::SendableRecordBatchStream;
use datafusion::execution::disk_manager::{DiskManagerBuilder, DiskManagerMode};
use datafusion::execution::memory_pool::FairSpillPool;
use datafusion::execution::runtime_env::RuntimeEnvBuilder;
use datafusion::functions_aggregate::expr_fn::min;
use datafusion::parquet::arrow::ArrowWriter;
use datafusion::parquet::basic::{Compression, ZstdLevel};
use datafusion::parquet::file::properties::WriterProperties;
use datafusion::physical_plan::display::DisplayableExecutionPlan;
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::{ExecutionPlan, execute_stream};
use datafusion::prelude::{SessionConfig, SessionContext, col, lit};
use futures::StreamExt;

use super::{
    Engine, EngineKind, Location, NamedQuery, SnapshotOptions, catalog, cluster, functions,
    listing_table, parameters, snapshot_days,
};
use crate::lake::{PARTITION_COLUMN, Table};

/// Memory the bundle's queries may hold before their sorts and aggregates
/// spill to the work folder: the report's peak is this plus the rendering's
/// own few megabytes, whatever the fleet.
pub const BUNDLE_MEMORY: usize = 1 << 30;

/// A span of days (`snapshot_days` holding that many days to the as-of
/// day) with the views computed once in it when the plans run here, in the
/// order of `catalog::VIEWS`: each view created after one of these reads
/// its file instead of computing it again. `by_day`: computed a few days
/// at a time (`views_by_day`), each step's rows a file of their own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Span {
    days: u32,
    computed_once: &'static [&'static str],
    by_day: bool,
}

/// The as-of day, which most of a bundle's queries read: `device_keys`
/// and `device_platforms` (the same in every span, so shared by them) and
/// the day's snapshot.
const AS_OF_DAY: &[&str] = &[
    "device_keys",
    "device_platforms",
    "last_reports_of_day",
    "latest_reports",
    "current_policy_states",
    "current_setting_states",
    "current_failing_settings",
    "device_status",
];
/// The day before (`changes`) and `--days` days (both trends) read each
/// day's device status (and `changes` and `exceptions_trend` each day's
/// failing states). Their spans compute these a few days at a time
/// (`DEVICE_DAYS_PER_STEP`), so that no join holds more than about a
/// million devices' latest reports: computed for all the days at once,
/// `current_policy_states` held every device's latest report of every day
/// (a million devices over a week: 7 million rows, more than the bundle's
/// memory). A step's files serve every span that holds its days (the
/// as-of day's are those of `AS_OF_DAY`).
const EACH_DAY: &[&str] = &[
    "latest_reports",
    "current_policy_states",
    "current_failing_settings",
    "device_status",
];

/// Views that are the same in every span of days (`device_platforms`
/// reads the days up to the as-of day's end in every span, and
/// `last_reports_of_day` no snapshot day at all).
const SAME_IN_EVERY_SPAN: [&str; 3] = ["device_keys", "device_platforms", "last_reports_of_day"];

/// A session over one lake and as-of day in which named queries run one
/// after another, each as a stream.
pub struct SharedSession {
    /// One context per span of days (`snapshot_days` holding 1 day, 2, or
    /// `--days`), all over one catalog and one runtime: the same registered
    /// tables, memory pool and spill folder.
    spans: Vec<(u32, SessionContext)>,
    /// Whether the views were computed into files here, so that a query
    /// read device by device reads files, not the lake, for each range.
    computed_here: bool,
}

impl std::fmt::Debug for SharedSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let days: Vec<u32> = self.spans.iter().map(|(d, _)| *d).collect();
        f.debug_struct("SharedSession")
            .field("spans", &days)
            .finish()
    }
}

impl Engine {
    /// A session for a bundle's queries as of `options`. `work` is a folder
    /// of the bundle's that the caller removes afterwards: sorts spill there
    /// and the views computed once are written there.
    pub async fn shared_session(
        &self,
        options: &SnapshotOptions,
        work: &Path,
    ) -> Result<SharedSession> {
        let spill = work.join("spill");
        std::fs::create_dir_all(&spill)
            .with_context(|| format!("cannot create `{}`", spill.display()))?;
        let runtime = RuntimeEnvBuilder::new()
            // Fair, not greedy: sorts that can spill share what the joins
            // and merges that cannot leave, so one sort holding the pool
            // does not starve the merge of another (it spills instead).
            .with_memory_pool(Arc::new(FairSpillPool::new(BUNDLE_MEMORY)))
            .with_disk_manager_builder(
                DiskManagerBuilder::default().with_mode(DiskManagerMode::Directories(vec![spill])),
            )
            .build_arc()?;
        if let (Location::S3(url), Some(store)) = (&self.lake, &self.store) {
            runtime.register_object_store(url, Arc::clone(store));
        }
        // DataFusion's options may be tuned from the environment
        // (`DATAFUSION_EXECUTION_TARGET_PARTITIONS=1`, docs/report.md).
        let mut config = SessionConfig::from_env()?.with_information_schema(true);
        // Text read as plain strings: a sort's reservation for a batch of
        // string views counts the whole page buffers the views point into,
        // and at a million devices one batch asked for 200 MB.
        config
            .options_mut()
            .execution
            .parquet
            .schema_force_view_types = false;
        // Joins as written: each is written with the side it may hold in
        // memory first (docs/report.md). Reordered by its estimates,
        // DataFusion made `policy_devices` hold every device's policies
        // rather than the failing settings, and emit the devices with none
        // as one batch of hundreds of megabytes at a million devices.
        config.options_mut().optimizer.join_reordering = false;
        let base = cluster::context(&self.engine, config, runtime).await?;
        functions::register(&base);
        // The lake's tables, cut at the as-of day, created once.
        let as_of = self.as_of.format("%Y-%m-%d").to_string();
        let mut tables: Vec<(&str, Arc<dyn TableProvider>)> = Vec::new();
        for table in Table::ALL {
            let provider = listing_table(&base, &self.lake, table)?;
            let provider = if table.holds_reports() {
                base.read_table(provider)?
                    .filter(col(PARTITION_COLUMN).lt_eq(lit(as_of.clone())))?
                    .into_view()
            } else {
                provider
            };
            tables.push((table.name(), provider));
        }
        // Files of views computed here can be read by this process only.
        let computed_here = (self.engine == EngineKind::Local).then(|| work.join("views"));
        if let Some(dir) = &computed_here {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create `{}`", dir.display()))?;
        }
        let mut spans = Vec::new();
        let mut shared: HashMap<&str, Arc<dyn TableProvider>> = HashMap::new();
        // Each day's views computed so far, which later spans reuse.
        let mut computed_days: BTreeMap<NaiveDate, Step> = BTreeMap::new();
        for span in spans_of(options) {
            let days = span.days;
            let schema = if spans.is_empty() {
                "public".to_owned()
            } else {
                format!("days_{days}")
            };
            let ctx = self
                .days_context(&base, &tables, &schema, (self.as_of, days), options)
                .await?;
            let mut by_day = match (&computed_here, span.by_day) {
                (Some(dir), true) => {
                    let scope = DayScope {
                        base: &base,
                        tables: &tables,
                        shared: &shared,
                        dir,
                    };
                    self.views_by_day(&ctx, &scope, options, span, &mut computed_days)
                        .await?
                }
                _ => HashMap::new(),
            };
            for (name, sql) in catalog::VIEWS {
                if let Some(provider) = shared.get(name).or(by_day.get(name)) {
                    ctx.register_table(name, Arc::clone(provider))?;
                    continue;
                }
                ctx.sql(catalog::view_sql(name, sql, days))
                    .await
                    .with_context(|| format!("cannot create the view `{name}`"))?;
                if let (true, Some(dir)) = (span.computed_once.contains(&name), &computed_here) {
                    let computed = compute_once(&ctx, &schema, name, dir)
                        .await
                        .with_context(|| format!("cannot compute the view `{name}`"))?;
                    if SAME_IN_EVERY_SPAN.contains(&name) {
                        shared.insert(name, Arc::clone(&computed.provider));
                    }
                    if days == 1 {
                        computed_days
                            .entry(self.as_of)
                            .or_insert_with(|| Step {
                                last: self.as_of,
                                views: HashMap::new(),
                            })
                            .views
                            .insert(name, computed);
                    }
                }
            }
            by_day.clear();
            spans.push((days, ctx));
        }
        Ok(SharedSession {
            spans,
            computed_here: computed_here.is_some(),
        })
    }

    /// Computes the views `span.computed_once` for the days of `span` a few
    /// days at a time (`days_per_step`), and gives each as a table of all
    /// the steps' files. Each step is a session of its own over the same
    /// tables, whose `snapshot_days` holds the step's days and whose
    /// `day_end_*` tables end with its last (no later day's rows can be a
    /// day's latest); the views that do not depend on the snapshot days are
    /// the shared ones. Days in `computed` (by an earlier span: spans of
    /// days nest) are not computed again, and days before the lake's first
    /// report have no rows.
    async fn views_by_day(
        &self,
        span_ctx: &SessionContext,
        scope: &DayScope<'_>,
        options: &SnapshotOptions,
        span: Span,
        computed: &mut BTreeMap<NaiveDate, Step>,
    ) -> Result<HashMap<&'static str, Arc<dyn TableProvider>>> {
        let views = span.computed_once;
        let as_of_day = computed
            .get(&self.as_of)
            .context("the as-of day's views are not computed")?;
        let latest = as_of_day
            .views
            .get("latest_reports")
            .context("the as-of day's latest reports are not computed")?;
        let devices = span_ctx
            .read_table(Arc::clone(&latest.provider))?
            .count()
            .await?;
        let per_step = days_per_step(devices)?;
        let span_first = self.as_of - TimeDelta::days(i64::from(span.days.max(1) - 1));
        if let Some((_, step)) = computed.range(..span_first).next_back() {
            anyhow::ensure!(
                step.last < span_first,
                "days computed for another span overlap this one"
            );
        }
        let first = match scope.shared.get("last_reports_of_day") {
            Some(reports) => first_report_day(span_ctx, Arc::clone(reports)).await?,
            None => Some(span_first),
        };
        // The days no step holds yet, in runs of consecutive days.
        let covered = |computed: &BTreeMap<NaiveDate, Step>, day: NaiveDate| {
            computed
                .range(..=day)
                .next_back()
                .is_some_and(|(_, step)| step.last >= day)
        };
        let mut runs: Vec<Vec<NaiveDate>> = Vec::new();
        let mut day = first.map_or(self.as_of, |first| first.max(span_first));
        while first.is_some() && day <= self.as_of {
            if covered(computed, day) {
                runs.push(Vec::new());
            } else {
                match runs.last_mut() {
                    Some(run) if !run.is_empty() && run.len() < per_step => run.push(day),
                    _ => runs.push(vec![day]),
                }
            }
            day += TimeDelta::days(1);
        }
        for run in runs.into_iter().filter(|run| !run.is_empty()) {
            let (from, to) = (run[0], run[run.len() - 1]);
            let step = self.compute_days(scope, options, from, to, views).await?;
            computed.insert(from, step);
        }
        // Oldest days first, as the views' rows would come.
        let mut files: HashMap<&str, Vec<PathBuf>> = HashMap::new();
        for (from, step) in computed.range(span_first..=self.as_of) {
            for name in views {
                let view = step
                    .views
                    .get(name)
                    .with_context(|| format!("`{name}` is not computed from {from}"))?;
                files.entry(name).or_default().push(view.path.clone());
            }
        }
        let as_of_day = &computed[&self.as_of];
        let mut tables = HashMap::new();
        for name in views {
            let schema = as_of_day
                .views
                .get(name)
                .with_context(|| format!("`{name}` is not computed for the as-of day"))?
                .provider
                .schema();
            let paths = files.remove(name).unwrap_or_default();
            tables.insert(*name, parquet_files(&paths, schema)?);
        }
        Ok(tables)
    }

    /// A context in `schema` over `base` with the lake's `tables`, the
    /// `day_end_*` tables cut at `last`, `snapshot_days` holding the `days`
    /// days ending on `last`, and `parameters`: what a span or a step of
    /// days creates its views in.
    async fn days_context(
        &self,
        base: &SessionContext,
        tables: &[(&str, Arc<dyn TableProvider>)],
        schema: &str,
        (last, days): (NaiveDate, u32),
        options: &SnapshotOptions,
    ) -> Result<SessionContext> {
        let ctx = context_in_schema(base, schema)?;
        for (name, provider) in tables {
            ctx.register_table(*name, Arc::clone(provider))?;
        }
        self.register_day_end_tables(&ctx, Some(last), None).await?;
        ctx.register_table(
            "snapshot_days",
            snapshot_days(&ctx, last, options.stale_days, days)?,
        )?;
        ctx.register_table("parameters", parameters(&ctx, self.as_of, options)?)?;
        Ok(ctx)
    }

    /// The views `views` of the days `from` to `to`, each computed into a
    /// file.
    async fn compute_days(
        &self,
        scope: &DayScope<'_>,
        options: &SnapshotOptions,
        from: NaiveDate,
        to: NaiveDate,
        views: &[&'static str],
    ) -> Result<Step> {
        let schema = format!("days_{}_{}", from.format("%Y%m%d"), to.format("%Y%m%d"));
        let days = u32::try_from((to - from).num_days() + 1)?;
        let ctx = self
            .days_context(scope.base, scope.tables, &schema, (to, days), options)
            .await?;
        let mut computed = HashMap::new();
        for (name, sql) in catalog::VIEWS {
            if computed.len() == views.len() {
                break;
            }
            if let Some(provider) = scope.shared.get(name) {
                ctx.register_table(name, Arc::clone(provider))?;
                continue;
            }
            ctx.sql(catalog::view_sql(name, sql, days))
                .await
                .with_context(|| format!("cannot create the view `{name}`"))?;
            if views.contains(&name) {
                let view = compute_once(&ctx, &schema, name, scope.dir)
                    .await
                    .with_context(|| {
                        format!("cannot compute the view `{name}` for {from} to {to}")
                    })?;
                computed.insert(name, view);
            }
        }
        // The views are files now: the step's schema of views can go.
        default_catalog(scope.base)?.deregister_schema(&schema, true)?;
        Ok(Step {
            last: to,
            views: computed,
        })
    }
}

/// Days of a span computed in one step hold at most this many latest
/// reports (devices times days, about 200 bytes each) in their joins: the
/// trend of 7,000 devices is one step, that of 100,000 devices steps of
/// 10 days, that of 1,000,000 devices a day at a time. Fewer steps read
/// the lake's states fewer times (a step reads every day's up to its last).
/// `POSTURE_DEVICE_DAYS_PER_STEP` sets another (docs/report.md).
const DEVICE_DAYS_PER_STEP: usize = 1_000_000;

/// How many days a step of `devices` devices holds.
fn days_per_step(devices: usize) -> Result<usize> {
    let budget = match std::env::var("POSTURE_DEVICE_DAYS_PER_STEP") {
        Err(_) => DEVICE_DAYS_PER_STEP,
        Ok(text) => text
            .parse::<usize>()
            .ok()
            .filter(|n| *n > 0)
            .with_context(|| {
                format!("POSTURE_DEVICE_DAYS_PER_STEP is `{text}`, not a number above 0")
            })?,
    };
    Ok((budget / devices.max(1)).max(1))
}

/// Days computed in one step: from the day it is filed under to `last`.
struct Step {
    last: NaiveDate,
    views: HashMap<&'static str, Computed>,
}

/// What each day of `views_by_day` registers: the session's catalog and
/// runtime, the lake's tables, the views shared by every span, and the
/// folder the views' files go to.
struct DayScope<'a> {
    base: &'a SessionContext,
    tables: &'a [(&'a str, Arc<dyn TableProvider>)],
    shared: &'a HashMap<&'a str, Arc<dyn TableProvider>>,
    dir: &'a Path,
}

/// A view computed once: its file, and the table that reads it.
struct Computed {
    path: PathBuf,
    provider: Arc<dyn TableProvider>,
}

/// The day of the first of `reports` (`last_reports_of_day`), if any.
async fn first_report_day(
    ctx: &SessionContext,
    reports: Arc<dyn TableProvider>,
) -> Result<Option<NaiveDate>> {
    let batches = ctx
        .read_table(reports)?
        .aggregate(vec![], vec![min(col("report_day"))])?
        .collect()
        .await?;
    let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).expect("valid date");
    let first = batches
        .first()
        .map(|batch| batch.column(0).as_primitive::<Date32Type>())
        .filter(|days| days.is_valid(0))
        .map(|days| epoch + TimeDelta::days(i64::from(days.value(0))));
    Ok(first)
}

/// The spans of days a bundle's queries need: the as-of day, the day
/// before it too (`changes`), and `--days` days (the trends).
fn spans_of(options: &SnapshotOptions) -> Vec<Span> {
    let mut spans = vec![
        Span {
            days: 1,
            computed_once: AS_OF_DAY,
            by_day: false,
        },
        Span {
            days: 2,
            computed_once: EACH_DAY,
            by_day: true,
        },
    ];
    let days = options.days.max(1);
    if days > 2 {
        spans.push(Span {
            days,
            computed_once: EACH_DAY,
            by_day: true,
        });
    }
    spans
}

/// The catalog of a session's schemas (`datafusion`).
fn default_catalog(ctx: &SessionContext) -> Result<Arc<dyn CatalogProvider>> {
    ctx.catalog("datafusion")
        .context("the session has no default catalog")
}

/// A context over `base`'s catalog and runtime whose unqualified names
/// resolve in `schema` (created when missing).
fn context_in_schema(base: &SessionContext, schema: &str) -> Result<SessionContext> {
    let catalog = default_catalog(base)?;
    if catalog.schema(schema).is_none() {
        catalog.register_schema(schema, Arc::new(MemorySchemaProvider::new()))?;
    }
    let mut state = base.state();
    state.config_mut().options_mut().catalog.default_schema = schema.to_owned();
    Ok(SessionContext::new_with_state(state))
}

/// Runs the view `name` once into `DIR/name.parquet` and puts that file in
/// its place, so that what is created later reads the rows instead of
/// computing them again.
async fn compute_once(
    ctx: &SessionContext,
    span: &str,
    name: &str,
    dir: &Path,
) -> Result<Computed> {
    let started = std::time::Instant::now();
    let df = ctx.table(name).await?;
    let schema: SchemaRef = Arc::new(df.schema().as_arrow().clone());
    let path: PathBuf = dir.join(format!("{span}-{name}.parquet"));
    let file = std::fs::File::create(&path)
        .with_context(|| format!("cannot create `{}`", path.display()))?;
    // Written once and read a few times: fast compression, and row groups
    // small enough to be read in parallel and held one at a time.
    let properties = WriterProperties::builder()
        .set_compression(Compression::ZSTD(ZstdLevel::try_new(1)?))
        .set_max_row_group_row_count(Some(256 * 1024))
        .build();
    let mut writer = ArrowWriter::try_new(file, Arc::clone(&schema), Some(properties))?;
    let plan = df.create_physical_plan().await?;
    let mut stream = execute_stream(Arc::clone(&plan), ctx.task_ctx())?;
    while let Some(batch) = stream.next().await {
        writer.write(&batch?)?;
    }
    if profiling() {
        let took = started.elapsed().as_secs_f64();
        eprintln!("-- `{name}` of `{span}` computed in {took:.2} s");
        print_plan(name, &plan);
    }
    writer
        .close()
        .with_context(|| format!("cannot write `{}`", path.display()))?;
    let provider = parquet_files(std::slice::from_ref(&path), schema)?;
    ctx.deregister_table(name)?;
    ctx.register_table(name, Arc::clone(&provider))?;
    Ok(Computed { path, provider })
}

/// A table of Parquet files of the work folder, read in the order given.
fn parquet_files(paths: &[PathBuf], schema: SchemaRef) -> Result<Arc<dyn TableProvider>> {
    let urls = paths
        .iter()
        .map(|path| {
            let path = std::path::absolute(path)?;
            let path = path
                .to_str()
                .context("the work folder's path is not UTF-8")?;
            Ok(ListingTableUrl::parse(path)?)
        })
        .collect::<Result<Vec<_>>>()?;
    let options =
        ListingOptions::new(Arc::new(ParquetFormat::default())).with_file_extension(".parquet");
    let config = ListingTableConfig::new_with_multi_paths(urls)
        .with_listing_options(options)
        .with_schema(schema);
    Ok(Arc::new(ListingTable::try_new(config)?))
}

/// Whether `POSTURE_PROFILE` is set: each finished plan is then printed
/// with its metrics, which is how the report's time and memory are found
/// (docs/report.md).
pub(super) fn profiling() -> bool {
    std::env::var_os("POSTURE_PROFILE").is_some()
}

/// Prints a finished plan with its metrics (rows, time, memory of each
/// operator, as `EXPLAIN ANALYZE` would) to standard error.
pub(super) fn print_plan(name: &str, plan: &Arc<dyn ExecutionPlan>) {
    let shown = DisplayableExecutionPlan::with_metrics(plan.as_ref()).indent(true);
    eprintln!("-- plan of `{name}`, with its metrics:\n{shown}");
}

impl SharedSession {
    /// Runs a named query; its rows come as the stream is read.
    pub async fn stream(
        &self,
        query: &NamedQuery,
        options: &SnapshotOptions,
    ) -> Result<(SchemaRef, SendableRecordBatchStream)> {
        let days = if query.spans_days {
            options.days.max(1)
        } else if query.compares_days {
            2
        } else {
            1
        };
        let ctx = self
            .spans
            .iter()
            .find(|(d, _)| *d == days)
            .map(|(_, ctx)| ctx)
            .context("the session has no span of that many days")?;
        let df = ctx
            .sql(&query.sql)
            .await
            .with_context(|| format!("the query `{}` does not plan", query.name))?;
        let schema: SchemaRef = Arc::new(df.schema().as_arrow().clone());
        if query.by_device && days == 1 && self.computed_here {
            let ranges = device_ranges(ctx).await?;
            if ranges.len() > 1 {
                let stream = by_device_range(ctx, query, Arc::clone(&schema), ranges);
                return Ok((schema, stream));
            }
        }
        let plan = df
            .create_physical_plan()
            .await
            .with_context(|| format!("the query `{}` does not plan", query.name))?;
        let stream = execute_stream(Arc::clone(&plan), ctx.task_ctx())
            .with_context(|| format!("the query `{}` failed", query.name))?;
        Ok((schema, profiled(&query.name, plan, stream)))
    }
}

/// `stream`, which prints `plan` with its metrics once its last row is
/// read when profiling.
fn profiled(
    name: &str,
    plan: Arc<dyn ExecutionPlan>,
    stream: SendableRecordBatchStream,
) -> SendableRecordBatchStream {
    if !profiling() {
        return stream;
    }
    let name = name.to_owned();
    let ended = futures::stream::once(async move {
        print_plan(&name, &plan);
        None
    })
    .filter_map(|end: Option<datafusion::error::Result<_>>| async move { end });
    Box::pin(RecordBatchStreamAdapter::new(
        stream.schema(),
        stream.chain(ended),
    ))
}

/// Devices of a range of a query read device by device: the as-of day's
/// views of a million devices hold 20 million settings, and a join of
/// every device's policies with them holds more than the bundle's memory.
/// `POSTURE_DEVICES_PER_RANGE` sets another (docs/report.md).
const DEVICES_PER_RANGE: usize = 100_000;

/// `DEVICES_PER_RANGE`, or `POSTURE_DEVICES_PER_RANGE` when set.
fn devices_per_range() -> Result<usize> {
    match std::env::var("POSTURE_DEVICES_PER_RANGE") {
        Err(_) => Ok(DEVICES_PER_RANGE),
        Ok(text) => text
            .parse::<usize>()
            .ok()
            .filter(|n| *n > 0)
            .with_context(|| {
                format!("POSTURE_DEVICES_PER_RANGE is `{text}`, not a number of devices above 0")
            }),
    }
}

/// The views a query read device by device reads a range of devices of.
const DEVICE_VIEWS: [&str; 3] = [
    "device_status",
    "current_policy_states",
    "current_setting_states",
];

/// A range of device ids: from the first (inclusive), up to the second
/// (exclusive); `None` is open.
type DeviceRange = (Option<String>, Option<String>);

/// The as-of day's devices cut into ranges of `devices_per_range()`, in
/// order; one open range for a smaller fleet.
async fn device_ranges(ctx: &SessionContext) -> Result<Vec<DeviceRange>> {
    let mut ids = ctx
        .table("device_status")
        .await?
        .select(vec![col("device_id")])?
        .sort(vec![col("device_id").sort(true, false)])?
        .execute_stream()
        .await?;
    let per_range = devices_per_range()?;
    let mut starts: Vec<String> = Vec::new();
    let mut seen = 0;
    while let Some(batch) = ids.next().await {
        let batch = batch?;
        let column = batch.column(0);
        let column = datafusion::arrow::compute::cast(column, &DataType::Utf8)?;
        let column = column.as_string::<i32>();
        for row in 0..column.len() {
            if seen % per_range == 0 && seen > 0 && column.is_valid(row) {
                starts.push(column.value(row).to_owned());
            }
            seen += 1;
        }
    }
    let mut ranges = Vec::new();
    let mut from = None;
    for start in starts {
        ranges.push((from, Some(start.clone())));
        from = Some(start);
    }
    ranges.push((from, None));
    Ok(ranges)
}

/// Runs `query` once per range of devices, one range after another, each
/// over `DEVICE_VIEWS` cut to its range: the ranges are in device order and
/// the query's rows are in device order within each, so their rows one
/// after another are the query's rows. Only one range's plan runs at a time.
fn by_device_range(
    ctx: &SessionContext,
    query: &NamedQuery,
    schema: SchemaRef,
    ranges: Vec<DeviceRange>,
) -> SendableRecordBatchStream {
    let ctx = ctx.clone();
    let query = query.clone();
    let streams = futures::stream::iter(ranges.into_iter().enumerate()).then(move |(i, range)| {
        let ctx = ctx.clone();
        let query = query.clone();
        async move {
            range_stream(&ctx, &query, i, range)
                .await
                .map_err(|e| DataFusionError::External(e.into()))
        }
    });
    let batches = streams
        .map(|stream| match stream {
            Ok(stream) => stream.boxed(),
            Err(e) => futures::stream::once(async move { Err(e) }).boxed(),
        })
        .flatten();
    Box::pin(RecordBatchStreamAdapter::new(schema, batches))
}

/// The stream of `query` over the devices of `range`: planned in a schema
/// of its own that holds the as-of day's tables and views, `DEVICE_VIEWS`
/// cut to the range.
async fn range_stream(
    ctx: &SessionContext,
    query: &NamedQuery,
    index: usize,
    (from, to): DeviceRange,
) -> Result<SendableRecordBatchStream> {
    let state = ctx.state();
    let home = state.config().options().catalog.default_schema.clone();
    let catalog = default_catalog(ctx)?;
    let tables = catalog
        .schema(&home)
        .with_context(|| format!("the session has no schema `{home}`"))?;
    let name = format!("{home}_devices_{index}");
    let range_ctx = context_in_schema(ctx, &name)?;
    for table in tables.table_names() {
        let Some(provider) = tables.table(&table).await? else {
            continue;
        };
        let provider = if DEVICE_VIEWS.contains(&table.as_str()) {
            let mut rows = range_ctx.read_table(provider)?;
            if let Some(from) = &from {
                rows = rows.filter(col("device_id").gt_eq(lit(from.as_str())))?;
            }
            if let Some(to) = &to {
                rows = rows.filter(col("device_id").lt(lit(to.as_str())))?;
            }
            rows.into_view()
        } else {
            provider
        };
        range_ctx.register_table(table.as_str(), provider)?;
    }
    let plan = range_ctx
        .sql(&query.sql)
        .await?
        .create_physical_plan()
        .await
        .with_context(|| format!("the query `{}` does not plan", query.name))?;
    // Planned: the range's schema is no longer needed.
    catalog.deregister_schema(&name, true)?;
    let stream = execute_stream(Arc::clone(&plan), range_ctx.task_ctx())
        .with_context(|| format!("the query `{}` failed", query.name))?;
    let label = format!("{} (devices range {})", query.name, index + 1);
    Ok(profiled(&label, plan, stream))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_views_computed_once_exist() {
        let all = [AS_OF_DAY, EACH_DAY, &SAME_IN_EVERY_SPAN];
        for name in all.into_iter().flatten() {
            assert!(
                catalog::VIEWS.iter().any(|(v, _)| v == name),
                "`{name}` is not a view of queries/views"
            );
        }
    }

    #[test]
    fn spans_cover_the_day_the_day_before_and_the_trend() {
        let with = |days| SnapshotOptions {
            days,
            ..SnapshotOptions::default()
        };
        let days = |options| -> Vec<u32> { spans_of(&options).iter().map(|s| s.days).collect() };
        assert_eq!(days(with(30)), [1, 2, 30]);
        assert_eq!(days(with(1)), [1, 2]);
        assert_eq!(days(with(2)), [1, 2]);
        // Only the as-of day computes the views every span shares.
        for name in SAME_IN_EVERY_SPAN {
            assert!(AS_OF_DAY.contains(&name));
            assert!(!EACH_DAY.contains(&name));
        }
        // The day before and the trend, a day at a time, reuse the as-of
        // day's.
        for name in EACH_DAY {
            assert!(
                AS_OF_DAY.contains(name),
                "`{name}` is not computed for the as-of day"
            );
        }
    }
}
