"""Times named queries in posture (the CLI, one process per query, as a cron
job or analyst runs it) and in DuckDB (independent SQL of the same meaning,
over the same Parquet files, a fresh connection per query), in one run, and
prints a Markdown table for docs/benchmarks.md.

DuckDB runs the SQL of tests/crosscheck.py for the five contract queries,
and for policy_devices and device_detail the SQL below, written from
docs/semantics.md on crosscheck's building blocks. Its time includes
everything posture's does: opening the lake, the snapshot tables it builds
first (latest reports, current policies, device status) and writing the
rows as CSV (to /dev/null; posture's go to a pipe that discards them).
Each side is checked to give the same number of rows.

usage: bench/queries.py POSTURE LAKE [REPEATS] [QUERY...]
"""

import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests"))
import crosscheck as xc  # noqa: E402

STALE_DAYS, DAYS = 7, 30

# policy_devices: per policy, every device whose latest report lists it,
# with its state, and one row per failing (Error or Conflict) setting of
# the device under the policy (none: one row with empty setting columns).
POLICY_DEVICES_SQL = """
SELECT c.policy_id, c.policy_name, c.device_id, l.device_name, l.os_platform,
       c.state, c.is_stale AS stale, c.observed_at AS last_observed_at,
       s.setting_id, s.setting_name, s.state AS setting_state, s.error_code,
       s.expected, s.actual
FROM current_policies AS c
JOIN latest_reports AS l ON l.as_of = c.as_of AND l.device_id = c.device_id
LEFT JOIN setting_states AS s
  ON s.report_id = c.report_id AND s.device_id = c.device_id
 AND s.observed_at = c.observed_at AND s.policy_id = c.policy_id
 AND s.state IN ('Error', 'Conflict')
WHERE c.as_of = $as_of
ORDER BY c.policy_id, stale, c.device_id, s.setting_id, s.state, s.error_code
"""

# device_detail (every device): one row per setting of each policy in the
# device's latest report; a policy without settings, one row with empty
# setting columns; a device without policies, one row with empty policy
# columns.
DEVICE_DETAIL_SQL = """
SELECT l.device_id, l.device_name, l.os_platform, l.observed_at AS last_observed_at,
       l.is_stale AS stale, d.status AS compliance,
       c.policy_id, c.policy_name, c.state AS policy_state,
       s.setting_id, s.setting_name, s.state AS setting_state, s.error_code,
       s.expected, s.actual
FROM latest_reports AS l
JOIN device_status AS d ON d.as_of = l.as_of AND d.device_id = l.device_id
LEFT JOIN current_policies AS c ON c.as_of = l.as_of AND c.device_id = l.device_id
LEFT JOIN setting_states AS s
  ON s.report_id = c.report_id AND s.device_id = c.device_id
 AND s.observed_at = c.observed_at AND s.policy_id = c.policy_id
WHERE l.as_of = $as_of
ORDER BY l.device_id, c.policy_id, s.setting_id, s.state
"""

QUERIES = {name: sql for name, (sql, _) in xc.QUERIES.items()}
QUERIES["policy_devices"] = POLICY_DEVICES_SQL
QUERIES["device_detail"] = DEVICE_DETAIL_SQL


def best(fn, repeats):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def posture_rows(posture, lake, name):
    command = [posture, "query", "--lake", lake, name, "--format", "csv"]
    done = subprocess.run(command, check=True, capture_output=True)
    return done.stdout.count(b"\r\n") - 1


def run_posture(posture, lake, name):
    command = [posture, "query", "--lake", lake, name, "--format", "csv"]
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def duckdb_connection(lake, name, as_of):
    con = xc.open_lake(lake)
    xc.prepare_snapshots(con, as_of, STALE_DAYS, DAYS if name == "compliance_trend" else 1)
    return con


def with_as_of(sql, as_of):
    return sql.replace("$as_of", f"DATE '{as_of.isoformat()}'")


def run_duckdb(lake, name, as_of):
    con = duckdb_connection(lake, name, as_of)
    con.execute(f"COPY ({with_as_of(QUERIES[name], as_of)}) TO '/dev/null' (FORMAT csv, HEADER)")


def duckdb_rows(lake, name, as_of):
    con = duckdb_connection(lake, name, as_of)
    return con.execute(f"SELECT count(*) FROM ({with_as_of(QUERIES[name], as_of)})").fetchone()[0]


def main():
    posture, lake = sys.argv[1], sys.argv[2]
    repeats = int(sys.argv[3]) if len(sys.argv) > 3 else 3
    names = sys.argv[4:] or list(QUERIES)
    con = xc.open_lake(lake)
    as_of = xc.default_as_of(con)
    reports = con.execute("SELECT count(*) FROM reports").fetchone()[0]
    days = con.execute("SELECT count(DISTINCT date) FROM reports").fetchone()[0]
    devices = con.execute("SELECT count(DISTINCT device_id) FROM reports").fetchone()[0]
    print(f"lake: {reports} reports of {devices} devices over {days} days; "
          f"best of {repeats}; {os.cpu_count()} cores")
    print()
    print("| query | rows | posture (s) | DuckDB (s) | posture / DuckDB |")
    print("| --- | --- | --- | --- | --- |")
    for name in names:
        ours_rows = posture_rows(posture, lake, name)
        theirs_rows = duckdb_rows(lake, name, as_of)
        if ours_rows != theirs_rows:
            sys.exit(f"{name}: posture gives {ours_rows} rows, DuckDB {theirs_rows}")
        ours = best(lambda: run_posture(posture, lake, name), repeats)
        theirs = best(lambda: run_duckdb(lake, name, as_of), repeats)
        print(f"| {name} | {ours_rows} | {ours:.2f} | {theirs:.2f} | {ours / theirs:.2f} |",
              flush=True)


if __name__ == "__main__":
    main()
