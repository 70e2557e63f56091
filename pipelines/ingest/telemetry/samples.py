"""DCGM samples checked: the rules a sample must pass before ``scrapes`` assembles the wide
``raw.dcgm_samples`` rows from it. Rules (RELIABILITY.md):

* case 23 — duplicates (an HA Prometheus pair, overlapping exports) are matched on
  (UUID, GPU_I_ID, field, ts): equal values collapse to one, differing ones are quarantined;
* case 24 — NaN, ±Inf and out-of-range values are quarantined with file, line and field,
  never clipped; a temperature of 0 (DCGM's "unsupported") becomes NULL;
* a sample without a readable time, host or UUID, with a non-integer GPU index or with an
  empty or non-numeric value (a CSV export's text) is quarantined.

One quarantine row per sample, so the ingest ledger can count samples (``counts``).
"""

from __future__ import annotations

import polars as pl

from pipelines.ingest.telemetry.counts import SampleCounts
from pipelines.ingest.telemetry.fields import (
    FIELD_BY_COLUMN,
    FIELD_COLUMNS,
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
NOT_A_NUMBER = "value is missing or not a number"
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


def dedupe(
    frame: pl.DataFrame, key: list[str], what: str, counts: SampleCounts | None = None
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Collapse equal duplicates of ``key``; quarantine all copies of differing ones.

    The first copy in (file, line) order is kept; ``counts`` gets the copies dropped, per
    file. Only duplicated rows are examined, so the usual case (no overlap) costs one hash pass.
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
    equal = copies.filter(pl.col("_n") == 1).drop("_n")
    first = equal.select(pl.struct(key).is_first_distinct()).to_series()
    if counts is not None:
        counts.add("duplicates_dropped", equal.filter(~first))
    return pl.concat([frame.filter(~dup), equal.filter(first)]), quarantined


def _check_keys(long: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    index = pl.col("gpu_index").cast(pl.Int32, strict=False)
    instance = pl.col("gpu_instance_id").cast(pl.Int32, strict=False)
    column = (
        pl.when(pl.col("ts").is_null())
        .then(pl.lit("timestamp"))
        .when(pl.col("host").is_null())
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
            "timestamp": "no readable time (timestamp missing or not a time)",
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
    missing = pl.col("value").is_null()  # a long export's empty or non-numeric value
    bad = missing | _is_bad(*bounds)
    why = pl.when(missing).then(pl.lit(NOT_A_NUMBER)).otherwise(_bad_value(*bounds))
    good, quarantined = split_bad(checked, bad, why, pl.col("metric"))
    return good.drop("low", "high"), quarantined


def dedupe_long(
    long: pl.DataFrame, counts: SampleCounts | None = None
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Duplicates of (UUID, GPU_I_ID, field, ts): equal ones collapse, differing ones go."""
    return dedupe(long, [*KEY, "column"], "GPU, field and time", counts)


def prepare_long(
    long: pl.DataFrame, counts: SampleCounts | None = None
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Long samples -> (checked, deduplicated DCGM rows with ``column``, quarantine).

    Samples of other metrics are left out and, like dropped copies, go to ``counts``:
    ``load.read_day`` passes everything but the ``vllm:`` series, so they are ``not_used``.
    """
    is_field = long.select(pl.col("metric").is_in(list(METRIC_COLUMNS))).to_series()
    if counts is not None:
        counts.add("not_used", long.select("source_file", _other=~is_field), pl.col("_other"))
    long = long.filter(is_field).with_columns(
        column=pl.col("metric").replace_strict(METRIC_COLUMNS)
    )
    long, bad_keys = _check_keys(long)
    long, bad_values = _check_values(long)
    long, conflicts = dedupe_long(long, counts)
    return long, pl.concat([bad_keys, bad_values, conflicts])


def _reject_scrapes(wide: pl.DataFrame, bad_keys: pl.DataFrame) -> pl.DataFrame:
    """Quarantine rows for wide scrapes with a bad key: one per sample (field cell) they hold,
    like the long samples of such a scrape, so the quarantine counts samples."""
    present = [c for c in FIELD_COLUMNS if c in wide.columns]
    if not present:
        return pl.DataFrame(schema=QUARANTINE_COLUMNS)
    index = ["source_file", "source_line", "column_name", "reason"]
    reasons = bad_keys.select(
        "source_file", pl.col("line").alias("source_line"), "column_name", "reason"
    )
    held = wide.join(reasons, on=["source_file", "source_line"]).select(
        *index, *[pl.col(c).is_not_null() for c in present]
    )
    cells = held.unpivot(on=present, index=index).filter(pl.col("value"))
    return _quarantine(cells, pl.col("column_name"), pl.col("reason"))


def _check_field(wide: pl.DataFrame, column: str) -> tuple[pl.DataFrame, pl.DataFrame | None]:
    """Cast one field to Float64 (text as read from a CSV) and quarantine its bad cells."""
    field = FIELD_BY_COLUMN[column]
    is_text = wide.schema[column] == pl.String
    value = pl.col(column).cast(pl.Float64, strict=False) if is_text else pl.col(column)
    bounds = value, pl.lit(field.low, pl.Float64), pl.lit(field.high, pl.Float64)
    text = pl.col(column).is_not_null() & value.is_null() if is_text else pl.lit(False)
    bad = text | _is_bad(*bounds)
    flagged = wide.select(bad.fill_null(False)).to_series()
    if not flagged.any():
        return (wide.with_columns(value) if is_text else wide), None
    # The reason is only built for the few bad cells (see split_bad).
    why = pl.when(text).then(pl.lit(NOT_A_NUMBER)).otherwise(_bad_value(*bounds))
    quarantined = _quarantine(wide.filter(flagged), pl.lit(column), why)
    return wide.with_columns(pl.when(~flagged).then(value).alias(column)), quarantined


def prepare_wide(wide: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Wide GPU scrapes (``long_format.read_wide``) -> (checked rows, quarantine)."""
    keys = ["source_file", "source_line", "ts", "host", "instance", "gpu_uuid", "gpu_index"]
    long_keys = wide.select(*keys, "gpu_instance_id").with_columns(
        metric=pl.lit(""), value=pl.lit(0.0)
    )
    _, bad_keys = _check_keys(long_keys)
    bad = [pl.DataFrame(schema=QUARANTINE_COLUMNS)]
    if bad_keys.height:
        bad.append(_reject_scrapes(wide, bad_keys))
        lines = bad_keys.select("source_file", pl.col("line").alias("source_line"))
        wide = wide.join(lines, on=["source_file", "source_line"], how="anti")
    wide = wide.with_columns(
        host_expr(),
        gpu_index=pl.col("gpu_index").cast(pl.Int32, strict=False),
        gpu_instance_id=pl.col("gpu_instance_id").cast(pl.Int32, strict=False),
    )
    for column in [c for c in FIELD_COLUMNS if c in wide.columns]:
        wide, quarantined = _check_field(wide, column)
        if quarantined is not None:
            bad.append(quarantined)
    return wide, pl.concat(bad)
