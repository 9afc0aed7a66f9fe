"""Reads whole posture lakes with engines that share no code with posture
(DuckDB and pyarrow) and prints, for each lake given, a digest of its data
as JSON: for tests/cli/crash.rs, which compares a lake that survived kills
with the lake of a clean run. Every file of every table is read in full, so
a torn or half-written Parquet file fails here. The dedup index
(`_index/reports/`) is read too: it must hold each `report_id` of `reports`
once, and nothing else."""

import json
import os
import sys

import duckdb
import pyarrow.dataset as ds

# What identifies each row of the data tables, in a stable order.
KEYS = {
    "reports": "report_id || '|' || device_id || '|' || CAST(observed_at AS VARCHAR)",
    "policy_states": "report_id || '|' || policy_id || '|' || state",
    "setting_states": "report_id || '|' || policy_id || '|' || setting_id || '|' || state",
}
ALL_TABLES = ["reports", "policy_states", "setting_states", "ingest_log", "quarantine"]


def digest(lake):
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    out = {"data": {}, "rows": {}}
    for table in ALL_TABLES:
        if not os.path.isdir(f"{lake}/{table}"):
            out["rows"][table] = 0
            continue
        src = f"read_parquet('{lake}/{table}/*/*.parquet', hive_partitioning = true)"
        rows = con.execute(f"SELECT count(*) FROM {src}").fetchone()[0]
        arrow_rows = ds.dataset(f"{lake}/{table}", format="parquet", partitioning="hive").to_table().num_rows
        assert rows == arrow_rows, f"{lake}/{table}: DuckDB reads {rows} rows, pyarrow {arrow_rows}"
        out["rows"][table] = rows
        if table in KEYS:
            md5 = con.execute(f"SELECT md5(string_agg({KEYS[table]}, ',' ORDER BY {KEYS[table]})) FROM {src}").fetchone()[0]
            out["data"][table] = {"rows": rows, "md5": md5}
    src = f"read_parquet('{lake}/reports/*/*.parquet')"
    out["duplicates"] = con.execute(f"SELECT count(*) - count(DISTINCT report_id) FROM {src}").fetchone()[0]
    index = f"read_parquet('{lake}/_index/reports/*.parquet')"
    if os.path.isdir(f"{lake}/_index/reports"):
        ids, distinct = con.execute(f"SELECT count(*), count(DISTINCT id) FROM {index}").fetchone()
        missing = con.execute(f"SELECT count(*) FROM (SELECT report_id FROM {src} EXCEPT SELECT id FROM {index})").fetchone()[0]
        extra = con.execute(f"SELECT count(*) FROM (SELECT id FROM {index} EXCEPT SELECT report_id FROM {src})").fetchone()[0]
        out["index"] = {"ids": ids, "twice": ids - distinct, "missing": missing, "extra": extra}
    else:
        out["index"] = None
    return out


print(json.dumps([digest(lake) for lake in sys.argv[1:]]))
