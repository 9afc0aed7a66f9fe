-- policy_settings: per policy and setting, how the non-stale devices listing it stand (succeeded, error, conflict, pending, not applicable).
-- From the current setting states of non-stale devices' latest reports.
-- setting_name is that of the newest row naming the setting.
WITH current AS (
    SELECT policy_id, setting_id, setting_name, state, device_id, observed_at, report_id
    FROM current_setting_states
    WHERE NOT stale
),
-- The newest row naming each setting: an aggregate per setting (a few
-- hundred groups), not a window that sorts every row.
named AS (
    SELECT
        policy_id,
        setting_id,
        first_value(
            setting_name ORDER BY observed_at DESC, report_id DESC, setting_name DESC NULLS LAST
        ) AS setting_name
    FROM current
    GROUP BY policy_id, setting_id
),
-- Each setting's rows in device and state order: a device counts once for
-- the setting (its first row), and once in each state it has for it (its
-- first row in that state), should it list the setting twice. A window
-- per setting, not an aggregate per setting and device: that one holds a
-- group for nearly every row and costs several times more.
ordered AS (
    SELECT
        policy_id,
        setting_id,
        state,
        (previous_device IS DISTINCT FROM device_id) AS new_device,
        (previous_device IS DISTINCT FROM device_id) OR (previous_state IS DISTINCT FROM state) AS new_state
    FROM (
        SELECT
            policy_id,
            setting_id,
            device_id,
            state,
            lag(device_id) OVER w AS previous_device,
            lag(state) OVER w AS previous_state
        FROM current
        WINDOW w AS (PARTITION BY policy_id, setting_id ORDER BY device_id, state)
    ) o
),
counted AS (
    SELECT
        policy_id,
        setting_id,
        count(CASE WHEN new_device THEN 1 END) AS devices,
        count(CASE WHEN new_state AND state = 'Succeeded' THEN 1 END) AS succeeded,
        count(CASE WHEN new_state AND state = 'Error' THEN 1 END) AS error,
        count(CASE WHEN new_state AND state = 'Conflict' THEN 1 END) AS conflict,
        count(CASE WHEN new_state AND state = 'Pending' THEN 1 END) AS pending,
        count(CASE WHEN new_state AND state = 'NotApplicable' THEN 1 END) AS not_applicable
    FROM ordered
    GROUP BY policy_id, setting_id
)
SELECT
    c.policy_id,
    c.setting_id,
    n.setting_name,
    c.devices,
    c.succeeded,
    c.error,
    c.conflict,
    c.pending,
    c.not_applicable
FROM named n
JOIN counted c ON n.policy_id = c.policy_id AND n.setting_id = c.setting_id
ORDER BY c.policy_id, c.setting_id
