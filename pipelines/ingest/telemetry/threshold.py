"""The day's quarantine threshold: telemetry rows may be quarantined (RELIABILITY.md rule 2),
but past 1 % of a day's samples the source itself is broken: fail the partition instead.

A fraction alone fails a small day on a handful of bad samples (3 of 17 is 18 %), so the day
fails only when the bad samples also exceed a count: about one GPU scrape's worth of fields
(dcgm-exporter's default set has ~20), which one bad scrape or one GPU reset can produce
without the source being broken. The copies of one conflicting duplicate count once (one
sample of that GPU and time was lost, not two), in the first file that holds one.
"""

from __future__ import annotations

import datetime as dt

import duckdb

from pipelines.ingest.errors import SourceError
from pipelines.ingest.telemetry import day_tables

MAX_QUARANTINED_FRACTION = 0.01
MIN_QUARANTINED_SAMPLES = 20

_BAD_PER_FILE = f"""
with bad as (
    select file from {day_tables.QUARANTINE} where conflict_key is null
    union all
    select arg_min(q.file, (f.fid, q.line)) from {day_tables.QUARANTINE} q
    join {day_tables.FILES} f on f.path = q.file
    where q.conflict_key is not null group by q.conflict_key
)
select f.uri, f.path, count(*) as n from bad join {day_tables.FILES} f on f.path = bad.file
group by all order by n desc, f.uri
"""


def check_threshold(
    con: duckdb.DuckDBPyConnection, n_in: int, day: dt.date
) -> list[tuple[str, int]]:
    """Bad samples per file (URI, count; worst first); raises ``SourceError`` naming the
    worst file's first bad sample when they exceed max(MIN_QUARANTINED_SAMPLES, 1 % of
    ``n_in``), the day's samples."""
    per_file = con.execute(_BAD_PER_FILE).fetchall()
    bad = sum(n for _, _, n in per_file)
    limit = max(MIN_QUARANTINED_SAMPLES, MAX_QUARANTINED_FRACTION * n_in)
    if bad <= limit:
        return [(uri, n) for uri, _, n in per_file]
    uri, path, worst = per_file[0]
    line, column, reason = con.execute(
        f"select line, column_name, reason from {day_tables.QUARANTINE} where file = ? "
        "order by line nulls last, column_name, reason limit 1",
        [path],
    ).fetchone()
    raise SourceError(
        uri,
        f"{bad} of {n_in} telemetry samples on {day} are bad ({bad / max(n_in, 1):.2%}), over "
        f"the limit max({MIN_QUARANTINED_SAMPLES} samples, {MAX_QUARANTINED_FRACTION:.0%} of "
        f"{n_in}) = {limit:g}; conflicting duplicates count once per key; "
        f"{worst} of them in this file (of {len(per_file)} file(s)), first: "
        f"{column}: {reason}",
        line=line,
    )
