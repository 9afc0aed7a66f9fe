//! The ingest stage: agent reports from an inbox into the lake, losing
//! nothing. Every report read lands, is counted as a duplicate of one already
//! there, or is quarantined with its position and one reason.
//!
//! Both cores: one thread reads the files in order and cuts them into
//! chunks of whole records ([`work`]); workers parse, validate and build
//! the rows of chunks in parallel; the calling thread puts them back in
//! input order and cuts batches ([`batch`]); one more thread deduplicates,
//! sorts and writes each batch ([`writer`]). With one thread the same steps
//! run one after the other, and give the same files.
//!
//! Intune per-setting exports are read after every other file, so that
//! the policy statuses their rows are filed under are known; the collector
//! files them in input order ([`batch`]).
//!
//! Memory is bounded by `IngestOptions::batch_rows` and the dedup index's
//! budget, not by the input: rows are flushed to staged Parquet files as
//! they accumulate, and the whole run is committed at once at the end.

mod batch;
pub mod error_code;
pub mod exceptions;
pub(crate) mod exports;
mod report;
mod rows;
mod source;
mod statuses;
mod work;
mod writer;

use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow};

pub use report::{
    BorrowedReport, Device, Policy, Report, SCHEMA_V1, Setting, State, parse, parse_borrowed,
    parse_timestamp_us,
};
pub use rows::FileCounts;
pub use source::{
    FileDigest, Limits, Position, RAW_PREFIX_BYTES, Record, SourceError, discover, read_file,
};

use crate::lake::{self, IdIndex, Staging};
use batch::{Batch, Collector, Piece};
pub use exports::export_time;
use rows::LogRows;
use work::{Context as WorkContext, Work};
use writer::Writer;

#[derive(Debug, Clone)]
pub struct IngestOptions {
    pub lake: PathBuf,
    pub paths: Vec<PathBuf>,
    /// Rows (reports + policy states + setting states) held in memory before
    /// they are written out to staged Parquet files.
    pub batch_rows: usize,
    /// Threads that parse; 1 runs the whole ingest on the calling thread.
    pub threads: usize,
    /// Bytes of new ids the dedup index holds in memory before it writes
    /// them out as a run.
    pub index_memory: usize,
    /// Progress on stderr; the command turns it on when stderr is a terminal.
    pub progress: bool,
    /// When the run happened, in UTC microseconds: stamped on every row.
    pub ingested_at_us: i64,
    /// What one file or report may cost before it is quarantined.
    pub limits: Limits,
}

impl IngestOptions {
    pub const DEFAULT_BATCH_ROWS: usize = 250_000;
    pub const DEFAULT_INDEX_MEMORY: usize = 128 << 20;

    pub fn new(lake: PathBuf, paths: Vec<PathBuf>) -> IngestOptions {
        IngestOptions {
            lake,
            paths,
            batch_rows: Self::DEFAULT_BATCH_ROWS,
            threads: default_threads(),
            index_memory: Self::DEFAULT_INDEX_MEMORY,
            progress: std::io::stderr().is_terminal(),
            ingested_at_us: chrono::Utc::now().timestamp_micros(),
            limits: Limits::default(),
        }
    }
}

/// One parsing thread per core.
pub fn default_threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
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
    // Per-setting exports are read last, once the policy statuses their
    // rows are filed under are known (docs/vendor-exports.md).
    let sniffed: Vec<Option<exports::Kind>> = files
        .iter()
        .map(|path| exports::sniff(path).ok().flatten())
        .collect();
    let max_bytes = options.limits.max_decompressed_bytes;
    let last: Vec<bool> = files
        .iter()
        .zip(&sniffed)
        .map(|(path, kind)| kind.is_some_and(|k| exports::is_per_setting(path, k, max_bytes)))
        .collect();
    let order: Vec<usize> = (0..files.len())
        .filter(|i| !last[*i])
        .chain((0..files.len()).filter(|i| last[*i]))
        .collect();
    let files: Vec<PathBuf> = order.iter().map(|i| files[*i].clone()).collect();
    let kinds: Vec<Option<exports::Kind>> = order.iter().map(|i| sniffed[*i]).collect();
    let per_setting: Vec<bool> = order.iter().map(|i| last[*i]).collect();
    let names: Vec<String> = files
        .iter()
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    let run_id = run_id(options.ingested_at_us);
    let mut staging = Staging::new(&options.lake, &run_id)?;
    let index = IdIndex::open(&options.lake, &run_id, options.index_memory, &mut staging)?;
    let writer = Writer::new(staging, index, &run_id, files.len());
    let context = WorkContext {
        files: &files,
        names: &names,
        kinds: &kinds,
        per_setting: &per_setting,
        limits: &options.limits,
        run_id: &run_id,
        ingested_at_us: options.ingested_at_us,
    };
    let mut collector = Collector::new(
        files.len(),
        options.batch_rows,
        options.lake.clone(),
        &run_id,
        options.ingested_at_us,
    );
    let mut progress = Progress {
        enabled: options.progress,
        last: Instant::now(),
        started: Instant::now(),
    };
    let writer = if options.threads <= 1 {
        one_thread(&context, &mut collector, writer, &mut progress)?
    } else {
        threads(
            options.threads,
            &context,
            &mut collector,
            writer,
            &mut progress,
        )?
    };
    progress.tick(collector.files_done, files.len(), &collector.totals, true);

    let mut summary = IngestSummary::default();
    let mut log = LogRows::new(&run_id, options.ingested_at_us);
    for (file, name) in names.iter().enumerate() {
        let mut counts = collector.counts[file].clone();
        counts.new = writer.new[file];
        counts.duplicate = writer.duplicate[file];
        let end = collector.ends[file]
            .take()
            .context("internal error: a file was not read to its end")?;
        if let Some(error) = &end.error {
            summary
                .file_errors
                .push((files[file].clone(), error.clone()));
        }
        log.push(
            name,
            end.digest.as_ref().map(|d| d.sha256.as_str()),
            end.digest.as_ref().map_or(0, |d| d.bytes),
            &counts,
            end.error.as_deref(),
        );
        summary.counts.add(&counts);
    }
    let staging = writer.finish(&log.take())?;
    staging.commit(&lock)?;
    summary.files = files.len() as u64;
    Ok(summary)
}

/// The whole ingest on the calling thread: read, parse, collect, write.
fn one_thread(
    context: &WorkContext<'_>,
    collector: &mut Collector,
    mut writer: Writer,
    progress: &mut Progress,
) -> Result<Writer> {
    let files = context.files.len();
    work::read_inputs(context.files, context.kinds, context.limits, &mut |work| {
        work::process(work, context, &mut |piece| {
            collector.take(piece, &mut |batch| writer.write(batch))?;
            progress.tick(collector.files_done, files, &collector.totals, false);
            Ok(())
        })
    })?;
    writer.write(collector.last_batch())?;
    Ok(writer)
}

/// Units of work and pieces waiting between threads, per parsing thread:
/// what bounds the input held in memory besides the batch.
const IN_FLIGHT: usize = 2;

/// The ingest on `workers` parsing threads, one reading thread and one
/// writing thread; the calling thread collects. The first error stops
/// every thread (each finds its channel closed) and is the one returned.
fn threads(
    workers: usize,
    context: &WorkContext<'_>,
    collector: &mut Collector,
    writer: Writer,
    progress: &mut Progress,
) -> Result<Writer> {
    let files = context.files.len();
    std::thread::scope(|scope| {
        let (work_tx, work_rx) = sync_channel::<Work>(workers * IN_FLIGHT);
        let (piece_tx, piece_rx) = sync_channel::<Piece>(workers * IN_FLIGHT);
        let (batch_tx, batch_rx) = sync_channel::<Batch>(0);
        let reader = scope.spawn(move || {
            work::read_inputs(context.files, context.kinds, context.limits, &mut |work| {
                work_tx.send(work).map_err(|_| anyhow!("stopped"))
            })
        });
        let work_rx = Arc::new(Mutex::new(work_rx));
        let parsers: Vec<_> = (0..workers)
            .map(|_| {
                let work_rx = Arc::clone(&work_rx);
                let piece_tx = piece_tx.clone();
                scope.spawn(move || parse_loop(&work_rx, &piece_tx, context))
            })
            .collect();
        // Only the parsers hold the work's receiver: when they stop, the
        // reader's next send fails and it stops too.
        drop(work_rx);
        drop(piece_tx);
        let writing = scope.spawn(move || write_loop(writer, &batch_rx));
        let collected = collect_loop(collector, &piece_rx, &batch_tx, progress, files);
        drop(piece_rx);
        drop(batch_tx);
        let writer = writing.join();
        let parsed: Vec<_> = parsers.into_iter().map(|p| p.join()).collect();
        let read = reader.join();
        let panicked = |what: &str| anyhow!("internal error: the {what} thread panicked");
        // A failure of the lake (in the writer) is what stops every other
        // thread, so it is the one to report.
        let mut writer = writer.map_err(|_| panicked("writing"))??;
        collected?;
        for parsed in parsed {
            parsed.map_err(|_| panicked("parsing"))??;
        }
        read.map_err(|_| panicked("reading"))??;
        writer.write(collector.last_batch())?;
        Ok(writer)
    })
}

fn parse_loop(
    work: &Mutex<Receiver<Work>>,
    pieces: &SyncSender<Piece>,
    context: &WorkContext<'_>,
) -> Result<()> {
    loop {
        let next = work.lock().unwrap_or_else(|e| e.into_inner()).recv();
        let Ok(unit) = next else {
            return Ok(());
        };
        work::process(unit, context, &mut |piece| {
            pieces.send(piece).map_err(|_| anyhow!("stopped"))
        })?;
    }
}

fn collect_loop(
    collector: &mut Collector,
    pieces: &Receiver<Piece>,
    batches: &SyncSender<Batch>,
    progress: &mut Progress,
    files: usize,
) -> Result<()> {
    for piece in pieces {
        collector.take(piece, &mut |batch| {
            batches.send(batch).map_err(|_| anyhow!("stopped"))
        })?;
        progress.tick(collector.files_done, files, &collector.totals, false);
    }
    Ok(())
}

fn write_loop(mut writer: Writer, batches: &Receiver<Batch>) -> Result<Writer> {
    for batch in batches {
        writer.write(batch)?;
    }
    Ok(writer)
}

/// Sortable and unique per run: the start time, then the process id.
pub(crate) fn run_id(ingested_at_us: i64) -> String {
    let at = chrono::DateTime::from_timestamp_micros(ingested_at_us)
        .expect("now is in range")
        .format("%Y%m%dT%H%M%S%6fZ");
    format!("{at}-{}", std::process::id())
}
