-- exceptions: the exceptions in force (the newest load), each active or expired as of the as-of day, with the non-stale devices whose failures it matches.
-- status: active when the as-of day is on or before `expires` (inclusive),
-- expired after. devices_matched counts non-stale devices with a current
-- failing setting (Error, Conflict) or, for an exception with a blank
-- setting_id, a failing policy state (Error, Conflict, Pending) that the
-- exception's scope matches (blank matches any), whether or not it is
-- still active: an expired one shows what it no longer covers.
WITH failing AS (
    SELECT device_id, policy_id, setting_id
    FROM current_setting_states
    WHERE NOT stale AND state IN ('Error', 'Conflict')
    UNION ALL
    SELECT device_id, policy_id, arrow_cast(NULL, 'Utf8') AS setting_id
    FROM current_policy_states
    WHERE NOT stale AND state IN ('Error', 'Conflict', 'Pending')
)
SELECT
    e.line,
    e.device_id,
    e.policy_id,
    e.setting_id,
    e.reason,
    e.owner,
    e.expires,
    CASE WHEN p.as_of <= e.expires THEN 'active' ELSE 'expired' END AS status,
    count(DISTINCT f.device_id) AS devices_matched
FROM current_exceptions e
CROSS JOIN parameters p
LEFT JOIN failing f
    ON (e.device_id IS NULL OR e.device_id = f.device_id)
    AND (e.policy_id IS NULL OR e.policy_id = f.policy_id)
    AND (e.setting_id IS NULL OR e.setting_id = f.setting_id)
GROUP BY e.line, e.device_id, e.policy_id, e.setting_id, e.reason, e.owner, e.expires, p.as_of
ORDER BY status, e.expires, e.line
