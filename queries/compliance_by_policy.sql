-- compliance_by_policy: per policy, how its non-stale devices stand, with stale devices counted apart.
-- One row per policy listed in any device's latest report (stale devices'
-- included). devices: non-stale devices listing it, split by state;
-- stale: stale devices listing it; compliance_pct: succeeded out of
-- (devices - not_applicable). Name and type come from the newest (then
-- greatest report_id) latest report that lists the policy.
-- One pass over current_policy_states: the name and type are first_value
-- in that order (one row per device and policy, so no ties).
WITH counted AS (
    SELECT
        policy_id,
        first_value(policy_name ORDER BY observed_at DESC, report_id DESC) AS policy_name,
        first_value(policy_type ORDER BY observed_at DESC, report_id DESC) AS policy_type,
        sum(CASE WHEN NOT stale THEN 1 ELSE 0 END) AS devices,
        sum(CASE WHEN NOT stale AND state = 'Succeeded' THEN 1 ELSE 0 END) AS succeeded,
        sum(CASE WHEN NOT stale AND state = 'Error' THEN 1 ELSE 0 END) AS error,
        sum(CASE WHEN NOT stale AND state = 'Conflict' THEN 1 ELSE 0 END) AS conflict,
        sum(CASE WHEN NOT stale AND state = 'Pending' THEN 1 ELSE 0 END) AS pending,
        sum(CASE WHEN NOT stale AND state = 'NotApplicable' THEN 1 ELSE 0 END) AS not_applicable,
        sum(CASE WHEN stale THEN 1 ELSE 0 END) AS stale
    FROM current_policy_states
    GROUP BY policy_id
)
SELECT
    policy_id,
    policy_name,
    policy_type,
    devices,
    succeeded,
    error,
    conflict,
    pending,
    not_applicable,
    stale,
    pct(succeeded, devices - not_applicable) AS compliance_pct
FROM counted
ORDER BY compliance_pct ASC NULLS LAST, policy_id
