-- device_platforms: the platform of a device known from exports, which name
-- only the platform a policy targets (UnifiedPolicyPlatformType: `Windows10`
-- meaning "Windows 10 and later"). The most specific platform any source
-- gives for the matched device, as of the snapshot: its newest agent
-- report's, else the machine list's osPlatform (its newest row), else the
-- Intune device inventory's OS family (`Windows`, `macOS`, `Linux`, ...).
-- latest_reports uses it for a device whose latest report was made from an
-- export; with none of these, the export's own family stands.
CREATE VIEW device_platforms AS
-- Only the devices known from Intune (device_keys) can have a report made
-- from an export, so the agent reports read are theirs alone; the join
-- holds those devices (its first side), not the reports. `span` makes the
-- cut a hash join with a filter rather than a nested loop (as in
-- latest_reports).
WITH cut AS (
    SELECT max(day_end) AS day_end, 1 AS span FROM snapshot_days
),
sources AS (
    SELECT r.device_id, r.os_platform, r.observed_at, 1 AS rank
    FROM (SELECT DISTINCT device_key FROM device_keys) k
    JOIN day_end_keyed_reports r ON r.device_id = k.device_key
    WHERE r.source IS NULL
    UNION ALL
    SELECT coalesce(k.device_key, m.machine_id) AS device_id, m.os_platform, m.observed_at, 2 AS rank
    FROM machine_keys k
    RIGHT JOIN device_inventory m ON k.machine_id = m.machine_id
    WHERE m.os_platform IS NOT NULL
    UNION ALL
    SELECT
        coalesce(k.device_key, 'intune:' || d.intune_device_id) AS device_id,
        d.os_platform,
        d.observed_at,
        3 AS rank
    FROM device_keys k
    RIGHT JOIN intune_devices d ON k.intune_id = d.intune_device_id
    WHERE d.os_platform IS NOT NULL
),
known AS (
    SELECT s.device_id, s.os_platform, s.observed_at, s.rank
    FROM cut
    JOIN (SELECT *, 1 AS span FROM sources) s
        ON s.span = cut.span AND s.observed_at < cut.day_end
)
SELECT device_id, os_platform
FROM (
    SELECT
        device_id,
        os_platform,
        row_number() OVER (
            PARTITION BY device_id
            ORDER BY rank, observed_at DESC, os_platform
        ) AS pick
    FROM known
) ranked
WHERE pick = 1
