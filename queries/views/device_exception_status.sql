-- device_exception_status: device_status with exceptions applied, as of
-- each snapshot day. `category` is `compliance`, except that a noncompliant
-- device whose every failing policy state (Error, Conflict, Pending) is
-- covered by an exception active that day is `excepted`: never compliant.
-- A failing policy state is covered when an active exception matches its
-- device and policy with a blank setting_id, or when it has failing
-- settings (Error, Conflict) and an active exception matches each of them.
CREATE VIEW device_exception_status AS
WITH failing_settings AS (
    SELECT
        c.day,
        c.device_id,
        c.policy_id,
        c.setting_id,
        max(CASE WHEN e.load_id IS NULL THEN 0 ELSE 1 END) AS covered
    FROM current_exceptions e
    RIGHT JOIN current_failing_settings c
        ON (e.device_id IS NULL OR e.device_id = c.device_id)
        AND (e.policy_id IS NULL OR e.policy_id = c.policy_id)
        AND (e.setting_id IS NULL OR e.setting_id = c.setting_id)
        AND c.day <= e.expires
    WHERE c.state IN ('Error', 'Conflict')
    GROUP BY c.day, c.device_id, c.policy_id, c.setting_id
),
settings_by_policy AS (
    SELECT day, device_id, policy_id, count(*) AS failing, sum(covered) AS covered
    FROM failing_settings
    GROUP BY day, device_id, policy_id
),
policy_wide AS (
    SELECT p.day, p.device_id, p.policy_id,
        max(CASE WHEN e.load_id IS NULL THEN 0 ELSE 1 END) AS covered
    FROM current_exceptions e
    RIGHT JOIN current_policy_states p
        ON e.setting_id IS NULL
        AND (e.device_id IS NULL OR e.device_id = p.device_id)
        AND (e.policy_id IS NULL OR e.policy_id = p.policy_id)
        AND p.day <= e.expires
    WHERE p.state IN ('Error', 'Conflict', 'Pending')
    GROUP BY p.day, p.device_id, p.policy_id
),
uncovered AS (
    SELECT
        w.day,
        w.device_id,
        sum(
            CASE
                WHEN w.covered = 1 THEN 0
                WHEN coalesce(s.failing, 0) > 0 AND s.covered = s.failing THEN 0
                ELSE 1
            END
        ) AS policies
    FROM settings_by_policy s
    RIGHT JOIN policy_wide w
        ON s.day = w.day AND s.device_id = w.device_id AND s.policy_id = w.policy_id
    GROUP BY w.day, w.device_id
)
SELECT
    d.*,
    CASE
        WHEN d.compliance = 'noncompliant' AND u.policies = 0 THEN 'excepted'
        ELSE d.compliance
    END AS category
FROM uncovered u
RIGHT JOIN device_status d ON u.day = d.day AND u.device_id = d.device_id
