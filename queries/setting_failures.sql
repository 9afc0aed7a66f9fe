-- setting_failures: which settings fail (Error or Conflict) on how many non-stale devices, by error code.
-- One row per (policy, setting, state, error code) among the current setting
-- states of non-stale devices; devices counts distinct devices; the setting
-- name is the one in the newest such row; an absent error code is empty.
WITH failing AS (
    SELECT
        policy_id,
        setting_id,
        setting_name,
        state,
        coalesce(error_code, '') AS error_code,
        device_id,
        observed_at,
        report_id
    FROM current_setting_states
    WHERE NOT stale AND state IN ('Error', 'Conflict')
),
named AS (
    SELECT
        policy_id,
        setting_id,
        state,
        error_code,
        setting_name,
        row_number() OVER (
            PARTITION BY policy_id, setting_id, state, error_code
            ORDER BY observed_at DESC, report_id DESC, setting_name DESC NULLS LAST
        ) AS recency
    FROM failing
),
counted AS (
    SELECT policy_id, setting_id, state, error_code, count(DISTINCT device_id) AS devices
    FROM failing
    GROUP BY policy_id, setting_id, state, error_code
)
SELECT
    c.policy_id,
    c.setting_id,
    n.setting_name,
    c.state,
    c.error_code,
    c.devices
FROM counted c
JOIN named n
    ON n.policy_id = c.policy_id
    AND n.setting_id = c.setting_id
    AND n.state = c.state
    AND n.error_code = c.error_code
    AND n.recency = 1
ORDER BY c.devices DESC, c.policy_id, c.setting_id, c.state, c.error_code
