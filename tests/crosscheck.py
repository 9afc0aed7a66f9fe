"""Cross-check posture's five named compliance queries against a second engine.

Why this exists: auditors compare posture's numbers night after night, so a
bug in posture's SQL would go unnoticed if posture were only ever checked
against itself. This script computes the same five queries a second time,
in DuckDB SQL written independently from the spec
(docs/contract.md), straight from the lake's Parquet, runs
`posture query ... --format json` for each, and compares the two row for
row, in order, column names and column order included.

    python3 tests/crosscheck.py --posture PATH_TO_POSTURE --lake LAKE \
        [--as-of YYYY-MM-DD] [--stale-days N] [--days N]

Prints `ok NAME: N rows` per query and exits 0 when all agree; otherwise
prints the query and the first differing rows of both sides and exits 1.
Exit 2 means a side could not be run at all.

Percentages are computed exactly (integers, rounded half up to hundredths)
and compared as decimals, so there is no tolerance to hide a rounding bug.
"""

import argparse
import datetime as dt
import glob
import json
import os
import re
import subprocess
import sys
from decimal import Decimal

import duckdb

# --------------------------------------------------------------------------
# The lake's tables, as the spec names them. When a table has no file yet
# (e.g. a lake whose reports carry no settings), an empty table with the
# columns the queries use stands in for it.
# --------------------------------------------------------------------------

TABLE_COLUMNS = {
    "reports": {
        "report_id": "VARCHAR",
        "observed_at": "TIMESTAMPTZ",
        "device_id": "VARCHAR",
        "device_name": "VARCHAR",
        "os_platform": "VARCHAR",
    },
    "policy_states": {
        "report_id": "VARCHAR",
        "device_id": "VARCHAR",
        "observed_at": "TIMESTAMPTZ",
        "policy_id": "VARCHAR",
        "policy_name": "VARCHAR",
        "policy_type": "VARCHAR",
        "state": "VARCHAR",
    },
    "setting_states": {
        "report_id": "VARCHAR",
        "device_id": "VARCHAR",
        "observed_at": "TIMESTAMPTZ",
        "policy_id": "VARCHAR",
        "setting_id": "VARCHAR",
        "setting_name": "VARCHAR",
        "state": "VARCHAR",
        "error_code": "VARCHAR",
    },
}

# --------------------------------------------------------------------------
# Shared building blocks. Every snapshot the queries need (the as-of day,
# and each day of the trend) is a row of `snapshots`; everything below is
# keyed by `as_of`, so a trend day is computed exactly as the snapshot as of
# that day.
# --------------------------------------------------------------------------

MACROS_SQL = """
-- Worst first: a report that lists a policy twice counts its worst state.
CREATE MACRO state_rank(state) AS CASE state
    WHEN 'Error' THEN 0 WHEN 'Conflict' THEN 1 WHEN 'Pending' THEN 2
    WHEN 'Succeeded' THEN 3 WHEN 'NotApplicable' THEN 4 END;

-- 100 * num / den rounded half up to 2 decimals, exactly; NULL when den = 0.
CREATE MACRO pct(num, den) AS CASE WHEN den = 0 THEN NULL
    ELSE CAST((20000 * num + den) // (2 * den) AS DECIMAL(18, 0)) * 0.01 END;
"""

SNAPSHOTS_SQL = """
CREATE TEMP TABLE snapshots AS
WITH days AS (
    SELECT CAST($as_of AS DATE) AS as_of, FALSE AS in_trend
    UNION ALL
    SELECT CAST($as_of AS DATE) - CAST(k AS INTEGER), TRUE FROM range($days) AS t(k)
)
SELECT as_of,
       bool_or(in_trend) AS in_trend,
       -- the end of day D is D+1 00:00:00Z (the session time zone is UTC)
       CAST(as_of + 1 AS TIMESTAMPTZ) AS end_ts,
       CAST(as_of + 1 AS TIMESTAMPTZ) - to_hours(24 * CAST($stale_days AS BIGINT)) AS stale_before
FROM days
GROUP BY as_of
"""

# A device's latest report within each snapshot: greatest observed_at, then
# greatest report_id (byte order); stale when older than stale_before.
LATEST_REPORTS_SQL = """
CREATE TEMP TABLE latest_reports AS
SELECT s.as_of, s.end_ts,
       r.device_id, r.report_id, r.observed_at, r.device_name, r.os_platform,
       r.observed_at < s.stale_before AS is_stale
FROM snapshots AS s
JOIN reports AS r ON r.observed_at < s.end_ts
QUALIFY row_number() OVER (PARTITION BY s.as_of, r.device_id
                           ORDER BY r.observed_at DESC, r.report_id DESC) = 1
"""

# A device's current policy states: only the policies of its latest report,
# one row per policy. If the report lists a policy twice, the entry that
# counts is the one with the worst state (then the greatest name and type,
# byte order), and its name and type go with it, as one pair.
CURRENT_POLICIES_SQL = """
CREATE TEMP TABLE current_policies AS
SELECT l.as_of, l.device_id, l.is_stale, l.observed_at, l.report_id,
       p.policy_id, p.policy_name, p.policy_type, p.state
FROM latest_reports AS l
JOIN policy_states AS p
  ON p.report_id = l.report_id AND p.device_id = l.device_id
 AND p.observed_at = l.observed_at
QUALIFY row_number() OVER (PARTITION BY l.as_of, l.device_id, p.policy_id
                           ORDER BY state_rank(p.state), p.policy_name DESC, p.policy_type DESC) = 1
"""

# Each device of each snapshot classified as the spec's "Device compliance".
DEVICE_STATUS_SQL = """
CREATE TEMP TABLE device_status AS
SELECT l.as_of, l.device_id, l.os_platform, l.is_stale,
       CASE WHEN count(*) FILTER (WHERE c.state IN ('Error', 'Conflict', 'Pending')) > 0
                THEN 'noncompliant'
            WHEN count(*) FILTER (WHERE c.state = 'Succeeded') > 0
                THEN 'compliant'
            ELSE 'no_policy' END AS status
FROM latest_reports AS l
LEFT JOIN current_policies AS c ON c.as_of = l.as_of AND c.device_id = l.device_id
GROUP BY l.as_of, l.device_id, l.os_platform, l.is_stale
"""

# --------------------------------------------------------------------------
# The five named queries. Each takes $as_of; columns and order as the spec.
# --------------------------------------------------------------------------

COMPLIANCE_BY_POLICY_SQL = """
WITH per_policy AS (
    SELECT policy_id,
           first(policy_name ORDER BY observed_at DESC, report_id DESC) AS policy_name,
           first(policy_type ORDER BY observed_at DESC, report_id DESC) AS policy_type,
           count(*) FILTER (WHERE NOT is_stale) AS devices,
           count(*) FILTER (WHERE NOT is_stale AND state = 'Succeeded') AS succeeded,
           count(*) FILTER (WHERE NOT is_stale AND state = 'Error') AS error,
           count(*) FILTER (WHERE NOT is_stale AND state = 'Conflict') AS conflict,
           count(*) FILTER (WHERE NOT is_stale AND state = 'Pending') AS pending,
           count(*) FILTER (WHERE NOT is_stale AND state = 'NotApplicable') AS not_applicable,
           count(*) FILTER (WHERE is_stale) AS stale
    FROM current_policies
    WHERE as_of = $as_of
    GROUP BY policy_id
)
SELECT policy_id, policy_name, policy_type, devices, succeeded, error, conflict,
       pending, not_applicable, stale,
       pct(succeeded, devices - not_applicable) AS compliance_pct
FROM per_policy
ORDER BY compliance_pct ASC NULLS LAST, policy_id
"""

COMPLIANCE_BY_PLATFORM_SQL = """
WITH per_platform AS (
    SELECT os_platform,
           count(*) FILTER (WHERE NOT is_stale) AS devices,
           count(*) FILTER (WHERE NOT is_stale AND status = 'compliant') AS compliant,
           count(*) FILTER (WHERE NOT is_stale AND status = 'noncompliant') AS noncompliant,
           count(*) FILTER (WHERE NOT is_stale AND status = 'no_policy') AS no_policy,
           count(*) FILTER (WHERE is_stale) AS stale
    FROM device_status
    WHERE as_of = $as_of
    GROUP BY os_platform
)
SELECT os_platform, devices, compliant, noncompliant, no_policy, stale,
       pct(compliant, compliant + noncompliant) AS compliance_pct
FROM per_platform
ORDER BY os_platform
"""

# setting_name is the newest row's (then greatest report_id); when one report
# holds the same failing setting twice, a present name wins over an absent
# one, then the greatest name.
SETTING_FAILURES_SQL = """
SELECT s.policy_id,
       s.setting_id,
       first(s.setting_name ORDER BY s.observed_at DESC, s.report_id DESC,
                                     s.setting_name DESC NULLS LAST) AS setting_name,
       s.state,
       coalesce(s.error_code, '') AS error_code,
       count(DISTINCT s.device_id) AS devices
FROM latest_reports AS l
JOIN setting_states AS s
  ON s.report_id = l.report_id AND s.device_id = l.device_id
 AND s.observed_at = l.observed_at
WHERE l.as_of = $as_of AND NOT l.is_stale AND s.state IN ('Error', 'Conflict')
GROUP BY s.policy_id, s.setting_id, s.state, coalesce(s.error_code, '')
ORDER BY devices DESC, policy_id, setting_id, state, error_code
"""

STALE_DEVICES_SQL = """
SELECT device_id, device_name, os_platform,
       observed_at AS last_observed_at,
       (epoch_us(end_ts) - epoch_us(observed_at)) // 86400000000 AS days_since
FROM latest_reports
WHERE as_of = $as_of AND is_stale
ORDER BY last_observed_at, device_id
"""

COMPLIANCE_TREND_SQL = """
WITH per_day AS (
    SELECT s.as_of AS day,
           count(d.device_id) FILTER (WHERE NOT d.is_stale) AS devices,
           count(d.device_id) FILTER (WHERE NOT d.is_stale AND d.status = 'compliant') AS compliant,
           count(d.device_id) FILTER (WHERE NOT d.is_stale AND d.status = 'noncompliant') AS noncompliant,
           count(d.device_id) FILTER (WHERE NOT d.is_stale AND d.status = 'no_policy') AS no_policy,
           count(d.device_id) FILTER (WHERE d.is_stale) AS stale
    FROM snapshots AS s
    LEFT JOIN device_status AS d ON d.as_of = s.as_of
    WHERE s.in_trend
    GROUP BY s.as_of
)
SELECT day, devices, compliant, noncompliant, no_policy, stale,
       pct(compliant, compliant + noncompliant) AS compliance_pct
FROM per_day
ORDER BY day
"""

# name -> (SQL, expected columns with their kind). The kind says how a value
# from either side is normalised before comparing.
QUERIES = {
    "compliance_by_policy": (COMPLIANCE_BY_POLICY_SQL, [
        ("policy_id", "text"), ("policy_name", "text"), ("policy_type", "text"),
        ("devices", "int"), ("succeeded", "int"), ("error", "int"),
        ("conflict", "int"), ("pending", "int"), ("not_applicable", "int"),
        ("stale", "int"), ("compliance_pct", "pct"),
    ]),
    "compliance_by_platform": (COMPLIANCE_BY_PLATFORM_SQL, [
        ("os_platform", "text"), ("devices", "int"), ("compliant", "int"),
        ("noncompliant", "int"), ("no_policy", "int"), ("stale", "int"),
        ("compliance_pct", "pct"),
    ]),
    "setting_failures": (SETTING_FAILURES_SQL, [
        ("policy_id", "text"), ("setting_id", "text"), ("setting_name", "text"),
        ("state", "text"), ("error_code", "text"), ("devices", "int"),
    ]),
    "stale_devices": (STALE_DEVICES_SQL, [
        ("device_id", "text"), ("device_name", "text"), ("os_platform", "text"),
        ("last_observed_at", "timestamp"), ("days_since", "int"),
    ]),
    "compliance_trend": (COMPLIANCE_TREND_SQL, [
        ("day", "date"), ("devices", "int"), ("compliant", "int"),
        ("noncompliant", "int"), ("no_policy", "int"), ("stale", "int"),
        ("compliance_pct", "pct"),
    ]),
}


class Unparsed:
    """A value that did not have the documented form; equal to nothing else."""

    def __init__(self, raw):
        self.raw = raw

    def __eq__(self, other):
        return isinstance(other, Unparsed) and other.raw == self.raw

    def __repr__(self):
        return f"<unparsed {self.raw!r}>"


# --------------------------------------------------------------------------
# The DuckDB side.
# --------------------------------------------------------------------------


def sql_string(text):
    return "'" + text.replace("'", "''") + "'"


def open_lake(lake):
    """A DuckDB connection in UTC with the lake's tables as views."""
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    for table, columns in TABLE_COLUMNS.items():
        pattern = os.path.join(lake, table, "*", "*.parquet")
        if glob.glob(pattern):
            source = (f"read_parquet({sql_string(pattern)}, hive_partitioning = true,"
                      f" union_by_name = true)")
            con.execute(f"CREATE VIEW {table} AS SELECT * FROM {source}")
        else:
            cols = ", ".join(f"CAST(NULL AS {t}) AS {c}" for c, t in columns.items())
            con.execute(f"CREATE VIEW {table} AS SELECT {cols} WHERE false")
    con.execute(MACROS_SQL)
    return con


def default_as_of(con):
    """The UTC date of the newest observed_at in the lake."""
    (day,) = con.execute("SELECT CAST(max(observed_at) AS DATE) FROM reports").fetchone()
    if day is None:
        sys.exit("crosscheck: the lake has no reports; pass --as-of")
    return day


def prepare_snapshots(con, as_of, stale_days, days):
    con.execute(SNAPSHOTS_SQL, {"as_of": as_of, "days": days, "stale_days": stale_days})
    for statement in (LATEST_REPORTS_SQL, CURRENT_POLICIES_SQL, DEVICE_STATUS_SQL):
        con.execute(statement)


def run_duckdb(con, sql, as_of):
    """(column names, rows) of one query."""
    params = {"as_of": as_of} if "$as_of" in sql else {}  # the trend reads `snapshots` only
    cursor = con.execute(sql, params)
    names = [d[0] for d in cursor.description]
    return names, cursor.fetchall()


# --------------------------------------------------------------------------
# The posture side.
# --------------------------------------------------------------------------


def run_posture(posture, lake, name, as_of, stale_days, days):
    """(column names, rows) as posture prints them in JSON."""
    command = [posture, "query", "--lake", lake, name,
               "--as-of", as_of.isoformat(), "--stale-days", str(stale_days)]
    if name == "compliance_trend":
        command += ["--days", str(days)]
    command += ["--format", "json"]
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        print(f"crosscheck: {' '.join(command)} failed ({done.returncode}):\n{done.stderr}",
              file=sys.stderr)
        sys.exit(2)
    objects = json.loads(done.stdout, parse_float=Decimal)
    if not isinstance(objects, list) or not all(isinstance(o, dict) for o in objects):
        print(f"crosscheck: {name}: posture did not print a JSON array of objects",
              file=sys.stderr)
        sys.exit(2)
    names = list(objects[0].keys()) if objects else None
    for obj in objects:
        if list(obj.keys()) != names:
            names = [list(o.keys()) for o in objects]  # columns vary: show it
            break
    return names, [tuple(obj.values()) for obj in objects]


# --------------------------------------------------------------------------
# Normalising both sides to comparable Python values.
# --------------------------------------------------------------------------

RFC3339_UTC = re.compile(r"(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2}:\d{2})(\.\d{3}|\.\d{6})?Z")
ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


def from_posture(kind, value):
    """A value of posture's JSON as the Python value it stands for."""
    if value is None:
        return None
    if kind == "text" and isinstance(value, str):
        return value
    if kind == "int" and isinstance(value, int) and not isinstance(value, bool):
        return value
    if kind == "pct" and isinstance(value, (int, Decimal)) and not isinstance(value, bool):
        return Decimal(value)
    if kind == "timestamp" and isinstance(value, str):
        match = RFC3339_UTC.fullmatch(value)
        if match:
            day, time, fraction = match.groups()
            micros = int((fraction or ".0")[1:].ljust(6, "0"))
            parsed = dt.datetime.fromisoformat(f"{day}T{time}+00:00")
            return parsed.replace(microsecond=micros)
    if kind == "date" and isinstance(value, str) and ISO_DAY.fullmatch(value):
        return dt.date.fromisoformat(value)
    return Unparsed(value)


def from_duckdb(kind, value):
    """A DuckDB result value as the same Python types as from_posture."""
    if value is None:
        return None
    if kind == "timestamp":
        return value.astimezone(dt.timezone.utc)
    if kind == "pct":
        return Decimal(value)
    return value


def normalise(rows, columns, convert):
    kinds = [kind for _, kind in columns]
    return [tuple(convert(k, v) for k, v in zip(kinds, row)) for row in rows]


# --------------------------------------------------------------------------
# Comparing.
# --------------------------------------------------------------------------


def show_value(value):
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dt.datetime):
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, dt.date):
        return value.isoformat()
    return repr(value)


def show_row(row):
    if row is None:
        return "(no row)"
    return "(" + ", ".join(show_value(v) for v in row) + ")"


def row_at(rows, index):
    return rows[index] if index < len(rows) else None


def compare(name, columns, ours, theirs, shown=3):
    """True when both sides agree; otherwise prints the first differing rows."""
    expected_names = [c for c, _ in columns]
    our_names, our_rows = ours
    their_names, their_rows = theirs
    if our_names != expected_names:
        raise AssertionError(f"{name}: the DuckDB query returns {our_names}")
    if their_names is not None and their_names != expected_names:
        print(f"MISMATCH {name}: columns differ\n  duckdb:  {expected_names}\n"
              f"  posture: {their_names}")
        return False
    length = max(len(our_rows), len(their_rows))
    differing = [i for i in range(length) if row_at(our_rows, i) != row_at(their_rows, i)]
    if not differing:
        print(f"ok {name}: {len(our_rows)} rows")
        return True
    print(f"MISMATCH {name}: {len(differing)} of {length} rows differ "
          f"(duckdb {len(our_rows)} rows, posture {len(their_rows)} rows)")
    print(f"  columns: {', '.join(expected_names)}")
    for i in differing[:shown]:
        print(f"  row {i + 1}")
        print(f"    duckdb:  {show_row(row_at(our_rows, i))}")
        print(f"    posture: {show_row(row_at(their_rows, i))}")
    return False


def parse_args(argv):
    def non_negative(text):
        value = int(text)
        if value < 0:
            raise argparse.ArgumentTypeError("must be 0 or more")
        return value

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posture", required=True, help="the posture binary to check")
    parser.add_argument("--lake", required=True, help="the lake folder")
    parser.add_argument("--as-of", type=dt.date.fromisoformat,
                        help="UTC day (default: the day of the newest observed_at)")
    parser.add_argument("--stale-days", type=non_negative, default=7)
    parser.add_argument("--days", type=non_negative, default=30)
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    con = open_lake(args.lake)
    as_of = args.as_of or default_as_of(con)
    prepare_snapshots(con, as_of, args.stale_days, args.days)
    all_ok = True
    for name, (sql, columns) in QUERIES.items():
        our_names, our_rows = run_duckdb(con, sql, as_of)
        their_names, their_rows = run_posture(
            args.posture, args.lake, name, as_of, args.stale_days, args.days)
        all_ok &= compare(
            name, columns,
            (our_names, normalise(our_rows, columns, from_duckdb)),
            (their_names, normalise(their_rows, columns, from_posture)),
        )
    return 0 if all_ok else 1


if __name__ == "__main__":
    sys.exit(main())
