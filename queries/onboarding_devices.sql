-- onboarding_devices: the devices of the Defender machine list still to bring under security settings management, each with the first thing in the way.
-- Every device of inventory_status not managed by MDE (the machine list's,
-- and the devices only Intune knows); an excluded machine is never listed.
-- reason, the first that holds: `unsupported platform`, `not onboarded`,
-- `not reporting`, `managed by Intune`, `managed by Configuration Manager`,
-- `not managed by security settings management`.
SELECT
    machine_id,
    computer_dns_name,
    os_platform,
    onboarding_status,
    health_status,
    managed_by,
    managed_by_status,
    last_seen,
    CASE
        WHEN NOT supported THEN 'unsupported platform'
        WHEN NOT onboarded THEN 'not onboarded'
        WHEN NOT reporting THEN 'not reporting'
        WHEN managed_by = 'Intune' THEN 'managed by Intune'
        WHEN managed_by = 'ConfigMgr' THEN 'managed by Configuration Manager'
        ELSE 'not managed by security settings management'
    END AS reason
FROM inventory_status
WHERE managed_by <> 'MDE' AND NOT excluded
ORDER BY reason, computer_dns_name, machine_id
