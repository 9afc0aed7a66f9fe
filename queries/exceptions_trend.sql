-- exceptions_trend: device compliance with exceptions applied, for each of the last --days days: excepted devices counted apart, never as compliant.
-- As compliance_trend, with noncompliant split in two: `excepted` devices
-- are noncompliant ones whose every failing policy state is covered by an
-- exception active that day (see device_exception_status); `noncompliant`
-- the rest. compliant + noncompliant + excepted + no_policy = devices.
-- compliance_pct = compliant / (compliant + noncompliant + excepted): an
-- exception never raises it.
-- posture: one snapshot per day of --days
SELECT
    s.day,
    coalesce(sum(CASE WHEN NOT d.stale THEN 1 ELSE 0 END), 0) AS devices,
    coalesce(sum(CASE WHEN NOT d.stale AND d.category = 'compliant' THEN 1 ELSE 0 END), 0) AS compliant,
    coalesce(sum(CASE WHEN NOT d.stale AND d.category = 'noncompliant' THEN 1 ELSE 0 END), 0) AS noncompliant,
    coalesce(sum(CASE WHEN NOT d.stale AND d.category = 'excepted' THEN 1 ELSE 0 END), 0) AS excepted,
    coalesce(sum(CASE WHEN NOT d.stale AND d.category = 'no_policy' THEN 1 ELSE 0 END), 0) AS no_policy,
    coalesce(sum(CASE WHEN d.stale THEN 1 ELSE 0 END), 0) AS stale,
    pct(
        coalesce(sum(CASE WHEN NOT d.stale AND d.category = 'compliant' THEN 1 ELSE 0 END), 0),
        coalesce(sum(CASE WHEN NOT d.stale AND d.category IN ('compliant', 'noncompliant', 'excepted') THEN 1 ELSE 0 END), 0)
    ) AS compliance_pct
FROM snapshot_days s
LEFT JOIN device_exception_status d ON d.day = s.day
GROUP BY s.day
ORDER BY s.day
