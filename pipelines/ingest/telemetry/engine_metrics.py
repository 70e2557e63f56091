"""vLLM's own Prometheus metrics -> ``raw.engine_metric_samples``, one row per series sample.

Kept long: histograms (TTFT, TPOT, prefill, decode, end-to-end) have a row per bucket and
their bucket sets differ between vLLM releases. Counters stay as read (``_total``); the dbt
model ``int_engine__hourly`` turns them into reset-aware hourly deltas. The older
``vllm:gpu_cache_usage_perc`` is renamed to ``kv_cache_usage_perc`` (both a 0-1 fraction,
despite the name). Every vLLM metric is non-negative: NaN, ±Inf (except a bucket's ``le``),
negative and missing values are quarantined, like conflicting duplicates and samples
without a readable time (RELIABILITY.md 23-24).
"""

from __future__ import annotations

import polars as pl

from pipelines.ingest.telemetry.counts import SampleCounts
from pipelines.ingest.telemetry.fields import ENGINE_RENAMES, ENGINE_SCHEMA, host_expr
from pipelines.ingest.telemetry.samples import NOT_A_NUMBER, dedupe, split_bad

PREFIX = "vllm:"
SERIES = ["host", "instance", "namespace", "pod", "model_name", "engine", "metric", "le", "ts"]


def engine_samples(
    long: pl.DataFrame, counts: SampleCounts | None = None
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The ``vllm:*`` rows of a long sample frame -> (engine rows, quarantine rows); ``counts``
    gets the identical copies dropped."""
    rows = long.filter(pl.col("metric").cast(pl.Categorical).cat.starts_with(PREFIX))
    rows = rows.with_columns(
        host_expr(),
        metric=pl.col("metric").str.strip_prefix(PREFIX).replace(ENGINE_RENAMES),
        le=pl.col("le").str.replace(r"^\+", "").cast(pl.Float64, strict=False),
    )
    value = pl.col("value")
    no_time, no_host = pl.col("ts").is_null(), pl.col("host").is_null()
    bad = no_time | no_host | value.is_null() | value.is_nan() | value.is_infinite() | (value < 0)
    why = (
        pl.when(no_time)
        .then(pl.lit("no readable time (timestamp missing or not a time)"))
        .when(no_host)
        .then(pl.lit("missing host label (Hostname, node, host or instance)"))
        .when(value.is_null())
        .then(pl.lit(NOT_A_NUMBER))
        .when(value.is_nan())
        .then(pl.lit("value is NaN"))
        .when(value.is_infinite())
        .then(pl.format("value is {}", value.cast(pl.String)))
        .otherwise(pl.format("value {} is below 0", value.cast(pl.String)))
    )
    rows, bad_rows = split_bad(rows, bad, why, pl.lit(PREFIX) + pl.col("metric"))
    rows, conflicts = dedupe(rows, SERIES, "series and time", counts)
    kept = rows.select([pl.col(c).cast(t) for c, t in ENGINE_SCHEMA.items()])
    conflicts = conflicts.with_columns(column_name=pl.lit(PREFIX) + pl.col("column_name"))
    return kept, pl.concat([bad_rows, conflicts])
