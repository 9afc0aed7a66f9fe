//! End-to-end tests: the real `posture` binary on the hand-written fixtures
//! of `tests/fixtures/`, read back through `posture sql` (and, in
//! `independent_reader`, by DuckDB and pyarrow). This file holds the shared
//! helpers and the ingest tests; `queries.rs` the named queries',
//! `report.rs` the bundle's; `crash.rs`, `hostile.rs` and `security.rs`
//! the hardening of issue 7 (kills, full disk, hostile input, SQL bounds).

mod changes;
#[cfg(feature = "ballista")]
mod cluster;
#[cfg(feature = "collect")]
mod collect;
mod compact;
mod crash;
mod exports;
mod fuzz;
mod hostile;
mod ingest;
mod nightly;
mod notebooks;
mod queries;
mod report;
#[cfg(feature = "s3")]
mod s3;
mod security;
mod shell;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::Value;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/reports")
        .join(name)
}

fn posture() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_posture"));
    c.env_remove("SOURCE_DATE_EPOCH");
    c
}

fn run(args: &[&str]) -> Output {
    posture().args(args).output().expect("posture runs")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// The counts of the contract's summary line: read, new, duplicate, quarantined.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Counts {
    read: u64,
    new: u64,
    duplicate: u64,
    quarantined: u64,
}

fn counts(read: u64, new: u64, duplicate: u64, quarantined: u64) -> Counts {
    Counts {
        read,
        new,
        duplicate,
        quarantined,
    }
}

/// Parses the summary line, and checks that it adds up: R = N + D + Q.
fn summary(o: &Output) -> Counts {
    let err = stderr(o);
    let line = err
        .lines()
        .find(|l| l.starts_with("ingested: "))
        .unwrap_or_else(|| panic!("no summary line in:\n{err}"));
    let mut values = line["ingested: ".len()..].split(' ').map(|kv| {
        let (_, v) = kv.split_once('=').expect("key=value");
        v.parse::<u64>().expect("a count")
    });
    let mut next = || values.next().expect("four counts");
    let c = counts(next(), next(), next(), next());
    assert_eq!(
        line,
        format!(
            "ingested: read={} new={} duplicate={} quarantined={}",
            c.read, c.new, c.duplicate, c.quarantined
        )
    );
    assert_eq!(c.read, c.new + c.duplicate + c.quarantined, "R = N + D + Q");
    c
}

fn ingest(lake: &Path, paths: &[&Path]) -> Counts {
    let mut cmd = posture();
    cmd.arg("ingest").arg("--lake").arg(lake).args(paths);
    let o = cmd.output().expect("posture runs");
    assert!(o.status.success(), "ingest failed:\n{}", stderr(&o));
    summary(&o)
}

/// Rows of `posture sql --format json`.
fn sql(lake: &Path, query: &str) -> Vec<serde_json::Map<String, Value>> {
    let o = posture()
        .args(["sql", "--format", "json", "--lake"])
        .arg(lake)
        .arg(query)
        .output()
        .expect("posture runs");
    assert!(o.status.success(), "sql failed: {query}\n{}", stderr(&o));
    let rows: Vec<Value> = serde_json::from_slice(&o.stdout).expect("a JSON array");
    rows.into_iter()
        .map(|r| r.as_object().expect("an object").clone())
        .collect()
}

/// One column of a query's rows, as text.
fn column(lake: &Path, query: &str) -> Vec<String> {
    sql(lake, query)
        .into_iter()
        .map(|row| match row.values().next().expect("one column") {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        })
        .collect()
}

/// `posture query NAME ARGS --format csv`, as text.
fn query_csv(lake: &Path, name: &str, args: &[&str]) -> String {
    let o = posture()
        .args(["query", "--format", "csv", "--lake"])
        .arg(lake)
        .arg(name)
        .args(args)
        .output()
        .unwrap();
    assert!(o.status.success(), "{name}: {}", stderr(&o));
    String::from_utf8(o.stdout).unwrap().replace("\r\n", "\n")
}

fn count(lake: &Path, table: &str) -> u64 {
    column(lake, &format!("SELECT count(*) AS n FROM {table}"))[0]
        .parse()
        .unwrap()
}

fn lake_in(dir: &tempfile::TempDir) -> PathBuf {
    dir.path().join("lake")
}

#[test]
fn timestamps_become_utc_microseconds_from_any_offset() {
    let dir = tempfile::tempdir().unwrap();
    let lake = lake_in(&dir);
    assert_eq!(
        ingest(&lake, &[&fixture("offsets.ndjson")]),
        counts(4, 4, 0, 0)
    );
    let rows = sql(
        &lake,
        "SELECT report_id, observed_at, date FROM reports ORDER BY report_id",
    );
    let got: Vec<(String, String, String)> = rows
        .iter()
        .map(|r| {
            (
                r["report_id"].as_str().unwrap().to_owned(),
                r["observed_at"].as_str().unwrap().to_owned(),
                r["date"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let expect = [
        // 23:30 at +05:30 is 18:00 UTC the same day.
        ("off-1", "2026-11-20T18:00:00Z", "2026-11-20"),
        // 18:00 at -08:00 is 02:00 UTC the next day; nanoseconds truncated.
        ("off-2", "2026-11-21T02:00:00.123456Z", "2026-11-21"),
        ("off-3", "2026-11-21T00:00:00Z", "2026-11-21"),
        ("off-4", "2026-11-21T10:00:00.500Z", "2026-11-21"),
    ];
    let expect: Vec<(String, String, String)> = expect
        .iter()
        .map(|(a, b, c)| (a.to_string(), b.to_string(), c.to_string()))
        .collect();
    assert_eq!(got, expect);
}

/// Issue 14: one failure, one error code, whatever spelling the agent sent
/// (a JSON number, signed or unsigned decimal text, hex in any case): one
/// row of `setting_failures`, as Intune spells it. `0` is no error.
#[test]
fn an_error_code_has_one_spelling_whatever_the_agent_sent() {
    let dir = tempfile::tempdir().unwrap();
    let inbox = dir.path().join("codes.ndjson");
    let report = |n: usize, code: &str| {
        format!(
            r#"{{"report_id":"r{n}","tenant_id":"t","observed_at":"2026-11-20T10:00:00Z","device":{{"device_id":"dev-{n}","name":"dev-{n}","os_platform":"Windows11","managed_by":"MDE"}},"policies":[{{"policy_id":"p","name":"P","type":"Antivirus","state":"Error","settings":[{{"setting_id":"s","state":"Error","error_code":{code}}}]}}]}}"#
        )
    };
    let codes = [
        "-2016281112",
        "\"-2016281112\"",
        "2278686184",
        "\"2278686184\"",
        "\"0x87d1fde8\"",
        "\" 0X87D1FDE8 \"",
        "0",
        "\"0x0\"",
    ];
    let text: String = codes
        .iter()
        .enumerate()
        .map(|(n, code)| report(n, code) + "\n")
        .collect();
    std::fs::write(&inbox, text).unwrap();
    let lake = lake_in(&dir);
    assert_eq!(ingest(&lake, &[&inbox]), counts(8, 8, 0, 0));
    assert_eq!(
        query_csv(&lake, "setting_failures", &[]),
        "policy_id,setting_id,setting_name,state,error_code,devices\n\
         p,s,,Error,0x87D1FDE8,6\n\
         p,s,,Error,,2\n"
    );
    assert_eq!(
        column(
            &lake,
            "SELECT count(*) FROM setting_states WHERE error_code IS NULL"
        ),
        ["2"]
    );
}

#[test]
fn ids_lower_case_states_canonical_unknown_fields_ignored() {
    let dir = tempfile::tempdir().unwrap();
    let lake = lake_in(&dir);
    ingest(&lake, &[&fixture("offsets.ndjson")]);
    assert_eq!(
        column(
            &lake,
            "SELECT DISTINCT device_id FROM reports ORDER BY device_id"
        ),
        ["dev-a", "dev-b"]
    );
    assert_eq!(
        column(&lake, "SELECT state FROM policy_states ORDER BY report_id"),
        ["Succeeded", "NotApplicable", "Error", "Pending"]
    );
    assert_eq!(
        column(&lake, "SELECT state FROM setting_states ORDER BY report_id"),
        ["Succeeded", "NotApplicable", "Error"]
    );
    // An integer error code is stored as Intune spells it: `0x` and 8
    // upper-case hex digits (-2016281112 is 0x87D1FDE8).
    assert_eq!(
        column(
            &lake,
            "SELECT error_code FROM setting_states WHERE error_code IS NOT NULL"
        ),
        ["0x87D1FDE8"]
    );
}

#[test]
fn bom_crlf_and_blank_lines_keep_line_numbers() {
    let dir = tempfile::tempdir().unwrap();
    let lake = lake_in(&dir);
    assert_eq!(
        ingest(&lake, &[&fixture("bom_crlf.ndjson")]),
        counts(3, 2, 0, 1)
    );
    let q = sql(
        &lake,
        "SELECT file, line, array_index, reason, raw FROM quarantine",
    );
    assert_eq!(q.len(), 1);
    assert!(q[0]["file"].as_str().unwrap().ends_with("bom_crlf.ndjson"));
    assert_eq!(q[0]["line"], 4);
    assert_eq!(q[0]["array_index"], Value::Null);
    assert!(
        q[0]["reason"]
            .as_str()
            .unwrap()
            .starts_with("not valid JSON")
    );
    assert_eq!(q[0]["raw"], "{not json");
}

#[test]
fn json_arrays_and_gzip_are_read() {
    let dir = tempfile::tempdir().unwrap();
    let lake = lake_in(&dir);
    assert_eq!(
        ingest(
            &lake,
            &[&fixture("array.json"), &fixture("gzipped.ndjson.gz")]
        ),
        counts(3, 3, 0, 0)
    );
    assert_eq!(
        column(&lake, "SELECT report_id FROM reports ORDER BY report_id"),
        ["arr-1", "arr-2", "gz-1"]
    );
}

#[test]
fn each_quarantine_reason_names_the_field() {
    let dir = tempfile::tempdir().unwrap();
    let lake = lake_in(&dir);
    assert_eq!(ingest(&lake, &[&fixture("bad.ndjson")]), counts(8, 1, 0, 7));
    let rows = sql(
        &lake,
        "SELECT line, reason, raw FROM quarantine ORDER BY line",
    );
    let reasons: Vec<(u64, &str)> = rows
        .iter()
        .map(|r| (r["line"].as_u64().unwrap(), r["reason"].as_str().unwrap()))
        .collect();
    assert_eq!(reasons.len(), 7);
    assert_eq!(reasons[0].0, 2);
    assert!(
        reasons[0]
            .1
            .starts_with("not valid JSON: EOF while parsing")
    );
    assert_eq!(reasons[1], (3, "missing required field `device.device_id`"));
    assert_eq!(
        reasons[2],
        (
            4,
            "field `device.name` has the wrong type: invalid type: integer `42`, expected a string"
        )
    );
    assert_eq!(
        reasons[3],
        (
            5,
            "field `observed_at` is not an RFC 3339 timestamp: `21/11/2026 05:00`"
        )
    );
    assert_eq!(
        reasons[4],
        (
            6,
            "field `policies[0].state` has unknown state `Failed` (expected Succeeded, Error, Conflict, Pending or NotApplicable)"
        )
    );
    assert_eq!(
        reasons[5],
        (
            7,
            "unsupported schema `agent-report/v2` (this version reads `agent-report/v1`)"
        )
    );
    assert_eq!(reasons[6], (8, "missing required field `policies`"));
    // The raw text is kept whole, so nothing is lost.
    let original = std::fs::read_to_string(fixture("bad.ndjson")).unwrap();
    let lines: Vec<&str> = original.lines().collect();
    for row in &rows {
        let line = row["line"].as_u64().unwrap() as usize;
        assert_eq!(row["raw"].as_str().unwrap(), lines[line - 1]);
    }
}

#[test]
fn duplicates_within_a_file_across_files_and_across_runs() {
    let dir = tempfile::tempdir().unwrap();
    let lake = lake_in(&dir);
    let offsets = fixture("offsets.ndjson");
    let dupes = fixture("dupes.ndjson");
    // dupes.ndjson holds dup-1 twice and a re-delivery of off-3.
    assert_eq!(ingest(&lake, &[&offsets, &dupes]), counts(7, 5, 2, 0));
    // The second ingest of the same inbox finds nothing new.
    assert_eq!(ingest(&lake, &[&offsets, &dupes]), counts(7, 0, 7, 0));
    assert_eq!(count(&lake, "reports"), 5);
    assert_eq!(count(&lake, "policy_states"), 5);
    // One ingest_log row per file per run, with its checksum.
    let log = sql(
        &lake,
        "SELECT file, sha256, read, new, duplicate FROM ingest_log ORDER BY run_id, file",
    );
    assert_eq!(log.len(), 4);
    // Files are read in path order, so dupes.ndjson comes first: its off-3
    // is new, and the one in offsets.ndjson is the duplicate.
    assert!(log[0]["file"].as_str().unwrap().ends_with("dupes.ndjson"));
    assert_eq!(
        (&log[0]["read"], &log[0]["new"], &log[0]["duplicate"]),
        (&3.into(), &2.into(), &1.into())
    );
    assert_eq!(
        (&log[1]["read"], &log[1]["new"], &log[1]["duplicate"]),
        (&4.into(), &3.into(), &1.into())
    );
    assert_eq!(log[0]["sha256"], log[2]["sha256"]);
    assert_eq!(log[0]["sha256"].as_str().unwrap().len(), 64);
}

#[test]
fn a_folder_is_read_recursively() {
    let dir = tempfile::tempdir().unwrap();
    let inbox = dir.path().join("inbox");
    std::fs::create_dir_all(inbox.join("collector-a/2026")).unwrap();
    std::fs::copy(
        fixture("offsets.ndjson"),
        inbox.join("collector-a/2026/offsets.ndjson"),
    )
    .unwrap();
    std::fs::copy(fixture("array.json"), inbox.join("array.json")).unwrap();
    let lake = lake_in(&dir);
    assert_eq!(ingest(&lake, &[&inbox]), counts(6, 6, 0, 0));
}

#[test]
fn a_lake_inside_the_inbox_is_not_read_as_input() {
    let dir = tempfile::tempdir().unwrap();
    let inbox = dir.path().join("inbox");
    std::fs::create_dir_all(&inbox).unwrap();
    std::fs::copy(fixture("array.json"), inbox.join("array.json")).unwrap();
    let lake = inbox.join("lake");
    assert_eq!(ingest(&lake, &[&inbox]), counts(2, 2, 0, 0));
    assert_eq!(ingest(&lake, &[&inbox]), counts(2, 0, 2, 0));
}

#[test]
fn ties_on_observed_at_break_on_the_greatest_report_id() {
    let dir = tempfile::tempdir().unwrap();
    let inbox = dir.path().join("ties.ndjson");
    let report = |id: &str, state: &str| {
        format!(
            r#"{{"report_id":"{id}","tenant_id":"t","observed_at":"2026-11-21T12:00:00Z","device":{{"device_id":"dev-t","name":"t","os_platform":"Linux","managed_by":"MDE"}},"policies":[{{"policy_id":"p","name":"n","type":"Antivirus","state":"{state}"}}]}}"#
        )
    };
    std::fs::write(
        &inbox,
        format!(
            "{}\n{}\n",
            report("tie-b", "Error"),
            report("tie-a", "Succeeded")
        ),
    )
    .unwrap();
    let lake = lake_in(&dir);
    assert_eq!(ingest(&lake, &[&inbox]), counts(2, 2, 0, 0));
    let rows = sql(&lake, "SELECT report_id, compliance FROM device_status");
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["report_id"], "tie-b");
    assert_eq!(rows[0]["compliance"], "noncompliant");
}

#[test]
fn a_truncated_gzip_is_logged_and_the_run_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let inbox = dir.path().join("inbox");
    std::fs::create_dir_all(&inbox).unwrap();
    let gz = std::fs::read(fixture("gzipped.ndjson.gz")).unwrap();
    std::fs::write(inbox.join("broken.ndjson.gz"), &gz[..gz.len() / 2]).unwrap();
    std::fs::copy(fixture("array.json"), inbox.join("good.json")).unwrap();
    let lake = lake_in(&dir);
    let o = posture()
        .args(["ingest", "--lake"])
        .arg(&lake)
        .arg(&inbox)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("broken.ndjson.gz"), "{}", stderr(&o));
    assert_eq!(summary(&o), counts(2, 2, 0, 0));
    let log = sql(&lake, "SELECT file, error FROM ingest_log ORDER BY file");
    assert!(log[0]["error"].as_str().unwrap().starts_with("cannot read"));
    assert_eq!(log[1]["error"], Value::Null);
}

#[test]
fn a_missing_input_is_an_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let lake = lake_in(&dir);
    let o = run(&[
        "ingest",
        "--lake",
        lake.to_str().unwrap(),
        "/nonexistent/inbox",
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(
        stderr(&o),
        "error: cannot read `/nonexistent/inbox`: No such file or directory (os error 2)\n"
    );
}

/// `posture exceptions --lake LAKE FILE`.
fn load_exceptions(lake: &Path, file: &Path) -> Output {
    posture()
        .args(["exceptions", "--lake"])
        .arg(lake)
        .arg(file)
        .output()
        .unwrap()
}

/// The names of the named queries, from `posture query --list`.
fn named_queries() -> Vec<String> {
    let o = posture()
        .args(["query", "--lake", "unused", "--list"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let list = String::from_utf8(o.stdout).unwrap();
    list.lines()
        .map(|l| l.split_whitespace().next().unwrap().to_owned())
        .collect()
}

/// A fleet big enough that an ingest takes a while, in a fresh folder.
fn generated_inbox(dir: &Path, devices: u32) -> PathBuf {
    let inbox = dir.join("inbox");
    let o = run(&[
        "generate",
        "--out",
        inbox.to_str().unwrap(),
        "--devices",
        &devices.to_string(),
        "--days",
        "7",
        "--seed",
        "7",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    inbox
}

/// Reports that come after `generated_inbox`'s: late ones for its last day
/// (2026-11-07) and a new day, in a fresh folder.
#[cfg(feature = "s3")]
fn later_inbox(dir: &Path, devices: u32) -> PathBuf {
    let inbox = dir.join("later");
    let o = posture()
        .args(["generate", "--devices", &devices.to_string()])
        .args([
            "--days",
            "2",
            "--seed",
            "8",
            "--start",
            "2026-11-07",
            "--out",
        ])
        .arg(&inbox)
        .output()
        .expect("posture runs");
    assert!(o.status.success(), "{}", stderr(&o));
    inbox
}

fn table_counts(lake: &Path) -> [u64; 3] {
    let rows = sql(
        lake,
        "SELECT (SELECT count(*) FROM reports) AS r, (SELECT count(*) FROM policy_states) AS p, \
         (SELECT count(*) FROM setting_states) AS s",
    );
    ["r", "p", "s"].map(|k| rows[0][k].as_u64().unwrap())
}

#[test]
fn two_concurrent_ingests_do_not_interleave() {
    let dir = tempfile::tempdir().unwrap();
    let inbox = generated_inbox(dir.path(), 40);
    let lake = lake_in(&dir);
    let spawn = || {
        posture()
            .args(["ingest", "--lake"])
            .arg(&lake)
            .arg(&inbox)
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };
    let (a, b) = (spawn(), spawn());
    let (a, b) = (a.wait_with_output().unwrap(), b.wait_with_output().unwrap());
    assert!(a.status.success() && b.status.success());
    let (a, b) = (summary(&a), summary(&b));
    assert_eq!(a.read, b.read);
    // One of them ingested everything; the other found only duplicates.
    assert_eq!(a.new.min(b.new), 0, "{a:?} {b:?}");
    assert_eq!(count(&lake, "reports"), a.new.max(b.new));
}

#[test]
fn independent_reader_sees_the_same_lake() {
    let dir = tempfile::tempdir().unwrap();
    let lake = lake_in(&dir);
    ingest(
        &lake,
        &[
            &fixture("offsets.ndjson"),
            &fixture("array.json"),
            &fixture("bad.ndjson"),
        ],
    );
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/read_lake.py");
    let o = Command::new("python3")
        .arg(&script)
        .arg(&lake)
        .output()
        .expect("python3 runs");
    assert!(
        o.status.success(),
        "independent reader failed:\n{}\n{}",
        String::from_utf8_lossy(&o.stdout),
        stderr(&o)
    );
    let seen: Value = serde_json::from_slice(&o.stdout).unwrap();
    for table in ["reports", "policy_states", "setting_states", "quarantine"] {
        assert_eq!(
            seen["duckdb"][table],
            count(&lake, table),
            "{table} by DuckDB"
        );
        assert_eq!(
            seen["pyarrow"][table],
            count(&lake, table),
            "{table} by pyarrow"
        );
    }
    assert_eq!(seen["off2_observed_at"], "2026-11-21T02:00:00.123456+00:00");
}

/// Every file under the lake with its content, to see that nothing changed.
fn lake_files(lake: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut files = Vec::new();
    let mut dirs = vec![lake.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else {
                files.push((path.clone(), std::fs::read(&path).unwrap()));
            }
        }
    }
    files.sort();
    files
}

#[test]
fn sql_is_read_only() {
    let dir = tempfile::tempdir().unwrap();
    let lake = lake_in(&dir);
    ingest(&lake, &[&fixture("offsets.ndjson")]);
    let before = lake_files(&lake);
    for statement in [
        "CREATE TABLE x AS SELECT 1",
        "DROP TABLE reports",
        "INSERT INTO reports SELECT * FROM reports",
        "COPY (SELECT 1) TO '/tmp/posture-copy-test.csv'",
        "SET datafusion.execution.batch_size = 1",
        "CREATE EXTERNAL TABLE t STORED AS CSV LOCATION '/etc/passwd'",
    ] {
        let o = run(&["sql", "--lake", lake.to_str().unwrap(), statement]);
        assert_eq!(o.status.code(), Some(1), "{statement} was not refused");
        assert!(
            stderr(&o).starts_with("error: refused: `posture sql` is read-only"),
            "{statement}: {}",
            stderr(&o)
        );
    }
    assert!(!Path::new("/tmp/posture-copy-test.csv").exists());
    assert_eq!(count(&lake, "reports"), 4);
    assert_eq!(lake_files(&lake), before, "the lake's files are untouched");
}

#[test]
fn a_wrong_table_name_gets_a_hint_listing_the_tables() {
    let dir = tempfile::tempdir().unwrap();
    let lake = lake_in(&dir);
    ingest(&lake, &[&fixture("offsets.ndjson")]);
    let o = run(&[
        "sql",
        "--lake",
        lake.to_str().unwrap(),
        "SELECT * FROM report",
    ]);
    assert_eq!(o.status.code(), Some(1));
    let err = stderr(&o);
    assert!(err.contains("report"), "{err}");
    assert!(
        err.lines()
            .any(|l| l.starts_with("hint: tables and views: ")
                && l.contains("policy_states")
                && l.contains("reports")),
        "{err}"
    );
}

#[test]
fn query_on_a_folder_that_is_not_a_lake_says_how_to_make_one() {
    let dir = tempfile::tempdir().unwrap();
    let o = run(&[
        "query",
        "--lake",
        dir.path().to_str().unwrap(),
        "stale_devices",
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(
        stderr(&o),
        format!(
            "error: `{}` is not a lake: it has no `reports` table\nhint: create one with `posture ingest --lake LAKE INBOX`\n",
            dir.path().display()
        )
    );
}
