-- device_keys: the device each Intune device id stands for, so that one
-- device seen by its agent, in Intune exports and in the machine list is one
-- device in every count (docs/vendor-exports.md, "Device identity").
-- A device is named by its Defender for Endpoint machine id (the agent's
-- device_id, the machine list's id; a machine merged into another is that
-- other, machine_keys). An Intune device id is matched to it through the
-- Entra device id that Intune gives for it (an export row's AadDeviceId, the
-- device inventory's Microsoft Entra Device ID) and that an agent report or
-- the machine list carries for the machine; several machines with one Entra
-- id: the least machine id. No machine with that Entra id: the device is
-- `aad:<entra id>`; no Entra id at all: `intune:<intune id>`.
CREATE VIEW device_keys AS
WITH machines AS (
    SELECT coalesce(k.device_key, r.device_id) AS machine_id, lower(r.aad_device_id) AS aad
    FROM machine_keys k
    RIGHT JOIN reports r ON k.machine_id = r.device_id
    WHERE r.source IS NULL AND r.aad_device_id IS NOT NULL
    UNION ALL
    SELECT coalesce(k.device_key, m.machine_id) AS machine_id, m.aad_device_id AS aad
    FROM machine_keys k
    RIGHT JOIN device_inventory m ON k.machine_id = m.machine_id
    WHERE m.aad_device_id IS NOT NULL
),
by_aad AS (
    SELECT aad, min(machine_id) AS machine_id FROM machines GROUP BY aad
),
intune AS (
    SELECT intune_id, max(aad) AS aad
    FROM (
        SELECT device_id AS intune_id, lower(aad_device_id) AS aad
        FROM reports
        WHERE source IS NOT NULL
        UNION ALL
        SELECT intune_device_id AS intune_id, aad_device_id AS aad
        FROM intune_devices
    ) ids
    GROUP BY intune_id
)
SELECT
    i.intune_id,
    coalesce(m.machine_id, 'aad:' || i.aad, 'intune:' || i.intune_id) AS device_key
FROM intune i
LEFT JOIN by_aad m ON m.aad = i.aad
