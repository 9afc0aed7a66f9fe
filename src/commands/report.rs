//! `posture report --lake LAKE --out DIR [--as-of D] [--stale-days N]`

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};

use crate::cli::SnapshotArgs;
use crate::lake::{self, Table};
use crate::query::{Engine, EngineKind, SnapshotOptions, named_queries};
use crate::report::{REQUIRED_VIEWS, ReportInput, View, render, sha256_file};

pub fn run(
    lake_dir: PathBuf,
    out: PathBuf,
    snapshot: SnapshotArgs,
    engine: EngineKind,
) -> Result<ExitCode> {
    let options = SnapshotOptions {
        as_of: snapshot.as_of,
        stale_days: snapshot.stale_days,
        ..SnapshotOptions::default()
    };
    let generated_at = generated_at()?;
    let queries = named_queries();
    let input = super::runtime()?.block_on(async {
        let engine = Engine::open(&lake_dir, options.as_of)?.on(engine).await?;
        let mut views = BTreeMap::new();
        for name in REQUIRED_VIEWS {
            let query = queries
                .iter()
                .find(|q| q.name == name)
                .expect("the report's queries are built in");
            eprintln!("running {name}");
            let result = engine.run_named(query, &options).await?;
            views.insert(
                name.to_owned(),
                View {
                    purpose: query.purpose.clone(),
                    sql: query.sql.clone(),
                    result,
                },
            );
        }
        anyhow::Ok(ReportInput {
            as_of: engine.as_of(),
            stale_days: options.stale_days,
            trend_days: options.days,
            views,
            lake_files: lake_files(&lake_dir)?,
            generated_at,
        })
    })?;
    eprintln!("rendering into `{}`", out.display());
    let manifest = render(&input, &out)?;
    eprintln!(
        "report: `{}` ({} files, listed in manifest.json)",
        out.join("index.html").display(),
        manifest.files.len()
    );
    Ok(ExitCode::SUCCESS)
}

/// Every Parquet file of the lake with its SHA-256: what the numbers came from.
fn lake_files(lake_dir: &std::path::Path) -> Result<Vec<(String, String)>> {
    let mut files = Vec::new();
    for table in Table::ALL {
        for file in lake::table_files(lake_dir, table)? {
            let relative = file.strip_prefix(lake_dir).unwrap_or(&file);
            files.push((
                relative.to_string_lossy().into_owned(),
                sha256_file(&file)?.0,
            ));
        }
    }
    Ok(files)
}

/// Reproducible builds' convention: `SOURCE_DATE_EPOCH`, when set, is the
/// time to stamp on the output; otherwise the clock.
fn generated_at() -> Result<i64> {
    match std::env::var("SOURCE_DATE_EPOCH") {
        Ok(v) => v
            .trim()
            .parse()
            .with_context(|| format!("SOURCE_DATE_EPOCH must be seconds since 1970, not `{v}`")),
        Err(_) => Ok(chrono::Utc::now().timestamp()),
    }
}
