//! The SQL of `queries/`, built into the binary: the shared views, created
//! in every session, and the named queries of the output contract.

/// The views every query shares, in the order they must be created.
pub const VIEWS: [(&str, &str); 4] = [
    (
        "latest_reports",
        include_str!("../../queries/views/latest_reports.sql"),
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
        "device_status",
        include_str!("../../queries/views/device_status.sql"),
    ),
];

const BUILT_IN: [(&str, &str); 5] = [
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
    fn only_the_trend_spans_days() {
        let spanning: Vec<String> = named_queries()
            .into_iter()
            .filter(|q| q.spans_days)
            .map(|q| q.name)
            .collect();
        assert_eq!(spanning, ["compliance_trend"]);
    }
}
