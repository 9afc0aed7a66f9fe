//! The SQL of `queries/`, built into the binary: the shared views, created
//! in every session, and the named queries of the output contract.

use std::path::Path;

use anyhow::{Context, Result};

/// The views every query shares, in the order they must be created.
pub const VIEWS: [(&str, &str); 15] = [
    (
        "machine_keys",
        include_str!("../../queries/views/machine_keys.sql"),
    ),
    (
        "device_keys",
        include_str!("../../queries/views/device_keys.sql"),
    ),
    (
        "keyed_reports",
        include_str!("../../queries/views/keyed_reports.sql"),
    ),
    (
        "day_end_keyed_reports",
        include_str!("../../queries/views/day_end_keyed_reports.sql"),
    ),
    (
        "device_platforms",
        include_str!("../../queries/views/device_platforms.sql"),
    ),
    (
        "last_reports_of_day",
        include_str!("../../queries/views/last_reports_of_day.sql"),
    ),
    (
        "latest_reports",
        include_str!("../../queries/views/latest_reports.sql"),
    ),
    (
        "current_export_policy_states",
        include_str!("../../queries/views/current_export_policy_states.sql"),
    ),
    (
        "current_policy_states",
        include_str!("../../queries/views/current_policy_states.sql"),
    ),
    (
        "current_setting_states",
        include_str!("../../queries/views/current_setting_states.sql"),
    ),
    (
        "current_failing_settings",
        include_str!("../../queries/views/current_failing_settings.sql"),
    ),
    (
        "device_status",
        include_str!("../../queries/views/device_status.sql"),
    ),
    (
        "inventory_status",
        include_str!("../../queries/views/inventory_status.sql"),
    ),
    (
        "current_exceptions",
        include_str!("../../queries/views/current_exceptions.sql"),
    ),
    (
        "device_exception_status",
        include_str!("../../queries/views/device_exception_status.sql"),
    ),
];

/// `latest_reports` for a session whose `snapshot_days` holds one day: the
/// same rows as the general view, without sorting every report by device.
const LATEST_REPORTS_ONE_DAY: &str = include_str!("../../queries/views/latest_reports_one_day.sql");

/// The SQL that creates the view `name` (of `VIEWS`, whose text is `sql`)
/// in a session whose `snapshot_days` holds `days` days.
pub fn view_sql(name: &str, sql: &'static str, days: u32) -> &'static str {
    if name == "latest_reports" && days == 1 {
        LATEST_REPORTS_ONE_DAY
    } else {
        sql
    }
}

const BUILT_IN: [(&str, &str); 20] = [
    (
        "compliance_by_policy",
        include_str!("../../queries/compliance_by_policy.sql"),
    ),
    (
        "compliance_by_platform",
        include_str!("../../queries/compliance_by_platform.sql"),
    ),
    (
        "setting_failures",
        include_str!("../../queries/setting_failures.sql"),
    ),
    (
        "stale_devices",
        include_str!("../../queries/stale_devices.sql"),
    ),
    (
        "compliance_trend",
        include_str!("../../queries/compliance_trend.sql"),
    ),
    (
        "management_channel",
        include_str!("../../queries/management_channel.sql"),
    ),
    (
        "enrollment_failures",
        include_str!("../../queries/enrollment_failures.sql"),
    ),
    (
        "policy_devices",
        include_str!("../../queries/policy_devices.sql"),
    ),
    (
        "device_detail",
        include_str!("../../queries/device_detail.sql"),
    ),
    (
        "policy_settings",
        include_str!("../../queries/policy_settings.sql"),
    ),
    (
        "antivirus_health",
        include_str!("../../queries/antivirus_health.sql"),
    ),
    (
        "firewall_status",
        include_str!("../../queries/firewall_status.sql"),
    ),
    (
        "onboarding_coverage",
        include_str!("../../queries/onboarding_coverage.sql"),
    ),
    (
        "onboarding_devices",
        include_str!("../../queries/onboarding_devices.sql"),
    ),
    ("changes", include_str!("../../queries/changes.sql")),
    ("remediation", include_str!("../../queries/remediation.sql")),
    ("exceptions", include_str!("../../queries/exceptions.sql")),
    (
        "exceptions_trend",
        include_str!("../../queries/exceptions_trend.sql"),
    ),
    (
        "antivirus_mode",
        include_str!("../../queries/antivirus_mode.sql"),
    ),
    (
        "secure_configuration",
        include_str!("../../queries/secure_configuration.sql"),
    ),
];

/// A named query: its SQL and what its header comment says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NamedQuery {
    pub name: String,
    /// The first header line after `-- name:`.
    pub purpose: String,
    pub sql: String,
    /// The header asks for one snapshot per day of `--days`
    /// (`-- posture: one snapshot per day of --days`).
    pub spans_days: bool,
    /// The header asks for the as-of day and the day before
    /// (`-- posture: the as-of day and the day before`).
    pub compares_days: bool,
    /// The header says its rows come in device order and each device's
    /// from that device's rows alone (`-- posture: device by device`), so
    /// a bundle may run it a range of devices at a time.
    pub by_device: bool,
}

impl NamedQuery {
    pub fn parse(name: &str, sql: &str) -> NamedQuery {
        let header: Vec<&str> = sql
            .lines()
            .take_while(|l| l.starts_with("--"))
            .map(|l| l.trim_start_matches('-').trim())
            .collect();
        let purpose = header
            .first()
            .and_then(|l| l.strip_prefix(name))
            .map(|l| l.trim_start_matches(':').trim().to_owned())
            .unwrap_or_default();
        NamedQuery {
            name: name.to_owned(),
            purpose,
            sql: sql.to_owned(),
            spans_days: header.contains(&"posture: one snapshot per day of --days"),
            compares_days: header.contains(&"posture: the as-of day and the day before"),
            by_device: header.contains(&"posture: device by device"),
        }
    }
}

/// The built-in named queries, in the contract's order.
pub fn named_queries() -> Vec<NamedQuery> {
    BUILT_IN
        .iter()
        .map(|(name, sql)| NamedQuery::parse(name, sql))
        .collect()
}

/// The built-in queries with those of a user folder (`--queries DIR`): each
/// `NAME.sql` there adds the query `NAME`, or replaces the built-in one.
pub fn named_queries_with(dir: Option<&Path>) -> Result<Vec<NamedQuery>> {
    let mut queries = named_queries();
    let Some(dir) = dir else {
        return Ok(queries);
    };
    let mut paths: Vec<_> = std::fs::read_dir(dir)
        .with_context(|| format!("cannot list the queries folder `{}`", dir.display()))?
        .map(|e| e.map(|e| e.path()))
        .collect::<Result<_, _>>()?;
    paths.retain(|p| p.extension().is_some_and(|e| e == "sql"));
    paths.sort();
    for path in paths {
        let name = path
            .file_stem()
            .and_then(|s| s.to_str())
            .with_context(|| format!("`{}` has no usable name", path.display()))?;
        let sql = std::fs::read_to_string(&path)
            .with_context(|| format!("cannot read `{}`", path.display()))?;
        let query = NamedQuery::parse(name, &sql);
        match queries.iter_mut().find(|q| q.name == name) {
            Some(built_in) => *built_in = query,
            None => queries.push(query),
        }
    }
    Ok(queries)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_query_says_what_it_answers() {
        for q in named_queries() {
            assert!(!q.purpose.is_empty(), "{} has no purpose line", q.name);
        }
    }

    #[test]
    fn a_user_folder_adds_and_overrides_queries() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("stale_devices.sql"),
            "-- stale_devices: mine\nSELECT 1",
        )
        .unwrap();
        std::fs::write(dir.path().join("extra.sql"), "-- extra: more\nSELECT 2").unwrap();
        std::fs::write(dir.path().join("notes.txt"), "not a query").unwrap();
        let queries = named_queries_with(Some(dir.path())).unwrap();
        assert_eq!(queries.len(), named_queries().len() + 1);
        let stale = queries.iter().find(|q| q.name == "stale_devices").unwrap();
        assert_eq!(
            (stale.purpose.as_str(), stale.sql.as_str()),
            ("mine", "-- stale_devices: mine\nSELECT 1")
        );
        assert_eq!(queries.last().unwrap().purpose, "more");
    }

    #[test]
    fn only_the_trend_spans_days() {
        let spanning: Vec<String> = named_queries()
            .into_iter()
            .filter(|q| q.spans_days)
            .map(|q| q.name)
            .collect();
        assert_eq!(spanning, ["compliance_trend", "exceptions_trend"]);
    }
}
