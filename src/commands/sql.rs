//! `posture sql --lake LAKE "SELECT ..." [--format F]`: read-only.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;

use crate::cli::Format;
use crate::query::Engine;

/// The snapshot views (`latest_reports`, `device_status`, ...) that analysts
/// see are computed with the default staleness.
const STALE_DAYS: u32 = 7;

pub fn run(lake: PathBuf, sql: &str, format: Format) -> Result<ExitCode> {
    let result = super::runtime()?.block_on(async {
        let engine = Engine::open(&lake, None)?;
        engine.run_sql(sql, STALE_DAYS).await
    })?;
    super::query::print(&result, format)?;
    Ok(ExitCode::SUCCESS)
}
