//! Vendor exports: what tenants can download when they cannot collect agent
//! reports. Intune's report exports (policy status per device, Defender
//! antivirus agents, firewall status) and the Defender for Endpoint machine
//! list, as CSV, JSON or the `.zip` Intune hands out, recognised by their
//! columns, never by their file names. Each row becomes canonical rows
//! (see docs/vendor-exports.md), or is quarantined with its reason.
//!
//! An export is read whole into memory: they are one report of one tenant,
//! not a stream of check-ins.

mod codes;
mod table;

use std::collections::HashMap;
use std::io::{self, Read};
use std::path::Path;

use chrono::NaiveDateTime;
use sha2::{Digest, Sha256};

use super::report::{Device, Policy, Report};
use super::source::{FileDigest, Position, SourceError};
use codes::flag_names;
use table::{RawRow, RawTable};

/// How a vendor file is laid out, from its first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Zip,
    Csv,
    Json,
}

/// Tells a vendor export from agent reports by its first bytes: a zip
/// archive; a JSON object whose first key is one of an export's (`value`,
/// `@odata.context`, `Schema`, ...); or text whose first line is not JSON and
/// has a comma (a CSV header). Anything else (gzip, NDJSON, a JSON array) is
/// left to the agent-report reader.
pub fn sniff(path: &Path) -> io::Result<Option<Kind>> {
    // Opening a FIFO would wait for a writer forever: what is not a regular
    // file goes to the agent-report reader, which refuses it.
    if !std::fs::metadata(path)?.is_file() {
        return Ok(None);
    }
    let mut head = Vec::with_capacity(4096);
    std::fs::File::open(path)?
        .take(4096)
        .read_to_end(&mut head)?;
    Ok(sniff_bytes(&head))
}

fn sniff_bytes(head: &[u8]) -> Option<Kind> {
    if head.starts_with(b"PK\x03\x04") || head.starts_with(b"PK\x05\x06") {
        return Some(Kind::Zip);
    }
    if head.starts_with(&[0x1f, 0x8b]) {
        return None;
    }
    let head = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(head);
    let start = head.iter().position(|b| !b.is_ascii_whitespace())?;
    let text = &head[start..];
    match text[0] {
        b'{' => {
            let rest = &text[1..];
            let open = rest.iter().position(|b| !b.is_ascii_whitespace())?;
            let rest = rest[open..].strip_prefix(b"\"")?;
            let close = rest.iter().position(|b| *b == b'"')?;
            let key = std::str::from_utf8(&rest[..close]).ok()?;
            // Case matters: an agent report may start with `"schema"`.
            table::JSON_EXPORT_KEYS.contains(&key).then_some(Kind::Json)
        }
        b'[' => None,
        _ => {
            let line = text.split(|b| *b == b'\n').next().unwrap_or_default();
            line.contains(&b',').then_some(Kind::Csv)
        }
    }
}

/// The exports this version reads, by the name Intune or Defender gives them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// `DeviceStatusesByConfigurationProfile` and its `ForASR`, `ForEDR`,
    /// `ForAppControl`, `V3`, `WithPF` variants (same columns).
    DeviceStatuses,
    /// `DeviceAssignmentStatusByConfigurationPolicy`: the same, with `AadDeviceId`.
    DeviceAssignmentStatus,
    /// `DefenderAgents` and `UnhealthyDefenderAgents`.
    DefenderAgents,
    /// `FirewallStatus` and `FirewallUnhealthyStatus`.
    FirewallStatus,
    /// The Defender for Endpoint `machines` API.
    Machines,
}

impl Shape {
    pub fn name(self) -> &'static str {
        match self {
            Shape::DeviceStatuses => "intune:DeviceStatusesByConfigurationProfile",
            Shape::DeviceAssignmentStatus => "intune:DeviceAssignmentStatusByConfigurationPolicy",
            Shape::DefenderAgents => "intune:DefenderAgents",
            Shape::FirewallStatus => "intune:FirewallStatus",
            Shape::Machines => "mde:machines",
        }
    }

    /// Recognises an export by its columns (ignoring case; `_loc` columns
    /// are the localised text of another).
    pub fn detect(t: &RawTable) -> Option<Shape> {
        let all = |cols: &[&str]| cols.iter().all(|c| t.has(c));
        if all(&["IntuneDeviceId", "PolicyId"]) && (t.has("PolicyStatus") || t.has("ReportStatus"))
        {
            return Some(if t.has("AadDeviceId") {
                Shape::DeviceAssignmentStatus
            } else {
                Shape::DeviceStatuses
            });
        }
        if all(&["DeviceId", "DeviceState", "LastReportedDateTime"]) {
            return Some(Shape::DefenderAgents);
        }
        if all(&["DeviceId", "FirewallStatus", "LastReportedDateTime"]) {
            return Some(Shape::FirewallStatus);
        }
        if all(&["id", "computerDnsName"]) {
            return Some(Shape::Machines);
        }
        None
    }
}

/// A row of the `antivirus_health` table (from `DefenderAgents`).
#[derive(Debug, Clone, PartialEq)]
pub struct AntivirusRow {
    pub row_id: String,
    pub device_id: String,
    pub device_name: Option<String>,
    pub observed_at_us: i64,
    pub managed_by: Option<String>,
    pub upn: Option<String>,
    pub user_email: Option<String>,
    pub user_name: Option<String>,
    pub is_virtual_machine: Option<bool>,
    pub device_state: Option<i64>,
    pub device_state_names: Option<String>,
    pub product_status: Option<i64>,
    pub product_status_names: Option<String>,
    pub malware_protection_enabled: Option<bool>,
    pub network_inspection_system_enabled: Option<bool>,
    pub real_time_protection_enabled: Option<bool>,
    pub signature_update_overdue: Option<bool>,
    pub tamper_protection_enabled: Option<bool>,
    pub engine_version: Option<String>,
    pub signature_version: Option<String>,
    pub last_quick_scan_at_us: Option<i64>,
    pub last_full_scan_at_us: Option<i64>,
}

/// A row of the `firewall_status` table.
#[derive(Debug, Clone, PartialEq)]
pub struct FirewallRow {
    pub row_id: String,
    pub device_id: String,
    pub device_name: Option<String>,
    pub observed_at_us: i64,
    pub firewall_status: i64,
    pub firewall_status_name: &'static str,
    pub reference_id: Option<String>,
    pub upn: Option<String>,
    pub user_name: Option<String>,
    pub managed_by: Option<String>,
    pub os: Option<String>,
}

/// A row of the `device_inventory` table (the machine list).
#[derive(Debug, Clone, PartialEq)]
pub struct MachineRow {
    pub row_id: String,
    pub machine_id: String,
    pub computer_dns_name: Option<String>,
    pub observed_at_us: i64,
    pub first_seen_us: Option<i64>,
    pub last_seen_us: Option<i64>,
    pub os_platform: Option<String>,
    pub os_version: Option<String>,
    pub health_status: Option<String>,
    pub onboarding_status: Option<String>,
    pub managed_by: String,
    pub managed_by_status: Option<String>,
    pub aad_device_id: Option<String>,
    pub machine_tags: Option<String>,
}

/// What a vendor file yields.
#[derive(Debug, Clone, PartialEq)]
pub enum Item {
    /// Policy-status rows of one device in one export, as one report;
    /// `rows` input rows went into it.
    Report {
        report: Report,
        source: &'static str,
        rows: u64,
    },
    Antivirus(AntivirusRow),
    Firewall(FirewallRow),
    Machine(MachineRow),
    Rejected {
        position: Position,
        reason: String,
        raw: String,
    },
}

impl Item {
    /// The input rows this item stands for.
    pub fn rows(&self) -> u64 {
        match self {
            Item::Report { rows, .. } => *rows,
            _ => 1,
        }
    }
}

/// `each` receives the name rows are filed under (the path, or
/// `archive.zip!entry.csv` inside a zip) and every item.
pub type Each<'e> = dyn FnMut(&str, Item) -> anyhow::Result<()> + 'e;

/// Reads one vendor file whole, calling `each` for every item, and returns
/// its checksum for the ingest log. An export is read into memory, so the
/// file and each entry of a zip are held to `max_bytes`
/// (`--max-decompressed-bytes`): past it the file is not read, and the run
/// logs it as unreadable and goes on.
pub fn read_file(
    path: &Path,
    name: &str,
    kind: Kind,
    max_bytes: u64,
    each: &mut Each<'_>,
) -> Result<FileDigest, SourceError> {
    let read_error = |source: io::Error| SourceError::Read {
        path: path.to_path_buf(),
        source,
    };
    let too_big = |what: &str| {
        read_error(io::Error::other(format!(
            "{what} is larger than --max-decompressed-bytes ({max_bytes} bytes)"
        )))
    };
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .and_then(|file| {
            file.take(max_bytes.saturating_add(1))
                .read_to_end(&mut bytes)
        })
        .map_err(read_error)?;
    if bytes.len() as u64 > max_bytes {
        return Err(too_big("the export"));
    }
    let digest = FileDigest {
        sha256: format!("{:x}", Sha256::digest(&bytes)),
        bytes: bytes.len() as u64,
    };
    let sink = SourceError::Sink;
    match kind {
        Kind::Zip => {
            let mut archive = zip::ZipArchive::new(io::Cursor::new(&bytes))
                .map_err(|e| read_error(io::Error::other(format!("not a readable zip: {e}"))))?;
            for i in 0..archive.len() {
                let mut entry = archive.by_index(i).map_err(|e| {
                    read_error(io::Error::other(format!("not a readable zip: {e}")))
                })?;
                if entry.is_dir() {
                    continue;
                }
                let inner = match entry.name() {
                    Ok(inner) => inner.into_owned(),
                    Err(_) => String::from_utf8_lossy(entry.name_raw()).into_owned(),
                };
                let entry_name = format!("{name}!{inner}");
                let mut content = Vec::new();
                (&mut entry)
                    .take(max_bytes.saturating_add(1))
                    .read_to_end(&mut content)
                    .map_err(|e| {
                        read_error(io::Error::other(format!("zip entry `{inner}`: {e}")))
                    })?;
                if content.len() as u64 > max_bytes {
                    return Err(too_big(&format!("zip entry `{inner}`")));
                }
                let kind = match sniff_bytes(&content) {
                    Some(Kind::Json) => Kind::Json,
                    _ => Kind::Csv,
                };
                read_text(&content, kind, &mut |item| each(&entry_name, item)).map_err(sink)?;
            }
        }
        kind => read_text(&bytes, kind, &mut |item| each(name, item)).map_err(sink)?,
    }
    Ok(digest)
}

/// Reads a CSV or JSON export and maps its rows.
fn read_text(
    bytes: &[u8],
    kind: Kind,
    each: &mut dyn FnMut(Item) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    let whole = |reason: String| Item::Rejected {
        position: Position::Line(1),
        reason,
        raw: String::from_utf8_lossy(bytes).into_owned(),
    };
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let text = match std::str::from_utf8(bytes) {
        Ok(text) => text,
        Err(e) => {
            return each(whole(format!(
                "not valid UTF-8 (invalid byte at offset {})",
                e.valid_up_to()
            )));
        }
    };
    let parsed = match kind {
        Kind::Json => table::from_json(text),
        _ => table::from_csv(text),
    };
    let table = match parsed {
        Ok(table) => table,
        Err(reason) => return each(whole(reason)),
    };
    for bad in &table.bad {
        each(Item::Rejected {
            position: bad.position,
            reason: bad.reason.clone(),
            raw: bad.raw.clone(),
        })?;
    }
    let Some(shape) = Shape::detect(&table) else {
        let reason = format!(
            "unknown export shape: its columns `{}` match no export this version reads (DeviceStatusesByConfigurationProfile, DeviceAssignmentStatusByConfigurationPolicy, DefenderAgents, FirewallStatus, the machines API)",
            table.columns.join(", ")
        );
        for row in &table.rows {
            each(Item::Rejected {
                position: row.position,
                reason: reason.clone(),
                raw: row.raw.clone(),
            })?;
        }
        return Ok(());
    };
    match shape {
        Shape::DeviceStatuses | Shape::DeviceAssignmentStatus => {
            policy_reports(&table, shape, each)
        }
        _ => {
            for row in &table.rows {
                let item = match shape {
                    Shape::DefenderAgents => antivirus(&table, row).map(Item::Antivirus),
                    Shape::FirewallStatus => firewall(&table, row).map(Item::Firewall),
                    _ => machine(&table, row).map(Item::Machine),
                };
                each(item.unwrap_or_else(|reason| Item::Rejected {
                    position: row.position,
                    reason,
                    raw: row.raw.clone(),
                }))?;
            }
            Ok(())
        }
    }
}

/// An export's timestamp: `2026-07-20 04:41:52.7475490` (UTC, no offset), or
/// ISO 8601 with or without an offset (none is UTC); digits past the
/// microsecond are truncated.
pub fn export_time(text: &str) -> Option<i64> {
    if let Some(us) = super::parse_timestamp_us(text) {
        return Some(us);
    }
    ["%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S%.f"]
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(text.trim(), f).ok())
        .map(|t| t.and_utc().timestamp_micros())
}

fn required<'r>(t: &RawTable, row: &'r RawRow, column: &str) -> Result<&'r str, String> {
    t.get(row, column)
        .ok_or_else(|| format!("missing required column value `{column}`"))
}

fn time(t: &RawTable, row: &RawRow, column: &str) -> Result<Option<i64>, String> {
    t.get(row, column)
        .map(|text| {
            export_time(text)
                .ok_or_else(|| format!("column `{column}` is not a timestamp: `{text}`"))
        })
        .transpose()
}

fn text(t: &RawTable, row: &RawRow, column: &str) -> Option<String> {
    t.get(row, column).map(str::to_owned)
}

/// A coded cell: the code column, or its `_loc` text when the code is empty.
fn coded<T>(
    t: &RawTable,
    row: &RawRow,
    column: &str,
    decode: impl Fn(&str) -> Option<T>,
) -> Result<Option<T>, String> {
    let loc = format!("{column}_loc");
    let Some(value) = t.get(row, column).or_else(|| t.get(row, &loc)) else {
        return Ok(None);
    };
    decode(value)
        .map(Some)
        .ok_or_else(|| format!("column `{column}` has an unknown value `{value}`"))
}

fn boolean(t: &RawTable, row: &RawRow, column: &str) -> Result<Option<bool>, String> {
    coded(t, row, column, codes::boolean)
}

fn row_id(parts: &[&str]) -> String {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p.as_bytes());
        h.update([0]);
    }
    format!("{:x}", h.finalize())[..32].to_owned()
}

fn antivirus(t: &RawTable, row: &RawRow) -> Result<AntivirusRow, String> {
    let device_id = required(t, row, "DeviceId")?.to_lowercase();
    let observed_at_us = time(t, row, "LastReportedDateTime")?
        .ok_or("missing required column value `LastReportedDateTime`")?;
    let device_state = coded(t, row, "DeviceState", |v| {
        codes::flags(v, &codes::DEVICE_STATE, "clean")
    })?;
    let product_status = coded(t, row, "ProductStatus", |v| {
        codes::flags(v, &codes::PRODUCT_STATUS, "noStatus")
    })?;
    Ok(AntivirusRow {
        row_id: row_id(&["antivirus", &device_id, &observed_at_us.to_string()]),
        device_name: text(t, row, "DeviceName"),
        observed_at_us,
        managed_by: text(t, row, "_ManagedBy").or_else(|| text(t, row, "_ManagedBy_loc")),
        upn: text(t, row, "UPN"),
        user_email: text(t, row, "UserEmail"),
        user_name: text(t, row, "UserName"),
        is_virtual_machine: boolean(t, row, "IsVirtualMachine")?,
        device_state,
        device_state_names: device_state.map(|v| flag_names(v, &codes::DEVICE_STATE, "clean")),
        product_status,
        product_status_names: product_status
            .map(|v| flag_names(v, &codes::PRODUCT_STATUS, "noStatus")),
        malware_protection_enabled: boolean(t, row, "MalwareProtectionEnabled")?,
        network_inspection_system_enabled: boolean(t, row, "NetworkInspectionSystemEnabled")?,
        real_time_protection_enabled: boolean(t, row, "RealTimeProtectionEnabled")?,
        signature_update_overdue: boolean(t, row, "SignatureUpdateOverdue")?,
        tamper_protection_enabled: boolean(t, row, "TamperProtectionEnabled")?,
        engine_version: text(t, row, "EngineVersion"),
        signature_version: text(t, row, "SignatureVersion"),
        last_quick_scan_at_us: time(t, row, "LastQuickScanDateTime")?,
        last_full_scan_at_us: time(t, row, "LastFullScanDateTime")?,
        device_id,
    })
}

fn firewall(t: &RawTable, row: &RawRow) -> Result<FirewallRow, String> {
    let device_id = required(t, row, "DeviceId")?.to_lowercase();
    let observed_at_us = time(t, row, "LastReportedDateTime")?
        .ok_or("missing required column value `LastReportedDateTime`")?;
    let status = coded(t, row, "FirewallStatus", codes::firewall_status)?
        .ok_or("missing required column value `FirewallStatus`")?;
    Ok(FirewallRow {
        row_id: row_id(&["firewall", &device_id, &observed_at_us.to_string()]),
        device_name: text(t, row, "DeviceName"),
        observed_at_us,
        firewall_status: status,
        firewall_status_name: codes::firewall_name(status),
        reference_id: text(t, row, "ReferenceId"),
        upn: text(t, row, "UPN"),
        user_name: text(t, row, "UserName"),
        managed_by: text(t, row, "_ManagedBy").or_else(|| text(t, row, "_ManagedBy_loc")),
        os: text(t, row, "_OS").or_else(|| text(t, row, "_OS_loc")),
        device_id,
    })
}

fn machine(t: &RawTable, row: &RawRow) -> Result<MachineRow, String> {
    let machine_id = required(t, row, "id")?.to_lowercase();
    let first_seen_us = time(t, row, "firstSeen")?;
    let last_seen_us = time(t, row, "lastSeen")?;
    let observed_at_us = last_seen_us
        .or(first_seen_us)
        .ok_or("missing required column value `lastSeen` (and `firstSeen`)")?;
    let machine_tags = t.get(row, "machineTags").map(|tags| {
        serde_json::from_str::<Vec<String>>(tags).map_or_else(|_| tags.to_owned(), |v| v.join(", "))
    });
    Ok(MachineRow {
        row_id: row_id(&["machine", &machine_id, &observed_at_us.to_string()]),
        computer_dns_name: text(t, row, "computerDnsName"),
        observed_at_us,
        first_seen_us,
        last_seen_us,
        os_platform: t.get(row, "osPlatform").map(codes::platform),
        os_version: text(t, row, "osVersion"),
        health_status: text(t, row, "healthStatus"),
        onboarding_status: text(t, row, "onboardingStatus"),
        managed_by: t
            .get(row, "managedBy")
            .map_or_else(|| "Unknown".to_owned(), codes::managed_by),
        managed_by_status: text(t, row, "managedByStatus"),
        aad_device_id: t.get(row, "aadDeviceId").map(str::to_lowercase),
        machine_tags: machine_tags.filter(|t| !t.is_empty()),
        machine_id,
    })
}

/// One policy-status row, checked.
struct PolicyRow {
    device_id: String,
    observed_at_us: i64,
    policy: Policy,
    device_name: Option<String>,
    aad_device_id: Option<String>,
    platform: Option<String>,
}

fn policy_row(t: &RawTable, row: &RawRow) -> Result<PolicyRow, String> {
    let device_id = required(t, row, "IntuneDeviceId")?.to_lowercase();
    let policy_id = required(t, row, "PolicyId")?.to_owned();
    let observed_at_us = time(t, row, "PspdpuLastModifiedTimeUtc")?
        .ok_or("missing required column value `PspdpuLastModifiedTimeUtc`")?;
    // The code wins over the text when both are there.
    let state = match coded(t, row, "PolicyStatus", codes::policy_state)? {
        Some(state) => state,
        None => coded(t, row, "ReportStatus", codes::policy_state)?
            .ok_or("missing required column value `PolicyStatus` (or `ReportStatus`)")?,
    };
    Ok(PolicyRow {
        device_id,
        observed_at_us,
        device_name: text(t, row, "DeviceName"),
        aad_device_id: t.get(row, "AadDeviceId").map(str::to_lowercase),
        platform: t
            .get(row, "UnifiedPolicyPlatformType")
            .or_else(|| t.get(row, "UnifiedPolicyPlatformType_loc"))
            .map(codes::platform),
        policy: Policy {
            name: text(t, row, "PolicyName").unwrap_or_else(|| policy_id.clone()),
            policy_type: text(t, row, "UnifiedPolicyType")
                .or_else(|| text(t, row, "UnifiedPolicyType_loc"))
                .unwrap_or_else(|| "Unknown".to_owned()),
            profile: None,
            version: t.get(row, "TemplateVersion").and_then(|v| v.parse().ok()),
            state,
            settings: Vec::new(),
            policy_id,
        },
    })
}

/// Policy-status rows grouped into one report per device: observed at the
/// newest of its rows, its id a digest of the device and its rows, so the
/// same export ingested again is a duplicate.
fn policy_reports(
    t: &RawTable,
    shape: Shape,
    each: &mut dyn FnMut(Item) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    let mut order: Vec<String> = Vec::new();
    let mut devices: HashMap<String, Vec<PolicyRow>> = HashMap::new();
    for row in &t.rows {
        match policy_row(t, row) {
            Ok(p) => {
                if !devices.contains_key(&p.device_id) {
                    order.push(p.device_id.clone());
                }
                devices.entry(p.device_id.clone()).or_default().push(p);
            }
            Err(reason) => each(Item::Rejected {
                position: row.position,
                reason,
                raw: row.raw.clone(),
            })?,
        }
    }
    for device_id in order {
        let rows = devices.remove(&device_id).expect("grouped above");
        let observed_at_us = rows
            .iter()
            .map(|r| r.observed_at_us)
            .max()
            .expect("one row");
        let mut lines: Vec<String> = rows
            .iter()
            .map(|r| {
                format!(
                    "{}\u{1}{}\u{1}{}",
                    r.policy.policy_id, r.policy.state, r.observed_at_us
                )
            })
            .collect();
        lines.sort();
        let mut parts = vec![shape.name(), device_id.as_str()];
        parts.extend(lines.iter().map(String::as_str));
        let report_id = format!("intune-{}", row_id(&parts));
        let pick =
            |f: fn(&PolicyRow) -> Option<&String>| rows.iter().rev().find_map(|r| f(r).cloned());
        let device = Device {
            name: pick(|r| r.device_name.as_ref()).unwrap_or_else(|| device_id.clone()),
            aad_device_id: pick(|r| r.aad_device_id.as_ref()),
            os_platform: pick(|r| r.platform.as_ref()).unwrap_or_else(|| "Unknown".to_owned()),
            os_version: None,
            agent_version: None,
            managed_by: "Unknown".to_owned(),
            enrollment_status: None,
            join_type: None,
            health_status: None,
            machine_group: None,
            is_domain_controller: None,
            tags: None,
            device_id,
        };
        let count = rows.len() as u64;
        let report = Report {
            report_id,
            tenant_id: String::new(),
            observed_at_us,
            device,
            policies: rows.into_iter().map(|r| r.policy).collect(),
        };
        each(Item::Report {
            report,
            source: shape.name(),
            rows: count,
        })?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffing_tells_exports_from_agent_reports() {
        assert_eq!(sniff_bytes(b"PK\x03\x04rest"), Some(Kind::Zip));
        assert_eq!(
            sniff_bytes(b"\xEF\xBB\xBFDeviceId,DeviceName\r\n"),
            Some(Kind::Csv)
        );
        assert_eq!(sniff_bytes(b" {\n \"value\": []}"), Some(Kind::Json));
        assert_eq!(sniff_bytes(b"{\"@odata.context\":\"x\"}"), Some(Kind::Json));
        assert_eq!(sniff_bytes(b"{\"Schema\":[]}"), Some(Kind::Json));
        assert_eq!(sniff_bytes(b"{\"schema\":\"agent-report/v1\"}"), None);
        assert_eq!(sniff_bytes(b"{\"report_id\":\"r\"}\n"), None);
        assert_eq!(sniff_bytes(b"[{\"a\":1}]"), None);
        assert_eq!(sniff_bytes(&[0x1f, 0x8b, 8]), None);
        assert_eq!(sniff_bytes(b"not json at all\n"), None);
    }

    #[test]
    fn export_timestamps() {
        let base = super::super::parse_timestamp_us("2026-07-20T04:41:52.747549Z").unwrap();
        assert_eq!(export_time("2026-07-20 04:41:52.7475490"), Some(base));
        assert_eq!(export_time("2026-07-20T04:41:52.747549Z"), Some(base));
        assert_eq!(export_time("2026-07-20T04:41:52.747549"), Some(base));
        assert_eq!(export_time("2026-07-20T06:41:52.747549+02:00"), Some(base));
        assert_eq!(export_time("2026-07-20 04:41:52"), Some(base - 747_549));
        assert_eq!(export_time("20/07/2026"), None);
    }
}
