-- policy_settings: per policy and setting, how the non-stale devices listing it stand (succeeded, error, conflict, pending, not applicable).
-- From the current setting states of non-stale devices' latest reports.
-- setting_name is that of the newest row naming the setting.
WITH current AS (
    SELECT policy_id, setting_id, setting_name, state, device_id, observed_at, report_id
    FROM current_setting_states
    WHERE NOT stale
),
named AS (
    SELECT
        policy_id,
        setting_id,
        setting_name,
        row_number() OVER (
            PARTITION BY policy_id, setting_id
            ORDER BY observed_at DESC, report_id DESC, setting_name DESC NULLS LAST
        ) AS recency
    FROM current
),
-- One row per device first (an aggregate, which can spill), then the
-- counts; `named` (a row per setting) is the join's first side, the one
-- held in memory.
per_device AS (
    SELECT
        policy_id,
        setting_id,
        device_id,
        max(CASE WHEN state = 'Succeeded' THEN 1 ELSE 0 END) AS succeeded,
        max(CASE WHEN state = 'Error' THEN 1 ELSE 0 END) AS error,
        max(CASE WHEN state = 'Conflict' THEN 1 ELSE 0 END) AS conflict,
        max(CASE WHEN state = 'Pending' THEN 1 ELSE 0 END) AS pending,
        max(CASE WHEN state = 'NotApplicable' THEN 1 ELSE 0 END) AS not_applicable
    FROM current
    GROUP BY policy_id, setting_id, device_id
)
SELECT
    c.policy_id,
    c.setting_id,
    n.setting_name,
    count(*) AS devices,
    count(CASE WHEN c.succeeded = 1 THEN 1 END) AS succeeded,
    count(CASE WHEN c.error = 1 THEN 1 END) AS error,
    count(CASE WHEN c.conflict = 1 THEN 1 END) AS conflict,
    count(CASE WHEN c.pending = 1 THEN 1 END) AS pending,
    count(CASE WHEN c.not_applicable = 1 THEN 1 END) AS not_applicable
FROM named n
JOIN per_device c ON n.policy_id = c.policy_id AND n.setting_id = c.setting_id AND n.recency = 1
GROUP BY c.policy_id, c.setting_id, n.setting_name
ORDER BY c.policy_id, c.setting_id
