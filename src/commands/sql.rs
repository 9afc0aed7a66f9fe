//! `posture sql --lake LAKE ["SELECT ..." | --file FILE]`: read-only SQL,
//! as one query, a script (a file or standard input), or the shell on a
//! terminal (`shell.rs`).

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Result, bail};

use super::shell::{Lake, Shell, Source};
use crate::cli::{Format, OutputArgs};
use crate::query::{Bounds, Engine, EngineKind, Location, SnapshotOptions};

#[derive(Debug)]
pub struct Args {
    pub lake: Location,
    pub input: Input,
    pub bounds: Bounds,
    pub engine: EngineKind,
    pub output: OutputArgs,
}

/// Where the statements come from.
#[derive(Debug)]
pub enum Input {
    /// One query, given on the command line.
    Query(String),
    /// A script file (`--file`).
    File(PathBuf),
    /// A script on standard input, or the shell when it is a terminal.
    Stdin,
}

pub fn run(args: Args) -> Result<ExitCode> {
    let source = match &args.input {
        Input::Query(sql) => return run_one(&args.lake, sql, &args),
        Input::File(path) => Source::File(path.clone()),
        Input::Stdin if std::io::stdin().is_terminal() => Source::Terminal,
        Input::Stdin => Source::Stdin,
    };
    if args.output.format == Format::Parquet {
        bail!(crate::Hinted::new(
            "`--format parquet` writes the result of one query, not of a script or the shell",
            "give the query as an argument (`posture sql --lake LAKE \"SELECT ...\" --format parquet --output FILE`)",
        ));
    }
    // A script that cannot be read fails before the lake is opened.
    let script = match &source {
        Source::File(path) => Some(
            std::fs::read_to_string(path)
                .map_err(|e| anyhow::anyhow!("cannot read `{}`: {e}", path.display()))?,
        ),
        _ => None,
    };
    let lake = Lake {
        location: args.lake.clone(),
        engine: args.engine.clone(),
        bounds: args.bounds.clone(),
    };
    let runtime = super::runtime()?;
    // The lake is opened once first, so that a wrong one fails at once;
    // then for each statement (`shell::Lake`).
    let greeting = runtime.block_on(async {
        let (engine, _) = lake.open().await?;
        anyhow::Ok(format!(
            "the lake `{}` as of {}",
            engine.lake(),
            engine.as_of()
        ))
    })?;
    let shell = Shell::new(&lake, &runtime, args.output.format, &source);
    let outcome = match (&source, script) {
        (Source::Terminal, _) => shell.interactive(&greeting),
        (_, Some(text)) => shell.script(text.as_bytes()),
        (_, None) => shell.script(std::io::stdin().lock()),
    };
    // A statement stopped by --timeout may leave work on the runtime's
    // threads: do not wait for it.
    runtime.shutdown_background();
    outcome
}

/// One query given on the command line: its rows, or its error.
fn run_one(lake: &Location, sql: &str, args: &Args) -> Result<ExitCode> {
    let options = SnapshotOptions::default();
    let runtime = super::runtime()?;
    let result = runtime.block_on(async {
        let engine = Engine::open(lake, None)
            .await?
            .on(args.engine.clone())
            .await?;
        engine.run_sql(sql, &options, &args.bounds).await
    });
    runtime.shutdown_background();
    let result = result?;
    super::query::print(&result, &args.output)?;
    Ok(ExitCode::SUCCESS)
}
