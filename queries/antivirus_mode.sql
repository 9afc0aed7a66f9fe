-- antivirus_mode: Defender Antivirus by mode (Active, Passive, ...) from Defender for Endpoint's antivirus health API (deviceavinfo), with how many devices have signatures, engine or platform out of date, or a failed scan.
-- Each matched device (a machine merged into another is that other) counts
-- once, by its newest deviceavinfo row observed before the end of the as-of
-- day (then the greatest row_id). devices counts those within
-- --stale-days; stale ones are counted apart. An up-to-date flag of
-- `Unknown` is not counted as out of date.
WITH keyed AS (
    SELECT
        coalesce(k.device_key, a.device_id) AS device_id,
        a.observed_at,
        a.row_id,
        a.av_mode,
        a.av_mode_name,
        a.signature_up_to_date,
        a.engine_up_to_date,
        a.platform_up_to_date,
        a.quick_scan_result,
        a.full_scan_result,
        a.observed_at < s.stale_before AS stale
    FROM machine_keys k
    RIGHT JOIN (snapshot_days s CROSS JOIN antivirus_health a) ON k.machine_id = a.device_id
    WHERE a.source = 'mde:deviceavinfo' AND a.observed_at < s.day_end
),
latest AS (
    SELECT
        *,
        row_number() OVER (PARTITION BY device_id ORDER BY observed_at DESC, row_id DESC) AS recency
    FROM keyed
)
SELECT
    av_mode AS av_mode_code,
    av_mode_name AS av_mode,
    sum(CASE WHEN NOT stale THEN 1 ELSE 0 END) AS devices,
    sum(CASE WHEN NOT stale AND signature_up_to_date = false THEN 1 ELSE 0 END) AS signatures_out_of_date,
    sum(CASE WHEN NOT stale AND engine_up_to_date = false THEN 1 ELSE 0 END) AS engine_out_of_date,
    sum(CASE WHEN NOT stale AND platform_up_to_date = false THEN 1 ELSE 0 END) AS platform_out_of_date,
    sum(CASE WHEN NOT stale AND (quick_scan_result = 'Failed' OR full_scan_result = 'Failed') THEN 1 ELSE 0 END) AS scan_failed,
    sum(CASE WHEN stale THEN 1 ELSE 0 END) AS stale
FROM latest
WHERE recency = 1
GROUP BY av_mode, av_mode_name
ORDER BY av_mode_code NULLS LAST, av_mode
