-- last_reports_of_day: each device's last report of each UTC day it
-- reported (the greatest observed_at, then report_id), with the day of its
-- next report (NULL for its newest). latest_reports gives each snapshot day
-- the device's last such report on or before it. It does not depend on the
-- snapshot days, so a bundle computes it once for the as-of day, the day
-- before and the trend.
--
-- A report is its device's last of a day when the device's next report
-- (by observed_at, then report_id) is on a later day, or there is none;
-- the day of that next report is then the device's next report day (the
-- `date` partition is the UTC day of observed_at). One window per device:
-- ranking within each device and day instead costs a window partition per
-- device and day, which DataFusion pays for dearly.
CREATE VIEW last_reports_of_day AS
SELECT *
FROM (
    SELECT
        report_id,
        device_id,
        source_device_id,
        device_name,
        os_platform,
        managed_by,
        enrollment_status,
        observed_at,
        source,
        CAST(date AS DATE) AS report_day,
        lead(CAST(date AS DATE)) OVER (
            PARTITION BY device_id
            ORDER BY observed_at, report_id
        ) AS next_report_day
    FROM day_end_keyed_reports
) ordered
WHERE next_report_day IS NULL OR next_report_day > report_day
