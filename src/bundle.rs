//! One report bundle, end to end: the report's named queries run in one
//! session over the lake, their rows streamed into the pages and files of
//! a folder. Shared by `posture report` and the nightly `posture run`, so
//! that both write the same bundle.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use chrono::NaiveDate;
use futures::StreamExt;

use crate::lake::{self, Table};
use crate::query::{
    Engine, EngineKind, Location, NamedQuery, SharedSession, SnapshotOptions, named_queries,
};
use crate::report::{Manifest, ReportInput, ViewRows, ViewSource, render, sha256_file};

/// The bundle's scratch folder, inside it: spilled sorts, the views
/// computed once, the lookup's name index. Removed when the bundle is done,
/// and when a bundle is written where a killed run left one.
const WORK: &str = ".posture-work";

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
    let work = Work::create(out)?;
    let runtime = crate::query::runtime()?;
    let started = std::time::Instant::now();
    let (engine, session) = runtime.block_on(async {
        let engine = Engine::open(lake, options.as_of)
            .await?
            .on(engine.clone())
            .await?;
        let session = engine.shared_session(options, &work.0).await?;
        anyhow::Ok((engine, session))
    })?;
    eprintln!(
        "session open, shared views computed, in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let input = ReportInput {
        as_of: engine.as_of(),
        stale_days: options.stale_days,
        trend_days: options.days,
        lake_files: match lake {
            Location::Dir(dir) => lake_files(dir)?,
            Location::S3(_) => runtime.block_on(engine.store_checksums())?,
        },
        generated_at,
    };
    let mut source = Queries {
        runtime: &runtime,
        session: &session,
        queries: named_queries(),
        options,
    };
    eprintln!("rendering into `{}`", out.display());
    let manifest = render(&mut source, &input, out, &work.0.join("report"))?;
    drop(session);
    drop(engine);
    work.remove()?;
    Ok((input.as_of, manifest))
}

/// The report's named queries, run in the bundle's session as the report
/// asks for them.
struct Queries<'a> {
    runtime: &'a tokio::runtime::Runtime,
    session: &'a SharedSession,
    queries: Vec<NamedQuery>,
    options: &'a SnapshotOptions,
}

impl ViewSource for Queries<'_> {
    fn open(&mut self, name: &str) -> Result<ViewRows<'_>> {
        let query = self
            .queries
            .iter()
            .find(|q| q.name == name)
            .with_context(|| format!("the report needs the query `{name}`"))?;
        let (schema, mut stream) = self
            .runtime
            .block_on(self.session.stream(query, self.options))?;
        let runtime = self.runtime;
        let batches = std::iter::from_fn(move || {
            runtime
                .block_on(stream.next())
                .map(|b| b.map_err(anyhow::Error::from))
        });
        Ok(ViewRows {
            purpose: query.purpose.clone(),
            sql: query.sql.clone(),
            schema,
            batches: Box::new(batches),
        })
    }
}

/// The scratch folder of a bundle being written.
struct Work(PathBuf);

impl Work {
    fn create(out: &Path) -> Result<Work> {
        let path = out.join(WORK);
        if path.exists() {
            std::fs::remove_dir_all(&path)
                .with_context(|| format!("cannot remove `{}`", path.display()))?;
        }
        std::fs::create_dir_all(&path)
            .with_context(|| format!("cannot create `{}`", path.display()))?;
        Ok(Work(path))
    }

    fn remove(mut self) -> Result<()> {
        let path = std::mem::take(&mut self.0);
        std::fs::remove_dir_all(&path)
            .with_context(|| format!("cannot remove `{}`", path.display()))
    }
}

impl Drop for Work {
    /// A failed bundle leaves no scratch files behind.
    fn drop(&mut self) {
        if !self.0.as_os_str().is_empty() {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

/// Every Parquet file of the lake with its SHA-256: what the numbers came
/// from (the compacted daily snapshot's included, docs/compaction.md).
fn lake_files(lake_dir: &Path) -> Result<Vec<(String, String)>> {
    let mut files = Vec::new();
    let snapshot = Table::AS_OF.map(|(_, daily, _)| daily);
    let as_of = Table::AS_OF.map(|(_, _, as_of)| as_of);
    for table in Table::ALL.into_iter().chain(snapshot).chain(as_of) {
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
