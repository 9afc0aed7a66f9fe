//! The ingest stage: agent reports from an inbox into the lake, losing
//! nothing. Every report read lands, is counted as a duplicate of one already
//! there, or is quarantined with its position and one reason.
//!
//! Memory is bounded by `IngestOptions::batch_rows`, not by the input: rows
//! are flushed to staged Parquet files as they accumulate, and the whole run
//! is committed at once at the end.

pub mod error_code;
pub mod exceptions;
pub(crate) mod exports;
mod report;
mod rows;
mod source;
mod statuses;

use std::collections::{HashMap, HashSet};
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::Result;
use chrono::NaiveDate;

pub use report::{Device, Policy, Report, SCHEMA_V1, Setting, State, parse, parse_timestamp_us};
pub use rows::FileCounts;
pub use source::{
    FileDigest, Limits, Position, RAW_PREFIX_BYTES, Record, SourceError, discover, read_file,
};

use crate::lake::{self, Staging, Table};
pub use exports::export_time;
use rows::{ExportRows, ReportRows, RunRows};
use statuses::Statuses;

#[derive(Debug, Clone)]
pub struct IngestOptions {
    pub lake: PathBuf,
    pub paths: Vec<PathBuf>,
    /// Rows (reports + policy states + setting states) held in memory before
    /// they are written out to staged Parquet files.
    pub batch_rows: usize,
    /// Progress on stderr; the command turns it on when stderr is a terminal.
    pub progress: bool,
    /// When the run happened, in UTC microseconds: stamped on every row.
    pub ingested_at_us: i64,
    /// What one file or report may cost before it is quarantined.
    pub limits: Limits,
}

impl IngestOptions {
    pub const DEFAULT_BATCH_ROWS: usize = 1_000_000;

    pub fn new(lake: PathBuf, paths: Vec<PathBuf>) -> IngestOptions {
        IngestOptions {
            lake,
            paths,
            batch_rows: Self::DEFAULT_BATCH_ROWS,
            progress: std::io::stderr().is_terminal(),
            ingested_at_us: chrono::Utc::now().timestamp_micros(),
            limits: Limits::default(),
        }
    }
}

/// The totals of a run; `read = new + duplicate + quarantined` always.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IngestSummary {
    pub files: u64,
    pub counts: FileCounts,
    /// Files that could not be read to the end, with why. What was read of
    /// them before the error is ingested; the files stay in the inbox.
    pub file_errors: Vec<(PathBuf, String)>,
}

impl IngestSummary {
    /// The summary line of the contract.
    pub fn line(&self) -> String {
        let c = &self.counts;
        format!(
            "ingested: read={} new={} duplicate={} quarantined={}",
            c.read, c.new, c.duplicate, c.quarantined
        )
    }
}

/// One run of the ingest, with everything it holds between files.
struct Run<'a> {
    lake: &'a Path,
    run_id: String,
    staging: Staging,
    rows: ReportRows,
    run_rows: RunRows,
    /// Report ids already in the lake (by date partition, loaded on first
    /// use) or accepted earlier in this run.
    seen: HashMap<NaiveDate, HashSet<String>>,
    /// The same for the vendor tables' `row_id`s.
    rows_seen: HashMap<(Table, NaiveDate), HashSet<String>>,
    export_rows: ExportRows,
    /// The Intune policy statuses seen, which per-setting rows are filed
    /// under.
    statuses: Statuses,
    batch_rows: usize,
    flushes: usize,
    totals: FileCounts,
}

impl Run<'_> {
    fn accept(&mut self, report: &Report, file: &str, source: Option<&str>) -> Result<bool> {
        let date = lake::utc_date(report.observed_at_us);
        if !self.seen.contains_key(&date) {
            let ids = lake::report_ids_in_partition(self.lake, date)?;
            self.seen.insert(date, ids);
        }
        let ids = self.seen.get_mut(&date).expect("loaded above");
        if ids.contains(&report.report_id) {
            return Ok(false);
        }
        ids.insert(report.report_id.clone());
        self.rows.push(report, file, source);
        Ok(true)
    }

    /// Whether a vendor row is new (not in its partition, nor earlier in the
    /// run), remembering it if so.
    fn accept_row(&mut self, table: Table, row_id: &str, observed_at_us: i64) -> Result<bool> {
        let key = (table, lake::utc_date(observed_at_us));
        if !self.rows_seen.contains_key(&key) {
            let ids = lake::ids_in_partition(self.lake, table, "row_id", key.1)?;
            self.rows_seen.insert(key, ids);
        }
        Ok(self
            .rows_seen
            .get_mut(&key)
            .expect("loaded above")
            .insert(row_id.to_owned()))
    }

    /// One item of a vendor export: one input row, new, a duplicate, or
    /// quarantined.
    fn handle_export(
        &mut self,
        item: exports::Item,
        file: &str,
        counts: &mut FileCounts,
    ) -> Result<()> {
        use exports::Item;
        counts.read += 1;
        let new = match item {
            Item::Report { report, source } => {
                self.statuses.remember(&report);
                self.accept(&report, file, Some(source))?
            }
            Item::Row(row) => {
                let new = self.accept_row(row.table, &row.row_id, row.observed_at_us)?;
                if new {
                    self.export_rows.push(row, file);
                }
                new
            }
            Item::Setting(pending) => match self.statuses.find(&pending) {
                Some(status) => {
                    let row = pending.filed(&status);
                    let new =
                        self.accept_row(Table::SettingStates, &row.row_id, row.observed_at_us)?;
                    if new {
                        self.rows.push_export_setting(&row);
                    }
                    new
                }
                None => {
                    counts.quarantined += 1;
                    let reason = statuses::unmatched(&pending);
                    self.run_rows.quarantine(
                        file,
                        pending.position,
                        &reason,
                        pending.raw.as_bytes(),
                    );
                    return self.flush_if_full();
                }
            },
            Item::Rejected {
                position,
                reason,
                raw,
            } => {
                counts.quarantined += 1;
                self.run_rows
                    .quarantine(file, position, &reason, raw.as_bytes());
                return self.flush_if_full();
            }
        };
        if new {
            counts.new += 1;
        } else {
            counts.duplicate += 1;
        }
        self.flush_if_full()
    }

    fn flush_if_full(&mut self) -> Result<()> {
        if self.rows.rows() + self.export_rows.rows() >= self.batch_rows
            || self.run_rows.quarantined_bytes() >= 256 << 20
        {
            self.flush()?;
        }
        Ok(())
    }

    fn handle(&mut self, record: Record<'_>, file: &str, counts: &mut FileCounts) -> Result<()> {
        counts.read += 1;
        match record {
            Record::Report(position, text) => match report::parse(text) {
                Ok(report) => {
                    if self.accept(&report, file, None)? {
                        counts.new += 1;
                    } else {
                        counts.duplicate += 1;
                    }
                }
                Err(reason) => {
                    counts.quarantined += 1;
                    self.run_rows.quarantine(file, position, &reason, text);
                }
            },
            Record::Unreadable(position, reason, raw) => {
                counts.quarantined += 1;
                self.run_rows.quarantine(file, position, &reason, &raw);
            }
        }
        self.flush_if_full()
    }

    /// Writes the rows held so far to staged files.
    fn flush(&mut self) -> Result<()> {
        let stem = format!("part-{}-{:05}", self.run_id, self.flushes);
        self.flushes += 1;
        for (table, batch) in self.rows.take() {
            lake::stage_partitioned(&mut self.staging, table, &batch, "observed_at", &stem)?;
        }
        for (table, batch) in self.export_rows.take()? {
            lake::stage_partitioned(&mut self.staging, table, &batch, "observed_at", &stem)?;
        }
        let quarantine = self.run_rows.take_quarantine();
        lake::stage_partitioned(
            &mut self.staging,
            Table::Quarantine,
            &quarantine,
            "ingested_at",
            &stem,
        )?;
        crate::fault::point("after-flush")?;
        Ok(())
    }
}

/// Prints progress on stderr at most a few times a second.
struct Progress {
    enabled: bool,
    last: Instant,
    started: Instant,
}

impl Progress {
    fn tick(&mut self, files_done: usize, files: usize, totals: &FileCounts, force: bool) {
        if !self.enabled || (!force && self.last.elapsed() < Duration::from_millis(250)) {
            return;
        }
        self.last = Instant::now();
        let rate = totals.read as f64 / self.started.elapsed().as_secs_f64().max(1e-3);
        eprint!(
            "\r\x1b[2Kingesting: {files_done}/{files} files, {} reports ({rate:.0}/s)",
            totals.read
        );
        if force {
            eprintln!();
        }
    }
}

/// Ingests every file under `options.paths` into the lake, as one atomic
/// commit.
pub fn ingest(options: &IngestOptions) -> Result<IngestSummary> {
    let lock = lake::lock_for_writing(&options.lake)?;
    let files = discover(&options.paths, &options.lake)?;
    let run_id = run_id(options.ingested_at_us);
    let mut run = Run {
        lake: &options.lake,
        staging: Staging::new(&options.lake, &run_id)?,
        rows: ReportRows::new(options.ingested_at_us),
        run_rows: RunRows::new(&run_id, options.ingested_at_us),
        run_id,
        seen: HashMap::new(),
        rows_seen: HashMap::new(),
        export_rows: ExportRows::new(options.ingested_at_us),
        statuses: Statuses::default(),
        batch_rows: options.batch_rows.max(1),
        flushes: 0,
        totals: FileCounts::default(),
    };
    let mut summary = IngestSummary::default();
    let mut progress = Progress {
        enabled: options.progress,
        last: Instant::now(),
        started: Instant::now(),
    };
    // Per-setting exports are read last, once the policy statuses their
    // rows are filed under are known (docs/vendor-exports.md).
    let kinds: Vec<Option<exports::Kind>> = files
        .iter()
        .map(|path| exports::sniff(path).ok().flatten())
        .collect();
    let max_bytes = options.limits.max_decompressed_bytes;
    let per_setting: Vec<bool> = files
        .iter()
        .zip(&kinds)
        .map(|(path, kind)| kind.is_some_and(|k| exports::is_per_setting(path, k, max_bytes)))
        .collect();
    let order = (0..files.len())
        .filter(|i| !per_setting[*i])
        .chain((0..files.len()).filter(|i| per_setting[*i]));
    for (done, i) in order.enumerate() {
        let path = &files[i];
        let name = path.to_string_lossy().into_owned();
        let mut counts = FileCounts::default();
        // Vendor exports are told apart by their first bytes; a file that
        // cannot even be opened goes to the agent-report reader, which says so.
        let outcome = match kinds[i] {
            Some(kind) if per_setting[i] => {
                // The file's rows are matched together, so that the lake is
                // searched once for the statuses this run has not seen.
                let mut items = Vec::new();
                let read =
                    exports::read_file(path, &name, kind, &options.limits, &mut |file, item| {
                        items.push((file.to_owned(), item));
                        Ok(())
                    });
                // What was read before an error is ingested, as for any file.
                let filed = run
                    .statuses
                    .load_from_lake(&options.lake, items.iter().map(|(_, item)| item))
                    .and_then(|()| {
                        for (file, item) in items {
                            run.handle_export(item, &file, &mut counts)?;
                        }
                        Ok(())
                    });
                match filed {
                    Ok(()) => read,
                    Err(e) => Err(SourceError::Sink(e)),
                }
            }
            Some(kind) => {
                exports::read_file(path, &name, kind, &options.limits, &mut |file, item| {
                    run.handle_export(item, file, &mut counts)
                })
            }
            None => source::read_file(path, &options.limits, &mut |record| {
                run.handle(record, &name, &mut counts)
            }),
        };
        let (digest, error) = match outcome {
            Ok(digest) => (Some(digest), None),
            // A failure of the lake is fatal: nothing of the run is committed.
            Err(SourceError::Sink(e)) => {
                run.staging.abandon()?;
                return Err(e);
            }
            Err(e @ SourceError::Read { .. }) => {
                let message = e.to_string();
                eprintln!("error: {message}");
                summary.file_errors.push((path.clone(), message.clone()));
                (None, Some(message))
            }
        };
        run.run_rows.log_file(
            &name,
            digest.as_ref().map(|d| d.sha256.as_str()),
            digest.as_ref().map_or(0, |d| d.bytes),
            &counts,
            error.as_deref(),
        );
        add(&mut run.totals, &counts);
        progress.tick(done + 1, files.len(), &run.totals, false);
    }
    progress.tick(files.len(), files.len(), &run.totals, true);
    run.flush()?;
    let log = run.run_rows.take_log();
    let stem = format!("part-{}-log", run.run_id);
    lake::stage_partitioned(
        &mut run.staging,
        Table::IngestLog,
        &log,
        "ingested_at",
        &stem,
    )?;
    run.staging.commit(&lock)?;
    summary.files = files.len() as u64;
    summary.counts = run.totals;
    Ok(summary)
}

fn add(total: &mut FileCounts, c: &FileCounts) {
    total.read += c.read;
    total.new += c.new;
    total.duplicate += c.duplicate;
    total.quarantined += c.quarantined;
}

/// Sortable and unique per run: the start time, then the process id.
pub(crate) fn run_id(ingested_at_us: i64) -> String {
    let at = chrono::DateTime::from_timestamp_micros(ingested_at_us)
        .expect("now is in range")
        .format("%Y%m%dT%H%M%S%6fZ");
    format!("{at}-{}", std::process::id())
}
