//! The compacted daily snapshot (docs/compaction.md): snapshot queries need
//! only each device's last report of each day, so `posture compact` keeps
//! those rows apart (`daily_reports`, `daily_policy_states`,
//! `daily_setting_states`), and a query reads them instead of the whole day
//! while they are still valid: built from exactly the raw files now there.
//!
//! Each snapshot partition `daily_reports/date=D/` holds a `_built_from`
//! file (skipped by Hive readers, as every `_` name): the lake-relative
//! names of the raw files of `reports`, `policy_states` and
//! `setting_states` for day D it was cut from, sorted, one a line. Any
//! later commit that touches day D (a late report) changes that list, and
//! the snapshot of D is ignored until the next compaction rebuilds it.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use datafusion::arrow::array::{Array, AsArray, BooleanArray, RecordBatch};
use datafusion::arrow::compute::filter_record_batch;
use datafusion::arrow::datatypes::TimestampMicrosecondType;

use super::compact::{partition_files, read_all, sort};
use super::{Staging, Table, write_parquet};

/// The sidecar naming a snapshot partition's sources.
pub const BUILT_FROM: &str = "_built_from";

/// The raw files of each report-table partition once a compaction commits:
/// (lake-relative name, where to read it now), by (table, `date=…` folder).
pub(super) type Layout = BTreeMap<(Table, String), Vec<(String, PathBuf)>>;

/// The raw tables a snapshot is cut from.
const SOURCES: [Table; 3] = [Table::Reports, Table::PolicyStates, Table::SettingStates];

/// The sources of day `day` (a `date=…` folder name) in `layout`, as the
/// sidecar holds them.
fn sources_text(layout: &Layout, day: &str) -> String {
    sidecar_text(
        SOURCES
            .iter()
            .filter_map(|t| layout.get(&(*t, day.to_owned())))
            .flatten()
            .map(|(name, _)| name.as_str()),
    )
}

/// What the sidecar of a snapshot built from the raw files `names`
/// (lake-relative, `reports/date=D/….parquet`) holds: the snapshot is valid
/// while its sidecar equals this for the raw files now in the lake.
fn sidecar_text<'a>(names: impl Iterator<Item = &'a str>) -> String {
    let mut names: Vec<&str> = names.collect();
    names.sort_unstable();
    names.iter().map(|n| format!("{n}\n")).collect()
}

/// The days (`date=…` folders of `reports`) whose snapshot is missing or
/// not built from the sources they will have, with those sources.
pub(super) fn days_to_build(lake: &Path, layout: &Layout) -> Result<Vec<(String, String)>> {
    let mut days = Vec::new();
    for (table, day) in layout.keys() {
        if *table != Table::Reports {
            continue;
        }
        let sources = sources_text(layout, day);
        let sidecar = lake
            .join(Table::DailyReports.name())
            .join(day)
            .join(BUILT_FROM);
        if std::fs::read_to_string(&sidecar).ok().as_deref() != Some(sources.as_str()) {
            days.push((day.clone(), sources));
        }
    }
    Ok(days)
}

/// What a reader needs of the compacted snapshot.
#[derive(Debug, Default)]
pub struct SnapshotDays {
    /// The days (`YYYY-MM-DD`, as the `date` column holds them) whose
    /// snapshot is valid: its sidecar names exactly the raw files of that day
    /// now in the lake.
    pub valid: BTreeSet<String>,
    /// The days holding files, for each table of `Table::SNAPSHOT`.
    pub with_files: HashMap<Table, BTreeSet<String>>,
}

/// A lake's files per table of `Table::SNAPSHOT` and per day
/// (`YYYY-MM-DD`): their lake-relative names (`reports/date=D/….parquet`).
pub type Listing = HashMap<Table, BTreeMap<String, Vec<String>>>;

impl SnapshotDays {
    /// The `SnapshotDays` of a lake folder, from one listing of it. The caller
    /// holds the read lock. An object store is listed and read by
    /// `query::location::store_snapshot`, then judged by `from_listing` too.
    pub fn of(lake: &Path) -> Result<SnapshotDays> {
        let prefix = format!("{}=", super::PARTITION_COLUMN);
        let mut names = Listing::new();
        for table in Table::SNAPSHOT
            .iter()
            .flat_map(|(raw, daily)| [*raw, *daily])
        {
            let by_day = names.entry(table).or_default();
            let Ok(entries) = std::fs::read_dir(lake.join(table.name())) else {
                continue;
            };
            for dir in entries.flatten().map(|e| e.path()).filter(|p| p.is_dir()) {
                let Some(folder) = dir.file_name().and_then(|n| n.to_str()) else {
                    continue;
                };
                let Some(day) = folder.strip_prefix(&prefix) else {
                    continue;
                };
                let files: Vec<String> = partition_files(&dir)?
                    .iter()
                    .map(|f| {
                        let name = f.file_name().expect("a file").to_string_lossy();
                        format!("{}/{folder}/{name}", table.name())
                    })
                    .collect();
                if !files.is_empty() {
                    by_day.insert(day.to_owned(), files);
                }
            }
        }
        let mut sidecars = HashMap::new();
        for day in Self::candidates(&names) {
            let sidecar = lake
                .join(Table::DailyReports.name())
                .join(format!("{prefix}{day}"))
                .join(BUILT_FROM);
            if let Ok(text) = std::fs::read_to_string(sidecar) {
                sidecars.insert(day.clone(), text);
            }
        }
        Ok(Self::from_listing(names, &sidecars))
    }

    /// The days whose sidecar is worth reading: those with snapshot files.
    pub fn candidates(names: &Listing) -> impl Iterator<Item = &String> {
        names
            .get(&Table::DailyReports)
            .into_iter()
            .flat_map(|by_day| by_day.keys())
    }

    /// Judges a listing: a day's snapshot is valid while its sidecar (in
    /// `sidecars`, by day) names exactly the raw files of that day listed.
    pub fn from_listing(names: Listing, sidecars: &HashMap<String, String>) -> SnapshotDays {
        let valid = Self::candidates(&names)
            .filter(|day| {
                let raw = SOURCES
                    .iter()
                    .filter_map(|t| names.get(t)?.get(*day))
                    .flatten()
                    .map(String::as_str);
                sidecars.get(*day) == Some(&sidecar_text(raw))
            })
            .cloned()
            .collect();
        let with_files = names
            .into_iter()
            .map(|(table, by_day)| (table, by_day.into_keys().collect()))
            .collect();
        SnapshotDays { valid, with_files }
    }
}

/// Stages the snapshot of one day: the rows of each source device's last
/// report of the day (greatest `observed_at`, then greatest `report_id`,
/// the rule of `queries/views/latest_reports.sql`), with their policy and
/// setting rows; names the old snapshot files of that day for removal.
/// Returns (reports kept, reports of the day).
pub(super) fn build(
    lake: &Path,
    staging: &mut Staging,
    run_id: &str,
    day: &str,
    sources: &str,
    layout: &Layout,
) -> Result<(u64, u64)> {
    let paths = |table: Table| -> Vec<PathBuf> {
        layout
            .get(&(table, day.to_owned()))
            .map(|files| files.iter().map(|(_, p)| p.clone()).collect())
            .unwrap_or_default()
    };
    let reports = read_all(Table::Reports, &paths(Table::Reports))?;
    let keep = last_reports_of_day(&reports);
    let file = format!("{day}/part-{run_id}-daily.parquet");
    let mut kept = 0;
    for (raw, daily) in Table::SNAPSHOT {
        let rows = if raw == Table::Reports {
            reports.clone()
        } else {
            read_all(raw, &paths(raw))?
        };
        let rows = filter_rows(&rows, &keep)?;
        if raw == Table::Reports {
            kept = rows.num_rows() as u64;
        }
        let old = lake.join(daily.name()).join(day);
        if old.is_dir() {
            for f in partition_files(&old)? {
                let name = f
                    .file_name()
                    .expect("a file")
                    .to_string_lossy()
                    .into_owned();
                staging.remove(&format!("{}/{day}/{name}", daily.name()));
            }
        }
        if rows.num_rows() > 0 {
            let sorted = sort(daily, &rows)?;
            write_parquet(staging, &format!("{}/{file}", daily.name()), daily, &sorted)?;
        }
    }
    let relative = format!("{}/{day}/{BUILT_FROM}", Table::DailyReports.name());
    let (path, mut sidecar) = staging.create(&relative)?;
    sidecar
        .write_all(sources.as_bytes())
        .and_then(|()| sidecar.sync_all())
        .with_context(|| format!("cannot write `{}`", path.display()))?;
    Ok((kept, reports.num_rows() as u64))
}

/// The (report_id, device_id, observed_at) of each agent device's last
/// report in `reports`, and of every report made from a vendor export: an
/// export report holds one policy's status, and a device's current export
/// states are the newest row of each policy (`current_export_policy_states`),
/// so none can be left out. Each device of `latest_reports` has its last
/// report among these.
fn last_reports_of_day(reports: &RecordBatch) -> HashSet<(String, String, i64)> {
    let text = |name: &str| {
        reports
            .column_by_name(name)
            .expect("reports column")
            .as_string::<i32>()
            .clone()
    };
    let (ids, devices, sources) = (text("report_id"), text("device_id"), text("source"));
    let times = reports
        .column_by_name("observed_at")
        .expect("reports column")
        .as_primitive::<TimestampMicrosecondType>()
        .clone();
    let mut keep = HashSet::new();
    let mut last: HashMap<&str, (i64, &str)> = HashMap::new();
    for i in 0..reports.num_rows() {
        if sources.is_valid(i) {
            keep.insert((
                ids.value(i).to_owned(),
                devices.value(i).to_owned(),
                times.value(i),
            ));
            continue;
        }
        let candidate = (times.value(i), ids.value(i));
        let best = last.entry(devices.value(i)).or_insert(candidate);
        if candidate > *best {
            *best = candidate;
        }
    }
    keep.extend(
        last.into_iter()
            .map(|(device, (at, id))| (id.to_owned(), device.to_owned(), at)),
    );
    keep
}

/// The rows of a report table whose (report_id, device_id, observed_at) is
/// in `keep`: exactly the rows `current_policy_states` and
/// `current_setting_states` join to a kept report.
fn filter_rows(rows: &RecordBatch, keep: &HashSet<(String, String, i64)>) -> Result<RecordBatch> {
    let text = |name: &str| {
        rows.column_by_name(name)
            .expect("report table column")
            .as_string::<i32>()
            .clone()
    };
    let (ids, devices) = (text("report_id"), text("device_id"));
    let times = rows
        .column_by_name("observed_at")
        .expect("report table column")
        .as_primitive::<TimestampMicrosecondType>()
        .clone();
    let mask: BooleanArray = (0..rows.num_rows())
        .map(|i| {
            Some(keep.contains(&(
                ids.value(i).to_owned(),
                devices.value(i).to_owned(),
                times.value(i),
            )))
        })
        .collect();
    filter_record_batch(rows, &mask).context("cannot cut the daily snapshot")
}
