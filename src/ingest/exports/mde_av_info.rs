//! Defender for Endpoint's antivirus health API (`deviceavinfo`), one JSON
//! page a file: each machine's antivirus mode, versions, whether they are up
//! to date, and its last scans, keyed by the machine id, into
//! `antivirus_health` beside Intune's `DefenderAgents` rows.

use super::table::{RawRow, RawTable};
use super::{Item, Reader, TableRow, codes, each_row, required, row_id, text, time};
use crate::lake::Table;

pub const READER: Reader = Reader {
    name: "deviceavinfo",
    per_setting: false,
    recognise: |t| t.has("machineId") && (t.has("avMode") || t.has("avSignatureVersion")),
    read: |t, _, each| each_row(t, each, |t, row| av_info(t, row).map(Item::Row)),
};

/// `True`, `False` or `Unknown` (none).
fn up_to_date(t: &RawTable, row: &RawRow, column: &str) -> Result<Option<bool>, String> {
    match t.get(row, column) {
        None => Ok(None),
        Some(v) => codes::up_to_date(v)
            .ok_or_else(|| format!("column `{column}` has an unknown value `{v}`")),
    }
}

fn av_info(t: &RawTable, row: &RawRow) -> Result<TableRow, String> {
    let machine_id = required(t, row, "machineId")?.to_lowercase();
    let last_seen = time(t, row, "lastSeenTime")?;
    let observed_at_us = last_seen
        .or(time(t, row, "dataRefreshTimestamp")?)
        .ok_or("missing required column value `lastSeenTime` (and `dataRefreshTimestamp`)")?;
    let mode = t.get(row, "avMode");
    let (av_mode, av_mode_name) = codes::av_mode(mode).ok_or_else(|| {
        format!(
            "column `avMode` has an unknown value `{}`",
            mode.unwrap_or_default()
        )
    })?;
    let signature_up_to_date = up_to_date(t, row, "avIsSignatureUpToDate")?;
    let mut r = TableRow::new(
        Table::AntivirusHealth,
        row_id(&["deviceavinfo", &machine_id, &observed_at_us.to_string()]),
        observed_at_us,
    );
    r.text("device_id", Some(machine_id))
        .text("source", Some("mde:deviceavinfo".to_owned()))
        .text("device_name", text(t, row, "computerDnsName"))
        .int("av_mode", av_mode)
        .text("av_mode_name", Some(av_mode_name.to_owned()))
        .text("engine_version", text(t, row, "avEngineVersion"))
        .text("platform_version", text(t, row, "avPlatformVersion"))
        .text("signature_version", text(t, row, "avSignatureVersion"))
        .boolean(
            "engine_up_to_date",
            up_to_date(t, row, "avIsEngineUpToDate")?,
        )
        .boolean(
            "platform_up_to_date",
            up_to_date(t, row, "avIsPlatformUpToDate")?,
        )
        .boolean("signature_up_to_date", signature_up_to_date)
        .boolean(
            "signature_update_overdue",
            signature_up_to_date.map(|ok| !ok),
        )
        .time("engine_updated_at", time(t, row, "avEngineUpdateTime")?)
        .time("platform_updated_at", time(t, row, "avPlatformUpdateTime")?)
        .time(
            "signature_updated_at",
            time(t, row, "avSignatureUpdateTime")?,
        )
        .time(
            "signature_published_at",
            time(t, row, "avSignaturePublishTime")?,
        )
        .text("quick_scan_result", text(t, row, "quickScanResult"))
        .text("quick_scan_error", text(t, row, "quickScanError"))
        .time("last_quick_scan_at", time(t, row, "quickScanTime")?)
        .text("full_scan_result", text(t, row, "fullScanResult"))
        .text("full_scan_error", text(t, row, "fullScanError"))
        .time("last_full_scan_at", time(t, row, "fullScanTime")?)
        .time("last_seen", last_seen)
        .text("os_kind", text(t, row, "osKind"))
        .text("os_platform", t.get(row, "osPlatform").map(codes::platform))
        .text("os_version", text(t, row, "osVersion"))
        .text("rbac_group_name", text(t, row, "rbacGroupName"));
    Ok(r)
}
