"""DuckDB reads for the suites: one partition's rows, the schema frame, the trailing baseline.

Values are always parameters; table and column names come from ``SOURCES`` (code), quoted.
"""

from __future__ import annotations

import datetime as dt

import duckdb
import pandas as pd

from pipelines import warehouse
from pipelines.quality.expectations import TRAILING_DAYS, TS_EPOCH, Baseline, SourceRules
from pipelines.warehouse import quote_identifier


def _table(rules: SourceRules) -> str:
    schema, table = rules.table.split(".")
    return f"{quote_identifier(schema)}.{quote_identifier(table)}"


def table_exists(con: duckdb.DuckDBPyConnection, rules: SourceRules) -> bool:
    return warehouse.table_exists(con, rules.table)


def schema_frame(con: duckdb.DuckDBPyConnection, rules: SourceRules) -> pd.DataFrame:
    """One row: a column per table column, holding its DuckDB type name."""
    schema, table = rules.table.split(".")
    rows = con.execute(
        "select column_name, data_type from information_schema.columns "
        "where table_schema = ? and table_name = ? order by ordinal_position",
        [schema, table],
    ).fetchall()
    return pd.DataFrame([{name: kind for name, kind in rows}])


def partition_frame(
    con: duckdb.DuckDBPyConnection, rules: SourceRules, start: dt.datetime, end: dt.datetime
) -> pd.DataFrame:
    """The suite's columns of the rows whose ``rules.ts`` is in ``[start, end)``, plus the
    timestamp in epoch seconds (``TS_EPOCH``)."""
    present = set(schema_frame(con, rules).columns)
    # A column the table lacks is read as NULL: the schema suite reports it missing, and
    # the partition suite then fails its not-null rather than erroring on the whole read.
    cols = ", ".join(
        quote_identifier(c) if c in present else f"null as {quote_identifier(c)}"
        for c in rules.columns()
    )
    ts = quote_identifier(rules.ts)
    return con.execute(
        f"select {cols}, epoch({ts}) as {TS_EPOCH} from {_table(rules)} "
        f"where {ts} >= ? and {ts} < ?",
        [start, end],
    ).df()


def baseline(con: duckdb.DuckDBPyConnection, rules: SourceRules, day: dt.date) -> Baseline:
    """Daily row counts and means over the TRAILING_DAYS before ``day`` (days with rows)."""
    start = dt.datetime.combine(day - dt.timedelta(days=TRAILING_DAYS), dt.time(), dt.UTC)
    end = dt.datetime.combine(day, dt.time(), dt.UTC)
    ts = quote_identifier(rules.ts)
    means = "".join(f", avg({quote_identifier(c)})" for c in rules.mean_columns)
    rows = con.execute(
        f"select count(*){means} from {_table(rules)} where {ts} >= ? and {ts} < ? "
        f"group by cast({ts} as date)",
        [start, end],
    ).fetchall()
    return Baseline(
        row_counts=tuple(r[0] for r in rows),
        means={
            c: tuple(float(r[i + 1]) for r in rows if r[i + 1] is not None)
            for i, c in enumerate(rules.mean_columns)
        },
    )
