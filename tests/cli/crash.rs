//! Crash safety (issue 7): `posture ingest` killed with SIGKILL at many
//! moments, then run again, must leave exactly the lake of a clean run; a
//! full disk must leave the lake exactly as it was. The narrow windows
//! (half a Parquet file written, the commit rename, half the files moved in)
//! are hit every time through the fault points of `src/fault.rs`
//! (`POSTURE_FAULT=POINT#N:pause` stops the process there, and the test
//! kills it); the others by killing after a delay spread over the run.
//! `posture run`, the nightly job, is killed the same way, in its ingest and
//! while it writes its bundle, and must finish the night when run again.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::Value;

use super::{
    counts, fixture, generated_inbox, ingest, lake_files, posture, stderr, summary, table_counts,
};

/// Rows per flush: small, so that a run writes several batches of files
/// and a kill can land between them.
const BATCH_ROWS: &str = "3000";

/// The fault points where the process is paused and killed, with the
/// passage (`#N`) at which it stops. Each names a distinct state on disk.
const PAUSE_POINTS: &[&str] = &[
    "mid-parquet-write#1",
    "mid-parquet-write#7",
    "mid-parquet-write#20",
    "after-flush#1",
    "after-flush#2",
    "mid-index-write#1",
    "before-commit-rename#1",
    "after-commit-rename#1",
    "mid-move#1",
    "mid-move#15",
    "before-staging-removed#1",
];

/// Kills after a delay: this many, spread evenly over a clean run's time.
const TIMED_KILLS: u32 = 12;

/// Copies a folder tree (the lake as it was before the run).
pub(crate) fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

fn spawn_ingest(lake: &Path, inbox: &Path, fault: Option<&str>) -> Child {
    let mut command = posture();
    command
        .args(["ingest", "--batch-rows", BATCH_ROWS, "--lake"])
        .arg(lake)
        .arg(inbox)
        .stderr(Stdio::piped());
    if let Some(fault) = fault {
        command.env("POSTURE_FAULT", format!("{fault}:pause"));
    }
    command.spawn().unwrap()
}

/// Waits until the child says it paused at its fault point.
fn wait_for_pause(child: &mut Child, fault: &str) {
    let err = child.stderr.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(err).lines() {
            let Ok(line) = line else { break };
            let paused = line.starts_with("fault: paused at ");
            let _ = tx.send(line);
            if paused {
                break;
            }
        }
    });
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut seen = Vec::new();
    while let Ok(line) = rx.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
        if line == format!("fault: paused at {fault}") {
            return;
        }
        seen.push(line);
    }
    panic!(
        "`{fault}` was never reached: the run ended first\n{}",
        seen.join("\n")
    );
}

/// Every table of a lake as an independent reader sees it, for
/// tests/lake_digest.py; one Python process for all lakes.
fn digests(lakes: &[PathBuf]) -> Vec<Value> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/lake_digest.py");
    let o = Command::new("python3")
        .arg(&script)
        .args(lakes)
        .output()
        .expect("python3 runs");
    assert!(
        o.status.success(),
        "the independent reader failed:\n{}",
        String::from_utf8_lossy(&o.stderr)
    );
    serde_json::from_slice::<Vec<Value>>(&o.stdout).unwrap()
}

#[test]
fn kill_9_at_23_points_then_a_rerun_gives_exactly_the_clean_lake() {
    let dir = tempfile::tempdir().unwrap();
    let inbox = generated_inbox(dir.path(), 60);
    // The lake already holds a run before the one that is killed, so that
    // "as before" is not just "empty".
    let base = dir.path().join("base");
    ingest(&base, &[&fixture("offsets.ndjson"), &fixture("bad.ndjson")]);
    let before = table_counts(&base);

    let clean_lake = dir.path().join("clean");
    copy_tree(&base, &clean_lake);
    let started = Instant::now();
    let clean = ingest(&clean_lake, &[&inbox]);
    let took = started.elapsed();
    let after = table_counts(&clean_lake);
    assert!(clean.new > 0 && after != before);

    let mut cases: Vec<(String, Option<&str>, Duration)> = PAUSE_POINTS
        .iter()
        .map(|p| (format!("pause at {p}"), Some(*p), Duration::ZERO))
        .collect();
    for i in 1..=TIMED_KILLS {
        let delay = took.mul_f64(f64::from(i) / f64::from(TIMED_KILLS + 1));
        cases.push((format!("kill after {delay:?}"), None, delay));
    }
    assert!(cases.len() >= 23);

    let mut lakes = Vec::new();
    for (n, (name, fault, delay)) in cases.iter().enumerate() {
        let lake = dir.path().join(format!("killed-{n:02}"));
        copy_tree(&base, &lake);
        let mut child = spawn_ingest(&lake, &inbox, *fault);
        match fault {
            Some(fault) => wait_for_pause(&mut child, fault),
            None => std::thread::sleep(*delay),
        }
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        // A reader sees the lake before the run or after it, never half:
        // `posture sql` completes a committed run first, and ignores one
        // that was not.
        let seen = table_counts(&lake);
        assert!(
            seen == before || seen == after,
            "{name}: half a run is visible: {seen:?}"
        );
        // The rerun brings the lake to exactly the clean run's content.
        let rerun = ingest(&lake, &[&inbox]);
        assert_eq!(rerun.read, clean.read, "{name}");
        assert!(
            rerun.new == clean.new && rerun.duplicate == clean.duplicate
                || rerun.new == 0 && rerun.duplicate == clean.read - clean.quarantined,
            "{name}: {rerun:?} against {clean:?}"
        );
        assert_eq!(table_counts(&lake), after, "{name}");
        assert!(
            std::fs::read_dir(lake.join("_staging"))
                .unwrap()
                .next()
                .is_none(),
            "{name}: staging is cleaned up"
        );
        lakes.push(lake);
    }
    // An independent reader (DuckDB and pyarrow) reads every table of every
    // lake, and finds the same reports, policy and setting states as in
    // the clean lake: none lost, none doubled; and a dedup index that holds
    // each report's id once, and nothing else.
    lakes.push(clean_lake);
    let seen = digests(&lakes);
    let clean_digest = &seen[seen.len() - 1];
    let names = cases.iter().map(|c| c.0.as_str()).chain(["clean"]);
    for (digest, name) in seen.iter().zip(names) {
        assert_eq!(digest["data"], clean_digest["data"], "{name}");
        assert_eq!(digest["duplicates"], 0, "{name}");
        assert_index_matches(digest, name);
    }
}

/// A lake written before the dedup index existed gets one from its first
/// ingest, in that ingest's commit: killed while the index is written or
/// around the commit, the rerun ends with the clean run's lake and index.
#[test]
fn an_ingest_that_builds_the_index_killed_then_rerun_gives_the_clean_lake() {
    let dir = tempfile::tempdir().unwrap();
    let inbox = generated_inbox(dir.path(), 20);
    let base = dir.path().join("base");
    ingest(
        &base,
        &[&fixture("offsets.ndjson"), &fixture("dupes.ndjson")],
    );
    std::fs::remove_dir_all(base.join("_index")).unwrap();
    let before = table_counts(&base);
    let clean_lake = dir.path().join("clean");
    copy_tree(&base, &clean_lake);
    let clean = ingest(&clean_lake, &[&inbox]);
    let after = table_counts(&clean_lake);
    let points = [
        "mid-index-write#1",
        "mid-index-write#2",
        "before-commit-rename#1",
        "after-commit-rename#1",
        "mid-move#3",
    ];
    let mut lakes = Vec::new();
    for (n, fault) in points.iter().enumerate() {
        let lake = dir.path().join(format!("killed-{n}"));
        copy_tree(&base, &lake);
        let mut child = spawn_ingest(&lake, &inbox, Some(fault));
        wait_for_pause(&mut child, fault);
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        let seen = table_counts(&lake);
        assert!(seen == before || seen == after, "{fault}: {seen:?}");
        let rerun = ingest(&lake, &[&inbox]);
        assert!(
            rerun == clean || rerun.new == 0 && rerun.duplicate == clean.read - clean.quarantined,
            "{fault}: {rerun:?} against {clean:?}"
        );
        assert_eq!(table_counts(&lake), after, "{fault}");
        lakes.push(lake);
    }
    lakes.push(clean_lake);
    let seen = digests(&lakes);
    let clean_digest = &seen[seen.len() - 1];
    for (digest, name) in seen.iter().zip(points.iter().chain(&["clean"])) {
        assert_eq!(digest["data"], clean_digest["data"], "{name}");
        assert_eq!(digest["duplicates"], 0, "{name}");
        assert_index_matches(digest, name);
    }
}

/// The lake's dedup index holds exactly the `report_id`s of `reports`.
fn assert_index_matches(digest: &Value, name: &str) {
    let index = &digest["index"];
    let reports = &digest["data"]["reports"]["rows"];
    assert_eq!(&index["ids"], reports, "{name}: {index}");
    for key in ["twice", "missing", "extra"] {
        assert_eq!(index[key], 0, "{name}: {index}");
    }
}

/// Unmounts the tmpfs when the test ends, however it ends.
struct Mounted(PathBuf);

impl Drop for Mounted {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
    }
}

/// A full disk, for real where the machine lets us mount a small tmpfs (root
/// on Linux, as CI runs), and through the fault point otherwise: the run
/// fails with an error naming the file it could not write and a hint, and
/// the lake is exactly as it was, byte for byte.
#[test]
fn a_full_disk_fails_clearly_and_leaves_the_lake_as_it_was() {
    let dir = tempfile::tempdir().unwrap();
    let inbox = generated_inbox(dir.path(), 60);
    let mount = dir.path().join("disk");
    std::fs::create_dir_all(&mount).unwrap();
    let mounted = Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=4m", "tmpfs"])
        .arg(&mount)
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    let _guard = mounted.then(|| Mounted(mount.clone()));
    let lake = mount.join("lake");
    ingest(&lake, &[&fixture("offsets.ndjson"), &fixture("bad.ndjson")]);
    let before = lake_files(&lake);

    let mut command = posture();
    // Several threads whatever the machine: a writer that fails must stop
    // the readers and parsers too (a hang here was a bug).
    command
        .args([
            "ingest",
            "--threads",
            "2",
            "--batch-rows",
            BATCH_ROWS,
            "--lake",
        ])
        .arg(&lake)
        .arg(&inbox);
    if mounted {
        // Leave 48 KiB free: far less than the run needs.
        let filler = mount.join("filler");
        let o = Command::new("dd")
            .args(["if=/dev/zero", "bs=4096"])
            .arg(format!("of={}", filler.display()))
            .stderr(Stdio::null())
            .status()
            .unwrap();
        assert!(!o.success(), "dd stops at a full disk");
        let len = std::fs::metadata(&filler).unwrap().len();
        let file = std::fs::OpenOptions::new()
            .write(true)
            .open(&filler)
            .unwrap();
        file.set_len(len - 48 * 1024).unwrap();
    } else {
        eprintln!("note: cannot mount a tmpfs here; simulating the full disk with POSTURE_FAULT");
        command.env("POSTURE_FAULT", "mid-parquet-write#3:enospc");
    }
    let o = command.output().unwrap();
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    let first = err.lines().find(|l| l.starts_with("error: ")).unwrap();
    assert!(
        first.starts_with(&format!(
            "error: cannot write `{}/_staging/",
            lake.display()
        )) || first.starts_with(&format!(
            "error: cannot create `{}/_staging/",
            lake.display()
        )),
        "the error names the file: {err}"
    );
    assert!(first.contains("No space left on device"), "{err}");
    assert!(
        err.lines()
            .any(|l| l.starts_with("hint: the file system of the lake")
                && l.contains("nothing of this run was committed")),
        "{err}"
    );
    assert!(
        !err.contains("ingested: "),
        "no summary for a failed run: {err}"
    );
    assert_eq!(lake_files(&lake), before, "the lake is exactly as before");
    assert!(
        std::fs::read_dir(lake.join("_staging"))
            .unwrap()
            .next()
            .is_none(),
        "nothing is left staged"
    );
    // With the space back, the same ingest completes.
    if mounted {
        std::fs::remove_file(mount.join("filler")).unwrap();
    }
    let mut again = posture();
    again.args(["ingest", "--lake"]).arg(&lake).arg(&inbox);
    let o = again.output().unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let total = summary(&o);
    assert_eq!(total, counts(total.read, total.new, total.duplicate, 0));
    assert!(total.new > 0);
}

/// `posture run` (the nightly job) started in `root` on `inbox`, with the
/// lake and the reports folder under `root`.
fn spawn_run(root: &Path, inbox: &Path, fault: Option<&str>) -> Child {
    let mut command = posture();
    command
        .args(["run", "--lake"])
        .arg(root.join("lake"))
        .arg("--inbox")
        .arg(inbox)
        .arg("--reports")
        .arg(root.join("reports"))
        .stderr(Stdio::piped());
    if let Some(fault) = fault {
        command.env("POSTURE_FAULT", format!("{fault}:pause"));
    }
    command.spawn().unwrap()
}

/// The night's bundle is whole: `reports/latest` leads to it, `posture
/// verify` passes, and no half-written folder is left beside it.
fn assert_night_complete(root: &Path, name: &str) {
    let reports = root.join("reports");
    let latest = reports.join("latest");
    assert!(
        latest.join("index.html").is_file(),
        "{name}: no latest bundle"
    );
    let o = posture().arg("verify").arg(&latest).output().unwrap();
    assert!(o.status.success(), "{name}: {}", stderr(&o));
    let leftovers: Vec<String> = std::fs::read_dir(&reports)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('.') && !n.ends_with(".lock"))
        .collect();
    assert!(leftovers.is_empty(), "{name}: left behind {leftovers:?}");
}

/// The nightly job killed with SIGKILL inside its ingest (at the fault
/// points of the commit) and later, while it renders the bundle (timed),
/// then run again: the lake is exactly the clean night's and the bundle is
/// whole.
#[test]
fn posture_run_killed_then_rerun_finishes_the_night() {
    let dir = tempfile::tempdir().unwrap();
    let inbox = generated_inbox(dir.path(), 40);
    let clean = dir.path().join("clean");
    let started = Instant::now();
    let o = spawn_run(&clean, &inbox, None).wait_with_output().unwrap();
    let took = started.elapsed();
    assert!(o.status.success(), "{}", stderr(&o));
    assert_night_complete(&clean, "clean");
    let after = table_counts(&clean.join("lake"));

    let mut cases: Vec<(String, Option<&str>, Duration)> = [
        "mid-parquet-write#2",
        "before-commit-rename#1",
        "after-commit-rename#1",
        "mid-move#2",
    ]
    .iter()
    .map(|f| ((*f).to_owned(), Some(*f), Duration::ZERO))
    .collect();
    // The ingest is the first part of a night; the bundle the rest.
    for percent in [40, 60, 75, 90] {
        cases.push((
            format!("after {percent}% of a night"),
            None,
            took * percent / 100,
        ));
    }
    let mut lakes = Vec::new();
    for (i, (name, fault, delay)) in cases.iter().enumerate() {
        let root = dir.path().join(format!("night-{i}"));
        let mut child = spawn_run(&root, &inbox, *fault);
        match fault {
            Some(fault) => wait_for_pause(&mut child, fault),
            None => std::thread::sleep(*delay),
        }
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        let o = spawn_run(&root, &inbox, None).wait_with_output().unwrap();
        assert!(
            o.status.success(),
            "{name}: the rerun failed: {}",
            stderr(&o)
        );
        assert_eq!(table_counts(&root.join("lake")), after, "{name}");
        assert_night_complete(&root, name);
        lakes.push(root.join("lake"));
    }
    lakes.push(clean.join("lake"));
    let seen = digests(&lakes);
    let clean_digest = &seen[seen.len() - 1];
    for (digest, (name, _, _)) in seen.iter().zip(&cases) {
        assert_eq!(digest["data"], clean_digest["data"], "{name}");
        assert_eq!(digest["duplicates"], 0, "{name}");
        assert_index_matches(digest, name);
    }
}

/// `posture compact` killed with SIGKILL at its fault points (a merged file
/// half written, between partitions, around the commit rename, half the
/// merged files moved in, half the old ones deleted), then run again: the
/// lake is exactly the lake of a clean compaction, and a reader in between
/// sees every row once (the old files or the merged ones, never both or
/// neither).
#[test]
fn compact_killed_then_rerun_gives_exactly_the_clean_compacted_lake() {
    let dir = tempfile::tempdir().unwrap();
    let (base, _) = super::compact::many_file_lake(dir.path());
    let before = table_counts(&base);
    let compact = |lake: &Path| {
        let o = posture()
            .args(["compact", "--lake"])
            .arg(lake)
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", stderr(&o));
    };
    let parquet_count = |lake: &Path| {
        lake_files(lake)
            .iter()
            .filter(|(p, _)| p.extension().is_some_and(|e| e == "parquet"))
            .count()
    };
    let clean = dir.path().join("clean");
    copy_tree(&base, &clean);
    compact(&clean);
    let clean_files = parquet_count(&clean);
    assert!(clean_files < parquet_count(&base));

    let points = [
        "mid-parquet-write#2",
        "after-compact-partition#3",
        "before-commit-rename#1",
        "after-commit-rename#1",
        "mid-move#4",
        "mid-remove#5",
        "before-staging-removed#1",
    ];
    let mut lakes = Vec::new();
    for (n, fault) in points.iter().enumerate() {
        let lake = dir.path().join(format!("compact-killed-{n}"));
        copy_tree(&base, &lake);
        let mut child = posture()
            .args(["compact", "--lake"])
            .arg(&lake)
            .env("POSTURE_FAULT", format!("{fault}:pause"))
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        wait_for_pause(&mut child, fault);
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        assert_eq!(
            table_counts(&lake),
            before,
            "{fault}: a reader sees every row once"
        );
        compact(&lake);
        assert_eq!(table_counts(&lake), before, "{fault}");
        assert_eq!(parquet_count(&lake), clean_files, "{fault}");
        assert!(
            std::fs::read_dir(lake.join("_staging"))
                .unwrap()
                .next()
                .is_none(),
            "{fault}: staging is cleaned up"
        );
        lakes.push(lake);
    }
    lakes.push(clean);
    let seen = digests(&lakes);
    let clean_digest = &seen[seen.len() - 1];
    for (digest, fault) in seen.iter().zip(points) {
        assert_eq!(digest["data"], clean_digest["data"], "{fault}");
        assert_eq!(digest["duplicates"], 0, "{fault}");
    }
}
