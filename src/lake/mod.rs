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
use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, RecordBatch, TimestampMicrosecondArray, UInt32Array,
};
use datafusion::arrow::compute::{SortColumn, lexsort_to_indices, take_record_batch};
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
/// area: one sorted file per table and date partition. The rows of report
/// `i` are contiguous in the other two tables, `rows[i]` of each.
///
/// Sorting by report is enough: the reports are sorted by day, device,
/// time and `report_id` (unique in a batch), then each report's own rows
/// by `policy_id` (and `setting_id`), which is each table's sort order
/// without comparing millions of rows with each other.
pub fn stage_reports(
    staging: &mut Staging,
    [reports, policies, settings]: [&RecordBatch; 3],
    rows: &[(usize, usize)],
    file_stem: &str,
) -> Result<()> {
    if reports.num_rows() == 0 {
        return Ok(());
    }
    let text = |batch: &RecordBatch, name: &str| {
        batch
            .column_by_name(name)
            .expect("a sort column")
            .as_string::<i32>()
            .clone()
    };
    let times: &TimestampMicrosecondArray = reports
        .column_by_name("observed_at")
        .expect("reports have observed_at")
        .as_primitive::<TimestampMicrosecondType>();
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
            values: reports.column_by_name(name).expect("sort column").clone(),
            options: None,
        });
    }
    let order = lexsort_to_indices(&keys, None).context("cannot sort rows")?;
    // Where each report's rows start in the other two tables.
    let mut policy_start = Vec::with_capacity(rows.len());
    let mut setting_start = Vec::with_capacity(rows.len());
    let (mut p, mut s) = (0u32, 0u32);
    for (np, ns) in rows {
        policy_start.push(p);
        setting_start.push(s);
        p += *np as u32;
        s += *ns as u32;
    }
    let policy_ids = text(policies, "policy_id");
    let setting_policies = text(settings, "policy_id");
    let setting_ids = text(settings, "setting_id");
    let mut policy_order: Vec<u32> = Vec::with_capacity(policies.num_rows());
    let mut setting_order: Vec<u32> = Vec::with_capacity(settings.num_rows());
    // Per day, in order: (day, reports, policy rows, setting rows).
    let mut days: Vec<(i64, usize, usize, usize)> = Vec::new();
    for &i in order.values() {
        let i = i as usize;
        let day = day_of(times.value(i));
        if days.last().is_none_or(|d| d.0 != day) {
            days.push((day, 0, 0, 0));
        }
        let (np, ns) = rows[i];
        let first = policy_order.len();
        policy_order.extend(policy_start[i]..policy_start[i] + np as u32);
        policy_order[first..].sort_by(|a, b| {
            policy_ids
                .value(*a as usize)
                .cmp(policy_ids.value(*b as usize))
        });
        let first = setting_order.len();
        setting_order.extend(setting_start[i]..setting_start[i] + ns as u32);
        setting_order[first..].sort_by(|a, b| {
            let (a, b) = (*a as usize, *b as usize);
            setting_policies
                .value(a)
                .cmp(setting_policies.value(b))
                .then_with(|| setting_ids.value(a).cmp(setting_ids.value(b)))
        });
        let last = days.last_mut().expect("pushed above");
        last.1 += 1;
        last.2 += np;
        last.3 += ns;
    }
    let sorted = [
        (Table::Reports, take_record_batch(reports, &order)),
        (
            Table::PolicyStates,
            take_record_batch(policies, &UInt32Array::from(policy_order)),
        ),
        (
            Table::SettingStates,
            take_record_batch(settings, &UInt32Array::from(setting_order)),
        ),
    ];
    for (n, (table, batch)) in sorted.into_iter().enumerate() {
        let batch = batch.context("cannot sort rows")?;
        let mut start = 0;
        for day in &days {
            let len = [day.1, day.2, day.3][n];
            let date = utc_date(day.0 * MICROS_PER_DAY);
            let relative = format!(
                "{}/{PARTITION_COLUMN}={}/{file_stem}.parquet",
                table.name(),
                date.format("%Y-%m-%d")
            );
            if len > 0 {
                write_parquet(staging, &relative, table, &batch.slice(start, len))?;
            }
            start += len;
        }
    }
    Ok(())
}

fn write_parquet(
    staging: &mut Staging,
    relative: &str,
    table: Table,
    batch: &RecordBatch,
) -> Result<()> {
    let (path, file) = staging.create(relative)?;
    let context = || format!("cannot write `{}`", path.display());
    let mut writer = ArrowWriter::try_new(file, table.schema(), Some(writer_properties(table)))
        .with_context(context)?;
    writer.write(batch).with_context(context)?;
    // The row groups reach the file before its footer does: a crash here
    // leaves a Parquet file without a footer in `_staging/`.
    writer.flush().with_context(context)?;
    crate::fault::point("mid-parquet-write").with_context(context)?;
    let file = writer.into_inner().with_context(context)?;
    file.sync_all().with_context(context)?;
    Ok(())
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
