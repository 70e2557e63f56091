"""Write the warehouse's raw rows to the lake: each UTC day's partition, and the whole tables.

A day is replaced exactly: its rows go to one file with a fixed name, ``part-0.parquet``, which
replaces the previous one whole. Locally the file is written beside it under a hidden name
(no reader's ``*.parquet`` glob matches it) and renamed over it (``os.replace``, atomic on
POSIX); any other Parquet file in the folder is then removed. On S3 an object appears only when
its upload completes, so a reader sees the old file or the new one, never a part. A day with no
rows gets a file with no rows (the schema, no data), which replaces the old rows all the same.
Other days' folders are never touched.
"""

from __future__ import annotations

import datetime as dt
import os
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from pipelines.config import S3Config
from pipelines.lake.paths import PART_FILE, day_uri, is_s3, table_uri
from pipelines.lake.s3 import prepare_s3
from pipelines.lake.tables import DAILY_TABLES, RECOMMEND_TABLES, WHOLE_TABLES, LakeTable
from pipelines.warehouse import quote_identifier, sql_string, table_exists

SQL_DIR = Path(__file__).parent / "sql"
SCHEMA = "raw"


@dataclass
class LakeExport:
    """What one export wrote: rows per table (summed over days), tables absent from the
    warehouse (a source never configured), and the files written."""

    rows: dict[str, int] = field(default_factory=dict)
    missing_tables: list[str] = field(default_factory=list)
    files: list[str] = field(default_factory=list)


def _sql(name: str, table: LakeTable, target: str) -> str:
    """The COPY statement ``name`` for ``table``, writing to the file ``target``."""
    text = (SQL_DIR / name).read_text()
    column = quote_identifier(table.day_column) if table.day_column else ""
    return text.format(
        table=f"{quote_identifier(SCHEMA)}.{quote_identifier(table.name)}",
        column=column,
        target=sql_string(target),
    )


def _copy(
    con: duckdb.DuckDBPyConnection, name: str, table: LakeTable, params: list, folder: str
) -> tuple[int, str]:
    """Run COPY ``name`` of ``table`` into ``folder/part-0.parquet``, replacing it whole;
    returns (rows, uri)."""
    target = f"{folder}/{PART_FILE}"
    if is_s3(folder):
        (rows,) = con.execute(_sql(name, table, target), params).fetchone()
        return rows, target
    path = Path(folder)
    path.mkdir(parents=True, exist_ok=True)
    # Hidden and not *.parquet: invisible to readers until renamed; a leftover from a killed
    # export is removed by the next export of this folder.
    partial = path / f".{uuid.uuid4().hex}.parquet.partial"
    try:
        (rows,) = con.execute(_sql(name, table, str(partial)), params).fetchone()
        os.replace(partial, path / PART_FILE)
    finally:
        partial.unlink(missing_ok=True)
    for other in path.iterdir():
        stale = other.suffix == ".parquet" or other.name.endswith(".partial")
        if stale and other.name != PART_FILE:
            other.unlink(missing_ok=True)
    return rows, target


def _day_params(table: LakeTable, day: dt.date) -> tuple[str, list]:
    if table.day_kind == "timestamp":
        start = dt.datetime.combine(day, dt.time(), dt.UTC)
        return "copy_day_timestamp.sql", [start, start + dt.timedelta(days=1)]
    return "copy_day_date.sql", [day]


def export_days(
    con: duckdb.DuckDBPyConnection,
    root: str | Path,
    days: Iterable[dt.date],
    tables: Sequence[LakeTable] = DAILY_TABLES,
) -> LakeExport:
    """Write each of ``days`` of each day-partitioned table to its ``day=`` folder."""
    result = LakeExport()
    days = sorted(set(days))
    for table in tables:
        if not table_exists(con, f"{SCHEMA}.{table.name}"):
            result.missing_tables.append(table.name)
            continue
        for day in days:
            name, params = _day_params(table, day)
            rows, uri = _copy(con, name, table, params, day_uri(root, table, day))
            result.rows[table.name] = result.rows.get(table.name, 0) + rows
            result.files.append(uri)
    return result


def export_whole(
    con: duckdb.DuckDBPyConnection, root: str | Path, tables: Sequence[LakeTable] = WHOLE_TABLES
) -> LakeExport:
    """Write each unpartitioned table whole to ``{root}/raw/{table}/part-0.parquet``."""
    result = LakeExport()
    for table in tables:
        if not table_exists(con, f"{SCHEMA}.{table.name}"):
            result.missing_tables.append(table.name)
            continue
        rows, uri = _copy(con, "copy_whole.sql", table, [], table_uri(root, table))
        result.rows[table.name] = rows
        result.files.append(uri)
    return result


def export_window(
    con: duckdb.DuckDBPyConnection,
    root: str | Path,
    days: Iterable[dt.date],
    s3: S3Config | None = None,
) -> LakeExport:
    """The lake step of a run: the window's days of the daily tables, then the whole tables
    (snapshots and billing, which the run may have restated). ``root`` is a local folder or
    an ``s3://`` prefix (httpfs with the credential chain, ``pipelines/lake/s3.py``)."""
    if is_s3(root):
        prepare_s3(con, str(root), s3 or S3Config())
    daily = export_days(con, root, days)
    whole = export_whole(con, root)
    return LakeExport(
        rows={**daily.rows, **whole.rows},
        missing_tables=daily.missing_tables + whole.missing_tables,
        files=daily.files + whole.files,
    )


def export_recommend(
    con: duckdb.DuckDBPyConnection, root: str | Path, s3: S3Config | None = None
) -> LakeExport:
    """The recommendation engine's tables, whole (``RECOMMEND_TABLES``)."""
    if is_s3(root):
        prepare_s3(con, str(root), s3 or S3Config())
    return export_whole(con, root, RECOMMEND_TABLES)
