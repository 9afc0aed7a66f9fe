-- current_policy_states: the policies listed in each device's latest report,
-- one row per (day, device, policy). A policy missing from the latest report
-- is no longer targeted at the device, whatever older reports said. Should a
-- report list one policy twice, the worse state counts
-- (Error, Conflict, Pending, Succeeded, NotApplicable, in that order).
CREATE VIEW current_policy_states AS
SELECT
    l.day,
    l.device_id,
    l.stale,
    l.observed_at,
    l.report_id,
    p.policy_id,
    max(p.policy_name) AS policy_name,
    max(p.policy_type) AS policy_type,
    CASE min(
        CASE p.state
            WHEN 'Error' THEN 1
            WHEN 'Conflict' THEN 2
            WHEN 'Pending' THEN 3
            WHEN 'Succeeded' THEN 4
            ELSE 5
        END)
        WHEN 1 THEN 'Error'
        WHEN 2 THEN 'Conflict'
        WHEN 3 THEN 'Pending'
        WHEN 4 THEN 'Succeeded'
        ELSE 'NotApplicable'
    END AS state
FROM latest_reports l
JOIN policy_states p
    ON p.report_id = l.report_id
    AND p.device_id = l.device_id
    AND p.observed_at = l.observed_at
GROUP BY l.day, l.device_id, l.stale, l.observed_at, l.report_id, p.policy_id
