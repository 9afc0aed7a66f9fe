-- remediation: per setting that failed, how long devices took from the first failing report to the first succeeding one (median and 90th percentile, in hours), and how many regressed.
-- Over every report observed up to the end of the as-of day. For each device
-- and (policy, setting), its reports in time order (observed_at, then
-- report_id) that list the setting as failing (Error, Conflict) or
-- Succeeded; other states are skipped. An episode starts at a failing report
-- that follows nothing or a succeeding one, and is fixed at the next
-- succeeding report; still failing at the end, it is open. hours: fixed_at -
-- failed_at. median_hours: the median of the fixed episodes (mean of the two
-- middle ones for an even count); p90_hours: nearest rank (the smallest
-- duration with at least 90% of the episodes at or below it).
-- regressed_devices: devices on which the setting failed again after one of
-- its episodes was fixed (a second episode or later). Stale devices count
-- like the others: this is history.
WITH ever_failed AS (
    -- only the (device, policy, setting) that failed at least once
    SELECT DISTINCT device_id, policy_id, setting_id
    FROM setting_states
    WHERE state IN ('Error', 'Conflict')
),
observed AS (
    SELECT
        s.device_id,
        s.policy_id,
        s.setting_id,
        s.observed_at,
        s.report_id,
        CASE WHEN s.state IN ('Error', 'Conflict') THEN 'fail' ELSE 'ok' END AS outcome
    FROM ever_failed f
    JOIN setting_states s
        ON f.device_id = s.device_id AND f.policy_id = s.policy_id AND f.setting_id = s.setting_id
    WHERE s.state IN ('Error', 'Conflict', 'Succeeded')
),
sequenced AS (
    SELECT
        *,
        lag(outcome) OVER (
            PARTITION BY device_id, policy_id, setting_id
            ORDER BY observed_at, report_id
        ) AS before
    FROM observed
),
transitions AS (
    SELECT
        *,
        lead(observed_at) OVER (
            PARTITION BY device_id, policy_id, setting_id
            ORDER BY observed_at, report_id
        ) AS next_at
    FROM sequenced
    WHERE (outcome = 'fail' AND (before IS NULL OR before = 'ok'))
        OR (outcome = 'ok' AND before = 'fail')
),
episodes AS (
    SELECT
        device_id,
        policy_id,
        setting_id,
        row_number() OVER (
            PARTITION BY device_id, policy_id, setting_id
            ORDER BY observed_at, report_id
        ) > 1 AS regression,
        round((date_part('epoch', next_at) - date_part('epoch', observed_at)) / 3600.0, 2) AS hours
    FROM transitions
    WHERE outcome = 'fail'
),
ranked AS (
    SELECT
        policy_id,
        setting_id,
        hours,
        row_number() OVER (PARTITION BY policy_id, setting_id ORDER BY hours) AS rank,
        count(*) OVER (PARTITION BY policy_id, setting_id) AS fixed
    FROM episodes
    WHERE hours IS NOT NULL
),
p90 AS (
    SELECT policy_id, setting_id, min(hours) AS p90_hours
    FROM ranked
    WHERE rank >= ceil(0.9 * fixed)
    GROUP BY policy_id, setting_id
)
SELECT
    e.policy_id,
    e.setting_id,
    count(DISTINCT e.device_id) AS devices,
    count(*) AS episodes,
    count(e.hours) AS fixed,
    count(*) - count(e.hours) AS open,
    round(median(e.hours), 2) AS median_hours,
    p.p90_hours,
    count(DISTINCT CASE WHEN e.regression THEN e.device_id END) AS regressed_devices
FROM p90 p
RIGHT JOIN episodes e ON p.policy_id = e.policy_id AND p.setting_id = e.setting_id
GROUP BY e.policy_id, e.setting_id, p.p90_hours
ORDER BY e.policy_id, e.setting_id
