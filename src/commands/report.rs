//! `posture report --lake LAKE --out DIR [--as-of D] [--stale-days N]`

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};

use crate::cli::SnapshotArgs;
use crate::lake::{self, Table};
use crate::query::{Engine, SnapshotOptions, named_queries};
use crate::report::{ReportInput, View, render, sha256_file};

/// The report shows the named queries of the contract, the first five.
const CONTRACT_QUERIES: usize = 5;

pub fn run(lake_dir: PathBuf, out: PathBuf, snapshot: SnapshotArgs) -> Result<ExitCode> {
    let options = SnapshotOptions {
        as_of: snapshot.as_of,
        stale_days: snapshot.stale_days,
        ..SnapshotOptions::default()
    };
    let input = super::runtime()?.block_on(async {
        let engine = Engine::open(&lake_dir, options.as_of)?;
        let mut views = Vec::new();
        for query in named_queries().into_iter().take(CONTRACT_QUERIES) {
            eprintln!("running {}", query.name);
            let result = engine.run_named(&query, &options).await?;
            views.push(View {
                name: query.name.clone(),
                purpose: query.purpose.clone(),
                sql: query.sql.clone(),
                result,
            });
        }
        let mut lake_files = Vec::new();
        for table in Table::ALL {
            for file in lake::table_files(&lake_dir, table)? {
                let relative = file.strip_prefix(&lake_dir).unwrap_or(&file);
                lake_files.push((
                    relative.to_string_lossy().into_owned(),
                    sha256_file(&file)?.0,
                ));
            }
        }
        anyhow::Ok(ReportInput {
            as_of: engine.as_of(),
            stale_days: options.stale_days,
            views,
            lake_files,
            generated_at: source_date_epoch()?,
        })
    })?;
    render(&input, &out)?;
    eprintln!("report: `{}`", out.join("index.html").display());
    Ok(ExitCode::SUCCESS)
}

/// Reproducible builds' convention for "the time to stamp on the output".
fn source_date_epoch() -> Result<Option<i64>> {
    match std::env::var("SOURCE_DATE_EPOCH") {
        Ok(v) => Ok(Some(v.trim().parse().with_context(|| {
            format!("SOURCE_DATE_EPOCH must be seconds since 1970, not `{v}`")
        })?)),
        Err(_) => Ok(None),
    }
}
