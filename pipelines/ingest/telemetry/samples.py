"""DCGM samples -> ``raw.dcgm_samples`` rows: validated, deduplicated, one row per GPU scrape.

Stored wide (a column per field, NULL when the scrape lacks it): a GPU scrape is what the
rollups read, and wide rows are ~20× fewer than long ones. Rules (RELIABILITY.md):

* case 23 — duplicates (an HA Prometheus pair, overlapping exports) are matched on
  (UUID, GPU_I_ID, field, ts): equal values collapse to one, differing ones are quarantined;
* case 24 — NaN, ±Inf and out-of-range values are quarantined with file, line and field,
  never clipped; a temperature of 0 (DCGM's "unsupported") becomes NULL;
* a sample without host or UUID, or with a non-integer GPU index, is quarantined.
"""

from __future__ import annotations

import polars as pl

from pipelines.costmodel.gpus import resolve_gpu_name
from pipelines.ingest.telemetry.fields import (
    DCGM_SCHEMA,
    FIELD_BY_COLUMN,
    FIELD_COLUMNS,
    KEY_SCHEMA,
    METRIC_COLUMNS,
    host_expr,
)

QUARANTINE_COLUMNS = {
    "source_file": pl.String,
    "line": pl.Int64,
    "column_name": pl.String,
    "reason": pl.String,
    # Internal, never stored: a hash of the sample key shared by all copies of one conflicting
    # duplicate (NULL otherwise), so the day's threshold counts one lost sample per key, not
    # one per copy (an HA pair would otherwise count every disagreement twice).
    "conflict_key": pl.UInt64,
}
STORED_QUARANTINE_COLUMNS = [c for c in QUARANTINE_COLUMNS if c != "conflict_key"]
KEY = ["gpu_uuid", "gpu_instance_id", "ts"]
LABEL_COLUMNS = ["host", "gpu_index", "gpu_model_name", "gpu_instance_profile"]
LABEL_COLUMNS += ["namespace", "pod", "container"]
_BOUNDS = pl.DataFrame(
    {
        "column": FIELD_COLUMNS,
        "low": [FIELD_BY_COLUMN[c].low for c in FIELD_COLUMNS],
        "high": [FIELD_BY_COLUMN[c].high for c in FIELD_COLUMNS],
    },
    schema={"column": pl.String, "low": pl.Float64, "high": pl.Float64},
)


def _quarantine(
    frame: pl.DataFrame, column: pl.Expr, reason: pl.Expr, key: pl.Expr | None = None
) -> pl.DataFrame:
    return frame.select(
        pl.col("source_file"),
        pl.col("source_line").alias("line"),
        column.cast(pl.String).alias("column_name"),
        reason.cast(pl.String).alias("reason"),
        (pl.lit(None) if key is None else key).cast(pl.UInt64).alias("conflict_key"),
    )


def _is_bad(value: pl.Expr, low: pl.Expr, high: pl.Expr) -> pl.Expr:
    return value.is_nan() | value.is_infinite() | (value < low) | (value > high)


def _bad_value(value: pl.Expr, low: pl.Expr, high: pl.Expr) -> pl.Expr:
    """The reason a value is impossible, or NULL when it is fine."""
    text = value.cast(pl.String)
    return (
        pl.when(value.is_nan())
        .then(pl.lit("value is NaN"))
        .when(value.is_infinite())
        .then(pl.format("value is {}", text))
        .when(low.is_not_null() & (value < low))
        .then(pl.format("value {} is below {}", text, low))
        .when(high.is_not_null() & (value > high))
        .then(pl.format("value {} is above {}", text, high))
    )


def split_bad(
    frame: pl.DataFrame, bad: pl.Expr, reason: pl.Expr, column: pl.Expr
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(rows where ``bad`` is false, quarantine rows with ``reason`` for the others).

    The reason text is only built for the (few) bad rows: formatting it for every row of a
    fleet-day costs more than the rest of the checks.
    """
    bad_mask = frame.select(bad.fill_null(False)).to_series()
    if not bad_mask.any():
        return frame, pl.DataFrame(schema=QUARANTINE_COLUMNS)
    return frame.filter(~bad_mask), _quarantine(frame.filter(bad_mask), column, reason)


def dedupe(frame: pl.DataFrame, key: list[str], what: str) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Collapse equal duplicates of ``key``; quarantine all copies of differing ones.

    The first copy in (file, line) order is kept. Only duplicated rows are examined, so the
    usual case (no overlap) costs one hash pass.
    """
    # A hash of the key finds candidate duplicates in one cheap pass; the exact check below
    # runs on the candidates only (a hash collision merely adds a candidate).
    dup = frame.select(pl.struct(key).hash()).to_series().is_duplicated()
    if not dup.any():
        return frame, pl.DataFrame(schema=QUARANTINE_COLUMNS)
    copies = frame.filter(dup).sort("source_file", "source_line", nulls_last=True)
    copies = copies.with_columns(_n=pl.col("value").n_unique().over(key))
    reason = pl.format(f"conflicting duplicate scrape: {{}} values for this {what}", "_n")
    conflicting = copies.filter(pl.col("_n") > 1)
    quarantined = _quarantine(conflicting, pl.col("metric"), reason, pl.struct(key).hash())
    kept = copies.filter(pl.col("_n") == 1).unique(subset=key, keep="first", maintain_order=True)
    return pl.concat([frame.filter(~dup), kept.drop("_n")]), quarantined


def _check_keys(long: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    index = pl.col("gpu_index").cast(pl.Int32, strict=False)
    instance = pl.col("gpu_instance_id").cast(pl.Int32, strict=False)
    column = (
        pl.when(pl.col("host").is_null())
        .then(pl.lit("Hostname"))
        .when(pl.col("gpu_uuid").is_null())
        .then(pl.lit("UUID"))
        .when(pl.col("gpu_index").is_null() | index.is_null())
        .then(pl.lit("gpu"))
        .when(pl.col("gpu_instance_id").is_not_null() & instance.is_null())
        .then(pl.lit("GPU_I_ID"))
    )
    reason = pl.col("_bad").replace_strict(
        {
            "Hostname": "missing host label (Hostname, node, host or instance)",
            "UUID": "missing GPU UUID label",
            "gpu": "GPU index is not an integer",
            "GPU_I_ID": "MIG instance id (GPU_I_ID) is not an integer",
        },
        default=None,
    )
    checked = long.with_columns(host_expr()).with_columns(_bad=column)
    good, quarantined = split_bad(checked, pl.col("_bad").is_not_null(), reason, pl.col("_bad"))
    return good.drop("_bad").with_columns(gpu_index=index, gpu_instance_id=instance), quarantined


def _check_values(long: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    checked = long.join(_BOUNDS, on="column", how="left")
    bounds = pl.col("value"), pl.col("low"), pl.col("high")
    good, quarantined = split_bad(checked, _is_bad(*bounds), _bad_value(*bounds), pl.col("metric"))
    return good.drop("low", "high"), quarantined


def dedupe_long(long: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Duplicates of (UUID, GPU_I_ID, field, ts): equal ones collapse, differing ones go."""
    return dedupe(long, [*KEY, "column"], "GPU, field and time")


def pivot(long: pl.DataFrame) -> pl.DataFrame:
    """One row per (UUID, GPU_I_ID, ts) with a column per field; absent fields stay NULL."""
    fields = [pl.col("value").filter(pl.col("column") == c).first().alias(c) for c in FIELD_COLUMNS]
    labels = [pl.col(c).drop_nulls().first().alias(c) for c in LABEL_COLUMNS]
    return long.group_by(KEY).agg(
        pl.col("source_file").first(), pl.col("source_line").min(), *labels, *fields
    )


def _unpivot(wide: pl.DataFrame) -> pl.DataFrame:
    present = [c for c in FIELD_COLUMNS if c in wide.columns]
    index = [c for c in wide.columns if c not in present]
    return (
        wide.unpivot(on=present, index=index, variable_name="column", value_name="value")
        .filter(pl.col("value").is_not_null())
        .with_columns(metric=pl.col("column"))
    )


def prepare_long(long: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Long DCGM samples -> (checked, deduplicated long rows with ``column``, quarantine)."""
    long = long.filter(pl.col("metric").is_in(list(METRIC_COLUMNS))).with_columns(
        column=pl.col("metric").replace_strict(METRIC_COLUMNS)
    )
    long, bad_keys = _check_keys(long)
    long, bad_values = _check_values(long)
    long, conflicts = dedupe_long(long)
    return long, pl.concat([bad_keys, bad_values, conflicts])


def _empty_wide() -> pl.DataFrame:
    return pl.DataFrame(schema={c: t for c, t in DCGM_SCHEMA.items() if c != "gpu_type"})


def prepare_wide(wide: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Wide GPU scrapes (``long_format.read_wide``) -> (checked rows, quarantine)."""
    keys = ["source_file", "source_line", "host", "instance", "gpu_uuid", "gpu_index"]
    long_keys = wide.select(*keys, "gpu_instance_id").with_columns(
        metric=pl.lit(""), value=pl.lit(0.0)
    )
    _, bad_keys = _check_keys(long_keys)
    if bad_keys.height:
        lines = bad_keys.select("source_file", pl.col("line").alias("source_line"))
        wide = wide.join(lines, on=["source_file", "source_line"], how="anti")
    wide = wide.with_columns(
        host_expr(),
        gpu_index=pl.col("gpu_index").cast(pl.Int32, strict=False),
        gpu_instance_id=pl.col("gpu_instance_id").cast(pl.Int32, strict=False),
    )
    bad = [bad_keys]
    for column in [c for c in FIELD_COLUMNS if c in wide.columns]:
        field = FIELD_BY_COLUMN[column]
        bounds = pl.col(column), pl.lit(field.low, pl.Float64), pl.lit(field.high, pl.Float64)
        flagged = wide.select(_is_bad(*bounds).fill_null(False)).to_series()
        if flagged.any():
            bad.append(_quarantine(wide.filter(flagged), pl.lit(column), _bad_value(*bounds)))
            wide = wide.with_columns(pl.when(~flagged).then(pl.col(column)).alias(column))
    return wide, pl.concat(bad)


def combine(long: pl.DataFrame, wides: list[pl.DataFrame]) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Checked long rows and checked wide rows -> final ``raw.dcgm_samples`` rows, quarantine.

    Keys seen more than once across inputs are unpivoted and deduplicated field by field.
    """
    frames = [pivot(long)] + wides
    wide = pl.concat([_empty_wide(), *frames], how="diagonal_relaxed")
    dup = wide.select(pl.struct(KEY).is_duplicated()).to_series()
    quarantine = pl.DataFrame(schema=QUARANTINE_COLUMNS)
    if dup.any():
        merged, quarantine = dedupe_long(_unpivot(wide.filter(dup)))
        wide = pl.concat([wide.filter(~dup), pivot(merged)], how="diagonal_relaxed")
    return finish(wide), quarantine


def finish(wide: pl.DataFrame) -> pl.DataFrame:
    """NULL the unsupported zeros, cast each field, resolve ``gpu_type``; fixed column order."""
    exprs = []
    for column, field in FIELD_BY_COLUMN.items():
        value = pl.col(column)
        if field.zero_is_null:
            value = pl.when(value != 0).then(value)
        if field.dtype == pl.Int64:
            value = value.round()
        exprs.append(value.cast(field.dtype).alias(column))
    names = wide.get_column("gpu_model_name").drop_nulls().unique().to_list()
    types = {n: resolve_gpu_name(n).gpu_id for n in names}
    gpu_type = pl.col("gpu_model_name").replace_strict(
        types, default="unknown", return_dtype=pl.String
    )
    out = wide.with_columns(*exprs, gpu_type=gpu_type)
    out = out.select([pl.col(c).cast(t) for c, t in DCGM_SCHEMA.items()])
    return out.sort(*[k for k in KEY_SCHEMA if k != "ts"], "ts", nulls_last=True)
