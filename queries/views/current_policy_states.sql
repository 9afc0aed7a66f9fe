-- current_policy_states: each device's current policy states, one row per
-- (day, device, policy). For a device whose latest report is an agent's:
-- the policies listed in that report, nothing else (a policy missing from
-- the latest report is no longer targeted at the device, whatever older
-- reports said); should a report list one policy twice, the entry with the
-- worse state counts (Error, Conflict, Pending, Succeeded, NotApplicable, in
-- that order), with its own name and type; among equal states, the greatest
-- name, then type. For a device whose latest report was made from an Intune
-- export: the newest exported status of each of its policies
-- (current_export_policy_states).
CREATE VIEW current_policy_states AS
SELECT day, device_id, stale, observed_at, report_id, policy_id, policy_name, policy_type, state
FROM (
    SELECT
        l.day,
        l.device_id,
        l.stale,
        l.observed_at,
        l.report_id,
        p.policy_id,
        p.policy_name,
        p.policy_type,
        p.state,
        -- Each day's entries in device and policy order, the one that
        -- counts first: an entry counts when the one before it is of
        -- another device or policy. (A window per day: a window per
        -- device and policy costs DataFusion far more, as each holds a
        -- few rows.)
        lag(l.device_id) OVER entries AS previous_device,
        lag(p.policy_id) OVER entries AS previous_policy
    FROM latest_reports l
    JOIN day_end_policy_states p
        ON p.report_id = l.report_id
        AND p.device_id = l.source_device_id
        AND p.observed_at = l.observed_at
    WHERE l.source IS NULL
    WINDOW entries AS (
        PARTITION BY l.day
        ORDER BY
            l.device_id,
            p.policy_id,
            CASE p.state
                WHEN 'Error' THEN 1
                WHEN 'Conflict' THEN 2
                WHEN 'Pending' THEN 3
                WHEN 'Succeeded' THEN 4
                ELSE 5
            END,
            p.policy_name DESC,
            p.policy_type DESC
    )
) ranked
WHERE (previous_device IS DISTINCT FROM device_id) OR (previous_policy IS DISTINCT FROM policy_id)
UNION ALL
SELECT
    l.day,
    l.device_id,
    l.stale,
    e.observed_at,
    e.report_id,
    e.policy_id,
    e.policy_name,
    e.policy_type,
    e.state
FROM latest_reports l
JOIN current_export_policy_states e ON e.day = l.day AND e.device_id = l.device_id
WHERE l.source IS NOT NULL
