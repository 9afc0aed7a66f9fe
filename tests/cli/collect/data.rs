//! What the fake tenant holds in the tests: two endpoint security
//! policies (and one other), their status exports, the Defender agents and
//! firewall exports, five machines, assessments and antivirus health, as
//! of a day.

use std::collections::HashMap;

use serde_json::{Value, json};

use super::fake_tenant::Data;

pub const P1: &str = "5d1a0c3e-0000-4000-8000-000000000001";
pub const P2: &str = "5d1a0c3e-0000-4000-8000-000000000002";
pub const P_OTHER: &str = "9e9e9e9e-0000-4000-8000-000000000003";

/// Intune's policy status export of `policy` on `day`: (device, code).
pub fn policy_csv(policy: &str, name: &str, day: &str, rows: &[(u32, u32)]) -> String {
    let mut csv = String::from(
        "AssignmentFilterIds,DeviceName,IntuneDeviceId,Manufacturer,Model,PolicyId,PolicyName,PolicyStatus,PolicyStatus_loc,PspdpuLastModifiedTimeUtc,ReportStatus,ReportStatus_loc,TemplateVersion,UnifiedPolicyPlatformType,UnifiedPolicyPlatformType_loc,UnifiedPolicyType,UnifiedPolicyType_loc,UPN\r\n",
    );
    for (device, code) in rows {
        let (loc, report) = match code {
            2 => ("Compliant", "Succeeded"),
            4 => ("Not compliant", "Noncompliant"),
            _ => ("Error", "Error"),
        };
        csv.push_str(&format!(
            ",WS-{device:04},11111111-0000-0000-0000-{device:012},Contoso,Laptop 7,{policy},{name},{code},{loc},{day} 0{device}:00:00.0000000,{report},{report},1,windows10AndLater,Windows 10 and later,Antivirus,Microsoft Defender Antivirus,user{device}@contoso.example\r\n"
        ));
    }
    csv
}

fn defender_agents_csv(day: &str) -> String {
    format!(
        "DeviceId,DeviceName,DeviceState,DeviceState_loc,IsVirtualMachine,LastReportedDateTime,MalwareProtectionEnabled,ProductStatus,RealTimeProtectionEnabled,SignatureUpdateOverdue,TamperProtectionEnabled,UPN,UserEmail,UserName,_ManagedBy\r\n\
         11111111-0000-0000-0000-000000000001,WS-0001,0,Clean,false,{day} 04:41:52.7475490,true,0,true,false,true,user1@contoso.example,user1@contoso.example,User 1,MDM\r\n\
         11111111-0000-0000-0000-000000000002,WS-0002,2,Reboot pending,false,{day} 05:00:00.0000000,true,32,false,true,true,user2@contoso.example,user2@contoso.example,User 2,MDM\r\n"
    )
}

fn firewall_csv(day: &str) -> String {
    format!(
        "DeviceId,DeviceName,FirewallStatus,LastReportedDateTime,ReferenceId,UPN,UserName,_ManagedBy,_OS\r\n\
         11111111-0000-0000-0000-000000000001,WS-0001,Enabled,{day} 03:00:00.0000000,aaaaaaaa-0000-0000-0000-000000000001,user1@contoso.example,User 1,Intune,Windows\r\n\
         11111111-0000-0000-0000-000000000002,WS-0002,Disabled,{day} 03:30:00.0000000,aaaaaaaa-0000-0000-0000-000000000002,user2@contoso.example,User 2,Intune,Windows\r\n"
    )
}

fn machine(n: u32, day: &str) -> Value {
    json!({
        "id": format!("{n:040x}"),
        "computerDnsName": format!("ws-{n:04}.contoso.example"),
        "firstSeen": "2026-01-05T10:00:00Z",
        "lastSeen": format!("{day}T0{n}:00:00Z"),
        "osPlatform": "Windows11",
        "osVersion": "10.0.22631",
        "healthStatus": "Active",
        "onboardingStatus": "Onboarded",
        "managedBy": if n.is_multiple_of(2) { "Intune" } else { "MDE" },
        "managedByStatus": "Success",
        "aadDeviceId": format!("aaaaaaaa-0000-0000-0000-{n:012}"),
        "machineTags": ["test"]
    })
}

/// The tenant as of `day`: two endpoint security policies (and one other
/// policy, not exported), five machines.
pub fn tenant_data(day: &str) -> Data {
    let mut exports = HashMap::new();
    exports.insert(
        format!("DeviceStatusesByConfigurationProfile/{P1}"),
        policy_csv(P1, "Defender AV baseline", day, &[(1, 2), (2, 4)]),
    );
    exports.insert(
        format!("DeviceStatusesByConfigurationProfile/{P2}"),
        policy_csv(P2, "Firewall policy", day, &[(1, 2), (2, 2)]),
    );
    exports.insert("DefenderAgents".into(), defender_agents_csv(day));
    exports.insert("FirewallStatus".into(), firewall_csv(day));
    for (policy, name) in [(P1, "Defender AV baseline"), (P2, "Firewall policy")] {
        exports.insert(
            format!("DeviceAssignmentStatusByConfigurationPolicy/{policy}"),
            format!(
                "PolicyId,PolicyName,IntuneDeviceId,DeviceName,AadDeviceId,UPN,AssignmentStatus,PspdpuLastModifiedTimeUtc,UnifiedPolicyPlatformType,UnifiedPolicyType,AssignmentFilterIds,TemplateVersion,ReportStatus\r\n\
                 {policy},{name},11111111-0000-0000-0000-000000000001,WS-0001,aaaaaaaa-0000-0000-0000-000000000001,user1@contoso.example,Succeeded,{day} 01:00:00.0000000,windows10AndLater,Antivirus,,1,Succeeded\r\n"
            ),
        );
    }
    exports.insert(
        "DevicePolicySettingsComplianceReport".into(),
        format!("DeviceId,ErrorCode,ErrorType,PolicyId,PolicyVersion,SettingId,SettingInstanceId,SettingName,SettingNm,SettingStatus,SettingValue,StateDetails,UserId\r\n11111111-0000-0000-0000-000000000001,0,0,{P1},1,s1,i1,Real-time protection,RTP,2,true,,u1\r\n"),
    );
    exports.insert(
        "DevicesWithInventory".into(),
        "Device ID,Device name,Microsoft Entra Device ID,OS,OS version,Last check-in\r\n11111111-0000-0000-0000-000000000001,WS-0001,aaaaaaaa-0000-0000-0000-000000000001,Windows,10.0.22631,2026-11-10 01:00:00\r\n".into(),
    );
    Data {
        policies: vec![
            (P1.into(), "Defender AV baseline".into(), "endpointSecurityAntivirus".into()),
            (P_OTHER.into(), "Wi-Fi profile".into(), "none".into()),
            (P2.into(), "Firewall policy".into(), "endpointSecurityFirewall".into()),
        ],
        machines: (1..=5).map(|n| machine(n, day)).collect(),
        assessments: (1..=3)
            .map(|n| json!({"deviceId": format!("{n:040x}"), "configurationId": format!("scid-{n}"), "isCompliant": n != 2, "isApplicable": true, "timestamp": format!("{day} 09:47:58.854")}))
            .collect(),
        avinfo: (1..=3)
            .map(|n| json!({"id": format!("{n:040x}"), "machineId": format!("{n:040x}"), "avMode": "0", "avIsSignatureUpToDate": "True", "lastSeenTime": format!("{day}T02:00:00Z")}))
            .collect(),
        exports,
        polls_before_complete: 2,
        machines_next_link: true,
    }
}
