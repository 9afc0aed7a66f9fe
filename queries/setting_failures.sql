-- setting_failures: which settings fail (Error or Conflict) on how many non-stale devices, by error code.
-- One row per (policy, setting, state, error code) among the current setting
-- states of non-stale devices; devices counts distinct devices; the setting
-- name is the one in the newest such row; an absent error code is empty.
-- One pass over the failing rows: the name is first_value in that order.
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
)
SELECT
    policy_id,
    setting_id,
    first_value(setting_name ORDER BY observed_at DESC, report_id DESC, setting_name DESC NULLS LAST) AS setting_name,
    state,
    error_code,
    count(DISTINCT device_id) AS devices
FROM failing
GROUP BY policy_id, setting_id, state, error_code
ORDER BY devices DESC, policy_id, setting_id, state, error_code
