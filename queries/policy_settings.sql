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
)
SELECT
    c.policy_id,
    c.setting_id,
    n.setting_name,
    count(DISTINCT c.device_id) AS devices,
    count(DISTINCT CASE WHEN c.state = 'Succeeded' THEN c.device_id END) AS succeeded,
    count(DISTINCT CASE WHEN c.state = 'Error' THEN c.device_id END) AS error,
    count(DISTINCT CASE WHEN c.state = 'Conflict' THEN c.device_id END) AS conflict,
    count(DISTINCT CASE WHEN c.state = 'Pending' THEN c.device_id END) AS pending,
    count(DISTINCT CASE WHEN c.state = 'NotApplicable' THEN c.device_id END) AS not_applicable
FROM current c
JOIN named n ON n.policy_id = c.policy_id AND n.setting_id = c.setting_id AND n.recency = 1
GROUP BY c.policy_id, c.setting_id, n.setting_name
ORDER BY c.policy_id, c.setting_id
