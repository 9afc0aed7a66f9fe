-- inventory_status: each device to account for in onboarding, as of the
-- snapshot day. First the machines of the Defender machine list: each by its
-- newest row (greatest observed_at, then row_id) observed before the end of
-- the day; a machine merged into another (machine_keys) is that other, so
-- it is left out; an excluded machine (isExcluded) is kept with `excluded`
-- set, for the queries to report apart. Then the devices Intune knows (its
-- device inventory, DefenderAgents) that match no machine of the list
-- (device_keys): onboarded only when DefenderAgents' WDATPOnboardingState
-- says so, managed by Intune, their platform the inventory's OS family.
-- supported: a platform security settings management supports (Windows
-- client and Server 2012 R2 or later, macOS, Linux) and not marked
-- `Unsupported` by Defender; onboarded: onboardingStatus `Onboarded`;
-- reporting: healthStatus `Active` and lastSeen within --stale-days (for a
-- device only Intune knows: its newest check-in within --stale-days).
-- NOT EXISTS rather than NOT IN: the same answer (the keys are never NULL),
-- with a plain anti join, which a Ballista cluster runs like any other.
CREATE VIEW inventory_status AS
WITH listed AS (
    SELECT
        m.*,
        s.stale_before,
        row_number() OVER (
            PARTITION BY m.machine_id
            ORDER BY m.observed_at DESC, m.row_id DESC
        ) AS recency
    FROM snapshot_days s
    CROSS JOIN device_inventory m
    WHERE m.observed_at < s.day_end
),
-- Intune's device inventory (the platform) and DefenderAgents (the
-- onboarding state), each keyed to its device; read apart so that no
-- branch of a union is a constant NULL column that the planner prunes to
-- an empty plan (which a Ballista cluster never finishes).
inventory_rows AS (
    SELECT
        coalesce(k.device_key, 'intune:' || x.intune_device_id) AS device_id,
        x.device_name,
        x.os_platform,
        x.observed_at,
        s.stale_before
    FROM device_keys k
    RIGHT JOIN (snapshot_days s CROSS JOIN intune_devices x) ON k.intune_id = x.intune_device_id
    WHERE x.observed_at < s.day_end
),
agent_rows AS (
    SELECT
        coalesce(k.device_key, 'intune:' || x.device_id) AS device_id,
        x.device_name,
        x.wdatp_onboarded AS onboarded,
        x.observed_at,
        s.stale_before
    FROM device_keys k
    RIGHT JOIN (snapshot_days s CROSS JOIN antivirus_health x) ON k.intune_id = x.device_id
    WHERE x.observed_at < s.day_end
        AND (x.source IS NULL OR x.source = 'intune:DefenderAgents')
),
intune_known AS (
    SELECT device_id, device_name, observed_at, stale_before FROM inventory_rows
    UNION ALL
    SELECT device_id, device_name, observed_at, stale_before FROM agent_rows
),
intune_only AS (
    SELECT device_id, max(observed_at) AS last_seen, max(stale_before) AS stale_before
    FROM intune_known i
    WHERE NOT EXISTS (SELECT 1 FROM listed l WHERE l.machine_id = i.device_id)
    GROUP BY device_id
),
newest_name AS (
    SELECT device_id, device_name,
        row_number() OVER (PARTITION BY device_id ORDER BY observed_at DESC, device_name) AS pick
    FROM intune_known WHERE device_name IS NOT NULL
),
newest_platform AS (
    SELECT device_id, os_platform,
        row_number() OVER (PARTITION BY device_id ORDER BY observed_at DESC, os_platform) AS pick
    FROM inventory_rows WHERE os_platform IS NOT NULL
),
newest_onboarding AS (
    SELECT device_id, onboarded,
        row_number() OVER (PARTITION BY device_id ORDER BY observed_at DESC, onboarded) AS pick
    FROM agent_rows WHERE onboarded IS NOT NULL
)
SELECT
    machine_id,
    computer_dns_name,
    coalesce(os_platform, 'Unknown') AS os_platform,
    onboarding_status,
    health_status,
    managed_by,
    managed_by_status,
    last_seen,
    coalesce(onboarding_status = 'Onboarded', false) AS onboarded,
    coalesce(
        os_platform IN (
            'Windows', 'Windows10', 'Windows11', 'WindowsServer2012R2', 'WindowsServer2016',
            'WindowsServer2019', 'WindowsServer2022', 'WindowsServer2025', 'macOS', 'Linux'
        )
        AND coalesce(onboarding_status, '') <> 'Unsupported',
        false
    ) AS supported,
    coalesce(health_status = 'Active' AND last_seen >= stale_before, false) AS reporting,
    coalesce(is_excluded, false) AS excluded,
    exclusion_reason,
    'machine list' AS known_from
FROM listed l
WHERE recency = 1
    AND NOT EXISTS (SELECT 1 FROM machine_keys k WHERE k.machine_id = l.machine_id)
UNION ALL
SELECT
    d.device_id AS machine_id,
    n.device_name AS computer_dns_name,
    coalesce(p.os_platform, 'Unknown') AS os_platform,
    CASE WHEN coalesce(o.onboarded, false) THEN 'Onboarded' END AS onboarding_status,
    CAST(NULL AS VARCHAR) AS health_status,
    'Intune' AS managed_by,
    CAST(NULL AS VARCHAR) AS managed_by_status,
    d.last_seen,
    coalesce(o.onboarded, false) AS onboarded,
    coalesce(p.os_platform IN ('Windows', 'macOS', 'Linux'), false) AS supported,
    d.last_seen >= d.stale_before AS reporting,
    false AS excluded,
    CAST(NULL AS VARCHAR) AS exclusion_reason,
    'Intune' AS known_from
FROM intune_only d
LEFT JOIN newest_name n ON n.device_id = d.device_id AND n.pick = 1
LEFT JOIN newest_platform p ON p.device_id = d.device_id AND p.pick = 1
LEFT JOIN newest_onboarding o ON o.device_id = d.device_id AND o.pick = 1
