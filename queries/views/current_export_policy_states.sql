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
last_of_day AS (
    SELECT
        *,
        lead(report_day) OVER (PARTITION BY device_id, policy_id ORDER BY report_day) AS next_report_day
    FROM (
        SELECT
            *,
            row_number() OVER (
                PARTITION BY device_id, policy_id, report_day
                ORDER BY observed_at DESC, report_id DESC
            ) AS recency
        FROM statuses
    ) ranked
    WHERE recency = 1
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
