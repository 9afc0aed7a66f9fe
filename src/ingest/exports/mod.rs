//! Vendor exports: what tenants can download when they cannot collect agent
//! reports. Intune's report exports and the Defender for Endpoint APIs' pages,
//! as CSV, JSON, JSON lines (gzip or not) or the `.zip` an Intune export job
//! hands out. A file is told apart from agent reports by its first bytes, and
//! its shape by its columns (`READERS`, one reader per source, each in its own
//! file); each row becomes canonical rows or is quarantined with its reason
//! (docs/vendor-exports.md).
//!
//! CSV, JSON and zip exports are read whole into memory (one report of one
//! tenant); JSON lines, the form of the Defender "via files" exports that can
//! hold every device's every configuration, are read line by line.

mod codes;
mod intune_defender_agents;
mod intune_devices;
mod intune_firewall;
mod intune_policy_status;
mod intune_settings;
mod mde_av_info;
mod mde_machines;
mod mde_secure_config;
mod table;

use std::io::{self, Read};
use std::path::Path;

use chrono::NaiveDateTime;
use sha2::{Digest, Sha256};

use super::report::{Report, Setting};
use super::source::{FileDigest, Position, SourceError};
use crate::lake::Table;
use table::{RawRow, RawTable};

pub use intune_policy_status::StatusKey;

/// How a vendor file is laid out, from its first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Zip,
    Csv,
    Json,
    /// One JSON object a line (gzip or not), each a row of an export.
    JsonLines,
}

/// Tells a vendor export from agent reports by its first bytes: a zip
/// archive; a JSON object whose first key is one of an export's (`value`,
/// `@odata.context`, `Schema`, ...); JSON lines (gzip or not) whose first
/// object is an export row (it has no `report_id`, and a Defender row's
/// `deviceId`, `machineId` or `configurationId`); or text whose first line
/// is not JSON and has a comma (a CSV header). Anything else (NDJSON or a
/// JSON array of agent reports, gzip or not) is left to the agent-report
/// reader.
pub fn sniff(path: &Path) -> io::Result<Option<Kind>> {
    // Opening a FIFO would wait for a writer forever: what is not a regular
    // file goes to the agent-report reader, which refuses it.
    if !std::fs::metadata(path)?.is_file() {
        return Ok(None);
    }
    let mut head = Vec::with_capacity(8192);
    std::fs::File::open(path)?
        .take(8192)
        .read_to_end(&mut head)?;
    if head.starts_with(&[0x1f, 0x8b]) {
        // Only the head is needed: a truncated stream just ends early.
        let mut inflated = Vec::with_capacity(8192);
        let file = std::fs::File::open(path)?;
        let _ = flate2::read::MultiGzDecoder::new(file)
            .take(8192)
            .read_to_end(&mut inflated);
        return Ok(export_lines(&inflated).then_some(Kind::JsonLines));
    }
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
            if let Some(key) = first_key(text)
                && table::is_export_key(key)
            {
                return Some(Kind::Json);
            }
            export_lines(text).then_some(Kind::JsonLines)
        }
        b'[' => None,
        _ => {
            let line = text.split(|b| *b == b'\n').next().unwrap_or_default();
            line.contains(&b',').then_some(Kind::Csv)
        }
    }
}

/// The first key of the JSON object `text` starts with.
fn first_key(text: &[u8]) -> Option<&str> {
    let rest = text.strip_prefix(b"{")?;
    let open = rest.iter().position(|b| !b.is_ascii_whitespace())?;
    let rest = rest[open..].strip_prefix(b"\"")?;
    let close = rest.iter().position(|b| *b == b'"')?;
    std::str::from_utf8(&rest[..close]).ok()
}

/// Whether the first line of `text` is a JSON object that is an export row
/// rather than an agent report.
fn export_lines(text: &[u8]) -> bool {
    let text = text.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(text);
    let line = text.split(|b| *b == b'\n').next().unwrap_or_default();
    let Ok(serde_json::Value::Object(row)) = serde_json::from_slice(line) else {
        return false;
    };
    let has = |k: &str| row.keys().any(|n| n.eq_ignore_ascii_case(k));
    !has("report_id")
        && ["deviceId", "machineId", "configurationId"]
            .iter()
            .any(|k| has(k))
}

/// One cell of an export table's row, named by its column in
/// `lake::Table::schema`.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Text(Option<String>),
    Int(Option<i64>),
    Float(Option<f64>),
    Bool(Option<bool>),
    /// UTC microseconds.
    Time(Option<i64>),
}

/// A row of an export table, deduplicated by `row_id` (the cell of that
/// name is added by `TableRow::new`).
#[derive(Debug, Clone, PartialEq)]
pub struct TableRow {
    pub table: Table,
    pub row_id: String,
    pub observed_at_us: i64,
    pub cells: Vec<(&'static str, Cell)>,
}

impl TableRow {
    fn new(table: Table, row_id: String, observed_at_us: i64) -> TableRow {
        TableRow {
            table,
            cells: vec![
                ("row_id", Cell::Text(Some(row_id.clone()))),
                ("observed_at", Cell::Time(Some(observed_at_us))),
            ],
            row_id,
            observed_at_us,
        }
    }

    fn text(&mut self, column: &'static str, value: Option<String>) -> &mut Self {
        self.cells.push((column, Cell::Text(value)));
        self
    }

    fn int(&mut self, column: &'static str, value: Option<i64>) -> &mut Self {
        self.cells.push((column, Cell::Int(value)));
        self
    }

    fn float(&mut self, column: &'static str, value: Option<f64>) -> &mut Self {
        self.cells.push((column, Cell::Float(value)));
        self
    }

    fn boolean(&mut self, column: &'static str, value: Option<bool>) -> &mut Self {
        self.cells.push((column, Cell::Bool(value)));
        self
    }

    fn time(&mut self, column: &'static str, value: Option<i64>) -> &mut Self {
        self.cells.push((column, Cell::Time(value)));
        self
    }
}

/// Which policy a per-setting row is about: by id, or (when the export
/// carries only the name) by name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PolicyRef {
    Id(String),
    Name(String),
}

/// A per-setting row before it is filed under its device's policy status:
/// the ingest run matches it (`Run::file_setting`).
#[derive(Debug, Clone, PartialEq)]
pub struct PendingSetting {
    pub position: Position,
    pub raw: String,
    /// The Intune device id, lower case.
    pub device_id: String,
    pub policy: PolicyRef,
    /// The setting instance, when the export names one (part of the row's
    /// identity).
    pub instance: Option<String>,
    pub setting: Setting,
    pub source: &'static str,
}

impl PendingSetting {
    /// The setting filed under the policy-status row `status` of its device.
    pub fn filed(self, status: &StatusKey) -> SettingRow {
        let s = &self.setting;
        let row_id = row_id(&[
            "setting",
            &status.report_id,
            &status.policy_id,
            &s.setting_id,
            self.instance.as_deref().unwrap_or_default(),
            s.state.as_str(),
            s.error_code.as_deref().unwrap_or_default(),
            s.actual.as_deref().unwrap_or_default(),
            s.name.as_deref().unwrap_or_default(),
        ]);
        SettingRow {
            report_id: status.report_id.clone(),
            device_id: self.device_id,
            observed_at_us: status.observed_at_us,
            policy_id: status.policy_id.clone(),
            setting: self.setting,
            row_id,
        }
    }
}

/// A per-setting row filed under a policy-status report: a `setting_states`
/// row with that report's id and time.
#[derive(Debug, Clone, PartialEq)]
pub struct SettingRow {
    pub report_id: String,
    pub device_id: String,
    pub observed_at_us: i64,
    pub policy_id: String,
    pub setting: Setting,
    pub row_id: String,
}

/// What a vendor file yields, one item per input row.
#[derive(Debug, Clone, PartialEq)]
pub enum Item {
    /// A policy-status row, as a one-policy report of its device.
    Report {
        report: Box<Report>,
        source: &'static str,
    },
    /// A row of one of the export tables.
    Row(TableRow),
    /// A per-setting row, to be filed under its device's policy status.
    Setting(Box<PendingSetting>),
    Rejected {
        position: Position,
        reason: String,
        raw: String,
    },
}

/// `each` receives the name rows are filed under (the path, or
/// `archive.zip!entry.csv` inside a zip) and every item.
pub type Each<'e> = dyn FnMut(&str, Item) -> anyhow::Result<()> + 'e;

/// Where a table was read from: the names its report may be told by
/// (the zip entry, then the file).
#[derive(Debug, Clone, Copy)]
pub struct Origin<'a> {
    pub names: &'a [&'a str],
    pub kind: Kind,
}

/// One source this version reads: how it is recognised from a table's
/// columns (names compared ignoring case), and how its rows are read.
pub struct Reader {
    /// How docs and quarantine reasons name it.
    pub name: &'static str,
    /// Whether its rows are per-setting rows, read after every other file
    /// of a run so that the policy statuses they belong to are known.
    pub per_setting: bool,
    pub recognise: fn(&RawTable) -> bool,
    pub read: ReadRows,
}

/// Reads a recognised table's rows, calling back with each item.
pub type ReadRows =
    fn(&RawTable, Origin<'_>, &mut dyn FnMut(Item) -> anyhow::Result<()>) -> anyhow::Result<()>;

/// Every export this version reads, tried in order; the first that
/// recognises a table reads it.
const READERS: &[Reader] = &[
    intune_policy_status::ASSIGNMENT_STATUS,
    intune_policy_status::DEVICE_STATUSES,
    intune_settings::POLICY_SETTINGS,
    intune_settings::NONCOMPLIANT_SETTINGS,
    intune_defender_agents::READER,
    intune_firewall::READER,
    intune_devices::READER,
    // Before the machine list: an antivirus page has `id` and
    // `computerDnsName` too.
    mde_av_info::READER,
    mde_machines::READER,
    mde_secure_config::READER,
    mde_secure_config::HUNTING,
];

fn reader_of(t: &RawTable) -> Option<&'static Reader> {
    READERS.iter().find(|r| (r.recognise)(t))
}

/// Reads one vendor file, calling `each` for every item, and returns its
/// checksum for the ingest log. CSV, JSON and zip exports are read into
/// memory, so the file and each entry of a zip are held to `max_bytes`
/// (`--max-decompressed-bytes`): past it the file is not read, and the run
/// logs it as unreadable and goes on. JSON lines go through the agent-report
/// reader's line cutter and limits, one row at a time.
pub fn read_file(
    path: &Path,
    name: &str,
    kind: Kind,
    limits: &super::Limits,
    each: &mut Each<'_>,
) -> Result<FileDigest, SourceError> {
    if kind == Kind::JsonLines {
        return super::source::read_file(path, limits, &mut |record| {
            each(name, json_line(record, name))
        });
    }
    let max_bytes = limits.max_decompressed_bytes;
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
    let file_name = base_name(name);
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
                // Inside an export job's zip everything is an export: JSON
                // is read in any of its shapes, keys compared ignoring case.
                let kind = match first_byte(&content) {
                    Some(b'{' | b'[') => Kind::Json,
                    _ => Kind::Csv,
                };
                let origin = Origin {
                    names: &[base_name(&inner), file_name],
                    kind,
                };
                read_text(&content, kind, origin, &mut |item| each(&entry_name, item))
                    .map_err(sink)?;
            }
        }
        kind => {
            let origin = Origin {
                names: &[file_name],
                kind,
            };
            read_text(&bytes, kind, origin, &mut |item| each(name, item)).map_err(sink)?;
        }
    }
    Ok(digest)
}

/// Whether a vendor file holds per-setting rows (`Reader::per_setting`),
/// from its header alone: the first line of a CSV, the keys of a JSON
/// export, each entry of a zip.
pub fn is_per_setting(path: &Path, kind: Kind, max_bytes: u64) -> bool {
    // A CSV header is in its first bytes; JSON and zip are read whole.
    let limit = match kind {
        Kind::Csv => 1 << 16,
        _ => max_bytes,
    };
    let Ok(bytes) = std::fs::File::open(path).and_then(|f| {
        let mut bytes = Vec::new();
        f.take(limit.saturating_add(1)).read_to_end(&mut bytes)?;
        Ok(bytes)
    }) else {
        return false;
    };
    let per_setting = |content: &[u8], kind: Kind| {
        let content = content.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(content);
        let parsed = match kind {
            Kind::Csv => {
                let header = content.split(|b| *b == b'\n').next().unwrap_or_default();
                std::str::from_utf8(header)
                    .ok()
                    .and_then(|h| table::from_csv(h).ok())
            }
            _ => std::str::from_utf8(content)
                .ok()
                .and_then(|t| table::from_json(t).ok()),
        };
        parsed
            .as_ref()
            .and_then(reader_of)
            .is_some_and(|r| r.per_setting)
    };
    match kind {
        Kind::Zip => {
            let Ok(mut archive) = zip::ZipArchive::new(io::Cursor::new(&bytes)) else {
                return false;
            };
            (0..archive.len()).any(|i| {
                let Ok(entry) = archive.by_index(i) else {
                    return false;
                };
                let mut content = Vec::new();
                if entry
                    .take(max_bytes.saturating_add(1))
                    .read_to_end(&mut content)
                    .is_err()
                {
                    return false;
                }
                let kind = match first_byte(&content) {
                    Some(b'{' | b'[') => Kind::Json,
                    _ => Kind::Csv,
                };
                per_setting(&content, kind)
            })
        }
        Kind::JsonLines => false,
        kind => per_setting(&bytes, kind),
    }
}

fn first_byte(content: &[u8]) -> Option<u8> {
    let content = content.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(content);
    content.iter().copied().find(|b| !b.is_ascii_whitespace())
}

/// The last part of a path or zip entry name.
fn base_name(name: &str) -> &str {
    name.rsplit(['/', '\\']).next().unwrap_or(name)
}

/// One line of a JSON-lines export, as an item.
fn json_line(record: super::Record<'_>, name: &str) -> Item {
    let (position, text) = match record {
        super::Record::Report(position, text) => (position, text),
        super::Record::Unreadable(position, reason, raw) => {
            return Item::Rejected {
                position,
                reason,
                raw: String::from_utf8_lossy(&raw).into_owned(),
            };
        }
    };
    let raw = || String::from_utf8_lossy(text).into_owned();
    let table = match std::str::from_utf8(text) {
        Ok(line) => table::from_json_line(line, position),
        Err(e) => Err(format!(
            "not valid UTF-8 (invalid byte at offset {})",
            e.valid_up_to()
        )),
    };
    let table = match table {
        Ok(table) => table,
        Err(reason) => {
            return Item::Rejected {
                position,
                reason,
                raw: raw(),
            };
        }
    };
    let mut out = None;
    let origin = Origin {
        names: &[base_name(name)],
        kind: Kind::JsonLines,
    };
    let outcome = read_table(&table, origin, &mut |item| {
        out = Some(item);
        Ok(())
    });
    match (outcome, out) {
        (Ok(()), Some(item)) => item,
        _ => Item::Rejected {
            position,
            reason: "the line yields no row".to_owned(),
            raw: raw(),
        },
    }
}

/// Reads a CSV or JSON export and maps its rows.
fn read_text(
    bytes: &[u8],
    kind: Kind,
    origin: Origin<'_>,
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
    match parsed {
        Ok(table) => read_table(&table, origin, each),
        Err(reason) => each(whole(reason)),
    }
}

/// Maps the rows of a table by the reader that recognises it; a table no
/// reader recognises has every row quarantined, naming its columns.
fn read_table(
    table: &RawTable,
    origin: Origin<'_>,
    each: &mut dyn FnMut(Item) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    for bad in &table.bad {
        each(Item::Rejected {
            position: bad.position,
            reason: bad.reason.clone(),
            raw: bad.raw.clone(),
        })?;
    }
    if let Some(reader) = reader_of(table) {
        return (reader.read)(table, origin, each);
    }
    let names: Vec<&str> = READERS.iter().map(|r| r.name).collect();
    let reason = format!(
        "unknown export shape: its columns `{}` match no export this version reads ({})",
        table.columns.join(", "),
        names.join(", ")
    );
    for row in &table.rows {
        each(rejected(row, reason.clone()))?;
    }
    Ok(())
}

/// Maps every row of `t` with `map`; a row it refuses is quarantined.
fn each_row(
    t: &RawTable,
    each: &mut dyn FnMut(Item) -> anyhow::Result<()>,
    map: impl Fn(&RawTable, &RawRow) -> Result<Item, String>,
) -> anyhow::Result<()> {
    for row in &t.rows {
        each(map(t, row).unwrap_or_else(|reason| rejected(row, reason)))?;
    }
    Ok(())
}

fn rejected(row: &RawRow, reason: String) -> Item {
    Item::Rejected {
        position: row.position,
        reason,
        raw: row.raw.clone(),
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

/// The first of `columns` the row has a value in.
fn first_of<'r>(t: &RawTable, row: &'r RawRow, columns: &[&str]) -> Option<&'r str> {
    columns.iter().find_map(|c| t.get(row, c))
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

/// A column's text, or its `_loc` text when the column is empty.
fn text_or_loc(t: &RawTable, row: &RawRow, column: &str) -> Option<String> {
    text(t, row, column).or_else(|| text(t, row, &format!("{column}_loc")))
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
        .or_else(|| t.get(row, &loc).and_then(&decode))
        .map(Some)
        .ok_or_else(|| format!("column `{column}` has an unknown value `{value}`"))
}

fn boolean(t: &RawTable, row: &RawRow, column: &str) -> Result<Option<bool>, String> {
    coded(t, row, column, codes::boolean)
}

/// A boolean whose values Microsoft does not document: one it cannot read
/// is left empty rather than quarantining the row.
fn lenient_boolean(t: &RawTable, row: &RawRow, column: &str) -> Option<bool> {
    t.get(row, column).and_then(codes::boolean)
}

/// A digest of `parts`: the dedup key of an export row.
fn row_id(parts: &[&str]) -> String {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p.as_bytes());
        h.update([0]);
    }
    format!("{:x}", h.finalize())[..32].to_owned()
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
        assert_eq!(sniff_bytes(b"{\"values\": []}"), Some(Kind::Json));
        assert_eq!(sniff_bytes(b"{\"@odata.context\":\"x\"}"), Some(Kind::Json));
        assert_eq!(sniff_bytes(b"{\"Schema\":[]}"), Some(Kind::Json));
        assert_eq!(sniff_bytes(b"{\"schema\":\"agent-report/v1\"}"), None);
        assert_eq!(sniff_bytes(b"{\"report_id\":\"r\"}\n"), None);
        assert_eq!(sniff_bytes(b"[{\"a\":1}]"), None);
        assert_eq!(sniff_bytes(&[0x1f, 0x8b, 8]), None);
        assert_eq!(sniff_bytes(b"not json at all\n"), None);
        // The secure configuration "via files" export: one row a line.
        assert_eq!(
            sniff_bytes(b"{\"deviceId\":\"m1\",\"configurationId\":\"scid-1\"}\n{}"),
            Some(Kind::JsonLines)
        );
        assert_eq!(
            sniff_bytes(b"{\"deviceId\":\"m1\",\"report_id\":\"r\"}\n"),
            None
        );
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
