//! `posture exceptions --lake LAKE FILE`

use std::path::Path;
use std::process::ExitCode;

use anyhow::Result;

pub fn run(lake: &Path, file: &Path) -> Result<ExitCode> {
    let now = chrono::Utc::now().timestamp_micros();
    let n = crate::ingest::exceptions::load(lake, file, now)?;
    eprintln!(
        "exceptions: {n} loaded from `{}`; they replace the previous set (kept in the `exceptions` table)",
        file.display()
    );
    Ok(ExitCode::SUCCESS)
}
