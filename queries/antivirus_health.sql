-- antivirus_health: Defender Antivirus agents by device state, with how many have real-time protection off, signatures overdue, tamper protection off or malware protection off (DefenderAgents exports).
-- Each device counts once (device_keys: an Intune device id matched to its
-- machine), by its newest row observed before the end of the as-of day (then
-- the greatest row_id). device_state is the decoded DeviceState flag value
-- (`clean`, or its flags; `unknown` when the export left it empty). devices
-- counts devices whose newest row is within --stale-days; stale ones are
-- counted apart. A flag the export left empty is not counted. Defender for
-- Endpoint's own antivirus health (deviceavinfo) is antivirus_mode's.
WITH keyed AS (
    SELECT
        coalesce(k.device_key, 'intune:' || a.device_id) AS device_key,
        a.observed_at,
        a.row_id,
        a.device_state,
        a.device_state_names,
        a.real_time_protection_enabled,
        a.signature_update_overdue,
        a.tamper_protection_enabled,
        a.malware_protection_enabled,
        a.observed_at < s.stale_before AS stale
    FROM device_keys k
    RIGHT JOIN (snapshot_days s CROSS JOIN antivirus_health a) ON k.intune_id = a.device_id
    WHERE a.observed_at < s.day_end
        AND (a.source IS NULL OR a.source = 'intune:DefenderAgents')
),
latest AS (
    SELECT
        *,
        row_number() OVER (PARTITION BY device_key ORDER BY observed_at DESC, row_id DESC) AS recency
    FROM keyed
)
SELECT
    device_state AS device_state_code,
    coalesce(device_state_names, 'unknown') AS device_state,
    sum(CASE WHEN NOT stale THEN 1 ELSE 0 END) AS devices,
    sum(CASE WHEN NOT stale AND real_time_protection_enabled = false THEN 1 ELSE 0 END) AS real_time_protection_off,
    sum(CASE WHEN NOT stale AND signature_update_overdue = true THEN 1 ELSE 0 END) AS signatures_overdue,
    sum(CASE WHEN NOT stale AND tamper_protection_enabled = false THEN 1 ELSE 0 END) AS tamper_protection_off,
    sum(CASE WHEN NOT stale AND malware_protection_enabled = false THEN 1 ELSE 0 END) AS malware_protection_off,
    sum(CASE WHEN stale THEN 1 ELSE 0 END) AS stale
FROM latest
WHERE recency = 1
GROUP BY device_state, device_state_names
ORDER BY device_state_code NULLS LAST
