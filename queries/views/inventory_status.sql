-- inventory_status: each machine of the Defender machine list as of the
-- snapshot day: its newest row (greatest observed_at, then row_id) observed
-- before the end of the day, classified for onboarding_coverage.
-- supported: a platform security settings management supports (Windows
-- client and Server 2012 R2 or later, macOS, Linux) and not marked
-- `Unsupported` by Defender; onboarded: onboardingStatus `Onboarded`;
-- reporting: healthStatus `Active` and lastSeen within --stale-days.
CREATE VIEW inventory_status AS
WITH latest AS (
    SELECT
        m.*,
        s.stale_before,
        row_number() OVER (
            PARTITION BY m.machine_id
            ORDER BY m.observed_at DESC, m.row_id DESC
        ) AS recency
    FROM device_inventory m
    CROSS JOIN snapshot_days s
    WHERE m.observed_at < s.day_end
)
SELECT
    machine_id,
    computer_dns_name,
    coalesce(os_platform, 'Unknown') AS os_platform,
    onboarding_status,
    health_status,
    managed_by,
    managed_by_status,
    last_seen,
    coalesce(onboarding_status = 'Onboarded', false) AS onboarded,
    coalesce(
        os_platform IN (
            'Windows', 'Windows10', 'Windows11', 'WindowsServer2012R2', 'WindowsServer2016',
            'WindowsServer2019', 'WindowsServer2022', 'WindowsServer2025', 'macOS', 'Linux'
        )
        AND coalesce(onboarding_status, '') <> 'Unsupported',
        false
    ) AS supported,
    coalesce(health_status = 'Active' AND last_seen >= stale_before, false) AS reporting
FROM latest
WHERE recency = 1
