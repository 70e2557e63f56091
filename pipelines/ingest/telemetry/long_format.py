"""Long and wide CSV/Parquet exports -> the frames ``samples`` works on.

* **long**: one row per sample, columns ``timestamp`` (or ``ts``), ``metric`` (or
  ``__name__``), ``value``, and the labels either as one column each (``Hostname``, ``gpu``,
  ``UUID``, …) or as one ``labels`` column (a JSON object in CSV, a struct in Parquet).
* **wide**: one row per GPU scrape with a column per DCGM field (``DCGM_FI_DEV_GPU_UTIL`` …),
  as ``dcgmi dmon`` or a pivoted Prometheus export writes it. Far cheaper at fleet scale: the
  simulator's 1,000-GPU benchmark day is 8.8 M wide rows but 160 M long ones.

Timestamps: a timestamp type (naive = UTC), ISO text with an offset, integer epoch
milliseconds (Prometheus' unit) or float epoch seconds; a magnitude that disagrees with the
unit fails the file (RELIABILITY.md case 11) instead of silently selecting nothing.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl

from pipelines.ingest.errors import SourceError
from pipelines.ingest.telemetry.counts import SampleCounts, count_cells, window
from pipelines.ingest.telemetry.fields import LABELS, LONG_SCHEMA, METRIC_COLUMNS

TS_NAMES = ("timestamp", "ts", "time")
METRIC_NAMES = ("metric", "__name__")
# Plausible epoch ranges (years ~1973-5138 in ms, ~1973-5138 in s): outside is a unit error.
EPOCH_RANGES = {"ms": (1e11, 1e14), "s": (1e8, 1e11)}


def scan(path: Path) -> pl.LazyFrame:
    if path.name.endswith(".parquet"):
        return pl.scan_parquet(path)
    return pl.scan_csv(path, infer_schema=False, comment_prefix="#")


def layout(schema: pl.Schema) -> str:
    names = set(schema.names())
    if names & set(METRIC_NAMES) and "value" in names:
        return "long"
    if names & set(METRIC_COLUMNS):
        return "wide"
    return "unknown"


def _pick(names: list[str], candidates: tuple[str, ...], what: str, file: str) -> str:
    found = next((c for c in candidates if c in names), None)
    if found is None:
        raise SourceError(file, f"no {what} column (expected one of {', '.join(candidates)})")
    return found


def _epoch(lf: pl.LazyFrame, col: pl.Expr, unit: str, column: str, file: str) -> pl.Expr:
    low, high = EPOCH_RANGES[unit]
    lo, hi = lf.select(col.min().alias("lo"), col.max().alias("hi")).collect().row(0)
    if lo is not None and not (low <= lo and hi < high):
        kind = "Int64" if unit == "ms" else "Float64"
        raise SourceError(
            file,
            f"{kind} epochs are read as epoch {unit}, but values span {lo}..{hi}",
            column=column,
        )
    scale = 1_000 if unit == "ms" else 1_000_000
    return (col.cast(pl.Float64) * scale).round().cast(pl.Int64).cast(pl.Datetime("us", "UTC"))


def _number_kind(lf: pl.LazyFrame, col: pl.Expr) -> str | None:
    """CSV timestamps arrive as text: 'ms' for integer digits, 's' for a decimal, else None."""
    first = lf.select(col.drop_nulls().first()).collect().item()
    for unit, parse in (("ms", int), ("s", float)):
        try:
            parse(first)
            return unit
        except (TypeError, ValueError):
            continue
    return None


def _ts_expr(lf: pl.LazyFrame, column: str, dtype: pl.DataType, file: str) -> pl.Expr:
    col = pl.col(column)
    if isinstance(dtype, pl.Datetime):
        if dtype.time_zone is None:
            return col.dt.replace_time_zone("UTC").dt.cast_time_unit("us")
        return col.dt.convert_time_zone("UTC").dt.cast_time_unit("us")
    if dtype.is_integer() or dtype.is_float():
        return _epoch(lf, col, "ms" if dtype.is_integer() else "s", column, file)
    unit = _number_kind(lf, col)
    if unit is not None:
        number = col.cast(pl.Int64 if unit == "ms" else pl.Float64, strict=False)
        return _epoch(lf, number, unit, column, file)
    return col.str.to_datetime(time_unit="us", time_zone="UTC", strict=False)


def _line_expr(path: Path) -> pl.Expr:
    # Physical line: Parquet rows count from 1, a CSV has its header on line 1.
    first = 1 if path.name.endswith(".parquet") else 2
    return (pl.int_range(pl.len(), dtype=pl.Int64) + first).alias("source_line")


def _label_exprs(schema: pl.Schema) -> list[pl.Expr]:
    names = schema.names()
    struct = schema.get("labels")
    exprs = []
    for column, labels in LABELS.items():
        parts = []
        for label in labels:
            if label in names:
                parts.append(pl.col(label).cast(pl.String))
            elif isinstance(struct, pl.Struct) and label in {f.name for f in struct.fields}:
                parts.append(pl.col("labels").struct.field(label).cast(pl.String))
            elif struct == pl.String:
                parts.append(pl.col("labels").str.json_path_match(f"$.{label}"))
        # Empty label values (dcgm-exporter's pod_uid="") mean absent.
        parts = [pl.when(p != "").then(p) for p in parts]
        exprs.append((pl.coalesce(parts) if parts else pl.lit(None, pl.String)).alias(column))
    return exprs


def read_long(
    path: Path, file: str, start: dt.datetime, end: dt.datetime, counts: SampleCounts | None = None
) -> pl.DataFrame:
    """The long file's samples with ``start <= ts < end`` or no readable time (quarantined
    later); ``counts`` gets the file's samples and those outside the window."""
    lf = scan(path)
    schema = lf.collect_schema()
    names = schema.names()
    ts_col = _pick(names, TS_NAMES, "timestamp", file)
    metric_col = _pick(names, METRIC_NAMES, "metric", file)
    ts = _ts_expr(lf, ts_col, schema[ts_col], file)
    frame = (
        lf.with_columns(_line_expr(path))
        .select(
            pl.lit(file).alias("source_file"),
            "source_line",
            ts.alias("ts"),
            pl.col(metric_col).cast(pl.String).alias("metric"),
            pl.col("value").cast(pl.Float64, strict=False).alias("value"),
            *_label_exprs(schema),
        )
        .collect()
    )
    return window(frame.cast(LONG_SCHEMA), file, start, end, counts)  # type: ignore[arg-type]


def _other_fields(schema: pl.Schema) -> list[pl.Expr]:
    """Numeric values of DCGM fields unitcost does not read (other ``DCGM_FI_*`` or legacy
    ``dcgm_*`` columns), as ``_other:<name>`` columns to count and drop. Text there
    (``DCGM_FI_DRIVER_VERSION``) is a label dcgm-exporter copies onto every row, not a sample."""
    exprs = []
    for name, dtype in schema.items():
        if not name.startswith(("DCGM_FI_", "dcgm_")) or name in METRIC_COLUMNS:
            continue
        value = pl.col(name)
        if not dtype.is_numeric():
            value = value.cast(pl.String).cast(pl.Float64, strict=False)
        exprs.append(value.alias(f"_other:{name}"))
    return exprs


def read_wide(
    path: Path, file: str, start: dt.datetime, end: dt.datetime, counts: SampleCounts | None = None
) -> pl.DataFrame:
    """The wide file's GPU scrapes with ``start <= ts < end`` or no readable time: key and
    label columns as in ``LONG_SCHEMA`` (strings), one column per DCGM field (named by its
    warehouse column; Float64, or the text as read for the checks to quarantine).
    ``counts`` gets the file's samples (non-null field cells), those outside the window and
    the day's samples of fields unitcost does not read."""
    counts = counts if counts is not None else SampleCounts()
    lf = scan(path)
    schema = lf.collect_schema()
    ts_col = _pick(schema.names(), TS_NAMES, "timestamp", file)
    ts = _ts_expr(lf, ts_col, schema[ts_col], file)
    fields = []
    for name, dtype in schema.items():
        if name in METRIC_COLUMNS:
            # Text (a CSV's cells) stays text: the checks quarantine what is not a number.
            value = pl.col(name).cast(pl.Float64 if dtype.is_numeric() else pl.String)
            fields.append(value.alias(METRIC_COLUMNS[name]))
    labels = [e for e in _label_exprs(schema) if e.meta.output_name() not in ("le",)]
    others = _other_fields(schema)
    frame = (
        lf.with_columns(_line_expr(path))
        .select(
            pl.lit(file).alias("source_file"),
            "source_line",
            ts.alias("ts"),
            *labels,
            *fields,
            *others,
        )
        .collect()
    )
    used = [e.meta.output_name() for e in fields]
    other = [e.meta.output_name() for e in others]
    frame = window(frame, file, start, end, counts, used + other)
    counts.add_file("not_used", file, count_cells(frame, other))
    return frame.drop(other)
