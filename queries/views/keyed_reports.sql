-- keyed_reports: `reports` with each report's device_id replaced by the
-- device it stands for (device_keys); source_device_id keeps the id the
-- report carries, which its policy and setting rows are filed under. Agent
-- reports keep their own device_id, unless the machine list says the
-- machine was merged into another (machine_keys). `source` is NULL for an
-- agent report, else the export it was made from. day_end_keyed_reports is
-- the same over day_end_reports: change both together.
CREATE VIEW keyed_reports AS
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
RIGHT JOIN reports r ON k.machine_id = r.device_id
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
RIGHT JOIN reports r ON k.intune_id = r.device_id
WHERE r.source IS NOT NULL
