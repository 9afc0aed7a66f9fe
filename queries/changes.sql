-- changes: what changed since the day before: devices that became noncompliant, were fixed, are new or went stale, and settings newly failing.
-- Compares the snapshot as of the as-of day with the snapshot as of the day
-- before, both with the same --stale-days. A device's status is `stale` or
-- its compliance. became_noncompliant: noncompliant now, something else the
-- day before; fixed: noncompliant the day before, now compliant or
-- no_policy (going stale is not a fix); new_device: no report before the end
-- of the day before; gone_stale: stale now, not the day before;
-- setting_newly_failing: a (policy, setting) in Error or Conflict on some
-- non-stale device now and on none the day before (device columns empty,
-- `current` says on how many devices).
-- posture: the as-of day and the day before
WITH status AS (
    SELECT
        d.day,
        d.day = p.as_of AS is_today,
        d.device_id,
        d.device_name,
        CASE WHEN d.stale THEN 'stale' ELSE d.compliance END AS status
    -- parameters (one row) first: a cross join holds its first side.
    FROM parameters p
    CROSS JOIN device_status d
),
devices AS (
    -- one pass over both days (a self-join would compute the views twice)
    SELECT
        device_id,
        max(CASE WHEN is_today THEN device_name END) AS device_name,
        max(CASE WHEN NOT is_today THEN status END) AS previous,
        max(CASE WHEN is_today THEN status END) AS current
    FROM status
    GROUP BY device_id
),
device_changes AS (
    SELECT
        CASE
            WHEN previous IS NULL THEN 'new_device'
            WHEN current = 'noncompliant' AND previous <> 'noncompliant' THEN 'became_noncompliant'
            WHEN previous = 'noncompliant' AND current IN ('compliant', 'no_policy') THEN 'fixed'
            WHEN current = 'stale' AND previous <> 'stale' THEN 'gone_stale'
        END AS change,
        device_id,
        device_name,
        previous,
        current
    FROM devices
),
failing AS (
    SELECT
        c.policy_id,
        c.setting_id,
        count(DISTINCT CASE WHEN c.day = p.as_of THEN c.device_id END) AS today,
        count(DISTINCT CASE WHEN c.day < p.as_of THEN c.device_id END) AS yesterday
    FROM parameters p
    CROSS JOIN current_failing_settings c
    WHERE NOT c.stale AND c.state IN ('Error', 'Conflict')
    GROUP BY c.policy_id, c.setting_id
),
setting_changes AS (
    SELECT
        'setting_newly_failing' AS change,
        arrow_cast(NULL, 'Utf8') AS device_id,
        arrow_cast(NULL, 'Utf8') AS device_name,
        policy_id,
        setting_id,
        'not failing' AS previous,
        arrow_cast(concat('failing on ', CAST(today AS VARCHAR), ' device(s)'), 'Utf8') AS current
    FROM failing
    WHERE today > 0 AND yesterday = 0
),
all_changes AS (
    SELECT
        change,
        device_id,
        device_name,
        arrow_cast(NULL, 'Utf8') AS policy_id,
        arrow_cast(NULL, 'Utf8') AS setting_id,
        previous,
        current
    FROM device_changes
    WHERE change IS NOT NULL
    UNION ALL
    SELECT change, device_id, device_name, policy_id, setting_id, previous, current
    FROM setting_changes
)
SELECT change, device_id, device_name, policy_id, setting_id, previous, current
FROM all_changes
ORDER BY
    CASE change
        WHEN 'became_noncompliant' THEN 1
        WHEN 'fixed' THEN 2
        WHEN 'new_device' THEN 3
        WHEN 'gone_stale' THEN 4
        ELSE 5
    END,
    device_id,
    policy_id,
    setting_id
