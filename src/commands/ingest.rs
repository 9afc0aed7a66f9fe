//! `posture ingest --lake LAKE PATH...`

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;

use crate::ingest::{IngestOptions, Limits, ingest};

/// Some file could not be read to its end; the rest of the run committed.
const EXIT_UNREADABLE_FILES: u8 = 2;

pub fn run(
    lake: PathBuf,
    paths: Vec<PathBuf>,
    batch_rows: usize,
    threads: Option<usize>,
    limits: Limits,
) -> Result<ExitCode> {
    let mut options = IngestOptions::new(lake, paths);
    options.batch_rows = batch_rows;
    if let Some(threads) = threads {
        options.threads = threads;
    }
    options.limits = limits;
    let summary = ingest(&options).map_err(|e| full_disk_hint(e, &options))?;
    eprintln!("{}", summary.line());
    if summary.counts.quarantined > 0 {
        eprintln!(
            "note: {} report(s) quarantined; see them with `posture sql --lake {} \"SELECT file, line, array_index, reason FROM quarantine\"`",
            summary.counts.quarantined,
            options.lake.display()
        );
    }
    if !summary.file_errors.is_empty() {
        eprintln!(
            "error: {} file(s) could not be read to the end; what was read of them is ingested",
            summary.file_errors.len()
        );
        return Ok(ExitCode::from(EXIT_UNREADABLE_FILES));
    }
    Ok(ExitCode::SUCCESS)
}

/// A full disk is the one failure the operator can fix before rerunning;
/// say so, and that the lake is as it was.
fn full_disk_hint(e: anyhow::Error, options: &IngestOptions) -> anyhow::Error {
    let full = e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::StorageFull)
            || c.to_string().contains("No space left on device")
    });
    if !full {
        return e;
    }
    let hinted = crate::Hinted::new(
        format!("{e:#}"),
        format!(
            "the file system of the lake `{}` is full; nothing of this run was committed and the \
             lake is as it was: free some space and run the same ingest again",
            options.lake.display()
        ),
    );
    anyhow::Error::new(hinted)
}
