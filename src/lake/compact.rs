//! `posture compact`: every ingest adds a file per touched partition, so a
//! lake fed every 90 minutes collects many small files per day; this merges
//! each partition's files into one, in one atomic commit (docs/compaction.md).

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use datafusion::arrow::array::{ArrayRef, RecordBatch, new_null_array};
use datafusion::arrow::compute::{
    SortColumn, concat_batches, lexsort_to_indices, take_record_batch,
};
use datafusion::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use datafusion::parquet::file::reader::{FileReader, SerializedFileReader};

use std::collections::{BTreeMap, BTreeSet};

use super::{Staging, Table, lock_for_writing, snapshot, write_parquet};

/// One partition of one table and its Parquet files.
#[derive(Debug, Clone)]
pub struct Partition {
    pub table: Table,
    /// The folder name, `date=YYYY-MM-DD`.
    pub name: String,
    pub files: Vec<PathBuf>,
    pub bytes: u64,
}

impl Partition {
    fn relative(&self) -> String {
        format!("{}/{}", self.table.name(), self.name)
    }
}

/// What a compaction did (or, dry, would do).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CompactSummary {
    pub partitions: u64,
    pub files_before: u64,
    pub files_after: u64,
    pub bytes_before: u64,
    pub bytes_after: u64,
    pub rows: u64,
    /// Days whose daily snapshot was (re)built.
    pub snapshots: u64,
    /// The day of the as-of snapshot, when it was (re)built.
    pub as_of: Option<String>,
}

impl CompactSummary {
    /// The summary line on stderr (counts over the whole lake, so a script
    /// can see the file count fall).
    pub fn line(&self) -> String {
        format!(
            "compacted: partitions={} files={}->{} bytes={}->{} rows={} snapshots={} as_of={}",
            self.partitions,
            self.files_before,
            self.files_after,
            self.bytes_before,
            self.bytes_after,
            self.rows,
            self.snapshots,
            self.as_of.as_deref().unwrap_or("-")
        )
    }
}

/// The Parquet files of one partition folder, sorted; names starting with
/// `_` or `.` are not data (Hive readers skip them too).
pub fn partition_files(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for entry in
        std::fs::read_dir(dir).with_context(|| format!("cannot list `{}`", dir.display()))?
    {
        let path = entry?.path();
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if path.is_file()
            && name.ends_with(".parquet")
            && !name.starts_with('_')
            && !name.starts_with('.')
        {
            files.push(path);
        }
    }
    files.sort();
    Ok(files)
}

/// Every partition of every table, with its files.
pub fn partitions(lake: &Path) -> Result<Vec<Partition>> {
    let mut all = Vec::new();
    for table in Table::ALL {
        let dir = lake.join(table.name());
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        let mut dirs: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
        dirs.sort();
        for dir in dirs {
            let Some(name) = dir.file_name().and_then(|n| n.to_str()) else {
                continue;
            };
            if !dir.is_dir() || name.starts_with('_') || name.starts_with('.') {
                continue;
            }
            let files = partition_files(&dir)?;
            let mut bytes = 0;
            for f in &files {
                bytes += std::fs::metadata(f)
                    .with_context(|| format!("cannot read `{}`", f.display()))?
                    .len();
            }
            all.push(Partition {
                table,
                name: name.to_owned(),
                files,
                bytes,
            });
        }
    }
    Ok(all)
}

/// Merges every partition that has more than one file into one file, sorted
/// by its table's sort order, written as ingest writes, and (re)builds the
/// daily snapshot of every day whose snapshot is missing or stale, all in
/// one commit that also deletes the files it replaces. Holds the writer lock
/// throughout. With `dry_run`, only says what it would do.
pub fn compact(lake: &Path, run_id: &str, dry_run: bool) -> Result<CompactSummary> {
    let lock = lock_for_writing(lake)?;
    let all = partitions(lake)?;
    let mut summary = CompactSummary::default();
    for p in &all {
        summary.files_before += p.files.len() as u64;
        summary.bytes_before += p.bytes;
    }
    summary.files_after = summary.files_before;
    summary.bytes_after = summary.bytes_before;
    let todo: Vec<&Partition> = all.iter().filter(|p| p.files.len() > 1).collect();
    let stem = format!("part-{run_id}");
    // The raw files of each report-table partition once this commit is in:
    // (lake-relative name, where to read it now).
    let mut after: BTreeMap<(Table, String), Vec<(String, PathBuf)>> = BTreeMap::new();
    for p in &all {
        let files = if p.files.len() > 1 {
            let relative = format!("{}/{stem}.parquet", p.relative());
            let staged = lake.join(super::STAGING_DIR).join(run_id).join(&relative);
            vec![(relative, staged)]
        } else {
            p.files
                .iter()
                .map(|f| (relative_to(lake, f), f.clone()))
                .collect()
        };
        after.insert((p.table, p.name.clone()), files);
    }
    let stale = snapshot::days_to_build(lake, &after)?;
    let as_of = snapshot::as_of_to_build(lake, &after);
    if todo.is_empty() && stale.is_empty() && as_of.is_none() {
        return Ok(summary);
    }
    if dry_run {
        for p in &todo {
            eprintln!(
                "would compact {}: {} files, {} bytes",
                p.relative(),
                p.files.len(),
                p.bytes
            );
            summary.partitions += 1;
            summary.files_after -= p.files.len() as u64 - 1;
        }
        for (day, _) in &stale {
            eprintln!("would build the daily snapshot of {day}");
        }
        if let Some((day, _)) = &as_of {
            eprintln!("would build the as-of snapshot of {day}");
        }
        summary.as_of = as_of.map(|(day, _)| day);
        summary.snapshots = stale.len() as u64;
        return Ok(summary);
    }
    let mut staging = Staging::new(lake, run_id)?;
    for (i, p) in todo.iter().enumerate() {
        let expected = rows_in(&p.files)?;
        let merged = read_sorted(p.table, &p.files)?;
        if merged.num_rows() as u64 != expected {
            bail!(
                "compacting `{}` read {} rows, its files hold {expected}; nothing was committed",
                p.relative(),
                merged.num_rows()
            );
        }
        let relative = format!("{}/{stem}.parquet", p.relative());
        write_parquet(&mut staging, &relative, p.table, &merged)?;
        let staged = staging.path_of(&relative);
        let written = rows_in(std::slice::from_ref(&staged))?;
        if written != expected {
            bail!(
                "the merged file of `{}` holds {written} rows, its inputs {expected}; nothing was committed",
                p.relative()
            );
        }
        let bytes = std::fs::metadata(&staged)
            .with_context(|| format!("cannot read `{}`", staged.display()))?
            .len();
        for f in &p.files {
            staging.remove(&relative_to(lake, f));
        }
        eprintln!(
            "compacting: {}/{} {}: {} files -> 1, {} rows, {} -> {} bytes",
            i + 1,
            todo.len(),
            p.relative(),
            p.files.len(),
            expected,
            p.bytes,
            bytes
        );
        summary.partitions += 1;
        summary.rows += expected;
        summary.files_after -= p.files.len() as u64 - 1;
        summary.bytes_after = summary.bytes_after - p.bytes + bytes;
        crate::fault::point("after-compact-partition")
            .with_context(|| format!("cannot compact `{}`", p.relative()))?;
    }
    for (i, (day, sources)) in stale.iter().enumerate() {
        let rows = snapshot::build(lake, &mut staging, run_id, day, sources, &after)?;
        eprintln!(
            "snapshot: {}/{} {day}: {} of {} reports (each device's last of the day)",
            i + 1,
            stale.len(),
            rows.0,
            rows.1
        );
        summary.snapshots += 1;
    }
    if let Some((day, sources)) = &as_of {
        // Each day's daily snapshot once this commit is in: staged above
        // when rebuilt, else the lake's.
        let rebuilt: BTreeSet<&str> = stale.iter().map(|(day, _)| day.as_str()).collect();
        let staged = lake.join(super::STAGING_DIR).join(run_id);
        let daily_files = |table: Table, folder: &str| -> Result<Vec<PathBuf>> {
            if rebuilt.contains(folder) {
                let file = staged.join(format!(
                    "{}/{folder}/part-{run_id}-daily.parquet",
                    table.name()
                ));
                return Ok(if file.exists() { vec![file] } else { vec![] });
            }
            let dir = lake.join(table.name()).join(folder);
            if dir.is_dir() {
                partition_files(&dir)
            } else {
                Ok(vec![])
            }
        };
        let days: Vec<String> = after
            .keys()
            .filter(|(table, _)| *table == Table::Reports)
            .map(|(_, folder)| folder.clone())
            .collect();
        let kept = snapshot::build_as_of(
            lake,
            &mut staging,
            run_id,
            (day, sources),
            &daily_files,
            &days,
        )?;
        eprintln!("snapshot: as of {day}: {kept} reports (each device's newest by then)");
    }
    summary.as_of = as_of.map(|(day, _)| day);
    staging.commit(&lock)?;
    Ok(summary)
}

/// A lake file's path relative to the lake, `/`-separated.
pub(super) fn relative_to(lake: &Path, file: &Path) -> String {
    let relative = file
        .strip_prefix(lake)
        .expect("lake files are inside the lake");
    relative
        .components()
        .map(|c| c.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/")
}

/// The rows of some Parquet files, from their footers.
fn rows_in(files: &[PathBuf]) -> Result<u64> {
    let mut rows = 0u64;
    for f in files {
        let file = File::open(f).with_context(|| format!("cannot open `{}`", f.display()))?;
        let reader = SerializedFileReader::new(file)
            .with_context(|| format!("cannot read Parquet file `{}`", f.display()))?;
        rows += reader.metadata().file_metadata().num_rows() as u64;
    }
    Ok(rows)
}

/// Every row of some files of `table`, sorted by the table's sort order.
pub(super) fn read_sorted(table: Table, files: &[PathBuf]) -> Result<RecordBatch> {
    sort(table, &read_all(table, files)?)
}

/// Sorts rows of `table` by its sort order.
pub(super) fn sort(table: Table, all: &RecordBatch) -> Result<RecordBatch> {
    let keys: Vec<SortColumn> = table
        .sort_columns()
        .iter()
        .map(|name| SortColumn {
            values: all
                .column_by_name(name)
                .expect("sort column exists")
                .clone(),
            options: None,
        })
        .collect();
    let order = lexsort_to_indices(&keys, None).context("cannot sort rows")?;
    take_record_batch(all, &order).context("cannot sort rows")
}

/// Every row of some files of `table`, in the table's schema (a column
/// added to the contract after an old file was written reads as NULL there).
pub(super) fn read_all(table: Table, files: &[PathBuf]) -> Result<RecordBatch> {
    read_kept(table, files, Ok)
}

/// The rows of some files of `table` that `keep` keeps of each batch read,
/// in the table's schema: only those are held.
pub(super) fn read_kept(
    table: Table,
    files: &[PathBuf],
    keep: impl Fn(RecordBatch) -> Result<RecordBatch>,
) -> Result<RecordBatch> {
    let mut batches = Vec::new();
    for_each_batch(table, files, |batch| {
        batches.push(keep(batch)?);
        Ok(())
    })?;
    concat_batches(&table.schema(), &batches).context("cannot merge rows")
}

/// Reads some files of `table` in order, batch by batch, each in the
/// table's schema (a column added to the contract after an old file was
/// written reads as NULL there).
pub(super) fn for_each_batch(
    table: Table,
    files: &[PathBuf],
    mut each: impl FnMut(RecordBatch) -> Result<()>,
) -> Result<()> {
    let schema = table.schema();
    for f in files {
        let context = || format!("cannot read Parquet file `{}`", f.display());
        let file = File::open(f).with_context(|| format!("cannot open `{}`", f.display()))?;
        let reader = ParquetRecordBatchReaderBuilder::try_new(file)
            .with_context(context)?
            .build()
            .with_context(context)?;
        for batch in reader {
            let batch = batch.with_context(context)?;
            let columns = schema
                .fields()
                .iter()
                .map(|field| match batch.column_by_name(field.name()) {
                    Some(c) => c.clone(),
                    None => new_null_array(field.data_type(), batch.num_rows()),
                })
                .collect::<Vec<ArrayRef>>();
            let batch = RecordBatch::try_new(Arc::clone(&schema), columns).with_context(|| {
                format!(
                    "`{}` does not match the table `{}`",
                    f.display(),
                    table.name()
                )
            })?;
            each(batch)?;
        }
    }
    Ok(())
}
