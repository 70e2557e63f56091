"""Series tables: a sample row carries ``series_id``, its labels are stored once per series.

``raw.engine_series`` (vLLM: a server's metric) and ``raw.dcgm_series`` (a GPU or MIG
slice's labels) both work this way: the id is 63 bits of DuckDB's hash of the labels as
stored, so no lookup computes it and the same series gets the same id every day. Rows are only
ever added; two label sets with one id fail the load instead of merging two series.
"""

from __future__ import annotations

from collections.abc import Sequence

import duckdb


def series_id(labels: Sequence[str]) -> str:
    """SQL: the series id of a row's ``labels`` (a plain signed BIGINT)."""
    return f"(hash({', '.join(labels)}) >> 1)::bigint"


def store_series(
    con: duckdb.DuckDBPyConnection, day_series: str, table: str, labels: Sequence[str]
) -> None:
    """Add the rows of ``day_series`` (``series_id`` and ``labels``, one row per series) that
    ``table`` lacks; fail if two series share an id (one series' samples would read as the
    other's)."""
    columns = ", ".join(labels)
    same = " and ".join(f"s.{c} is not distinct from d.{c}" for c in labels)
    (clashes,) = con.execute(
        f"""select count(*) from (
            select series_id from {day_series} group by 1 having count(*) > 1
            union all
            select series_id from {day_series} d
            join {table} s using (series_id) where not ({same}))"""
    ).fetchone()
    if clashes:
        raise ValueError(f"{clashes} series id collision(s) in {table}")
    con.execute(
        f"insert into {table} (series_id, {columns}) select series_id, {columns} "
        f"from {day_series} where series_id not in (select series_id from {table})"
    )
