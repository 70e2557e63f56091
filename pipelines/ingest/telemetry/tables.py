"""The raw telemetry tables: their columns, one day's replacement, and the move of tables
made before ``source_file_id`` from a path on every row to the file's id.

``raw.dcgm_samples`` and ``raw.engine_metric_samples`` carry ``source_file_id``
(``ingest.file_ids``; ``raw.source_files`` maps it back to the path): the path repeated on
tens of millions of rows was most of a narrow row. ``raw.quarantine_telemetry`` and the
ledger keep the path: they are few rows, read by people. For the same reason a sample carries
``series_id``, its labels being in ``raw.engine_series`` (``engine_metrics``) or
``raw.dcgm_series`` (``scrapes``); ``ensure_tables`` moves a table made before that too.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import duckdb

from pipelines.ingest.file_ids import SOURCE_FILES, register_files
from pipelines.ingest.quarantine import QUARANTINE_SCHEMA, quarantine_table
from pipelines.ingest.telemetry import day_tables, engine_metrics, scrapes
from pipelines.ingest.telemetry.fields import (
    DCGM_SCHEMA,
    DCGM_SERIES_SCHEMA,
    ENGINE_SCHEMA,
    ENGINE_SERIES_SCHEMA,
    sql_type,
)
from pipelines.ingest.telemetry.series import store_series
from pipelines.warehouse import add_missing_columns

SOURCE = "telemetry"
SCHEMAS = {
    "dcgm_samples": DCGM_SCHEMA,
    "engine_metric_samples": ENGINE_SCHEMA,
    "engine_series": ENGINE_SERIES_SCHEMA,
    "dcgm_series": DCGM_SERIES_SCHEMA,
    quarantine_table(SOURCE): QUARANTINE_SCHEMA,
}
_WINDOWED = ("dcgm_samples", "engine_metric_samples")  # by sample time; quarantine by day


@dataclass(frozen=True)
class _Series:
    """A sample table whose rows once carried their labels, and where they now live."""

    samples: str
    series: str
    labels: list[str]
    series_id: str  # SQL: the id of a row's labels
    schema: dict  # the sample table's columns now
    series_schema: dict  # the series table's


_SERIES = (
    _Series(
        engine_metrics.TABLE, engine_metrics.SERIES_TABLE, engine_metrics.LABELS,
        engine_metrics.SERIES_ID, ENGINE_SCHEMA, ENGINE_SERIES_SCHEMA,
    ),
    _Series(
        scrapes.TABLE, scrapes.SERIES_TABLE, scrapes.SERIES_LABELS, scrapes.SERIES_ID,
        DCGM_SCHEMA, DCGM_SERIES_SCHEMA,
    ),
)  # fmt: skip


def ensure_tables(con: duckdb.DuckDBPyConnection) -> None:
    """Create the raw tables if missing; move old ones from paths to ``source_file_id`` and
    old engine samples from label columns to ``series_id``."""
    con.execute("create schema if not exists raw")
    for table, schema in SCHEMAS.items():
        columns = ", ".join(f"{c} {sql_type(t)}" for c, t in schema.items())
        con.execute(f"create table if not exists raw.{table} ({columns})")
    present = _columns(con)
    for table in _WINDOWED:
        if "source_file" in present[table]:
            _move_to_file_ids(con, table)
    for moved in _SERIES:
        if "series_id" not in present[moved.samples.removeprefix("raw.")]:
            _move_to_series_ids(con, moved)


def clear_day(con: duckdb.DuckDBPyConnection, day: dt.date) -> None:
    """Delete the day's rows: samples of ``[day, day+1)`` and the day's quarantine."""
    start = dt.datetime.combine(day, dt.time(), dt.UTC)
    for table in _WINDOWED:
        con.execute(
            f"delete from raw.{table} where ts >= ? and ts < ?",
            [start, start + dt.timedelta(days=1)],
        )
    con.execute(f"delete from raw.{quarantine_table(SOURCE)} where partition_day = ?", [day])


def store_quarantine(con: duckdb.DuckDBPyConnection, day: dt.date) -> tuple[int, dict[str, int]]:
    """Store the day's ``_tel_q`` rows, each naming its file by path; returns their count and
    their count per column (the asset's metadata)."""
    (n,) = con.execute(
        f"insert into raw.{quarantine_table(SOURCE)} "
        "(source_file, line, column_name, reason, partition_day) "
        f"select f.uri, q.line, q.column_name, q.reason, ? from {day_tables.QUARANTINE} q "
        f"join {day_tables.FILES} f on f.path = q.file",
        [day],
    ).fetchone()
    by_field = con.execute(
        f"select coalesce(column_name, '(sample)'), count(*) from {day_tables.QUARANTINE} "
        "group by 1"
    ).fetchall()
    return int(n), dict(by_field)


def _columns(con: duckdb.DuckDBPyConnection) -> dict[str, set[str]]:
    """The columns of each windowed table (one catalog read: each costs ~0.2 s)."""
    rows = con.execute(
        "select table_name, column_name from duckdb_columns() "
        "where schema_name = 'raw' and table_name in (select unnest(?))",
        [list(_WINDOWED)],
    ).fetchall()
    present: dict[str, set[str]] = {t: set() for t in _WINDOWED}
    for table, column in rows:
        present[table].add(column)
    return present


def _move_to_file_ids(con: duckdb.DuckDBPyConnection, table: str) -> None:
    """Each step is idempotent and atomic on its own (DuckDB will not alter and update one
    table in one transaction): a move cut short is finished by the next ``ensure_tables``."""
    paths = con.execute(f"select distinct source_file from raw.{table}").fetchall()
    register_files(con, SOURCE, [p for (p,) in paths if p is not None])
    add_missing_columns(con, "raw", table, {"source_file_id": "BIGINT"})
    con.execute(
        f"update raw.{table} t set source_file_id = s.source_file_id "
        f"from {SOURCE_FILES} s where s.uri = t.source_file"
    )
    con.execute(f"alter table raw.{table} drop column source_file")


def _move_to_series_ids(con: duckdb.DuckDBPyConnection, moved: _Series) -> None:
    """Samples stored with their labels: each distinct series into its series table, the
    sample table rewritten with its id (same rows, same order)."""
    schema, table = moved.samples.split(".")
    present = {
        c
        for (c,) in con.execute(
            "select column_name from duckdb_columns() where schema_name = ? and table_name = ?",
            [schema, table],
        ).fetchall()
    }
    types = {**moved.schema, **moved.series_schema}
    # A column an older table never had reads as NULL (its rows never had the field).
    read = ", ".join(
        c if c in present else f"null::{sql_type(types[c])} as {c}"
        for c in dict.fromkeys([*moved.labels, *moved.schema])
        if c != "series_id"
    )
    old = f"(select {read} from {moved.samples})"
    labels = ", ".join(moved.labels)
    con.execute(
        "create or replace temp table _tel_moved_series as "
        f"select distinct {moved.series_id} as series_id, {labels} from {old}"
    )
    store_series(con, "_tel_moved_series", moved.series, moved.labels)
    con.execute("drop table _tel_moved_series")
    columns = ", ".join(
        f"{moved.series_id} as series_id" if c == "series_id" else c for c in moved.schema
    )
    con.execute(f"create or replace table {moved.samples} as select {columns} from {old}")
