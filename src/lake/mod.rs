//! The Parquet lake on disk: `LAKE/<table>/date=YYYY-MM-DD/<file>.parquet`,
//! zstd, sorted by device and time inside each file, committed atomically.

mod commit;
mod compact;
mod index;
mod snapshot;
mod tables;

use std::collections::HashSet;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, Result};
use chrono::{DateTime, NaiveDate};
use datafusion::arrow::array::{Array, ArrayRef, AsArray, RecordBatch, TimestampMicrosecondArray};
use datafusion::arrow::compute::{
    SortColumn, interleave_record_batch, lexsort_to_indices, take_record_batch,
};
use datafusion::arrow::datatypes::TimestampMicrosecondType;
use datafusion::parquet::arrow::ArrowWriter;
use datafusion::parquet::arrow::ProjectionMask;
use datafusion::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use datafusion::parquet::basic::{Compression, ZstdLevel};
use datafusion::parquet::file::metadata::SortingColumn;
use datafusion::parquet::file::properties::{EnabledStatistics, WriterProperties};

pub use commit::{ReadLock, STAGING_DIR, Staging, WriterLock, lock_for_reading, lock_for_writing};
pub use compact::{CompactSummary, compact};
pub use index::{INDEX_DIR, IdIndex, id_column};
pub use snapshot::{BUILT_FROM, Listing, SnapshotDays};
pub use tables::{PARTITION_COLUMN, Table, timestamp};

pub const MICROS_PER_DAY: i64 = 86_400_000_000;

/// The UTC date of a timestamp in microseconds.
pub fn utc_date(micros: i64) -> NaiveDate {
    DateTime::from_timestamp_micros(micros)
        .expect("timestamps parsed from RFC 3339 are in chrono's range")
        .date_naive()
}

/// The folder of one partition of a table.
pub fn partition_dir(lake: &Path, table: Table, date: NaiveDate) -> PathBuf {
    lake.join(table.name())
        .join(format!("{PARTITION_COLUMN}={}", date.format("%Y-%m-%d")))
}

/// The lake's Parquet files of one table (all partitions), sorted.
pub fn table_files(lake: &Path, table: Table) -> Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    let dir = lake.join(table.name());
    let Ok(partitions) = std::fs::read_dir(&dir) else {
        return Ok(files);
    };
    for partition in partitions {
        let partition = partition?.path();
        if !partition.is_dir() {
            continue;
        }
        for file in std::fs::read_dir(&partition)
            .with_context(|| format!("cannot list `{}`", partition.display()))?
        {
            let file = file?.path();
            if file.extension().is_some_and(|e| e == "parquet") {
                files.push(file);
            }
        }
    }
    files.sort();
    Ok(files)
}

/// Whether a Parquet file has the column `column`: a file written before
/// a column existed (`setting_states.row_id`) holds none of its values.
pub(crate) fn has_column(path: &Path, column: &str) -> Result<bool> {
    let file = File::open(path).with_context(|| format!("cannot open `{}`", path.display()))?;
    let builder = ParquetRecordBatchReaderBuilder::try_new(file)
        .with_context(|| format!("cannot read Parquet file `{}`", path.display()))?;
    Ok(builder.schema().column_with_name(column).is_some())
}

/// A policy-status row made from an Intune export (`report_id` `intune-…`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportPolicyStatus {
    pub report_id: String,
    pub device_id: String,
    pub observed_at_us: i64,
    pub policy_id: String,
    pub policy_name: String,
}

/// Every Intune export policy-status row of the devices `devices` in
/// `policy_states`, for filing per-setting rows (`ingest::statuses`). It
/// reads every partition of the table, so the ingest asks once per
/// per-setting file.
pub fn export_policy_statuses(
    lake: &Path,
    devices: &HashSet<String>,
) -> Result<Vec<ExportPolicyStatus>> {
    let mut out = Vec::new();
    for path in table_files(lake, Table::PolicyStates)? {
        let context = || format!("cannot read Parquet file `{}`", path.display());
        let file =
            File::open(&path).with_context(|| format!("cannot open `{}`", path.display()))?;
        let builder = ParquetRecordBatchReaderBuilder::try_new(file).with_context(context)?;
        let columns = [
            "report_id",
            "device_id",
            "observed_at",
            "policy_id",
            "policy_name",
        ];
        let mask = ProjectionMask::columns(builder.parquet_schema(), columns);
        for batch in builder
            .with_projection(mask)
            .build()
            .with_context(context)?
        {
            let batch = batch.with_context(context)?;
            let text = |name: &str| {
                batch
                    .column_by_name(name)
                    .map(|c| c.as_string::<i32>().clone())
            };
            let (Some(ids), Some(device_ids), Some(policy_ids), Some(names)) = (
                text("report_id"),
                text("device_id"),
                text("policy_id"),
                text("policy_name"),
            ) else {
                anyhow::bail!("`{}` lacks a column of `policy_states`", path.display());
            };
            let times = batch
                .column_by_name("observed_at")
                .with_context(|| format!("`{}` has no `observed_at` column", path.display()))?
                .as_primitive::<TimestampMicrosecondType>()
                .clone();
            for i in 0..batch.num_rows() {
                if !ids.value(i).starts_with("intune-") || !devices.contains(device_ids.value(i)) {
                    continue;
                }
                out.push(ExportPolicyStatus {
                    report_id: ids.value(i).to_owned(),
                    device_id: device_ids.value(i).to_owned(),
                    observed_at_us: times.value(i),
                    policy_id: policy_ids.value(i).to_owned(),
                    policy_name: names.value(i).to_owned(),
                });
            }
        }
    }
    Ok(out)
}

/// The ledger of `posture run`: the SHA-256 of every file an ingest read to
/// its end (`ingest_log` rows without an error). A file whose checksum is
/// here has been ingested, whatever its name was then.
pub fn ingested_checksums(lake: &Path) -> Result<HashSet<String>> {
    let mut sums = HashSet::new();
    for path in table_files(lake, Table::IngestLog)? {
        read_text_column(&path, "sha256", &mut |sum| {
            sums.insert(sum.to_owned());
        })?;
    }
    Ok(sums)
}

/// Calls `each` with every non-null value of a text column of one file.
fn read_text_column(path: &Path, column: &str, each: &mut dyn FnMut(&str)) -> Result<()> {
    read_text_columns(path, &[column], &mut |values| {
        if let Some(value) = values[0] {
            each(value);
        }
    })
}

/// Calls `each` with the values of some text columns, row by row.
fn read_text_columns(
    path: &Path,
    columns: &[&str],
    each: &mut dyn FnMut(&[Option<&str>]),
) -> Result<()> {
    let context = || format!("cannot read Parquet file `{}`", path.display());
    let file = File::open(path).with_context(|| format!("cannot open `{}`", path.display()))?;
    let builder = ParquetRecordBatchReaderBuilder::try_new(file).with_context(context)?;
    let mask = ProjectionMask::columns(builder.parquet_schema(), columns.iter().copied());
    let reader = builder
        .with_projection(mask)
        .build()
        .with_context(context)?;
    for batch in reader {
        let batch = batch.with_context(context)?;
        let mut arrays = Vec::new();
        for column in columns {
            let values = batch
                .column_by_name(column)
                .with_context(|| format!("`{}` has no `{column}` column", path.display()))?;
            arrays.push(values.as_string::<i32>().clone());
        }
        let mut row = Vec::with_capacity(columns.len());
        for i in 0..batch.num_rows() {
            row.clear();
            row.extend(arrays.iter().map(|a| a.is_valid(i).then(|| a.value(i))));
            each(&row);
        }
    }
    Ok(())
}

/// The newest load of the `exceptions` table (the set in force): its
/// `load_id` and the checksum of the file it came from.
pub fn newest_exception_load(lake: &Path) -> Result<Option<(String, String)>> {
    let mut newest: Option<(String, String)> = None;
    for path in table_files(lake, Table::Exceptions)? {
        read_text_columns(&path, &["load_id", "source_sha256"], &mut |row| {
            if let (Some(id), Some(sum)) = (row[0], row[1])
                && newest.as_ref().is_none_or(|(n, _)| id > n.as_str())
            {
                newest = Some((id.to_owned(), sum.to_owned()));
            }
        })?;
    }
    Ok(newest)
}

fn writer_properties(table: Table) -> WriterProperties {
    let schema = table.schema();
    let sorting = table
        .sort_columns()
        .iter()
        .map(|name| SortingColumn {
            column_idx: schema
                .index_of(name)
                .expect("sort columns are in the schema") as i32,
            descending: false,
            nulls_first: false,
        })
        .collect();
    WriterProperties::builder()
        .set_compression(Compression::ZSTD(
            ZstdLevel::try_new(3).expect("3 is a zstd level"),
        ))
        .set_statistics_enabled(EnabledStatistics::Page)
        .set_sorting_columns(Some(sorting))
        .set_created_by(format!("posture {}", env!("CARGO_PKG_VERSION")))
        .build()
}

/// Writes `batch` of `table` into the staging area as one sorted file per
/// date partition, the date taken from `date_column`, and returns the number
/// of files written.
pub fn stage_partitioned(
    staging: &mut Staging,
    table: Table,
    batch: &RecordBatch,
    date_column: &str,
    file_stem: &str,
) -> Result<usize> {
    if batch.num_rows() == 0 {
        return Ok(0);
    }
    let times: &TimestampMicrosecondArray = batch
        .column_by_name(date_column)
        .expect("partition timestamp column exists")
        .as_primitive::<TimestampMicrosecondType>();
    let days: ArrayRef = Arc::new(datafusion::arrow::array::Int64Array::from_iter_values(
        times.values().iter().map(|t| t.div_euclid(MICROS_PER_DAY)),
    ));
    let mut keys = vec![SortColumn {
        values: days.clone(),
        options: None,
    }];
    for name in table.sort_columns() {
        keys.push(SortColumn {
            values: batch
                .column_by_name(name)
                .expect("sort column exists")
                .clone(),
            options: None,
        });
    }
    let order = lexsort_to_indices(&keys, None).context("cannot sort rows")?;
    let sorted = take_record_batch(batch, &order).context("cannot sort rows")?;
    let days = datafusion::arrow::compute::take(&days, &order, None)?;
    let days = days.as_primitive::<datafusion::arrow::datatypes::Int64Type>();

    let mut files = 0;
    let mut start = 0;
    while start < sorted.num_rows() {
        let day = days.value(start);
        let mut end = start;
        while end < sorted.num_rows() && days.value(end) == day {
            end += 1;
        }
        let date = utc_date(day * MICROS_PER_DAY);
        let relative = format!(
            "{}/{PARTITION_COLUMN}={}/{file_stem}.parquet",
            table.name(),
            date.format("%Y-%m-%d")
        );
        write_parquet(staging, &relative, table, &sorted.slice(start, end - start))?;
        files += 1;
        start = end;
    }
    Ok(files)
}

/// Writes reports with their policy and setting states into the staging
/// area: one sorted file per table and date partition. The reports come in
/// pieces (`[reports, policy_states, setting_states]`, in input order);
/// the rows of report `i` (counting across pieces) are contiguous in the
/// other two tables of its piece, `rows[i]` of each, and only the reports
/// with `keep[i]` are written.
///
/// Sorting by report is enough: the reports are sorted by day, device,
/// time and `report_id` (unique in a batch), then each report's own rows
/// by `policy_id` (and `setting_id`), which is each table's sort order
/// without comparing millions of rows with each other. Each table's rows
/// are copied once, from the pieces straight into their sorted order.
pub fn stage_reports(
    staging: &mut Staging,
    pieces: Vec<[RecordBatch; 3]>,
    keep: &[bool],
    rows: &[(usize, usize)],
    file_stem: &str,
) -> Result<()> {
    // Where each report is: its piece, its row there, and its rows in the
    // piece's other two tables.
    let mut at: Vec<Located> = Vec::with_capacity(rows.len());
    for (piece, tables) in pieces.iter().enumerate() {
        let (mut p, mut s) = (0, 0);
        for row in 0..tables[0].num_rows() {
            let (np, ns) = rows[at.len()];
            at.push(Located {
                piece,
                row,
                policies: p..p + np,
                settings: s..s + ns,
            });
            p += np;
            s += ns;
        }
    }
    let kept: Vec<u32> = (0..at.len() as u32).filter(|i| keep[*i as usize]).collect();
    if kept.is_empty() {
        return Ok(());
    }
    let [reports, policies, settings] = split_pieces(pieces);
    let report_refs: Vec<&RecordBatch> = reports.iter().collect();
    let report_rows: Vec<(usize, usize)> = kept
        .iter()
        .map(|i| (at[*i as usize].piece, at[*i as usize].row))
        .collect();
    // The kept reports in input order, then sorted.
    let kept_reports =
        interleave_record_batch(&report_refs, &report_rows).context("cannot gather rows")?;
    let times = kept_reports
        .column_by_name("observed_at")
        .expect("reports have observed_at")
        .as_primitive::<TimestampMicrosecondType>()
        .clone();
    let day_of = |t: i64| t.div_euclid(MICROS_PER_DAY);
    let days: ArrayRef = Arc::new(datafusion::arrow::array::Int64Array::from_iter_values(
        times.values().iter().map(|t| day_of(*t)),
    ));
    let mut keys = vec![SortColumn {
        values: days,
        options: None,
    }];
    for name in Table::Reports.sort_columns() {
        keys.push(SortColumn {
            values: kept_reports
                .column_by_name(name)
                .expect("sort column")
                .clone(),
            options: None,
        });
    }
    let order = lexsort_to_indices(&keys, None).context("cannot sort rows")?;
    // Per day, in order: (day, reports, policy rows, setting rows).
    let mut days: Vec<(i64, usize, usize, usize)> = Vec::new();
    for &k in order.values() {
        let day = day_of(times.value(k as usize));
        if days.last().is_none_or(|d| d.0 != day) {
            days.push((day, 0, 0, 0));
        }
        let (np, ns) = rows[kept[k as usize] as usize];
        let last = days.last_mut().expect("pushed above");
        last.1 += 1;
        last.2 += np;
        last.3 += ns;
    }
    let sorted_reports = take_record_batch(&kept_reports, &order).context("cannot sort rows")?;
    drop(kept_reports);
    stage_days(
        staging,
        Table::Reports,
        &sorted_reports,
        &days,
        1,
        file_stem,
    )?;
    drop(sorted_reports);

    // The other two tables: each report's rows, in the reports' order,
    // sorted among themselves.
    let in_order: Vec<&Located> = order
        .values()
        .iter()
        .map(|k| &at[kept[*k as usize] as usize])
        .collect();
    let text = |batch: &RecordBatch, name: &str| {
        batch
            .column_by_name(name)
            .expect("a sort column")
            .as_string::<i32>()
            .clone()
    };
    let policy_ids: Vec<_> = policies.iter().map(|b| text(b, "policy_id")).collect();
    let mut indices: Vec<(usize, usize)> = Vec::new();
    for report in &in_order {
        let first = indices.len();
        indices.extend(report.policies.clone().map(|r| (report.piece, r)));
        let ids = &policy_ids[report.piece];
        indices[first..].sort_by(|a, b| ids.value(a.1).cmp(ids.value(b.1)));
    }
    let refs: Vec<&RecordBatch> = policies.iter().collect();
    let sorted = interleave_record_batch(&refs, &indices).context("cannot sort rows")?;
    drop(policies);
    stage_days(staging, Table::PolicyStates, &sorted, &days, 2, file_stem)?;
    drop(sorted);

    let setting_policies: Vec<_> = settings.iter().map(|b| text(b, "policy_id")).collect();
    let setting_ids: Vec<_> = settings.iter().map(|b| text(b, "setting_id")).collect();
    indices.clear();
    for report in &in_order {
        let first = indices.len();
        indices.extend(report.settings.clone().map(|r| (report.piece, r)));
        let (pids, sids) = (&setting_policies[report.piece], &setting_ids[report.piece]);
        indices[first..].sort_by(|a, b| {
            pids.value(a.1)
                .cmp(pids.value(b.1))
                .then_with(|| sids.value(a.1).cmp(sids.value(b.1)))
        });
    }
    let refs: Vec<&RecordBatch> = settings.iter().collect();
    let sorted = interleave_record_batch(&refs, &indices).context("cannot sort rows")?;
    drop(settings);
    stage_days(staging, Table::SettingStates, &sorted, &days, 3, file_stem)
}

/// Where one report of a batch is: its piece, its row there, and its rows
/// in the piece's policy and setting tables.
struct Located {
    piece: usize,
    row: usize,
    policies: std::ops::Range<usize>,
    settings: std::ops::Range<usize>,
}

/// The pieces' tables, each as a list of its own.
fn split_pieces(pieces: Vec<[RecordBatch; 3]>) -> [Vec<RecordBatch>; 3] {
    let mut tables: [Vec<RecordBatch>; 3] = Default::default();
    for piece in pieces {
        for (table, batch) in tables.iter_mut().zip(piece) {
            table.push(batch);
        }
    }
    tables
}

/// Writes the sorted rows of one of the report tables, one file per day;
/// `days` holds, per day, its rows of each table (`column` picks which).
fn stage_days(
    staging: &mut Staging,
    table: Table,
    sorted: &RecordBatch,
    days: &[(i64, usize, usize, usize)],
    column: usize,
    file_stem: &str,
) -> Result<()> {
    let mut start = 0;
    for day in days {
        let len = [day.1, day.2, day.3][column - 1];
        let date = utc_date(day.0 * MICROS_PER_DAY);
        let relative = format!(
            "{}/{PARTITION_COLUMN}={}/{file_stem}.parquet",
            table.name(),
            date.format("%Y-%m-%d")
        );
        if len > 0 {
            write_parquet(staging, &relative, table, &sorted.slice(start, len))?;
        }
        start += len;
    }
    Ok(())
}

fn write_parquet(
    staging: &mut Staging,
    relative: &str,
    table: Table,
    batch: &RecordBatch,
) -> Result<()> {
    let mut writer = StagedParquet::create(staging, relative, table)?;
    writer.write(batch)?;
    writer.finish()
}

/// A Parquet file of `table` being written into the staging folder, batch
/// by batch, as ingest writes them.
struct StagedParquet {
    path: PathBuf,
    writer: ArrowWriter<std::fs::File>,
}

impl StagedParquet {
    fn create(staging: &mut Staging, relative: &str, table: Table) -> Result<StagedParquet> {
        let (path, file) = staging.create(relative)?;
        let writer = ArrowWriter::try_new(file, table.schema(), Some(writer_properties(table)))
            .with_context(|| format!("cannot write `{}`", path.display()))?;
        Ok(StagedParquet { path, writer })
    }

    fn write(&mut self, batch: &RecordBatch) -> Result<()> {
        self.writer
            .write(batch)
            .with_context(|| format!("cannot write `{}`", self.path.display()))
    }

    fn finish(mut self) -> Result<()> {
        let context = || format!("cannot write `{}`", self.path.display());
        // The row groups reach the file before its footer does: a crash here
        // leaves a Parquet file without a footer in `_staging/`.
        self.writer.flush().with_context(context)?;
        crate::fault::point("mid-parquet-write").with_context(context)?;
        let file = self.writer.into_inner().with_context(context)?;
        file.sync_all().with_context(context)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_utc_days_including_before_1970() {
        assert_eq!(utc_date(0).to_string(), "1970-01-01");
        assert_eq!(utc_date(-1).to_string(), "1969-12-31");
        assert_eq!(utc_date(MICROS_PER_DAY - 1).to_string(), "1970-01-01");
    }
}
