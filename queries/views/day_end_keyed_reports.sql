-- day_end_keyed_reports: keyed_reports over day_end_reports rather than
-- reports, for latest_reports. day_end_reports holds, for each day, either
-- the raw partition of `reports` or, when the day has a valid compacted
-- snapshot, each agent device's last report of that day (the greatest
-- observed_at, then report_id) and every report made from an export
-- (docs/compaction.md). Every report latest_reports and
-- current_export_policy_states can pick is there, so they pick the same.
-- The device keys themselves (device_keys) are read from all of `reports`.
CREATE VIEW day_end_keyed_reports AS
SELECT
    r.report_id,
    coalesce(k.device_key, r.device_id) AS device_id,
    r.device_id AS source_device_id,
    r.device_name,
    r.os_platform,
    r.managed_by,
    r.enrollment_status,
    r.observed_at,
    r.source,
    r.date
FROM machine_keys k
RIGHT JOIN day_end_reports r ON k.machine_id = r.device_id
WHERE r.source IS NULL
UNION ALL
SELECT
    r.report_id,
    coalesce(k.device_key, 'intune:' || r.device_id) AS device_id,
    r.device_id AS source_device_id,
    r.device_name,
    r.os_platform,
    r.managed_by,
    r.enrollment_status,
    r.observed_at,
    r.source,
    r.date
FROM device_keys k
RIGHT JOIN day_end_reports r ON k.intune_id = r.device_id
WHERE r.source IS NOT NULL
