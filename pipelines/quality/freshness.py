"""Which UTC days a source delivered rows for: the one definition the freshness check
(``pipelines/assets/freshness.py``) and the weekly report's "data missing" notice share."""

from __future__ import annotations

import datetime as dt

import duckdb

from pipelines.config import FreshnessConfig
from pipelines.warehouse import table_exists

# Per source: its raw table and the rows that belong to day ? (a billing line to every day
# its charge period overlaps). Constants: the SQL below formats only these, values are
# parameters.
DAY_ROWS = {
    "billing": (
        "raw.billing_line_items",
        "charge_period_start < ? + interval 1 day and charge_period_end > ?",
    ),
    "telemetry": ("raw.dcgm_samples", "ts >= ? and ts < ? + interval 1 day"),
    "requests": ("raw.inference_requests", "arrival_ts >= ? and arrival_ts < ? + interval 1 day"),
}


def source_configured(con: duckdb.DuckDBPyConnection, source: str) -> bool:
    """A source whose raw table does not exist was never loaded: nothing is "missing"."""
    return table_exists(con, DAY_ROWS[source][0])


def rows_on_day(con: duckdb.DuckDBPyConnection, source: str, day: dt.date) -> int:
    table, where = DAY_ROWS[source]
    if not table_exists(con, table):
        return 0
    start = dt.datetime.combine(day, dt.time(), dt.UTC)
    return con.execute(f"select count(*) from {table} where {where}", [start, start]).fetchone()[0]


def missing_days(
    con: duckdb.DuckDBPyConnection,
    source: str,
    days: list[dt.date],
    freshness: FreshnessConfig,
    now: dt.datetime,
) -> tuple[list[str], list[str]]:
    """(days due with no rows, days not yet due) of ``source``."""
    missing, pending = [], []
    for day in days:
        if now < freshness.due(day):
            pending.append(day.isoformat())
        elif rows_on_day(con, source, day) == 0:
            missing.append(day.isoformat())
    return missing, pending
