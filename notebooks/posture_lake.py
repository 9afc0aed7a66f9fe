"""Reading a posture lake from Python: the tables as polars LazyFrames and
as DuckDB views, and the snapshot rules of compliance.md (latest report per
device, staleness, current policy states) for the notebooks beside it.

The lake is Hive-partitioned Parquet (`LAKE/<table>/date=YYYY-MM-DD/*.parquet`);
nothing here writes to it.
"""

import os
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import duckdb
import polars as pl

TABLES = ["reports", "policy_states", "setting_states", "ingest_log", "quarantine", "exceptions"]


def lake_path() -> Path:
    """`POSTURE_LAKE`, or the lake the README's main job builds (`out/lake`)."""
    lake = Path(os.environ.get("POSTURE_LAKE", Path(__file__).parent.parent / "out" / "lake"))
    if not (lake / "reports").is_dir():
        raise SystemExit(
            f"{lake} is not a posture lake; build one with "
            f"`posture ingest --lake {lake} sample-data/` or set POSTURE_LAKE"
        )
    return lake.resolve()


def table(lake: Path, name: str) -> pl.LazyFrame:
    """One lake table, with its `date` partition column."""
    return pl.scan_parquet(lake / name / "**" / "*.parquet", hive_partitioning=True)


def duckdb_connection(lake: Path) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB with a view per lake table that has files."""
    con = duckdb.connect()
    for name in TABLES:
        if any((lake / name).glob("*/*.parquet")):
            con.execute(
                f"CREATE VIEW {name} AS SELECT * FROM read_parquet("
                f"'{lake / name}/*/*.parquet', hive_partitioning = true)"
            )
    return con


def newest_day(lake: Path) -> date:
    """The default as-of day: the UTC date of the newest observed_at."""
    newest = table(lake, "reports").select(pl.col("observed_at").max()).collect().item()
    return newest.astimezone(timezone.utc).date()


def day_end(as_of: date) -> datetime:
    """The end of the as-of day (exclusive), in UTC."""
    return datetime.combine(as_of + timedelta(days=1), datetime.min.time(), tzinfo=timezone.utc)


def latest_reports(lake: Path, as_of: date, stale_days: int = 7) -> pl.DataFrame:
    """Each device's latest report before the end of `as_of` (ties: the
    greatest report_id), with `stale` as compliance.md defines it."""
    end = day_end(as_of)
    return (
        table(lake, "reports")
        .filter(pl.col("observed_at") < end)
        .sort(["device_id", "observed_at", "report_id"])
        .group_by("device_id", maintain_order=True)
        .last()
        .with_columns(stale=pl.col("observed_at") < end - timedelta(days=stale_days))
        .collect()
    )


def device_status(lake: Path, as_of: date, stale_days: int = 7) -> pl.DataFrame:
    """Latest reports with each device's compliance: compliant, noncompliant
    or no_policy, from the policy states of its latest report."""
    latest = latest_reports(lake, as_of, stale_days)
    states = (
        table(lake, "policy_states")
        .join(latest.lazy().select("report_id", "device_id", "observed_at"), on=["report_id", "device_id", "observed_at"])
        .group_by("device_id")
        .agg(
            failing=pl.col("state").is_in(["Error", "Conflict", "Pending"]).sum(),
            succeeded=(pl.col("state") == "Succeeded").sum(),
        )
        .collect()
    )
    return latest.join(states, on="device_id", how="left").with_columns(
        compliance=pl.when(pl.col("failing").fill_null(0) > 0)
        .then(pl.lit("noncompliant"))
        .when(pl.col("succeeded").fill_null(0) > 0)
        .then(pl.lit("compliant"))
        .otherwise(pl.lit("no_policy"))
    )
