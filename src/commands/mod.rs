//! One small file per subcommand: each turns its flags into options and
//! calls the stage that does the work.

mod collect;
mod compact;
mod exceptions;
mod generate;
mod ingest;
mod query;
mod report;
mod run;
mod shell;
mod sql;
mod verify;

use std::process::ExitCode;

use anyhow::Result;

use crate::cli::Command;
use crate::query::SnapshotOptions;

/// Runs one subcommand; the exit code covers outcomes that are not errors
/// but that a script must see (a file that could not be read to its end).
pub fn run(command: Command) -> Result<ExitCode> {
    match command {
        Command::Ingest {
            lake,
            paths,
            batch_rows,
            max_report_bytes,
            max_decompressed_bytes,
            threads,
        } => ingest::run(
            lake,
            paths,
            batch_rows,
            threads.map(usize::from),
            crate::ingest::Limits {
                max_report_bytes,
                max_decompressed_bytes,
            },
        ),
        Command::Query {
            lake,
            name,
            list,
            snapshot,
            engine,
            days,
            device,
            queries,
            output,
        } => query::run(query::Args {
            engine: engine.engine,
            lake,
            name,
            list,
            options: SnapshotOptions {
                as_of: snapshot.as_of,
                stale_days: snapshot.stale_days,
                days,
                device,
            },
            queries,
            output,
        }),
        Command::Sql {
            lake,
            sql,
            file,
            memory_limit,
            timeout,
            engine,
            output,
        } => sql::run(sql::Args {
            lake,
            input: match (sql, file) {
                (Some(sql), _) => sql::Input::Query(sql),
                (None, Some(file)) => sql::Input::File(file),
                (None, None) => sql::Input::Stdin,
            },
            bounds: crate::query::Bounds {
                memory_bytes: memory_limit,
                time: std::time::Duration::from_secs(timeout),
            },
            engine: engine.engine,
            output,
        }),
        Command::Report {
            lake,
            out,
            snapshot,
            engine,
        } => report::run(lake, out, snapshot, engine.engine),
        Command::Run(args) => run::run(args),
        Command::Collect { inbox, config } => collect::run(inbox, config),
        Command::Exceptions { lake, file } => exceptions::run(&lake, &file),
        Command::Compact { lake, dry_run } => compact::run(&lake, dry_run),
        Command::Verify { dir } => verify::run(&dir),
        Command::Generate {
            out,
            devices,
            days,
            checkins_per_day,
            seed,
            start,
            gzip,
            exports,
        } => generate::run(crate::generate::GenerateOptions {
            out,
            devices,
            days,
            checkins_per_day,
            seed,
            start,
            gzip,
            exports,
        }),
    }
}

/// The `hint:` line for an error, if any part of it carries one.
pub fn hint(e: &anyhow::Error) -> Option<String> {
    e.chain()
        .find_map(|c| c.downcast_ref::<crate::Hinted>())
        .map(|h| h.hint.clone())
}

/// A tokio runtime for the stages that are async (DataFusion).
fn runtime() -> Result<tokio::runtime::Runtime> {
    crate::query::runtime()
}
