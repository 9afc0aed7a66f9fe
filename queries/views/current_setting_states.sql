-- current_setting_states: the settings listed in each device's latest report.
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
