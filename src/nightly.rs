//! The nightly job (`posture run`): collect the tenant's reports into the
//! inbox when configured, ingest what is new in the inbox, keep the lake
//! compacted, write the day's bundle into `REPORTS/YYYY-MM-DD/`, point `REPORTS/latest` at
//! it, prune old bundles. Safe to rerun and to kill: the lake changes only by
//! its atomic commit, a bundle appears only by a rename, and the next run
//! finishes whatever a killed one left. Decisions: docs/run.md.

use std::fs::{self, File};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use chrono::{NaiveDate, TimeDelta};
use tracing::{info, warn};

use crate::ingest::{self, IngestOptions, IngestSummary};
use crate::lake;
use crate::query::{EngineKind, Location, SnapshotOptions};

/// The name of the link to the newest bundle, inside the reports folder.
pub const LATEST: &str = "latest";
/// The lock file held by a run, inside the reports folder.
pub const LOCK_FILE: &str = ".posture-run.lock";
const TMP_PREFIX: &str = ".tmp-";
const OLD_PREFIX: &str = ".old-";

#[derive(Debug, Clone)]
pub struct RunOptions {
    /// Fetch the tenant's reports into the inbox first (docs/collect.md).
    pub collect: Option<crate::collect::CollectStep>,
    pub lake: PathBuf,
    pub inbox: PathBuf,
    pub reports: PathBuf,
    /// The exceptions file, loaded when it differs from the set in force.
    pub exceptions: Option<PathBuf>,
    /// The bundle's day; default: the newest day with a report in the lake.
    pub as_of: Option<NaiveDate>,
    /// Also write the bundles of every day from this one to the run's day.
    pub backfill_from: Option<NaiveDate>,
    pub stale_days: u32,
    /// Days of bundles kept, counting the newest bundle's day.
    pub retention_days: u32,
    /// When stamping the lake's rows, in UTC microseconds.
    pub ingested_at_us: i64,
}

/// What a run did, for the exit code and the tests.
#[derive(Debug, Clone, Default)]
pub struct RunOutcome {
    /// What the collect step fetched, when it ran.
    pub collect: Option<crate::collect::CollectOutcome>,
    /// Inbox files whose checksum is in the ledger: not read again.
    pub skipped_files: usize,
    pub ingest: IngestSummary,
    pub exceptions_loaded: Option<usize>,
    /// What keeping the lake compacted did.
    pub compacted: lake::CompactSummary,
    pub bundles: Vec<NaiveDate>,
    pub latest: Option<NaiveDate>,
    pub pruned: Vec<NaiveDate>,
}

/// Runs the nightly job once.
pub fn run(options: &RunOptions) -> Result<RunOutcome> {
    if options.retention_days == 0 {
        bail!(crate::Hinted::new(
            "`retention_days` must be at least 1",
            "keep at least the newest bundle, e.g. `retention_days = 30`",
        ));
    }
    fs::create_dir_all(&options.reports)
        .with_context(|| format!("cannot create `{}`", options.reports.display()))?;
    let _lock = lock(&options.reports)?;
    finish_interrupted(&options.reports)?;
    let mut outcome = RunOutcome::default();

    // 0. The tenant's reports into the inbox; a failure is logged and the
    // night goes on with what the inbox holds.
    if let Some(step) = &options.collect {
        outcome.collect = Some(crate::collect::step(step, &options.inbox));
    }

    // 1. What is new in the inbox, by checksum.
    let files = ingest::discover(std::slice::from_ref(&options.inbox), &options.lake)
        .with_context(|| format!("cannot list the inbox `{}`", options.inbox.display()))?;
    let known = {
        let _read = lake::lock_for_reading(&options.lake)?;
        lake::ingested_checksums(&options.lake)?
    };
    let mut new_files = Vec::new();
    for file in files {
        let (sum, _) = crate::report::sha256_file(&file)?;
        if known.contains(&sum) {
            outcome.skipped_files += 1;
        } else {
            new_files.push(file);
        }
    }
    info!(
        new = new_files.len(),
        skipped = outcome.skipped_files,
        "inbox `{}`: {} new or changed file(s), {} already ingested",
        options.inbox.display(),
        new_files.len(),
        outcome.skipped_files
    );
    if !new_files.is_empty() {
        let mut ingest_options = IngestOptions::new(options.lake.clone(), new_files);
        ingest_options.progress = false;
        ingest_options.ingested_at_us = options.ingested_at_us;
        outcome.ingest = ingest::ingest(&ingest_options)?;
        info!("{}", outcome.ingest.line());
        for (file, error) in &outcome.ingest.file_errors {
            warn!("`{}` could not be read to its end: {error}", file.display());
        }
    }

    // 2. The exceptions in force.
    if let Some(file) = &options.exceptions {
        outcome.exceptions_loaded =
            ingest::exceptions::load_if_changed(&options.lake, file, options.ingested_at_us)?;
        match outcome.exceptions_loaded {
            Some(n) => info!("exceptions: loaded {n} from `{}`", file.display()),
            None => info!("exceptions: `{}` unchanged", file.display()),
        }
    }

    // 3. The lake kept compacted: the files this run's commits added are
    // merged and the daily snapshot of the days they touched rebuilt, in
    // one more atomic commit, so that the bundles below and every later
    // query read the snapshot (docs/compaction.md). On a compacted lake
    // that is the days this run touched; a lake never compacted is
    // compacted whole, once.
    let compacted = lake::compact(
        &options.lake,
        &format!("{}-compact", ingest::run_id(options.ingested_at_us)),
        false,
    )?;
    if compacted.partitions > 0 || compacted.snapshots > 0 || compacted.as_of.is_some() {
        info!("{}", compacted.line());
    }
    outcome.compacted = compacted;

    // 4. The bundles.
    let Some(newest_data) = crate::query::newest_partition(&options.lake)? else {
        bail!(crate::Hinted::new(
            format!("the lake `{}` holds no reports yet", options.lake.display()),
            "put agent reports into the inbox and run again",
        ));
    };
    let day = options.as_of.unwrap_or(newest_data);
    let newest = dated_bundles(&options.reports)?
        .into_iter()
        .max()
        .map_or(day, |d| d.max(day));
    let keep_from = newest - TimeDelta::days(i64::from(options.retention_days) - 1);
    let first = options.backfill_from.unwrap_or(day);
    if first > day {
        bail!(crate::Hinted::new(
            format!("--backfill `{first}` is after the run's day `{day}`"),
            "backfill from a day on or before the newest report",
        ));
    }
    if first < keep_from {
        info!("days before `{keep_from}` are past the retention; not written");
    }
    let mut d = first.max(keep_from);
    while d <= day {
        write_bundle(options, d)?;
        outcome.bundles.push(d);
        d += TimeDelta::days(1);
    }

    // 5. `latest`, then the retention.
    point_latest(&options.reports, newest)?;
    outcome.latest = Some(newest);
    for old in dated_bundles(&options.reports)? {
        if old < keep_from {
            let dir = options.reports.join(old.to_string());
            fs::remove_dir_all(&dir)
                .with_context(|| format!("cannot remove `{}`", dir.display()))?;
            info!(
                "pruned `{}` (older than {} days)",
                dir.display(),
                options.retention_days
            );
            outcome.pruned.push(old);
        }
    }
    Ok(outcome)
}

/// One run per reports folder at a time; a second one fails at once rather
/// than queueing behind a stuck night.
fn lock(reports: &Path) -> Result<File> {
    let path = reports.join(LOCK_FILE);
    let file = fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .with_context(|| format!("cannot open lock file `{}`", path.display()))?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(fs::TryLockError::WouldBlock) => bail!(crate::Hinted::new(
            format!("another `posture run` holds `{}`", path.display()),
            "wait for it to finish; the lock goes with its process",
        )),
        Err(fs::TryLockError::Error(e)) => {
            Err(e).with_context(|| format!("cannot lock `{}`", path.display()))
        }
    }
}

/// Cleans up after a run that was killed: a half-written bundle (`.tmp-*`)
/// is removed; a bundle moved aside to be replaced (`.old-*`) is put back if
/// its replacement never arrived, removed otherwise.
fn finish_interrupted(reports: &Path) -> Result<()> {
    for entry in
        fs::read_dir(reports).with_context(|| format!("cannot list `{}`", reports.display()))?
    {
        let path = entry?.path();
        let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
            continue;
        };
        if name.starts_with(TMP_PREFIX) {
            warn!("removing `{}`, left by an interrupted run", path.display());
            remove(&path)?;
        } else if let Some(rest) = name.strip_prefix(OLD_PREFIX) {
            let day = rest.split('.').next().unwrap_or_default();
            let dir = reports.join(day);
            if NaiveDate::parse_from_str(day, "%Y-%m-%d").is_ok() && !dir.exists() {
                warn!("restoring `{}`, left by an interrupted run", dir.display());
                fs::rename(&path, &dir)
                    .with_context(|| format!("cannot restore `{}`", dir.display()))?;
            } else {
                remove(&path)?;
            }
        }
    }
    Ok(())
}

fn remove(path: &Path) -> Result<()> {
    if path.is_dir() && !path.is_symlink() {
        fs::remove_dir_all(path)
    } else {
        fs::remove_file(path)
    }
    .with_context(|| format!("cannot remove `{}`", path.display()))
}

/// Renders the bundle of `day` beside its final place, then renames it in:
/// a reader sees the old bundle or the new one, never half of one.
fn write_bundle(options: &RunOptions, day: NaiveDate) -> Result<()> {
    let pid = std::process::id();
    let dir = options.reports.join(day.to_string());
    let tmp = options.reports.join(format!("{TMP_PREFIX}{day}.{pid}"));
    let snapshot = SnapshotOptions {
        as_of: Some(day),
        stale_days: options.stale_days,
        ..SnapshotOptions::default()
    };
    let lake = Location::Dir(options.lake.clone());
    let (_, manifest) = crate::bundle::write(&lake, &tmp, &snapshot, &EngineKind::Local)?;
    if dir.exists() {
        let old = options.reports.join(format!("{OLD_PREFIX}{day}.{pid}"));
        fs::rename(&dir, &old).with_context(|| format!("cannot move `{}`", dir.display()))?;
        fs::rename(&tmp, &dir).with_context(|| format!("cannot move `{}`", tmp.display()))?;
        remove(&old)?;
    } else {
        fs::rename(&tmp, &dir).with_context(|| format!("cannot move `{}`", tmp.display()))?;
    }
    info!(
        "bundle `{}` ({} files)",
        dir.display(),
        manifest.files.len()
    );
    Ok(())
}

/// The days of the dated bundles in the reports folder.
pub fn dated_bundles(reports: &Path) -> Result<Vec<NaiveDate>> {
    let mut days = Vec::new();
    for entry in
        fs::read_dir(reports).with_context(|| format!("cannot list `{}`", reports.display()))?
    {
        let entry = entry?;
        let name = entry.file_name();
        if let Some(day) = name
            .to_str()
            .and_then(|n| NaiveDate::parse_from_str(n, "%Y-%m-%d").ok())
            && entry.file_type()?.is_dir()
        {
            days.push(day);
        }
    }
    days.sort();
    Ok(days)
}

/// Replaces `latest` by a link to `day`'s folder in one rename.
fn point_latest(reports: &Path, day: NaiveDate) -> Result<()> {
    let link = reports.join(LATEST);
    let tmp = reports.join(format!("{TMP_PREFIX}{LATEST}.{}", std::process::id()));
    let _ = fs::remove_file(&tmp);
    std::os::unix::fs::symlink(day.to_string(), &tmp)
        .with_context(|| format!("cannot create the link `{}`", tmp.display()))?;
    fs::rename(&tmp, &link).with_context(|| format!("cannot replace `{}`", link.display()))?;
    Ok(())
}
