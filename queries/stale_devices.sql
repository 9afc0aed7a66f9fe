-- stale_devices: devices whose latest report is older than --stale-days, with how long they have been silent.
-- days_since is the whole days from the latest report to the end of the
-- as-of day, rounded down.
-- device_status has one row per latest report; this needs no compliance.
SELECT
    device_id,
    device_name,
    os_platform,
    observed_at AS last_observed_at,
    (arrow_cast(day_end, 'Int64') - arrow_cast(observed_at, 'Int64')) / 86400000000 AS days_since
FROM latest_reports
WHERE stale
ORDER BY last_observed_at, device_id
