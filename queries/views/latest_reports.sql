-- latest_reports: each device's latest report as of each snapshot day.
-- The latest report is the one with the greatest observed_at before the end
-- of the day (observed_at < day + 1 at 00:00Z); on a tie, the greatest
-- report_id in byte order. `stale` says whether that report is older than
-- the staleness cut-off (observed_at < end of day - stale_days * 24h).
--
-- A snapshot always ends at a UTC midnight, so its latest report is the
-- last report of some UTC day of the device (last_reports_of_day, one per
-- device and day it reported): each snapshot day gets the device's last
-- such report on or before it. This keeps a 30-day trend from comparing
-- every report with every day.
--
-- Devices are those of keyed_reports: an Intune export's report counts for
-- the machine it is matched to; source_device_id is the id its rows carry.
-- `source` is NULL when the latest report is an agent's; when it was made
-- from an export (one policy's status), current_policy_states takes the
-- device's newest status of every policy instead, and the platform is the
-- most specific one known for the device (device_platforms).
-- last_reports_of_day reads day_end_keyed_reports, keyed_reports cut to
-- what it needs: for a day with a valid compacted snapshot, only each
-- device's last report of that day (docs/compaction.md); the same reports
-- win either way. A session whose snapshot has one day creates this view
-- from latest_reports_one_day.sql instead (the same rows, more cheaply):
-- change both together.
CREATE VIEW latest_reports AS
WITH of_day AS (
    SELECT
        s.day,
        s.day_end,
        s.stale_before,
        r.*
    -- `span` (the same on both sides) makes this a hash join with the
    -- conditions as its filter: written as a join on the conditions alone,
    -- DataFusion runs it as a nested loop, several times slower.
    FROM (SELECT *, 1 AS span FROM snapshot_days) s
    JOIN (SELECT *, 1 AS span FROM last_reports_of_day) r
        ON r.span = s.span
        AND r.report_day <= s.day
        AND (r.next_report_day IS NULL OR r.next_report_day > s.day)
)
-- device_platforms is written first: a join holds its first side in
-- memory, and that side has at most a row per device, the other a row per
-- device and day.
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
RIGHT JOIN of_day r ON p.device_id = r.device_id
