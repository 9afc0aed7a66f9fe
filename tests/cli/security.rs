//! No one let in (issue 7): analysts' SQL reads the lake's tables and
//! nothing else, writes nothing, and is bounded in memory and time; a
//! tampered bundle fails `verify` however it was tampered with. (HTML
//! escaping and CSV neutralisation are tested in `report.rs`:
//! `chromium_opens_the_report_offline_and_runs_nothing_from_the_data`,
//! `every_policy_and_device_has_its_page`.)

use std::path::Path;
use std::process::{Output, Stdio};

use super::{fixture, ingest, lake_files, lake_in, posture, run, stderr};

fn sql_with(lake: &Path, args: &[&str], query: &str) -> Output {
    posture()
        .args(["sql", "--lake"])
        .arg(lake)
        .args(args)
        .arg(query)
        .output()
        .unwrap()
}

#[test]
fn sql_reads_no_file_outside_the_lake_and_writes_none() {
    let dir = tempfile::tempdir().unwrap();
    let lake = lake_in(&dir);
    ingest(&lake, &[&fixture("offsets.ndjson")]);
    let before = lake_files(&lake);
    let outside = dir.path().join("outside.csv");
    std::fs::write(&outside, "secret\nroot:x:0:0\n").unwrap();
    let target = dir.path().join("written.csv");
    let o = outside.display();
    let t = target.display();
    let reads = [
        format!("SELECT * FROM '{o}'"),
        format!("SELECT * FROM 'file://{o}'"),
        format!("SELECT * FROM (SELECT * FROM '{o}') AS sub"),
        format!("WITH t AS (SELECT * FROM '{o}') SELECT * FROM t"),
        format!("SELECT count(*) FROM reports WHERE report_id IN (SELECT * FROM '{o}')"),
        format!("EXPLAIN SELECT * FROM '{o}'"),
        format!("SELECT * FROM read_csv('{o}')"),
        format!("SELECT * FROM \"{o}\""),
        "SELECT * FROM '/etc/passwd'".to_owned(),
        "SELECT * FROM \"../../../../etc/passwd\"".to_owned(),
    ];
    for query in &reads {
        let out = sql_with(&lake, &["--format", "csv"], query);
        assert_eq!(out.status.code(), Some(1), "{query} was not refused");
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            !text.contains("secret") && !text.contains("root:"),
            "{query}: {text}"
        );
        assert!(
            stderr(&out).starts_with("error: "),
            "{query}: {}",
            stderr(&out)
        );
    }
    let writes = [
        format!("COPY (SELECT 1) TO '{t}'"),
        format!("COPY reports TO '{t}' STORED AS CSV"),
        format!("EXPLAIN COPY (SELECT 1) TO '{t}'"),
        format!("EXPLAIN ANALYZE COPY (SELECT 1) TO '{t}'"),
        format!("CREATE EXTERNAL TABLE x STORED AS CSV LOCATION '{o}'"),
        format!("CREATE EXTERNAL TABLE x (a INT) STORED AS CSV LOCATION '{t}'"),
        "CREATE VIEW v AS SELECT 1".to_owned(),
        "CREATE TABLE t AS SELECT * FROM reports".to_owned(),
        "INSERT INTO reports SELECT * FROM reports".to_owned(),
        "DROP TABLE reports".to_owned(),
        "SET datafusion.execution.target_partitions = 1".to_owned(),
        "SET datafusion.runtime.memory_limit = '100G'".to_owned(),
        "RESET datafusion.runtime.memory_limit".to_owned(),
        format!("SELECT 1; COPY (SELECT 1) TO '{t}'"),
    ];
    for query in &writes {
        let out = sql_with(&lake, &[], query);
        assert_eq!(out.status.code(), Some(1), "{query} was not refused");
        assert!(
            stderr(&out).starts_with("error: "),
            "{query}: {}",
            stderr(&out)
        );
    }
    assert!(!target.exists(), "nothing was written outside the lake");
    assert_eq!(lake_files(&lake), before, "nor inside it");
}

#[test]
fn a_query_past_its_memory_limit_fails_with_a_hint() {
    let dir = tempfile::tempdir().unwrap();
    let lake = lake_in(&dir);
    ingest(&lake, &[&fixture("offsets.ndjson")]);
    // Five million groups need far more than 8 MiB.
    let query = "SELECT v % 5000000 AS g, count(*) FROM generate_series(1, 10000000) AS t(v) GROUP BY g ORDER BY g";
    let o = sql_with(&lake, &["--memory-limit", "8MiB", "--format", "csv"], query);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(
        err.starts_with(
            "error: the query needs more memory than its limit of 8 MiB (--memory-limit): "
        ),
        "{err}"
    );
    assert!(
        err.lines()
            .any(|l| l.starts_with("hint: ") && l.contains("--memory-limit SIZE")),
        "{err}"
    );
    // The same flag with room enough runs a small query.
    let o = sql_with(
        &lake,
        &["--memory-limit", "64MiB"],
        "SELECT count(*) FROM reports",
    );
    assert!(o.status.success(), "{}", stderr(&o));
}

#[test]
fn a_query_past_its_time_limit_is_stopped_with_a_hint() {
    let dir = tempfile::tempdir().unwrap();
    let lake = lake_in(&dir);
    ingest(&lake, &[&fixture("offsets.ndjson")]);
    // A trillion rows, in constant memory: only the time limit stops it.
    let query = "SELECT count(*) FROM generate_series(1, 1000000000000)";
    let o = sql_with(&lake, &["--timeout", "1"], query);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert_eq!(
        stderr(&o),
        "error: the query was stopped after 1 s (--timeout)\n\
         hint: narrow it (a WHERE on `date`, fewer joins), or give it more time with --timeout SECONDS\n"
    );
    let o = run(&[
        "sql",
        "--lake",
        lake.to_str().unwrap(),
        "--timeout",
        "0",
        "SELECT 1",
    ]);
    assert_eq!(
        o.status.code(),
        Some(2),
        "a zero timeout is refused by the parser"
    );
}

#[test]
fn a_tampered_bundle_fails_verify_however_it_was_tampered() {
    let dir = tempfile::tempdir().unwrap();
    let lake = lake_in(&dir);
    ingest(&lake, &[&fixture("offsets.ndjson")]);
    let out = dir.path().join("bundle");
    let o = posture()
        .args(["report", "--lake"])
        .arg(&lake)
        .arg("--out")
        .arg(&out)
        .stdout(Stdio::null())
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let bundle = out.to_str().unwrap();
    let verify = || run(&["verify", bundle]);
    assert!(verify().status.success());
    let manifest_path = out.join("manifest.json");
    let manifest = std::fs::read_to_string(&manifest_path).unwrap();

    // A file swapped for a symbolic link to a copy of itself: same bytes,
    // but a bundle holds regular files only.
    let csv = out.join("csv/stale_devices.csv");
    let copy = dir.path().join("copy.csv");
    std::fs::copy(&csv, &copy).unwrap();
    std::fs::remove_file(&csv).unwrap();
    std::os::unix::fs::symlink(&copy, &csv).unwrap();
    let o = verify();
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).starts_with("changed: `csv/stale_devices.csv`\n"),
        "{}",
        stderr(&o)
    );
    std::fs::remove_file(&csv).unwrap();
    std::fs::copy(&copy, &csv).unwrap();
    assert!(verify().status.success());

    // The manifest edited: a file's checksum, or a query's SQL.
    let files_at = manifest.find("\"files\": [").unwrap();
    let (head, files) = manifest.split_at(files_at);
    let edited = format!(
        "{head}{}",
        files.replacen("\"sha256\": \"", "\"sha256\": \"0", 1)
    );
    std::fs::write(&manifest_path, &edited).unwrap();
    let o = verify();
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).starts_with("changed: `"), "{}", stderr(&o));
    let edited = manifest.replacen("SELECT", "SELECT 1 AS injected,", 1);
    std::fs::write(&manifest_path, &edited).unwrap();
    let o = verify();
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).starts_with("changed: `manifest.json (the SQL of `"),
        "{}",
        stderr(&o)
    );

    // A manifest that points outside the bundle is refused before any
    // file is read.
    let escape = format!(
        "{head}{}",
        files.replacen("\"path\": \"", "\"path\": \"../", 1)
    );
    std::fs::write(&manifest_path, &escape).unwrap();
    let o = verify();
    assert_eq!(o.status.code(), Some(1));
    let err = stderr(&o);
    assert!(
        err.starts_with(&format!(
            "error: `{}` is not a posture manifest: it names `../",
            manifest_path.display()
        )) && err.contains("a path outside the bundle"),
        "{err}"
    );

    // A manifest that is not JSON, or not a manifest.
    for broken in ["", "{", "[]", "{\"files\": 3}"] {
        std::fs::write(&manifest_path, broken).unwrap();
        let o = verify();
        assert_eq!(o.status.code(), Some(1), "{broken}");
        assert!(
            stderr(&o).contains("is not a posture manifest"),
            "{broken}: {}",
            stderr(&o)
        );
    }
    std::fs::remove_file(&manifest_path).unwrap();
    let o = verify();
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).starts_with("error: cannot read `"),
        "{}",
        stderr(&o)
    );
}
