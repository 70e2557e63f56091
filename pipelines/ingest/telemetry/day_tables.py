"""The temp tables one day's load works in, on the caller's connection (and transaction).

* ``_tel_files``: each file the day read: ``path`` (what DuckDB read, the ``file`` column of
  every relation), its ``uri`` (quarantine and ledger name it so), ``source_file_id`` (what
  stored rows carry) and ``fid``, its rank in URI order: "the first copy" of a duplicate is
  the first in (file, line) order, as when the rows were sorted by path and line;
* ``_tel_q``: the day's quarantine, one row per bad sample, ``conflict_key`` shared by the
  copies of one conflicting duplicate (the threshold counts those once);
* ``_tel_metric_columns``: each accepted DCGM metric name -> warehouse column and bounds.

Everything named ``_tel_*`` is dropped by ``drop_all`` when the load ends.
"""

from __future__ import annotations

import duckdb
import polars as pl

from pipelines.ingest.telemetry.fields import FIELD_BY_COLUMN, METRIC_COLUMNS
from pipelines.ingest.telemetry.sources import DayFile
from pipelines.ingest.telemetry.sql import run
from pipelines.warehouse import quote_identifier

FILES = "_tel_files"
QUARANTINE = "_tel_q"
METRICS = "_tel_metric_columns"
PREFIX = "_tel_"


def create(con: duckdb.DuckDBPyConnection, files: list[DayFile]) -> None:
    frame = pl.DataFrame(
        {
            "fid": [f.fid for f in files],
            "path": [f.path for f in files],
            "uri": [f.uri for f in files],
            "source_file_id": [f.source_file_id for f in files],
        },
        schema={"fid": pl.Int32, "path": pl.String, "uri": pl.String, "source_file_id": pl.Int64},
    )
    metrics = pl.DataFrame(
        {
            "metric": list(METRIC_COLUMNS),
            "field": list(METRIC_COLUMNS.values()),
            "low": [FIELD_BY_COLUMN[c].low for c in METRIC_COLUMNS.values()],
            "high": [FIELD_BY_COLUMN[c].high for c in METRIC_COLUMNS.values()],
        },
        schema={"metric": pl.String, "field": pl.String, "low": pl.Float64, "high": pl.Float64},
    )
    for table, data in ((FILES, frame), (METRICS, metrics)):
        con.register("_tel_frame", data.to_arrow())
        con.execute(f"create or replace temp table {table} as select * from _tel_frame")
        con.unregister("_tel_frame")
    con.execute(
        f"create or replace temp table {QUARANTINE} (file varchar, line bigint, "
        "column_name varchar, reason varchar, conflict_key ubigint)"
    )


def drop_all(con: duckdb.DuckDBPyConnection) -> None:
    names = con.execute(
        "select table_name from duckdb_tables() where temporary and starts_with(table_name, ?)",
        [PREFIX],
    ).fetchall()
    for (name,) in names:
        con.execute(f"drop table if exists temp.{quote_identifier(name, validate=False)}")


def per_file(con: duckdb.DuckDBPyConnection, sql: str, params: dict | None = None) -> list:
    """``(uri, counts...)`` rows of a ``(file, counts...)`` query: the SQL steps' counts for
    the ledger, keyed like the Python readers' (by URI)."""
    query = f"select f.uri, q.* exclude (file) from ({sql}) q join {FILES} f on f.path = q.file"
    return run(con, query, params).fetchall()
