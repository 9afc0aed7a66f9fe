-- compliance_trend: device compliance for each of the last --days days, each day computed as its own snapshot.
-- One row per day from as_of - (days - 1) to as_of, days with no device
-- included; each day uses the same --stale-days.
-- posture: one snapshot per day of --days
SELECT
    s.day,
    coalesce(sum(CASE WHEN NOT d.stale THEN 1 ELSE 0 END), 0) AS devices,
    coalesce(sum(CASE WHEN NOT d.stale AND d.compliance = 'compliant' THEN 1 ELSE 0 END), 0) AS compliant,
    coalesce(sum(CASE WHEN NOT d.stale AND d.compliance = 'noncompliant' THEN 1 ELSE 0 END), 0) AS noncompliant,
    coalesce(sum(CASE WHEN NOT d.stale AND d.compliance = 'no_policy' THEN 1 ELSE 0 END), 0) AS no_policy,
    coalesce(sum(CASE WHEN d.stale THEN 1 ELSE 0 END), 0) AS stale,
    pct(
        coalesce(sum(CASE WHEN NOT d.stale AND d.compliance = 'compliant' THEN 1 ELSE 0 END), 0),
        coalesce(sum(CASE WHEN NOT d.stale AND d.compliance IN ('compliant', 'noncompliant') THEN 1 ELSE 0 END), 0)
    ) AS compliance_pct
FROM snapshot_days s
LEFT JOIN device_status d ON d.day = s.day
GROUP BY s.day
ORDER BY s.day
