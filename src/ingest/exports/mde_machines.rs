//! The Defender for Endpoint `machines` API, one page (`{"value": [...]}`)
//! a file: the machine list, into `device_inventory`. A machine on two pages
//! is a duplicate; one merged into another is that other device
//! (`merged_into_machine_id`, read by `queries/views/device_keys.sql`).

use super::table::{RawRow, RawTable};
use super::{
    Item, Reader, TableRow, codes, each_row, lenient_boolean, required, row_id, text, time,
};
use crate::lake::Table;

pub const READER: Reader = Reader {
    name: "the machines API",
    per_setting: false,
    recognise: |t| t.has("id") && t.has("computerDnsName"),
    read: |t, _, each| each_row(t, each, |t, row| machine(t, row).map(Item::Row)),
};

fn machine(t: &RawTable, row: &RawRow) -> Result<TableRow, String> {
    let machine_id = required(t, row, "id")?.to_lowercase();
    let first_seen_us = time(t, row, "firstSeen")?;
    let last_seen_us = time(t, row, "lastSeen")?;
    let observed_at_us = last_seen_us
        .or(first_seen_us)
        .ok_or("missing required column value `lastSeen` (and `firstSeen`)")?;
    let machine_tags = t.get(row, "machineTags").map(|tags| {
        serde_json::from_str::<Vec<String>>(tags).map_or_else(|_| tags.to_owned(), |v| v.join(", "))
    });
    // Real answers carry `osVersion: null` and the version in `version`
    // (`23H2`) and `osBuild`.
    let os_version = text(t, row, "osVersion").or_else(|| text(t, row, "version"));
    let os_build = t
        .get(row, "osBuild")
        .map(|b| {
            b.parse::<i64>()
                .map_err(|_| format!("column `osBuild` is not a number: `{b}`"))
        })
        .transpose()?;
    let mut r = TableRow::new(
        Table::DeviceInventory,
        row_id(&["machine", &machine_id, &observed_at_us.to_string()]),
        observed_at_us,
    );
    r.text("machine_id", Some(machine_id))
        .text("computer_dns_name", text(t, row, "computerDnsName"))
        .time("first_seen", first_seen_us)
        .time("last_seen", last_seen_us)
        .text("os_platform", t.get(row, "osPlatform").map(codes::platform))
        .text("os_version", os_version)
        .text("version", text(t, row, "version"))
        .int("os_build", os_build)
        .text("os_architecture", text(t, row, "osArchitecture"))
        .text("agent_version", text(t, row, "agentVersion"))
        .text("health_status", text(t, row, "healthStatus"))
        .text(
            "onboarding_status",
            t.get(row, "onboardingStatus").map(codes::onboarding_status),
        )
        .text(
            "managed_by",
            Some(
                t.get(row, "managedBy")
                    .map_or_else(|| "Unknown".to_owned(), codes::managed_by),
            ),
        )
        .text("managed_by_status", text(t, row, "managedByStatus"))
        .text(
            "aad_device_id",
            t.get(row, "aadDeviceId").map(str::to_lowercase),
        )
        .text("machine_tags", machine_tags.filter(|t| !t.is_empty()))
        .boolean("is_aad_joined", lenient_boolean(t, row, "isAadJoined"))
        .boolean(
            "is_potential_duplication",
            lenient_boolean(t, row, "isPotentialDuplication"),
        )
        .text(
            "merged_into_machine_id",
            t.get(row, "mergedIntoMachineId").map(str::to_lowercase),
        )
        .boolean("is_excluded", lenient_boolean(t, row, "isExcluded"))
        .text("exclusion_reason", text(t, row, "exclusionReason"))
        .text("defender_av_status", text(t, row, "defenderAvStatus"))
        .text("rbac_group_name", text(t, row, "rbacGroupName"))
        .text("exposure_level", text(t, row, "exposureLevel"))
        .text("risk_score", text(t, row, "riskScore"))
        .text("device_value", text(t, row, "deviceValue"))
        .text("last_ip_address", text(t, row, "lastIpAddress"));
    Ok(r)
}
