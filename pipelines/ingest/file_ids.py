"""A source file's id: what high-volume raw rows carry instead of the file's path.

A path repeated on every row is most of a narrow row (76 of ~217 bytes per telemetry sample
at 1,024 GPUs). Rows carry ``source_file_id`` (BIGINT); ``raw.source_files`` maps it back to
the path for whoever needs to name the file (quarantine and the ledger keep the path itself:
they are few rows, and they are read by people).

The id is the first 8 bytes of the path's SHA-256 as a signed BIGINT: deterministic, so a
re-run of a partition writes identical rows, and no lookup is needed to compute it (readers
running in parallel never race for a counter). 2⁶⁴ ids make a collision among a fleet's
files negligible; ``register_files`` still refuses one rather than mislabel rows.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

import duckdb

SOURCE_FILES = "raw.source_files"
SOURCE_FILES_DDL = f"""
create table if not exists {SOURCE_FILES} (
    source_file_id BIGINT primary key,
    source VARCHAR not null,
    uri VARCHAR not null
)
"""


def file_id(uri: str) -> int:
    """The id of the file at ``uri`` (its full path or ``s3://bucket/key``)."""
    return int.from_bytes(hashlib.sha256(uri.encode()).digest()[:8], "big", signed=True)


def register_files(con: duckdb.DuckDBPyConnection, source: str, uris: Iterable[str]) -> None:
    """Record the id of each file (idempotent); in the caller's transaction if it has one."""
    con.execute("create schema if not exists raw")
    con.execute(SOURCE_FILES_DDL)
    rows = sorted({(file_id(u), source, u) for u in uris})
    if not rows:
        return
    known = dict(
        con.execute(
            f"select source_file_id, uri from {SOURCE_FILES} "
            "where source_file_id in (select unnest(?))",
            [[r[0] for r in rows]],
        ).fetchall()
    )
    clashes = [(u, known[i]) for i, _, u in rows if i in known and known[i] != u]
    if clashes:
        raise ValueError(f"file id collision: {clashes[0][0]} and {clashes[0][1]}")
    new = [r for r in rows if r[0] not in known]
    if new:
        con.executemany(f"insert into {SOURCE_FILES} values (?, ?, ?)", new)
