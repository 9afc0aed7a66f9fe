-- enrollment_failures: devices whose latest report has a security-settings-management enrollment error, per error code, with its meaning.
-- enrollment_status 0 (enrolled) and absent are not failures. The meanings
-- are the table of agent-report-v1.md; a code missing from it says so.
-- devices counts non-stale devices; stale ones are counted apart.
WITH meanings (code, meaning) AS (
    VALUES
        (2, 'not enrolled, never enrolled'),
        (4, 'managed by the Configuration Manager agent'),
        (5, 'general error'), (6, 'general error'), (7, 'general error'), (9, 'general error'),
        (11, 'general error'), (12, 'general error'), (26, 'general error'), (27, 'general error'),
        (28, 'general error'), (29, 'general error'), (30, 'general error'), (31, 'general error'),
        (32, 'general error'), (33, 'general error'),
        (8, 'Intune configuration issue (feature not turned on)'),
        (44, 'Intune configuration issue (feature not turned on)'),
        (10, 'general hybrid join failure'), (42, 'general hybrid join failure'),
        (13, 'connectivity issue'), (14, 'connectivity issue'), (20, 'connectivity issue'),
        (24, 'connectivity issue'), (25, 'connectivity issue'),
        (15, 'tenant mismatch'),
        (16, 'hybrid error: service connection point'), (17, 'hybrid error: service connection point'),
        (18, 'certificate error'),
        (36, 'Entra Connect misconfiguration'), (37, 'Entra Connect misconfiguration'),
        (38, 'DNS error'), (41, 'DNS error'),
        (40, 'clock sync issue'),
        (43, 'Defender for Endpoint and Configuration Manager both managing')
)
SELECT
    d.enrollment_status,
    coalesce(m.meaning, 'unknown enrollment error code') AS meaning,
    sum(CASE WHEN NOT d.stale THEN 1 ELSE 0 END) AS devices,
    sum(CASE WHEN d.stale THEN 1 ELSE 0 END) AS stale
FROM meanings m
RIGHT JOIN device_status d ON m.code = d.enrollment_status
WHERE d.enrollment_status IS NOT NULL AND d.enrollment_status <> 0
GROUP BY d.enrollment_status, m.meaning
ORDER BY devices DESC, d.enrollment_status
