-- compliance_by_platform: per OS platform, how many non-stale devices are compliant, noncompliant or without policy.
-- The platform is the one in each device's latest report. devices counts
-- non-stale devices (compliant + noncompliant + no_policy = devices); stale
-- devices are counted apart; compliance_pct is compliant out of
-- (compliant + noncompliant).
SELECT
    os_platform,
    sum(CASE WHEN NOT stale THEN 1 ELSE 0 END) AS devices,
    sum(CASE WHEN NOT stale AND compliance = 'compliant' THEN 1 ELSE 0 END) AS compliant,
    sum(CASE WHEN NOT stale AND compliance = 'noncompliant' THEN 1 ELSE 0 END) AS noncompliant,
    sum(CASE WHEN NOT stale AND compliance = 'no_policy' THEN 1 ELSE 0 END) AS no_policy,
    sum(CASE WHEN stale THEN 1 ELSE 0 END) AS stale,
    pct(
        sum(CASE WHEN NOT stale AND compliance = 'compliant' THEN 1 ELSE 0 END),
        sum(CASE WHEN NOT stale AND compliance IN ('compliant', 'noncompliant') THEN 1 ELSE 0 END)
    ) AS compliance_pct
FROM device_status
GROUP BY os_platform
ORDER BY os_platform
