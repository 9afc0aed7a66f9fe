-- day_end_keyed_reports: keyed_reports over day_end_reports rather than
-- reports, for latest_reports. day_end_reports holds, for each day, either
-- the raw partition of `reports` or, when the day has a valid compacted
-- snapshot, only each device's last report of that day (the greatest
-- observed_at, then report_id, per device_id and source: docs/compaction.md).
-- Every report latest_reports can pick is there, so it picks the same one.
-- The device keys themselves (device_keys) are read from all of `reports`.
CREATE VIEW day_end_keyed_reports AS
SELECT
    report_id,
    device_id,
    device_id AS source_device_id,
    device_name,
    os_platform,
    managed_by,
    enrollment_status,
    observed_at,
    date
FROM day_end_reports
WHERE source IS NULL
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
    r.date
FROM day_end_reports r
LEFT JOIN device_keys k ON k.intune_id = r.device_id
WHERE r.source IS NOT NULL
