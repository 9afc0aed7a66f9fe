//! One report bundle, end to end: the report's named queries run over the
//! lake, their rows rendered into a folder. Shared by `posture report` and
//! the nightly `posture run`, so that both write the same bundle.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{Context, Result};
use chrono::NaiveDate;

use crate::lake::{self, Table};
use crate::query::{Engine, EngineKind, Location, SnapshotOptions, named_queries};
use crate::report::{Manifest, REQUIRED_VIEWS, ReportInput, View, render, sha256_file};

/// Runs the report's queries on `engine` as of `options.as_of` (default: the newest
/// day in the lake) and renders the bundle into `out`. Returns the as-of day
/// used and the manifest written.
pub fn write(
    lake: &Location,
    out: &Path,
    options: &SnapshotOptions,
    engine: &EngineKind,
) -> Result<(NaiveDate, Manifest)> {
    let generated_at = generated_at()?;
    let queries = named_queries();
    let input = crate::query::runtime()?.block_on(async {
        let engine = Engine::open(lake, options.as_of)
            .await?
            .on(engine.clone())
            .await?;
        let mut views = BTreeMap::new();
        for name in REQUIRED_VIEWS {
            let query = queries
                .iter()
                .find(|q| q.name == name)
                .expect("the report's queries are built in");
            eprintln!("running {name}");
            let result = engine.run_named(query, options).await?;
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
            lake_files: match lake {
                Location::Dir(dir) => lake_files(dir)?,
                Location::S3(_) => engine.store_checksums().await?,
            },
            generated_at,
        })
    })?;
    eprintln!("rendering into `{}`", out.display());
    let manifest = render(&input, out)?;
    Ok((input.as_of, manifest))
}

/// Every Parquet file of the lake with its SHA-256: what the numbers came
/// from (the compacted daily snapshot's included, docs/compaction.md).
fn lake_files(lake_dir: &Path) -> Result<Vec<(String, String)>> {
    let mut files = Vec::new();
    let snapshot = Table::SNAPSHOT.map(|(_, daily)| daily);
    for table in Table::ALL.into_iter().chain(snapshot) {
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
