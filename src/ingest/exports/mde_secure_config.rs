//! Defender Vulnerability Management's secure configuration assessment, per
//! device and configuration, in its three forms: the
//! `SecureConfigurationsAssessmentByMachine` API's JSON pages, its "via
//! files" export (gzip, one JSON object a line) and the Advanced Hunting
//! `DeviceTvmSecureConfigurationAssessment` table exported as CSV. The
//! columns are the same names, ignoring case; Advanced Hunting lacks the
//! configuration's name. Into `secure_configurations`, one row per device,
//! configuration and assessment time: the same assessment in two forms is
//! one row.

use super::table::{RawRow, RawTable};
use super::{Item, Kind, Reader, TableRow, codes, each_row, required, row_id, text, time};
use crate::lake::Table;

pub const READER: Reader = Reader {
    name: "SecureConfigurationsAssessmentByMachine",
    per_setting: false,
    recognise: |t| {
        ["deviceId", "configurationId", "timestamp"]
            .iter()
            .all(|c| t.has(c))
    },
    read: |t, origin, each| {
        let source = match origin.kind {
            Kind::JsonLines => "mde:SecureConfigurationsAssessmentExport",
            Kind::Csv => "advanced-hunting:DeviceTvmSecureConfigurationAssessment",
            _ => "mde:SecureConfigurationsAssessmentByMachine",
        };
        each_row(t, each, |t, row| assessment(t, row, source).map(Item::Row))
    },
};

/// Advanced Hunting's older schema named the device `MachineId`.
pub const HUNTING: Reader = Reader {
    name: "DeviceTvmSecureConfigurationAssessment",
    per_setting: false,
    recognise: |t| {
        ["MachineId", "ConfigurationId", "Timestamp"]
            .iter()
            .all(|c| t.has(c))
    },
    read: |t, _, each| {
        each_row(t, each, |t, row| {
            assessment(
                t,
                row,
                "advanced-hunting:DeviceTvmSecureConfigurationAssessment",
            )
            .map(Item::Row)
        })
    },
};

fn flag(t: &RawTable, row: &RawRow, column: &str) -> Result<Option<bool>, String> {
    t.get(row, column)
        .map(|v| {
            codes::boolean(v).ok_or_else(|| format!("column `{column}` has an unknown value `{v}`"))
        })
        .transpose()
}

fn assessment(t: &RawTable, row: &RawRow, source: &str) -> Result<TableRow, String> {
    let device_id = t
        .get(row, "deviceId")
        .or_else(|| t.get(row, "MachineId"))
        .ok_or("missing required column value `deviceId`")?
        .to_lowercase();
    let configuration_id = required(t, row, "configurationId")?.to_owned();
    let observed_at_us =
        time(t, row, "timestamp")?.ok_or("missing required column value `timestamp`")?;
    let impact = t
        .get(row, "configurationImpact")
        .map(|v| {
            v.parse::<f64>()
                .map_err(|_| format!("column `configurationImpact` is not a number: `{v}`"))
        })
        .transpose()?;
    let mut r = TableRow::new(
        Table::SecureConfigurations,
        row_id(&[
            "secure_configuration",
            &device_id,
            &configuration_id,
            &observed_at_us.to_string(),
        ]),
        observed_at_us,
    );
    r.text("device_id", Some(device_id))
        .text(
            "device_name",
            text(t, row, "deviceName").or_else(|| text(t, row, "ComputerName")),
        )
        .text("os_platform", t.get(row, "osPlatform").map(codes::platform))
        .text("os_version", text(t, row, "osVersion"))
        .text("configuration_id", Some(configuration_id))
        .text("configuration_name", text(t, row, "configurationName"))
        .text(
            "configuration_category",
            text(t, row, "configurationCategory"),
        )
        .text(
            "configuration_subcategory",
            text(t, row, "configurationSubcategory"),
        )
        .float("configuration_impact", impact)
        .boolean("is_applicable", flag(t, row, "isApplicable")?)
        .boolean("is_compliant", flag(t, row, "isCompliant")?)
        .boolean(
            "is_expected_user_impact",
            flag(t, row, "isExpectedUserImpact")?,
        )
        .text(
            "recommendation_reference",
            text(t, row, "recommendationReference"),
        )
        .text("rbac_group_name", text(t, row, "rbacGroupName"))
        .text("source", Some(source.to_owned()));
    Ok(r)
}
