//! Intune's per-device policy status exports: each row (a device's status
//! for one policy) becomes a one-policy report of that device
//! (docs/vendor-exports.md, "Intune policy status").
//!
//! Two column sets: `DeviceAssignmentStatusByConfigurationPolicy` and its
//! `ForAC`, `ForASR`, `ForEDR`, `V3` variants (`AssignmentStatus`,
//! `AadDeviceId`), and the set of `DeviceStatusesByConfigurationProfile`
//! (`PolicyStatus`), which compliance-policy and inventory-policy reports
//! share exactly. Those are told apart by the report name Intune puts in the
//! file's name, else by `UnifiedPolicyType`; a row of a compliance-policy
//! report never becomes a security-settings state.

use super::super::report::{Device, Policy, Report, State};
use super::table::{RawRow, RawTable};
use super::{
    Item, Origin, Reader, coded, codes, each_row, rejected, required, row_id, text, text_or_loc,
    time,
};

pub const ASSIGNMENT_STATUS: Reader = Reader {
    name: "DeviceAssignmentStatusByConfigurationPolicy",
    per_setting: false,
    recognise: |t| {
        ["IntuneDeviceId", "PolicyId", "AssignmentStatus"]
            .iter()
            .all(|c| t.has(c))
    },
    read: |t, origin, each| read(t, origin, Family::Assignment, each),
};

pub const DEVICE_STATUSES: Reader = Reader {
    name: "DeviceStatusesByConfigurationProfile",
    per_setting: false,
    recognise: |t| {
        t.has("IntuneDeviceId")
            && t.has("PolicyId")
            && (t.has("PolicyStatus") || t.has("ReportStatus"))
            && !t.has("AssignmentStatus")
    },
    read: |t, origin, each| read(t, origin, Family::DeviceStatuses, each),
};

/// The two column sets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Family {
    Assignment,
    DeviceStatuses,
}

impl Family {
    /// `reports.source` of the reports made from it.
    fn source(self) -> &'static str {
        match self {
            Family::Assignment => "intune:DeviceAssignmentStatusByConfigurationPolicy",
            Family::DeviceStatuses => "intune:DeviceStatusesByConfigurationProfile",
        }
    }

    /// The column with the status code.
    fn status_column(self) -> &'static str {
        match self {
            Family::Assignment => "AssignmentStatus",
            Family::DeviceStatuses => "PolicyStatus",
        }
    }
}

/// What a report is, by its name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Purpose {
    /// Configuration policies: security settings among them.
    Configuration,
    /// Compliance policies: never security-settings states.
    Compliance,
    /// Inventory (properties catalog) policies: not security settings.
    Inventory,
}

/// The reports with these column sets, by the name Intune gives them (the
/// export job's `reportName`, which starts the name of its zip, as in
/// `DeviceStatusesByConfigurationProfile_<id>.zip`), with what each is about
/// and, for the variants that say it, the policy type.
const REPORTS: &[(&str, Purpose, Option<&str>)] = &[
    (
        "DeviceAssignmentStatusByConfigurationPolicy",
        Purpose::Configuration,
        None,
    ),
    (
        "DeviceAssignmentStatusByConfigurationPolicyForAC",
        Purpose::Configuration,
        Some("AppControl"),
    ),
    (
        "DeviceAssignmentStatusByConfigurationPolicyForASR",
        Purpose::Configuration,
        Some("AttackSurfaceReduction"),
    ),
    (
        "DeviceAssignmentStatusByConfigurationPolicyForEDR",
        Purpose::Configuration,
        Some("EndpointDetectionAndResponse"),
    ),
    (
        "DeviceAssignmentStatusByConfigurationPolicyV3",
        Purpose::Configuration,
        None,
    ),
    (
        "DeviceStatusesByConfigurationProfile",
        Purpose::Configuration,
        None,
    ),
    (
        "DeviceStatusesByConfigurationProfileForAppControl",
        Purpose::Configuration,
        Some("AppControl"),
    ),
    (
        "DeviceStatusesByConfigurationProfileForASR",
        Purpose::Configuration,
        Some("AttackSurfaceReduction"),
    ),
    (
        "DeviceStatusesByConfigurationProfileForEDR",
        Purpose::Configuration,
        Some("EndpointDetectionAndResponse"),
    ),
    (
        "DeviceStatusesByConfigurationProfileV3",
        Purpose::Configuration,
        None,
    ),
    (
        "DeviceStatusesByConfigurationProfileWithPF",
        Purpose::Configuration,
        None,
    ),
    (
        "DeviceStatusesByConfigurationProfileWithPFV3",
        Purpose::Configuration,
        None,
    ),
    (
        "DeviceConfigurationPolicyStatuses",
        Purpose::Configuration,
        None,
    ),
    (
        "DeviceConfigurationPolicyStatusesV3",
        Purpose::Configuration,
        None,
    ),
    (
        "DeviceConfigurationPolicyStatusesWithPF",
        Purpose::Configuration,
        None,
    ),
    (
        "DeviceConfigurationPolicyStatusesWithPFV3",
        Purpose::Configuration,
        None,
    ),
    (
        "NonCompliantDevicesByCompliancePolicy",
        Purpose::Compliance,
        None,
    ),
    (
        "NonCompliantDevicesByCompliancePolicyV3",
        Purpose::Compliance,
        None,
    ),
    ("PolicyNonComplianceNew", Purpose::Compliance, None),
    ("PolicyNonComplianceNewV3", Purpose::Compliance, None),
    (
        "DeviceStatusesByInventoryPolicyWithPF",
        Purpose::Inventory,
        None,
    ),
    (
        "DeviceStatusesByInventoryPolicyWithPFV3",
        Purpose::Inventory,
        None,
    ),
    ("DeviceInventoryPolicyStatusesV3", Purpose::Inventory, None),
    (
        "DeviceInventoryPolicyStatusesWithPF",
        Purpose::Inventory,
        None,
    ),
];

/// The report a file is, from the first of its names that starts with a
/// report's name (ignoring case; the longest such name, so that a variant
/// wins over its base report).
fn report_named(
    origin: Origin<'_>,
) -> Option<&'static (&'static str, Purpose, Option<&'static str>)> {
    origin.names.iter().find_map(|name| {
        let name = name.to_lowercase();
        REPORTS
            .iter()
            .filter(|(report, _, _)| name.starts_with(&report.to_lowercase()))
            .max_by_key(|(report, _, _)| report.len())
    })
}

/// The policy-status row a per-setting row is filed under: the report made
/// from it and what it says of the policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusKey {
    pub report_id: String,
    pub policy_id: String,
    pub policy_name: String,
    pub observed_at_us: i64,
}

fn read(
    t: &RawTable,
    origin: Origin<'_>,
    family: Family,
    each: &mut dyn FnMut(Item) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    let report = report_named(origin);
    if let Some((name, purpose @ (Purpose::Compliance | Purpose::Inventory), _)) = report {
        let what = match purpose {
            Purpose::Compliance => "a compliance-policy report",
            _ => "an inventory-policy report",
        };
        let reason = format!(
            "`{name}` is {what}: its rows are not security-settings states, so posture does not read them"
        );
        for row in &t.rows {
            each(rejected(row, reason.clone()))?;
        }
        return Ok(());
    }
    // A file named after no report is read when its rows say they are
    // security settings (DeviceAssignmentStatus rows are configuration
    // policies whatever the name).
    let told_by_name = report.is_some() || family == Family::Assignment;
    let variant_type = report.and_then(|(_, _, policy_type)| *policy_type);
    each_row(t, each, |t, row| {
        let policy_type = unified_policy_type(t, row)
            .or_else(|| variant_type.map(str::to_owned))
            .unwrap_or_else(|| "Unknown".to_owned());
        if !told_by_name && !codes::is_security_settings_type(&policy_type) {
            return Err(if policy_type.to_lowercase().contains("compliance") {
                format!(
                    "`UnifiedPolicyType` `{policy_type}` is a compliance policy: not a security-settings state, so posture does not read it"
                )
            } else {
                format!(
                    "cannot tell which report this is: its columns are those of DeviceStatusesByConfigurationProfile and of compliance-policy reports (NonCompliantDevicesByCompliancePolicy, PolicyNonComplianceNew), the file name names no report, and `UnifiedPolicyType` `{policy_type}` is not a security-settings type; keep the report's name at the start of the file's name, as Intune names its export (`DeviceStatusesByConfigurationProfile_<id>.zip`)"
                )
            });
        }
        status_report(t, row, family, policy_type)
    })
}

/// `UnifiedPolicyType` as text: the contract's type when we know it, else
/// the text (its `_loc` when the column holds a number).
fn unified_policy_type(t: &RawTable, row: &RawRow) -> Option<String> {
    let code = text(t, row, "UnifiedPolicyType");
    let loc = text(t, row, "UnifiedPolicyType_loc");
    let named = match (code, loc) {
        (Some(code), loc) if code.parse::<i64>().is_ok() => loc.or(Some(code)),
        (Some(code), _) => Some(code),
        (None, loc) => loc,
    };
    named.map(|n| codes::policy_type(&n))
}

fn status_report(
    t: &RawTable,
    row: &RawRow,
    family: Family,
    policy_type: String,
) -> Result<Item, String> {
    let device_id = required(t, row, "IntuneDeviceId")?.to_lowercase();
    let policy_id = required(t, row, "PolicyId")?.to_owned();
    let observed_at_us = time(t, row, "PspdpuLastModifiedTimeUtc")?
        .ok_or("missing required column value `PspdpuLastModifiedTimeUtc`")?;
    // The code wins over the text when both are there; `ReportStatus` is
    // read when the status column is absent or empty.
    let column = family.status_column();
    let state: State = match coded(t, row, column, codes::policy_state)? {
        Some(state) => state,
        None => coded(t, row, "ReportStatus", codes::policy_state)?.ok_or_else(|| {
            format!("missing required column value `{column}` (or `ReportStatus`)")
        })?,
    };
    let platform = ["UnifiedPolicyPlatformType", "UnifiedPolicyPlatformType_loc"]
        .iter()
        .filter_map(|c| t.get(row, c))
        .find_map(codes::platform_family);
    let report_id = format!(
        "intune-{}",
        row_id(&[
            family.source(),
            &device_id,
            &policy_id,
            state.as_str(),
            &observed_at_us.to_string(),
        ])
    );
    let device = Device {
        name: text(t, row, "DeviceName").unwrap_or_else(|| device_id.clone()),
        aad_device_id: t.get(row, "AadDeviceId").map(str::to_lowercase),
        os_platform: platform.unwrap_or("Unknown").to_owned(),
        os_version: None,
        agent_version: None,
        managed_by: "Unknown".to_owned(),
        enrollment_status: None,
        join_type: None,
        health_status: None,
        machine_group: None,
        is_domain_controller: None,
        tags: None,
        device_id,
    };
    let policy = Policy {
        name: text_or_loc(t, row, "PolicyName").unwrap_or_else(|| policy_id.clone()),
        policy_type,
        profile: None,
        version: t.get(row, "TemplateVersion").and_then(|v| v.parse().ok()),
        state,
        settings: Vec::new(),
        policy_id,
    };
    Ok(Item::Report {
        report: Box::new(Report {
            report_id,
            tenant_id: String::new(),
            observed_at_us,
            device,
            policies: vec![policy],
        }),
        source: family.source(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_variant_is_told_by_its_longest_name() {
        let named = |name: &str| {
            report_named(Origin {
                names: &[name],
                kind: super::super::Kind::Csv,
            })
            .map(|r| r.0)
        };
        assert_eq!(
            named("DeviceStatusesByConfigurationProfileForASR_0f3a.csv"),
            Some("DeviceStatusesByConfigurationProfileForASR")
        );
        assert_eq!(
            named("devicestatusesbyconfigurationprofile_1.zip"),
            Some("DeviceStatusesByConfigurationProfile")
        );
        assert_eq!(
            named("PolicyNonComplianceNewV3_x.csv"),
            Some("PolicyNonComplianceNewV3")
        );
        assert_eq!(named("statuses.csv"), None);
        // The zip entry's name is tried before the archive's.
        let origin = Origin {
            names: &["export.csv", "NonCompliantDevicesByCompliancePolicy_1.zip"],
            kind: super::super::Kind::Csv,
        };
        assert_eq!(report_named(origin).map(|r| r.1), Some(Purpose::Compliance));
    }
}
