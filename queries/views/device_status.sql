-- device_status: each device's compliance as of each snapshot day.
-- compliant: every current policy state is Succeeded or NotApplicable and at
-- least one is Succeeded; noncompliant: at least one is Error, Conflict or
-- Pending; no_policy: no current policy state, or only NotApplicable ones.
-- Stale devices keep their category here; queries count them apart.
CREATE VIEW device_status AS
SELECT
    l.day,
    l.day_end,
    l.device_id,
    l.device_name,
    l.os_platform,
    l.managed_by,
    l.enrollment_status,
    l.report_id,
    l.observed_at AS last_observed_at,
    l.stale,
    CASE
        WHEN coalesce(c.failing, 0) > 0 THEN 'noncompliant'
        WHEN coalesce(c.succeeded, 0) > 0 THEN 'compliant'
        ELSE 'no_policy'
    END AS compliance
-- The counts are the join's first side (held in memory): a narrow row per
-- device, where the reports' side is a wide one.
FROM (
    SELECT
        day,
        device_id,
        sum(CASE WHEN state IN ('Error', 'Conflict', 'Pending') THEN 1 ELSE 0 END) AS failing,
        sum(CASE WHEN state = 'Succeeded' THEN 1 ELSE 0 END) AS succeeded
    FROM current_policy_states
    GROUP BY day, device_id
) c
RIGHT JOIN latest_reports l ON c.device_id = l.device_id AND c.day = l.day
