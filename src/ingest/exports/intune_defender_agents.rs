//! Intune's `DefenderAgents` and `UnhealthyDefenderAgents` exports (the same
//! columns): a Defender Antivirus agent's state per device, into
//! `antivirus_health`, with the onboarding signals (`WDATPOnboardingState`,
//! `IsWDATPSenseRunning`) that `onboarding_coverage` reads.

use super::table::{RawRow, RawTable};
use super::{
    Item, Reader, TableRow, boolean, coded, codes, each_row, lenient_boolean, required, row_id,
    text, text_or_loc, time,
};
use crate::lake::Table;

pub const READER: Reader = Reader {
    name: "DefenderAgents",
    per_setting: false,
    recognise: |t| {
        ["DeviceId", "DeviceState", "LastReportedDateTime"]
            .iter()
            .all(|c| t.has(c))
    },
    read: |t, _, each| each_row(t, each, |t, row| antivirus(t, row).map(Item::Row)),
};

fn antivirus(t: &RawTable, row: &RawRow) -> Result<TableRow, String> {
    let device_id = required(t, row, "DeviceId")?.to_lowercase();
    let observed_at_us = time(t, row, "LastReportedDateTime")?
        .ok_or("missing required column value `LastReportedDateTime`")?;
    let device_state = coded(t, row, "DeviceState", |v| {
        codes::flags(v, &codes::DEVICE_STATE, "clean")
    })?;
    let product_status = coded(t, row, "ProductStatus", |v| {
        codes::flags(v, &codes::PRODUCT_STATUS, "noStatus")
    })?;
    let onboarding = text_or_loc(t, row, "WDATPOnboardingState");
    let mut r = TableRow::new(
        Table::AntivirusHealth,
        row_id(&["antivirus", &device_id, &observed_at_us.to_string()]),
        observed_at_us,
    );
    r.text("device_id", Some(device_id))
        .text("source", Some("intune:DefenderAgents".to_owned()))
        .text("device_name", text(t, row, "DeviceName"))
        .text("managed_by", text_or_loc(t, row, "_ManagedBy"))
        .text("upn", text(t, row, "UPN"))
        .text("user_email", text(t, row, "UserEmail"))
        .text("user_name", text(t, row, "UserName"))
        .boolean("is_virtual_machine", boolean(t, row, "IsVirtualMachine")?)
        .int("device_state", device_state)
        .text(
            "device_state_names",
            device_state.map(|v| codes::flag_names(v, &codes::DEVICE_STATE, "clean")),
        )
        .int("product_status", product_status)
        .text(
            "product_status_names",
            product_status.map(|v| codes::flag_names(v, &codes::PRODUCT_STATUS, "noStatus")),
        );
    for (column, field) in [
        ("malware_protection_enabled", "MalwareProtectionEnabled"),
        (
            "network_inspection_system_enabled",
            "NetworkInspectionSystemEnabled",
        ),
        ("real_time_protection_enabled", "RealTimeProtectionEnabled"),
        ("signature_update_overdue", "SignatureUpdateOverdue"),
        ("tamper_protection_enabled", "TamperProtectionEnabled"),
    ] {
        r.boolean(column, boolean(t, row, field)?);
    }
    // Columns the export accepts but Microsoft does not list: a value we
    // cannot read is left empty, never a reason to lose the row.
    for (column, field) in [
        ("critical_failure", "CriticalFailure"),
        ("full_scan_overdue", "FullScanOverdue"),
        ("full_scan_required", "FullScanRequired"),
        ("pending_full_scan", "PendingFullScan"),
        ("pending_manual_steps", "PendingManualSteps"),
        ("pending_offline_scan", "PendingOfflineScan"),
        ("pending_reboot", "PendingReboot"),
        ("quick_scan_overdue", "QuickScanOverdue"),
        ("reboot_required", "RebootRequired"),
        ("wdatp_sense_running", "IsWDATPSenseRunning"),
    ] {
        r.boolean(column, lenient_boolean(t, row, field));
    }
    r.text("engine_version", text(t, row, "EngineVersion"))
        .text("signature_version", text(t, row, "SignatureVersion"))
        .text("anti_malware_version", text(t, row, "AntiMalwareVersion"))
        .text(
            "last_quick_scan_signature_version",
            text(t, row, "LastQuickScanSignatureVersion"),
        )
        .time("last_quick_scan_at", time(t, row, "LastQuickScanDateTime")?)
        .time("last_full_scan_at", time(t, row, "LastFullScanDateTime")?)
        .boolean(
            "wdatp_onboarded",
            onboarding.as_deref().and_then(codes::wdatp_onboarded),
        )
        .text("wdatp_onboarding_state", onboarding);
    Ok(r)
}
