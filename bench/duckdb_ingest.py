"""The peer of `posture ingest` for docs/benchmarks.md: DuckDB reads the same
NDJSON inbox and writes the same three tables (reports, policy_states,
setting_states) as Hive-partitioned, zstd Parquet, with the same
normalisation: UTC timestamps, lower-case device ids, canonical states,
dedup on report_id, sorted by device and time.

usage: duckdb_ingest.py INBOX OUT THREADS
"""

import os
import sys

import duckdb

inbox, out, threads = sys.argv[1], sys.argv[2], int(sys.argv[3])
os.makedirs(out, exist_ok=True)
con = duckdb.connect()
con.execute(f"SET threads = {threads}")
con.execute("SET TimeZone = 'UTC'")
con.execute("SET preserve_insertion_order = false")

setting = "STRUCT(setting_id VARCHAR, name VARCHAR, state VARCHAR, error_code VARCHAR, expected VARCHAR, actual VARCHAR)"
policy = f"STRUCT(policy_id VARCHAR, name VARCHAR, type VARCHAR, profile VARCHAR, version BIGINT, state VARCHAR, settings {setting}[])"
device = (
    "STRUCT(device_id VARCHAR, aad_device_id VARCHAR, name VARCHAR, os_platform VARCHAR, os_version VARCHAR, "
    "agent_version VARCHAR, managed_by VARCHAR, enrollment_status BIGINT, join_type VARCHAR, health_status VARCHAR, "
    "machine_group VARCHAR, is_domain_controller BOOLEAN, tags VARCHAR[])"
)
columns = {
    "schema": "VARCHAR",
    "report_id": "VARCHAR",
    "tenant_id": "VARCHAR",
    "observed_at": "VARCHAR",
    "device": device,
    "policies": f"{policy}[]",
}
columns_sql = "{" + ", ".join(f"'{k}': '{v}'" for k, v in columns.items()) + "}"


def canonical(state: str) -> str:
    return f"""CASE lower(replace({state}, ' ', ''))
        WHEN 'succeeded' THEN 'Succeeded' WHEN 'error' THEN 'Error' WHEN 'conflict' THEN 'Conflict'
        WHEN 'pending' THEN 'Pending' WHEN 'notapplicable' THEN 'NotApplicable' END"""


con.execute(
    f"""
    CREATE TEMP TABLE raw AS
    SELECT DISTINCT ON (report_id)
        report_id, tenant_id, CAST(observed_at AS TIMESTAMPTZ) AS observed_at, device, policies, filename
    FROM read_json('{inbox}/**/*.ndjson*', format = 'newline_delimited', columns = {columns_sql}, filename = true)
    """
)
parquet = "FORMAT parquet, COMPRESSION zstd, PARTITION_BY (date), OVERWRITE_OR_IGNORE"
con.execute(
    f"""
    COPY (
        SELECT report_id, tenant_id, observed_at, now() AS ingested_at, lower(device.device_id) AS device_id,
            device.aad_device_id, device.name AS device_name, device.os_platform, device.os_version,
            device.agent_version, device.managed_by, device.enrollment_status, device.join_type,
            device.health_status, device.machine_group, device.is_domain_controller, filename AS source_file,
            device.tags, CAST(observed_at AS DATE) AS date
        FROM raw ORDER BY date, device_id, observed_at, report_id
    ) TO '{out}/reports' ({parquet})
    """
)
con.execute(
    f"""
    CREATE TEMP TABLE policies AS
    SELECT report_id, lower(device.device_id) AS device_id, observed_at, unnest(policies) AS p FROM raw
    """
)
con.execute(
    f"""
    COPY (
        SELECT report_id, device_id, observed_at, p.policy_id, p.name AS policy_name, p.type AS policy_type,
            p.profile, p.version AS policy_version, {canonical('p.state')} AS state, CAST(observed_at AS DATE) AS date
        FROM policies ORDER BY date, device_id, observed_at, report_id, p.policy_id
    ) TO '{out}/policy_states' ({parquet})
    """
)
con.execute(
    f"""
    COPY (
        SELECT report_id, device_id, observed_at, policy_id, s.setting_id, s.name AS setting_name,
            {canonical('s.state')} AS state, s.error_code, s.expected, s.actual, CAST(observed_at AS DATE) AS date
        FROM (SELECT report_id, device_id, observed_at, p.policy_id AS policy_id, unnest(p.settings) AS s FROM policies)
        ORDER BY date, device_id, observed_at, report_id, policy_id, s.setting_id
    ) TO '{out}/setting_states' ({parquet})
    """
)
counts = [con.execute(f"SELECT count(*) FROM read_parquet('{out}/{t}/*/*.parquet')").fetchone()[0]
          for t in ["reports", "policy_states", "setting_states"]]
print("duckdb rows:", *counts, file=sys.stderr)
