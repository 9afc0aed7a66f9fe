-- policy_devices: per policy, each device that lists it in its latest report, with its state and the evidence of its failing settings.
-- One row per failing setting (Error or Conflict) of the device under the
-- policy, with expected and actual values; a device with no failing setting
-- has one row with empty setting columns. stale says whether the device is
-- counted apart (compliance_by_policy's stale column).
-- The failing settings are the first side of the outer join, the side a
-- join holds in memory: a few rows per failing device, where the policy
-- states are a row per device and policy.
WITH failing AS (
    SELECT day, device_id, policy_id, setting_id, setting_name, state, error_code, expected, actual
    FROM current_failing_settings
),
listed AS (
    SELECT c.*, d.device_name, d.os_platform
    FROM device_status d
    JOIN current_policy_states c ON c.day = d.day AND c.device_id = d.device_id
)
SELECT
    c.policy_id,
    c.policy_name,
    c.device_id,
    c.device_name,
    c.os_platform,
    c.state,
    c.stale,
    c.observed_at AS last_observed_at,
    s.setting_id,
    s.setting_name,
    s.state AS setting_state,
    s.error_code,
    s.expected,
    s.actual
FROM failing s
RIGHT JOIN listed c
    ON s.day = c.day
    AND s.device_id = c.device_id
    AND s.policy_id = c.policy_id
ORDER BY c.policy_id, c.stale, c.device_id, s.setting_id, s.state, s.error_code
