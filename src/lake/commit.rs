//! All-or-nothing commits of many Parquet files into the lake.
//!
//! A run writes its files under `LAKE/_staging/<run>/` (invisible to readers:
//! they list `LAKE/<table>/`, and Hive readers skip `_` names). To commit, it
//! writes the list of its files to `COMMIT` with an atomic rename; that
//! rename is the commit point. Then it moves each file into place, deletes
//! the lake files the run replaces (`posture compact`), and removes the
//! staging folder.
//!
//! `COMMIT` has one line per file: a bare lake-relative path is a file to
//! add (the only kind of line before compaction existed, so older commits
//! still on disk read the same), `remove:PATH` a file to delete. A crash before the rename leaves a staging folder
//! without `COMMIT`: rolled back (deleted) by the next writer. A crash after
//! it leaves one with `COMMIT`: rolled forward by the next posture command,
//! reader or writer. Moving files in takes `_commit.lock` exclusively, and
//! readers hold it shared, so no reader lists a half-moved commit.

use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

pub const STAGING_DIR: &str = "_staging";
const COMMIT_FILE: &str = "COMMIT";
const WRITER_LOCK: &str = "_writer.lock";
const COMMIT_LOCK: &str = "_commit.lock";
/// The prefix of a `COMMIT` line naming a lake file the commit deletes.
/// Table names hold no `:`, so no file to add starts with it.
const REMOVE_PREFIX: &str = "remove:";

/// Held for the whole of an ingest: one writer per lake at a time.
#[derive(Debug)]
pub struct WriterLock {
    _file: File,
}

/// Held while reading the lake's file listing and data.
#[derive(Debug)]
pub struct ReadLock {
    _file: Option<File>,
}

fn open_lock(path: &Path) -> Result<File> {
    fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .read(true)
        .write(true)
        .open(path)
        .with_context(|| format!("cannot open lock file `{}`", path.display()))
}

/// Takes the writer lock, waiting for another writer if there is one (and
/// saying so), then recovers any interrupted commit.
pub fn lock_for_writing(lake: &Path) -> Result<WriterLock> {
    fs::create_dir_all(lake).with_context(|| format!("cannot create lake `{}`", lake.display()))?;
    let file = open_lock(&lake.join(WRITER_LOCK))?;
    match file.try_lock() {
        Ok(()) => {}
        Err(fs::TryLockError::WouldBlock) => {
            eprintln!(
                "waiting: another posture process is writing to the lake `{}`",
                lake.display()
            );
            file.lock().context("cannot lock the lake")?;
        }
        Err(fs::TryLockError::Error(e)) => return Err(e).context("cannot lock the lake"),
    }
    {
        let commit = open_lock(&lake.join(COMMIT_LOCK))?;
        commit.lock().context("cannot lock the lake")?;
        recover(lake, true)?;
    }
    Ok(WriterLock { _file: file })
}

/// Shares the commit lock so that no commit moves files in while a reader
/// lists them. A lake that cannot be written to (a read-only mount) is read
/// without a lock: nothing can commit to it either.
pub fn lock_for_reading(lake: &Path) -> Result<ReadLock> {
    let staging = lake.join(STAGING_DIR);
    let path = lake.join(COMMIT_LOCK);
    let Ok(file) = open_lock(&path) else {
        return Ok(ReadLock { _file: None });
    };
    if has_committed_staging(&staging) {
        file.lock().context("cannot lock the lake")?;
        recover(lake, false)?;
        file.unlock().context("cannot unlock the lake")?;
    }
    file.lock_shared().context("cannot lock the lake")?;
    Ok(ReadLock { _file: Some(file) })
}

fn has_committed_staging(staging: &Path) -> bool {
    fs::read_dir(staging).is_ok_and(|entries| {
        entries
            .flatten()
            .any(|e| e.path().join(COMMIT_FILE).exists())
    })
}

/// Rolls committed runs forward; with `writer`, rolls the others back (only
/// the holder of the writer lock knows that no run is still writing them).
fn recover(lake: &Path, writer: bool) -> Result<()> {
    let staging = lake.join(STAGING_DIR);
    let Ok(entries) = fs::read_dir(&staging) else {
        return Ok(());
    };
    let mut runs: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
    runs.sort();
    for run in runs {
        if run.join(COMMIT_FILE).exists() {
            eprintln!(
                "recovering: completing the interrupted commit `{}`",
                run.display()
            );
            move_into_place(lake, &run)?;
        } else if writer {
            eprintln!(
                "recovering: discarding the uncommitted run `{}`",
                run.display()
            );
            fs::remove_dir_all(&run)
                .with_context(|| format!("cannot remove `{}`", run.display()))?;
        }
    }
    Ok(())
}

/// The files one run is writing, before they are committed.
#[derive(Debug)]
pub struct Staging {
    lake: PathBuf,
    dir: PathBuf,
    files: Vec<String>,
    removals: Vec<String>,
}

impl Staging {
    pub fn new(lake: &Path, run_id: &str) -> Result<Staging> {
        let dir = lake.join(STAGING_DIR).join(run_id);
        fs::create_dir_all(&dir).with_context(|| format!("cannot create `{}`", dir.display()))?;
        Ok(Staging {
            lake: lake.to_path_buf(),
            dir,
            files: Vec::new(),
            removals: Vec::new(),
        })
    }

    /// Creates a file at `relative` (its final path inside the lake) in the
    /// staging folder.
    pub fn create(&mut self, relative: &str) -> Result<(PathBuf, File)> {
        let path = self.dir.join(relative);
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent)
                .with_context(|| format!("cannot create `{}`", parent.display()))?;
        }
        let file =
            File::create(&path).with_context(|| format!("cannot create `{}`", path.display()))?;
        self.files.push(relative.to_owned());
        Ok((path, file))
    }

    /// Where the file created at `relative` is staged.
    pub fn path_of(&self, relative: &str) -> PathBuf {
        self.dir.join(relative)
    }

    /// Deletes a file this run staged and will no longer commit (an index
    /// run merged into a bigger one before the commit).
    pub fn discard(&mut self, relative: &str) -> Result<()> {
        let path = self.dir.join(relative);
        fs::remove_file(&path).with_context(|| format!("cannot remove `{}`", path.display()))?;
        self.files.retain(|f| f != relative);
        Ok(())
    }

    /// Names a file of the lake (its lake-relative path, `/`-separated)
    /// that the commit deletes once its own files are in place: the inputs
    /// a compaction replaces.
    pub fn remove(&mut self, relative: &str) {
        self.removals.push(relative.to_owned());
    }

    pub fn is_empty(&self) -> bool {
        self.files.is_empty() && self.removals.is_empty()
    }

    /// The commit point: after this returns, the run is in the lake, whatever
    /// happens next.
    pub fn commit(self, lock: &WriterLock) -> Result<()> {
        let _ = lock;
        let mut list = String::new();
        for f in &self.files {
            list.push_str(f);
            list.push('\n');
        }
        for f in &self.removals {
            list.push_str(REMOVE_PREFIX);
            list.push_str(f);
            list.push('\n');
        }
        let tmp = self.dir.join("COMMIT.tmp");
        let mut file =
            File::create(&tmp).with_context(|| format!("cannot create `{}`", tmp.display()))?;
        file.write_all(list.as_bytes())
            .and_then(|()| file.sync_all())
            .with_context(|| format!("cannot write `{}`", tmp.display()))?;
        let commit_lock = open_lock(&self.lake.join(COMMIT_LOCK))?;
        commit_lock.lock().context("cannot lock the lake")?;
        crate::fault::point("before-commit-rename")
            .with_context(|| format!("cannot commit `{}`", self.dir.display()))?;
        fs::rename(&tmp, self.dir.join(COMMIT_FILE))
            .with_context(|| format!("cannot commit `{}`", self.dir.display()))?;
        sync_dir(&self.dir)?;
        // From here on the run is committed: dropping `self` must not
        // discard it.
        let staging = std::mem::ManuallyDrop::new(self);
        crate::fault::point("after-commit-rename")
            .with_context(|| format!("cannot move `{}` into the lake", staging.dir.display()))?;
        move_into_place(&staging.lake, &staging.dir)
    }

    /// Throws the run away (nothing of it was committed).
    pub fn abandon(self) -> Result<()> {
        let staging = std::mem::ManuallyDrop::new(self);
        fs::remove_dir_all(&staging.dir)
            .with_context(|| format!("cannot remove `{}`", staging.dir.display()))
    }
}

/// A run that fails before its commit point (a full disk, a bad file in the
/// lake) takes its staged files with it, so that the lake is exactly as
/// before the run; a process that is killed leaves them for the next writer
/// to roll back.
impl Drop for Staging {
    fn drop(&mut self) {
        if let Err(e) = fs::remove_dir_all(&self.dir)
            && e.kind() != io::ErrorKind::NotFound
        {
            eprintln!(
                "warning: cannot remove the uncommitted run `{}`: {e}; the next ingest will",
                self.dir.display()
            );
        }
    }
}

/// Moves every file named in `run/COMMIT` into the lake, then deletes the
/// lake files it names for removal. Idempotent: a file already moved or
/// deleted (by a run that crashed half-way through) is skipped. The caller
/// holds the commit lock exclusively, so no reader lists the lake between
/// the first move and the last deletion: it sees the files the commit
/// replaces or the ones that replace them, never both, never neither.
fn move_into_place(lake: &Path, run: &Path) -> Result<()> {
    let list_path = run.join(COMMIT_FILE);
    let list = fs::read_to_string(&list_path)
        .with_context(|| format!("cannot read `{}`", list_path.display()))?;
    let mut parents: Vec<PathBuf> = Vec::new();
    let mut removals = Vec::new();
    for line in list.lines().filter(|l| !l.is_empty()) {
        if let Some(relative) = line.strip_prefix(REMOVE_PREFIX) {
            removals.push(relative);
            continue;
        }
        let relative = line;
        let from = run.join(relative);
        let to = lake.join(relative);
        if !from.exists() {
            continue;
        }
        let parent = to.parent().expect("lake files live in a partition folder");
        fs::create_dir_all(parent)
            .with_context(|| format!("cannot create `{}`", parent.display()))?;
        fs::rename(&from, &to)
            .with_context(|| format!("cannot move `{}` into the lake", from.display()))?;
        if !parents.iter().any(|p| p == parent) {
            parents.push(parent.to_path_buf());
        }
        crate::fault::point("mid-move")
            .with_context(|| format!("cannot move `{}` into the lake", run.display()))?;
    }
    for relative in removals {
        let path = lake.join(relative);
        match fs::remove_file(&path) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
            Err(e) => {
                return Err(e).with_context(|| format!("cannot remove `{}`", path.display()));
            }
        }
        let parent = path
            .parent()
            .expect("lake files live in a partition folder");
        if !parents.iter().any(|p| p == parent) {
            parents.push(parent.to_path_buf());
        }
        crate::fault::point("mid-remove")
            .with_context(|| format!("cannot remove `{}`", path.display()))?;
    }
    for parent in &parents {
        sync_dir(parent)?;
    }
    crate::fault::point("before-staging-removed")
        .with_context(|| format!("cannot remove `{}`", run.display()))?;
    fs::remove_dir_all(run).with_context(|| format!("cannot remove `{}`", run.display()))?;
    Ok(())
}

/// Makes a rename durable: on Linux a directory's entries reach the disk
/// only when the directory itself is synced.
fn sync_dir(dir: &Path) -> Result<()> {
    match File::open(dir).and_then(|d| d.sync_all()) {
        Ok(()) => Ok(()),
        // Some file systems refuse fsync on a directory; nothing to gain there.
        Err(e) if e.kind() == io::ErrorKind::InvalidInput => Ok(()),
        Err(e) => Err(e).with_context(|| format!("cannot sync `{}`", dir.display())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(path: &Path, text: &str) {
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, text).unwrap();
    }

    /// A lake with two files in one partition, and a committed run that
    /// merges them into one: staged, listed in `COMMIT`, not yet moved.
    fn lake_with_committed_merge() -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let lake = dir.path().to_path_buf();
        write(&lake.join("reports/date=2026-11-01/a.parquet"), "a");
        write(&lake.join("reports/date=2026-11-01/b.parquet"), "b");
        let run = lake.join(STAGING_DIR).join("run-1");
        write(&run.join("reports/date=2026-11-01/ab.parquet"), "ab");
        write(
            &run.join(COMMIT_FILE),
            "reports/date=2026-11-01/ab.parquet\n\
             remove:reports/date=2026-11-01/a.parquet\n\
             remove:reports/date=2026-11-01/b.parquet\n",
        );
        (dir, lake)
    }

    fn partition(lake: &Path) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(lake.join("reports/date=2026-11-01"))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn roll_forward_adds_then_removes() {
        let (_dir, lake) = lake_with_committed_merge();
        recover(&lake, false).unwrap();
        assert_eq!(partition(&lake), ["ab.parquet"]);
        assert!(!lake.join(STAGING_DIR).join("run-1").exists());
    }

    #[test]
    fn roll_forward_after_a_crash_half_way_is_idempotent() {
        // Crashed after the move and one of the two removals.
        let (_dir, lake) = lake_with_committed_merge();
        let run = lake.join(STAGING_DIR).join("run-1");
        fs::rename(
            run.join("reports/date=2026-11-01/ab.parquet"),
            lake.join("reports/date=2026-11-01/ab.parquet"),
        )
        .unwrap();
        fs::remove_file(lake.join("reports/date=2026-11-01/a.parquet")).unwrap();
        recover(&lake, true).unwrap();
        assert_eq!(partition(&lake), ["ab.parquet"]);
        assert_eq!(
            fs::read_to_string(lake.join("reports/date=2026-11-01/ab.parquet")).unwrap(),
            "ab"
        );
        // And once more, with the staging folder still there but emptied.
        let (_dir2, lake2) = lake_with_committed_merge();
        let run2 = lake2.join(STAGING_DIR).join("run-1");
        recover(&lake2, false).unwrap();
        fs::create_dir_all(&run2).unwrap();
        write(
            &run2.join(COMMIT_FILE),
            "reports/date=2026-11-01/ab.parquet\nremove:reports/date=2026-11-01/a.parquet\n",
        );
        recover(&lake2, false).unwrap();
        assert_eq!(partition(&lake2), ["ab.parquet"]);
    }

    #[test]
    fn an_uncommitted_merge_rolls_back_and_removes_nothing() {
        let (_dir, lake) = lake_with_committed_merge();
        let run = lake.join(STAGING_DIR).join("run-1");
        fs::rename(run.join(COMMIT_FILE), run.join("COMMIT.tmp")).unwrap();
        // A reader leaves it alone (a writer may still be at work)...
        recover(&lake, false).unwrap();
        assert!(run.exists());
        // ...the next writer throws it away.
        recover(&lake, true).unwrap();
        assert!(!run.exists());
        assert_eq!(partition(&lake), ["a.parquet", "b.parquet"]);
    }

    #[test]
    fn commits_without_removals_read_as_before() {
        let dir = tempfile::tempdir().unwrap();
        let lake = dir.path();
        let run = lake.join(STAGING_DIR).join("run-0");
        write(&run.join("reports/date=2026-11-01/x.parquet"), "x");
        write(
            &run.join(COMMIT_FILE),
            "reports/date=2026-11-01/x.parquet\n",
        );
        recover(lake, true).unwrap();
        assert_eq!(partition(lake), ["x.parquet"]);
    }

    #[test]
    fn staging_commits_its_removals() {
        let dir = tempfile::tempdir().unwrap();
        let lake = dir.path();
        write(&lake.join("reports/date=2026-11-01/old.parquet"), "old");
        let writer = lock_for_writing(lake).unwrap();
        let mut staging = Staging::new(lake, "run-2").unwrap();
        let (_, mut file) = staging
            .create("reports/date=2026-11-01/new.parquet")
            .unwrap();
        file.write_all(b"new").unwrap();
        staging.remove("reports/date=2026-11-01/old.parquet");
        staging.commit(&writer).unwrap();
        assert_eq!(partition(lake), ["new.parquet"]);
        assert!(
            fs::read_dir(lake.join(STAGING_DIR))
                .unwrap()
                .next()
                .is_none()
        );
    }
}
