//! What changed since the day before, remediation times and exceptions, over
//! the small histories of `tests/fixtures/history/` (answers worked out by
//! hand in its README).

use super::*;

fn history(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/history")
        .join(name)
}

fn history_lake(dir: &tempfile::TempDir, file: &str) -> PathBuf {
    let lake = lake_in(dir);
    let c = ingest(&lake, &[&history(file)]);
    assert_eq!((c.new, c.quarantined), (c.read, 0));
    lake
}

#[test]
fn changes_lists_each_kind_of_change_since_the_day_before() {
    let dir = tempfile::tempdir().unwrap();
    let lake = history_lake(&dir, "changes.ndjson");
    assert_eq!(
        query_csv(
            &lake,
            "changes",
            &["--as-of", "2026-11-12", "--stale-days", "2"]
        ),
        "change,device_id,device_name,policy_id,setting_id,previous,current\n\
         became_noncompliant,dev-a,dev-a.contoso.local,,,compliant,noncompliant\n\
         fixed,dev-b,dev-b.contoso.local,,,noncompliant,compliant\n\
         new_device,dev-c,dev-c.contoso.local,,,,compliant\n\
         gone_stale,dev-d,dev-d.contoso.local,,,compliant,stale\n\
         setting_newly_failing,,,P1,S1,not failing,failing on 1 device(s)\n"
    );
    // The first day: everything is new, against an empty day before.
    assert_eq!(
        query_csv(
            &lake,
            "changes",
            &["--as-of", "2026-11-10", "--stale-days", "2"]
        ),
        "change,device_id,device_name,policy_id,setting_id,previous,current\n\
         new_device,dev-d,dev-d.contoso.local,,,,compliant\n\
         new_device,dev-e,dev-e.contoso.local,,,,noncompliant\n\
         setting_newly_failing,,,P2,S3,not failing,failing on 1 device(s)\n"
    );
}

#[test]
fn remediation_times_episodes_from_first_failure_to_first_success() {
    let dir = tempfile::tempdir().unwrap();
    let lake = history_lake(&dir, "remediation.ndjson");
    assert_eq!(
        query_csv(&lake, "remediation", &["--as-of", "2026-11-12"]),
        "policy_id,setting_id,devices,episodes,fixed,open,median_hours,p90_hours,regressed_devices\n\
         P9,X,4,5,4,1,11.0,48.0,1\n\
         P9,Y,1,1,1,0,1.5,1.5,0\n"
    );
    // A day later r4 is fixed: from its first failing report (11-10 00:00),
    // not its last (11-11 00:00), to 11-13 00:00 is 72 h.
    assert_eq!(
        query_csv(&lake, "remediation", &["--as-of", "2026-11-13"]),
        "policy_id,setting_id,devices,episodes,fixed,open,median_hours,p90_hours,regressed_devices\n\
         P9,X,4,5,5,0,12.0,72.0,1\n\
         P9,Y,1,1,1,0,1.5,1.5,0\n"
    );
}

#[test]
fn an_exception_that_expires_mid_trend_changes_the_category_on_the_next_day() {
    let dir = tempfile::tempdir().unwrap();
    let lake = history_lake(&dir, "changes.ndjson");
    let o = load_exceptions(&lake, &history("exceptions.csv"));
    assert!(o.status.success(), "{}", stderr(&o));
    let args = ["--as-of", "2026-11-12", "--days", "3", "--stale-days", "2"];
    // dev-e (P2 Conflict) is excepted through 2026-11-11, its expiry day,
    // and noncompliant again on 2026-11-12; dev-a's only failure on 11-12
    // is P1/S1, excepted until December. Excepted is never compliant.
    assert_eq!(
        query_csv(&lake, "exceptions_trend", &args),
        "day,devices,compliant,noncompliant,excepted,no_policy,stale,compliance_pct\n\
         2026-11-10,2,1,0,1,0,0,50.0\n\
         2026-11-11,4,2,1,1,0,0,50.0\n\
         2026-11-12,4,2,1,1,0,1,50.0\n"
    );
    // The contract's trend is untouched by exceptions.
    assert_eq!(
        query_csv(&lake, "compliance_trend", &args),
        "day,devices,compliant,noncompliant,no_policy,stale,compliance_pct\n\
         2026-11-10,2,1,1,0,0,50.0\n\
         2026-11-11,4,2,2,0,0,50.0\n\
         2026-11-12,4,2,2,0,1,50.0\n"
    );
    assert_eq!(
        query_csv(
            &lake,
            "exceptions",
            &["--as-of", "2026-11-12", "--stale-days", "2"]
        ),
        "line,device_id,policy_id,setting_id,reason,owner,expires,status,devices_matched\n\
         3,,P1,S1,known false positive (vendor case 123),bob@contoso.com,2026-12-31,active,1\n\
         2,dev-e,P2,,lab device awaiting rebuild,alice@contoso.com,2026-11-11,expired,1\n"
    );
}

#[test]
fn a_reload_replaces_the_exceptions_in_force_and_keeps_the_old_ones() {
    let dir = tempfile::tempdir().unwrap();
    let lake = history_lake(&dir, "changes.ndjson");
    assert!(
        load_exceptions(&lake, &history("exceptions.csv"))
            .status
            .success()
    );
    let second = dir.path().join("second.csv");
    std::fs::write(
        &second,
        "device_id,policy_id,setting_id,reason,owner,expires\ndev-b,,,spare,carol,2026-11-30\n",
    )
    .unwrap();
    assert!(load_exceptions(&lake, &second).status.success());
    assert_eq!(
        column(&lake, "SELECT device_id FROM current_exceptions"),
        ["dev-b"]
    );
    assert_eq!(count(&lake, "exceptions"), 3);
    assert_eq!(
        column(&lake, "SELECT count(DISTINCT load_id) AS n FROM exceptions"),
        ["2"]
    );
}

#[test]
fn a_bad_exceptions_file_names_its_line_and_loads_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let lake = history_lake(&dir, "changes.ndjson");
    let bad = dir.path().join("bad.csv");
    std::fs::write(
        &bad,
        "device_id,policy_id,setting_id,reason,owner,expires\n\
         dev-a,,,ok,alice,2026-11-30\n\
         dev-b,,,,alice,2026-11-30\n",
    )
    .unwrap();
    let o = load_exceptions(&lake, &bad);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(
        stderr(&o).lines().next().unwrap(),
        format!("error: `{}` line 3: `reason` is empty", bad.display())
    );
    assert_eq!(count(&lake, "exceptions"), 0);
}
