-- firewall_status: devices by Windows Firewall status (FirewallStatus exports): enabled, disabled, limited, temporarily disabled, not applicable.
-- Each device counts once (device_keys), by its newest row observed before
-- the end of the as-of day (then the greatest row_id). devices counts
-- devices whose newest row is within --stale-days; stale ones are counted
-- apart.
WITH keyed AS (
    SELECT
        coalesce(k.device_key, 'intune:' || f.device_id) AS device_key,
        f.observed_at,
        f.row_id,
        f.firewall_status,
        f.firewall_status_name,
        f.observed_at < s.stale_before AS stale
    FROM device_keys k
    RIGHT JOIN (snapshot_days s CROSS JOIN firewall_status f) ON k.intune_id = f.device_id
    WHERE f.observed_at < s.day_end
),
latest AS (
    SELECT
        *,
        row_number() OVER (PARTITION BY device_key ORDER BY observed_at DESC, row_id DESC) AS recency
    FROM keyed
)
SELECT
    firewall_status AS firewall_status_code,
    firewall_status_name AS firewall_status,
    sum(CASE WHEN NOT stale THEN 1 ELSE 0 END) AS devices,
    sum(CASE WHEN stale THEN 1 ELSE 0 END) AS stale
FROM latest
WHERE recency = 1
GROUP BY firewall_status, firewall_status_name
ORDER BY firewall_status_code
