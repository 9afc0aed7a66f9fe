-- latest_reports: each device's latest report as of each snapshot day.
-- The latest report is the one with the greatest observed_at before the end
-- of the day (observed_at < day + 1 at 00:00Z); on a tie, the greatest
-- report_id in byte order. `stale` says whether that report is older than
-- the staleness cut-off (observed_at < end of day - stale_days * 24h).
CREATE VIEW latest_reports AS
SELECT
    day,
    day_end,
    report_id,
    device_id,
    device_name,
    os_platform,
    managed_by,
    enrollment_status,
    observed_at,
    observed_at < stale_before AS stale
FROM (
    SELECT
        s.day,
        s.day_end,
        s.stale_before,
        r.report_id,
        r.device_id,
        r.device_name,
        r.os_platform,
        r.managed_by,
        r.enrollment_status,
        r.observed_at,
        row_number() OVER (
            PARTITION BY s.day, r.device_id
            ORDER BY r.observed_at DESC, r.report_id DESC
        ) AS recency
    FROM snapshot_days s
    JOIN reports r ON r.observed_at < s.day_end
) ranked
WHERE recency = 1
