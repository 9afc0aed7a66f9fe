//! The lake's tables: their names, Arrow schemas and sort orders. The
//! column names are a contract (`compliance.md`, "Lake tables"): columns may
//! be added, never renamed.

use std::sync::Arc;

use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};

/// The Hive partition column, `date=YYYY-MM-DD` in the path, never stored in
/// the files themselves.
pub const PARTITION_COLUMN: &str = "date";

/// A lake table: where it lives and how its files are sorted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Table {
    Reports,
    PolicyStates,
    SettingStates,
    IngestLog,
    Quarantine,
    AntivirusHealth,
    FirewallStatus,
    DeviceInventory,
    SecureConfigurations,
    IntuneDevices,
    Exceptions,
    /// The compacted daily snapshot (docs/compaction.md): per `date=`
    /// partition, the rows of each device's last report of that day, written
    /// by `posture compact`. Not in [`Table::ALL`]: a snapshot partition is
    /// read only while it is valid, through the `day_end_*` tables.
    DailyReports,
    DailyPolicyStates,
    DailySettingStates,
    /// The as-of snapshot (docs/compaction.md): the rows of each device's
    /// newest report as of one day (the lake's newest when `posture compact`
    /// ran), partitioned by the `date` of that report as the raw tables are.
    /// Not in [`Table::ALL`]: read only while valid, by one-day snapshots.
    AsOfReports,
    AsOfPolicyStates,
    AsOfSettingStates,
}

impl Table {
    pub const ALL: [Table; 11] = [
        Table::Reports,
        Table::PolicyStates,
        Table::SettingStates,
        Table::IngestLog,
        Table::Quarantine,
        Table::AntivirusHealth,
        Table::FirewallStatus,
        Table::DeviceInventory,
        Table::SecureConfigurations,
        Table::IntuneDevices,
        Table::Exceptions,
    ];

    /// The snapshot tables, each beside the table it is cut from.
    pub const SNAPSHOT: [(Table, Table); 3] = [
        (Table::Reports, Table::DailyReports),
        (Table::PolicyStates, Table::DailyPolicyStates),
        (Table::SettingStates, Table::DailySettingStates),
    ];

    /// The as-of snapshot's tables, each beside the daily snapshot table it
    /// is cut from and the raw table whose rows both hold.
    pub const AS_OF: [(Table, Table, Table); 3] = [
        (Table::Reports, Table::DailyReports, Table::AsOfReports),
        (
            Table::PolicyStates,
            Table::DailyPolicyStates,
            Table::AsOfPolicyStates,
        ),
        (
            Table::SettingStates,
            Table::DailySettingStates,
            Table::AsOfSettingStates,
        ),
    ];

    /// The tables of vendor exports (docs/vendor-exports.md), deduplicated
    /// by `row_id` across the lake (the dedup index, docs/lake.md).
    pub const VENDOR: [Table; 5] = [
        Table::AntivirusHealth,
        Table::FirewallStatus,
        Table::DeviceInventory,
        Table::SecureConfigurations,
        Table::IntuneDevices,
    ];

    /// Tables of what devices reported (agent reports and vendor exports),
    /// partitioned by `observed_at` and cut at a snapshot's as-of day; the
    /// others are the lake's own records (runs, rejects, exceptions), read
    /// whole.
    pub fn holds_reports(self) -> bool {
        matches!(
            self,
            Table::Reports | Table::PolicyStates | Table::SettingStates
        ) || Table::VENDOR.contains(&self)
    }

    pub fn name(self) -> &'static str {
        match self {
            Table::Reports => "reports",
            Table::PolicyStates => "policy_states",
            Table::SettingStates => "setting_states",
            Table::IngestLog => "ingest_log",
            Table::Quarantine => "quarantine",
            Table::AntivirusHealth => "antivirus_health",
            Table::FirewallStatus => "firewall_status",
            Table::DeviceInventory => "device_inventory",
            Table::SecureConfigurations => "secure_configurations",
            Table::IntuneDevices => "intune_devices",
            Table::Exceptions => "exceptions",
            Table::DailyReports => "daily_reports",
            Table::DailyPolicyStates => "daily_policy_states",
            Table::DailySettingStates => "daily_setting_states",
            Table::AsOfReports => "asof_reports",
            Table::AsOfPolicyStates => "asof_policy_states",
            Table::AsOfSettingStates => "asof_setting_states",
        }
    }

    /// Report tables are partitioned by the UTC date of `observed_at`; the
    /// ingest's own records (`ingest_log`, `quarantine`) by the UTC date of
    /// the run, since a rejected report may have no usable timestamp;
    /// `exceptions` by the UTC date of the load (every load is kept; the
    /// newest `load_id` is the set in force, see docs/exceptions.md).
    pub fn schema(self) -> SchemaRef {
        let fields = match self {
            Table::DailyReports | Table::AsOfReports => return Table::Reports.schema(),
            Table::DailyPolicyStates | Table::AsOfPolicyStates => {
                return Table::PolicyStates.schema();
            }
            Table::DailySettingStates | Table::AsOfSettingStates => {
                return Table::SettingStates.schema();
            }
            Table::Reports => vec![
                text("report_id", false),
                text("tenant_id", false),
                timestamp("observed_at", false),
                timestamp("ingested_at", false),
                text("device_id", false),
                text("aad_device_id", true),
                text("device_name", false),
                text("os_platform", false),
                text("os_version", true),
                text("agent_version", true),
                text("managed_by", false),
                Field::new("enrollment_status", DataType::Int64, true),
                text("join_type", true),
                text("health_status", true),
                text("machine_group", true),
                Field::new("is_domain_controller", DataType::Boolean, true),
                text("source_file", false),
                Field::new(
                    "tags",
                    DataType::List(Arc::new(Field::new("item", DataType::Utf8, true))),
                    true,
                ),
                // Where the report came from: NULL for an agent report,
                // else the vendor export (`intune:DeviceStatusesByConfigurationProfile`).
                text("source", true),
            ],
            Table::PolicyStates => vec![
                text("report_id", false),
                text("device_id", false),
                timestamp("observed_at", false),
                text("policy_id", false),
                text("policy_name", false),
                text("policy_type", false),
                text("profile", true),
                Field::new("policy_version", DataType::Int64, true),
                text("state", false),
            ],
            Table::SettingStates => vec![
                text("report_id", false),
                text("device_id", false),
                timestamp("observed_at", false),
                text("policy_id", false),
                text("setting_id", false),
                text("setting_name", true),
                text("state", false),
                text("error_code", true),
                text("expected", true),
                text("actual", true),
                // NULL for an agent report's setting; for a row of an Intune
                // per-setting export, a digest of it (its dedup key).
                text("row_id", true),
            ],
            Table::IngestLog => vec![
                text("run_id", false),
                timestamp("ingested_at", false),
                text("file", false),
                text("sha256", true),
                Field::new("bytes", DataType::UInt64, false),
                Field::new("read", DataType::UInt64, false),
                Field::new("new", DataType::UInt64, false),
                Field::new("duplicate", DataType::UInt64, false),
                Field::new("quarantined", DataType::UInt64, false),
                text("error", true),
            ],
            Table::Quarantine => vec![
                text("run_id", false),
                timestamp("ingested_at", false),
                text("file", false),
                Field::new("line", DataType::UInt64, true),
                Field::new("array_index", DataType::UInt64, true),
                text("reason", false),
                text("raw", false),
            ],
            Table::AntivirusHealth => vec![
                text("row_id", false),
                text("device_id", false),
                text("device_name", true),
                timestamp("observed_at", false),
                timestamp("ingested_at", false),
                text("managed_by", true),
                text("upn", true),
                text("user_email", true),
                text("user_name", true),
                Field::new("is_virtual_machine", DataType::Boolean, true),
                Field::new("device_state", DataType::Int64, true),
                text("device_state_names", true),
                Field::new("product_status", DataType::Int64, true),
                text("product_status_names", true),
                Field::new("malware_protection_enabled", DataType::Boolean, true),
                Field::new("network_inspection_system_enabled", DataType::Boolean, true),
                Field::new("real_time_protection_enabled", DataType::Boolean, true),
                Field::new("signature_update_overdue", DataType::Boolean, true),
                Field::new("tamper_protection_enabled", DataType::Boolean, true),
                text("engine_version", true),
                text("signature_version", true),
                timestamp("last_quick_scan_at", true),
                timestamp("last_full_scan_at", true),
                text("source_file", false),
                // Which export the row came from: `intune:DefenderAgents`
                // (device_id an Intune device id) or `mde:deviceavinfo`
                // (device_id a Defender machine id).
                text("source", true),
                text("anti_malware_version", true),
                Field::new("critical_failure", DataType::Boolean, true),
                Field::new("full_scan_overdue", DataType::Boolean, true),
                Field::new("full_scan_required", DataType::Boolean, true),
                text("last_quick_scan_signature_version", true),
                Field::new("pending_full_scan", DataType::Boolean, true),
                Field::new("pending_manual_steps", DataType::Boolean, true),
                Field::new("pending_offline_scan", DataType::Boolean, true),
                Field::new("pending_reboot", DataType::Boolean, true),
                Field::new("quick_scan_overdue", DataType::Boolean, true),
                Field::new("reboot_required", DataType::Boolean, true),
                text("wdatp_onboarding_state", true),
                Field::new("wdatp_onboarded", DataType::Boolean, true),
                Field::new("wdatp_sense_running", DataType::Boolean, true),
                Field::new("av_mode", DataType::Int64, true),
                text("av_mode_name", true),
                text("platform_version", true),
                Field::new("engine_up_to_date", DataType::Boolean, true),
                Field::new("platform_up_to_date", DataType::Boolean, true),
                Field::new("signature_up_to_date", DataType::Boolean, true),
                timestamp("engine_updated_at", true),
                timestamp("platform_updated_at", true),
                timestamp("signature_updated_at", true),
                timestamp("signature_published_at", true),
                text("quick_scan_result", true),
                text("quick_scan_error", true),
                text("full_scan_result", true),
                text("full_scan_error", true),
                timestamp("last_seen", true),
                text("os_kind", true),
                text("os_platform", true),
                text("os_version", true),
                text("rbac_group_name", true),
            ],
            Table::FirewallStatus => vec![
                text("row_id", false),
                text("device_id", false),
                text("device_name", true),
                timestamp("observed_at", false),
                timestamp("ingested_at", false),
                Field::new("firewall_status", DataType::Int64, false),
                text("firewall_status_name", false),
                text("reference_id", true),
                text("upn", true),
                text("user_name", true),
                text("managed_by", true),
                text("os", true),
                text("source_file", false),
            ],
            Table::DeviceInventory => vec![
                text("row_id", false),
                text("machine_id", false),
                text("computer_dns_name", true),
                timestamp("observed_at", false),
                timestamp("ingested_at", false),
                timestamp("first_seen", true),
                timestamp("last_seen", true),
                text("os_platform", true),
                text("os_version", true),
                text("health_status", true),
                text("onboarding_status", true),
                text("managed_by", false),
                text("managed_by_status", true),
                text("aad_device_id", true),
                text("machine_tags", true),
                text("source_file", false),
                text("version", true),
                Field::new("os_build", DataType::Int64, true),
                text("os_architecture", true),
                text("agent_version", true),
                Field::new("is_aad_joined", DataType::Boolean, true),
                Field::new("is_potential_duplication", DataType::Boolean, true),
                // The machine this one was merged into: it is that device.
                text("merged_into_machine_id", true),
                Field::new("is_excluded", DataType::Boolean, true),
                text("exclusion_reason", true),
                text("defender_av_status", true),
                text("rbac_group_name", true),
                text("exposure_level", true),
                text("risk_score", true),
                text("device_value", true),
                text("last_ip_address", true),
            ],
            Table::SecureConfigurations => vec![
                text("row_id", false),
                text("device_id", false),
                text("device_name", true),
                timestamp("observed_at", false),
                timestamp("ingested_at", false),
                text("os_platform", true),
                text("os_version", true),
                text("configuration_id", false),
                text("configuration_name", true),
                text("configuration_category", true),
                text("configuration_subcategory", true),
                Field::new("configuration_impact", DataType::Float64, true),
                Field::new("is_applicable", DataType::Boolean, true),
                Field::new("is_compliant", DataType::Boolean, true),
                Field::new("is_expected_user_impact", DataType::Boolean, true),
                text("recommendation_reference", true),
                text("rbac_group_name", true),
                text("source", false),
                text("source_file", false),
            ],
            Table::IntuneDevices => vec![
                text("row_id", false),
                text("intune_device_id", false),
                text("device_name", true),
                text("aad_device_id", true),
                timestamp("observed_at", false),
                timestamp("ingested_at", false),
                timestamp("enrolled_at", true),
                text("os", true),
                text("os_platform", true),
                text("os_version", true),
                text("managed_by", true),
                text("compliance", true),
                text("join_type", true),
                text("ownership", true),
                text("serial_number", true),
                text("device_state", true),
                text("upn", true),
                text("source_file", false),
            ],
            Table::Exceptions => vec![
                text("load_id", false),
                timestamp("loaded_at", false),
                text("source_file", false),
                text("source_sha256", false),
                Field::new("line", DataType::UInt64, false),
                text("device_id", true),
                text("policy_id", true),
                text("setting_id", true),
                text("reason", false),
                text("owner", false),
                Field::new("expires", DataType::Date32, false),
            ],
        };
        Arc::new(Schema::new(fields))
    }

    /// The columns each file is sorted by ("by device and time"), recorded in
    /// the Parquet metadata so that readers can use it.
    pub fn sort_columns(self) -> &'static [&'static str] {
        match self {
            Table::Reports | Table::DailyReports | Table::AsOfReports => {
                &["device_id", "observed_at", "report_id"]
            }
            Table::PolicyStates | Table::DailyPolicyStates | Table::AsOfPolicyStates => {
                &["device_id", "observed_at", "report_id", "policy_id"]
            }
            Table::SettingStates | Table::DailySettingStates | Table::AsOfSettingStates => &[
                "device_id",
                "observed_at",
                "report_id",
                "policy_id",
                "setting_id",
            ],
            Table::IngestLog => &["file"],
            Table::Quarantine => &["file", "line", "array_index"],
            Table::AntivirusHealth | Table::FirewallStatus => {
                &["device_id", "observed_at", "row_id"]
            }
            Table::DeviceInventory => &["machine_id", "observed_at", "row_id"],
            Table::SecureConfigurations => {
                &["device_id", "configuration_id", "observed_at", "row_id"]
            }
            Table::IntuneDevices => &["intune_device_id", "observed_at", "row_id"],
            Table::Exceptions => &["load_id", "line"],
        }
    }
}

fn text(name: &str, nullable: bool) -> Field {
    Field::new(name, DataType::Utf8, nullable)
}

/// UTC microseconds, annotated as UTC so that every reader agrees.
pub fn timestamp(name: &str, nullable: bool) -> Field {
    Field::new(
        name,
        DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
        nullable,
    )
}
