//! `posture compact --lake LAKE [--dry-run]`

use std::path::Path;
use std::process::ExitCode;

use anyhow::{Result, bail};

use crate::lake::Table;

pub fn run(lake: &Path, dry_run: bool) -> Result<ExitCode> {
    if !Table::ALL.iter().any(|t| lake.join(t.name()).is_dir()) {
        bail!(crate::Hinted::new(
            format!("`{}` is not a lake: it has no tables", lake.display()),
            "create one with `posture ingest --lake LAKE INBOX`",
        ));
    }
    let now = chrono::Utc::now().timestamp_micros();
    let run_id = format!("{}-compact", crate::ingest::run_id(now));
    let summary = crate::lake::compact(lake, &run_id, dry_run)?;
    if summary.partitions == 0 && summary.snapshots == 0 && summary.as_of.is_none() {
        eprintln!(
            "nothing to compact: no partition holds more than one file ({} files) and every snapshot is up to date",
            summary.files_before
        );
    } else if dry_run {
        eprintln!(
            "dry run: would merge {} partition(s), files {} -> {}, build {} daily snapshot(s){}; nothing was changed",
            summary.partitions,
            summary.files_before,
            summary.files_after,
            summary.snapshots,
            match &summary.as_of {
                Some(day) => format!(" and the as-of snapshot of {day}"),
                None => String::new(),
            }
        );
        return Ok(ExitCode::SUCCESS);
    }
    eprintln!("{}", summary.line());
    Ok(ExitCode::SUCCESS)
}
