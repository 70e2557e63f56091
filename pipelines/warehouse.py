"""DuckDB helpers shared by every writer: connection settings, lock retries, safe table
replacement and the analysts' read-only copy.

No dagster here: tests and the CLI open the warehouse the same way the assets do.
"""

from __future__ import annotations

import os
import re
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
import polars as pl

# RELIABILITY.md rule 4 and case 39: UTC on every connection, and DuckDB bounded instead of its
# default 80 % of RAM. A run's whole process tree stays under 4 GiB (issue 13): DuckDB gets
# 2 GB (UNITCOST_DUCKDB_MEMORY_LIMIT), the rest is Dagster, polars frames and dbt. Past its
# limit DuckDB spills to ``spill_directory()``, capped so that a runaway query fails instead
# of filling the disk. One definition for every connection, Python's (``connection_config``)
# and dbt's: profiles.yml reads the same variable with the same default and names the same
# spill folder (tests/unit/test_run_machinery.py pins them equal).
MEMORY_LIMIT_ENV = "UNITCOST_DUCKDB_MEMORY_LIMIT"
DEFAULT_MEMORY_LIMIT = "2GB"
MAX_TEMP_DIRECTORY_SIZE = "32GB"
_SETTINGS = {
    "threads": 2,
    "preserve_insertion_order": False,
    "max_temp_directory_size": MAX_TEMP_DIRECTORY_SIZE,
    # DuckDB plans an ASOF join whose left side it *estimates* under 64 rows as a nested loop.
    # Its estimate after a join to a grouped CTE can be off by 10^5: int_requests__tenant_hourly
    # then ran a nested loop over 1.1 M segments x 3.2 M running rows and never finished (a
    # week of the default fleet). 0: always the ASOF join, whose cost is a sort.
    "asof_loop_join_threshold": 0,
}

# RELIABILITY.md case 35: DuckDB allows one writer or many readers per file, and a second
# process fails at once ("Could not set lock on file"). A run retries that long before failing.
LOCK_TIMEOUT_ENV = "UNITCOST_LOCK_TIMEOUT_S"
DEFAULT_LOCK_TIMEOUT_S = 30.0
_FIRST_RETRY_DELAY_S = 0.5
_MAX_RETRY_DELAY_S = 8.0
_LOCK_HOLDER = re.compile(r"Conflicting lock is held in .*?\(PID \d+\)")

_IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def memory_limit() -> str:
    """DuckDB's memory limit: ``UNITCOST_DUCKDB_MEMORY_LIMIT`` (e.g. ``4GB``), default 2GB."""
    return os.environ.get(MEMORY_LIMIT_ENV) or DEFAULT_MEMORY_LIMIT


_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([KMGT]?)(i?)B\s*$", re.IGNORECASE)


def memory_limit_bytes() -> int | None:
    """``memory_limit()`` in bytes (DuckDB's units: KB = 1000, KiB = 1024 bytes), None if
    it is not a plain size."""
    found = _SIZE.match(memory_limit())
    if not found:
        return None
    number, prefix, binary = found.groups()
    base = 1024 if binary else 1000
    return int(float(number) * base ** " KMGT".index(prefix.upper() or " "))


def spill_directory(path: str | Path | None = None) -> str:
    """Where DuckDB spills past its memory limit.

    For the warehouse file ``<path>.tmp`` beside it (DuckDB's own default, named here so that
    Python and dbt agree; same filesystem, which the pre-flight disk check leaves room on).
    For an in-memory database (``path`` None), whose default would be ``.tmp`` in the working
    directory, a folder of its own under the system's temp directory: DuckDB names its spill
    files the same in every folder, so two live databases must never share one. DuckDB
    creates the folder only if it spills and removes it when the database closes.
    """
    if path is not None:
        return f"{path}.tmp"
    name = f"unitcost-duckdb-{os.getpid()}-{uuid.uuid4().hex[:12]}.tmp"
    return str(Path(tempfile.gettempdir()) / name)


def connection_config(path: str | Path | None = None, **overrides: object) -> dict[str, object]:
    """DuckDB's settings for a connection to the warehouse at ``path`` (None: in memory):
    ``memory_limit()``, two threads, no insertion order, ``spill_directory(path)`` capped at
    ``MAX_TEMP_DIRECTORY_SIZE``; ``overrides`` for a reader that needs, e.g., rows in order."""
    return {
        "memory_limit": memory_limit(),
        **_SETTINGS,
        "temp_directory": spill_directory(path),
        **overrides,
    }


def table_exists(con: duckdb.DuckDBPyConnection, qualified: str) -> bool:
    """True if ``schema.table`` exists (a source never configured has no raw table)."""
    schema, table = qualified.split(".")
    found = con.execute(
        "select count(*) from information_schema.tables where table_schema = ? and table_name = ?",
        [schema, table],
    ).fetchone()
    return bool(found[0])


def add_missing_columns(
    con: duckdb.DuckDBPyConnection, schema: str, table: str, columns: dict[str, str]
) -> None:
    """Add the ``columns`` (name -> DuckDB type) a table made before they existed lacks: NULL
    on its earlier rows. Names are checked and quoted; types come from our own contracts."""
    present = {
        r[0]
        for r in con.execute(
            "select column_name from information_schema.columns"
            " where table_schema = ? and table_name = ?",
            [schema, table],
        ).fetchall()
    }
    target = f"{quote_identifier(schema)}.{quote_identifier(table)}"
    for name, kind in columns.items():
        if name not in present:
            con.execute(f"alter table {target} add column {quote_identifier(name)} {kind}")


def quote_identifier(name: str, *, validate: bool = True) -> str:
    """``name`` double-quoted with any ``"`` doubled (RELIABILITY.md §5 "Building SQL").

    Names from code or config must also match ``^[a-z_][a-z0-9_]{0,62}$`` (ValueError
    otherwise). ``validate=False`` is for names read back from DuckDB's own catalog, which
    may be anything a user created: quoting alone keeps them one identifier.
    """
    if validate and not _IDENTIFIER.match(name):
        raise ValueError(f"invalid identifier {name!r}: expected {_IDENTIFIER.pattern}")
    return '"' + name.replace('"', '""') + '"'


class WarehouseLockedError(RuntimeError):
    """Another process kept the DuckDB file's lock for the whole retry budget."""


def lock_timeout_s() -> float:
    """The lock retry budget: ``UNITCOST_LOCK_TIMEOUT_S`` seconds, default 30."""
    value = os.environ.get(LOCK_TIMEOUT_ENV)
    return float(value) if value else DEFAULT_LOCK_TIMEOUT_S


def analytics_path(path: str | Path) -> Path:
    """The analysts' read-only copy beside the writer file: ``unitcost.duckdb`` ->
    ``unitcost.analytics.duckdb``."""
    path = Path(path)
    return path.with_name(f"{path.stem}.analytics{path.suffix or '.duckdb'}")


def _open_with_retry(
    path: Path, read_only: bool, timeout_s: float | None
) -> duckdb.DuckDBPyConnection:
    budget = lock_timeout_s() if timeout_s is None else timeout_s
    started = time.monotonic()
    delay, attempts = _FIRST_RETRY_DELAY_S, 0
    while True:
        attempts += 1
        try:
            return duckdb.connect(str(path), read_only=read_only, config=connection_config(path))
        except duckdb.IOException as exc:
            if "Could not set lock" not in str(exc):
                raise
            elapsed = time.monotonic() - started
            if elapsed >= budget:
                # DuckDB's own text names the holder's executable and PID: the user can act on it.
                holder = _LOCK_HOLDER.search(str(exc))
                raise WarehouseLockedError(
                    f"{path} is locked by another process: "
                    f"{holder.group(0) if holder else str(exc).strip()}; gave up after "
                    f"{attempts} attempts over {elapsed:.1f} s ({LOCK_TIMEOUT_ENV}={budget:g}). "
                    f"Analysts read {analytics_path(path).name}, never the writer file."
                ) from None
            time.sleep(min(delay, budget - elapsed))
            delay = min(delay * 2, _MAX_RETRY_DELAY_S)


@contextmanager
def connect(
    path: str | Path, *, read_only: bool = False, lock_timeout: float | None = None
) -> Iterator[duckdb.DuckDBPyConnection]:
    """Open the warehouse file (creating its folder) with unitcost's connection settings.

    A file locked by another process is retried with backoff for ``lock_timeout`` seconds
    (default :func:`lock_timeout_s`), then :class:`WarehouseLockedError` names the holder.
    """
    path = Path(path)
    if not read_only:
        path.parent.mkdir(parents=True, exist_ok=True)
    con = _open_with_retry(path, read_only, lock_timeout)
    # Set after connecting: as a connect-time option TimeZone is applied before the ICU
    # extension autoloads, and DuckDB rejects it.
    con.execute("set TimeZone = 'UTC'")
    try:
        yield con
    finally:
        con.close()


def replace_table(
    con: duckdb.DuckDBPyConnection, schema: str, table: str, frame: pl.DataFrame
) -> int:
    """Replace ``schema.table`` with ``frame`` in one transaction; returns the row count.

    Used for snapshot inputs (registry, catalogs) whose whole content is the new truth.
    """
    target = f"{quote_identifier(schema)}.{quote_identifier(table)}"
    con.execute(f"create schema if not exists {quote_identifier(schema)}")
    con.execute("begin transaction")
    try:
        con.register("_unitcost_frame", frame.to_arrow())
        con.execute(f"create or replace table {target} as select * from _unitcost_frame")
        con.unregister("_unitcost_frame")
        con.execute("commit")
    except Exception:
        con.execute("rollback")
        raise
    return frame.height


def replace_rows(
    con: duckdb.DuckDBPyConnection,
    schema: str,
    table: str,
    frame: pl.DataFrame,
    *,
    window: tuple[str, object, object] | None = None,
    match: dict[str, object] | None = None,
) -> int:
    """Delete one partition's rows, insert ``frame``; returns ``frame``'s row count.

    The partition is ``window=(column, start, end)``, the half-open ``start <= column < end``
    (never BETWEEN: it would delete the next partition's first instant, RELIABILITY.md §2), or
    ``match={column: value, ...}``, rows equal on every column. The predicate is built here
    from quoted identifiers and ``?`` parameters: callers pass no SQL (§5 "Building SQL").

    One transaction: the partition or billing period is replaced whole or not at all
    (RELIABILITY.md rules 1 and 5). The table is created from ``frame`` the first time, so
    declare every column's type in the frame (DECIMAL for money, UTC timestamps).
    """
    if not isinstance(frame, pl.DataFrame):
        # the old form passed a SQL ``where`` string here: callers pass no SQL at all now
        raise TypeError(
            "replace_rows takes a frame and the partition as window=(column, start, end) or "
            f"match={{column: value}}, not a SQL fragment: {frame!r}"
        )
    if (window is None) == (match is None):
        raise ValueError("replace_rows needs exactly one of window=(column, start, end), match=")
    if window is not None:
        column, start, end = window
        where = f"{quote_identifier(column)} >= ? and {quote_identifier(column)} < ?"
        params = [start, end]
    else:
        if not match:
            raise ValueError("replace_rows match= names no column: it would delete every row")
        where = " and ".join(f"{quote_identifier(c)} = ?" for c in match)
        params = list(match.values())
    target = f"{quote_identifier(schema)}.{quote_identifier(table)}"
    con.execute(f"create schema if not exists {quote_identifier(schema)}")
    con.register("_unitcost_frame", frame.to_arrow())
    try:
        con.execute("begin transaction")
        con.execute(f"create table if not exists {target} as from _unitcost_frame limit 0")
        con.execute(f"delete from {target} where {where}", params)
        con.execute(f"insert into {target} by name select * from _unitcost_frame")
        con.execute("commit")
    except Exception:
        con.execute("rollback")
        raise
    finally:
        con.unregister("_unitcost_frame")
    return frame.height


def sql_string(value: str) -> str:
    """``value`` as a SQL string literal, for the statements DuckDB takes no prepared
    parameter in (ATTACH, CREATE VIEW, COPY ... TO, CREATE SECRET): paths and settings of our
    own, escaped, never a value read from a file."""
    return "'" + value.replace("'", "''") + "'"


def publish_analytics_copy(path: str | Path, *, lock_timeout: float | None = None) -> Path:
    """Publish a read-only copy of the warehouse for analysts; returns its path.

    RELIABILITY.md §3 "Atomic publish": the whole database is copied into a fresh next file,
    which is CHECKPOINTed, closed, made read-only (0444) and renamed over the copy with
    ``os.replace`` (atomic on POSIX). An analyst holding the old copy keeps reading the old
    inode and never holds a lock the writer needs; new connections see the new file.
    """
    path = Path(path)
    published = analytics_path(path)
    next_file = published.with_name(f".{published.name}.next")
    for leftover in (next_file, next_file.with_name(next_file.name + ".wal")):
        leftover.unlink(missing_ok=True)  # from a run killed while publishing
    with connect(path, lock_timeout=lock_timeout) as con:
        source = con.execute("select current_database()").fetchone()[0]
        con.execute(f"attach {sql_string(str(next_file))} as unitcost_publish_next")
        try:
            # Tables, views, macros, sequences. dbt's views name the writer's catalog
            # (`unitcost.staging...`); DuckDB names a file's catalog by its stem before the
            # first dot, so `unitcost.analytics.duckdb` is catalog `unitcost` and they resolve.
            catalog = quote_identifier(source, validate=False)
            con.execute(f"copy from database {catalog} to unitcost_publish_next")
            con.execute("checkpoint unitcost_publish_next")
        finally:
            con.execute("detach unitcost_publish_next")
    os.chmod(next_file, 0o444)
    os.replace(next_file, published)
    return published
