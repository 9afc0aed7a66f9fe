//! `posture ingest --lake LAKE PATH...`

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;

use crate::ingest::{IngestOptions, ingest};

/// Some file could not be read to its end; the rest of the run committed.
const EXIT_UNREADABLE_FILES: u8 = 2;

pub fn run(lake: PathBuf, paths: Vec<PathBuf>, batch_rows: usize) -> Result<ExitCode> {
    let mut options = IngestOptions::new(lake, paths);
    options.batch_rows = batch_rows;
    let summary = ingest(&options)?;
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
