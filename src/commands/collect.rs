//! `posture collect [--inbox DIR] [--config posture.toml]`: the `[collect]`
//! table of the config file, the credentials from the environment or the
//! files it names, progress on stderr, the summary line and the exit code.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};

use crate::Hinted;

pub fn run(inbox: Option<PathBuf>, config: Option<PathBuf>) -> Result<ExitCode> {
    crate::collect::ensure_built()?;
    let (file, base) = super::run::read_config(config.as_deref())?;
    let inbox = inbox
        .or(file.inbox.map(|p| base.join(p)))
        .with_context(|| {
            Hinted::new(
                "`posture collect` needs an inbox",
                "give `--inbox DIR`, or set `inbox = \"DIR\"` in posture.toml",
            )
        })?;
    let table = file.collect.with_context(|| {
        Hinted::new(
            "`posture collect` needs the `[collect]` table of posture.toml",
            "give `--config FILE` with a `[collect]` table (tenant_id, client_id, ...), see \
             docs/collect.md",
        )
    })?;
    let subscriber = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .with_target(false)
        .finish();
    tracing::subscriber::set_global_default(subscriber).context("cannot set up logging")?;
    let options = table.resolve(&base, inbox, &|name| std::env::var(name).ok())?;
    let outcome = crate::collect::collect(&options)?;
    eprintln!("{}", outcome.line());
    if outcome.failures.is_empty() {
        eprintln!("into `{}`", outcome.dir.display());
        return Ok(ExitCode::SUCCESS);
    }
    eprintln!(
        "error: the collection is incomplete: {} failure(s), logged above; what was downloaded \
         is in `{}`, and the next run resumes",
        outcome.failures.len(),
        outcome.dir.display()
    );
    Ok(ExitCode::FAILURE)
}
