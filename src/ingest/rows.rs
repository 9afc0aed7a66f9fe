//! Canonical rows: accepted reports flattened into Arrow record batches, one
//! builder set per lake table, so the lake stage receives batches, not
//! structs.

use std::sync::Arc;

use datafusion::arrow::array::{
    ArrayBuilder, ArrayRef, BooleanBuilder, Int64Builder, ListBuilder, RecordBatch, StringBuilder,
    TimestampMicrosecondBuilder, UInt64Builder,
};

use super::exports::{Cell, SettingRow, TableRow};
use super::report::Report;
use super::source::Position;
use crate::lake::Table;

fn ts() -> TimestampMicrosecondBuilder {
    TimestampMicrosecondBuilder::new().with_timezone("UTC")
}

fn finish(table: Table, columns: Vec<ArrayRef>) -> RecordBatch {
    RecordBatch::try_new(table.schema(), columns).expect("builders match the table schema")
}

/// Rows of `reports`, `policy_states` and `setting_states` for a batch of
/// accepted reports.
pub struct ReportRows {
    ingested_at_us: i64,
    // reports
    r_report_id: StringBuilder,
    r_tenant_id: StringBuilder,
    r_observed_at: TimestampMicrosecondBuilder,
    r_ingested_at: TimestampMicrosecondBuilder,
    r_device_id: StringBuilder,
    r_aad_device_id: StringBuilder,
    r_device_name: StringBuilder,
    r_os_platform: StringBuilder,
    r_os_version: StringBuilder,
    r_agent_version: StringBuilder,
    r_managed_by: StringBuilder,
    r_enrollment_status: Int64Builder,
    r_join_type: StringBuilder,
    r_health_status: StringBuilder,
    r_machine_group: StringBuilder,
    r_is_domain_controller: BooleanBuilder,
    r_source_file: StringBuilder,
    r_tags: ListBuilder<StringBuilder>,
    r_source: StringBuilder,
    // policy_states
    p_report_id: StringBuilder,
    p_device_id: StringBuilder,
    p_observed_at: TimestampMicrosecondBuilder,
    p_policy_id: StringBuilder,
    p_policy_name: StringBuilder,
    p_policy_type: StringBuilder,
    p_profile: StringBuilder,
    p_policy_version: Int64Builder,
    p_state: StringBuilder,
    // setting_states
    s_report_id: StringBuilder,
    s_device_id: StringBuilder,
    s_observed_at: TimestampMicrosecondBuilder,
    s_policy_id: StringBuilder,
    s_setting_id: StringBuilder,
    s_setting_name: StringBuilder,
    s_state: StringBuilder,
    s_error_code: StringBuilder,
    s_expected: StringBuilder,
    s_actual: StringBuilder,
    s_row_id: StringBuilder,
}

impl ReportRows {
    pub fn new(ingested_at_us: i64) -> ReportRows {
        ReportRows {
            ingested_at_us,
            r_report_id: StringBuilder::new(),
            r_tenant_id: StringBuilder::new(),
            r_observed_at: ts(),
            r_ingested_at: ts(),
            r_device_id: StringBuilder::new(),
            r_aad_device_id: StringBuilder::new(),
            r_device_name: StringBuilder::new(),
            r_os_platform: StringBuilder::new(),
            r_os_version: StringBuilder::new(),
            r_agent_version: StringBuilder::new(),
            r_managed_by: StringBuilder::new(),
            r_enrollment_status: Int64Builder::new(),
            r_join_type: StringBuilder::new(),
            r_health_status: StringBuilder::new(),
            r_machine_group: StringBuilder::new(),
            r_is_domain_controller: BooleanBuilder::new(),
            r_source_file: StringBuilder::new(),
            r_tags: ListBuilder::new(StringBuilder::new()),
            r_source: StringBuilder::new(),
            p_report_id: StringBuilder::new(),
            p_device_id: StringBuilder::new(),
            p_observed_at: ts(),
            p_policy_id: StringBuilder::new(),
            p_policy_name: StringBuilder::new(),
            p_policy_type: StringBuilder::new(),
            p_profile: StringBuilder::new(),
            p_policy_version: Int64Builder::new(),
            p_state: StringBuilder::new(),
            s_report_id: StringBuilder::new(),
            s_device_id: StringBuilder::new(),
            s_observed_at: ts(),
            s_policy_id: StringBuilder::new(),
            s_setting_id: StringBuilder::new(),
            s_setting_name: StringBuilder::new(),
            s_state: StringBuilder::new(),
            s_error_code: StringBuilder::new(),
            s_expected: StringBuilder::new(),
            s_actual: StringBuilder::new(),
            s_row_id: StringBuilder::new(),
        }
    }

    /// `source` is `None` for an agent report, else the vendor export the
    /// report was made from.
    pub fn push<S: AsRef<str>>(&mut self, r: &Report<S>, source_file: &str, source: Option<&str>) {
        let d = &r.device;
        let report_id = r.report_id.as_ref();
        let device_id = d.device_id.as_ref();
        self.r_source.append_option(source);
        self.r_report_id.append_value(report_id);
        self.r_tenant_id.append_value(&r.tenant_id);
        self.r_observed_at.append_value(r.observed_at_us);
        self.r_ingested_at.append_value(self.ingested_at_us);
        self.r_device_id.append_value(device_id);
        self.r_aad_device_id.append_option(d.aad_device_id.as_ref());
        self.r_device_name.append_value(&d.name);
        self.r_os_platform.append_value(&d.os_platform);
        self.r_os_version.append_option(d.os_version.as_ref());
        self.r_agent_version.append_option(d.agent_version.as_ref());
        self.r_managed_by.append_value(&d.managed_by);
        self.r_enrollment_status.append_option(d.enrollment_status);
        self.r_join_type.append_option(d.join_type.as_ref());
        self.r_health_status.append_option(d.health_status.as_ref());
        self.r_machine_group.append_option(d.machine_group.as_ref());
        self.r_is_domain_controller
            .append_option(d.is_domain_controller);
        self.r_source_file.append_value(source_file);
        match &d.tags {
            Some(tags) => {
                for t in tags {
                    self.r_tags.values().append_value(t);
                }
                self.r_tags.append(true);
            }
            None => self.r_tags.append(false),
        }
        for p in &r.policies {
            let policy_id = p.policy_id.as_ref();
            self.p_report_id.append_value(report_id);
            self.p_device_id.append_value(device_id);
            self.p_observed_at.append_value(r.observed_at_us);
            self.p_policy_id.append_value(policy_id);
            self.p_policy_name.append_value(&p.name);
            self.p_policy_type.append_value(&p.policy_type);
            self.p_profile.append_option(p.profile.as_ref());
            self.p_policy_version.append_option(p.version);
            self.p_state.append_value(p.state.as_str());
            for s in &p.settings {
                self.s_report_id.append_value(report_id);
                self.s_device_id.append_value(device_id);
                self.s_observed_at.append_value(r.observed_at_us);
                self.s_policy_id.append_value(policy_id);
                self.s_setting_id.append_value(&s.setting_id);
                self.s_setting_name.append_option(s.name.as_ref());
                self.s_state.append_value(s.state.as_str());
                self.s_error_code.append_option(s.error_code.as_ref());
                self.s_expected.append_option(s.expected.as_ref());
                self.s_actual.append_option(s.actual.as_ref());
                self.s_row_id.append_null();
            }
        }
    }

    /// A row of an Intune per-setting export, filed under the policy-status
    /// report it was matched to.
    pub fn push_export_setting(&mut self, s: &SettingRow) {
        self.s_report_id.append_value(&s.report_id);
        self.s_device_id.append_value(&s.device_id);
        self.s_observed_at.append_value(s.observed_at_us);
        self.s_policy_id.append_value(&s.policy_id);
        self.s_setting_id.append_value(&s.setting.setting_id);
        self.s_setting_name.append_option(s.setting.name.as_ref());
        self.s_state.append_value(s.setting.state.as_str());
        self.s_error_code
            .append_option(s.setting.error_code.as_ref());
        self.s_expected.append_option(s.setting.expected.as_ref());
        self.s_actual.append_option(s.setting.actual.as_ref());
        self.s_row_id.append_value(&s.row_id);
    }

    /// Takes the rows so far as `(table, batch)` pairs and empties the
    /// builders.
    pub fn take(&mut self) -> [(Table, RecordBatch); 3] {
        let reports = finish(
            Table::Reports,
            vec![
                Arc::new(self.r_report_id.finish()),
                Arc::new(self.r_tenant_id.finish()),
                Arc::new(self.r_observed_at.finish()),
                Arc::new(self.r_ingested_at.finish()),
                Arc::new(self.r_device_id.finish()),
                Arc::new(self.r_aad_device_id.finish()),
                Arc::new(self.r_device_name.finish()),
                Arc::new(self.r_os_platform.finish()),
                Arc::new(self.r_os_version.finish()),
                Arc::new(self.r_agent_version.finish()),
                Arc::new(self.r_managed_by.finish()),
                Arc::new(self.r_enrollment_status.finish()),
                Arc::new(self.r_join_type.finish()),
                Arc::new(self.r_health_status.finish()),
                Arc::new(self.r_machine_group.finish()),
                Arc::new(self.r_is_domain_controller.finish()),
                Arc::new(self.r_source_file.finish()),
                Arc::new(self.r_tags.finish()),
                Arc::new(self.r_source.finish()),
            ],
        );
        let policies = finish(
            Table::PolicyStates,
            vec![
                Arc::new(self.p_report_id.finish()),
                Arc::new(self.p_device_id.finish()),
                Arc::new(self.p_observed_at.finish()),
                Arc::new(self.p_policy_id.finish()),
                Arc::new(self.p_policy_name.finish()),
                Arc::new(self.p_policy_type.finish()),
                Arc::new(self.p_profile.finish()),
                Arc::new(self.p_policy_version.finish()),
                Arc::new(self.p_state.finish()),
            ],
        );
        let settings = finish(
            Table::SettingStates,
            vec![
                Arc::new(self.s_report_id.finish()),
                Arc::new(self.s_device_id.finish()),
                Arc::new(self.s_observed_at.finish()),
                Arc::new(self.s_policy_id.finish()),
                Arc::new(self.s_setting_id.finish()),
                Arc::new(self.s_setting_name.finish()),
                Arc::new(self.s_state.finish()),
                Arc::new(self.s_error_code.finish()),
                Arc::new(self.s_expected.finish()),
                Arc::new(self.s_actual.finish()),
                Arc::new(self.s_row_id.finish()),
            ],
        );
        [
            (Table::Reports, reports),
            (Table::PolicyStates, policies),
            (Table::SettingStates, settings),
        ]
    }
}

/// What one file contributed, for its `ingest_log` row.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FileCounts {
    pub read: u64,
    pub new: u64,
    pub duplicate: u64,
    pub quarantined: u64,
}

impl FileCounts {
    pub fn add(&mut self, other: &FileCounts) {
        self.read += other.read;
        self.new += other.new;
        self.duplicate += other.duplicate;
        self.quarantined += other.quarantined;
    }
}

/// The `run_id` and `ingested_at` columns, the same on every row of a run.
fn run_columns(run_id: &str, ingested_at_us: i64, rows: usize) -> (ArrayRef, ArrayRef) {
    let mut ids = StringBuilder::with_capacity(rows, rows * run_id.len());
    let mut at = ts();
    for _ in 0..rows {
        ids.append_value(run_id);
        at.append_value(ingested_at_us);
    }
    (Arc::new(ids.finish()), Arc::new(at.finish()))
}

/// Rows of the `quarantine` table: rejected reports with their position,
/// reason and raw text.
pub struct QuarantineRows {
    run_id: String,
    ingested_at_us: i64,
    file: StringBuilder,
    line: UInt64Builder,
    index: UInt64Builder,
    reason: StringBuilder,
    raw: StringBuilder,
}

impl QuarantineRows {
    pub fn new(run_id: &str, ingested_at_us: i64) -> QuarantineRows {
        QuarantineRows {
            run_id: run_id.to_owned(),
            ingested_at_us,
            file: StringBuilder::new(),
            line: UInt64Builder::new(),
            index: UInt64Builder::new(),
            reason: StringBuilder::new(),
            raw: StringBuilder::new(),
        }
    }

    pub fn push(&mut self, file: &str, position: Position, reason: &str, raw: &[u8]) {
        self.file.append_value(file);
        let (line, index) = match position {
            Position::Line(n) => (Some(n), None),
            Position::Index(i) => (None, Some(i)),
        };
        self.line.append_option(line);
        self.index.append_option(index);
        self.reason.append_value(reason);
        self.raw.append_value(String::from_utf8_lossy(raw));
    }

    pub fn take(&mut self) -> RecordBatch {
        let (run, at) = run_columns(&self.run_id, self.ingested_at_us, self.file.len());
        finish(
            Table::Quarantine,
            vec![
                run,
                at,
                Arc::new(self.file.finish()),
                Arc::new(self.line.finish()),
                Arc::new(self.index.finish()),
                Arc::new(self.reason.finish()),
                Arc::new(self.raw.finish()),
            ],
        )
    }
}

/// Rows of the `ingest_log` table: one per input file.
pub struct LogRows {
    run_id: String,
    ingested_at_us: i64,
    file: StringBuilder,
    sha256: StringBuilder,
    bytes: UInt64Builder,
    counts: [UInt64Builder; 4],
    error: StringBuilder,
}

impl LogRows {
    pub fn new(run_id: &str, ingested_at_us: i64) -> LogRows {
        LogRows {
            run_id: run_id.to_owned(),
            ingested_at_us,
            file: StringBuilder::new(),
            sha256: StringBuilder::new(),
            bytes: UInt64Builder::new(),
            counts: std::array::from_fn(|_| UInt64Builder::new()),
            error: StringBuilder::new(),
        }
    }

    pub fn push(
        &mut self,
        file: &str,
        sha256: Option<&str>,
        bytes: u64,
        counts: &FileCounts,
        error: Option<&str>,
    ) {
        self.file.append_value(file);
        self.sha256.append_option(sha256);
        self.bytes.append_value(bytes);
        let values = [
            counts.read,
            counts.new,
            counts.duplicate,
            counts.quarantined,
        ];
        for (builder, value) in self.counts.iter_mut().zip(values) {
            builder.append_value(value);
        }
        self.error.append_option(error);
    }

    pub fn take(&mut self) -> RecordBatch {
        let (run, at) = run_columns(&self.run_id, self.ingested_at_us, self.file.len());
        let [read, new, duplicate, quarantined] = &mut self.counts;
        finish(
            Table::IngestLog,
            vec![
                run,
                at,
                Arc::new(self.file.finish()),
                Arc::new(self.sha256.finish()),
                Arc::new(self.bytes.finish()),
                Arc::new(read.finish()),
                Arc::new(new.finish()),
                Arc::new(duplicate.finish()),
                Arc::new(quarantined.finish()),
                Arc::new(self.error.finish()),
            ],
        )
    }
}

/// Rows of the export tables (`antivirus_health`, `firewall_status`,
/// `device_inventory`, `secure_configurations`, `intune_devices`): each
/// reader names its cells by column, and one builder serves every table, so
/// a new export table is a schema and a reader, nothing here.
pub struct ExportRows {
    ingested_at_us: i64,
    tables: std::collections::BTreeMap<Table, Vec<(TableRow, String)>>,
}

impl ExportRows {
    pub fn new(ingested_at_us: i64) -> ExportRows {
        ExportRows {
            ingested_at_us,
            tables: std::collections::BTreeMap::new(),
        }
    }

    pub fn push(&mut self, row: TableRow, source_file: &str) {
        self.tables
            .entry(row.table)
            .or_default()
            .push((row, source_file.to_owned()));
    }

    /// Takes the rows so far as `(table, batch)` pairs.
    pub fn take(&mut self) -> anyhow::Result<Vec<(Table, RecordBatch)>> {
        let mut out = Vec::new();
        for (table, rows) in std::mem::take(&mut self.tables) {
            out.push((table, export_batch(table, &rows, self.ingested_at_us)?));
        }
        Ok(out)
    }
}

/// One export table's rows as a batch: each column of the table's schema
/// from the rows' cells of that name; `ingested_at` and `source_file` are
/// the run's; a column no row names is NULL.
fn export_batch(
    table: Table,
    rows: &[(TableRow, String)],
    ingested_at_us: i64,
) -> anyhow::Result<RecordBatch> {
    use datafusion::arrow::array::Float64Builder;
    use datafusion::arrow::datatypes::DataType;
    let schema = table.schema();
    let index: std::collections::HashMap<&str, usize> = schema
        .fields()
        .iter()
        .enumerate()
        .map(|(i, f)| (f.name().as_str(), i))
        .collect();
    // For each row, the position of its cell in each column (or none).
    let mut at: Vec<Vec<Option<usize>>> = vec![vec![None; rows.len()]; schema.fields().len()];
    for (r, (row, _)) in rows.iter().enumerate() {
        for (c, (name, value)) in row.cells.iter().enumerate() {
            let column = *index
                .get(name)
                .ok_or_else(|| anyhow::anyhow!("`{}` has no column `{name}`", table.name()))?;
            let fits = matches!(
                (value, schema.field(column).data_type()),
                (Cell::Text(_), DataType::Utf8)
                    | (Cell::Int(_), DataType::Int64)
                    | (Cell::Float(_), DataType::Float64)
                    | (Cell::Bool(_), DataType::Boolean)
                    | (Cell::Time(_), DataType::Timestamp(..))
            );
            anyhow::ensure!(
                fits,
                "`{}.{name}` is given a cell of another type",
                table.name()
            );
            at[column][r] = Some(c);
        }
    }
    let cell = |column: usize, r: usize| at[column][r].map(|c| &rows[r].0.cells[c].1);
    let mut columns: Vec<ArrayRef> = Vec::with_capacity(schema.fields().len());
    for (i, field) in schema.fields().iter().enumerate() {
        let array: ArrayRef = match (field.name().as_str(), field.data_type()) {
            ("ingested_at", _) => {
                let mut b = ts();
                for _ in rows {
                    b.append_value(ingested_at_us);
                }
                Arc::new(b.finish())
            }
            ("source_file", _) => {
                let mut b = StringBuilder::new();
                for (_, file) in rows {
                    b.append_value(file);
                }
                Arc::new(b.finish())
            }
            (_, DataType::Utf8) => {
                let mut b = StringBuilder::new();
                for r in 0..rows.len() {
                    b.append_option(match cell(i, r) {
                        Some(Cell::Text(v)) => v.as_deref(),
                        _ => None,
                    });
                }
                Arc::new(b.finish())
            }
            (_, DataType::Int64) => {
                let mut b = Int64Builder::new();
                for r in 0..rows.len() {
                    b.append_option(match cell(i, r) {
                        Some(Cell::Int(v)) => *v,
                        _ => None,
                    });
                }
                Arc::new(b.finish())
            }
            (_, DataType::Float64) => {
                let mut b = Float64Builder::new();
                for r in 0..rows.len() {
                    b.append_option(match cell(i, r) {
                        Some(Cell::Float(v)) => *v,
                        _ => None,
                    });
                }
                Arc::new(b.finish())
            }
            (_, DataType::Boolean) => {
                let mut b = BooleanBuilder::new();
                for r in 0..rows.len() {
                    b.append_option(match cell(i, r) {
                        Some(Cell::Bool(v)) => *v,
                        _ => None,
                    });
                }
                Arc::new(b.finish())
            }
            (_, DataType::Timestamp(..)) => {
                let mut b = ts();
                for r in 0..rows.len() {
                    b.append_option(match cell(i, r) {
                        Some(Cell::Time(v)) => *v,
                        _ => None,
                    });
                }
                Arc::new(b.finish())
            }
            (name, other) => anyhow::bail!("no export builder for `{name}` of type {other}"),
        };
        columns.push(array);
    }
    Ok(RecordBatch::try_new(schema, columns)?)
}
