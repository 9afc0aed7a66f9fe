//! The named queries over `tests/fixtures/snapshot/fleet.ndjson`, whose
//! answers are worked out by hand from `compliance.md` (see the fixture's
//! README for what each device shows).

use super::*;

fn snapshot_lake(dir: &tempfile::TempDir) -> PathBuf {
    let lake = lake_in(dir);
    let fleet = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/snapshot/fleet.ndjson");
    // r-b2 is delivered twice: it counts once.
    assert_eq!(ingest(&lake, &[&fleet]), counts(12, 11, 1, 0));
    lake
}

const AS_OF: &[&str] = &["--as-of", "2026-11-20"];

#[test]
fn compliance_by_policy_counts_current_states_and_names_from_the_newest() {
    let dir = tempfile::tempdir().unwrap();
    let lake = snapshot_lake(&dir);
    // P1: b Error, e and f Succeeded, c stale; dev-a dropped it. Its name is
    // that of dev-e's report, the newest listing it (`AV new`).
    // P2: renamed to `Firewall v2` in dev-a's latest report.
    // P3: only NotApplicable: 0 / (1 - 1) is NULL, sorted last.
    assert_eq!(
        query_csv(&lake, "compliance_by_policy", AS_OF),
        "policy_id,policy_name,policy_type,devices,succeeded,error,conflict,pending,not_applicable,stale,compliance_pct\n\
         P1,AV new,Antivirus,3,2,1,0,0,0,1,66.67\n\
         P2,Firewall v2,Firewall,1,1,0,0,0,0,0,100.0\n\
         P3,ASR,AttackSurfaceReduction,1,0,0,0,0,1,0,\n"
    );
}

#[test]
fn compliance_by_platform_splits_devices_and_counts_stale_apart() {
    let dir = tempfile::tempdir().unwrap();
    let lake = snapshot_lake(&dir);
    // Byte order: `Linux`, `Windows11`, `WindowsServer2022`, `macOS`.
    // WindowsServer2022 has only a stale device; macOS only a no_policy one
    // and a stale one: both have a zero denominator.
    assert_eq!(
        query_csv(&lake, "compliance_by_platform", AS_OF),
        "os_platform,devices,compliant,noncompliant,no_policy,stale,compliance_pct\n\
         Linux,2,2,0,0,0,100.0\n\
         Windows11,2,1,1,0,0,50.0\n\
         WindowsServer2022,0,0,0,0,1,\n\
         macOS,1,0,0,1,1,\n"
    );
}

#[test]
fn reports_after_the_as_of_day_count_from_that_day_on() {
    let dir = tempfile::tempdir().unwrap();
    let lake = snapshot_lake(&dir);
    // As of 2026-11-21, dev-a's r-a3 and dev-f's r-f2 (Error) are latest,
    // and the cut-off moves to 2026-11-15T00:00Z: dev-d turns stale too.
    let expected = "os_platform,devices,compliant,noncompliant,no_policy,stale,compliance_pct\n\
         Linux,2,1,1,0,0,50.0\n\
         Windows11,2,0,2,0,0,0.0\n\
         WindowsServer2022,0,0,0,0,1,\n\
         macOS,0,0,0,0,2,\n";
    assert_eq!(
        query_csv(&lake, "compliance_by_platform", &["--as-of", "2026-11-21"]),
        expected
    );
    // And 2026-11-21 is the default: the UTC day of the newest report.
    assert_eq!(query_csv(&lake, "compliance_by_platform", &[]), expected);
}

#[test]
fn setting_failures_are_the_current_ones_of_non_stale_devices() {
    let dir = tempfile::tempdir().unwrap();
    let lake = snapshot_lake(&dir);
    // dev-a's old s1 Error is no longer current; dev-b's r-b2 wins the tie.
    assert_eq!(
        query_csv(&lake, "setting_failures", AS_OF),
        "policy_id,setting_id,setting_name,state,error_code,devices\n\
         P1,s1,Setting s1,Error,0x00000001,1\n\
         P1,s2,Setting s2,Conflict,,1\n"
    );
}

#[test]
fn stale_devices_with_whole_days_since() {
    let dir = tempfile::tempdir().unwrap();
    let lake = snapshot_lake(&dir);
    // The end of 2026-11-20 is 2026-11-21T00:00Z; the cut-off 7 days before
    // is 2026-11-14T00:00Z. dev-d, exactly at it, is not stale.
    assert_eq!(
        query_csv(&lake, "stale_devices", AS_OF),
        "device_id,device_name,os_platform,last_observed_at,days_since\n\
         dev-c,Dev C,macOS,2026-11-13T00:00:00Z,8\n\
         dev-g,Dev G,WindowsServer2022,2026-11-13T23:59:59.999999Z,7\n"
    );
    // With --stale-days 8 the cut-off is 2026-11-13T00:00Z, exactly dev-c's
    // latest report: nobody is stale.
    assert_eq!(
        query_csv(
            &lake,
            "stale_devices",
            &["--as-of", "2026-11-20", "--stale-days", "8"]
        ),
        "device_id,device_name,os_platform,last_observed_at,days_since\n"
    );
}

#[test]
fn compliance_trend_computes_each_day_as_its_own_snapshot() {
    let dir = tempfile::tempdir().unwrap();
    let lake = snapshot_lake(&dir);
    // 11-18: a (P1 Error) noncompliant, c compliant, d and g no_policy.
    // 11-19: a compliant (P2 only), b noncompliant, c and f compliant,
    //        d and g no_policy; nobody stale yet (c is at the cut-off).
    // 11-20: c and g stale; e arrives (23:00Z), compliant.
    assert_eq!(
        query_csv(
            &lake,
            "compliance_trend",
            &["--as-of", "2026-11-20", "--days", "3"]
        ),
        "day,devices,compliant,noncompliant,no_policy,stale,compliance_pct\n\
         2026-11-18,4,1,1,2,0,50.0\n\
         2026-11-19,6,3,1,2,0,75.0\n\
         2026-11-20,5,3,1,1,2,75.0\n"
    );
    // Days before the first report are there, with nothing in them; on
    // 11-13, dev-c (compliant) and dev-g (no policy) have reported.
    let early = query_csv(
        &lake,
        "compliance_trend",
        &["--as-of", "2026-11-13", "--days", "2"],
    );
    assert_eq!(
        early,
        "day,devices,compliant,noncompliant,no_policy,stale,compliance_pct\n\
         2026-11-12,0,0,0,0,0,\n\
         2026-11-13,2,1,0,1,0,100.0\n"
    );
}

#[test]
fn policy_devices_and_device_detail_show_the_evidence() {
    let dir = tempfile::tempdir().unwrap();
    let lake = snapshot_lake(&dir);
    let rows = query_csv(&lake, "policy_devices", AS_OF);
    let p1: Vec<&str> = rows.lines().filter(|l| l.starts_with("P1,")).collect();
    assert_eq!(
        p1,
        [
            "P1,AV,dev-b,Dev B,Windows11,Error,false,2026-11-19T12:00:00Z,s1,Setting s1,Error,0x00000001,1,0",
            "P1,AV,dev-b,Dev B,Windows11,Error,false,2026-11-19T12:00:00Z,s2,Setting s2,Conflict,,1,0",
            "P1,AV new,dev-e,Dev E,Linux,Succeeded,false,2026-11-20T23:00:00Z,,,,,,",
            "P1,AV,dev-f,Dev F,Linux,Succeeded,false,2026-11-19T00:00:00Z,,,,,,",
            "P1,AV old,dev-c,Dev C,macOS,Succeeded,true,2026-11-13T00:00:00Z,,,,,,",
        ]
    );
    let detail = query_csv(
        &lake,
        "device_detail",
        &["--as-of", "2026-11-20", "--device", "DEV-B"],
    );
    assert_eq!(
        detail,
        "device_id,device_name,os_platform,last_observed_at,stale,compliance,policy_id,policy_name,policy_state,setting_id,setting_name,setting_state,error_code,expected,actual\n\
         dev-b,Dev B,Windows11,2026-11-19T12:00:00Z,false,noncompliant,P1,AV,Error,s1,Setting s1,Error,0x00000001,1,0\n\
         dev-b,Dev B,Windows11,2026-11-19T12:00:00Z,false,noncompliant,P1,AV,Error,s2,Setting s2,Conflict,,1,0\n"
    );
}

#[test]
fn query_list_and_unknown_names() {
    let o = run(&["query", "--lake", "unused", "--list"]);
    assert!(o.status.success());
    let list = String::from_utf8(o.stdout).unwrap();
    let names: Vec<&str> = list
        .lines()
        .map(|l| l.split_whitespace().next().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "compliance_by_policy",
            "compliance_by_platform",
            "setting_failures",
            "stale_devices",
            "compliance_trend",
            "management_channel",
            "enrollment_failures",
            "policy_devices",
            "device_detail",
            "policy_settings",
            "antivirus_health",
            "firewall_status",
            "onboarding_coverage",
            "onboarding_devices",
            "changes",
            "remediation",
            "exceptions",
            "exceptions_trend",
            "antivirus_mode",
            "secure_configuration"
        ]
    );
    let dir = tempfile::tempdir().unwrap();
    let lake = snapshot_lake(&dir);
    let o = run(&["query", "--lake", lake.to_str().unwrap(), "compliance"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).starts_with(
        "error: no named query `compliance`\nhint: the named queries are: compliance_by_policy, "
    ));
}

#[test]
fn a_user_folder_overrides_a_named_query() {
    let dir = tempfile::tempdir().unwrap();
    let lake = snapshot_lake(&dir);
    let queries = dir.path().join("queries");
    std::fs::create_dir_all(&queries).unwrap();
    std::fs::write(
        queries.join("stale_count.sql"),
        "-- stale_count: how many devices are stale\nSELECT count(*) AS stale FROM device_status WHERE stale\n",
    )
    .unwrap();
    let o = posture()
        .args(["query", "--format", "csv", "--queries"])
        .arg(&queries)
        .arg("--lake")
        .arg(&lake)
        .args(["stale_count", "--as-of", "2026-11-20"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(String::from_utf8(o.stdout).unwrap(), "stale\r\n2\r\n");
}

#[test]
fn json_and_parquet_outputs_carry_the_same_rows() {
    let dir = tempfile::tempdir().unwrap();
    let lake = snapshot_lake(&dir);
    let o = posture()
        .args(["query", "--format", "json", "--lake"])
        .arg(&lake)
        .args(["compliance_by_policy", "--as-of", "2026-11-20"])
        .output()
        .unwrap();
    let rows: Vec<Value> = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(rows.len(), 3);
    assert_eq!(rows[0]["compliance_pct"], 66.67);
    assert_eq!(rows[2]["compliance_pct"], Value::Null);
    assert_eq!(rows[2]["policy_type"], "AttackSurfaceReduction");
    let file = dir.path().join("policies.parquet");
    let o = posture()
        .args(["query", "--format", "parquet", "--output"])
        .arg(&file)
        .arg("--lake")
        .arg(&lake)
        .args(["compliance_by_policy", "--as-of", "2026-11-20"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(o.stdout.is_empty(), "data goes to the file, not stdout");
    assert_eq!(parquet_row_count(&file), 3);
}

/// Counts a Parquet file's rows from its footer.
fn parquet_row_count(path: &Path) -> i64 {
    use datafusion::parquet::file::reader::{FileReader, SerializedFileReader};
    let reader = SerializedFileReader::new(std::fs::File::open(path).unwrap()).unwrap();
    reader.metadata().file_metadata().num_rows()
}

/// Runs tests/crosscheck.py: the five contract queries computed again by
/// DuckDB from the lake's Parquet files, compared row for row.
fn crosscheck(lake: &Path, args: &[&str]) {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/crosscheck.py");
    let o = Command::new("python3")
        .arg(script)
        .args(["--posture", env!("CARGO_BIN_EXE_posture"), "--lake"])
        .arg(lake)
        .args(args)
        .output()
        .expect("python3 runs");
    assert!(
        o.status.success(),
        "DuckDB disagrees ({args:?}):\n{}\n{}",
        String::from_utf8_lossy(&o.stdout),
        stderr(&o)
    );
}

#[test]
fn duckdb_agrees_on_the_edge_case_lakes() {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/crosscheck");
    for n in 1..=5 {
        let dir = tempfile::tempdir().unwrap();
        let lake = lake_in(&dir);
        ingest(&lake, &[&fixtures.join(format!("edge{n}.ndjson"))]);
        crosscheck(&lake, &[]);
        crosscheck(&lake, &["--stale-days", "1", "--days", "5"]);
    }
}

#[test]
fn duckdb_agrees_on_a_generated_fleet() {
    let dir = tempfile::tempdir().unwrap();
    let inbox = dir.path().join("inbox");
    let o = run(&[
        "generate",
        "--out",
        inbox.to_str().unwrap(),
        "--devices",
        "150",
        "--days",
        "20",
        "--seed",
        "5",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let lake = lake_in(&dir);
    ingest(&lake, &[&inbox]);
    crosscheck(&lake, &[]);
    crosscheck(
        &lake,
        &["--as-of", "2026-11-12", "--stale-days", "3", "--days", "10"],
    );
    crosscheck(&lake, &["--as-of", "2026-10-25", "--days", "3"]);
}
