//! Real tenant data (issues 5 and 14): a fleet that arrives only as Intune
//! and Defender for Endpoint exports, in every documented shape, into the
//! one lake; each device counted once; every named query checked against
//! answers worked out by hand from `tests/fixtures/exports/` (its README
//! says what each file is and which Microsoft page its columns come from).
//!
//! The fleet, as of 2026-07-20 (stale after 7 days):
//! - WS-0001 (Intune 1, machine c001, Windows11): AV and firewall policies
//!   Succeeded: compliant.
//! - WS-0002 (Intune 2, machine c002, Windows10; machine c007 was merged
//!   into it): AV Error (Cloud Block Level, code `-2016281112`), firewall
//!   Error (its setting from NoncompliantDevicesAndSettings): noncompliant.
//! - WS-0003 (Intune 3, in no machine list: `aad:…0003`, platform from the
//!   inventory, `Windows`): AV Conflict, firewall Pending: noncompliant.
//! - MAC-0004 (Intune 4, machine c004, macOS): its macOS AV policy
//!   Succeeded (JSON inside the zip): compliant.
//! - WS-0005 (Intune 5, machine c005): last seen 2026-07-05: stale.
//! - WS-0006 (Intune 6, machine c006): only the statuses export (no Entra
//!   id), linked to its machine by the device inventory: compliant.
//! - Machines c008 (excluded), c009 (can be onboarded, unmanaged).

use super::*;

fn export(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/exports")
        .join(name)
}

const AV: &str = "c0a8b4f2-7d5e-4f1a-8b9c-2d3e4f5a6b7c";
const M2: &str = "1e5bc9d7e413ddd7902c2932e418702b84d0c002";
const ASSIGNMENT: &str =
    "DeviceAssignmentStatusByConfigurationPolicy_5d1c2b7e-4f0a-4b8e-9c1d-2e3f4a5b6c7d.zip";
const MAC_ASSIGNMENT: &str =
    "DeviceAssignmentStatusByConfigurationPolicy_7a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d.zip";
const PER_SETTING: &str =
    "DevicePolicySettingsComplianceReport_3c4d5e6f-7a8b-4c9d-0e1f-2a3b4c5d6e7f.zip";
const COMPLIANCE: &str =
    "NonCompliantDevicesByCompliancePolicy_9b8a7c6d-5e4f-4a3b-2c1d-0e9f8a7b6c5d.zip";

/// Every export fixture, ingested once.
pub(crate) fn export_lake(dir: &tempfile::TempDir) -> PathBuf {
    let lake = lake_in(dir);
    // 62 rows: 3 duplicates (machine c001 on both pages, WS-0002 in
    // UnhealthyDefenderAgents too, an assessment both in the API page and
    // the "via files" export), 6 quarantined (the compliance report's 2
    // rows, the file that cannot be told apart, the per-setting row of a
    // compliance policy, the unknown export's 2 rows).
    assert_eq!(ingest(&lake, &[&export("")]), counts(62, 53, 3, 6));
    lake
}

#[test]
fn every_shape_lands_and_a_second_run_is_all_duplicates() {
    let dir = tempfile::tempdir().unwrap();
    let lake = export_lake(&dir);
    assert_eq!(ingest(&lake, &[&export("")]), counts(62, 0, 56, 6));
    // 4 + 1 assignment rows, 4 statuses rows: one report each.
    assert_eq!(count(&lake, "reports"), 9);
    assert_eq!(count(&lake, "policy_states"), 9);
    // 6 per-setting rows and 1 by policy name, filed under their statuses.
    assert_eq!(count(&lake, "setting_states"), 7);
    assert_eq!(
        column(
            &lake,
            "SELECT count(*) FROM setting_states s JOIN policy_states p \
             ON p.report_id = s.report_id AND p.device_id = s.device_id \
             AND p.observed_at = s.observed_at AND p.policy_id = s.policy_id"
        ),
        ["7"]
    );
    assert_eq!(count(&lake, "antivirus_health"), 8);
    assert_eq!(count(&lake, "firewall_status"), 3);
    assert_eq!(count(&lake, "device_inventory"), 8);
    assert_eq!(count(&lake, "intune_devices"), 6);
    assert_eq!(count(&lake, "secure_configurations"), 12);
    // The ingest log counts rows per file; a zip is one file.
    let log = sql(
        &lake,
        &format!(
            "SELECT read, new, duplicate, quarantined FROM ingest_log \
             WHERE file LIKE '%{PER_SETTING}' ORDER BY ingested_at LIMIT 1"
        ),
    );
    assert_eq!(
        (
            &log[0]["read"],
            &log[0]["new"],
            &log[0]["duplicate"],
            &log[0]["quarantined"]
        ),
        (&7.into(), &6.into(), &0.into(), &1.into())
    );
}

#[test]
fn what_is_not_read_is_quarantined_with_its_reason() {
    let dir = tempfile::tempdir().unwrap();
    let lake = export_lake(&dir);
    let rows = sql(
        &lake,
        "SELECT regexp_replace(file, '^.*/', '') AS file, line, reason FROM quarantine ORDER BY file, line",
    );
    let got: Vec<(String, u64, String)> = rows
        .iter()
        .map(|r| {
            (
                r["file"].as_str().unwrap().to_owned(),
                r["line"].as_u64().unwrap(),
                r["reason"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let compliance = "`NonCompliantDevicesByCompliancePolicy` is a compliance-policy report: its rows are not security-settings states, so posture does not read them";
    let unknown = "unknown export shape: its columns `Foo, Bar, Baz` match no export this version reads (DeviceAssignmentStatusByConfigurationPolicy, DeviceStatusesByConfigurationProfile, DevicePolicySettingsComplianceReport, NoncompliantDevicesAndSettings, DefenderAgents, FirewallStatus, DevicesWithInventory, deviceavinfo, the machines API, SecureConfigurationsAssessmentByMachine, DeviceTvmSecureConfigurationAssessment)";
    let entry = |zip: &str| format!("{zip}!{}", zip.replace(".zip", ".csv"));
    assert_eq!(
        got,
        [
            (
                entry(PER_SETTING),
                8,
                "no status of device `11111111-0000-0000-0000-000000000001` for policy `f0e1d2c3-b4a5-4968-8778-695a4b3c2d1e` in this run or the lake: a per-setting row is evidence of a security-settings policy's status on a device, so ingest that policy's status export (DeviceStatusesByConfigurationProfile or DeviceAssignmentStatusByConfigurationPolicy) with it; a compliance policy's settings are not read".to_owned()
            ),
            (entry(COMPLIANCE), 2, compliance.to_owned()),
            (entry(COMPLIANCE), 3, compliance.to_owned()),
            (
                "statuses.csv".to_owned(),
                2,
                "cannot tell which report this is: its columns are those of DeviceStatusesByConfigurationProfile and of compliance-policy reports (NonCompliantDevicesByCompliancePolicy, PolicyNonComplianceNew), the file name names no report, and `UnifiedPolicyType` `Settings catalog` is not a security-settings type; keep the report's name at the start of the file's name, as Intune names its export (`DeviceStatusesByConfigurationProfile_<id>.zip`)".to_owned()
            ),
            ("unknown_export.csv".to_owned(), 2, unknown.to_owned()),
            ("unknown_export.csv".to_owned(), 3, unknown.to_owned()),
        ]
    );
}

/// Issue 14: a compliance policy's rows never count as security-settings
/// states, whether told by the report's name or by its policy type.
#[test]
fn a_compliance_policy_export_never_adds_security_settings_states() {
    let dir = tempfile::tempdir().unwrap();
    let lake = lake_in(&dir);
    let named = dir.path().join("named");
    std::fs::create_dir(&named).unwrap();
    std::fs::copy(export(COMPLIANCE), named.join(COMPLIANCE)).unwrap();
    // The same rows in a file whose name says nothing: their
    // UnifiedPolicyType, `Compliance`, tells.
    let unnamed = dir.path().join("export.csv");
    let text = {
        let mut archive =
            zip::ZipArchive::new(std::fs::File::open(export(COMPLIANCE)).unwrap()).unwrap();
        let mut entry = archive.by_index(0).unwrap();
        let mut text = String::new();
        std::io::Read::read_to_string(&mut entry, &mut text).unwrap();
        text
    };
    std::fs::write(&unnamed, text).unwrap();
    assert_eq!(ingest(&lake, &[&named, &unnamed]), counts(4, 0, 0, 4));
    assert_eq!(
        column(
            &lake,
            "SELECT reason FROM quarantine WHERE file LIKE '%export.csv' ORDER BY line LIMIT 1"
        ),
        [
            "`UnifiedPolicyType` `Compliance` is a compliance policy: not a security-settings state, so posture does not read it"
        ]
    );
    assert_eq!(count(&lake, "policy_states"), 0);
    // With the whole fleet, no policy state or setting is the compliance
    // policy's.
    let dir = tempfile::tempdir().unwrap();
    let lake = export_lake(&dir);
    assert_eq!(
        column(
            &lake,
            "SELECT count(*) FROM policy_states WHERE policy_id = 'f0e1d2c3-b4a5-4968-8778-695a4b3c2d1e'"
        ),
        ["0"]
    );
    assert_eq!(
        column(
            &lake,
            "SELECT count(*) FROM setting_states WHERE policy_id = 'f0e1d2c3-b4a5-4968-8778-695a4b3c2d1e'"
        ),
        ["0"]
    );
}

#[test]
fn the_exports_answer_the_contract_queries_each_device_counted_once() {
    let dir = tempfile::tempdir().unwrap();
    let lake = export_lake(&dir);
    assert_eq!(
        column(
            &lake,
            "SELECT device_id FROM device_status ORDER BY device_id"
        ),
        [
            "1e5bc9d7e413ddd7902c2932e418702b84d0c001",
            M2,
            "1e5bc9d7e413ddd7902c2932e418702b84d0c004",
            "1e5bc9d7e413ddd7902c2932e418702b84d0c005",
            "1e5bc9d7e413ddd7902c2932e418702b84d0c006",
            "aad:aaaaaaaa-0000-0000-0000-000000000003",
        ]
    );
    // The platform is the machine list's where the device is in it (the
    // exports say only `Windows10`, "Windows 10 and later"), else the
    // inventory's family.
    assert_eq!(
        query_csv(&lake, "compliance_by_platform", &[]),
        "os_platform,devices,compliant,noncompliant,no_policy,stale,compliance_pct\n\
         Windows,1,0,1,0,0,0.0\n\
         Windows10,1,0,1,0,0,0.0\n\
         Windows11,2,2,0,0,1,100.0\n\
         macOS,1,1,0,0,0,100.0\n"
    );
    // Each policy comes from its own export job: a device's current states
    // are the newest of each.
    assert_eq!(
        query_csv(&lake, "compliance_by_policy", &[]),
        format!(
            "policy_id,policy_name,policy_type,devices,succeeded,error,conflict,pending,not_applicable,stale,compliance_pct\n\
             {AV},AV baseline,Antivirus,3,1,1,1,0,0,1,33.33\n\
             d4e5f6a7-1b2c-4d3e-8f9a-0b1c2d3e4f5a,Firewall baseline,Firewall,4,2,1,0,1,0,0,50.0\n\
             e7f8a9b0-2c3d-4e5f-9a0b-1c2d3e4f5a6b,AV baseline - macOS,Antivirus,1,1,0,0,0,0,0,100.0\n"
        )
    );
    // `-2016281112` and `0x87d1fde8` are one code; WS-0005's is stale.
    assert_eq!(
        query_csv(&lake, "setting_failures", &[]),
        format!(
            "policy_id,setting_id,setting_name,state,error_code,devices\n\
             {AV},device_vendor_msft_policy_config_defender_cloudblocklevel,Cloud Block Level,Conflict,,1\n\
             {AV},device_vendor_msft_policy_config_defender_cloudblocklevel,Cloud Block Level,Error,0x87D1FDE8,1\n\
             d4e5f6a7-1b2c-4d3e-8f9a-0b1c2d3e4f5a,vendor_msft_firewall_mdmstore_privateprofile_enablefirewall,Enable Private Network Firewall,Error,0x87D1FDE8,1\n"
        )
    );
    assert_eq!(
        query_csv(&lake, "stale_devices", &[]),
        "device_id,device_name,os_platform,last_observed_at,days_since\n\
         1e5bc9d7e413ddd7902c2932e418702b84d0c005,WS-0005,Windows11,2026-07-05T09:12:00Z,15\n"
    );
    assert_eq!(
        query_csv(&lake, "policy_settings", &[]),
        format!(
            "policy_id,setting_id,setting_name,devices,succeeded,error,conflict,pending,not_applicable\n\
             {AV},device_vendor_msft_policy_config_defender_allowrealtimemonitoring,Allow Realtime Monitoring,2,2,0,0,0,0\n\
             {AV},device_vendor_msft_policy_config_defender_cloudblocklevel,Cloud Block Level,3,1,1,1,0,0\n\
             d4e5f6a7-1b2c-4d3e-8f9a-0b1c2d3e4f5a,vendor_msft_firewall_mdmstore_privateprofile_enablefirewall,Enable Private Network Firewall,1,0,1,0,0,0\n"
        )
    );
    // The evidence of one device: its policies' settings, from two exports.
    assert_eq!(
        query_csv(&lake, "device_detail", &["--device", M2]),
        format!(
            "device_id,device_name,os_platform,last_observed_at,stale,compliance,policy_id,policy_name,policy_state,setting_id,setting_name,setting_state,error_code,expected,actual\n\
             {M2},WS-0002,Windows10,2026-07-20T04:41:52.747549Z,false,noncompliant,{AV},AV baseline,Error,device_vendor_msft_policy_config_defender_allowrealtimemonitoring,Allow Realtime Monitoring,Succeeded,,,1\n\
             {M2},WS-0002,Windows10,2026-07-20T04:41:52.747549Z,false,noncompliant,{AV},AV baseline,Error,device_vendor_msft_policy_config_defender_cloudblocklevel,Cloud Block Level,Error,0x87D1FDE8,,0\n\
             {M2},WS-0002,Windows10,2026-07-20T04:41:52.747549Z,false,noncompliant,d4e5f6a7-1b2c-4d3e-8f9a-0b1c2d3e4f5a,Firewall baseline,Error,vendor_msft_firewall_mdmstore_privateprofile_enablefirewall,Enable Private Network Firewall,Error,0x87D1FDE8,,\n"
        )
    );
    let devices = query_csv(&lake, "policy_devices", &[]);
    assert_eq!(devices.lines().count(), 1 + 9, "{devices}");
    assert!(devices.contains(&format!(
        "{AV},AV baseline,aad:aaaaaaaa-0000-0000-0000-000000000003,WS-0003,Windows,Conflict,false,2026-07-20T04:41:52.747549Z,device_vendor_msft_policy_config_defender_cloudblocklevel,Cloud Block Level,Conflict,,,1\n"
    )), "{devices}");
}

#[test]
fn secure_configuration_least_compliant_first() {
    let dir = tempfile::tempdir().unwrap();
    let lake = export_lake(&dir);
    // scid-2010: c001, c002, c004 comply, c006 does not; c007's older row
    // is c002's (merged) and c002's own newer one wins; c005's is stale.
    // scid-91: c004 is not applicable. scid-64 comes only from Advanced
    // Hunting, which names no configuration.
    assert_eq!(
        query_csv(&lake, "secure_configuration", &[]),
        "configuration_id,configuration_name,category,subcategory,devices,compliant,noncompliant,not_applicable,compliance_pct\n\
         scid-64,,Accounts,Password policy,2,0,2,0,0.0\n\
         scid-91,Turn on Microsoft Defender Firewall,Network,Firewall,3,2,1,1,66.67\n\
         scid-2010,Turn on Microsoft Defender Antivirus,Security controls,Antivirus,4,3,1,0,75.0\n"
    );
    // As of 2026-07-12, only the via-files row of c007 (07-10) and the
    // stale-by-then c005 row (07-01, older than 07-06) exist: c007 is c002.
    assert_eq!(
        query_csv(&lake, "secure_configuration", &["--as-of", "2026-07-12"]),
        "configuration_id,configuration_name,category,subcategory,devices,compliant,noncompliant,not_applicable,compliance_pct\n\
         scid-2010,Turn on Microsoft Defender Antivirus,Security controls,Antivirus,1,0,1,0,0.0\n"
    );
    assert_eq!(
        column(
            &lake,
            "SELECT source FROM secure_configurations GROUP BY source ORDER BY source"
        ),
        [
            "advanced-hunting:DeviceTvmSecureConfigurationAssessment",
            "mde:SecureConfigurationsAssessmentByMachine",
            "mde:SecureConfigurationsAssessmentExport",
        ]
    );
}

#[test]
fn antivirus_firewall_and_onboarding_count_each_device_once() {
    let dir = tempfile::tempdir().unwrap();
    let lake = export_lake(&dir);
    // DefenderAgents: WS-0001 and WS-0002 clean (WS-0002's signatures
    // overdue, also in UnhealthyDefenderAgents), WS-0003 reboot pending,
    // WS-0005 stale.
    assert_eq!(
        query_csv(&lake, "antivirus_health", &[]),
        "device_state_code,device_state,devices,real_time_protection_off,signatures_overdue,tamper_protection_off,malware_protection_off,stale\n\
         0,clean,2,0,1,0,0,1\n\
         2,rebootPending,1,0,0,0,0,0\n"
    );
    // deviceavinfo: c007 (Disabled, older) is c002 (Passive, newer).
    assert_eq!(
        query_csv(&lake, "antivirus_mode", &[]),
        "av_mode_code,av_mode,devices,signatures_out_of_date,engine_out_of_date,platform_out_of_date,scan_failed,stale\n\
         0,Active,2,0,0,0,0,0\n\
         1,Passive,1,1,0,0,0,0\n"
    );
    // Text-only labels, `Temporarily Disabled (default)` among them.
    assert_eq!(
        query_csv(&lake, "firewall_status", &[]),
        "firewall_status_code,firewall_status,devices,stale\n\
         0,Enabled,1,0\n\
         1,Disabled,1,0\n\
         3,Temporarily disabled,1,0\n"
    );
    // c007 is merged into c002 (not a device of its own), c008 excluded
    // (apart), WS-0003 known only to Intune and not onboarded
    // (WDATPOnboardingState 0).
    assert_eq!(
        query_csv(&lake, "onboarding_coverage", &[]),
        "os_platform,devices,onboarded,security_settings_management,intune,configmgr,unsupported_platform,not_reporting,to_manage,coverage_pct,excluded\n\
         Windows,1,0,0,1,0,0,0,1,0.0,0\n\
         Windows10,2,1,0,1,0,0,1,2,0.0,1\n\
         Windows11,3,3,2,1,0,0,1,1,66.67,0\n\
         macOS,1,1,1,0,0,0,0,0,100.0,0\n"
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
            format!("{M2}|managed by Intune"),
            "1e5bc9d7e413ddd7902c2932e418702b84d0c006|managed by Intune".to_owned(),
            "aad:aaaaaaaa-0000-0000-0000-000000000003|not onboarded".to_owned(),
            "1e5bc9d7e413ddd7902c2932e418702b84d0c009|not onboarded".to_owned(),
        ]
    );
}

#[test]
fn columns_map_in_both_localisation_shapes_and_every_field_is_kept() {
    let dir = tempfile::tempdir().unwrap();
    let lake = export_lake(&dir);
    // Code + `_loc` (the assignment zip), text only (the statuses CSV) and
    // JSON in a zip (`values`) give the same states.
    assert_eq!(
        column(
            &lake,
            "SELECT r.source || '|' || p.policy_type || '|' || p.state || '|' || r.os_platform \
             FROM reports r JOIN policy_states p USING (report_id) \
             WHERE r.device_name IN ('WS-0002', 'MAC-0004') ORDER BY r.source, p.policy_type, r.device_name"
        ),
        [
            "intune:DeviceAssignmentStatusByConfigurationPolicy|Antivirus|Succeeded|macOS",
            "intune:DeviceAssignmentStatusByConfigurationPolicy|Antivirus|Error|Windows",
            "intune:DeviceStatusesByConfigurationProfile|Firewall|Error|Windows",
        ]
    );
    let agent = sql(
        &lake,
        "SELECT product_status, product_status_names, wdatp_onboarding_state, wdatp_onboarded, \
         wdatp_sense_running, pending_reboot, anti_malware_version, signature_update_overdue \
         FROM antivirus_health WHERE device_name = 'WS-0003'",
    );
    assert_eq!(agent[0]["product_status"], 8);
    assert_eq!(
        agent[0]["product_status_names"],
        "pendingRebootDueToThreatAction"
    );
    assert_eq!(agent[0]["wdatp_onboarding_state"], "0");
    assert_eq!(agent[0]["wdatp_onboarded"], false);
    assert_eq!(agent[0]["wdatp_sense_running"], false);
    assert_eq!(agent[0]["pending_reboot"], true);
    assert_eq!(agent[0]["anti_malware_version"], "4.18.24090.11");
    let machine = sql(
        &lake,
        &format!(
            "SELECT os_version, version, os_build, onboarding_status, managed_by, is_aad_joined, \
             agent_version, rbac_group_name, exposure_level, risk_score, last_ip_address, defender_av_status \
             FROM device_inventory WHERE machine_id = '{M2}'"
        ),
    );
    assert_eq!(
        machine[0]["os_version"], "22H2",
        "osVersion is null: the version"
    );
    assert_eq!(machine[0]["os_build"], 19045);
    assert_eq!(machine[0]["onboarding_status"], "Onboarded");
    assert_eq!(machine[0]["managed_by"], "Intune");
    assert_eq!(machine[0]["is_aad_joined"], true);
    assert_eq!(machine[0]["exposure_level"], "Medium");
    assert_eq!(machine[0]["defender_av_status"], "Updated");
    // `canBeOnboarded`, as some answers spell it, in the documented case.
    assert_eq!(
        column(
            &lake,
            "SELECT onboarding_status FROM device_inventory WHERE machine_id LIKE '%c009'"
        ),
        ["CanBeOnboarded"]
    );
    let av = sql(
        &lake,
        &format!(
            "SELECT av_mode, av_mode_name, signature_up_to_date, signature_update_overdue, platform_version \
             FROM antivirus_health WHERE source = 'mde:deviceavinfo' AND device_id = '{M2}'"
        ),
    );
    assert_eq!(av[0]["av_mode"], 1);
    assert_eq!(av[0]["av_mode_name"], "Passive");
    assert_eq!(av[0]["signature_up_to_date"], false);
    assert_eq!(av[0]["signature_update_overdue"], true);
    let unknown = sql(
        &lake,
        "SELECT signature_up_to_date FROM antivirus_health WHERE device_name = 'mac-0004.contoso.local'",
    );
    assert_eq!(unknown[0]["signature_up_to_date"], Value::Null, "`Unknown`");
    let inventory = sql(
        &lake,
        "SELECT aad_device_id, os, os_platform, os_version FROM intune_devices \
         WHERE intune_device_id = '11111111-0000-0000-0000-000000000004'",
    );
    assert_eq!(
        inventory[0]["aad_device_id"],
        "aaaaaaaa-0000-0000-0000-000000000004"
    );
    assert_eq!(inventory[0]["os_platform"], "macOS");
}

/// A per-setting export carries no time: its rows wait for their device's
/// policy status, from the same run or an earlier one, and take its report
/// and time; the same export ingested again is a counted duplicate.
#[test]
fn per_setting_rows_are_filed_under_their_policy_status() {
    let dir = tempfile::tempdir().unwrap();
    let lake = lake_in(&dir);
    // Alone, no row has a status to be filed under.
    assert_eq!(ingest(&lake, &[&export(PER_SETTING)]), counts(7, 0, 0, 7));
    assert_eq!(
        ingest(&lake, &[&export(ASSIGNMENT), &export(MAC_ASSIGNMENT)]),
        counts(5, 5, 0, 0)
    );
    // A run later, the statuses are in the lake.
    assert_eq!(ingest(&lake, &[&export(PER_SETTING)]), counts(7, 6, 0, 1));
    assert_eq!(ingest(&lake, &[&export(PER_SETTING)]), counts(7, 0, 6, 1));
    assert_eq!(
        column(
            &lake,
            "SELECT DISTINCT s.observed_at = p.observed_at FROM setting_states s \
             JOIN policy_states p ON p.report_id = s.report_id"
        ),
        ["true"]
    );
    // In one run, whatever the order of the files.
    let other = dir.path().join("other");
    let statuses = dir.path().join("statuses");
    std::fs::create_dir(&statuses).unwrap();
    // Named so that the per-setting export sorts first.
    std::fs::copy(export(PER_SETTING), statuses.join("0-settings.zip")).unwrap();
    std::fs::copy(export(ASSIGNMENT), statuses.join(ASSIGNMENT)).unwrap();
    assert_eq!(ingest(&other, &[&statuses]), counts(11, 10, 0, 1));
}

#[test]
fn platform_is_the_most_specific_a_source_gives_and_never_a_template_kind() {
    let dir = tempfile::tempdir().unwrap();
    let lake = lake_in(&dir);
    let file = dir
        .path()
        .join("DeviceAssignmentStatusByConfigurationPolicyV3_1.csv");
    std::fs::write(
        &file,
        "PolicyId,PolicyName,IntuneDeviceId,DeviceName,AadDeviceId,UPN,AssignmentStatus,PspdpuLastModifiedTimeUtc,UnifiedPolicyPlatformType,UnifiedPolicyType,AssignmentFilterIds,TemplateVersion\r\n\
         p1,Admin template,11111111-0000-0000-0000-0000000000a1,WS-A1,,,2,2026-07-20 01:00:00.0000000,Administrative Template,Antivirus,,1\r\n\
         p1,Admin template,11111111-0000-0000-0000-0000000000a2,WS-A2,,,2,2026-07-20 01:00:00.0000000,Windows10,Antivirus,,1\r\n",
    )
    .unwrap();
    assert_eq!(ingest(&lake, &[&file]), counts(2, 2, 0, 0));
    assert_eq!(
        query_csv(&lake, "compliance_by_platform", &[]),
        "os_platform,devices,compliant,noncompliant,no_policy,stale,compliance_pct\n\
         Unknown,1,1,0,0,0,100.0\n\
         Windows,1,1,0,0,0,100.0\n"
    );
}

#[test]
fn a_lake_of_the_machine_list_only_can_be_queried() {
    let dir = tempfile::tempdir().unwrap();
    let lake = lake_in(&dir);
    assert_eq!(
        ingest(
            &lake,
            &[
                &export("machines_page1.json"),
                &export("machines_page2.json")
            ]
        ),
        counts(9, 8, 1, 0)
    );
    let csv = query_csv(&lake, "onboarding_coverage", &[]);
    assert_eq!(csv.lines().count(), 4, "{csv}");
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
        .arg(export("deviceavinfo_page1.json"))
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
    assert_eq!(summary(&o), counts(4, 4, 0, 0));
    assert_eq!(count(&lake, "antivirus_health"), 4);
}

/// An export is read into memory, so it is held to --max-decompressed-bytes,
/// and so is each file inside a zip (a zip bomb): past it the file is logged
/// as unreadable, and the rest of the run lands.
#[test]
fn an_export_or_zip_entry_past_the_size_limit_is_not_read() {
    let dir = tempfile::tempdir().unwrap();
    let lake = lake_in(&dir);
    let limit = 1100;
    let ingest_limited = |paths: &[PathBuf]| {
        posture()
            .args([
                "ingest",
                "--max-decompressed-bytes",
                &limit.to_string(),
                "--lake",
            ])
            .arg(&lake)
            .args(paths)
            .output()
            .unwrap()
    };
    let json = export("machines_page1.json");
    assert!(std::fs::metadata(&json).unwrap().len() > limit);
    let zip = export(ASSIGNMENT);
    assert!(
        std::fs::metadata(&zip).unwrap().len() <= limit,
        "the zip itself is small"
    );
    // Its one entry, 536 bytes, is under the limit.
    let small = export(MAC_ASSIGNMENT);
    let o = ingest_limited(&[json.clone(), zip.clone(), small]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains(&format!(
            "error: cannot read `{}`: the export is larger than --max-decompressed-bytes ({limit} bytes)",
            json.display()
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
    assert_eq!(summary(&o), counts(1, 1, 0, 0));
    assert_eq!(count(&lake, "policy_states"), 1);
}

/// The generator's exports (`posture generate --exports`, as in
/// `sample-data/`) land whole, and fill every export view.
#[test]
fn generated_exports_land_whole_and_fill_every_view() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("fleet");
    let o = run(&[
        "generate",
        "--out",
        out.to_str().unwrap(),
        "--devices",
        "40",
        "--days",
        "3",
        "--exports",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let lake = lake_in(&dir);
    let c = ingest(&lake, &[&out.join("exports")]);
    assert_eq!(c.quarantined, 0, "{c:?}");
    assert_eq!(c.duplicate, 0, "{c:?}");
    for table in [
        "reports",
        "setting_states",
        "antivirus_health",
        "firewall_status",
        "device_inventory",
        "intune_devices",
        "secure_configurations",
    ] {
        assert!(count(&lake, table) > 0, "{table} is empty");
    }
    for query in [
        "setting_failures",
        "secure_configuration",
        "antivirus_health",
        "antivirus_mode",
        "firewall_status",
        "onboarding_coverage",
        "onboarding_devices",
    ] {
        let csv = query_csv(&lake, query, &[]);
        assert!(csv.lines().count() > 1, "{query} has no rows");
    }
}
