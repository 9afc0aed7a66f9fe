-- current_setting_states: the settings of each device's current policy
-- states: those listed in its latest report when that is an agent's; those
-- filed under each current exported policy status when the device is known
-- from Intune exports (per-setting exports, docs/vendor-exports.md).
CREATE VIEW current_setting_states AS
SELECT
    l.day,
    l.device_id,
    l.stale,
    l.observed_at,
    l.report_id,
    s.policy_id,
    s.setting_id,
    s.setting_name,
    s.state,
    s.error_code,
    s.expected,
    s.actual
FROM latest_reports l
JOIN day_end_setting_states s
    ON s.report_id = l.report_id
    AND s.device_id = l.source_device_id
    AND s.observed_at = l.observed_at
WHERE l.source IS NULL
UNION ALL
SELECT
    l.day,
    l.device_id,
    l.stale,
    e.observed_at,
    e.report_id,
    s.policy_id,
    s.setting_id,
    s.setting_name,
    s.state,
    s.error_code,
    s.expected,
    s.actual
FROM latest_reports l
JOIN current_export_policy_states e ON e.day = l.day AND e.device_id = l.device_id
JOIN day_end_setting_states s
    ON s.report_id = e.report_id
    AND s.device_id = e.source_device_id
    AND s.observed_at = e.observed_at
WHERE l.source IS NOT NULL
