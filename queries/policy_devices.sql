-- policy_devices: per policy, each device that lists it in its latest report, with its state and the evidence of its failing settings.
-- One row per failing setting (Error or Conflict) of the device under the
-- policy, with expected and actual values; a device with no failing setting
-- has one row with empty setting columns. stale says whether the device is
-- counted apart (compliance_by_policy's stale column).
SELECT
    c.policy_id,
    c.policy_name,
    c.device_id,
    d.device_name,
    d.os_platform,
    c.state,
    c.stale,
    c.observed_at AS last_observed_at,
    s.setting_id,
    s.setting_name,
    s.state AS setting_state,
    s.error_code,
    s.expected,
    s.actual
FROM current_policy_states c
JOIN device_status d ON d.day = c.day AND d.device_id = c.device_id
LEFT JOIN current_setting_states s
    ON s.day = c.day
    AND s.device_id = c.device_id
    AND s.policy_id = c.policy_id
    AND s.state IN ('Error', 'Conflict')
ORDER BY c.policy_id, c.stale, c.device_id, s.setting_id, s.state, s.error_code
