"""The files read in Python, one at a time: their samples of the day go to two temp tables
that the SQL steps read beside the Parquet read in place (``sources``).

These are the small formats (Prometheus text scrapes and exports) and the exports DuckDB
cannot read as they are (CSV, epoch or text times, JSON labels). Each is read, windowed and
counted exactly as the polars ingest did (``exposition``, ``long_format``, ``counts.window``),
then appended, so memory holds one file, never the day. ``file`` is the ``DayFile.path``.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import polars as pl

from pipelines.config import S3Config
from pipelines.ingest.errors import SourceError
from pipelines.ingest.storage import SourceFile, read_bytes
from pipelines.ingest.telemetry.counts import SampleCounts, window
from pipelines.ingest.telemetry.exposition import parse_exposition, time_from_name
from pipelines.ingest.telemetry.fields import FIELD_COLUMNS
from pipelines.ingest.telemetry.long_format import layout, read_long, read_wide, scan
from pipelines.ingest.telemetry.sources import (
    LONG_COLUMNS,
    NOT_TELEMETRY,
    WIDE_COLUMNS,
    WIDE_LABELS,
    DayFile,
)

STAGED_LONG = "_tel_staged_long"
STAGED_WIDE = "_tel_staged_wide"
_FRAME = "_tel_frame"


def create_tables(con: duckdb.DuckDBPyConnection) -> None:
    long = ["file varchar", "line bigint", "ts timestamptz", "metric varchar", "value double"]
    long += [f"{c} varchar" for c in LONG_COLUMNS[5:]]
    wide = ["file varchar", "line bigint", "ts timestamptz"]
    wide += [f"{c} varchar" for c in WIDE_LABELS] + [f"{c} double" for c in FIELD_COLUMNS]
    wide += ["text_cells varchar[]", "other_cells integer"]
    con.execute(f"create or replace temp table {STAGED_LONG} ({', '.join(long)})")
    con.execute(f"create or replace temp table {STAGED_WIDE} ({', '.join(wide)})")


def stage_text(
    con: duckdb.DuckDBPyConnection,
    source: SourceFile,
    day_file: DayFile,
    s3: S3Config | None,
    bounds: tuple[dt.datetime, dt.datetime],
    counts: SampleCounts,
) -> None:
    """Parse one Prometheus text file and append its samples of the day; ``counts`` gets its
    samples read and those outside the window, keyed by URI like every ledger term."""
    text = read_bytes(source, s3).decode("utf-8")
    frame = parse_exposition(text, source.uri, time_from_name(source.relative_path))
    frame = window(frame, source.uri, *bounds, counts)
    _append(con, STAGED_LONG, LONG_COLUMNS, frame, day_file)


def stage_table(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    day_file: DayFile,
    bounds: tuple[dt.datetime, dt.datetime],
    counts: SampleCounts,
) -> None:
    """Read one long or wide export (a local ``path``) with the polars readers and append its
    samples of the day; ``counts`` gets its read, outside and (wide) not-used samples."""
    name = day_file.uri
    kind = layout(scan(path).collect_schema())
    if kind == "long":
        frame = read_long(path, name, *bounds, counts)
        _append(con, STAGED_LONG, LONG_COLUMNS, frame, day_file)
    elif kind == "wide":
        frame = _wide_cells(read_wide(path, name, *bounds, counts))
        _append(con, STAGED_WIDE, WIDE_COLUMNS, frame, day_file)
    else:
        raise SourceError(name, NOT_TELEMETRY)


def _wide_cells(wide: pl.DataFrame) -> pl.DataFrame:
    """A wide frame as ``WIDE_COLUMNS``: each field a Float64 (NULL if absent or text) and
    the fields whose cell held text that is not a number listed in ``text_cells``."""
    values, texts = [], []
    for column in FIELD_COLUMNS:
        if column not in wide.columns:
            values.append(pl.lit(None, pl.Float64).alias(column))
        elif wide.schema[column] == pl.String:
            value = pl.col(column).cast(pl.Float64, strict=False)
            texts.append(
                pl.when(pl.col(column).is_not_null() & value.is_null()).then(pl.lit(column))
            )
            values.append(value.alias(column))
        else:
            values.append(pl.col(column).cast(pl.Float64))
    text_cells = (
        pl.concat_list(texts).list.drop_nulls() if texts else pl.lit([], pl.List(pl.String))
    )
    return wide.with_columns(*values, text_cells=text_cells, other_cells=pl.lit(0, pl.Int32))


def _append(
    con: duckdb.DuckDBPyConnection,
    table: str,
    columns: list[str],
    frame: pl.DataFrame,
    day_file: DayFile,
) -> None:
    if frame.height == 0:
        return
    frame = frame.with_columns(file=pl.lit(day_file.path), line=pl.col("source_line"))
    con.register(_FRAME, frame.select(columns).to_arrow())
    try:
        con.execute(f"insert into {table} select * from {_FRAME}")
    finally:
        con.unregister(_FRAME)
