//! Intune's per-setting status exports: `DevicePolicySettingsComplianceReport`
//! (and `V3`), a row per device, policy and setting instance, and
//! `NoncompliantDevicesAndSettings`, which names the policy only by its name.
//! A row is evidence of a device's status for a policy, so it is filed under
//! that policy-status row (the ingest run finds it: `Run::file_setting`) and
//! takes its report and time; the export itself carries no time.

use super::super::error_code;
use super::super::report::Setting;
use super::table::{RawRow, RawTable};
use super::{Item, PendingSetting, PolicyRef, Reader, coded, codes, each_row, first_of, required};

pub const POLICY_SETTINGS: Reader = Reader {
    name: "DevicePolicySettingsComplianceReport",
    per_setting: true,
    recognise: |t| {
        ["DeviceId", "PolicyId", "SettingStatus"]
            .iter()
            .all(|c| t.has(c))
            && (t.has("SettingId") || t.has("SettingName"))
    },
    read: |t, _, each| {
        each_row(t, each, |t, row| {
            let policy = PolicyRef::Id(required(t, row, "PolicyId")?.to_owned());
            pending(
                t,
                row,
                policy,
                "intune:DevicePolicySettingsComplianceReport",
            )
        })
    },
};

pub const NONCOMPLIANT_SETTINGS: Reader = Reader {
    name: "NoncompliantDevicesAndSettings",
    per_setting: true,
    recognise: |t| {
        ["DeviceId", "PolicyName", "SettingName", "SettingStatus"]
            .iter()
            .all(|c| t.has(c))
            && !t.has("PolicyId")
    },
    read: |t, _, each| {
        each_row(t, each, |t, row| {
            let policy = PolicyRef::Name(required(t, row, "PolicyName")?.to_owned());
            pending(t, row, policy, "intune:NoncompliantDevicesAndSettings")
        })
    },
};

fn pending(
    t: &RawTable,
    row: &RawRow,
    policy: PolicyRef,
    source: &'static str,
) -> Result<Item, String> {
    let device_id = required(t, row, "DeviceId")?.to_lowercase();
    let setting_id = first_of(t, row, &["SettingId", "SettingName"])
        .ok_or("missing required column value `SettingId` (or `SettingName`)")?
        .to_owned();
    let state = coded(t, row, "SettingStatus", codes::policy_state)?
        .ok_or("missing required column value `SettingStatus`")?;
    Ok(Item::Setting(Box::new(PendingSetting {
        position: row.position,
        raw: row.raw.clone(),
        device_id,
        policy,
        instance: t.get(row, "SettingInstanceId").map(str::to_owned),
        setting: Setting {
            setting_id,
            // `SettingNm` is the name the admin center shows; `SettingName`
            // is often an identifier.
            name: first_of(t, row, &["SettingNm", "SettingName"]).map(str::to_owned),
            state,
            error_code: t.get(row, "ErrorCode").and_then(error_code::normalize),
            expected: None,
            actual: t.get(row, "SettingValue").map(str::to_owned),
        },
        source,
    })))
}
