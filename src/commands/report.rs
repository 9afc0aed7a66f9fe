//! `posture report --lake LAKE --out DIR [--as-of D] [--stale-days N]`

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;

use crate::cli::SnapshotArgs;
use crate::query::{EngineKind, Location, SnapshotOptions};

pub fn run(
    lake: Location,
    out: PathBuf,
    snapshot: SnapshotArgs,
    engine: EngineKind,
) -> Result<ExitCode> {
    let options = SnapshotOptions {
        as_of: snapshot.as_of,
        stale_days: snapshot.stale_days,
        ..SnapshotOptions::default()
    };
    let (_, manifest) = crate::bundle::write(&lake, &out, &options, &engine)?;
    eprintln!(
        "report: `{}` ({} files, listed in manifest.json)",
        out.join("index.html").display(),
        manifest.files.len()
    );
    Ok(ExitCode::SUCCESS)
}
