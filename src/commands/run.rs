//! `posture run [--config posture.toml] [--backfill FROM] ...`: the nightly
//! job. Merges the config file with the flags, sets up the log (stderr and a
//! file), runs `nightly::run` and turns its outcome into the exit code. The
//! config file is read here for `posture collect` too.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Mutex;

use anyhow::{Context, Result};
use serde::Deserialize;
use tracing::{error, info};
use tracing_subscriber::layer::SubscriberExt;

use crate::cli::RunArgs;
use crate::nightly::{self, RunOptions};

/// Some inbox file could not be read to its end (as `posture ingest`).
const EXIT_UNREADABLE_FILES: u8 = 2;
/// The run succeeded but quarantined more reports than the threshold.
const EXIT_QUARANTINE_ABOVE_THRESHOLD: u8 = 3;
/// The collect step could not fetch everything; the rest of the run went on.
const EXIT_COLLECT_INCOMPLETE: u8 = 4;

/// The config file's keys: the long flags, with `_` for `-`, and the
/// `[collect]` table (docs/collect.md).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ConfigFile {
    lake: Option<PathBuf>,
    pub(super) inbox: Option<PathBuf>,
    reports: Option<PathBuf>,
    exceptions: Option<PathBuf>,
    log_file: Option<PathBuf>,
    stale_days: Option<u32>,
    retention_days: Option<u32>,
    quarantine_threshold: Option<u64>,
    pub(super) collect: Option<crate::collect::CollectConfig>,
}

pub fn run(args: RunArgs) -> Result<ExitCode> {
    let (config, base) = read_config(args.config.as_deref())?;
    let in_base = |p: PathBuf| base.join(p);
    let required = |flag: Option<PathBuf>, file: Option<PathBuf>, key: &str| {
        flag.or(file.map(in_base)).with_context(|| {
            crate::Hinted::new(
                format!("`posture run` needs `{key}`"),
                format!("give `--{key} PATH` or set `{key} = \"PATH\"` in posture.toml"),
            )
        })
    };
    let collect =
        config
            .collect
            .filter(|_| !args.no_collect)
            .map(|config| crate::collect::CollectStep {
                config,
                base: base.clone(),
            });
    let options = RunOptions {
        collect,
        lake: required(args.lake, config.lake, "lake")?,
        inbox: required(args.inbox, config.inbox, "inbox")?,
        reports: required(args.reports, config.reports, "reports")?,
        exceptions: args.exceptions.or(config.exceptions.map(in_base)),
        as_of: args.as_of,
        backfill_from: args.backfill,
        stale_days: args.stale_days.or(config.stale_days).unwrap_or(7),
        retention_days: args.retention_days.or(config.retention_days).unwrap_or(30),
        ingested_at_us: chrono::Utc::now().timestamp_micros(),
    };
    let threshold = args
        .quarantine_threshold
        .or(config.quarantine_threshold)
        .unwrap_or(0);
    std::fs::create_dir_all(&options.reports)
        .with_context(|| format!("cannot create `{}`", options.reports.display()))?;
    let log_file = args
        .log_file
        .or(config.log_file.map(in_base))
        .unwrap_or_else(|| options.reports.join("posture-run.log"));
    init_logging(&log_file)?;

    info!(
        "posture run {}: lake `{}`",
        env!("CARGO_PKG_VERSION"),
        options.lake.display()
    );
    let outcome = match nightly::run(&options) {
        Ok(outcome) => outcome,
        Err(e) => {
            error!("failed: {e:#}");
            return Err(e);
        }
    };
    let quarantined = outcome.ingest.counts.quarantined;
    if let Some(collected) = &outcome.collect
        && !collected.failures.is_empty()
    {
        error!(
            "the collect step could not fetch everything ({} failure(s), logged above); the run went on with what the inbox holds, and the next run resumes the collection (exit {EXIT_COLLECT_INCOMPLETE})",
            collected.failures.len()
        );
        return Ok(ExitCode::from(EXIT_COLLECT_INCOMPLETE));
    }
    if !outcome.ingest.file_errors.is_empty() {
        error!(
            "{} file(s) could not be read to the end; what was read of them is ingested (exit {EXIT_UNREADABLE_FILES})",
            outcome.ingest.file_errors.len()
        );
        return Ok(ExitCode::from(EXIT_UNREADABLE_FILES));
    }
    if quarantined > threshold {
        tracing::warn!(
            "{quarantined} report(s) quarantined, above the threshold of {threshold} (exit {EXIT_QUARANTINE_ABOVE_THRESHOLD}); see them with `posture sql --lake {} \"SELECT file, line, reason FROM quarantine\"`",
            options.lake.display()
        );
        return Ok(ExitCode::from(EXIT_QUARANTINE_ABOVE_THRESHOLD));
    }
    info!("done");
    Ok(ExitCode::SUCCESS)
}

/// The config file given, or `posture.toml` if the current folder has one,
/// with the folder its relative paths start from.
pub(super) fn read_config(path: Option<&Path>) -> Result<(ConfigFile, PathBuf)> {
    let default = Path::new("posture.toml");
    let path = match path {
        Some(p) => p,
        None if default.is_file() => default,
        None => return Ok((ConfigFile::default(), PathBuf::new())),
    };
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the config file `{}`", path.display()))?;
    let config: ConfigFile = toml::from_str(&text).map_err(|e| {
        crate::Hinted::new(
            format!("`{}` is not a valid config: {}", path.display(), e.message()),
            "keys: lake, inbox, reports, exceptions, log_file, stale_days, retention_days, quarantine_threshold, and the [collect] table (see `posture run --help`, docs/collect.md)",
        )
    })?;
    let base = path.parent().map(Path::to_path_buf).unwrap_or_default();
    Ok((config, base))
}

/// Log lines go to stderr and are appended to `file` (without colours).
fn init_logging(file: &Path) -> Result<()> {
    if let Some(parent) = file.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("cannot create `{}`", parent.display()))?;
    }
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(file)
        .with_context(|| format!("cannot open the log file `{}`", file.display()))?;
    let subscriber = tracing_subscriber::registry()
        .with(
            tracing_subscriber::fmt::layer()
                .with_writer(std::io::stderr)
                .with_ansi(false)
                .with_target(false),
        )
        .with(
            tracing_subscriber::fmt::layer()
                .with_writer(Mutex::new(log))
                .with_ansi(false)
                .with_target(false),
        );
    tracing::subscriber::set_global_default(subscriber).context("cannot set up logging")?;
    Ok(())
}
