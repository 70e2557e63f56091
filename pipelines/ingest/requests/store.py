"""A day's request rows in the warehouse: ``raw.inference_requests`` and the stash.

The day is one transaction (RELIABILITY.md rule 5): its window is deleted, each file's rows
of the day are inserted as soon as the file is parsed, duplicates are settled, then commit.
Rows that today's deduplication or a later day of the run still needs (a file dated D + 1 is
read for day D's last arrivals and holds D + 1's own) wait in ``_requests_stash``, a
temporary table DuckDB spills to disk past its memory limit: no day is held in polars, and a
file is parsed once per run.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import numpy as np
import polars as pl
import pyarrow as pa

from pipelines.ingest.file_ids import register_files
from pipelines.ingest.requests.schema import RAW_REQUESTS, RAW_REQUESTS_SQL
from pipelines.ingest.requests.validate import KEY_HASH, accepted_sql, deduplicate
from pipelines.warehouse import add_missing_columns

TABLE = "raw.inference_requests"
STASH = "_requests_stash"
USERS = "_requests_users"
COLUMNS = ", ".join(f'"{c}"' for c in RAW_REQUESTS)
IN_DAY = "arrival_ts >= $start and arrival_ts < $end"
# Today's rows and every other row of today's files: the rows a request id may repeat in.
_DAY_AND_PARTNERS = f"""
    select {COLUMNS} from {TABLE} where {IN_DAY}
    union all
    select {COLUMNS} from {STASH}
    where list_contains($ids, source_file_id) and not ({IN_DAY})"""


def window(day: dt.date) -> dict:
    start = dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC)
    return {"start": start, "end": start + dt.timedelta(days=1)}


def ensure_tables(con: duckdb.DuckDBPyConnection) -> None:
    """The raw table (and this connection's stash), in the day's transaction, before its
    first write: a run killed in it leaves no empty table behind."""
    ddl = ", ".join(f'"{c}" {kind}' for c, kind in RAW_REQUESTS_SQL.items())
    con.execute("create schema if not exists raw")
    con.execute(f"create table if not exists {TABLE} ({ddl})")
    # Columns added to the contract after a warehouse was created: NULL on earlier rows.
    add_missing_columns(
        con, "raw", "inference_requests", {"invalid_utf8": "BOOLEAN", "tenant": "VARCHAR"}
    )
    con.execute(f"create temp table if not exists {STASH} ({ddl})")


def paths_to_ids(con: duckdb.DuckDBPyConnection, source: str) -> None:
    """A warehouse from before file ids has ``source_file`` (the path) on every row: register
    the paths, set ``source_file_id`` from them, drop the path. Outside the day's transaction
    (DuckDB will not alter and update one table in one transaction), each step committed on
    its own and idempotent, so an interrupted upgrade finishes on the next run."""
    present = con.execute(
        "select column_name from information_schema.columns "
        "where table_schema = 'raw' and table_name = 'inference_requests'"
    ).fetchall()
    if ("source_file",) not in present:
        return
    add_missing_columns(con, "raw", "inference_requests", {"source_file_id": "BIGINT"})
    paths = con.execute(f"select distinct source_file from {TABLE} where source_file is not null")
    register_files(con, source, [p for (p,) in paths.fetchall()])
    con.execute(
        f"update {TABLE} as r set source_file_id = f.source_file_id "
        "from raw.source_files as f where f.uri = r.source_file"
    )
    con.execute(f"alter table {TABLE} drop column source_file")


def register_users(con, hashes: dict[str, str] | None) -> str | None:
    """The run's user -> salted hash map as a table the inserts join (None: no salt)."""
    if hashes is None:
        return None
    table = pa.table(
        {"user": list(hashes), "user_hash": list(hashes.values())},
        schema=pa.schema([("user", pa.string()), ("user_hash", pa.string())]),
    )
    con.register(USERS, table)
    return USERS


def insert_rows(con, staged: Path, day: dict, users: str | None) -> None:
    """Today's accepted rows of a parsed file (Parquet of ``validate.checked_sql`` rows)."""
    _insert(con, TABLE, staged, users, IN_DAY, day)


def stash_rows(con, staged: Path, day: dict, users: str | None, everything: bool) -> None:
    """A parsed file's rows of other days (today's dedup partners) into the stash, or all of
    them (``everything``: a later day of the run reads the file again)."""
    _insert(con, STASH, staged, users, "true" if everything else f"not ({IN_DAY})", day)


def _insert(con, target: str, staged: Path, users: str | None, where: str, day: dict):
    accepted = accepted_sql("read_parquet($file)", users)
    sql = f"insert into {target} ({COLUMNS}) select * from ({accepted}) where {where}"
    params = {"file": str(staged)}
    con.execute(sql, {**params, **day} if "$" in where else params)


def from_stash(con, ids: list[int], day: dict) -> None:
    """Today's rows of files parsed on an earlier day of the run."""
    if not ids:
        return
    con.execute(
        f"insert into {TABLE} ({COLUMNS}) select {COLUMNS} from {STASH} "
        f"where list_contains($ids, source_file_id) and {IN_DAY}",
        {**day, "ids": ids},
    )


def settle_duplicates(con, day: dict, keys: list[np.ndarray], ids: list[int], uris: dict):
    """Deduplicate today's rows on (request_source, request_id) against every row of today's
    files (``validate.deduplicate``); returns today's (conflicting, dropped) copies, with the
    path as ``source_file``, and deletes them from the table.

    ``keys``: the files' request id hashes (``_key_hash``). Only rows whose hash repeats,
    usually none, are read back and go to polars, where a hash collision is just a key that
    turns out unique. Only the copies to drop are deleted: deleting rows this transaction
    wrote makes DuckDB rewrite them at commit, so the fewer the better.
    """
    empty = pl.DataFrame(schema={**RAW_REQUESTS, "source_file": pl.String})
    hashes = pl.Series("h", np.concatenate(keys) if keys else [], dtype=pl.UInt64)
    repeated = hashes.filter(hashes.is_duplicated()).unique()
    if repeated.is_empty():
        return empty, empty
    con.register("_repeated", repeated.to_frame().to_arrow())
    try:
        rows = con.execute(
            f"select * from ({_DAY_AND_PARTNERS}) where {KEY_HASH} in (select h from _repeated)",
            {**day, "ids": ids},
        ).pl()
    finally:
        con.unregister("_repeated")
    rows = rows.cast(RAW_REQUESTS).with_columns(
        source_file=pl.col("source_file_id").replace_strict(uris, return_dtype=pl.String)
    )
    _, conflicts, dropped = deduplicate(rows)
    in_day = pl.col("arrival_ts").is_between(day["start"], day["end"], closed="left")
    conflicts, dropped = conflicts.filter(in_day), dropped.filter(in_day)
    gone = pl.concat([conflicts, dropped]).select("source_file_id", "source_line")
    if gone.height:
        con.register("_gone", gone.to_arrow())
        try:
            con.execute(
                f"delete from {TABLE} using _gone as g where {IN_DAY} "
                f"and {TABLE}.source_file_id = g.source_file_id "
                f"and {TABLE}.source_line = g.source_line",
                day,
            )
        finally:
            con.unregister("_gone")
    return conflicts, dropped


def stored_by_file(con, day: dict) -> dict[int, int]:
    found = con.execute(
        f"select source_file_id, count(*) from {TABLE} where {IN_DAY} group by all", day
    )
    return dict(found.fetchall())


def keep_in_stash(con, ids: list[int]) -> None:
    """Forget the stashed rows of files no later day of the run reads."""
    con.execute(f"delete from {STASH} where not list_contains($ids, source_file_id)", {"ids": ids})


def day_rows(con, day: dict) -> pl.DataFrame:
    rows = con.execute(
        f"select {COLUMNS} from {TABLE} where {IN_DAY} order by arrival_ts, request_id", day
    )
    return rows.pl().cast(RAW_REQUESTS)
