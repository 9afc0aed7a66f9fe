//! Issue 17: the ingest on several threads writes the same lake as on one,
//! and dedups over the whole lake through its index: a `report_id` sent
//! again on another day is a duplicate, in the same run or a later one, and
//! a lake written before the index existed gets one on its next ingest.

use std::fs::File;
use std::path::{Path, PathBuf};

use datafusion::arrow::array::RecordBatch;
use datafusion::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

use super::{column, count, counts, fixture, generated_inbox, ingest, posture, stderr, summary};

/// One agent report, as a collector sends it.
fn report(id: &str, observed_at: &str, state: &str) -> String {
    format!(
        r#"{{"report_id":"{id}","tenant_id":"t","observed_at":"{observed_at}","device":{{"device_id":"dev-1","name":"d","os_platform":"Linux","managed_by":"MDE"}},"policies":[{{"policy_id":"p","name":"n","type":"Antivirus","state":"{state}"}}]}}"#
    )
}

fn write(path: &Path, lines: &[String]) -> PathBuf {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, lines.join("\n") + "\n").unwrap();
    path.to_path_buf()
}

fn ingest_with(lake: &Path, paths: &[&Path], args: &[&str]) -> super::Counts {
    let o = posture()
        .arg("ingest")
        .args(args)
        .arg("--lake")
        .arg(lake)
        .args(paths)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    summary(&o)
}

#[test]
fn the_same_report_id_on_two_days_across_two_runs_is_one_report_and_one_duplicate() {
    let dir = tempfile::tempdir().unwrap();
    let lake = dir.path().join("lake");
    let first = write(
        &dir.path().join("a.ndjson"),
        &[report("r-1", "2026-11-20T10:00:00Z", "Succeeded")],
    );
    // Re-sent with a clock moved by two days: another date partition.
    let again = write(
        &dir.path().join("b.ndjson"),
        &[report("r-1", "2026-11-22T10:00:00Z", "Error")],
    );
    assert_eq!(ingest(&lake, &[&first]), counts(1, 1, 0, 0));
    assert_eq!(ingest(&lake, &[&again]), counts(1, 0, 1, 0));
    assert_eq!(count(&lake, "reports"), 1);
    // The first delivery is the one kept.
    assert_eq!(
        column(&lake, "SELECT CAST(date AS VARCHAR) FROM reports"),
        ["2026-11-20"]
    );
    assert_eq!(
        column(&lake, "SELECT state FROM policy_states"),
        ["Succeeded"]
    );
    // And within one run: the first in input order wins.
    let other = dir.path().join("other");
    let both = write(
        &dir.path().join("both.ndjson"),
        &[
            report("r-2", "2026-11-23T10:00:00Z", "Error"),
            report("r-2", "2026-11-21T10:00:00Z", "Succeeded"),
        ],
    );
    assert_eq!(ingest(&other, &[&both]), counts(2, 1, 1, 0));
    assert_eq!(
        column(&other, "SELECT CAST(date AS VARCHAR) FROM reports"),
        ["2026-11-23"]
    );
}

/// Every Parquet file under `dir`, by its path relative to `dir` with the
/// run's id taken out of the name (the only part of a name that differs
/// between two runs).
fn parquet_files(dir: &Path) -> Vec<(String, PathBuf)> {
    let mut files = Vec::new();
    let mut dirs = vec![dir.to_path_buf()];
    while let Some(d) = dirs.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "parquet") {
                let relative = path
                    .strip_prefix(dir)
                    .unwrap()
                    .to_string_lossy()
                    .into_owned();
                // part-<run>-00003.parquet, part-<run>-00003-settings.parquet,
                // run-<run>-00001.parquet; a run id is `<time>-<pid>`.
                let (folder, name) = relative.rsplit_once('/').unwrap();
                let (kind, rest) = name.split_once('-').unwrap();
                let tail = rest.splitn(3, '-').nth(2).unwrap();
                files.push((format!("{folder}/{kind}-RUN-{tail}"), path));
            }
        }
    }
    files.sort();
    files
}

/// A Parquet file's rows, without the columns that say when and by which
/// run it was written, and the number of rows of each row group.
fn rows_of(path: &Path) -> (Vec<RecordBatch>, Vec<i64>) {
    let builder = ParquetRecordBatchReaderBuilder::try_new(File::open(path).unwrap()).unwrap();
    let groups = builder
        .metadata()
        .row_groups()
        .iter()
        .map(|g| g.num_rows())
        .collect();
    let batches = builder
        .build()
        .unwrap()
        .map(|batch| {
            let mut batch = batch.unwrap();
            for name in ["ingested_at", "run_id"] {
                if let Ok(i) = batch.schema().index_of(name) {
                    batch.remove_column(i);
                }
            }
            batch
        })
        .collect();
    (batches, groups)
}

#[test]
fn parallel_and_single_threaded_ingests_write_the_same_tables() {
    let dir = tempfile::tempdir().unwrap();
    let inbox = generated_inbox(dir.path(), 30);
    // Beside the fleet: duplicates, quarantined reports, an array, gzip and
    // vendor exports, so that every kind of row crosses the threads.
    for name in [
        "offsets.ndjson",
        "dupes.ndjson",
        "bad.ndjson",
        "array.json",
        "gzipped.ndjson.gz",
    ] {
        std::fs::copy(fixture(name), inbox.join(name)).unwrap();
    }
    // Every export fixture: reports made from Intune statuses, each vendor
    // table's rows, and per-setting rows filed under the statuses (read
    // last, filed by the collecting thread).
    let exports = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/exports");
    for entry in std::fs::read_dir(&exports).unwrap() {
        let path = entry.unwrap().path();
        std::fs::copy(&path, inbox.join(path.file_name().unwrap())).unwrap();
    }
    let one = dir.path().join("one");
    let many = dir.path().join("many");
    // Small batches: many flushes, each cut at the same report or not.
    let batch = ["--batch-rows", "2500"];
    let a = ingest_with(&one, &[&inbox], &[&batch[..], &["--threads", "1"]].concat());
    let b = ingest_with(
        &many,
        &[&inbox],
        &[&batch[..], &["--threads", "3"]].concat(),
    );
    assert_eq!(a, b);
    assert!(a.new > 300 && a.duplicate > 0 && a.quarantined > 0, "{a:?}");
    let (files_one, files_many) = (parquet_files(&one), parquet_files(&many));
    let names = |files: &[(String, PathBuf)]| files.iter().map(|f| f.0.clone()).collect::<Vec<_>>();
    assert_eq!(names(&files_one), names(&files_many));
    assert!(
        files_one
            .iter()
            .filter(|f| f.0.starts_with("setting_states/"))
            .count()
            > 7,
        "several batches per day: {:?}",
        names(&files_one)
    );
    // The per-setting rows were filed (7 of the fixtures' 8), beside the
    // reports' own setting rows.
    let filed: usize = files_one
        .iter()
        .filter(|f| f.0.starts_with("setting_states/") && f.0.ends_with("-settings.parquet"))
        .map(|f| rows_of(&f.1).0.iter().map(|b| b.num_rows()).sum::<usize>())
        .sum();
    assert_eq!(filed, 7, "{:?}", names(&files_one));
    for ((name, a), (_, b)) in files_one.iter().zip(&files_many) {
        assert_eq!(rows_of(a), rows_of(b), "{name}");
    }
}

#[test]
fn a_lake_without_an_index_gets_one_and_dedups_across_days_again() {
    let dir = tempfile::tempdir().unwrap();
    let lake = dir.path().join("lake");
    let day1 = write(
        &dir.path().join("d1.ndjson"),
        &[
            report("r-1", "2026-11-20T10:00:00Z", "Succeeded"),
            report("r-2", "2026-11-20T11:00:00Z", "Succeeded"),
        ],
    );
    assert_eq!(ingest(&lake, &[&day1]), counts(2, 2, 0, 0));
    // A lake as an older posture left it: a report stored twice (the bug of
    // issue 17, on two days) and no index.
    let older = dir.path().join("older");
    let day2 = write(
        &dir.path().join("d2.ndjson"),
        &[report("r-1", "2026-11-21T10:00:00Z", "Error")],
    );
    assert_eq!(ingest(&older, &[&day2]), counts(1, 1, 0, 0));
    super::crash::copy_tree(&older.join("reports"), &lake.join("reports"));
    std::fs::remove_dir_all(lake.join("_index")).unwrap();
    assert_eq!(count(&lake, "reports"), 3);

    let day3 = write(
        &dir.path().join("d3.ndjson"),
        &[
            report("r-1", "2026-11-22T10:00:00Z", "Error"),
            report("r-2", "2026-11-22T10:00:00Z", "Error"),
            report("r-3", "2026-11-22T10:00:00Z", "Error"),
        ],
    );
    let o = posture()
        .args(["ingest", "--lake"])
        .arg(&lake)
        .arg(&day3)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("indexing: building the dedup index of"),
        "{}",
        stderr(&o)
    );
    assert_eq!(summary(&o), counts(3, 1, 2, 0));
    assert!(lake.join("_index/FORMAT").is_file());
    // The index it built is used from then on: nothing is rebuilt.
    let o = posture()
        .args(["ingest", "--lake"])
        .arg(&lake)
        .arg(&day1)
        .arg(&day2)
        .arg(&day3)
        .output()
        .unwrap();
    assert!(!stderr(&o).contains("indexing:"), "{}", stderr(&o));
    assert_eq!(summary(&o), counts(6, 0, 6, 0));
}

#[test]
fn a_damaged_index_names_its_file_and_says_how_to_rebuild_it() {
    let dir = tempfile::tempdir().unwrap();
    let lake = dir.path().join("lake");
    let day1 = write(
        &dir.path().join("d1.ndjson"),
        &[report("r-1", "2026-11-20T10:00:00Z", "Succeeded")],
    );
    assert_eq!(ingest(&lake, &[&day1]), counts(1, 1, 0, 0));
    let runs: Vec<PathBuf> = std::fs::read_dir(lake.join("_index/reports"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(runs.len(), 1);
    std::fs::write(&runs[0], b"not parquet").unwrap();
    let o = posture()
        .args(["ingest", "--lake"])
        .arg(&lake)
        .arg(&day1)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    let err = stderr(&o);
    assert!(
        err.starts_with(&format!(
            "error: cannot read the dedup index run `{}`",
            runs[0].display()
        )),
        "{err}"
    );
    assert!(
        err.contains(&format!(
            "\nhint: the index is derived from the tables: remove the folder `{}` and the next \
             ingest rebuilds it\n",
            lake.join("_index").display()
        )),
        "{err}"
    );
    std::fs::remove_dir_all(lake.join("_index")).unwrap();
    assert_eq!(ingest(&lake, &[&day1]), counts(1, 0, 1, 0));
}

/// The index covers every table deduplicated by id: the reports made from
/// Intune statuses, the per-setting rows filed in `setting_states` (beside
/// agent reports' setting rows, whose `row_id` is NULL) and every vendor
/// table, `secure_configurations` and `intune_devices` included; rebuilt
/// from the tables, it finds the same duplicates.
#[test]
fn an_index_rebuilt_from_the_tables_holds_every_export_row_id() {
    let dir = tempfile::tempdir().unwrap();
    let exports = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/exports");
    let agent = fixture("offsets.ndjson");
    let lake = super::exports::export_lake(&dir);
    let first = ingest(&lake, &[&agent]);
    assert!(first.new > 0 && first.duplicate == 0, "{first:?}");
    assert!(
        count(&lake, "setting_states") > 7,
        "agent rows beside the filed ones"
    );
    let tables = [
        "reports",
        "setting_states",
        "antivirus_health",
        "firewall_status",
        "device_inventory",
        "secure_configurations",
        "intune_devices",
    ];
    let runs = |lake: &Path| -> Vec<usize> {
        tables
            .iter()
            .map(|t| std::fs::read_dir(lake.join("_index").join(t)).map_or(0, |d| d.count()))
            .collect()
    };
    assert!(runs(&lake).iter().all(|n| *n > 0), "{:?}", runs(&lake));
    std::fs::remove_dir_all(lake.join("_index")).unwrap();
    let o = posture()
        .args(["ingest", "--lake"])
        .arg(&lake)
        .arg(&exports)
        .arg(&agent)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("indexing: building the dedup index of"),
        "{}",
        stderr(&o)
    );
    // Every row of both is a duplicate; only what was quarantined before is
    // quarantined again.
    assert_eq!(
        summary(&o),
        counts(62 + first.read, 0, 56 + first.new, 6 + first.quarantined)
    );
    assert!(runs(&lake).iter().all(|n| *n > 0), "{:?}", runs(&lake));
}
