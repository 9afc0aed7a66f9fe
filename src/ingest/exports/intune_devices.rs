//! Intune's device inventory: the `DevicesWithInventory` export ("All
//! devices", whose headers are the admin center's display names, since that
//! report ignores the localisation setting) and `Devices` (the same columns
//! under their API names). It carries the Intune device id with the Entra
//! device id, the link that the firewall, antivirus and status exports lack,
//! and each device's last check-in; into `intune_devices`.

use super::table::{RawRow, RawTable};
use super::{Item, Reader, TableRow, codes, each_row, export_time, first_of, row_id};
use crate::lake::Table;

pub const READER: Reader = Reader {
    name: "DevicesWithInventory",
    per_setting: false,
    recognise: |t| {
        (t.has("Device ID") && t.has("Last check-in"))
            || (t.has("DeviceId")
                && t.has("LastContact")
                && t.has("DeviceName")
                && (t.has("OS") || t.has("DeviceType"))
                && !t.has("PolicyId"))
    },
    read: |t, _, each| each_row(t, each, |t, row| device(t, row).map(Item::Row)),
};

/// Each column, by the header `DevicesWithInventory` writes, then the name
/// the export API selects it by (and an older display name).
const DEVICE_ID: &[&str] = &["Device ID", "DeviceId"];
const LAST_CHECK_IN: &[&str] = &["Last check-in", "LastContact"];
const ENTRA_ID: &[&str] = &[
    "Microsoft Entra Device ID",
    "ReferenceId",
    "Azure AD Device ID",
    "AadDeviceId",
];

fn device(t: &RawTable, row: &RawRow) -> Result<TableRow, String> {
    let get = |columns: &[&str]| first_of(t, row, columns).map(str::to_owned);
    let intune_id = get(DEVICE_ID)
        .ok_or("missing required column value `Device ID`")?
        .to_lowercase();
    let check_in = get(LAST_CHECK_IN).ok_or("missing required column value `Last check-in`")?;
    let observed_at_us = export_time(&check_in)
        .ok_or_else(|| format!("column `Last check-in` is not a timestamp: `{check_in}`"))?;
    let enrolled = get(&["Enrollment date", "CreatedDate"]);
    let enrolled_at = match enrolled {
        Some(text) => Some(
            export_time(&text)
                .ok_or_else(|| format!("column `Enrollment date` is not a timestamp: `{text}`"))?,
        ),
        None => None,
    };
    let os = get(&["OS", "DeviceType"]);
    let mut r = TableRow::new(
        Table::IntuneDevices,
        row_id(&["intune_device", &intune_id, &observed_at_us.to_string()]),
        observed_at_us,
    );
    r.text("intune_device_id", Some(intune_id))
        .text("device_name", get(&["Device name", "DeviceName"]))
        .text("aad_device_id", get(ENTRA_ID).map(|id| id.to_lowercase()))
        .time("enrolled_at", enrolled_at)
        .text(
            "os_platform",
            os.as_deref()
                .and_then(codes::platform_family)
                .map(str::to_owned),
        )
        .text("os", os)
        .text("os_version", get(&["OS version", "OSVersion"]))
        .text(
            "managed_by",
            get(&["Managed by", "ManagementAgent", "ManagementAgents"]),
        )
        .text(
            "compliance",
            get(&["Compliance", "CompliantState", "ComplianceState"]),
        )
        .text("join_type", get(&["JoinType", "Join type"]))
        .text("ownership", get(&["Ownership", "OwnerType"]))
        .text("serial_number", get(&["Serial number", "SerialNumber"]))
        .text("device_state", get(&["Device state", "ManagementState"]))
        .text("upn", get(&["Primary user UPN", "UPN"]));
    Ok(r)
}
