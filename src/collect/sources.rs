//! What `posture collect` can fetch, in one table per service: each Intune
//! report export and each Defender for Endpoint API, with how it is asked
//! for, how its file is named, and the application permission it needs (the
//! one named when the service answers `403`).

/// An Intune report, exported through Graph's
/// `deviceManagement/reports/exportJobs` as a zip of one CSV.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IntuneReport {
    /// The export's `reportName`.
    pub name: &'static str,
    /// Exported once per policy, with the filter `(PolicyId eq '…')`.
    pub per_policy: bool,
    /// The columns asked for (`select`), as Intune documents them: the
    /// default columns of an export are not a contract.
    pub columns: &'static [&'static str],
    /// The Microsoft Graph application permission it needs.
    pub permission: &'static str,
}

/// The permission to list policies and export their statuses.
pub const CONFIGURATION_READ: &str = "DeviceManagementConfiguration.Read.All";
/// The permission to export device-level reports.
pub const MANAGED_DEVICES_READ: &str = "DeviceManagementManagedDevices.Read.All";

const POLICY_STATUS_COLUMNS: &[&str] = &[
    "AssignmentFilterIds",
    "DeviceName",
    "IntuneDeviceId",
    "Manufacturer",
    "Model",
    "PolicyId",
    "PolicyName",
    "PolicyStatus",
    "PspdpuLastModifiedTimeUtc",
    "ReportStatus",
    "TemplateVersion",
    "UnifiedPolicyPlatformType",
    "UnifiedPolicyType",
    "UPN",
];

const ASSIGNMENT_STATUS_COLUMNS: &[&str] = &[
    "PolicyId",
    "PolicyName",
    "IntuneDeviceId",
    "DeviceName",
    "AadDeviceId",
    "UPN",
    "AssignmentStatus",
    "PspdpuLastModifiedTimeUtc",
    "UnifiedPolicyPlatformType",
    "UnifiedPolicyType",
    "AssignmentFilterIds",
    "TemplateVersion",
    "ReportStatus",
];

const fn policy_status(name: &'static str) -> IntuneReport {
    IntuneReport {
        name,
        per_policy: true,
        columns: POLICY_STATUS_COLUMNS,
        permission: CONFIGURATION_READ,
    }
}

const fn assignment_status(name: &'static str) -> IntuneReport {
    IntuneReport {
        name,
        per_policy: true,
        columns: ASSIGNMENT_STATUS_COLUMNS,
        permission: CONFIGURATION_READ,
    }
}

/// The Intune reports `posture collect` knows (Microsoft's "Intune reports
/// and properties available using Graph API").
pub const INTUNE_REPORTS: &[IntuneReport] = &[
    policy_status("DeviceStatusesByConfigurationProfile"),
    policy_status("DeviceStatusesByConfigurationProfileForASR"),
    policy_status("DeviceStatusesByConfigurationProfileForEDR"),
    policy_status("DeviceStatusesByConfigurationProfileForAppControl"),
    policy_status("DeviceStatusesByConfigurationProfileV3"),
    policy_status("DeviceStatusesByConfigurationProfileWithPF"),
    assignment_status("DeviceAssignmentStatusByConfigurationPolicy"),
    assignment_status("DeviceAssignmentStatusByConfigurationPolicyForASR"),
    assignment_status("DeviceAssignmentStatusByConfigurationPolicyForEDR"),
    assignment_status("DeviceAssignmentStatusByConfigurationPolicyForAC"),
    assignment_status("DeviceAssignmentStatusByConfigurationPolicyV3"),
    IntuneReport {
        name: "DevicePolicySettingsComplianceReport",
        per_policy: false,
        columns: &[
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
            "SettingValue",
            "StateDetails",
            "UserId",
        ],
        permission: CONFIGURATION_READ,
    },
    IntuneReport {
        name: "DefenderAgents",
        per_policy: false,
        columns: &[
            "DeviceId",
            "DeviceName",
            "DeviceState",
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
        ],
        permission: MANAGED_DEVICES_READ,
    },
    IntuneReport {
        name: "FirewallStatus",
        per_policy: false,
        columns: &[
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
        permission: MANAGED_DEVICES_READ,
    },
    IntuneReport {
        name: "DevicesWithInventory",
        per_policy: false,
        columns: &[
            "DeviceId",
            "DeviceName",
            "ManagedDeviceName",
            "ReferenceId",
            "DeviceType",
            "OSVersion",
            "SkuFamily",
            "JoinType",
            "ProcessorArchitecture",
            "CompliantState",
            "ManagementAgent",
            "ManagementState",
            "OwnerType",
            "DeviceRegistrationState",
            "IsEncrypted",
            "LastContact",
            "CreatedDate",
            "SerialNumber",
            "Manufacturer",
            "Model",
            "CategoryName",
            "UPN",
            "UserEmail",
            "UserName",
        ],
        permission: MANAGED_DEVICES_READ,
    },
];

/// What a night fetches when `intune_reports` is not set: the policy
/// statuses per policy, the per-setting statuses, the Defender agents, the
/// firewall status and the device inventory.
pub const DEFAULT_INTUNE_REPORTS: &[&str] = &[
    "DeviceStatusesByConfigurationProfile",
    "DeviceAssignmentStatusByConfigurationPolicy",
    "DevicePolicySettingsComplianceReport",
    "DefenderAgents",
    "FirewallStatus",
    "DevicesWithInventory",
];

/// How an API's pages are asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Paging {
    /// `$top=N`; the next page from `@odata.nextLink`, or `$skip` when a
    /// full page comes without one.
    Top { max: u32 },
    /// `pageSize=N` (`$top` would stop the service from giving the next
    /// page's link); the next page only from `@odata.nextLink`.
    PageSize { default: u32, max: u32 },
}

/// A Defender for Endpoint API read page by page, each page a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DefenderApi {
    /// The name in the config and in file names.
    pub name: &'static str,
    /// The path under the API's base URL.
    pub path: &'static str,
    pub paging: Paging,
    /// The WindowsDefenderATP application permission it needs.
    pub permission: &'static str,
    /// `404` on the first page means "nothing to list", not an error
    /// (the machine list's documented answer when there is no machine).
    pub empty_is_404: bool,
}

pub const DEFENDER_APIS: &[DefenderApi] = &[
    DefenderApi {
        name: "machines",
        path: "/api/machines",
        paging: Paging::Top { max: 10_000 },
        permission: "Machine.Read.All",
        empty_is_404: true,
    },
    DefenderApi {
        name: "SecureConfigurationsAssessmentByMachine",
        path: "/api/machines/SecureConfigurationsAssessmentByMachine",
        paging: Paging::PageSize {
            default: 50_000,
            max: 200_000,
        },
        permission: "Vulnerability.Read.All",
        empty_is_404: false,
    },
    DefenderApi {
        name: "deviceavinfo",
        path: "/api/deviceavinfo",
        paging: Paging::Top { max: 10_000 },
        permission: "Machine.Read.All",
        empty_is_404: false,
    },
];

pub fn intune_report(name: &str) -> Option<&'static IntuneReport> {
    INTUNE_REPORTS.iter().find(|r| r.name == name)
}

pub fn defender_api(name: &str) -> Option<&'static DefenderApi> {
    DEFENDER_APIS.iter().find(|a| a.name == name)
}

impl DefenderApi {
    /// Rows asked per page: `page_size` when set, else the API's
    /// largest page (or its default, for the assessment), never past its
    /// maximum.
    pub fn page_rows(&self, page_size: Option<u32>) -> u32 {
        match self.paging {
            Paging::Top { max } => page_size.unwrap_or(max).clamp(1, max),
            Paging::PageSize { default, max } => page_size.unwrap_or(default).clamp(1, max),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_defaults_are_known() {
        let mut names: Vec<&str> = INTUNE_REPORTS.iter().map(|r| r.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), INTUNE_REPORTS.len());
        for name in DEFAULT_INTUNE_REPORTS {
            assert!(intune_report(name).is_some(), "{name}");
        }
    }

    #[test]
    fn page_rows_stay_within_each_api_maximum() {
        let machines = defender_api("machines").unwrap();
        assert_eq!(machines.page_rows(None), 10_000);
        assert_eq!(machines.page_rows(Some(50_000)), 10_000);
        assert_eq!(machines.page_rows(Some(2)), 2);
        let sca = defender_api("SecureConfigurationsAssessmentByMachine").unwrap();
        assert_eq!(sca.page_rows(None), 50_000);
        assert_eq!(sca.page_rows(Some(500_000)), 200_000);
    }
}
