//! Intune's `FirewallStatus` and `FirewallUnhealthyStatus` exports: Windows
//! Firewall status per device, into `firewall_status`.

use super::table::{RawRow, RawTable};
use super::{
    Item, Reader, TableRow, coded, codes, each_row, required, row_id, text, text_or_loc, time,
};
use crate::lake::Table;

pub const READER: Reader = Reader {
    name: "FirewallStatus",
    per_setting: false,
    recognise: |t| {
        ["DeviceId", "FirewallStatus", "LastReportedDateTime"]
            .iter()
            .all(|c| t.has(c))
    },
    read: |t, _, each| each_row(t, each, |t, row| firewall(t, row).map(Item::Row)),
};

fn firewall(t: &RawTable, row: &RawRow) -> Result<TableRow, String> {
    let device_id = required(t, row, "DeviceId")?.to_lowercase();
    let observed_at_us = time(t, row, "LastReportedDateTime")?
        .ok_or("missing required column value `LastReportedDateTime`")?;
    let status = coded(t, row, "FirewallStatus", codes::firewall_status)?
        .ok_or("missing required column value `FirewallStatus`")?;
    let mut r = TableRow::new(
        Table::FirewallStatus,
        row_id(&["firewall", &device_id, &observed_at_us.to_string()]),
        observed_at_us,
    );
    r.text("device_id", Some(device_id))
        .text("device_name", text(t, row, "DeviceName"))
        .int("firewall_status", Some(status))
        .text(
            "firewall_status_name",
            Some(codes::firewall_name(status).to_owned()),
        )
        .text("reference_id", text(t, row, "ReferenceId"))
        .text("upn", text(t, row, "UPN"))
        .text("user_name", text(t, row, "UserName"))
        .text("managed_by", text_or_loc(t, row, "_ManagedBy"))
        .text("os", text_or_loc(t, row, "_OS"));
    Ok(r)
}
