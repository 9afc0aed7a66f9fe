//! Hostile and broken input (issue 7): what collectors produce by accident
//! and attackers on purpose. Each case has its expected outcome; none may
//! crash `posture`, exhaust memory, or stop the other files of the run from
//! landing. The small cases are files in `tests/fixtures/hostile/` (see
//! `tests/fixtures/hostile.md`); the big ones (a line of 1 GiB) are made here, streaming, and
//! removed after.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use super::{column, counts, lake_in, posture, run, sql, stderr, summary};

fn hostile(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/hostile")
        .join(name)
}

/// A small valid report, as one NDJSON line.
fn report(id: &str) -> String {
    format!(
        r#"{{"report_id":"{id}","tenant_id":"t","observed_at":"2026-11-20T10:00:00Z","device":{{"device_id":"dev-{id}","name":"n","os_platform":"Linux","managed_by":"MDE"}},"policies":[{{"policy_id":"p","name":"n","type":"Antivirus","state":"Succeeded"}}]}}"#
    )
}

/// Quarantine rows of one file (by the end of its name): (line or index, reason, raw length).
fn quarantined(lake: &Path, file: &str) -> Vec<(i64, String, i64)> {
    sql(
        lake,
        "SELECT file, coalesce(line, array_index) AS at, reason, length(raw) AS raw_len \
         FROM quarantine ORDER BY file, at",
    )
    .into_iter()
    .filter(|r| r["file"].as_str().unwrap().ends_with(file))
    .map(|r| {
        (
            r["at"].as_i64().unwrap(),
            r["reason"].as_str().unwrap().to_owned(),
            r["raw_len"].as_i64().unwrap(),
        )
    })
    .collect()
}

fn ingest_with(lake: &Path, args: &[&str], paths: &[&Path]) -> std::process::Output {
    posture()
        .args(["ingest", "--lake"])
        .arg(lake)
        .args(args)
        .args(paths)
        .output()
        .unwrap()
}

#[test]
fn the_hostile_corpus_lands_what_it_can_and_quarantines_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    let lake = lake_in(&dir);
    let o = ingest_with(
        &lake,
        &["--max-decompressed-bytes", "8MiB"],
        &[&hostile("")],
    );
    // The truncated gzip cannot be read to its end: exit 2, the rest lands.
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert_eq!(summary(&o), counts(29, 15, 0, 14));
    assert_eq!(
        column(&lake, "SELECT report_id FROM reports ORDER BY report_id"),
        [
            "bomb-ok",
            "leap-second",
            "nested-arr-ok",
            "nested-arr-ok-2",
            "nested-ok",
            "nested-ok-2",
            "nul-escaped",
            "num-code",
            "num-ok",
            "trunc-0",
            "trunc-1",
            "utf8-ok-1",
            "utf8-ok-2",
            "year-1601",
            "year-9999",
        ]
    );

    // gzip bomb: 64 MiB of NUL bytes after one good report, cut at 8 MiB.
    let bomb = quarantined(&lake, "bomb.ndjson.gz");
    assert_eq!(bomb.len(), 1);
    assert_eq!(bomb[0].0, 2);
    assert!(
        bomb[0].1.starts_with(
            "the file expands past the limit of 8388608 bytes (--max-decompressed-bytes)"
        ),
        "{bomb:?}"
    );
    assert_eq!(bomb[0].2, 65536, "raw keeps a bounded prefix");

    let utf8 = quarantined(&lake, "invalid_utf8.ndjson");
    assert_eq!(utf8.len(), 1);
    assert_eq!(
        (utf8[0].0, utf8[0].1.as_str()),
        (2, "not valid UTF-8 (invalid byte at offset 122)")
    );

    // 20,000 levels of nesting: a whole line of it is no report; inside an
    // unknown field it is skipped without recursion (in memory bounded by
    // the report's length), so `nested-ok-2` lands.
    let nested = quarantined(&lake, "nested.ndjson");
    let reasons: Vec<(i64, &str)> = nested.iter().map(|q| (q.0, q.1.as_str())).collect();
    assert_eq!(
        reasons,
        [
            (2, "not a JSON object: a report must be an object"),
            (3, "missing required field `report_id`")
        ]
    );
    let nested_array = quarantined(&lake, "nested_array.json");
    assert_eq!(nested_array.len(), 1);
    assert_eq!(nested_array[0].0, 1);

    // NUL bytes: a line of them, and a raw one in a string, are not JSON; an
    // escaped one is text like any other.
    let nul = quarantined(&lake, "nul.ndjson");
    assert_eq!(nul.len(), 2);
    assert!(nul[0].1.starts_with("not valid JSON"));
    assert!(nul[1].1.starts_with("not valid JSON: control character"));
    assert_eq!(
        column(
            &lake,
            "SELECT device_name FROM reports WHERE report_id = 'nul-escaped'"
        ),
        ["a\u{0}b"]
    );

    // Numbers past i64, 1e400, a fraction where an integer goes.
    let numbers = quarantined(&lake, "numbers.ndjson");
    let reasons: Vec<&str> = numbers.iter().map(|q| q.1.as_str()).collect();
    assert_eq!(reasons.len(), 4, "{reasons:?}");
    assert!(reasons[0].starts_with("field `device.enrollment_status` has the wrong type"));
    assert!(reasons[1].starts_with("not valid JSON: number out of range"));
    assert!(reasons[2].starts_with("field `device.enrollment_status` has the wrong type"));
    assert!(reasons[3].starts_with("field `policies[0].version` has the wrong type"));
    assert_eq!(
        column(
            &lake,
            "SELECT error_code FROM setting_states WHERE report_id = 'num-code'"
        ),
        ["18446744073709551615"]
    );

    // Years 9999 and 1601 are kept as given; an instant that is in the year
    // 10000 (or 0) in UTC has no four-digit partition and is quarantined.
    let years = quarantined(&lake, "years.ndjson");
    let reasons: Vec<(i64, &str)> = years.iter().map(|q| (q.0, q.1.as_str())).collect();
    assert_eq!(
        reasons,
        [
            (
                3,
                "field `observed_at` is outside the years 0001 to 9999 in UTC: `9999-12-31T23:00:00-05:00`"
            ),
            (
                4,
                "field `observed_at` is outside the years 0001 to 9999 in UTC: `0000-01-01T00:00:00Z`"
            )
        ]
    );
    let rows = sql(
        &lake,
        "SELECT report_id, observed_at, date FROM reports WHERE report_id LIKE 'year%' OR report_id = 'leap-second' ORDER BY report_id",
    );
    let got: Vec<(&str, &str, &str)> = rows
        .iter()
        .map(|r| {
            (
                r["report_id"].as_str().unwrap(),
                r["observed_at"].as_str().unwrap(),
                r["date"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            // A leap second is the first instant of the next second.
            ("leap-second", "2027-01-01T00:00:00Z", "2027-01-01"),
            ("year-1601", "1601-01-01T00:00:00Z", "1601-01-01"),
            ("year-9999", "9999-12-31T23:59:59.999999Z", "9999-12-31"),
        ]
    );
    // The default as-of day follows the newest report, even one from a
    // clock years ahead: the rule stands, and it is said on stderr.
    let q = run(&["query", "--lake", lake.to_str().unwrap(), "stale_devices"]);
    assert!(q.status.success(), "{}", stderr(&q));
    assert!(
        stderr(&q).contains("holds reports dated 9999-12-31, after today"),
        "{}",
        stderr(&q)
    );
    assert!(stderr(&q).contains("as of 9999-12-31"), "{}", stderr(&q));

    // Empty, zero-byte, blank, BOM-only files and an empty array: nothing
    // read, nothing lost, each logged. An array that never closes is one
    // quarantined record.
    let log = sql(
        &lake,
        "SELECT file, read, quarantined, error FROM ingest_log ORDER BY file",
    );
    assert_eq!(log.len(), 13);
    for empty in [
        "blank.ndjson",
        "bom_only.ndjson",
        "empty.ndjson",
        "empty_array.json",
    ] {
        let row = log
            .iter()
            .find(|r| r["file"].as_str().unwrap().ends_with(empty))
            .unwrap();
        assert_eq!((&row["read"], &row["error"]), (&0.into(), &Value::Null));
    }
    let open = quarantined(&lake, "open_array.json");
    assert_eq!(open.len(), 1);
    assert!(
        open[0]
            .1
            .starts_with("not valid JSON: EOF while parsing a list")
    );
    let truncated = log
        .iter()
        .find(|r| r["file"].as_str().unwrap().ends_with("truncated.ndjson.gz"))
        .unwrap();
    assert_eq!(
        truncated["error"],
        format!(
            "cannot read `{}`: incomplete deflate stream",
            hostile("truncated.ndjson.gz").display()
        )
    );
}

/// Peak resident memory, in KiB, of a command run under GNU time.
fn peak_rss_kib(command: Command) -> (std::process::Output, u64) {
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("time");
    let program = command.get_program().to_owned();
    let args: Vec<_> = command.get_args().map(|a| a.to_owned()).collect();
    let o = Command::new("/usr/bin/time")
        .arg("-f")
        .arg("%M")
        .arg("-o")
        .arg(&report)
        .arg(program)
        .args(args)
        .output()
        .expect("GNU time is installed (apt-get install time)");
    let kib = std::fs::read_to_string(&report)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    (o, kib)
}

/// Writes, streaming, an inbox of one good report, one line of `size` bytes
/// that starts like a report, and one more good report.
fn inbox_with_a_long_line(path: &Path, size: usize) {
    let mut file = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    writeln!(file, "{}", report("before")).unwrap();
    let start = br#"{"report_id":"huge","tenant_id":""#;
    file.write_all(start).unwrap();
    let chunk = vec![b'a'; 1 << 20];
    let mut written = start.len();
    while written < size {
        let n = chunk.len().min(size - written);
        file.write_all(&chunk[..n]).unwrap();
        written += n;
    }
    file.write_all(b"\n").unwrap();
    writeln!(file, "{}", report("after")).unwrap();
}

/// Ingests an inbox with one long line; returns the peak RSS in KiB.
fn ingest_long_line(dir: &Path, size: usize, max: &str) -> u64 {
    std::fs::create_dir_all(dir).unwrap();
    let inbox = dir.join("inbox.ndjson");
    inbox_with_a_long_line(&inbox, size);
    let lake = dir.join("lake");
    let mut command = posture();
    command
        .args(["ingest", "--max-report-bytes", max, "--lake"])
        .arg(&lake)
        .arg(&inbox);
    let (o, kib) = peak_rss_kib(command);
    std::fs::remove_file(&inbox).unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(summary(&o), counts(3, 2, 0, 1));
    let q = quarantined(&lake, "inbox.ndjson");
    assert_eq!(q.len(), 1);
    assert_eq!(q[0].0, 2);
    assert!(
        q[0].1.starts_with(&format!(
            "the line is {size} bytes, longer than the limit of "
        )),
        "{q:?}"
    );
    assert_eq!(
        column(&lake, "SELECT report_id FROM reports ORDER BY report_id"),
        ["after", "before"]
    );
    kib
}

/// A line far longer than the limit is read through, never held: memory
/// grows by about the limit, not by the line. Measured against the same
/// ingest with a short line, so that the debug build's own size does not
/// matter. (The debug build hashes a few MB/s, so the gigabyte itself is
/// the ignored test below.)
#[test]
fn a_long_line_is_quarantined_in_memory_bounded_by_the_limit() {
    let dir = tempfile::tempdir().unwrap();
    let short = ingest_long_line(&dir.path().join("short"), 320 << 10, "256KiB");
    let long = ingest_long_line(&dir.path().join("long"), 24 << 20, "256KiB");
    assert!(
        long < short + 8 * 1024,
        "a 24 MiB line took {long} KiB at peak, a 320 KiB one {short} KiB"
    );
}

/// The issue's case: one line of 1 GiB, default limits. Slow in a debug
/// build (hashing a gigabyte unoptimised): run it with
/// `cargo test --release --test cli -- --ignored one_gib`. Measured in
/// docs/reliability.md.
#[test]
#[ignore = "a gigabyte through a debug build takes minutes"]
fn a_line_of_one_gib_is_quarantined_in_bounded_memory() {
    let dir = tempfile::tempdir().unwrap();
    let kib = ingest_long_line(dir.path(), 1 << 30, "16MiB");
    assert!(kib < 200 * 1024, "peak RSS {kib} KiB");
}

#[test]
fn an_array_element_past_the_limit_quarantines_the_rest_of_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let inbox = dir.path().join("big.json");
    let padding = "x".repeat(5000);
    std::fs::write(
        &inbox,
        format!(
            "[{},{{\"report_id\":\"{padding}\"}},{}]",
            report("first"),
            report("lost")
        ),
    )
    .unwrap();
    let lake = lake_in(&dir);
    let o = ingest_with(&lake, &["--max-report-bytes", "4KiB"], &[&inbox]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(summary(&o), counts(2, 1, 0, 1));
    let q = quarantined(&lake, "big.json");
    assert_eq!(q.len(), 1);
    assert_eq!(q[0].0, 1);
    // The rest of the file from the end of element 0: its comma, the big
    // element, `lost`, the closing bracket.
    let rest = std::fs::metadata(&inbox).unwrap().len() as usize - 1 - report("first").len();
    assert_eq!(
        q[0].1,
        format!(
            "array element 1 with the rest of the file is {rest} bytes, longer than the limit \
             of 4096 bytes (--max-report-bytes); raw keeps its first 4096 bytes"
        )
    );
    assert_eq!(q[0].2, 4096);
}

/// A folder that holds what a careless or hostile inbox can: links that
/// loop, dangle or point at something unreadable, a FIFO, names with a line
/// end and with `..`. The root user reads any file whatever its mode, so an
/// unreadable file is made from what even root cannot read: a FIFO (opening
/// it would block), a link to itself (ELOOP) and a link to
/// `/proc/self/mem` (reading offset 0 gives EIO).
#[test]
fn links_fifos_and_odd_names_in_the_inbox_do_not_stop_the_run() {
    let dir = tempfile::tempdir().unwrap();
    let inbox = dir.path().join("inbox");
    let sub = inbox.join("sub");
    std::fs::create_dir_all(&sub).unwrap();
    std::fs::write(inbox.join("good.ndjson"), report("good") + "\n").unwrap();
    std::fs::write(sub.join("line\nbreak.ndjson"), report("newline") + "\n").unwrap();
    std::fs::write(sub.join("a..b.ndjson"), report("dots") + "\n").unwrap();
    std::os::unix::fs::symlink("..", sub.join("loop")).unwrap();
    std::os::unix::fs::symlink("self.ndjson", inbox.join("self.ndjson")).unwrap();
    std::os::unix::fs::symlink("nowhere.ndjson", inbox.join("dangling.ndjson")).unwrap();
    std::os::unix::fs::symlink("/proc/self/mem", inbox.join("mem.ndjson")).unwrap();
    let fifo = inbox.join("fifo.ndjson");
    let made = Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(made.success());
    let lake = lake_in(&dir);
    // A path with `..` on the command line is a path like any other.
    let dotted = sub.join("../good.ndjson");
    let o = ingest_with(&lake, &[], &[&inbox, &dotted]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    // good.ndjson twice (once through `..`): its second reading is a duplicate.
    assert_eq!(summary(&o), counts(4, 3, 1, 0));
    let err = stderr(&o);
    for unreadable in [
        "self.ndjson",
        "dangling.ndjson",
        "mem.ndjson",
        "fifo.ndjson",
    ] {
        assert!(
            err.lines()
                .any(|l| l.starts_with("error: cannot read") && l.contains(unreadable)),
            "{unreadable}: {err}"
        );
    }
    let log = sql(
        &lake,
        "SELECT file, read, error FROM ingest_log ORDER BY file",
    );
    let errors: Vec<(String, String)> = log
        .iter()
        .filter(|r| !r["error"].is_null())
        .map(|r| {
            let file = r["file"].as_str().unwrap();
            let name = file.rsplit('/').next().unwrap().to_owned();
            (name, r["error"].as_str().unwrap().to_owned())
        })
        .collect();
    assert_eq!(errors.len(), 4, "{errors:?}");
    assert!(errors[0].0 == "dangling.ndjson" && errors[0].1.contains("No such file"));
    assert!(errors[1].0 == "fifo.ndjson" && errors[1].1.contains("not a regular file"));
    assert!(errors[2].0 == "mem.ndjson" && errors[2].1.contains("Input/output error"));
    assert!(errors[3].0 == "self.ndjson" && errors[3].1.contains("symbolic links"));
    // The loop was walked once; the odd names are stored as given.
    assert_eq!(
        column(
            &lake,
            "SELECT source_file FROM reports WHERE report_id = 'newline'"
        ),
        [sub.join("line\nbreak.ndjson").to_str().unwrap()]
    );
    // Nothing derived from an input's name reaches the lake's layout.
    for entry in std::fs::read_dir(lake.join("reports/date=2026-11-20")).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        assert!(name.starts_with("part-") && !name.contains('\n'), "{name}");
    }
}
