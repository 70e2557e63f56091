"""Per-file sample counts the SQL takes for the ledger (``counts``), each in one pass.

The Python readers count their files' read, outside-the-window and wide not-used samples as
they read them (``counts.window``); these queries count the Parquet files DuckDB reads in
place, the not-used samples of every long file (a series unitcost does not read: neither a
DCGM field nor a stored ``vllm:`` series) and the stored cells of every checked wide row.
"""

from __future__ import annotations

import duckdb

from pipelines.ingest.telemetry import day_tables, staging
from pipelines.ingest.telemetry.counts import SampleCounts
from pipelines.ingest.telemetry.engine_metrics import is_used
from pipelines.ingest.telemetry.fields import ENGINE_PREFIX, METRIC_COLUMNS
from pipelines.ingest.telemetry.samples import kept_cells, present_cells, wide_rows
from pipelines.ingest.telemetry.sql import literal

_OUTSIDE = "coalesce(ts < $start or ts >= $end, false)"
_DCGM = f"metric in ({', '.join(literal(m) for m in METRIC_COLUMNS)})"
USED = f"case when starts_with(metric, {literal(ENGINE_PREFIX)}) then {is_used()} else {_DCGM} end"
_TERMS = ("read", "outside_window", "not_used")


def count_long(
    con: duckdb.DuckDBPyConnection, long_parquet: str | None, params: dict, counts: SampleCounts
) -> None:
    """Read, outside and not-used samples of the long Parquet files; not-used samples of the
    staged ones (their rows are already the day's)."""
    queries = [
        f"select file, 0, 0, count(*) filter (not ({USED})) from {staging.STAGED_LONG} "
        "group by file"
    ]
    if long_parquet:
        queries.append(
            f"""select file, count(*), count(*) filter ({_OUTSIDE}),
                count(*) filter (not {_OUTSIDE} and not ({USED}))
            from ({long_parquet}) group by file"""
        )
    for query in queries:
        for uri, *values in day_tables.per_file(con, query, params):
            for term, n in zip(_TERMS, values, strict=True):
                counts.add_file(term, uri, n)


def count_wide(
    con: duckdb.DuckDBPyConnection,
    wide: str,
    staged: set[str],
    params: dict,
    counts: SampleCounts,
) -> set[str]:
    """Read, outside and not-used samples of the wide Parquet files (not of the ``staged``
    URIs: their reader counted them), stored cells of every file's checked rows (``scrapes``
    takes back those of merged rows), and the DCGM model names of those rows."""
    day = f"not {_OUTSIDE} and _bad_key is null"
    query = f"""select file, sum(cells), coalesce(sum(cells) filter ({_OUTSIDE}), 0),
            coalesce(sum(other_cells) filter (not {_OUTSIDE}), 0),
            coalesce(sum(kept) filter ({day}), 0),
            list(distinct gpu_model_name) filter ({day} and gpu_model_name is not null)
        from (select file, ts, _bad_key, other_cells, gpu_model_name,
                {present_cells()} + other_cells as cells, {kept_cells()} as kept
              from ({wide_rows(wide)}))
        group by file"""
    models: set[str] = set()
    for uri, *values, stored, names in day_tables.per_file(con, query, params):
        if uri not in staged:
            for term, n in zip(_TERMS, values, strict=True):
                counts.add_file(term, uri, n)
        counts.add_file("stored", uri, stored)
        models.update(names or [])
    return models
