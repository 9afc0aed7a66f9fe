-- onboarding_coverage: per platform, of the devices in the Defender machine list, how many are onboarded, under security settings management, managed by Intune or Configuration Manager instead, on unsupported platforms, not reporting, and still to bring under management.
-- One row per os_platform of each machine's newest row as of the day
-- (inventory_status). devices: machines in the list; the other counts are
-- subsets of devices and overlap (an unsupported device may also be not
-- reporting). security_settings_management: managedBy MDE; to_manage: every
-- device not under it (devices - security_settings_management), listed by
-- onboarding_devices; coverage_pct: security_settings_management out of devices.
SELECT
    os_platform,
    count(*) AS devices,
    sum(CASE WHEN onboarded THEN 1 ELSE 0 END) AS onboarded,
    sum(CASE WHEN managed_by = 'MDE' THEN 1 ELSE 0 END) AS security_settings_management,
    sum(CASE WHEN managed_by = 'Intune' THEN 1 ELSE 0 END) AS intune,
    sum(CASE WHEN managed_by = 'ConfigMgr' THEN 1 ELSE 0 END) AS configmgr,
    sum(CASE WHEN NOT supported THEN 1 ELSE 0 END) AS unsupported_platform,
    sum(CASE WHEN NOT reporting THEN 1 ELSE 0 END) AS not_reporting,
    sum(CASE WHEN managed_by <> 'MDE' THEN 1 ELSE 0 END) AS to_manage,
    pct(sum(CASE WHEN managed_by = 'MDE' THEN 1 ELSE 0 END), count(*)) AS coverage_pct
FROM inventory_status
GROUP BY os_platform
ORDER BY os_platform
