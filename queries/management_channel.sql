-- management_channel: devices per management channel (managed_by) and platform, with their compliance; stale devices counted apart.
-- The channel and platform are those of each device's latest report.
-- devices counts non-stale devices (compliant + noncompliant + no_policy =
-- devices); compliance_pct is compliant out of (compliant + noncompliant).
SELECT
    managed_by,
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
GROUP BY managed_by, os_platform
ORDER BY managed_by, os_platform
