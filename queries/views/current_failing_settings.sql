-- current_failing_settings: the current setting states that fail (Error or
-- Conflict), as current_setting_states gives them, one row per (day,
-- device, policy, setting) row there. The queries that look only at
-- failures (changes, the exceptions' categories, policy_devices) read it,
-- so that a report keeps each day of its trend with the failing settings
-- alone rather than every setting of every device.
CREATE VIEW current_failing_settings AS
SELECT *
FROM current_setting_states
WHERE state IN ('Error', 'Conflict')
