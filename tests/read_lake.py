"""Reads a posture lake with engines that share no code with posture
(DuckDB and pyarrow) and prints what they see as JSON, for tests/cli.rs."""

import json
import sys

import duckdb
import pyarrow.dataset as ds

lake = sys.argv[1]
tables = ["reports", "policy_states", "setting_states", "quarantine"]
seen = {"duckdb": {}, "pyarrow": {}}
con = duckdb.connect()
con.execute("SET TimeZone = 'UTC'")
for table in tables:
    glob = f"{lake}/{table}/*/*.parquet"
    seen["duckdb"][table] = con.execute(
        f"SELECT count(*) FROM read_parquet('{glob}', hive_partitioning = true)"
    ).fetchone()[0]
    seen["pyarrow"][table] = ds.dataset(f"{lake}/{table}", format="parquet", partitioning="hive").count_rows()

# The hive `date` partition agrees with the UTC date of observed_at.
mismatched = con.execute(
    f"""SELECT count(*) FROM read_parquet('{lake}/reports/*/*.parquet', hive_partitioning = true)
        WHERE CAST(date AS DATE) <> CAST(observed_at AS DATE)"""
).fetchone()[0]
assert mismatched == 0, f"{mismatched} reports sit in the wrong date partition"

row = con.execute(
    f"SELECT observed_at FROM read_parquet('{lake}/reports/*/*.parquet') WHERE report_id = 'off-2'"
).fetchone()
seen["off2_observed_at"] = row[0].isoformat() if row else None
print(json.dumps(seen))
