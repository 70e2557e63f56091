"""Which of the day's files DuckDB reads in place, and the SQL that reads them.

A Parquet export whose time column is a timestamp, whose values and DCGM fields are numbers
and whose labels are columns (or one struct column) is read by DuckDB as it is: one
``read_parquet`` per distinct schema, with ``filename`` and ``file_row_number``. The line of
a Parquet sample is its row number counted from 1 (``file_row_number`` + 1), as before.
Anything else (Prometheus text, CSV, Parquet with epoch or text times, JSON labels or text
values) is read file by file in Python (``staging``): DuckDB's ``read_csv`` has no row number
to quarantine by, and the polars readers already parse those formats exactly.

Both kinds end as the same two relations, ``LONG_COLUMNS`` and ``WIDE_COLUMNS``; ``file`` is
the path DuckDB read (``DayFile.path``), mapped to the file's URI and id in ``_tel_files``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import polars as pl

from pipelines.ingest.errors import SourceError
from pipelines.ingest.telemetry.fields import FIELD_COLUMNS, LABELS, METRIC_COLUMNS
from pipelines.ingest.telemetry.long_format import METRIC_NAMES, TS_NAMES, layout
from pipelines.ingest.telemetry.sql import literal
from pipelines.warehouse import quote_identifier

WIDE_LABELS = [c for c in LABELS if c != "le"]
LONG_COLUMNS = ["file", "line", "ts", "metric", "value", *LABELS]
# text_cells: DCGM fields whose cell held text that is not a number (a CSV's "ERR");
# other_cells: numeric cells of DCGM fields unitcost does not read (not_used samples).
WIDE_COLUMNS = ["file", "line", "ts", *WIDE_LABELS, *FIELD_COLUMNS, "text_cells", "other_cells"]
NOT_TELEMETRY = "neither a long (timestamp, metric, value) nor a wide (DCGM_FI_* columns) export"
# $__files__ becomes each group's own list parameter (ParquetReads.relation).
_READ = (
    "read_parquet($__files__, filename = true, file_row_number = true, hive_partitioning = false)"
)


@dataclass(frozen=True)
class DayFile:
    fid: int  # rank in URI order: (fid, line) is the (file, line) order "first copy" means
    uri: str
    path: str  # what DuckDB reads: the URI, or a local copy of an S3 object
    source_file_id: int


@dataclass
class ParquetReads:
    """The day's in-place Parquet reads, grouped by the SELECT their schema needs."""

    long: dict[str, list[str]] = field(default_factory=dict)  # SELECT template -> paths
    wide: dict[str, list[str]] = field(default_factory=dict)
    staged: set[str] = field(default_factory=set)  # URIs read in Python instead

    def add(self, path: str, schema: pl.Schema, name: str) -> bool:
        """Plan ``path`` if DuckDB can read it in place; False if it needs the Python reader."""
        kind = layout(schema)
        if kind == "unknown":
            raise SourceError(name, NOT_TELEMETRY)
        select = _long_select(schema) if kind == "long" else _wide_select(schema, name)
        if select is None:
            return False
        getattr(self, kind).setdefault(select, []).append(path)
        return True

    def relation(self, kind: str, params: dict) -> str | None:
        """The union of this kind's reads (``$pN`` parameters added to ``params``)."""
        parts = []
        for select, paths in getattr(self, kind).items():
            name = f"files_{len(params)}"
            params[name] = paths
            parts.append(select.replace("$__files__", f"${name}"))
        return " union all ".join(parts) or None


def _q(name: str) -> str:
    return quote_identifier(name, validate=False)  # a file's own column name


def _plain(schema: pl.Schema) -> bool:
    """Names DuckDB cannot tell apart (it ignores case) or a JSON text labels column send the
    file to the polars reader, which treats them as before."""
    lowered = [n.lower() for n in schema.names()]
    return len(set(lowered)) == len(lowered) and schema.get("labels") != pl.String


def _ts(schema: pl.Schema) -> str | None:
    column = next(c for c in TS_NAMES if c in schema)  # layout() found one
    dtype = schema[column]
    if not isinstance(dtype, pl.Datetime):
        return None  # epoch numbers or text: unit checks and parsing live in long_format
    if dtype.time_zone is None:  # naive means UTC (RELIABILITY.md case 11)
        return f"timezone('UTC', cast({_q(column)} as timestamp))"
    return f"cast({_q(column)} as timestamptz)"


def _labels(schema: pl.Schema, columns: list[str]) -> list[str]:
    struct = schema.get("labels")
    fields = {f.name for f in struct.fields} if isinstance(struct, pl.Struct) else set()
    exprs = []
    for column in columns:
        parts = []
        for label in LABELS[column]:
            if label in schema:
                parts.append(f"cast({_q(label)} as varchar)")
            elif label in fields:
                parts.append(f'cast(struct_extract("labels", {literal(label)}) as varchar)')
        # Empty label values (dcgm-exporter's pod_uid="") mean absent.
        parts = [f"nullif({p}, '')" for p in parts]
        expr = f"coalesce({', '.join(parts)})" if parts else "null::varchar"
        exprs.append(f"{expr} as {column}")
    return exprs


def _long_select(schema: pl.Schema) -> str | None:
    ts = _ts(schema)
    if ts is None or not _plain(schema) or not schema["value"].is_numeric():
        return None
    metric = next(c for c in METRIC_NAMES if c in schema)
    return (
        f"select filename as file, file_row_number + 1 as line, {ts} as ts, "
        f'cast({_q(metric)} as varchar) as metric, cast("value" as double) as value, '
        f"{', '.join(_labels(schema, list(LABELS)))} from {_READ}"
    )


def _wide_select(schema: pl.Schema, name: str) -> str | None:
    ts = _ts(schema)
    fields = {METRIC_COLUMNS[c]: c for c in schema if c in METRIC_COLUMNS}
    if ts is None or not _plain(schema) or not all(schema[c].is_numeric() for c in fields.values()):
        return None
    if len(fields) < len([c for c in schema if c in METRIC_COLUMNS]):
        raise SourceError(name, "two columns hold the same DCGM field (a name and its alias)")
    values = [
        f"cast({_q(fields[c])} as double) as {c}" if c in fields else f"null::double as {c}"
        for c in FIELD_COLUMNS
    ]
    return (
        f"select filename as file, file_row_number + 1 as line, {ts} as ts, "
        f"{', '.join(_labels(schema, WIDE_LABELS))}, {', '.join(values)}, "
        f"[]::varchar[] as text_cells, {_other_cells(schema)} as other_cells "
        f"from {_READ}"
    )


def _other_cells(schema: pl.Schema) -> str:
    """Per row, the numeric cells of DCGM columns unitcost does not read. Text there (the
    driver version dcgm-exporter copies onto every row) is a label, not a sample."""
    terms = []
    for name, dtype in schema.items():
        if not name.startswith(("DCGM_FI_", "dcgm_")) or name in METRIC_COLUMNS:
            continue
        value = _q(name) if dtype.is_numeric() else f"_tel_to_double(cast({_q(name)} as varchar))"
        terms.append(f"({value} is not null)::integer")
    return f"({' + '.join(terms)})" if terms else "0"
