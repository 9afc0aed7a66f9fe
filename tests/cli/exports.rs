//! Vendor exports (issue 5): Intune report exports and the Defender machine
//! list, in every shape, into the one lake; the same device from several
//! sources counted once; the new named queries with hand-computed answers
//! worked out from the fixtures in `tests/fixtures/exports/`.

use super::*;

fn vendor(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/exports")
        .join(name)
}

/// Every vendor fixture and the one agent report, ingested once.
pub(crate) fn export_lake(dir: &tempfile::TempDir) -> PathBuf {
    let lake = lake_in(dir);
    // 29 rows: 22 new, 3 duplicates (a DefenderAgents row, a firewall row
    // and a machine seen on both pages), 4 quarantined (an unknown
    // DeviceState, an unknown PolicyStatus, the two rows of the unknown
    // export).
    assert_eq!(ingest(&lake, &[&vendor("")]), counts(29, 22, 3, 4));
    lake
}

#[test]
fn every_shape_lands_and_a_second_run_is_all_duplicates() {
    let dir = tempfile::tempdir().unwrap();
    let lake = export_lake(&dir);
    assert_eq!(ingest(&lake, &[&vendor("")]), counts(29, 0, 25, 4));
    assert_eq!(count(&lake, "antivirus_health"), 6);
    assert_eq!(count(&lake, "firewall_status"), 4);
    assert_eq!(count(&lake, "device_inventory"), 5);
    // 1 agent report, 4 devices of the zip, 2 of the assignment export.
    assert_eq!(count(&lake, "reports"), 7);
    assert_eq!(count(&lake, "policy_states"), 7);
    // The ingest log counts rows per file; the zip is one file.
    let log = sql(
        &lake,
        "SELECT file, read, new, duplicate, quarantined FROM ingest_log \
         WHERE file LIKE '%.zip' ORDER BY ingested_at LIMIT 1",
    );
    assert_eq!(log[0]["read"], 5);
    assert_eq!(log[0]["new"], 4);
    assert_eq!(log[0]["quarantined"], 1);
}

#[test]
fn unknown_shapes_and_values_are_quarantined_with_their_reason() {
    let dir = tempfile::tempdir().unwrap();
    let lake = export_lake(&dir);
    let rows = sql(
        &lake,
        "SELECT regexp_replace(file, '^.*/', '') AS file, line, reason, raw FROM quarantine ORDER BY file, line",
    );
    let got: Vec<(String, u64, String, String)> = rows
        .iter()
        .map(|r| {
            (
                r["file"].as_str().unwrap().to_owned(),
                r["line"].as_u64().unwrap(),
                r["reason"].as_str().unwrap().to_owned(),
                r["raw"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(got.len(), 4, "{got:?}");
    assert_eq!(
        got[0].0,
        "DeviceStatusesByConfigurationProfile.zip!DeviceStatusesByConfigurationProfile_00000000.csv"
    );
    assert_eq!(got[0].1, 6);
    assert_eq!(got[0].2, "column `PolicyStatus` has an unknown value `9`");
    assert!(got[0].3.starts_with(",WS-0009,"), "{}", got[0].3);
    assert_eq!(got[1].0, "unhealthy_defender_agents.csv");
    assert_eq!(got[1].1, 5);
    assert_eq!(
        got[1].2,
        "column `DeviceState` has an unknown value `Sleepy`"
    );
    let unknown = "unknown export shape: its columns `Foo, Bar, Baz` match no export this version reads (DeviceStatusesByConfigurationProfile, DeviceAssignmentStatusByConfigurationPolicy, DefenderAgents, FirewallStatus, the machines API)";
    assert_eq!(
        (got[2].1, got[2].2.as_str(), got[2].3.as_str()),
        (2, unknown, "1,2,3")
    );
    assert_eq!((got[3].1, got[3].3.as_str()), (3, "4,5,6"));
}

#[test]
fn columns_and_code_tables_map_in_both_localisation_shapes() {
    let dir = tempfile::tempdir().unwrap();
    let lake = export_lake(&dir);
    let rows = sql(
        &lake,
        "SELECT device_id, device_name, observed_at, device_state, device_state_names, product_status, \
         product_status_names, real_time_protection_enabled AS rtp, signature_update_overdue AS overdue, \
         tamper_protection_enabled AS tamper, is_virtual_machine AS vm, managed_by, engine_version, last_quick_scan_at \
         FROM antivirus_health ORDER BY device_id, observed_at",
    );
    let line = |r: &serde_json::Map<String, Value>| {
        [
            "device_id",
            "device_name",
            "observed_at",
            "device_state",
            "device_state_names",
            "product_status",
            "product_status_names",
            "rtp",
            "overdue",
            "tamper",
            "vm",
            "managed_by",
        ]
        .iter()
        .map(|k| match &r[*k] {
            Value::String(s) => s.clone(),
            Value::Null => "-".to_owned(),
            v => v.to_string(),
        })
        .collect::<Vec<_>>()
        .join("|")
    };
    let got: Vec<String> = rows.iter().map(line).collect();
    assert_eq!(
        got,
        [
            // The text-only export: an older row of device 1.
            "11111111-0000-0000-0000-000000000001|WS-0001|2026-07-15T10:00:00Z|2|rebootPending|0|noStatus|false|false|true|false|Intune",
            // 2026-07-20 04:41:52.7475490, UTC without an offset: the 7th digit dropped.
            "11111111-0000-0000-0000-000000000001|WS-0001|2026-07-20T04:41:52.747549Z|0|clean|0|noStatus|true|false|true|false|MDM",
            "11111111-0000-0000-0000-000000000002|WS-0002|2026-07-19T10:00:00Z|2|rebootPending|32|avSignaturesOutOfDate|false|true|true|false|MDM",
            "11111111-0000-0000-0000-000000000003|Lab, \"bench\" 3|2026-07-18T08:00:00Z|3|fullScanPending, rebootPending|0|noStatus|true|false|false|true|MDE",
            "11111111-0000-0000-0000-000000000004|WS-0004|2026-07-01T08:00:00Z|16|critical|3|serviceNotRunning, serviceStartedWithoutMalwareProtection|true|false|true|false|MDM",
            "11111111-0000-0000-0000-000000000005|WS-0005|2026-07-19T10:00:00Z|0|clean|0|noStatus|false|false|true|true|Intune",
        ]
    );
    assert_eq!(rows[1]["engine_version"], "1.1.24060.5");
    assert_eq!(rows[1]["last_quick_scan_at"], "2026-07-19T22:00:00Z");

    let firewall = column(
        &lake,
        "SELECT device_id || '|' || firewall_status || '|' || firewall_status_name || '|' || \
         CAST(observed_at AS VARCHAR) || '|' || coalesce(reference_id, '-') FROM firewall_status ORDER BY device_id",
    );
    assert_eq!(
        firewall,
        [
            "11111111-0000-0000-0000-000000000001|0|Enabled|2026-07-20T04:00:00Z|aaaaaaaa-0000-0000-0000-000000000001",
            "11111111-0000-0000-0000-000000000002|1|Disabled|2026-07-19T09:30:00Z|aaaaaaaa-0000-0000-0000-000000000002",
            "11111111-0000-0000-0000-000000000003|3|Temporarily disabled|2026-07-18T08:00:00.123456Z|-",
            "11111111-0000-0000-0000-000000000006|2|Limited|2026-07-20T01:00:00Z|-",
        ]
    );

    // complianceStatus 2 → Succeeded, 4 → Error, 6 → Conflict, 7 → NotApplicable,
    // the text-only `Pending` and `Succeeded`; platforms from UnifiedPolicyPlatformType.
    let policies = column(
        &lake,
        "SELECT p.device_id || '|' || p.policy_id || '|' || p.policy_type || '|' || p.state || '|' || r.os_platform \
         || '|' || coalesce(r.aad_device_id, '-') || '|' || r.source \
         FROM policy_states p JOIN reports r ON r.report_id = p.report_id \
         WHERE r.source IS NOT NULL ORDER BY p.device_id, p.policy_id",
    );
    let a1 = "aaaaaaaa-0000-0000-0000-000000000001";
    let a2 = "aaaaaaaa-0000-0000-0000-000000000002";
    let zip = "intune:DeviceStatusesByConfigurationProfile";
    let assign = "intune:DeviceAssignmentStatusByConfigurationPolicy";
    assert_eq!(
        policies,
        [
            format!("11111111-0000-0000-0000-000000000001|p1|Antivirus|Succeeded|Windows|-|{zip}"),
            format!(
                "11111111-0000-0000-0000-000000000001|p2|Firewall|Pending|Windows|{a1}|{assign}"
            ),
            format!("11111111-0000-0000-0000-000000000002|p1|Antivirus|Error|Windows|-|{zip}"),
            format!(
                "11111111-0000-0000-0000-000000000002|p2|Firewall|Succeeded|Windows|{a2}|{assign}"
            ),
            format!("11111111-0000-0000-0000-000000000007|p1|Antivirus|Conflict|Windows|-|{zip}"),
            format!(
                "11111111-0000-0000-0000-000000000008|p1|Antivirus|NotApplicable|Windows|-|{zip}"
            ),
        ]
    );

    let machines = column(
        &lake,
        "SELECT machine_id || '|' || os_platform || '|' || managed_by || '|' || coalesce(aad_device_id, '-') \
         || '|' || coalesce(machine_tags, '-') FROM device_inventory ORDER BY machine_id",
    );
    assert_eq!(
        machines,
        [
            format!("mde-0001|Windows11|MDE|{a1}|finance, laptop"),
            format!("mde-0002|Windows10|Intune|{a2}|-"),
            "mde-0003|WindowsServer2019|ConfigMgr|-|-".to_owned(),
            "mde-0004|iOS|Unknown|-|-".to_owned(),
            "mde-0005|Linux|Unknown|-|-".to_owned(),
        ]
    );
}

#[test]
fn one_device_from_agent_intune_and_machine_list_counts_once() {
    let dir = tempfile::tempdir().unwrap();
    let lake = export_lake(&dir);
    // mde-0001's agent report (03:00) and Intune device 1's two export
    // reports (01:00, 02:00) are one device, matched through its Entra id:
    // its latest report is the agent's. Intune device 2 is mde-0002 (its
    // newest export report, 07-19 09:00, has p1 in Error); devices 7 and 8
    // have no Entra id and stay on their own.
    assert_eq!(
        query_csv(&lake, "compliance_by_platform", &[]),
        "os_platform,devices,compliant,noncompliant,no_policy,stale,compliance_pct\n\
         Windows,3,0,2,1,0,0.0\n\
         Windows11,1,1,0,0,0,100.0\n"
    );
    assert_eq!(
        query_csv(&lake, "compliance_by_policy", &[]),
        "policy_id,policy_name,policy_type,devices,succeeded,error,conflict,pending,not_applicable,stale,compliance_pct\n\
         p1,Defender AV baseline,Antivirus,3,0,1,1,0,1,0,0.0\n\
         agent-av,AV (agent),Antivirus,1,1,0,0,0,0,0,100.0\n"
    );
    let devices = column(
        &lake,
        "SELECT DISTINCT device_id FROM device_status ORDER BY device_id",
    );
    assert_eq!(
        devices,
        [
            "intune:11111111-0000-0000-0000-000000000007",
            "intune:11111111-0000-0000-0000-000000000008",
            "mde-0001",
            "mde-0002",
        ]
    );
}

#[test]
fn antivirus_and_firewall_views_count_each_device_once() {
    let dir = tempfile::tempdir().unwrap();
    let lake = export_lake(&dir);
    // Device 1: newest row 07-20 (clean) wins over 07-15; device 4 is
    // stale (07-01, more than 7 days before the end of 07-20).
    assert_eq!(
        query_csv(&lake, "antivirus_health", &[]),
        "device_state_code,device_state,devices,real_time_protection_off,signatures_overdue,tamper_protection_off,malware_protection_off,stale\n\
         0,clean,2,1,0,0,0,0\n\
         2,rebootPending,1,1,1,0,0,0\n\
         3,\"fullScanPending, rebootPending\",1,0,0,1,0,0\n\
         16,critical,0,0,0,0,0,1\n"
    );
    // As of 07-16 device 1's row of 07-15 is its newest, devices 2, 3, 5
    // have not reported yet, and device 4 is still stale (07-01 is before
    // 07-10, the end of 07-16 less 7 days).
    assert_eq!(
        query_csv(&lake, "antivirus_health", &["--as-of", "2026-07-16"]),
        "device_state_code,device_state,devices,real_time_protection_off,signatures_overdue,tamper_protection_off,malware_protection_off,stale\n\
         2,rebootPending,1,1,0,0,0,0\n\
         16,critical,0,0,0,0,0,1\n"
    );
    assert_eq!(
        query_csv(&lake, "firewall_status", &[]),
        "firewall_status_code,firewall_status,devices,stale\n\
         0,Enabled,1,0\n\
         1,Disabled,1,0\n\
         2,Limited,1,0\n\
         3,Temporarily disabled,1,0\n"
    );
}

#[test]
fn onboarding_coverage_and_the_devices_to_bring_under_management() {
    let dir = tempfile::tempdir().unwrap();
    let lake = export_lake(&dir);
    assert_eq!(
        query_csv(&lake, "onboarding_coverage", &[]),
        "os_platform,devices,onboarded,security_settings_management,intune,configmgr,unsupported_platform,not_reporting,to_manage,coverage_pct\n\
         Linux,1,0,0,0,0,0,0,1,0.0\n\
         Windows10,1,1,0,1,0,0,0,1,0.0\n\
         Windows11,1,1,1,0,0,0,0,0,100.0\n\
         WindowsServer2019,1,1,0,0,1,0,1,1,0.0\n\
         iOS,1,0,0,0,0,1,0,1,0.0\n"
    );
    let csv = query_csv(&lake, "onboarding_devices", &[]);
    let got: Vec<String> = csv
        .lines()
        .skip(1)
        .map(|l| {
            let cells: Vec<&str> = l.split(',').collect();
            format!("{}|{}", cells[0], cells[cells.len() - 1])
        })
        .collect();
    assert_eq!(
        got,
        [
            "mde-0002|managed by Intune",
            "mde-0005|not onboarded",
            "mde-0003|not reporting",
            "mde-0004|unsupported platform",
        ]
    );
}

#[test]
fn a_lake_of_exports_only_can_be_queried() {
    let dir = tempfile::tempdir().unwrap();
    let lake = lake_in(&dir);
    assert_eq!(
        ingest(
            &lake,
            &[
                &vendor("machines_page1.json"),
                &vendor("machines_page2.json")
            ]
        ),
        counts(6, 5, 1, 0)
    );
    let csv = query_csv(&lake, "onboarding_coverage", &[]);
    assert_eq!(csv.lines().count(), 6, "{csv}");
    // No policy data: the contract queries answer with no rows.
    assert_eq!(
        query_csv(&lake, "compliance_by_platform", &[]),
        "os_platform,devices,compliant,noncompliant,no_policy,stale,compliance_pct\n"
    );
}

#[test]
fn a_corrupt_zip_is_a_file_that_could_not_be_read() {
    let dir = tempfile::tempdir().unwrap();
    let zip = dir.path().join("export.zip");
    std::fs::write(&zip, b"PK\x03\x04 not really a zip").unwrap();
    let lake = lake_in(&dir);
    let o = posture()
        .arg("ingest")
        .arg("--lake")
        .arg(&lake)
        .arg(&zip)
        .arg(vendor("firewall.json"))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains(&format!(
            "error: cannot read `{}`: not a readable zip",
            zip.display()
        )),
        "{}",
        stderr(&o)
    );
    // The other file of the run is committed.
    assert_eq!(summary(&o), counts(3, 3, 0, 0));
    assert_eq!(count(&lake, "firewall_status"), 3);
}

#[test]
fn without_a_machine_to_match_a_device_is_named_by_its_entra_id() {
    let dir = tempfile::tempdir().unwrap();
    let lake = lake_in(&dir);
    let exports = [
        vendor("device_assignment_status.csv"),
        vendor("DeviceStatusesByConfigurationProfile.zip"),
    ];
    assert_eq!(
        ingest(&lake, &[&exports[0], &exports[1]]),
        counts(7, 6, 0, 1)
    );
    // No agent report and no machine list: Intune devices 1 and 2 are
    // known by the Entra id the assignment export gives them (both of
    // their exports' reports count for that one device); 7 and 8, which
    // no export gives an Entra id, by their Intune id.
    assert_eq!(
        column(
            &lake,
            "SELECT device_id || '|' || compliance FROM device_status ORDER BY device_id"
        ),
        [
            // Device 1's newest report is the assignment export's (p2 Pending).
            "aad:aaaaaaaa-0000-0000-0000-000000000001|noncompliant",
            // Device 2's is the zip's (p1 Error).
            "aad:aaaaaaaa-0000-0000-0000-000000000002|noncompliant",
            "intune:11111111-0000-0000-0000-000000000007|noncompliant",
            "intune:11111111-0000-0000-0000-000000000008|no_policy",
        ]
    );
}

/// An export is read into memory, so it is held to --max-decompressed-bytes,
/// and so is each file inside a zip (a zip bomb): past it the file is logged
/// as unreadable, and the rest of the run lands.
#[test]
fn an_export_or_zip_entry_past_the_size_limit_is_not_read() {
    let dir = tempfile::tempdir().unwrap();
    let lake = lake_in(&dir);
    let ingest_limited = |paths: &[PathBuf]| {
        posture()
            .args(["ingest", "--max-decompressed-bytes", "1100", "--lake"])
            .arg(&lake)
            .args(paths)
            .output()
            .unwrap()
    };
    let csv = vendor("defender_agents_loc.csv");
    assert!(std::fs::metadata(&csv).unwrap().len() > 1100);
    let zip = vendor("DeviceStatusesByConfigurationProfile.zip");
    assert!(
        std::fs::metadata(&zip).unwrap().len() <= 1100,
        "the zip itself is small"
    );
    let o = ingest_limited(&[csv.clone(), zip.clone(), vendor("firewall.json")]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains(&format!(
            "error: cannot read `{}`: the export is larger than --max-decompressed-bytes (1100 bytes)",
            csv.display()
        )),
        "{err}"
    );
    assert!(
        err.contains(&format!(
            "error: cannot read `{}`: zip entry `",
            zip.display()
        )),
        "{err}"
    );
    assert!(
        err.contains("is larger than --max-decompressed-bytes (1100 bytes)"),
        "{err}"
    );
    assert_eq!(summary(&o), counts(3, 3, 0, 0));
    assert_eq!(count(&lake, "firewall_status"), 3);
}
