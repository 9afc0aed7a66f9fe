-- current_export_policy_states: for each snapshot day, matched device and
-- policy, the newest policy-status row made from an Intune export and
-- observed before the end of the day (then the greatest report_id). An
-- export row holds one policy's status, and Intune exports a policy at a
-- time, so a device's current export states are the newest row of each of
-- its policies, not one report's (docs/semantics.md). As latest_reports
-- does, it first keeps each device's last row of each policy and day, then
-- gives each snapshot day the last such row on or before it.
CREATE VIEW current_export_policy_states AS
WITH statuses AS (
    SELECT
        k.device_id,
        k.source_device_id,
        p.report_id,
        p.observed_at,
        p.policy_id,
        p.policy_name,
        p.policy_type,
        p.state,
        CAST(k.date AS DATE) AS report_day
    FROM day_end_keyed_reports k
    JOIN day_end_policy_states p
        ON p.report_id = k.report_id
        AND p.device_id = k.source_device_id
        AND p.observed_at = k.observed_at
    WHERE k.source IS NOT NULL
),
-- A row is its device's last of a policy and day when the next row of the
-- same device and policy (by observed_at, then report_id) is on a later
-- day, or there is none (as in latest_reports: one window per device and
-- policy, not one per device, policy and day).
last_of_day AS (
    SELECT *
    FROM (
        SELECT
            *,
            lead(report_day) OVER (
                PARTITION BY device_id, policy_id
                ORDER BY observed_at, report_id
            ) AS next_report_day
        FROM statuses
    ) ordered
    WHERE next_report_day IS NULL OR next_report_day > report_day
)
SELECT
    s.day,
    r.device_id,
    r.source_device_id,
    r.report_id,
    r.observed_at,
    r.policy_id,
    r.policy_name,
    r.policy_type,
    r.state
FROM snapshot_days s
JOIN last_of_day r
    ON r.report_day <= s.day
    AND (r.next_report_day IS NULL OR r.next_report_day > s.day)
