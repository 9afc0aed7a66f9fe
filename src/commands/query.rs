//! `posture query --lake LAKE NAME [--as-of D] [--stale-days N] [--days N] [--format F]`

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Result, bail};

use crate::cli::{Format, OutputArgs};
use crate::query::{
    Engine, EngineKind, Location, QueryResult, SnapshotOptions, named_queries_with, output,
};

#[derive(Debug)]
pub struct Args {
    /// Required unless `list`.
    pub lake: Option<Location>,
    pub name: Option<String>,
    pub list: bool,
    pub options: SnapshotOptions,
    pub engine: EngineKind,
    pub queries: Option<PathBuf>,
    pub output: OutputArgs,
}

pub fn run(args: Args) -> Result<ExitCode> {
    let queries = named_queries_with(args.queries.as_deref())?;
    if args.list {
        let width = queries.iter().map(|q| q.name.len()).max().unwrap_or(0);
        let mut out = std::io::stdout().lock();
        for q in &queries {
            writeln!(out, "{:width$}  {}", q.name, q.purpose)?;
        }
        return Ok(ExitCode::SUCCESS);
    }
    let name = args.name.expect("clap requires NAME unless --list");
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
    let options = &args.options;
    let lake = args.lake.expect("clap requires --lake unless --list");
    let result = super::runtime()?.block_on(async {
        let engine = Engine::open(&lake, options.as_of)
            .await?
            .on(args.engine)
            .await?;
        eprintln!(
            "{name} as of {} (stale after {} days)",
            engine.as_of(),
            options.stale_days
        );
        engine.run_named(query, options).await
    })?;
    print(&result, &args.output)?;
    Ok(ExitCode::SUCCESS)
}

/// Data only on stdout (or in the --output file), in the asked format.
pub(super) fn print(result: &QueryResult, output: &OutputArgs) -> Result<()> {
    if output.format == Format::Parquet {
        let path = output.output.as_ref().expect("clap requires --output");
        output::write_parquet(result, path)?;
        eprintln!("wrote {} rows to `{}`", result.num_rows(), path.display());
        return Ok(());
    }
    // Formatted in memory first, so that a closed pipe (`| head`) surfaces
    // as the I/O error it is, which main() treats as a quiet end.
    let mut text = Vec::new();
    match output.format {
        Format::Table => output::write_table(result, &mut text)?,
        Format::Csv => output::write_csv(result, &mut text)?,
        Format::Json => output::write_json(result, &mut text)?,
        Format::Parquet => unreachable!("written above"),
    }
    let mut out = std::io::stdout().lock();
    out.write_all(&text)?;
    out.flush()?;
    Ok(())
}
