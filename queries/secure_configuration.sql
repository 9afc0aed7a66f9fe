-- secure_configuration: per secure configuration that Defender Vulnerability Management assesses on each device, how many devices comply, least compliant first.
-- Each matched device (a machine merged into another is that other) counts
-- by its latest assessment of the configuration: the newest row observed
-- before the end of the as-of day (then the greatest row_id); one older
-- than --stale-days is left out. devices: compliant + noncompliant, the
-- devices where the configuration applies; not_applicable: counted apart;
-- an applicable assessment that does not say it complies is noncompliant.
-- compliance_pct: compliant out of devices. The name, category and
-- subcategory are those of the configuration's newest row that has a name
-- (Advanced Hunting's export has none).
WITH assessed AS (
    SELECT
        coalesce(k.device_key, c.device_id) AS device_id,
        c.configuration_id,
        c.configuration_name,
        c.configuration_category,
        c.configuration_subcategory,
        c.is_applicable,
        c.is_compliant,
        c.observed_at,
        c.row_id,
        s.stale_before
    FROM machine_keys k
    RIGHT JOIN (snapshot_days s CROSS JOIN secure_configurations c) ON k.machine_id = c.device_id
    WHERE c.observed_at < s.day_end
),
latest AS (
    SELECT
        *,
        row_number() OVER (
            PARTITION BY device_id, configuration_id
            ORDER BY observed_at DESC, row_id DESC
        ) AS recency
    FROM assessed
),
named AS (
    SELECT
        configuration_id,
        configuration_name,
        configuration_category,
        configuration_subcategory,
        row_number() OVER (
            PARTITION BY configuration_id
            ORDER BY CASE WHEN configuration_name IS NULL THEN 1 ELSE 0 END, observed_at DESC, row_id DESC
        ) AS recency
    FROM assessed
),
counted AS (
    SELECT
        configuration_id,
        sum(CASE WHEN coalesce(is_applicable, true) AND coalesce(is_compliant, false) THEN 1 ELSE 0 END) AS compliant,
        sum(CASE WHEN coalesce(is_applicable, true) AND NOT coalesce(is_compliant, false) THEN 1 ELSE 0 END) AS noncompliant,
        sum(CASE WHEN is_applicable = false THEN 1 ELSE 0 END) AS not_applicable
    FROM latest
    WHERE recency = 1 AND observed_at >= stale_before
    GROUP BY configuration_id
)
SELECT
    c.configuration_id,
    n.configuration_name,
    n.configuration_category AS category,
    n.configuration_subcategory AS subcategory,
    c.compliant + c.noncompliant AS devices,
    c.compliant,
    c.noncompliant,
    c.not_applicable,
    pct(c.compliant, c.compliant + c.noncompliant) AS compliance_pct
FROM counted c
JOIN named n ON n.configuration_id = c.configuration_id AND n.recency = 1
ORDER BY compliance_pct ASC NULLS LAST, c.configuration_id
