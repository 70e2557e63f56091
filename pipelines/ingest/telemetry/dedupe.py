"""Duplicate samples across the day's files (RELIABILITY.md case 23), in SQL.

Copies of one key (an HA Prometheus pair, overlapping exports) with equal values collapse to
the first in (file, line) order, the others counted as ``duplicates_dropped``; copies that
disagree are all quarantined: one lost sample, never a guess. Only keys that repeat are
examined: a hash of (part of) the key, sorted, finds candidates in one pass over the day (a
collision or a partial key merely adds candidates, the exact key decides), so a day without
overlap costs one sort of 8-byte hashes, which DuckDB may spill.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

from pipelines.ingest.telemetry import day_tables
from pipelines.ingest.telemetry.counts import SampleCounts
from pipelines.ingest.telemetry.sql import run


@dataclass(frozen=True)
class Duplicates:
    name: str  # temp tables _tel_<name>_*
    key: tuple[str, ...]
    what: str  # in the reason: "conflicting duplicate scrape: 2 values for this <what>"
    column_name: str  # SQL for a conflicting copy's quarantine column
    # Columns hashed to find candidates: a part of the key whose values are cheap to compute
    # (a superset of the duplicates); the whole key by default.
    candidate_key: tuple[str, ...] = ()

    @property
    def hash(self) -> str:
        return f"hash({', '.join(self.candidate_key or self.key)})"


def resolve(
    con: duckdb.DuckDBPyConnection,
    dup: Duplicates,
    rows: str,
    params: dict,
    counts: SampleCounts,
    candidates: str | None = None,
) -> str:
    """The SQL of ``rows`` (a relation with ``file``, ``line``, ``value`` and the key) without
    the dropped and conflicting copies; conflicts go to ``_tel_q``, drops to ``counts``.
    ``candidates`` yields the candidate-key hash ``h`` of every sample (by default computed
    from ``rows``): a caller that already scanned the day can pass the hashes it kept."""
    key = ", ".join(dup.key)
    hashes, copies = f"_tel_{dup.name}_hashes", f"_tel_{dup.name}_copies"
    # Sorting the hashes and comparing neighbours is cheaper than grouping them.
    run(
        con,
        f"""create or replace temp table {hashes} as select distinct h from (
            select h, lag(h) over (order by h) as previous
            from ({candidates or f"select {dup.hash} as h from ({rows})"})) where h = previous""",
        params,
    )
    if not con.execute(f"select count(*) from {hashes}").fetchone()[0]:
        return rows
    run(
        con,
        f"""create or replace temp table {copies} as
        select c.*, count(distinct c.value) over k as _values,
            row_number() over (partition by {key} order by f.fid, c.line) as _nth
        from (select *, hash({key}) as _h from ({rows})
              where {dup.hash} in (select h from {hashes})) c
        join {day_tables.FILES} f on f.path = c.file
        window k as (partition by {key})""",
        params,
    )
    con.execute(
        f"insert into {day_tables.QUARANTINE} select file, line, {dup.column_name}, "
        f"'conflicting duplicate scrape: ' || _values || ' values for this ' || ?, _h "
        f"from {copies} where _values > 1",
        [dup.what],
    )
    dropped = (
        f"select file, count(*) as n from {copies} where _values = 1 and _nth > 1 group by file"
    )
    counts.add_rows("duplicates_dropped", day_tables.per_file(con, dropped))
    return (
        f"select * from ({rows}) where {dup.hash} not in (select h from {hashes}) "
        f"union all by name "
        f"select * exclude (_h, _values, _nth) from {copies} where _values = 1 and _nth = 1"
    )
