"""Times each named query of the contract in posture (the CLI, one process
per query, as a cron job or analyst runs it) and in DuckDB (the independent
SQL of tests/crosscheck.py, over the same Parquet files, a fresh connection
per query), in one run, and prints a Markdown table for docs/benchmarks.md.

usage: bench/queries.py POSTURE LAKE [REPEATS]
"""

import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests"))
import crosscheck as xc  # noqa: E402

posture, lake = sys.argv[1], sys.argv[2]
repeats = int(sys.argv[3]) if len(sys.argv) > 3 else 3
STALE_DAYS, DAYS = 7, 30


def best(fn):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def run_posture(name):
    command = [posture, "query", "--lake", lake, name, "--format", "csv"]
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def run_duckdb(name, sql, as_of):
    con = xc.open_lake(lake)
    xc.prepare_snapshots(con, as_of, STALE_DAYS, DAYS if name == "compliance_trend" else 1)
    xc.run_duckdb(con, sql, as_of)


con = xc.open_lake(lake)
as_of = xc.default_as_of(con)
reports = con.execute("SELECT count(*) FROM reports").fetchone()[0]
days = con.execute("SELECT count(DISTINCT date) FROM reports").fetchone()[0]
print(f"lake: {reports} reports over {days} days; best of {repeats}; {os.cpu_count()} cores")
print()
print("| query | posture (s) | DuckDB (s) | posture / DuckDB |")
print("| --- | --- | --- | --- |")
for name, (sql, _) in xc.QUERIES.items():
    ours = best(lambda: run_posture(name))
    theirs = best(lambda: run_duckdb(name, sql, as_of))
    print(f"| {name} | {ours:.2f} | {theirs:.2f} | {ours / theirs:.1f} |")
