-- device_detail: a device's current policy and setting states with their evidence (--device ID; every device without it).
-- From the device's latest report: one row per setting of each policy it
-- lists (a policy with no setting has one row with empty setting columns; a
-- device with no policy, one row with empty policy columns).
-- posture: device by device
SELECT
    d.device_id,
    d.device_name,
    d.os_platform,
    d.last_observed_at,
    d.stale,
    d.compliance,
    c.policy_id,
    c.policy_name,
    c.state AS policy_state,
    s.setting_id,
    s.setting_name,
    s.state AS setting_state,
    s.error_code,
    s.expected,
    s.actual
-- parameters (one row) first: a cross join holds its first side.
FROM parameters p
CROSS JOIN device_status d
LEFT JOIN current_policy_states c ON c.day = d.day AND c.device_id = d.device_id
LEFT JOIN current_setting_states s
    ON s.day = c.day
    AND s.device_id = c.device_id
    AND s.policy_id = c.policy_id
WHERE p.device_id IS NULL OR d.device_id = p.device_id
ORDER BY d.device_id, c.policy_id, s.setting_id, s.state
