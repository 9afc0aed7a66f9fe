-- latest_reports, when snapshot_days holds one day (a snapshot, the usual
-- case): the same rows as latest_reports.sql, found more cheaply. Each
-- device's latest report before the end of the day is the one with its
-- greatest observed_at, then the greatest report_id in byte order: an
-- aggregate gives each device's greatest observed_at, the reports at that
-- time are read again, and of these (more than one only on a tie) the one
-- first by report_id descending is kept. No window over every report:
-- that sorts every report by device (the general view must, to give each
-- day of a trend its own latest report). A session uses this text for the
-- view when its snapshot has one day; change both together.
CREATE VIEW latest_reports AS
WITH of_day AS (
    SELECT
        s.day,
        s.day_end,
        s.stale_before,
        r.report_id,
        r.device_id,
        r.source_device_id,
        r.device_name,
        r.os_platform,
        r.managed_by,
        r.enrollment_status,
        r.observed_at,
        r.source
    -- `span` (the same on both sides) makes this a hash join with the
    -- condition as its filter, holding the one snapshot day (as in
    -- latest_reports.sql).
    FROM (SELECT *, 1 AS span FROM snapshot_days) s
    JOIN (SELECT *, 1 AS span FROM day_end_keyed_reports) r
        ON r.span = s.span AND r.observed_at < s.day_end
),
newest AS (
    SELECT device_id, max(observed_at) AS observed_at
    FROM of_day
    GROUP BY device_id
),
-- The reports at each device's newest time, device by device, the
-- greatest report_id first: a report is the latest when the one before it
-- is another device's.
picked AS (
    SELECT
        r.*,
        lag(r.device_id) OVER (ORDER BY r.device_id, r.report_id DESC) AS previous_device
    FROM newest n
    JOIN of_day r ON r.device_id = n.device_id AND r.observed_at = n.observed_at
)
-- device_platforms first: the side a join holds (at most a row per
-- device known from exports).
SELECT
    r.day,
    r.day_end,
    r.report_id,
    r.device_id,
    r.source_device_id,
    r.device_name,
    CASE
        WHEN r.source IS NULL THEN r.os_platform
        ELSE coalesce(p.os_platform, r.os_platform)
    END AS os_platform,
    r.managed_by,
    r.enrollment_status,
    r.observed_at,
    r.observed_at < r.stale_before AS stale,
    r.source
FROM device_platforms p
RIGHT JOIN (SELECT * FROM picked WHERE previous_device IS DISTINCT FROM device_id) r
    ON p.device_id = r.device_id
