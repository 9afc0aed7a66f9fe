-- onboarding_coverage: per platform, of the devices in the Defender machine list (and those only Intune knows), how many are onboarded, under security settings management, managed by Intune or Configuration Manager instead, on unsupported platforms, not reporting, and still to bring under management; excluded machines apart.
-- One row per os_platform of inventory_status (each machine by its newest
-- row as of the day; a device Intune knows that matches no machine, by its
-- inventory's OS family). devices: those not excluded; the other counts are
-- subsets of devices and overlap (an unsupported device may also be not
-- reporting). security_settings_management: managedBy MDE; to_manage: every
-- device not under it (devices - security_settings_management), listed by
-- onboarding_devices; coverage_pct: security_settings_management out of
-- devices; excluded: machines excluded in Defender, in no other column.
SELECT
    os_platform,
    sum(CASE WHEN NOT excluded THEN 1 ELSE 0 END) AS devices,
    sum(CASE WHEN NOT excluded AND onboarded THEN 1 ELSE 0 END) AS onboarded,
    sum(CASE WHEN NOT excluded AND managed_by = 'MDE' THEN 1 ELSE 0 END) AS security_settings_management,
    sum(CASE WHEN NOT excluded AND managed_by = 'Intune' THEN 1 ELSE 0 END) AS intune,
    sum(CASE WHEN NOT excluded AND managed_by = 'ConfigMgr' THEN 1 ELSE 0 END) AS configmgr,
    sum(CASE WHEN NOT excluded AND NOT supported THEN 1 ELSE 0 END) AS unsupported_platform,
    sum(CASE WHEN NOT excluded AND NOT reporting THEN 1 ELSE 0 END) AS not_reporting,
    sum(CASE WHEN NOT excluded AND managed_by <> 'MDE' THEN 1 ELSE 0 END) AS to_manage,
    pct(
        sum(CASE WHEN NOT excluded AND managed_by = 'MDE' THEN 1 ELSE 0 END),
        sum(CASE WHEN NOT excluded THEN 1 ELSE 0 END)
    ) AS coverage_pct,
    sum(CASE WHEN excluded THEN 1 ELSE 0 END) AS excluded
FROM inventory_status
GROUP BY os_platform
ORDER BY os_platform
