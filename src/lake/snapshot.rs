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
use datafusion::arrow::array::{
    Array, AsArray, BooleanArray, RecordBatch, StringArray, TimestampMicrosecondArray,
};
use datafusion::arrow::compute::filter_record_batch;
use datafusion::arrow::datatypes::TimestampMicrosecondType;

use super::compact::{for_each_batch, partition_files, read_all, read_kept, relative_to, sort};
use super::{StagedParquet, Staging, Table, write_parquet};

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
    /// The day of the as-of snapshot (`YYYY-MM-DD`) when it is valid: its
    /// sidecar names exactly the raw files of every day up to it now in the
    /// lake, and it holds files.
    pub as_of: Option<String>,
}

/// A lake's files per table of `Table::SNAPSHOT` and per day
/// (`YYYY-MM-DD`): their lake-relative names (`reports/date=D/….parquet`).
pub type Listing = HashMap<Table, BTreeMap<String, Vec<String>>>;

impl SnapshotDays {
    /// The `SnapshotDays` of a lake folder, from one listing of it. The caller
    /// holds the read lock. An object store is listed and read by
    /// `query::location::store_snapshot`, then judged by `from_listing` too.
    pub fn of(lake: &Path) -> Result<SnapshotDays> {
        let prefix = partition_prefix();
        let mut names = Listing::new();
        for table in Self::LISTED {
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
        let as_of_sidecar = std::fs::read_to_string(as_of_sidecar(lake)).ok();
        Ok(Self::from_listing(
            names,
            &sidecars,
            as_of_sidecar.as_deref(),
        ))
    }

    /// The tables a reader lists to judge the snapshots.
    pub const LISTED: [Table; 7] = [
        Table::Reports,
        Table::DailyReports,
        Table::PolicyStates,
        Table::DailyPolicyStates,
        Table::SettingStates,
        Table::DailySettingStates,
        Table::AsOfReports,
    ];

    /// The days whose sidecar is worth reading: those with snapshot files.
    pub fn candidates(names: &Listing) -> impl Iterator<Item = &String> {
        names
            .get(&Table::DailyReports)
            .into_iter()
            .flat_map(|by_day| by_day.keys())
    }

    /// Judges a listing: a day's snapshot is valid while its sidecar (in
    /// `sidecars`, by day) names exactly the raw files of that day listed;
    /// the as-of snapshot while its sidecar (`as_of_sidecar`) names exactly
    /// the raw files of every day up to its own.
    pub fn from_listing(
        names: Listing,
        sidecars: &HashMap<String, String>,
        as_of_sidecar: Option<&str>,
    ) -> SnapshotDays {
        let as_of = as_of_sidecar.and_then(|text| {
            let day = as_of_day(text)?;
            let has_files = names
                .get(&Table::AsOfReports)
                .is_some_and(|by_day| !by_day.is_empty());
            (has_files && text == as_of_text(&names, day)).then(|| day.to_owned())
        });
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
        SnapshotDays {
            valid,
            with_files,
            as_of,
        }
    }
}

/// Where the as-of snapshot's sidecar is: `asof_reports/_built_from`.
pub fn as_of_sidecar(lake: &Path) -> PathBuf {
    lake.join(Table::AsOfReports.name()).join(BUILT_FROM)
}

/// The day an as-of sidecar names on its first line, `as of YYYY-MM-DD`.
fn as_of_day(text: &str) -> Option<&str> {
    text.lines().next()?.strip_prefix("as of ")
}

/// What the sidecar of an as-of snapshot of `day` built from the raw files
/// of `names` holds: `as of DAY`, then the lake-relative names of the raw
/// files of `reports`, `policy_states` and `setting_states` of every day up
/// to `day`, sorted, one a line.
fn as_of_text(names: &Listing, day: &str) -> String {
    let raw = SOURCES
        .iter()
        .filter_map(|t| names.get(t))
        .flat_map(|by_day| by_day.iter().filter(|(d, _)| d.as_str() <= day))
        .flat_map(|(_, files)| files)
        .map(String::as_str);
    format!("as of {day}\n{}", sidecar_text(raw))
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
    let (ids, devices, times) = report_keys(reports);
    let sources = text(reports, "source");
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

/// A text column of a batch of a report table.
fn text(batch: &RecordBatch, name: &str) -> StringArray {
    batch
        .column_by_name(name)
        .expect("report table column")
        .as_string::<i32>()
        .clone()
}

/// The key of each row of a batch of a report table: its report's
/// (report_id, device_id, observed_at).
fn report_keys(batch: &RecordBatch) -> (StringArray, StringArray, TimestampMicrosecondArray) {
    let times = batch
        .column_by_name("observed_at")
        .expect("report table column")
        .as_primitive::<TimestampMicrosecondType>()
        .clone();
    (text(batch, "report_id"), text(batch, "device_id"), times)
}

/// The rows of a report table whose (report_id, device_id, observed_at) is
/// in `keep`: exactly the rows `current_policy_states` and
/// `current_setting_states` join to a kept report.
fn filter_rows(rows: &RecordBatch, keep: &HashSet<(String, String, i64)>) -> Result<RecordBatch> {
    let (ids, devices, times) = report_keys(rows);
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

/// The as-of snapshot's day and sidecar once a compaction commits: the
/// newest day of `reports` in `layout`, and the sources of every day up to
/// it; None when `reports` is empty or the snapshot already is that.
pub(super) fn as_of_to_build(lake: &Path, layout: &Layout) -> Option<(String, String)> {
    let folder = layout
        .keys()
        .filter(|(table, _)| *table == Table::Reports)
        .map(|(_, folder)| folder)
        .max()?;
    let day = folder.strip_prefix(&partition_prefix())?.to_owned();
    let mut names = Listing::new();
    for ((table, folder), files) in layout {
        let Some(day) = folder.strip_prefix(&partition_prefix()) else {
            continue;
        };
        names.entry(*table).or_default().insert(
            day.to_owned(),
            files.iter().map(|(name, _)| name.clone()).collect(),
        );
    }
    let text = as_of_text(&names, &day);
    let has_files = lake.join(Table::AsOfReports.name()).is_dir();
    if has_files && std::fs::read_to_string(as_of_sidecar(lake)).ok().as_deref() == Some(&text) {
        return None;
    }
    Some((day, text))
}

fn partition_prefix() -> String {
    format!("{}=", super::PARTITION_COLUMN)
}

/// A report's key in its policy and setting rows: (report_id, device_id,
/// observed_at).
type ReportKey = (String, String, i64);

/// Stages the as-of snapshot of `day`: the rows of each source device's
/// newest report up to that day (greatest `observed_at`, then greatest
/// `report_id`) and, of reports made from vendor exports, of each
/// (device, policy)'s newest, with their policy and setting rows, each in
/// the `date=` partition of its report; names every older as-of file for
/// removal. Reads the daily snapshot of each day (`daily_files`: where a
/// day's files of a daily table are once this compaction commits), one
/// day at a time; holds one key per device (and per exported policy).
/// Returns the reports kept.
pub(super) fn build_as_of(
    lake: &Path,
    staging: &mut Staging,
    run_id: &str,
    (day, sources): (&str, &str),
    daily_files: &dyn Fn(Table, &str) -> Result<Vec<PathBuf>>,
    days: &[String],
) -> Result<u64> {
    // Pass 1: each device's newest report, each exported policy's newest.
    let last = format!("{}{day}", partition_prefix());
    let mut newest: HashMap<(bool, String), Newest> = HashMap::new();
    let mut newest_export: HashMap<(String, String), Newest> = HashMap::new();
    for folder in days.iter().filter(|d| **d <= last) {
        let reports = read_all(
            Table::DailyReports,
            &daily_files(Table::DailyReports, folder)?,
        )?;
        let exported = newest_of_day(&reports, &mut newest, folder);
        if exported.is_empty() {
            continue;
        }
        let states = read_all(
            Table::DailyPolicyStates,
            &daily_files(Table::DailyPolicyStates, folder)?,
        )?;
        newest_exported_policies(&states, &exported, &mut newest_export, folder);
    }
    // Pass 2: their rows, day by day.
    let mut keep: BTreeMap<String, HashSet<ReportKey>> = BTreeMap::new();
    for ((_, device), (at, id, folder)) in newest {
        keep.entry(folder).or_default().insert((id, device, at));
    }
    for ((device, _), (at, id, folder)) in newest_export {
        keep.entry(folder).or_default().insert((id, device, at));
    }
    for (_, _, as_of) in Table::AS_OF {
        for file in super::table_files(lake, as_of)? {
            staging.remove(&relative_to(lake, &file));
        }
    }
    let mut kept = 0;
    for (folder, keys) in &keep {
        for (_, daily, as_of) in Table::AS_OF {
            let files = daily_files(daily, folder)?;
            let relative = format!("{}/{folder}/part-{run_id}-asof.parquet", as_of.name());
            let rows = if let [file] = files.as_slice() {
                // A daily snapshot partition is one file in the table's
                // sort order: its kept rows are in that order as read, and
                // are written as they come.
                let mut out: Option<StagedParquet> = None;
                let mut rows = 0;
                for_each_batch(daily, std::slice::from_ref(file), |batch| {
                    let batch = filter_rows(&batch, keys)?;
                    if batch.num_rows() == 0 {
                        return Ok(());
                    }
                    rows += batch.num_rows() as u64;
                    let writer = match &mut out {
                        Some(writer) => writer,
                        None => out.insert(StagedParquet::create(staging, &relative, as_of)?),
                    };
                    writer.write(&batch)
                })?;
                if let Some(writer) = out {
                    writer.finish()?;
                }
                rows
            } else {
                let rows = read_kept(daily, &files, |batch| filter_rows(&batch, keys))?;
                if rows.num_rows() > 0 {
                    write_parquet(staging, &relative, as_of, &sort(as_of, &rows)?)?;
                }
                rows.num_rows() as u64
            };
            if daily == Table::DailyReports {
                kept += rows;
            }
        }
    }
    let relative = format!("{}/{BUILT_FROM}", Table::AsOfReports.name());
    let (path, mut sidecar) = staging.create(&relative)?;
    sidecar
        .write_all(sources.as_bytes())
        .and_then(|()| sidecar.sync_all())
        .with_context(|| format!("cannot write `{}`", path.display()))?;
    Ok(kept)
}

/// A newest report: (observed_at, report_id, the `date=` folder it is in).
type Newest = (i64, String, String);

/// Folds one day's daily snapshot of `reports` into `newest` (each source
/// device's newest (observed_at, report_id), agent reports and export
/// reports apart); returns the keys of the day's reports made from vendor
/// exports.
fn newest_of_day(
    reports: &RecordBatch,
    newest: &mut HashMap<(bool, String), Newest>,
    folder: &str,
) -> HashSet<ReportKey> {
    let (ids, devices, times) = report_keys(reports);
    let sources = text(reports, "source");
    let mut exported = HashSet::new();
    for i in 0..reports.num_rows() {
        let (id, device, at) = (ids.value(i), devices.value(i), times.value(i));
        let export = sources.is_valid(i);
        if export {
            exported.insert((id.to_owned(), device.to_owned(), at));
        }
        fold(newest, (export, device.to_owned()), (at, id), folder);
    }
    exported
}

/// Folds the policy rows of the day's export reports (`exported`) into
/// `newest_export`: each (device, policy)'s newest (observed_at, report_id).
fn newest_exported_policies(
    states: &RecordBatch,
    exported: &HashSet<ReportKey>,
    newest_export: &mut HashMap<(String, String), Newest>,
    folder: &str,
) {
    let (ids, devices, times) = report_keys(states);
    let policies = text(states, "policy_id");
    for i in 0..states.num_rows() {
        let (id, device, at) = (ids.value(i), devices.value(i), times.value(i));
        if !exported.contains(&(id.to_owned(), device.to_owned(), at)) {
            continue;
        }
        let key = (device.to_owned(), policies.value(i).to_owned());
        fold(newest_export, key, (at, id), folder);
    }
}

/// Keeps in `newest[key]` the greater of it and (observed_at, report_id).
fn fold<K: std::hash::Hash + Eq>(
    newest: &mut HashMap<K, Newest>,
    key: K,
    (at, id): (i64, &str),
    folder: &str,
) {
    match newest.get_mut(&key) {
        Some(best) if (at, id) <= (best.0, best.1.as_str()) => {}
        Some(best) => *best = (at, id.to_owned(), folder.to_owned()),
        None => {
            newest.insert(key, (at, id.to_owned(), folder.to_owned()));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A listing of raw files by table and day, and the as-of snapshot's
    /// files.
    fn listing(raw: &[(Table, &str, &str)]) -> Listing {
        let mut names = Listing::new();
        for (table, day, file) in raw {
            names
                .entry(*table)
                .or_default()
                .entry((*day).to_owned())
                .or_default()
                .push(format!("{}/date={day}/{file}", table.name()));
        }
        names
            .entry(Table::AsOfReports)
            .or_default()
            .insert("2026-11-01".to_owned(), vec!["asof_reports/x".to_owned()]);
        names
    }

    #[test]
    fn the_as_of_snapshot_is_valid_while_every_raw_file_up_to_its_day_is_the_same() {
        let built = listing(&[
            (Table::Reports, "2026-11-01", "a.parquet"),
            (Table::PolicyStates, "2026-11-01", "a.parquet"),
            (Table::Reports, "2026-11-02", "b.parquet"),
        ]);
        let sidecar = as_of_text(&built, "2026-11-02");
        assert!(sidecar.starts_with("as of 2026-11-02\n"), "{sidecar}");
        let judge = |names: Listing| {
            SnapshotDays::from_listing(names, &HashMap::new(), Some(&sidecar)).as_of
        };
        assert_eq!(judge(built.clone()), Some("2026-11-02".to_owned()));
        // A later day's files do not touch it.
        let mut later = built.clone();
        later.get_mut(&Table::Reports).unwrap().insert(
            "2026-11-03".to_owned(),
            vec!["reports/date=2026-11-03/c.parquet".to_owned()],
        );
        assert_eq!(judge(later), Some("2026-11-02".to_owned()));
        // A late file for an earlier day, or a merge, does.
        let mut late = built.clone();
        late.get_mut(&Table::PolicyStates)
            .unwrap()
            .get_mut("2026-11-01")
            .unwrap()
            .push("policy_states/date=2026-11-01/late.parquet".to_owned());
        assert_eq!(judge(late), None);
        // Without its files, or without a sidecar, there is none.
        let mut gone = built.clone();
        gone.remove(&Table::AsOfReports);
        assert_eq!(judge(gone), None);
        assert_eq!(
            SnapshotDays::from_listing(built, &HashMap::new(), None).as_of,
            None
        );
    }
}
