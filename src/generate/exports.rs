//! The same tenant as Intune and Defender for Endpoint exports show it on
//! the fleet's last day, for trials and tests of the export readers: what a
//! nightly download of the documented exports holds (docs/vendor-exports.md).
//!
//! - The agent fleet's machines in the machine list (`machines` API pages),
//!   with Defender's antivirus health (`deviceavinfo`) and its secure
//!   configuration assessment (`SecureConfigurationsAssessmentByMachine`).
//! - Devices known only from Intune exports (no agent report reaches the
//!   collectors): their policy statuses, one `DeviceAssignmentStatusBy
//!   ConfigurationPolicy` export job per policy (one policy's through
//!   `DeviceStatusesByConfigurationProfile`), their per-setting statuses
//!   (`DevicePolicySettingsComplianceReport`), `DefenderAgents`,
//!   `FirewallStatus` (text-only labels) and the device inventory
//!   (`DevicesWithInventory`). Most are in the machine list too, matched by
//!   their Entra id; some are not onboarded; one is excluded, one has a
//!   duplicate machine merged into it, one stopped reporting.
//!
//! Each export job is a zip holding one CSV, both named
//! `<ReportName>_<job id>`, as Intune names its downloads; API pages are
//! JSON files, one per page.

use std::io::Write;

use anyhow::{Context, Result};
use chrono::{Datelike, Timelike};
use serde_json::{Value, json};

use super::*;

/// The secure configurations the fleet is assessed on: id, name, category,
/// subcategory, impact, whether Windows-only, and how many in a thousand
/// devices comply.
const CONFIGURATIONS: [(&str, &str, &str, &str, f64, bool, u64); 6] = [
    (
        "scid-2010",
        "Turn on Microsoft Defender Antivirus",
        "Security controls",
        "Antivirus",
        9.0,
        false,
        960,
    ),
    (
        "scid-2011",
        "Update Microsoft Defender Antivirus definitions",
        "Security controls",
        "Antivirus",
        8.0,
        false,
        880,
    ),
    (
        "scid-91",
        "Turn on Microsoft Defender Firewall",
        "Network",
        "Firewall",
        8.0,
        true,
        930,
    ),
    (
        "scid-2012",
        "Turn on real-time protection",
        "Security controls",
        "Antivirus",
        9.0,
        false,
        970,
    ),
    (
        "scid-2090",
        "Block Office applications from creating child processes",
        "Security controls",
        "Attack Surface Reduction",
        7.0,
        true,
        610,
    ),
    (
        "scid-64",
        "Set 'Minimum password length' to '14 or more character(s)'",
        "Accounts",
        "Password policy",
        5.0,
        true,
        420,
    ),
];

/// The policy whose statuses come as `DeviceStatusesByConfigurationProfile`
/// (the others as `DeviceAssignmentStatusByConfigurationPolicy`).
const STATUSES_POLICY_TYPE: &str = "Firewall";

/// A device known only from Intune exports.
struct IntuneDevice<'a> {
    device: Device,
    intune_id: String,
    entra_id: String,
    /// In Defender's machine list (onboarded); else only Intune knows it.
    onboarded: bool,
    excluded: bool,
    /// A second machine id that Defender merged into this one.
    merged_duplicate: Option<String>,
    /// When the device last reported, in ticks since the start.
    last_seen: u64,
    policies: Vec<WirePolicy<'a>>,
}

/// Writes the exports under `options.out/exports/`; returns (files, bytes).
pub(super) fn write(options: &GenerateOptions, context: &ReportContext<'_>) -> Result<(u64, u64)> {
    let timeline = context.timeline;
    let folder = options.out.join("exports");
    std::fs::create_dir_all(&folder)
        .with_context(|| format!("cannot create `{}`", folder.display()))?;
    let last_day = u64::from(options.days - 1);
    let night = last_day * TICKS_PER_DAY + 20 * TICKS_PER_HOUR;
    let mut rng = stream(options.seed, &[Purpose::Exports as u64]);
    let agents = build_fleet(options, timeline);
    let intune = intune_devices(options, context, night, &mut rng);
    let mut out = Written::default();
    let stamp = |ticks: u64| timeline.export_time(ticks);

    // Intune: one export job per policy, statuses of the devices it targets.
    let mut policies: Vec<&WirePolicy> = intune.iter().flat_map(|d| &d.policies).collect();
    policies.sort_by_key(|p| p.policy_id);
    policies.dedup_by_key(|p| p.policy_id);
    for policy in policies {
        let by_statuses = policy.policy_type == STATUSES_POLICY_TYPE;
        let report = if by_statuses {
            "DeviceStatusesByConfigurationProfile"
        } else {
            "DeviceAssignmentStatusByConfigurationPolicy"
        };
        let header: &[&str] = if by_statuses {
            &[
                "PolicyId",
                "PolicyName",
                "IntuneDeviceId",
                "DeviceName",
                "Manufacturer",
                "Model",
                "UPN",
                "PolicyStatus",
                "PolicyStatus_loc",
                "PspdpuLastModifiedTimeUtc",
                "UnifiedPolicyPlatformType",
                "UnifiedPolicyPlatformType_loc",
                "UnifiedPolicyType",
                "UnifiedPolicyType_loc",
                "AssignmentFilterIds",
                "TemplateVersion",
                "ReportStatus",
            ]
        } else {
            &[
                "PolicyId",
                "PolicyName",
                "IntuneDeviceId",
                "DeviceName",
                "AadDeviceId",
                "UPN",
                "AssignmentStatus",
                "AssignmentStatus_loc",
                "PspdpuLastModifiedTimeUtc",
                "UnifiedPolicyPlatformType",
                "UnifiedPolicyPlatformType_loc",
                "UnifiedPolicyType",
                "UnifiedPolicyType_loc",
                "AssignmentFilterIds",
                "TemplateVersion",
                "ReportStatus",
            ]
        };
        let mut rows = Vec::new();
        for d in &intune {
            let Some(p) = d.policies.iter().find(|p| p.policy_id == policy.policy_id) else {
                continue;
            };
            let (code, text, report_status) = status_code(p.state);
            let (platform, platform_loc) = unified_platform(d.device.platform);
            let mut row = vec![
                p.policy_id.to_owned(),
                p.name.to_owned(),
                d.intune_id.clone(),
                d.device.name.clone(),
            ];
            if by_statuses {
                row.extend(["Contoso".to_owned(), "Surface Laptop 6".to_owned()]);
            } else {
                row.push(d.entra_id.clone());
            }
            row.extend([
                upn(&d.device),
                code.to_string(),
                text.to_owned(),
                stamp(d.last_seen),
                platform.to_owned(),
                platform_loc.to_owned(),
                p.policy_type.to_owned(),
                p.profile.to_owned(),
                String::new(),
                p.version.to_string(),
                report_status.to_owned(),
            ]);
            rows.push(row);
        }
        out.zip(&folder, report, &mut rng, header, &rows, night, timeline)?;
    }

    // Intune: every setting of every policy on every device.
    let mut rows = Vec::new();
    for d in &intune {
        for p in &d.policies {
            for (index, s) in p.settings.iter().enumerate() {
                let (code, text, _) = status_code(s.state);
                rows.push(vec![
                    d.intune_id.clone(),
                    s.error_code
                        .map_or_else(|| "0".to_owned(), |c| export_error_code(c, index)),
                    if s.error_code.is_some() {
                        "2".to_owned()
                    } else {
                        "0".to_owned()
                    },
                    p.policy_id.to_owned(),
                    p.version.to_string(),
                    s.setting_id.to_owned(),
                    format!("{}_{index}", s.setting_id),
                    s.setting_id.to_owned(),
                    s.name.to_owned(),
                    code.to_string(),
                    text.to_owned(),
                    s.actual.unwrap_or_default().to_owned(),
                    String::new(),
                    String::new(),
                ]);
            }
        }
    }
    out.zip(
        &folder,
        "DevicePolicySettingsComplianceReport",
        &mut rng,
        &[
            "DeviceId",
            "ErrorCode",
            "ErrorType",
            "PolicyId",
            "PolicyVersion",
            "SettingId",
            "SettingInstanceId",
            "SettingName",
            "SettingNm",
            "SettingStatus",
            "SettingStatus_loc",
            "SettingValue",
            "StateDetails",
            "UserId",
        ],
        &rows,
        night,
        timeline,
    )?;

    // Intune: the antivirus agents, the firewall, the device inventory.
    let windows: Vec<&IntuneDevice<'_>> = intune
        .iter()
        .filter(|d| !matches!(d.device.platform, Platform::MacOs | Platform::Linux))
        .collect();
    let rows: Vec<Vec<String>> = windows
        .iter()
        .enumerate()
        .map(|(i, d)| {
            let rtp_off = i % 7 == 3;
            let overdue = i % 5 == 2;
            let (state, state_loc, product) = if overdue {
                (0, "Clean", 32)
            } else if i % 11 == 4 {
                (2, "Reboot pending", 0)
            } else {
                (0, "Clean", 0)
            };
            vec![
                d.intune_id.clone(),
                d.device.name.clone(),
                state.to_string(),
                state_loc.to_owned(),
                "False".to_owned(),
                stamp(d.last_seen),
                "True".to_owned(),
                "True".to_owned(),
                product.to_string(),
                if rtp_off { "False" } else { "True" }.to_owned(),
                if overdue { "True" } else { "False" }.to_owned(),
                "True".to_owned(),
                upn(&d.device),
                upn(&d.device),
                d.device
                    .name
                    .split('.')
                    .next()
                    .unwrap_or_default()
                    .to_owned(),
                "MDM".to_owned(),
                if d.onboarded { "1" } else { "0" }.to_owned(),
                if d.onboarded { "True" } else { "False" }.to_owned(),
                "1.1.24090.11".to_owned(),
                "1.421.204.0".to_owned(),
                stamp(d.last_seen.saturating_sub(6 * TICKS_PER_HOUR)),
            ]
        })
        .collect();
    out.zip(
        &folder,
        "DefenderAgents",
        &mut rng,
        &[
            "DeviceId",
            "DeviceName",
            "DeviceState",
            "DeviceState_loc",
            "IsVirtualMachine",
            "LastReportedDateTime",
            "MalwareProtectionEnabled",
            "NetworkInspectionSystemEnabled",
            "ProductStatus",
            "RealTimeProtectionEnabled",
            "SignatureUpdateOverdue",
            "TamperProtectionEnabled",
            "UPN",
            "UserEmail",
            "UserName",
            "_ManagedBy",
            "WDATPOnboardingState",
            "IsWDATPSenseRunning",
            "EngineVersion",
            "SignatureVersion",
            "LastQuickScanDateTime",
        ],
        &rows,
        night,
        timeline,
    )?;
    // Exported with the labels in place of the codes (ReplaceLocalizableValues).
    let labels = [
        "Enabled",
        "Enabled",
        "Enabled",
        "Disabled",
        "Temporarily Disabled (default)",
    ];
    let rows: Vec<Vec<String>> = windows
        .iter()
        .enumerate()
        .map(|(i, d)| {
            vec![
                d.intune_id.clone(),
                d.device.name.clone(),
                labels[i % labels.len()].to_owned(),
                stamp(d.last_seen),
                String::new(),
                upn(&d.device),
                d.device
                    .name
                    .split('.')
                    .next()
                    .unwrap_or_default()
                    .to_owned(),
                "Intune".to_owned(),
                "Windows".to_owned(),
            ]
        })
        .collect();
    out.zip(
        &folder,
        "FirewallStatus",
        &mut rng,
        &[
            "DeviceId",
            "DeviceName",
            "FirewallStatus",
            "LastReportedDateTime",
            "ReferenceId",
            "UPN",
            "UserName",
            "_ManagedBy",
            "_OS",
        ],
        &rows,
        night,
        timeline,
    )?;
    let rows: Vec<Vec<String>> = intune
        .iter()
        .map(|d| {
            let (os, version) = inventory_os(d.device.platform, d.device.os_version);
            vec![
                d.intune_id.clone(),
                d.device.name.clone(),
                stamp(0),
                stamp(d.last_seen),
                d.entra_id.clone(),
                os.to_owned(),
                version.to_owned(),
                "Intune".to_owned(),
                if d.policies.iter().any(|p| p.state >= State::Conflict) {
                    "Noncompliant"
                } else {
                    "Compliant"
                }
                .to_owned(),
                d.device.join_type.to_owned(),
                "Corporate".to_owned(),
                format!("CZC{:07}", d.device.name.len() * 7919 % 10_000_000),
                "Managed".to_owned(),
                upn(&d.device),
            ]
        })
        .collect();
    out.zip(
        &folder,
        "DevicesWithInventory",
        &mut rng,
        &[
            "Device ID",
            "Device name",
            "Enrollment date",
            "Last check-in",
            "Microsoft Entra Device ID",
            "OS",
            "OS version",
            "Managed by",
            "Compliance",
            "JoinType",
            "Ownership",
            "Serial number",
            "Device state",
            "Primary user UPN",
        ],
        &rows,
        night,
        timeline,
    )?;

    // Defender for Endpoint: the machine list, antivirus health, secure
    // configuration, as their APIs answer (one file per page).
    let machines = machine_list(&agents, &intune, night, timeline);
    let pages: Vec<&[Value]> = machines.chunks(machines.len().div_ceil(2).max(1)).collect();
    for (i, page) in pages.iter().enumerate() {
        let mut body = json!({
            "@odata.context": "https://api.security.microsoft.com/api/$metadata#Machines",
            "value": page,
        });
        if i + 1 < pages.len() {
            body["@odata.nextLink"] = json!(format!(
                "https://api.security.microsoft.com/api/machines?$skip={}",
                (i + 1) * page.len()
            ));
        }
        out.json(&folder, &format!("machines_{}.json", i + 1), &body)?;
    }
    let onboarded: Vec<&Value> = machines
        .iter()
        .filter(|m| m["onboardingStatus"] == "Onboarded" && m["mergedIntoMachineId"].is_null())
        .collect();
    let av: Vec<Value> = onboarded
        .iter()
        .enumerate()
        .map(|(i, m)| av_info(m, i, timeline, night))
        .collect();
    out.json(
        &folder,
        "deviceavinfo_1.json",
        &json!({
            "@odata.context": "https://api.securitycenter.microsoft.com/api/$metadata#DeviceAvInfo",
            "value": av,
        }),
    )?;
    let mut assessments = Vec::new();
    for m in &onboarded {
        let id = m["id"].as_str().unwrap_or_default();
        let windows = m["osPlatform"]
            .as_str()
            .unwrap_or_default()
            .starts_with("Windows");
        for (c, (config, name, category, subcategory, impact, windows_only, per_mille)) in
            CONFIGURATIONS.iter().enumerate()
        {
            // FNV-1a of the machine id: each machine draws its own.
            let machine = id.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
                (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
            });
            let mut draw = stream(
                options.seed,
                &[Purpose::Exports as u64, 1, c as u64, machine],
            );
            let applicable = windows || !windows_only;
            assessments.push(json!({
                "deviceId": id,
                "rbacGroupName": m["rbacGroupName"],
                "deviceName": m["computerDnsName"],
                "osPlatform": m["osPlatform"],
                "osVersion": m["version"],
                "timestamp": timeline.export_time(night.saturating_sub(2 * TICKS_PER_HOUR)),
                "configurationId": config,
                "configurationCategory": category,
                "configurationSubcategory": subcategory,
                "configurationImpact": impact,
                "isCompliant": applicable && draw.chance(*per_mille),
                "isApplicable": applicable,
                "isExpectedUserImpact": *impact < 6.0,
                "configurationName": name,
                "recommendationReference": format!("sca-_-{config}"),
            }));
        }
    }
    out.json(
        &folder,
        "SecureConfigurationsAssessmentByMachine_1.json",
        &json!({
            "@odata.context": "https://api.securitycenter.microsoft.com/api/$metadata#Collection(microsoft.windowsDefenderATP.api.AssetConfiguration)",
            "value": assessments,
        }),
    )?;
    Ok((out.files, out.bytes))
}

fn intune_devices<'a>(
    options: &GenerateOptions,
    context: &ReportContext<'a>,
    night: u64,
    rng: &mut SplitMix64,
) -> Vec<IntuneDevice<'a>> {
    let timeline = context.timeline;
    let count = (options.devices / 10).clamp(6, 500) as usize;
    (0..count)
        .map(|j| {
            let index = options.devices as usize + j;
            let mut device = build_device(options.seed, index, Role::Ordinary, timeline);
            device.name = format!("intune-{:04}.contoso.local", j + 1);
            // Stopped reporting more than a week before the last day.
            let last_seen = if j == 3 {
                night.saturating_sub(10 * TICKS_PER_DAY)
            } else {
                night.saturating_sub(rng.below(6 * TICKS_PER_HOUR))
            };
            let applied = device.check_in(last_seen, timeline);
            let policies = applied
                .iter()
                .map(|a| render_policy(&device, a, &applied, last_seen, context))
                .collect();
            IntuneDevice {
                intune_id: rng.uuid(),
                entra_id: device.aad_device_id.clone().unwrap_or_else(|| rng.uuid()),
                onboarded: j % 5 != 0,
                excluded: j == 1,
                merged_duplicate: (j == 2).then(|| rng.machine_id()),
                last_seen,
                policies,
                device,
            }
        })
        .collect()
}

/// A status's code, its `_loc` text and its `ReportStatus`, as Intune
/// writes them (0 Pending, 1 NotApplicable, 2 Succeeded, 5 Error,
/// 6 Conflict).
fn status_code(state: State) -> (u32, &'static str, &'static str) {
    match state {
        State::Pending => (0, "Pending", "Pending"),
        State::NotApplicable => (1, "Not applicable", "NotApplicable"),
        State::Succeeded => (2, "Succeeded", "Succeeded"),
        State::Error => (5, "Error", "Error"),
        State::Conflict => (6, "Conflict", "Conflict"),
    }
}

/// An error code in one of the spellings exports use: Intune's hex, the
/// signed decimal, the unsigned decimal.
fn export_error_code(code: ErrorCode, index: usize) -> String {
    let value = match code {
        ErrorCode::Integer(v) => v as i32 as u32,
        ErrorCode::Text(hex) => {
            u32::from_str_radix(hex.trim_start_matches("0x"), 16).unwrap_or(0x87D1_FDE8)
        }
    };
    match index % 3 {
        0 => format!("0x{value:08X}"),
        1 => (value as i32).to_string(),
        _ => value.to_string(),
    }
}

fn unified_platform(platform: Platform) -> (&'static str, &'static str) {
    match platform {
        Platform::MacOs => ("MacOS", "macOS"),
        Platform::Linux => ("Linux", "Linux"),
        _ => ("Windows10", "Windows 10 and later"),
    }
}

fn inventory_os(platform: Platform, version: &'static str) -> (&'static str, &'static str) {
    match platform {
        Platform::MacOs => ("macOS", version),
        Platform::Linux => ("Linux", version),
        _ => ("Windows", version),
    }
}

fn upn(device: &Device) -> String {
    let user = device.name.split('.').next().unwrap_or_default();
    format!("{user}@contoso.example")
}

/// Defender's `managedBy` for how the agent fleet says a device is managed.
fn defender_managed_by(managed_by: &str) -> &'static str {
    match managed_by {
        "MDE" => "MicrosoftDefender",
        "ConfigMgr" => "SCCM",
        "Unknown" => "Unknown",
        _ => "Intune",
    }
}

/// The machine list: every agent, the Intune devices that are onboarded,
/// the duplicate merged into one of them, and two machines Defender found
/// on the network but that are not onboarded.
fn machine_list(
    agents: &[Device],
    intune: &[IntuneDevice<'_>],
    night: u64,
    timeline: &Timeline,
) -> Vec<Value> {
    let at = |ticks: u64| timeline.observed_at(ticks, None);
    let machine = |device: &Device, last_seen: u64, managed_by: &str| {
        let (version, build) = windows_release(device.os_version);
        json!({
            "id": device.device_id,
            "mergedIntoMachineId": null,
            "isPotentialDuplication": false,
            "isExcluded": false,
            "exclusionReason": null,
            "computerDnsName": device.name,
            "firstSeen": at(0),
            "lastSeen": at(last_seen),
            "osPlatform": device.platform.as_str(),
            "osVersion": null,
            "version": version,
            "osBuild": build,
            "agentVersion": device.agent_version,
            "healthStatus": if last_seen + 7 * TICKS_PER_DAY < night { "Inactive" } else { "Active" },
            "rbacGroupName": device.machine_group,
            "riskScore": "Low",
            "exposureLevel": "Medium",
            "isAadJoined": device.join_type == "AzureADJoined",
            "aadDeviceId": device.aad_device_id,
            "machineTags": device.tags,
            "defenderAvStatus": "Updated",
            "onboardingStatus": "Onboarded",
            "managedBy": managed_by,
            "managedByStatus": "Success",
            "lastIpAddress": "10.0.0.1",
        })
    };
    let mut list: Vec<Value> = agents
        .iter()
        .map(|d| {
            let last_seen = u64::from(d.last_day) * TICKS_PER_DAY + 18 * TICKS_PER_HOUR;
            machine(d, last_seen.min(night), defender_managed_by(d.managed_by))
        })
        .collect();
    for d in intune.iter().filter(|d| d.onboarded) {
        let mut m = machine(&d.device, d.last_seen, "Intune");
        m["aadDeviceId"] = json!(d.entra_id);
        if d.excluded {
            m["isExcluded"] = json!(true);
            m["exclusionReason"] = json!("Duplicate");
        }
        list.push(m.clone());
        if let Some(duplicate) = &d.merged_duplicate {
            m["id"] = json!(duplicate);
            m["mergedIntoMachineId"] = json!(d.device.device_id);
            m["isPotentialDuplication"] = json!(true);
            m["lastSeen"] = json!(at(d.last_seen.saturating_sub(3 * TICKS_PER_DAY)));
            list.push(m);
        }
    }
    for (i, (platform, status)) in [("Windows10", "CanBeOnboarded"), ("Windows7", "Unsupported")]
        .iter()
        .enumerate()
    {
        list.push(json!({
            "id": format!("{:040x}", 0xd15c0_u64 + i as u64),
            "computerDnsName": format!("unmanaged-{:02}.contoso.local", i + 1),
            "firstSeen": at(0),
            "lastSeen": at(night.saturating_sub(TICKS_PER_HOUR)),
            "osPlatform": platform,
            "osVersion": null,
            "healthStatus": "Inactive",
            "onboardingStatus": status,
            "managedBy": "Unknown",
            "managedByStatus": "Unknown",
            "aadDeviceId": null,
            "machineTags": [],
        }));
    }
    list
}

/// The Windows release name and build of an OS version, as Defender's
/// `version` and `osBuild` give them (others: the version, no build).
fn windows_release(os_version: &str) -> (String, Option<u64>) {
    let build = os_version
        .strip_prefix("10.0.")
        .and_then(|rest| rest.split('.').next())
        .and_then(|b| b.parse::<u64>().ok());
    let release = match build {
        Some(26100) => "24H2",
        Some(22631) => "23H2",
        Some(22621) => "22H2",
        Some(19045) => "22H2",
        Some(19044) => "21H2",
        Some(_) => "1607",
        None => return (os_version.to_owned(), None),
    };
    (release.to_owned(), build)
}

fn av_info(machine: &Value, i: usize, timeline: &Timeline, night: u64) -> Value {
    let platform = machine["osPlatform"].as_str().unwrap_or_default();
    let os_kind = match platform {
        "macOS" => "mac",
        "Linux" => "linux",
        _ => "windows",
    };
    // One in nine passive (another antivirus is primary), one in thirteen
    // with signatures out of date, Linux up-to-date flags unknown.
    let mode = if i % 9 == 4 { "1" } else { "0" };
    let signatures = if os_kind == "linux" {
        "Unknown"
    } else if i % 13 == 6 {
        "False"
    } else {
        "True"
    };
    let at = |ticks: u64| timeline.observed_at(ticks, None);
    json!({
        "id": machine["id"],
        "machineId": machine["id"],
        "computerDnsName": machine["computerDnsName"],
        "osKind": os_kind,
        "osPlatform": platform,
        "osVersion": machine["version"],
        "avMode": mode,
        "avSignatureVersion": "1.421.204.0",
        "avEngineVersion": "1.1.24090.11",
        "avPlatformVersion": "4.18.24090.11",
        "lastSeenTime": machine["lastSeen"],
        "quickScanResult": if i % 17 == 8 { "Failed" } else { "Completed" },
        "quickScanError": if i % 17 == 8 { "0x80508023" } else { "" },
        "quickScanTime": at(night.saturating_sub(5 * TICKS_PER_HOUR)),
        "fullScanResult": "",
        "fullScanError": "",
        "fullScanTime": null,
        "dataRefreshTimestamp": at(night),
        "avEngineUpdateTime": at(night.saturating_sub(30 * TICKS_PER_HOUR)),
        "avSignatureUpdateTime": at(night.saturating_sub(8 * TICKS_PER_HOUR)),
        "avPlatformUpdateTime": at(night.saturating_sub(200 * TICKS_PER_HOUR)),
        "avIsSignatureUpToDate": signatures,
        "avIsEngineUpToDate": if os_kind == "linux" { "Unknown" } else { "True" },
        "avIsPlatformUpToDate": if i % 19 == 10 { "False" } else { "True" },
        "avSignaturePublishTime": at(night.saturating_sub(12 * TICKS_PER_HOUR)),
        "rbacGroupName": machine["rbacGroupName"],
        "rbacGroupId": 4415,
    })
}

/// What has been written, and the writing.
#[derive(Default)]
struct Written {
    files: u64,
    bytes: u64,
}

impl Written {
    fn file(&mut self, path: &std::path::Path, bytes: &[u8]) -> Result<()> {
        std::fs::write(path, bytes)
            .with_context(|| format!("cannot write `{}`", path.display()))?;
        self.files += 1;
        self.bytes += bytes.len() as u64;
        Ok(())
    }

    fn json(&mut self, folder: &std::path::Path, name: &str, body: &Value) -> Result<()> {
        let text = serde_json::to_vec(body).context("cannot serialize an export page")?;
        self.file(&folder.join(name), &text)
    }

    /// An export job's download: `<report>_<job id>.zip` holding
    /// `<report>_<job id>.csv` (every field quoted, CRLF, as Intune writes).
    #[allow(clippy::too_many_arguments)]
    fn zip(
        &mut self,
        folder: &std::path::Path,
        report: &str,
        rng: &mut SplitMix64,
        header: &[&str],
        rows: &[Vec<String>],
        night: u64,
        timeline: &Timeline,
    ) -> Result<()> {
        let job = format!("{report}_{}", rng.uuid());
        let mut csv = csv::WriterBuilder::new()
            .quote_style(csv::QuoteStyle::Always)
            .terminator(csv::Terminator::CRLF)
            .from_writer(Vec::new());
        csv.write_record(header)?;
        for row in rows {
            csv.write_record(row)?;
        }
        let text = csv.into_inner().context("cannot write an export's CSV")?;
        let when = timeline.midnight + TimeDelta::seconds((night / TICKS_PER_SECOND) as i64);
        let modified = zip::DateTime::from_date_and_time(
            u16::try_from(when.year()).unwrap_or(2026),
            when.month() as u8,
            when.day() as u8,
            when.hour() as u8,
            when.minute() as u8,
            when.second() as u8,
        )
        .map_err(|e| anyhow::anyhow!("cannot date a zip entry: {e}"))?;
        let mut archive = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        let entry = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated)
            .last_modified_time(modified);
        archive.start_file(format!("{job}.csv"), entry)?;
        archive.write_all(&text)?;
        let bytes = archive.finish()?.into_inner();
        self.file(&folder.join(format!("{job}.zip")), &bytes)
    }
}

impl Timeline {
    /// A time as Intune's exports write it: `2026-11-14 20:13:07.1234567`,
    /// UTC without an offset.
    fn export_time(&self, ticks: u64) -> String {
        let wall = self.midnight + TimeDelta::seconds((ticks / TICKS_PER_SECOND) as i64);
        format!(
            "{}.{:07}",
            wall.format("%Y-%m-%d %H:%M:%S"),
            ticks % TICKS_PER_SECOND
        )
    }
}
