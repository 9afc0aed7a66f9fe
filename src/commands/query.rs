//! `posture query --lake LAKE NAME [--as-of D] [--stale-days N] [--days N] [--format F]`

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Result, bail};

use crate::cli::{Format, SnapshotArgs};
use crate::query::{Engine, SnapshotOptions, named_queries, output};

pub fn run(
    lake: PathBuf,
    name: Option<String>,
    list: bool,
    snapshot: SnapshotArgs,
    days: u32,
    format: Format,
) -> Result<ExitCode> {
    let queries = named_queries();
    if list {
        let width = queries.iter().map(|q| q.name.len()).max().unwrap_or(0);
        let mut out = std::io::stdout().lock();
        for q in &queries {
            writeln!(out, "{:width$}  {}", q.name, q.purpose)?;
        }
        return Ok(ExitCode::SUCCESS);
    }
    let name = name.expect("clap requires NAME unless --list");
    let Some(query) = queries.iter().find(|q| q.name == name) else {
        let names: Vec<&str> = queries.iter().map(|q| q.name.as_str()).collect();
        bail!(crate::Hinted::new(
            format!("no named query `{name}`"),
            format!(
                "the named queries are: {} (see `posture query --list`)",
                names.join(", ")
            ),
        ));
    };
    let options = SnapshotOptions {
        as_of: snapshot.as_of,
        stale_days: snapshot.stale_days,
        days,
    };
    let result = super::runtime()?.block_on(async {
        let engine = Engine::open(&lake, options.as_of)?;
        if format == Format::Table {
            eprintln!(
                "{name} as of {} (stale after {} days)",
                engine.as_of(),
                options.stale_days
            );
        }
        engine.run_named(query, &options).await
    })?;
    print(&result, format)?;
    Ok(ExitCode::SUCCESS)
}

/// Data only on stdout, in the asked format.
pub(super) fn print(result: &crate::query::QueryResult, format: Format) -> Result<()> {
    let mut out = std::io::stdout().lock();
    match format {
        Format::Table => output::write_table(result, &mut out)?,
        Format::Csv => output::write_csv(result, &mut out)?,
        Format::Json => output::write_json(result, &mut out)?,
    }
    out.flush()?;
    Ok(())
}
