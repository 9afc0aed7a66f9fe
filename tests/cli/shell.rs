//! `posture sql` for people and scripts: the shell on a pseudo-terminal
//! (util-linux `script` gives it one), scripts on standard input and in a
//! file, and `posture query --list` without a lake (issue 16).

use std::io::Write;
use std::time::Duration;

use super::*;

/// A lake of four reports of two devices (`dev-a`, `dev-b`).
fn small_lake(dir: &tempfile::TempDir) -> PathBuf {
    let lake = lake_in(dir);
    ingest(&lake, &[&fixture("offsets.ndjson")]);
    lake
}

/// `posture sql --lake LAKE ARGS` with `input` on standard input.
fn sql_script(lake: &Path, args: &[&str], input: &str) -> Output {
    let mut child = posture()
        .args(["sql", "--lake"])
        .arg(lake)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

#[test]
fn the_shell_on_a_terminal_runs_statements_lists_tables_and_survives_errors() {
    let dir = tempfile::tempdir().unwrap();
    let lake = small_lake(&dir);
    let data = dir.path().join("data");
    let command = format!(
        "{} sql --lake {}",
        env!("CARGO_BIN_EXE_posture"),
        lake.display()
    );
    // `script` runs the shell on a pseudo-terminal and copies what we
    // write to it, as keys typed (Enter is `\r`).
    let mut child = Command::new("script")
        .args(["-qec", &command, "/dev/null"])
        .env("XDG_DATA_HOME", &data)
        .env("TERM", "dumb")
        .env_remove("SOURCE_DATE_EPOCH")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("util-linux `script` runs");
    let mut keys = child.stdin.take().unwrap();
    let lines = [
        // A statement, then one over two lines.
        "SELECT count(*) AS n FROM reports;",
        "SELECT device_id",
        "  FROM reports WHERE report_id = 'off-1';",
        "\\d",
        // An error, and a refused write: the shell goes on.
        "SELECT nope FROM reports;",
        "DROP TABLE reports;",
        "SELECT 40 + 2 AS answer;",
        "\\q",
    ];
    for line in lines {
        keys.write_all(format!("{line}\r").as_bytes()).unwrap();
        keys.flush().unwrap();
        std::thread::sleep(Duration::from_millis(400));
    }
    drop(keys);
    let o = child.wait_with_output().unwrap();
    let screen = String::from_utf8_lossy(&o.stdout).replace('\r', "");
    assert!(o.status.success(), "{screen}");
    // The statement and the multi-line one, each timed.
    assert!(screen.contains("| 4 |"), "{screen}");
    assert!(screen.contains("| dev-a     |"), "{screen}");
    assert_eq!(screen.matches("1 row in ").count(), 3, "{screen}");
    // `\d`: tables and views with their columns.
    assert!(
        screen.contains("| reports ") && screen.contains("| table |"),
        "{screen}"
    );
    assert!(screen.contains("| latest_reports "), "{screen}");
    assert!(
        screen.contains("report_id, tenant_id, observed_at"),
        "{screen}"
    );
    // The error and the refusal, each with its hint, and the shell went on.
    assert!(
        screen.contains("error: Schema error: No field named nope"),
        "{screen}"
    );
    assert!(
        screen.contains("error: refused: `posture sql` is read-only"),
        "{screen}"
    );
    assert!(screen.contains("| 42     |"), "{screen}");
    // The history, in the user's data folder, readable by its owner only;
    // the multi-line statement is one entry.
    let history = data.join("posture/sql_history");
    let text = std::fs::read_to_string(&history).unwrap();
    assert!(
        text.contains("SELECT device_id\\n  FROM reports WHERE report_id = 'off-1';"),
        "{text}"
    );
    assert!(text.contains("DROP TABLE reports;"), "{text}");
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&history).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
}

#[test]
fn a_script_on_stdin_runs_every_statement_and_says_where_one_failed() {
    let dir = tempfile::tempdir().unwrap();
    let lake = small_lake(&dir);
    let script = "-- the devices; a `;` in a comment ends nothing\n\
                  SELECT DISTINCT device_id FROM reports ORDER BY device_id;\n\
                  \n\
                  SELECT 'a;b' AS text,\n  nope\nFROM reports;\n\
                  \\d snapshot_days\n\
                  INSERT INTO reports SELECT * FROM reports;\n\
                  SELECT count(*) AS n FROM reports";
    let o = sql_script(&lake, &["--format", "csv"], script);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert_eq!(
        String::from_utf8_lossy(&o.stdout).replace("\r\n", "\n"),
        "device_id\ndev-a\ndev-b\n\
         column,type,nullable\nday,Date32,no\nday_end,\"Timestamp(µs, \"\"UTC\"\")\",no\nstale_before,\"Timestamp(µs, \"\"UTC\"\")\",no\n\
         n\n4\n"
    );
    let err = stderr(&o);
    assert!(
        err.contains("error: stdin line 4: Schema error: No field named nope"),
        "{err}"
    );
    assert!(
        err.contains("error: stdin line 8: refused: `posture sql` is read-only"),
        "{err}"
    );
    // Nothing was written: still four reports.
    assert_eq!(count(&lake, "reports"), 4);
}

#[test]
fn a_script_file_runs_and_a_missing_one_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let lake = small_lake(&dir);
    let file = dir.path().join("weekly.sql");
    std::fs::write(
        &file,
        "SELECT count(*) AS n FROM reports;\nSELECT max(date) AS newest FROM reports;\n",
    )
    .unwrap();
    let o = posture()
        .args(["sql", "--format", "csv", "--lake"])
        .arg(&lake)
        .arg("--file")
        .arg(&file)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        String::from_utf8(o.stdout).unwrap().replace("\r\n", "\n"),
        "n\n4\nnewest\n2026-11-21\n"
    );

    let missing = dir.path().join("missing.sql");
    let o = posture()
        .args(["sql", "--lake"])
        .arg(&lake)
        .arg("-f")
        .arg(&missing)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains(&format!("error: cannot read `{}`", missing.display())),
        "{}",
        stderr(&o)
    );
    // A Parquet file holds one result, not a script's.
    let o = sql_script(
        &lake,
        &["--format", "parquet", "--output", "x.parquet"],
        "SELECT 1;",
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("`--format parquet` writes the result of one query"));
}

#[test]
fn query_list_needs_no_lake() {
    let o = run(&["query", "--list"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = String::from_utf8(o.stdout).unwrap();
    assert!(text.starts_with("compliance_by_policy "), "{text}");
    let files = std::fs::read_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("queries"))
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .path()
                .extension()
                .is_some_and(|x| x == "sql")
        })
        .count();
    assert_eq!(text.lines().count(), files, "one line per named query");
    // A query still needs one.
    let o = run(&["query", "compliance_by_policy"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--lake <LAKE>"), "{}", stderr(&o));
}
