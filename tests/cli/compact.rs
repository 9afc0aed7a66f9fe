//! `posture compact` (issue 8): a lake built by several ingests, merged
//! partition by partition, answers every named query byte for byte as
//! before, holds fewer files, and still recognises duplicates.

use std::path::{Path, PathBuf};
use std::process::Output;

use super::{
    column, generated_inbox, ingest, lake_files, load_exceptions, named_queries, posture, stderr,
    table_counts,
};

/// Every named query's CSV (`--days 7` for those that span days), with
/// `extra` arguments.
fn every_query_csv(lake: &Path, extra: &[&str]) -> Vec<(String, String)> {
    queries_csv(lake, &named_queries(), extra)
}

/// Some named queries' CSV, the processes side by side.
fn queries_csv(lake: &Path, names: &[String], extra: &[&str]) -> Vec<(String, String)> {
    let children: Vec<(String, std::process::Child)> = names
        .iter()
        .map(|name| {
            let child = posture()
                .args(["query", "--format", "csv", "--days", "7", "--lake"])
                .arg(lake)
                .arg(name)
                .args(extra)
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap();
            (name.clone(), child)
        })
        .collect();
    children
        .into_iter()
        .map(|(name, child)| {
            let o = child.wait_with_output().unwrap();
            assert!(o.status.success(), "{name}: {}", stderr(&o));
            (name, String::from_utf8(o.stdout).unwrap())
        })
        .collect()
}

/// The snapshot queries and the trend, as of a day in the middle of the
/// generated history.
fn snapshot_queries_csv(lake: &Path, as_of: &str) -> Vec<(String, String)> {
    let names = [
        "compliance_by_policy",
        "stale_devices",
        "compliance_trend",
        "changes",
        "device_detail",
    ]
    .map(str::to_owned);
    queries_csv(lake, &names, &["--as-of", as_of])
}

/// The Parquet files of the lake's tables (the daily snapshot and the dedup
/// index apart).
fn parquet_files(lake: &Path) -> Vec<PathBuf> {
    lake_files(lake)
        .into_iter()
        .map(|(p, _)| p)
        .filter(|p| p.extension().is_some_and(|e| e == "parquet"))
        .filter(|p| {
            // The snapshot, and the dedup index (`_index/`), which a
            // compaction leaves alone, are not what it merges.
            let relative = p.strip_prefix(lake).unwrap().to_string_lossy();
            !relative.starts_with("daily_")
                && !relative.starts_with("asof_")
                && !relative.starts_with('_')
        })
        .collect()
}

/// Rows of `table` in the partition of `day`.
fn rows_of_day(lake: &Path, table: &str, day: &str) -> u64 {
    column(
        lake,
        &format!("SELECT count(*) AS n FROM {table} WHERE date = '{day}'"),
    )[0]
    .parse()
    .unwrap()
}

/// A report that arrives late for `day`: a copy of one of the fleet's
/// reports, at the day's last second, with its first policy failing.
fn late_report(inbox_file: &Path, day: &str, out: &Path) {
    let text = std::fs::read_to_string(inbox_file).unwrap();
    let mut report: serde_json::Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
    report["report_id"] = format!("late-report-{day}").into();
    report["observed_at"] = format!("{day}T23:59:59Z").into();
    report["policies"][0]["state"] = "Error".into();
    std::fs::write(out, format!("{report}\n")).unwrap();
}

fn compact(lake: &Path, args: &[&str]) -> Output {
    let o = posture()
        .args(["compact", "--lake"])
        .arg(lake)
        .args(args)
        .output()
        .unwrap();
    assert!(o.status.success(), "compact failed: {}", stderr(&o));
    o
}

/// A lake of several ingests: a generated fleet one collector at a time
/// (so each day has a file per collector), vendor exports, and two loads
/// of exceptions on one day.
pub(crate) fn many_file_lake(dir: &Path) -> (PathBuf, PathBuf) {
    let inbox = generated_inbox(dir, 30);
    let lake = dir.join("lake");
    let mut collectors: Vec<PathBuf> = std::fs::read_dir(&inbox)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    collectors.sort();
    assert!(collectors.len() >= 3);
    for c in &collectors {
        ingest(&lake, &[c]);
    }
    (lake, collectors[0].clone())
}

#[test]
fn compact_merges_partitions_and_every_query_reads_the_same() {
    let dir = tempfile::tempdir().unwrap();
    let (lake, first_collector) = many_file_lake(dir.path());
    let vendor = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/exports");
    ingest(&lake, &[&vendor]);
    let exceptions =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/history/exceptions.csv");
    for _ in 0..2 {
        let o = load_exceptions(&lake, &exceptions);
        assert!(o.status.success(), "{}", stderr(&o));
    }
    let counts = table_counts(&lake);
    let before = every_query_csv(&lake, &[]);
    let before_mid = snapshot_queries_csv(&lake, "2026-11-04");
    assert!(before.iter().any(|(_, csv)| csv.lines().count() > 3));
    let files_before = parquet_files(&lake);

    // A dry run changes nothing.
    let lake_before = lake_files(&lake);
    let o = compact(&lake, &["--dry-run"]);
    assert!(
        stderr(&o).contains("would compact reports/date="),
        "{}",
        stderr(&o)
    );
    assert_eq!(lake_files(&lake), lake_before);

    let o = compact(&lake, &[]);
    let err = stderr(&o);
    let line = err
        .lines()
        .find(|l| l.starts_with("compacted: "))
        .unwrap_or_else(|| panic!("no summary line: {err}"));
    // The as-of snapshot of the newest day, built from every raw file.
    let newest = column(&lake, "SELECT max(date) AS d FROM reports")[0].clone();
    assert!(line.ends_with(&format!(" as_of={newest}")), "{line}");
    let sidecar = std::fs::read_to_string(lake.join("asof_reports/_built_from")).unwrap();
    assert!(
        sidecar.starts_with(&format!("as of {newest}\n")),
        "{sidecar}"
    );
    assert!(
        sidecar.contains("setting_states/date=2026-11-01/"),
        "{sidecar}"
    );
    let files_after = parquet_files(&lake);
    assert!(
        line.contains(&format!(
            "files={}->{} ",
            files_before.len(),
            files_after.len()
        )),
        "{line}"
    );
    assert!(files_after.len() < files_before.len() / 2, "{line}");
    // One file per partition, for every table (exceptions included).
    let mut partitions: Vec<&Path> = files_after.iter().map(|f| f.parent().unwrap()).collect();
    let n = partitions.len();
    partitions.dedup();
    assert_eq!(partitions.len(), n, "a partition holds two files");
    assert!(
        files_after
            .iter()
            .any(|f| f.starts_with(lake.join("exceptions"))),
    );
    assert!(
        std::fs::read_dir(lake.join("_staging"))
            .unwrap()
            .next()
            .is_none()
    );

    assert_eq!(table_counts(&lake), counts);
    for (b, a) in before.iter().zip(every_query_csv(&lake, &[])) {
        assert_eq!(b.1, a.1, "{} differs after compact", b.0);
    }
    for (b, a) in before_mid
        .iter()
        .zip(snapshot_queries_csv(&lake, "2026-11-04"))
    {
        assert_eq!(b.1, a.1, "{} --as-of differs after compact", b.0);
    }

    // The snapshot is what the day-end views read: a subset of the reports.
    assert!(
        rows_of_day(&lake, "day_end_reports", "2026-11-03")
            < rows_of_day(&lake, "reports", "2026-11-03")
    );

    // Again: nothing to do, nothing changes.
    let compacted = lake_files(&lake);
    let o = compact(&lake, &[]);
    assert!(stderr(&o).contains("nothing to compact"), "{}", stderr(&o));
    assert_eq!(lake_files(&lake), compacted);

    // A later ingest still knows every report it has.
    let again = ingest(&lake, &[&first_collector]);
    assert_eq!((again.new, again.duplicate), (0, again.read));
    assert_eq!(table_counts(&lake), counts);
    assert_eq!(
        column(
            &lake,
            "SELECT count(*) - count(DISTINCT report_id) AS d FROM reports"
        ),
        ["0"]
    );

    // A report that arrives late for a day already in the snapshot: the
    // stale snapshot of that day is ignored, so the late report counts, and
    // every query reads as if there were no snapshot at all.
    let some_file = std::fs::read_dir(&first_collector)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let late = dir.path().join("late.ndjson");
    late_report(&some_file, "2026-11-03", &late);
    assert_eq!(ingest(&lake, &[&late]).new, 1);
    assert_eq!(
        rows_of_day(&lake, "day_end_reports", "2026-11-03"),
        rows_of_day(&lake, "reports", "2026-11-03")
    );
    let without = dir.path().join("without-snapshot");
    super::crash::copy_tree(&lake, &without);
    remove_snapshots(&without);
    let late_seen = snapshot_queries_csv(&lake, "2026-11-03");
    assert_eq!(late_seen, snapshot_queries_csv(&without, "2026-11-03"));
    assert!(
        late_seen
            .iter()
            .any(|(_, csv)| csv.contains("2026-11-03T23:59:59Z,false,noncompliant")),
        "the late report is the device's latest on its day"
    );
    // The next compaction rebuilds that day's snapshot, and only that one.
    let o = compact(&lake, &[]);
    assert!(stderr(&o).contains(" snapshots=1"), "{}", stderr(&o));
    assert!(
        rows_of_day(&lake, "day_end_reports", "2026-11-03")
            < rows_of_day(&lake, "reports", "2026-11-03")
    );
    assert_eq!(late_seen, snapshot_queries_csv(&lake, "2026-11-03"));

    // A report that arrives late for the newest day: the as-of snapshot of
    // that day no longer names every raw file, so the queries of that day
    // read around it and see the late report; the next compaction rebuilds
    // it, and the answers stay.
    let o = compact(&lake, &[]);
    assert!(stderr(&o).contains("nothing to compact"), "{}", stderr(&o));
    let late = dir.path().join("late-newest.ndjson");
    late_report(&some_file, &newest, &late);
    assert_eq!(ingest(&lake, &[&late]).new, 1);
    let without = dir.path().join("without-snapshots-newest");
    super::crash::copy_tree(&lake, &without);
    remove_snapshots(&without);
    let names = ["compliance_by_policy", "policy_devices", "device_detail"].map(str::to_owned);
    let late_seen = queries_csv(&lake, &names, &[]);
    assert_eq!(late_seen, queries_csv(&without, &names, &[]));
    assert!(
        late_seen
            .iter()
            .any(|(_, csv)| csv.contains(&format!("{newest}T23:59:59Z,false,noncompliant"))),
        "the late report is the device's latest"
    );
    let o = compact(&lake, &[]);
    assert!(
        stderr(&o).contains(&format!(" as_of={newest}")),
        "{}",
        stderr(&o)
    );
    assert_eq!(late_seen, queries_csv(&lake, &names, &[]));

    // An analyst's snapshot views read the as-of snapshot too, with the
    // same rows as without it; the `day_end_*` tables and
    // `last_reports_of_day` are whole (each day's, from the daily snapshot).
    let only_daily = dir.path().join("without-as-of");
    super::crash::copy_tree(&lake, &only_daily);
    for table in ["asof_reports", "asof_policy_states", "asof_setting_states"] {
        std::fs::remove_dir_all(only_daily.join(table)).unwrap();
    }
    for sql in [
        "SELECT device_id || ',' || report_id || ',' || os_platform || ',' || CAST(stale AS VARCHAR) \
         AS r FROM latest_reports ORDER BY r",
        "SELECT device_id || ',' || policy_id || ',' || state AS r FROM current_policy_states ORDER BY r",
        "SELECT device_id || ',' || compliance AS r FROM device_status ORDER BY r",
        "SELECT CAST(count(*) AS VARCHAR) || ',' || CAST(count(DISTINCT date) AS VARCHAR) AS r \
         FROM day_end_reports",
        "SELECT CAST(count(*) AS VARCHAR) AS r FROM last_reports_of_day",
    ] {
        assert_eq!(column(&lake, sql), column(&only_daily, sql), "{sql}");
    }
}

/// Removes the daily and as-of snapshots of a lake (a copy), leaving the
/// raw tables every answer must agree with.
fn remove_snapshots(lake: &Path) {
    for table in [
        "daily_reports",
        "daily_policy_states",
        "daily_setting_states",
        "asof_reports",
        "asof_policy_states",
        "asof_setting_states",
    ] {
        if lake.join(table).exists() {
            std::fs::remove_dir_all(lake.join(table)).unwrap();
        }
    }
}

#[test]
fn compact_of_a_folder_that_is_not_a_lake_fails_with_a_hint() {
    let dir = tempfile::tempdir().unwrap();
    let o = posture()
        .args(["compact", "--lake"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    let err = stderr(&o);
    assert!(
        err.contains("is not a lake") && err.contains("hint: "),
        "{err}"
    );
}
