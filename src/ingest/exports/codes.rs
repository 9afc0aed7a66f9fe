//! The code tables of the vendor exports: Intune's `complianceStatus`,
//! Defender's device health state and product status flags, the firewall
//! status. A cell may hold the code, its name, or its localised text (the
//! `<Column>_loc` shape, or text alone); each decoder takes any of them and
//! says which it could not read.

use super::super::State;

/// Folds text for matching: lower case, no spaces, `_` or `-`.
fn fold(text: &str) -> String {
    text.chars()
        .filter(|c| !matches!(c, ' ' | '_' | '-'))
        .flat_map(char::to_lowercase)
        .collect()
}

/// Intune's `complianceStatus` (the `PolicyStatus` column): code and name.
pub const COMPLIANCE_STATUS: [(i64, &str); 8] = [
    (0, "unknown"),
    (1, "notApplicable"),
    (2, "compliant"),
    (3, "remediated"),
    (4, "nonCompliant"),
    (5, "error"),
    (6, "conflict"),
    (7, "notAssigned"),
];

/// What each `complianceStatus` becomes among our five states
/// (docs/vendor-exports.md says why).
pub fn compliance_state(code: i64) -> Option<State> {
    Some(match code {
        0 => State::Pending,
        1 | 7 => State::NotApplicable,
        2 | 3 => State::Succeeded,
        4 | 5 => State::Error,
        6 => State::Conflict,
        _ => return None,
    })
}

/// A policy status cell: a `complianceStatus` code, its name, or the
/// `ReportStatus` text (`Succeeded`, `Noncompliant`, `Pending`, ...).
pub fn policy_state(text: &str) -> Option<State> {
    if let Ok(code) = text.trim().parse::<i64>() {
        return compliance_state(code);
    }
    let folded = fold(text);
    if let Some((code, _)) = COMPLIANCE_STATUS.iter().find(|(_, n)| fold(n) == folded) {
        return compliance_state(*code);
    }
    // ReportStatus and the admin center's texts.
    Some(match folded.as_str() {
        "succeeded" | "success" => State::Succeeded,
        "pending" | "inprogress" => State::Pending,
        "failed" => State::Error,
        _ => return State::parse(text),
    })
}

/// `DeviceState` (Defender's `windowsDeviceHealthState`): a flag value.
pub const DEVICE_STATE: [(i64, &str); 5] = [
    (1, "fullScanPending"),
    (2, "rebootPending"),
    (4, "manualStepsPending"),
    (8, "offlineScanPending"),
    (16, "critical"),
];

/// `ProductStatus` (Graph's `windowsDefenderProductStatus`): a bit mask.
pub const PRODUCT_STATUS: [(i64, &str); 25] = [
    (1, "serviceNotRunning"),
    (1 << 1, "serviceStartedWithoutMalwareProtection"),
    (1 << 2, "pendingFullScanDueToThreatAction"),
    (1 << 3, "pendingRebootDueToThreatAction"),
    (1 << 4, "pendingManualStepsDueToThreatAction"),
    (1 << 5, "avSignaturesOutOfDate"),
    (1 << 6, "asSignaturesOutOfDate"),
    (1 << 7, "noQuickScanHappenedForSpecifiedPeriod"),
    (1 << 8, "noFullScanHappenedForSpecifiedPeriod"),
    (1 << 9, "systemInitiatedScanInProgress"),
    (1 << 10, "systemInitiatedCleanInProgress"),
    (1 << 11, "samplesPendingSubmission"),
    (1 << 12, "productRunningInEvaluationMode"),
    (1 << 13, "productRunningInNonGenuineMode"),
    (1 << 14, "productExpired"),
    (1 << 15, "offlineScanRequired"),
    (1 << 16, "serviceShutdownAsPartOfSystemShutdown"),
    (1 << 17, "threatRemediationFailedCritically"),
    (1 << 18, "threatRemediationFailedNonCritically"),
    (1 << 19, "noStatusFlagsSet"),
    (1 << 20, "platformOutOfDate"),
    (1 << 21, "platformUpdateInProgress"),
    (1 << 22, "platformAboutToBeOutdated"),
    (1 << 23, "signatureOrPlatformEndOfLifeIsPastOrIsImpending"),
    (1 << 24, "windowsSModeSignaturesInUseOnNonWin10SInstall"),
];

/// A flag value decoded: the names of its bits, in bit order, with any bit
/// the table does not know kept as `unknown(0x...)`; `zero` names 0.
pub fn flag_names(value: i64, table: &[(i64, &str)], zero: &str) -> String {
    if value == 0 {
        return zero.to_owned();
    }
    let mut names: Vec<String> = Vec::new();
    let mut rest = value;
    for (bit, name) in table {
        if value & bit != 0 {
            names.push((*name).to_owned());
            rest &= !bit;
        }
    }
    if rest != 0 {
        names.push(format!("unknown(0x{rest:x})"));
    }
    names.join(", ")
}

/// A flag cell: the number, or names (the table's or its localised text)
/// separated by commas or semicolons; `zero` is the name of 0.
pub fn flags(text: &str, table: &[(i64, &str)], zero: &str) -> Option<i64> {
    if let Ok(value) = text.trim().parse::<i64>() {
        return (value >= 0).then_some(value);
    }
    let mut value = 0;
    for part in text.split([',', ';', '|']) {
        let folded = fold(part);
        if folded.is_empty() {
            continue;
        }
        if folded == fold(zero) || folded == "nostatus" {
            continue;
        }
        let (bit, _) = table.iter().find(|(_, n)| fold(n) == folded)?;
        value |= bit;
    }
    Some(value)
}

/// `FirewallStatus`: code and name.
pub const FIREWALL_STATUS: [(i64, &str); 5] = [
    (0, "Enabled"),
    (1, "Disabled"),
    (2, "Limited"),
    (3, "Temporarily disabled"),
    (4, "Not applicable"),
];

/// A firewall status cell: the code or its text.
pub fn firewall_status(text: &str) -> Option<i64> {
    if let Ok(code) = text.trim().parse::<i64>() {
        return FIREWALL_STATUS
            .iter()
            .any(|(c, _)| *c == code)
            .then_some(code);
    }
    // The admin center writes `Temporarily Disabled (default)`: the note in
    // parentheses is not part of the status.
    let label = text.split('(').next().unwrap_or(text);
    let folded = fold(label);
    FIREWALL_STATUS
        .iter()
        .find(|(_, n)| fold(n) == folded)
        .map(|(c, _)| *c)
        .or(match folded.as_str() {
            "on" => Some(0),
            "off" => Some(1),
            _ => None,
        })
}

pub fn firewall_name(code: i64) -> &'static str {
    FIREWALL_STATUS
        .iter()
        .find(|(c, _)| *c == code)
        .map_or("unknown", |(_, n)| n)
}

/// A boolean cell as the exports write it.
pub fn boolean(text: &str) -> Option<bool> {
    match fold(text).as_str() {
        "true" | "yes" | "1" | "enabled" | "on" => Some(true),
        "false" | "no" | "0" | "disabled" | "off" => Some(false),
        _ => None,
    }
}

/// The spec's platform for Intune's `UnifiedPolicyPlatformType`, the
/// firewall's `_OS` or the machine list's `osPlatform`. Windows client
/// platforms the export does not tell apart stay `Windows`; anything unknown
/// is kept as given.
pub fn platform(text: &str) -> String {
    let folded = fold(text);
    let known = [
        ("windows10", "Windows10"),
        ("windows11", "Windows11"),
        ("windowsserver2012r2", "WindowsServer2012R2"),
        ("windowsserver2016", "WindowsServer2016"),
        ("windowsserver2019", "WindowsServer2019"),
        ("windowsserver2022", "WindowsServer2022"),
        ("windowsserver2025", "WindowsServer2025"),
        ("macos", "macOS"),
        ("linux", "Linux"),
        ("windows10andlater", "Windows"),
        ("windows", "Windows"),
    ];
    known
        .iter()
        .find(|(k, _)| *k == folded)
        .map_or_else(|| text.trim().to_owned(), |(_, v)| (*v).to_owned())
}

/// The machine list's `managedBy`, in the spelling of `reports.managed_by`.
pub fn managed_by(text: &str) -> String {
    match fold(text).as_str() {
        "mde"
        | "microsoftdefender"
        | "microsoftdefenderforendpoint"
        | "securitysettingsmanagement" => "MDE",
        "intune" | "mem" => "Intune",
        "configmgr" | "sccm" | "memcm" | "configurationmanager" => "ConfigMgr",
        "comanaged" => "Co-managed",
        _ => "Unknown",
    }
    .to_owned()
}

/// The OS family a policy targets or an inventory names, from Intune's
/// `UnifiedPolicyPlatformType` (`Windows10` means "Windows 10 and later"),
/// the device inventory's `OS`, or a Defender `osPlatform`: `Windows`,
/// `macOS`, `Linux`, `iOS`, `Android`. Anything else (a template kind such as
/// `Administrative Template`, or text we do not know) is not a platform.
pub fn platform_family(text: &str) -> Option<&'static str> {
    let folded = fold(text);
    let family = if folded.starts_with("windows") {
        "Windows"
    } else if matches!(folded.as_str(), "macos" | "mac" | "macosx" | "osx") {
        "macOS"
    } else if folded == "linux" {
        "Linux"
    } else if matches!(folded.as_str(), "ios" | "ipados" | "ios/ipados") {
        "iOS"
    } else if folded.starts_with("android") {
        "Android"
    } else {
        return None;
    };
    Some(family)
}

/// The contract's policy type for the type Intune names a policy by
/// (`UnifiedPolicyType` or its `_loc` text); a type we do not know is kept
/// as given.
pub fn policy_type(text: &str) -> String {
    let known = [
        ("antivirus", "Antivirus"),
        ("microsoftdefenderantivirus", "Antivirus"),
        ("firewall", "Firewall"),
        ("windowsfirewall", "Firewall"),
        ("microsoftdefenderfirewall", "Firewall"),
        ("firewallrules", "FirewallRules"),
        ("windowsfirewallrules", "FirewallRules"),
        ("microsoftdefenderfirewallrules", "FirewallRules"),
        (
            "endpointdetectionandresponse",
            "EndpointDetectionAndResponse",
        ),
        ("edr", "EndpointDetectionAndResponse"),
        ("attacksurfacereduction", "AttackSurfaceReduction"),
        ("attacksurfacereductionrules", "AttackSurfaceReduction"),
        ("asr", "AttackSurfaceReduction"),
        ("asrrules", "AttackSurfaceReduction"),
    ];
    let folded = fold(text);
    known
        .iter()
        .find(|(k, _)| *k == folded)
        .map_or_else(|| text.trim().to_owned(), |(_, v)| (*v).to_owned())
}

/// Whether a policy type is one of security settings management's five.
pub fn is_security_settings_type(policy_type: &str) -> bool {
    matches!(
        policy_type,
        "Antivirus"
            | "Firewall"
            | "FirewallRules"
            | "EndpointDetectionAndResponse"
            | "AttackSurfaceReduction"
    )
}

/// Defender's `onboardingStatus`, in one spelling whatever the case: the
/// documentation writes `onboarded`, the API answers `Onboarded`.
pub fn onboarding_status(text: &str) -> String {
    let known = [
        "Onboarded",
        "CanBeOnboarded",
        "Unsupported",
        "InsufficientInfo",
    ];
    let folded = fold(text);
    known
        .iter()
        .find(|k| fold(k) == folded)
        .map_or_else(|| text.trim().to_owned(), |k| (*k).to_owned())
}

/// `deviceavinfo`'s `avMode`: a number as text, empty for `Other`.
pub const AV_MODE: [(i64, &str); 6] = [
    (0, "Active"),
    (1, "Passive"),
    (2, "Disabled"),
    (3, "Other"),
    (4, "EDRBlocked"),
    (5, "PassiveAudit"),
];

/// The code and name of an `avMode` (the code `None` for the empty value,
/// which the API documents as `Other`).
pub fn av_mode(text: Option<&str>) -> Option<(Option<i64>, &'static str)> {
    let Some(text) = text.map(str::trim).filter(|t| !t.is_empty()) else {
        return Some((None, "Other"));
    };
    if let Ok(code) = text.parse::<i64>() {
        return AV_MODE
            .iter()
            .find(|(c, _)| *c == code)
            .map(|(c, n)| (Some(*c), *n));
    }
    let folded = fold(text);
    AV_MODE
        .iter()
        .find(|(_, n)| fold(n) == folded)
        .map(|(c, n)| (Some(*c), *n))
}

/// `deviceavinfo`'s up-to-date flags: `True`, `False` or `Unknown` (none).
pub fn up_to_date(text: &str) -> Option<Option<bool>> {
    match fold(text).as_str() {
        "unknown" => Some(None),
        _ => boolean(text).map(Some),
    }
}

/// `WDATPOnboardingState`, whose values the export does not document: the
/// device's own setting is 0 (not onboarded) or 1 (onboarded).
pub fn wdatp_onboarded(text: &str) -> Option<bool> {
    match fold(text).as_str() {
        "1" | "onboarded" | "true" => Some(true),
        "0" | "notonboarded" | "false" | "offboarded" => Some(false),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_compliance_status_maps() {
        let expected = [
            State::Pending,
            State::NotApplicable,
            State::Succeeded,
            State::Succeeded,
            State::Error,
            State::Error,
            State::Conflict,
            State::NotApplicable,
        ];
        for ((code, name), state) in COMPLIANCE_STATUS.iter().zip(expected) {
            assert_eq!(policy_state(&code.to_string()), Some(state), "{code}");
            assert_eq!(policy_state(name), Some(state), "{name}");
        }
        assert_eq!(policy_state("8"), None);
        // ReportStatus texts.
        for (text, state) in [
            ("Pending", State::Pending),
            ("NotApplicable", State::NotApplicable),
            ("Not applicable", State::NotApplicable),
            ("Succeeded", State::Succeeded),
            ("Noncompliant", State::Error),
            ("Error", State::Error),
            ("Conflict", State::Conflict),
            ("Not assigned", State::NotApplicable),
        ] {
            assert_eq!(policy_state(text), Some(state), "{text}");
        }
        assert_eq!(policy_state("Broken"), None);
    }

    #[test]
    fn device_state_is_a_flag_value() {
        assert_eq!(flag_names(0, &DEVICE_STATE, "clean"), "clean");
        for (code, name) in DEVICE_STATE {
            assert_eq!(flag_names(code, &DEVICE_STATE, "clean"), name);
            assert_eq!(flags(name, &DEVICE_STATE, "clean"), Some(code));
        }
        assert_eq!(
            flag_names(3, &DEVICE_STATE, "clean"),
            "fullScanPending, rebootPending"
        );
        assert_eq!(
            flag_names(16 | 32, &DEVICE_STATE, "clean"),
            "critical, unknown(0x20)"
        );
        assert_eq!(
            flags("Reboot pending, Critical", &DEVICE_STATE, "clean"),
            Some(18)
        );
        assert_eq!(flags("Clean", &DEVICE_STATE, "clean"), Some(0));
        assert_eq!(flags("sleepy", &DEVICE_STATE, "clean"), None);
    }

    #[test]
    fn product_status_bits_decode_by_name() {
        for (i, (bit, _)) in PRODUCT_STATUS.iter().enumerate() {
            assert_eq!(*bit, 1 << i, "the table is in bit order");
        }
        assert_eq!(
            flag_names(1 | 32, &PRODUCT_STATUS, "noStatus"),
            "serviceNotRunning, avSignaturesOutOfDate"
        );
        assert_eq!(
            flag_names(1 << 30, &PRODUCT_STATUS, "noStatus"),
            "unknown(0x40000000)"
        );
        assert_eq!(flag_names(0, &PRODUCT_STATUS, "noStatus"), "noStatus");
        assert_eq!(flags("No status", &PRODUCT_STATUS, "noStatus"), Some(0));
        assert_eq!(
            flags(
                "productExpired; platformOutOfDate",
                &PRODUCT_STATUS,
                "noStatus"
            ),
            Some((1 << 14) | (1 << 20))
        );
    }

    #[test]
    fn firewall_codes_and_texts() {
        for (code, name) in FIREWALL_STATUS {
            assert_eq!(firewall_status(&code.to_string()), Some(code));
            assert_eq!(firewall_status(name), Some(code));
            assert_eq!(firewall_name(code), name);
        }
        assert_eq!(firewall_status("TemporarilyDisabled"), Some(3));
        assert_eq!(firewall_status("5"), None);
        assert_eq!(firewall_status("on fire"), None);
    }

    #[test]
    fn booleans_platforms_and_channels() {
        assert_eq!(boolean("True"), Some(true));
        assert_eq!(boolean("false"), Some(false));
        assert_eq!(boolean("1"), Some(true));
        assert_eq!(boolean("maybe"), None);
        assert_eq!(platform("windows10AndLater"), "Windows");
        assert_eq!(platform("Windows11"), "Windows11");
        assert_eq!(platform("macOS"), "macOS");
        assert_eq!(platform("linux"), "Linux");
        assert_eq!(platform("iOS"), "iOS");
        assert_eq!(managed_by("MDE"), "MDE");
        assert_eq!(managed_by("Intune"), "Intune");
        assert_eq!(managed_by("SCCM"), "ConfigMgr");
        assert_eq!(managed_by("Unknown"), "Unknown");
    }

    #[test]
    fn firewall_labels_as_the_admin_center_writes_them() {
        assert_eq!(firewall_status("Temporarily Disabled (default)"), Some(3));
        assert_eq!(firewall_status("Not applicable"), Some(4));
        assert_eq!(firewall_status("Enabled"), Some(0));
        assert_eq!(firewall_status("3"), Some(3));
        assert_eq!(firewall_status("9"), None);
        assert_eq!(firewall_status("Sleepy"), None);
    }

    #[test]
    fn platform_families_and_template_kinds() {
        assert_eq!(platform_family("Windows10"), Some("Windows"));
        assert_eq!(platform_family("windows10AndLater"), Some("Windows"));
        assert_eq!(platform_family("MacOS"), Some("macOS"));
        assert_eq!(platform_family("Linux"), Some("Linux"));
        assert_eq!(platform_family("iOS"), Some("iOS"));
        assert_eq!(platform_family("Administrative Template"), None);
        assert_eq!(platform_family(""), None);
    }

    #[test]
    fn av_modes_and_up_to_date_flags() {
        assert_eq!(av_mode(Some("0")), Some((Some(0), "Active")));
        assert_eq!(av_mode(Some("5")), Some((Some(5), "PassiveAudit")));
        assert_eq!(av_mode(Some("")), Some((None, "Other")));
        assert_eq!(av_mode(None), Some((None, "Other")));
        assert_eq!(av_mode(Some("9")), None);
        assert_eq!(up_to_date("True"), Some(Some(true)));
        assert_eq!(up_to_date("False"), Some(Some(false)));
        assert_eq!(up_to_date("Unknown"), Some(None));
        assert_eq!(up_to_date("Maybe"), None);
    }

    #[test]
    fn policy_types_and_onboarding_spellings() {
        assert_eq!(policy_type("Microsoft Defender Antivirus"), "Antivirus");
        assert_eq!(
            policy_type("Attack Surface Reduction Rules"),
            "AttackSurfaceReduction"
        );
        assert_eq!(policy_type("Settings catalog"), "Settings catalog");
        assert_eq!(onboarding_status("onboarded"), "Onboarded");
        assert_eq!(onboarding_status("canBeOnboarded"), "CanBeOnboarded");
        assert_eq!(managed_by("MicrosoftDefender"), "MDE");
    }
}
