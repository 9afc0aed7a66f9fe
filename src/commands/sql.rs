//! `posture sql --lake LAKE "SELECT ..." [--format F]`: read-only.

use std::process::ExitCode;

use anyhow::Result;

use crate::cli::OutputArgs;
use crate::query::{Bounds, Engine, EngineKind, Location, SnapshotOptions};

pub fn run(
    lake: Location,
    sql: &str,
    bounds: &Bounds,
    engine: EngineKind,
    output: &OutputArgs,
) -> Result<ExitCode> {
    // The snapshot views analysts see are as of the newest day, with the
    // default staleness.
    let options = SnapshotOptions::default();
    let runtime = super::runtime()?;
    let result = runtime.block_on(async {
        let engine = Engine::open(&lake, None).await?.on(engine).await?;
        engine.run_sql(sql, &options, bounds).await
    });
    // A query stopped by --timeout may leave work on the runtime's threads:
    // do not wait for it.
    runtime.shutdown_background();
    let result = result?;
    super::query::print(&result, output)?;
    Ok(ExitCode::SUCCESS)
}
