"""Checked DCGM samples -> ``raw.dcgm_samples`` rows: one row per GPU (or MIG slice) scrape.

Stored wide (a column per field, NULL when the scrape lacks it): a GPU scrape is what the
rollups read, and wide rows are ~20× fewer than long ones. ``gpu_type`` is the catalog id of
the DCGM ``modelName`` through the explicit alias table (``costmodel.gpus.resolve_gpu_name``):
an exact match up to case and whitespace, else ``'unknown'`` with the raw name kept in
``gpu_model_name`` (RELIABILITY.md case 19; the telemetry asset's WARN check lists them).
"""

from __future__ import annotations

import polars as pl

from pipelines.costmodel.gpus import resolve_gpu_name
from pipelines.ingest.telemetry import samples
from pipelines.ingest.telemetry.counts import SampleCounts, cells
from pipelines.ingest.telemetry.fields import (
    DCGM_SCHEMA,
    FIELD_BY_COLUMN,
    FIELD_COLUMNS,
    KEY_SCHEMA,
)
from pipelines.quality.ledger import counts_by_file

LABEL_COLUMNS = ["host", "gpu_index", "gpu_model_name", "gpu_instance_profile"]
LABEL_COLUMNS += ["namespace", "pod", "container"]


def pivot(long: pl.DataFrame) -> pl.DataFrame:
    """One row per (UUID, GPU_I_ID, ts) with a column per field; absent fields stay NULL."""
    fields = [pl.col("value").filter(pl.col("column") == c).first().alias(c) for c in FIELD_COLUMNS]
    labels = [pl.col(c).drop_nulls().first().alias(c) for c in LABEL_COLUMNS]
    return long.group_by(samples.KEY).agg(
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


def _empty_wide() -> pl.DataFrame:
    return pl.DataFrame(schema={c: t for c, t in DCGM_SCHEMA.items() if c != "gpu_type"})


def combine(
    long: pl.DataFrame, wides: list[pl.DataFrame], counts: SampleCounts | None = None
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Checked long rows and checked wide rows -> final ``raw.dcgm_samples`` rows, quarantine.

    A key seen in more than one scrape row (long and wide, two wide rows) is deduplicated
    field by field from its samples: the long ones as read, the wide rows unpivoted, so each
    sample keeps its own file and line. ``counts`` gets the samples stored and dropped.
    """
    counts = counts if counts is not None else SampleCounts()
    pivoted = pivot(long)
    wide = pl.concat([_empty_wide(), pivoted, *wides], how="diagonal_relaxed")
    from_wide = pl.int_range(pl.len()) >= pivoted.height
    dup = wide.select(pl.struct(samples.KEY).is_duplicated()).to_series()
    quarantine = pl.DataFrame(schema=samples.QUARANTINE_COLUMNS)
    # Stored: every long sample (those of a duplicated key are taken back below and counted
    # again after the merge) and the field cells of wide rows whose key is not duplicated.
    counts.add("stored", long)
    single = pl.when(from_wide & ~pl.lit(dup)).then(cells(FIELD_COLUMNS)).otherwise(0)
    counts.add("stored", wide, single)
    if dup.any():
        keys = wide.filter(dup).select(samples.KEY).unique()
        long_dup = long.join(keys, on=samples.KEY, how="semi", nulls_equal=True)
        counts.stored.subtract(counts_by_file(long_dup))
        wide_dup = _unpivot(wide.filter(pl.lit(dup) & from_wide))
        merged, quarantine = samples.dedupe_long(
            pl.concat([long_dup, wide_dup], how="diagonal_relaxed"), counts
        )
        counts.add("stored", merged)
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
