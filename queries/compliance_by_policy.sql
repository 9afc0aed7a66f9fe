-- compliance_by_policy: per policy, how its non-stale devices stand, with stale devices counted apart.
-- One row per policy listed in any device's latest report (stale devices'
-- included). devices: non-stale devices listing it, split by state;
-- stale: stale devices listing it; compliance_pct: succeeded out of
-- (devices - not_applicable). Name and type come from the newest (then
-- greatest report_id) latest report that lists the policy.
WITH named AS (
    SELECT
        policy_id,
        policy_name,
        policy_type,
        row_number() OVER (
            PARTITION BY policy_id
            ORDER BY observed_at DESC, report_id DESC
        ) AS recency
    FROM current_policy_states
),
counted AS (
    SELECT
        policy_id,
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
    c.policy_id,
    n.policy_name,
    n.policy_type,
    c.devices,
    c.succeeded,
    c.error,
    c.conflict,
    c.pending,
    c.not_applicable,
    c.stale,
    pct(c.succeeded, c.devices - c.not_applicable) AS compliance_pct
FROM counted c
JOIN named n ON n.policy_id = c.policy_id AND n.recency = 1
ORDER BY compliance_pct ASC NULLS LAST, c.policy_id
