-- machine_keys: Defender machines that the machine list says were merged
-- into another (`mergedIntoMachineId`): such a machine is that other device,
-- never a second one. One row per merged machine, as its newest row in the
-- machine list says (a later row without the merge undoes it). One level:
-- the machine it was merged into is taken as it is.
CREATE VIEW machine_keys AS
SELECT machine_id, merged_into_machine_id AS device_key
FROM (
    SELECT
        machine_id,
        merged_into_machine_id,
        row_number() OVER (
            PARTITION BY machine_id
            ORDER BY observed_at DESC, row_id DESC
        ) AS recency
    FROM device_inventory
) listed
WHERE recency = 1
    AND merged_into_machine_id IS NOT NULL
    AND merged_into_machine_id <> machine_id
