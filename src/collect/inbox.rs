//! Where collected files land: one folder per collection under
//! `INBOX/collect/`, named by the UTC time it started. A file is written
//! under a name that starts with `.` (which ingest skips), made durable,
//! then renamed into place, never over a finished file: ingest sees a
//! download whole or not at all. A collection that stopped short is
//! resumed by the next run started soon enough (`resume_within_hours`);
//! `.complete` marks one that finished.

use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use chrono::{DateTime, NaiveDateTime, Utc};
use tracing::{info, warn};

/// The folder of collections, inside the inbox.
pub const COLLECT_DIR: &str = "collect";
const LOCK_FILE: &str = ".lock";
const COMPLETE: &str = ".complete";
const PARTIAL_PREFIX: &str = ".partial-";
const JOB_PREFIX: &str = ".job-";
const STAMP: &str = "%Y-%m-%dT%H%M%SZ";

/// The collection being written, with the lock that keeps a second
/// `posture collect` on the same inbox out.
#[derive(Debug)]
pub struct Collection {
    pub dir: PathBuf,
    /// True when this run resumes a collection that stopped short.
    pub resumed: bool,
    _lock: File,
}

impl Collection {
    /// The collection to write into: the newest unfinished one, if it
    /// started less than `resume_within` before `now`; else a new folder.
    /// Partial files a killed run left are removed.
    pub fn open(inbox: &Path, now: DateTime<Utc>, resume_within: Duration) -> Result<Collection> {
        let root = inbox.join(COLLECT_DIR);
        fs::create_dir_all(&root).with_context(|| format!("cannot create `{}`", root.display()))?;
        let lock = lock(&root)?;
        let newest = newest_collection(&root)?;
        let resume = newest.filter(|(dir, started)| {
            let age = now.signed_duration_since(*started);
            !dir.join(COMPLETE).exists() && age.to_std().is_ok_and(|age| age <= resume_within)
        });
        let (dir, resumed) = match resume {
            Some((dir, _)) => (dir, true),
            None => (new_folder(&root, now)?, false),
        };
        for entry in
            fs::read_dir(&dir).with_context(|| format!("cannot list `{}`", dir.display()))?
        {
            let path = entry?.path();
            if path
                .file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with(PARTIAL_PREFIX))
            {
                warn!(
                    "removing `{}`, left by an interrupted collection",
                    path.display()
                );
                fs::remove_file(&path)
                    .with_context(|| format!("cannot remove `{}`", path.display()))?;
            }
        }
        if resumed {
            info!("resuming the collection `{}`", dir.display());
        } else {
            info!("collecting into `{}`", dir.display());
        }
        Ok(Collection {
            dir,
            resumed,
            _lock: lock,
        })
    }

    /// The finished file `name`, if it is there.
    pub fn finished(&self, name: &str) -> Option<PathBuf> {
        let path = self.dir.join(name);
        path.is_file().then_some(path)
    }

    /// Where `name` is written before it is whole.
    pub fn partial(&self, name: &str) -> PathBuf {
        self.dir.join(format!("{PARTIAL_PREFIX}{name}"))
    }

    /// Renames the written `partial` (already synced to disk) to `name`.
    /// Refuses to replace a finished file.
    pub fn finish(&self, partial: &Path, name: &str) -> Result<PathBuf> {
        let path = self.dir.join(name);
        if path.exists() {
            bail!(
                "`{}` is already there; a finished file is never replaced",
                path.display()
            );
        }
        fs::rename(partial, &path)
            .with_context(|| format!("cannot rename `{}`", partial.display()))?;
        // The rename itself survives a crash once the folder is synced.
        File::open(&self.dir)
            .and_then(|d| d.sync_all())
            .with_context(|| format!("cannot sync `{}`", self.dir.display()))?;
        Ok(path)
    }

    /// The export job started for `name` by an earlier run, if any.
    pub fn job(&self, name: &str) -> Option<String> {
        let text = fs::read_to_string(self.dir.join(format!("{JOB_PREFIX}{name}"))).ok()?;
        let id = text.trim();
        (!id.is_empty()).then(|| id.to_owned())
    }

    /// Remembers the export job of `name`, so that a rerun polls it
    /// instead of starting another.
    pub fn save_job(&self, name: &str, id: &str) -> Result<()> {
        let path = self.dir.join(format!("{JOB_PREFIX}{name}"));
        fs::write(&path, id).with_context(|| format!("cannot write `{}`", path.display()))
    }

    pub fn forget_job(&self, name: &str) {
        let _ = fs::remove_file(self.dir.join(format!("{JOB_PREFIX}{name}")));
    }

    /// Marks the collection finished: the next run starts a new one.
    pub fn mark_complete(&self) -> Result<()> {
        let path = self.dir.join(COMPLETE);
        fs::write(&path, "").with_context(|| format!("cannot write `{}`", path.display()))
    }
}

fn lock(root: &Path) -> Result<File> {
    let path = root.join(LOCK_FILE);
    let file = fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .with_context(|| format!("cannot open lock file `{}`", path.display()))?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(fs::TryLockError::WouldBlock) => bail!(crate::Hinted::new(
            format!("another `posture collect` holds `{}`", path.display()),
            "wait for it to finish; the lock goes with its process",
        )),
        Err(fs::TryLockError::Error(e)) => {
            Err(e).with_context(|| format!("cannot lock `{}`", path.display()))
        }
    }
}

/// The newest collection folder and when it started.
fn newest_collection(root: &Path) -> Result<Option<(PathBuf, DateTime<Utc>)>> {
    let mut newest: Option<(PathBuf, DateTime<Utc>)> = None;
    for entry in fs::read_dir(root).with_context(|| format!("cannot list `{}`", root.display()))? {
        let entry = entry?;
        let Some(name) = entry.file_name().to_str().map(str::to_owned) else {
            continue;
        };
        let Some(stamp) = name.get(..STAMP_LEN) else {
            continue;
        };
        let Ok(started) = NaiveDateTime::parse_from_str(stamp, STAMP) else {
            continue;
        };
        if !entry.file_type()?.is_dir() {
            continue;
        }
        let started = started.and_utc();
        if newest
            .as_ref()
            .is_none_or(|(dir, t)| (started, entry.path()) > (*t, dir.clone()))
        {
            newest = Some((entry.path(), started));
        }
    }
    Ok(newest)
}

/// `2026-11-30T023000Z` is 18 characters.
const STAMP_LEN: usize = 18;

fn new_folder(root: &Path, now: DateTime<Utc>) -> Result<PathBuf> {
    let stamp = now.format(STAMP).to_string();
    for n in 1..100 {
        let name = if n == 1 {
            stamp.clone()
        } else {
            format!("{stamp}-{n}")
        };
        let dir = root.join(name);
        match fs::create_dir(&dir) {
            Ok(()) => return Ok(dir),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => {
                return Err(e).with_context(|| format!("cannot create `{}`", dir.display()));
            }
        }
    }
    bail!(
        "cannot find a free collection folder name under `{}`",
        root.display()
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn resumes_an_unfinished_collection_only_while_it_is_recent() {
        let dir = tempfile::tempdir().unwrap();
        let t0 = Utc.with_ymd_and_hms(2026, 11, 30, 2, 30, 0).unwrap();
        let hours = |h: u64| Duration::from_secs(h * 3600);
        let first = Collection::open(dir.path(), t0, hours(12)).unwrap();
        assert!(!first.resumed);
        assert!(first.dir.ends_with("collect/2026-11-30T023000Z"));
        std::fs::write(first.partial("a.json"), "half").unwrap();
        let first_dir = first.dir.clone();
        drop(first);

        // An hour later: the same folder, its partial file gone.
        let again =
            Collection::open(dir.path(), t0 + chrono::TimeDelta::hours(1), hours(12)).unwrap();
        assert!(again.resumed);
        assert_eq!(again.dir, first_dir);
        assert!(!again.partial("a.json").exists());
        std::fs::write(again.partial("a.json"), "whole").unwrap();
        let done = again.finish(&again.partial("a.json"), "a.json").unwrap();
        assert_eq!(std::fs::read_to_string(done).unwrap(), "whole");
        // A finished file is never replaced.
        std::fs::write(again.partial("a.json"), "other").unwrap();
        assert!(again.finish(&again.partial("a.json"), "a.json").is_err());
        drop(again);

        // A day later: a new collection.
        let next =
            Collection::open(dir.path(), t0 + chrono::TimeDelta::hours(24), hours(12)).unwrap();
        assert!(!next.resumed);
        assert!(next.dir.ends_with("collect/2026-12-01T023000Z"));
        next.mark_complete().unwrap();
        drop(next);
        // A finished collection is not resumed, even at once.
        let after =
            Collection::open(dir.path(), t0 + chrono::TimeDelta::hours(24), hours(12)).unwrap();
        assert!(!after.resumed);
        assert!(after.dir.ends_with("collect/2026-12-01T023000Z-2"));
    }

    #[test]
    fn a_second_collection_of_the_same_inbox_stops_at_once() {
        let dir = tempfile::tempdir().unwrap();
        let now = Utc::now();
        let _first = Collection::open(dir.path(), now, Duration::from_secs(60)).unwrap();
        let e = Collection::open(dir.path(), now, Duration::from_secs(60)).unwrap_err();
        assert!(format!("{e:#}").contains("another `posture collect` holds"));
    }
}
