//! The dedup index: every `report_id`, and every vendor `row_id`, that the
//! lake holds, so that an ingest tells a re-sent report from a new one
//! whatever day it falls on, without reading the tables and without holding
//! the lake's ids in memory (docs/lake.md, "Deduplication").
//!
//! Per table, sorted runs: `_index/<table>/run-*.parquet`, each one sorted
//! Parquet column `id`, in pages of [`PAGE_IDS`] ids with the page index,
//! and a Bloom filter per row group. A probe asks the filters first (held in
//! memory, about two bytes an id) and reads, for the rare "maybe", the one
//! page the id would be in: the answer is exact. The ids an ingest accepts
//! stay in memory up to a budget, then become a new run; a run is merged
//! with the ones before it once it has caught up with them in size (a
//! binary counter), so a table has about log2(ids / run) runs. Runs are
//! staged like table files and committed with them, in the same commit.

use std::collections::{BTreeMap, HashSet};
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use datafusion::arrow::array::{
    Array, ArrayBuilder, AsArray, RecordBatch, StringArray, StringBuilder,
};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::parquet::arrow::ArrowWriter;
use datafusion::parquet::arrow::arrow_reader::{
    ArrowReaderMetadata, ArrowReaderOptions, ParquetRecordBatchReader,
    ParquetRecordBatchReaderBuilder, RowSelection, RowSelector,
};
use datafusion::parquet::basic::{Compression, Encoding, ZstdLevel};
use datafusion::parquet::bloom_filter::Sbbf;
use datafusion::parquet::file::metadata::PageIndexPolicy;
use datafusion::parquet::file::page_index::column_index::ColumnIndexMetaData;
use datafusion::parquet::file::properties::{EnabledStatistics, WriterProperties};

use super::{Staging, Table};

/// The index's folder inside the lake (`_`: not a table to Hive readers).
pub const INDEX_DIR: &str = "_index";
/// Written with the index's first runs; says which format the runs are in.
const FORMAT_FILE: &str = "FORMAT";
const FORMAT: &str = "posture dedup index 1\n";
/// Ids per Parquet page: what an exact check reads for one id.
const PAGE_IDS: usize = 256;
/// Ids per row group, each with its own Bloom filter: what a writer holds.
const GROUP_IDS: usize = 1 << 20;
/// The Bloom filters' false-positive rate: one id in a thousand that is
/// not in a run costs a page read to find out.
const FILTER_FPP: f64 = 0.001;
/// Ids read or written at a time while runs are merged.
const MERGE_BATCH: usize = 8192;
/// What an id held in memory costs beyond its bytes (the set's slot, the
/// allocation): used to keep the budget honest.
const ID_OVERHEAD: usize = 48;

/// The tables an ingest deduplicates, and the column that identifies a row
/// of each: `report_id` for reports (agent reports and Intune policy
/// statuses), `row_id` for vendor exports' rows.
pub fn id_column(table: Table) -> Option<&'static str> {
    match table {
        Table::Reports => Some("report_id"),
        // The rows of Intune per-setting exports; an agent report's
        // setting rows have none (NULL) and go with their report.
        Table::SettingStates => Some("row_id"),
        t if Table::VENDOR.contains(&t) => Some("row_id"),
        _ => None,
    }
}

fn id_tables() -> impl Iterator<Item = Table> {
    Table::ALL.into_iter().filter(|t| id_column(*t).is_some())
}

/// The dedup index of one lake, as one ingest sees and extends it.
pub struct IdIndex {
    lake: PathBuf,
    run_id: String,
    tables: BTreeMap<Table, TableIndex>,
    /// Bytes of ids held in memory before they are written as a run.
    memory: usize,
    held: usize,
    /// Runs written by this ingest, for their names.
    written: usize,
    /// Whether `FORMAT` is still to be written (a new index).
    new: bool,
}

impl std::fmt::Debug for IdIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IdIndex")
            .field("lake", &self.lake)
            .field("runs", &self.runs())
            .field("held", &self.held)
            .finish()
    }
}

#[derive(Default)]
struct TableIndex {
    /// Oldest first; sizes roughly falling (see [`IdIndex::merge`]).
    runs: Vec<IdRun>,
    /// Ids accepted by this ingest and not yet written as a run.
    pending: HashSet<Box<str>>,
}

/// One sorted run of ids, with what is kept of it in memory: its Parquet
/// metadata (with the page index) and its Bloom filters.
struct IdRun {
    /// Lake-relative path, `/`-separated.
    relative: String,
    /// Where it is now: in the lake, or staged by this ingest.
    path: PathBuf,
    staged: bool,
    ids: u64,
    metadata: ArrowReaderMetadata,
    /// Per row group: its filter, and the least and greatest id it may
    /// hold (from its pages' bounds).
    filters: Vec<Sbbf>,
    groups: Vec<Bounds>,
}

/// The least and greatest id a row group may hold.
type Bounds = (Box<[u8]>, Box<[u8]>);

/// Of one row group: the ids its filter may hold, and the pages to read
/// to know (first row, rows).
#[derive(Clone, Default)]
struct Wanted {
    ids: Vec<usize>,
    pages: Vec<(usize, usize)>,
}

/// Receives the ids of a run being written, in order.
type Emit<'a> = dyn FnMut(&str) -> Result<()> + 'a;

fn schema() -> SchemaRef {
    Arc::new(Schema::new(vec![Field::new("id", DataType::Utf8, false)]))
}

fn writer_properties(ids: u64) -> WriterProperties {
    let group = ids.clamp(1, GROUP_IDS as u64);
    WriterProperties::builder()
        .set_compression(Compression::ZSTD(
            ZstdLevel::try_new(1).expect("1 is a zstd level"),
        ))
        .set_dictionary_enabled(false)
        // Sorted ids share prefixes: stored once each.
        .set_encoding(Encoding::DELTA_BYTE_ARRAY)
        .set_statistics_enabled(EnabledStatistics::Page)
        .set_data_page_row_count_limit(PAGE_IDS)
        .set_write_batch_size(PAGE_IDS)
        .set_max_row_group_row_count(Some(GROUP_IDS))
        .set_bloom_filter_enabled(true)
        .set_bloom_filter_fpp(FILTER_FPP)
        .set_bloom_filter_max_ndv(group)
        .set_created_by(format!("posture {}", env!("CARGO_PKG_VERSION")))
        .build()
}

impl IdRun {
    fn open(relative: String, path: PathBuf, staged: bool) -> Result<IdRun> {
        let context = || format!("cannot read the dedup index run `{}`", path.display());
        let file = File::open(&path).with_context(context)?;
        let metadata = ArrowReaderMetadata::load(
            &file,
            ArrowReaderOptions::new().with_page_index_policy(PageIndexPolicy::Required),
        )
        .with_context(context)?;
        let builder = ParquetRecordBatchReaderBuilder::new_with_metadata(file, metadata.clone());
        let parquet = metadata.metadata();
        let groups = parquet.num_row_groups();
        if parquet.column_index().is_none() || parquet.offset_index().is_none() {
            bail!("{}: it has no page index", context());
        }
        let mut filters = Vec::with_capacity(groups);
        let mut bounds = Vec::with_capacity(groups);
        for group in 0..groups {
            let filter = builder
                .get_row_group_column_bloom_filter(group, 0)
                .with_context(context)?
                .with_context(|| format!("{}: it has no Bloom filter", context()))?;
            filters.push(filter);
            let index = parquet.column_index().map(|c| &c[group][0]);
            let Some(ColumnIndexMetaData::BYTE_ARRAY(index)) = index else {
                bail!("{}: it has no page bounds", context());
            };
            let pages = index.num_pages() as usize;
            let least = index.min_value(0).unwrap_or_default();
            let greatest = index.max_value(pages.saturating_sub(1)).unwrap_or_default();
            bounds.push((least.into(), greatest.into()));
        }
        let ids = parquet.file_metadata().num_rows() as u64;
        Ok(IdRun {
            relative,
            path,
            staged,
            ids,
            metadata,
            filters,
            groups: bounds,
        })
    }

    /// The pages of `group` whose range may hold `id`, as (first row,
    /// rows).
    fn pages_for(&self, group: usize, id: &str, pages: &mut Vec<(usize, usize)>) {
        let parquet = self.metadata.metadata();
        let (Some(columns), Some(offsets)) = (parquet.column_index(), parquet.offset_index())
        else {
            return;
        };
        let ColumnIndexMetaData::BYTE_ARRAY(index) = &columns[group][0] else {
            return;
        };
        let locations = offsets[group][0].page_locations();
        let rows = parquet.row_group(group).num_rows() as usize;
        let found = overlapping(
            locations.len(),
            |p| index.min_value(p).unwrap_or_default(),
            |p| index.max_value(p).unwrap_or_default(),
            id.as_bytes(),
        );
        for p in found {
            let first = locations[p].first_row_index as usize;
            let end = locations
                .get(p + 1)
                .map_or(rows, |l| l.first_row_index as usize);
            pages.push((first, end - first));
        }
    }

    /// Of `ids` (sorted, distinct), those in this run.
    fn find(&self, ids: &[&str]) -> Result<Vec<bool>> {
        let mut present = vec![false; ids.len()];
        // Per row group, the ids its filter may hold and the pages to read.
        let mut wanted = vec![Wanted::default(); self.groups.len()];
        for (i, id) in ids.iter().enumerate() {
            let groups = overlapping(
                self.groups.len(),
                |g| &*self.groups[g].0,
                |g| &*self.groups[g].1,
                id.as_bytes(),
            );
            for group in groups {
                if self.filters[group].check(*id) {
                    let wanted = &mut wanted[group];
                    wanted.ids.push(i);
                    self.pages_for(group, id, &mut wanted.pages);
                }
            }
        }
        for (
            group,
            Wanted {
                ids: candidates,
                mut pages,
            },
        ) in wanted.into_iter().enumerate()
        {
            if candidates.is_empty() || pages.is_empty() {
                continue;
            }
            pages.sort_unstable();
            pages.dedup();
            let mut selectors = Vec::new();
            let mut at = 0;
            for (first, rows) in pages {
                if first > at {
                    selectors.push(RowSelector::skip(first - at));
                }
                selectors.push(RowSelector::select(rows));
                at = first + rows;
            }
            let file = File::open(&self.path)
                .with_context(|| format!("cannot open `{}`", self.path.display()))?;
            let reader =
                ParquetRecordBatchReaderBuilder::new_with_metadata(file, self.metadata.clone())
                    .with_row_groups(vec![group])
                    .with_row_selection(RowSelection::from(selectors))
                    .with_batch_size(MERGE_BATCH)
                    .build()
                    .with_context(|| format!("cannot read `{}`", self.path.display()))?;
            // Both sides are sorted: one merge.
            let mut next = 0;
            for batch in reader {
                let batch =
                    batch.with_context(|| format!("cannot read `{}`", self.path.display()))?;
                let values = batch.column(0).as_string::<i32>();
                for value in values.iter().flatten() {
                    while next < candidates.len() && ids[candidates[next]] < value {
                        next += 1;
                    }
                    if next == candidates.len() {
                        break;
                    }
                    if ids[candidates[next]] == value {
                        present[candidates[next]] = true;
                    }
                }
            }
        }
        Ok(present)
    }

    fn reader(&self) -> Result<ParquetRecordBatchReader> {
        let file = File::open(&self.path)
            .with_context(|| format!("cannot open `{}`", self.path.display()))?;
        ParquetRecordBatchReaderBuilder::new_with_metadata(file, self.metadata.clone())
            .with_batch_size(MERGE_BATCH)
            .build()
            .with_context(|| format!("cannot read `{}`", self.path.display()))
    }
}

/// The ranges among `n` sorted ones (`min(i)` and `max(i)` both rising)
/// that may hold `id`. Bounds may be truncated (a lower min, a higher max),
/// so neighbouring ranges can overlap: every one that may hold it counts.
fn overlapping<'b>(
    n: usize,
    min: impl Fn(usize) -> &'b [u8],
    max: impl Fn(usize) -> &'b [u8],
    id: &[u8],
) -> std::ops::Range<usize> {
    // The first whose max is at least `id`...
    let (mut lo, mut hi) = (0, n);
    while lo < hi {
        let mid = (lo + hi) / 2;
        if max(mid) < id {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    // ...to the last whose min is at most `id`.
    let mut end = lo;
    while end < n && min(end) <= id {
        end += 1;
    }
    lo..end
}

/// Writes sorted, distinct ids as a run staged at `relative`; `ids` is an
/// upper bound of their number, for the Bloom filters.
fn write_run(
    staging: &mut Staging,
    relative: &str,
    ids: u64,
    fill: &mut dyn FnMut(&mut Emit<'_>) -> Result<()>,
) -> Result<()> {
    let (path, file) = staging.create(relative)?;
    let context = || format!("cannot write `{}`", path.display());
    let mut writer =
        ArrowWriter::try_new(file, schema(), Some(writer_properties(ids))).with_context(context)?;
    let mut builder = StringBuilder::new();
    let mut last: Option<String> = None;
    fill(&mut |id| {
        debug_assert!(last.as_deref().is_none_or(|l| l < id), "ids are sorted");
        if cfg!(debug_assertions) {
            last = Some(id.to_owned());
        }
        builder.append_value(id);
        if builder.len() >= MERGE_BATCH {
            let batch = RecordBatch::try_new(schema(), vec![Arc::new(builder.finish())])?;
            writer.write(&batch).with_context(context)?;
        }
        Ok(())
    })?;
    if !builder.is_empty() {
        let batch = RecordBatch::try_new(schema(), vec![Arc::new(builder.finish())])?;
        writer.write(&batch).with_context(context)?;
    }
    writer.flush().with_context(context)?;
    crate::fault::point("mid-index-write").with_context(context)?;
    let file = writer.into_inner().with_context(context)?;
    file.sync_all().with_context(context)?;
    Ok(())
}

impl IdIndex {
    /// Opens the lake's index for an ingest that stages its files in
    /// `staging`. A lake written before the index existed gets one, built
    /// from its tables' ids and staged into this ingest's commit.
    pub fn open(
        lake: &Path,
        run_id: &str,
        memory: usize,
        staging: &mut Staging,
    ) -> Result<IdIndex> {
        let mut index = IdIndex {
            lake: lake.to_path_buf(),
            run_id: run_id.to_owned(),
            tables: id_tables().map(|t| (t, TableIndex::default())).collect(),
            memory: memory.max(1),
            held: 0,
            written: 0,
            new: false,
        };
        let dir = lake.join(INDEX_DIR);
        let format = dir.join(FORMAT_FILE);
        match std::fs::read_to_string(&format) {
            Ok(text) if text == FORMAT => {
                for table in id_tables() {
                    let mut names = Vec::new();
                    if let Ok(entries) = std::fs::read_dir(dir.join(table.name())) {
                        for entry in entries {
                            let name = entry?.file_name().to_string_lossy().into_owned();
                            if name.starts_with("run-") && name.ends_with(".parquet") {
                                names.push(name);
                            }
                        }
                    }
                    names.sort();
                    let runs = &mut index.tables.get_mut(&table).expect("an id table").runs;
                    for name in names {
                        let relative = format!("{INDEX_DIR}/{}/{name}", table.name());
                        let run = IdRun::open(relative.clone(), lake.join(&relative), false)
                            .map_err(|e| {
                                crate::Hinted::new(
                                    format!("{e:#}"),
                                    format!(
                                        "the index is derived from the tables: remove the folder \
                                         `{}` and the next ingest rebuilds it",
                                        dir.display()
                                    ),
                                )
                            })?;
                        runs.push(run);
                    }
                }
            }
            Ok(text) => bail!(crate::Hinted::new(
                format!(
                    "the dedup index `{}` is in a format this version does not read: `{}`",
                    dir.display(),
                    text.trim()
                ),
                "ingest with the posture that wrote it, or remove the folder: the next ingest \
                 rebuilds it from the tables",
            )),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                index.new = true;
                index.build(staging)?;
            }
            Err(e) => {
                return Err(e).with_context(|| format!("cannot read `{}`", format.display()));
            }
        }
        Ok(index)
    }

    /// Reads every id of the lake's tables into runs: the index of a lake
    /// that has none (written before it existed, or its `_index` removed).
    fn build(&mut self, staging: &mut Staging) -> Result<()> {
        let mut announced = false;
        for table in id_tables() {
            let column = id_column(table).expect("an id table");
            for file in super::table_files(&self.lake, table)? {
                // A file written before its table had the id column
                // (`setting_states.row_id`) holds none of its ids.
                if !super::has_column(&file, column)? {
                    continue;
                }
                if !announced {
                    eprintln!(
                        "indexing: building the dedup index of `{}` from its tables (once)",
                        self.lake.display()
                    );
                    announced = true;
                }
                let mut ids = Vec::new();
                super::read_text_column(&file, column, &mut |id| ids.push(id.to_owned()))?;
                for id in ids {
                    self.hold(table, &id);
                    if self.held >= self.memory {
                        self.spill(staging)?;
                    }
                }
            }
        }
        self.spill(staging)
    }

    /// Keeps `id` in memory as seen; false if it was already.
    fn hold(&mut self, table: Table, id: &str) -> bool {
        let pending = &mut self.tables.get_mut(&table).expect("an id table").pending;
        if pending.contains(id) {
            return false;
        }
        pending.insert(id.into());
        self.held += id.len() + ID_OVERHEAD;
        true
    }

    /// For each of `ids`, in order: whether it is new, neither in the lake
    /// nor seen before in this ingest (earlier in `ids` included). The new
    /// ones are remembered, so a later copy is a duplicate: the first
    /// delivery in input order wins.
    pub fn admit<'a>(
        &mut self,
        table: Table,
        ids: impl IntoIterator<Item = &'a str>,
        staging: &mut Staging,
    ) -> Result<Vec<bool>> {
        let mut new = Vec::new();
        let mut candidates: Vec<(&str, usize)> = Vec::new();
        for (i, id) in ids.into_iter().enumerate() {
            let fresh = self.hold(table, id);
            new.push(fresh);
            if fresh {
                candidates.push((id, i));
            }
        }
        candidates.sort_unstable();
        let sorted: Vec<&str> = candidates.iter().map(|(id, _)| *id).collect();
        let mut committed = vec![false; sorted.len()];
        let runs = &self.tables[&table].runs;
        for run in runs {
            // Only ids not found yet are asked of the next run.
            let open: Vec<usize> = (0..sorted.len()).filter(|i| !committed[*i]).collect();
            if open.is_empty() {
                break;
            }
            let asked: Vec<&str> = open.iter().map(|i| sorted[*i]).collect();
            for (i, present) in open.iter().zip(run.find(&asked)?) {
                committed[*i] |= present;
            }
        }
        let pending = &mut self.tables.get_mut(&table).expect("an id table").pending;
        for ((id, i), committed) in candidates.iter().zip(committed) {
            if committed {
                new[*i] = false;
                pending.remove(*id);
                self.held -= id.len() + ID_OVERHEAD;
            }
        }
        if self.held >= self.memory {
            self.spill(staging)?;
        }
        Ok(new)
    }

    /// Writes the ids held in memory as new runs (one per table), merging
    /// runs as the policy says.
    fn spill(&mut self, staging: &mut Staging) -> Result<()> {
        let tables: Vec<Table> = self.tables.keys().copied().collect();
        for table in tables {
            let pending = std::mem::take(&mut self.tables.get_mut(&table).expect("id").pending);
            if pending.is_empty() {
                continue;
            }
            let mut ids: Vec<Box<str>> = pending.into_iter().collect();
            ids.sort_unstable();
            let relative = self.next_name(table);
            write_run(staging, &relative, ids.len() as u64, &mut |each| {
                ids.iter().try_for_each(|id| each(id))
            })?;
            let run = IdRun::open(relative.clone(), staging.path_of(&relative), true)?;
            self.tables
                .get_mut(&table)
                .expect("an id table")
                .runs
                .push(run);
            self.merge(table, staging)?;
        }
        self.held = 0;
        Ok(())
    }

    fn next_name(&mut self, table: Table) -> String {
        self.written += 1;
        format!(
            "{INDEX_DIR}/{}/run-{}-{:05}.parquet",
            table.name(),
            self.run_id,
            self.written
        )
    }

    /// Merges the newest runs into one while the newest has caught up with
    /// the one before it in size: runs then halve in size, or more, from
    /// the oldest, so there are about log2 of them, and an id is rewritten
    /// about that many times over the lake's life.
    fn merge(&mut self, table: Table, staging: &mut Staging) -> Result<()> {
        let runs = &self.tables[&table].runs;
        let Some(last) = runs.last() else {
            return Ok(());
        };
        let mut from = runs.len() - 1;
        let mut ids = last.ids;
        while from > 0 && runs[from - 1].ids <= ids {
            from -= 1;
            ids += runs[from].ids;
        }
        if from == runs.len() - 1 {
            return Ok(());
        }
        let relative = self.next_name(table);
        let runs = &mut self.tables.get_mut(&table).expect("an id table").runs;
        let inputs: Vec<IdRun> = runs.drain(from..).collect();
        {
            let mut readers = inputs
                .iter()
                .map(|r| r.reader().map(|reader| Cursor::new(reader, &r.path)))
                .collect::<Result<Vec<_>>>()?;
            write_run(staging, &relative, ids, &mut |each| {
                loop {
                    for reader in &mut readers {
                        reader.fill()?;
                    }
                    // The least id among the inputs (k is small: a scan).
                    let mut least: Option<&str> = None;
                    for reader in &readers {
                        if let Some(id) = reader.peek()
                            && least.is_none_or(|l| id < l)
                        {
                            least = Some(id);
                        }
                    }
                    let Some(least) = least.map(str::to_owned) else {
                        return Ok(());
                    };
                    each(&least)?;
                    // Equal ids in several runs (a lake indexed from tables
                    // that held a report twice) are written once.
                    for reader in &mut readers {
                        if reader.peek() == Some(least.as_str()) {
                            reader.advance();
                        }
                    }
                }
            })?;
        }
        for input in inputs {
            if input.staged {
                staging.discard(&input.relative)?;
            } else {
                staging.remove(&input.relative);
            }
        }
        runs.push(IdRun::open(
            relative.clone(),
            staging.path_of(&relative),
            true,
        )?);
        Ok(())
    }

    /// Writes what is still held as runs, and `FORMAT` for a new index:
    /// call once, before the ingest commits.
    pub fn finish(mut self, staging: &mut Staging) -> Result<()> {
        self.spill(staging)?;
        if self.new {
            let relative = format!("{INDEX_DIR}/{FORMAT_FILE}");
            let (path, mut file) = staging.create(&relative)?;
            std::io::Write::write_all(&mut file, FORMAT.as_bytes())
                .and_then(|()| file.sync_all())
                .with_context(|| format!("cannot write `{}`", path.display()))?;
        }
        Ok(())
    }

    /// The number of runs per table, for tests and messages.
    pub fn runs(&self) -> BTreeMap<Table, usize> {
        self.tables
            .iter()
            .map(|(t, index)| (*t, index.runs.len()))
            .collect()
    }
}

/// One input of a merge: its current batch and position.
struct Cursor<'a> {
    reader: ParquetRecordBatchReader,
    path: &'a Path,
    batch: Option<StringArray>,
    at: usize,
    done: bool,
}

impl<'a> Cursor<'a> {
    fn new(reader: ParquetRecordBatchReader, path: &'a Path) -> Cursor<'a> {
        Cursor {
            reader,
            path,
            batch: None,
            at: 0,
            done: false,
        }
    }

    fn fill(&mut self) -> Result<()> {
        while !self.done && self.batch.as_ref().is_none_or(|b| self.at >= b.len()) {
            match self.reader.next() {
                Some(batch) => {
                    let batch =
                        batch.with_context(|| format!("cannot read `{}`", self.path.display()))?;
                    self.batch = Some(batch.column(0).as_string::<i32>().clone());
                    self.at = 0;
                }
                None => {
                    self.done = true;
                    self.batch = None;
                }
            }
        }
        Ok(())
    }

    fn peek(&self) -> Option<&str> {
        let batch = self.batch.as_ref()?;
        (self.at < batch.len()).then(|| batch.value(self.at))
    }

    fn advance(&mut self) {
        self.at += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn admit(index: &mut IdIndex, staging: &mut Staging, ids: &[&str]) -> Vec<bool> {
        index
            .admit(Table::Reports, ids.iter().copied(), staging)
            .unwrap()
    }

    /// An ingest's view of the index: the writer lock, its staging, the index.
    fn start(lake: &Path, n: usize, memory: usize) -> (super::super::WriterLock, Staging, IdIndex) {
        let lock = super::super::lock_for_writing(lake).unwrap();
        let run = format!("run-{n}");
        let mut staging = Staging::new(lake, &run).unwrap();
        let index = IdIndex::open(lake, &run, memory, &mut staging).unwrap();
        (lock, staging, index)
    }

    /// Finishes the index and commits, as an ingest does.
    fn commit(lock: super::super::WriterLock, mut staging: Staging, index: IdIndex) {
        index.finish(&mut staging).unwrap();
        staging.commit(&lock).unwrap();
    }

    #[test]
    fn ids_are_new_once_across_batches_spills_and_commits() {
        let dir = tempfile::tempdir().unwrap();
        let lake = dir.path();
        // A budget of a few ids: every batch spills, runs merge.
        let (lock, mut staging, mut index) = start(lake, 0, 200);
        assert_eq!(
            admit(&mut index, &mut staging, &["b", "a", "b", "c"]),
            [true, true, false, true]
        );
        assert_eq!(
            admit(&mut index, &mut staging, &["c", "d", "a", "e"]),
            [false, true, false, true]
        );
        commit(lock, staging, index);
        let (lock, mut staging, mut index) = start(lake, 1, 1 << 20);
        assert_eq!(
            admit(&mut index, &mut staging, &["e", "f", "a", "f", "zz"]),
            [false, true, false, false, true]
        );
        commit(lock, staging, index);
        let (_lock, mut staging, mut index) = start(lake, 2, 1 << 20);
        assert_eq!(
            admit(
                &mut index,
                &mut staging,
                &["a", "b", "c", "d", "e", "f", "zz", "g"]
            ),
            [false, false, false, false, false, false, false, true]
        );
    }

    #[test]
    fn many_ids_through_filters_pages_and_merges() {
        let dir = tempfile::tempdir().unwrap();
        let lake = dir.path();
        let (lock, mut staging, mut index) = start(lake, 0, 64 << 10);
        let id = |i: u32| format!("{:08x}-report", i.wrapping_mul(2_654_435_761));
        let ids: Vec<String> = (0..20_000).map(id).collect();
        for chunk in ids.chunks(1_000) {
            let got = index
                .admit(
                    Table::Reports,
                    chunk.iter().map(String::as_str),
                    &mut staging,
                )
                .unwrap();
            assert!(got.iter().all(|n| *n));
        }
        assert!(index.runs()[&Table::Reports] <= 6, "{:?}", index.runs());
        commit(lock, staging, index);
        let (_lock, mut staging, mut index) = start(lake, 1, 1 << 20);
        // Every old id is found; ids never seen are new.
        let mixed: Vec<String> = (0..20_000)
            .step_by(7)
            .map(id)
            .chain((20_000..21_000).map(id))
            .collect();
        let got = index
            .admit(
                Table::Reports,
                mixed.iter().map(String::as_str),
                &mut staging,
            )
            .unwrap();
        let expect: Vec<bool> = (0..20_000)
            .step_by(7)
            .map(|_| false)
            .chain((20_000..21_000).map(|_| true))
            .collect();
        assert_eq!(got, expect);
    }

    #[test]
    fn long_ids_past_the_page_index_truncation_are_exact() {
        let dir = tempfile::tempdir().unwrap();
        let lake = dir.path();
        let (lock, mut staging, mut index) = start(lake, 0, 1 << 20);
        // The same 100-byte prefix: the page bounds (64 bytes) cannot tell
        // them apart, the pages must.
        let prefix = "p".repeat(100);
        let ids: Vec<String> = (0..2_000).map(|i| format!("{prefix}{i:06}")).collect();
        let got = index
            .admit(
                Table::Reports,
                ids.iter().step_by(2).map(String::as_str),
                &mut staging,
            )
            .unwrap();
        assert!(got.iter().all(|n| *n));
        commit(lock, staging, index);
        let (_lock, mut staging, mut index) = start(lake, 1, 1 << 20);
        let got = index
            .admit(Table::Reports, ids.iter().map(String::as_str), &mut staging)
            .unwrap();
        let expect: Vec<bool> = (0..2_000).map(|i| i % 2 == 1).collect();
        assert_eq!(got, expect);
    }

    #[test]
    fn the_filters_spare_the_page_reads_of_new_ids() {
        let dir = tempfile::tempdir().unwrap();
        let lake = dir.path();
        let (lock, mut staging, mut index) = start(lake, 0, 1 << 20);
        let ids: Vec<String> = (0..5_000).map(|i| format!("in-{i}")).collect();
        admit(
            &mut index,
            &mut staging,
            &ids.iter().map(String::as_str).collect::<Vec<_>>(),
        );
        commit(lock, staging, index);
        let (_lock, _staging, index) = start(lake, 1, 1 << 20);
        let run = &index.tables[&Table::Reports].runs[0];
        assert!(ids.iter().all(|id| run.filters[0].check(id.as_str())));
        // Of ids not in the run, about one in a thousand gets past the
        // filter (and then costs a page read).
        let past = (0..10_000)
            .filter(|i| run.filters[0].check(format!("out-{i}").as_str()))
            .count();
        assert!(past < 100, "{past} of 10000 absent ids passed the filter");
    }

    #[test]
    fn tables_have_their_own_ids() {
        let dir = tempfile::tempdir().unwrap();
        let lake = dir.path();
        let (_lock, mut staging, mut index) = start(lake, 0, 1 << 20);
        assert_eq!(admit(&mut index, &mut staging, &["x"]), [true]);
        let got = index
            .admit(Table::FirewallStatus, ["x"], &mut staging)
            .unwrap();
        assert_eq!(got, [true]);
        assert_eq!(id_column(Table::Quarantine), None);
    }

    /// A `setting_states` file (its `report_id` and, unless written before
    /// the column existed, its `row_id` with NULLs for an agent report's
    /// settings).
    fn setting_states_file(path: &Path, row_ids: &[Option<&str>], with_column: bool) {
        use datafusion::arrow::array::ArrayRef;
        let mut fields = vec![Field::new("report_id", DataType::Utf8, false)];
        let mut columns: Vec<ArrayRef> =
            vec![Arc::new(StringArray::from(vec!["r"; row_ids.len()]))];
        if with_column {
            fields.push(Field::new("row_id", DataType::Utf8, true));
            columns.push(Arc::new(StringArray::from(row_ids.to_vec())));
        }
        let schema = Arc::new(Schema::new(fields));
        let batch = RecordBatch::try_new(schema.clone(), columns).unwrap();
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        let mut writer = ArrowWriter::try_new(File::create(path).unwrap(), schema, None).unwrap();
        writer.write(&batch).unwrap();
        writer.close().unwrap();
    }

    #[test]
    fn an_index_built_from_setting_states_skips_nulls_and_files_without_the_column() {
        let dir = tempfile::tempdir().unwrap();
        let lake = dir.path();
        let day = lake.join("setting_states/date=2026-07-20");
        setting_states_file(&day.join("new.parquet"), &[Some("s-1"), None], true);
        // Written before `setting_states` had a row id.
        setting_states_file(&day.join("old.parquet"), &[None, None], false);
        let (lock, staging, index) = start(lake, 0, 1 << 20);
        let runs = &index.tables[&Table::SettingStates].runs;
        assert_eq!(runs.iter().map(|r| r.ids).collect::<Vec<_>>(), [1]);
        commit(lock, staging, index);
        let (_lock, mut staging, mut index) = start(lake, 1, 1 << 20);
        let got = index
            .admit(Table::SettingStates, ["s-1", "s-2"], &mut staging)
            .unwrap();
        assert_eq!(got, [false, true]);
    }
}
