"""DuckDB helpers shared by every writer: connection settings and safe table replacement.

No dagster here: tests and the CLI open the warehouse the same way the assets do.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
import polars as pl

# RELIABILITY.md rule 4 and case 39: UTC on every connection; leave half the RAM to the rest of
# the process (polars frames, dbt) instead of DuckDB's default 80 %.
CONNECTION_CONFIG = {
    "memory_limit": "12GB",
    "threads": 2,
    "preserve_insertion_order": False,
}

_IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def quote_identifier(name: str) -> str:
    """Quote a schema/table/column name that came from code or config (never from data)."""
    if not _IDENTIFIER.match(name):
        raise ValueError(f"invalid identifier {name!r}: expected {_IDENTIFIER.pattern}")
    return '"' + name.replace('"', '""') + '"'


@contextmanager
def connect(path: str | Path, *, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
    """Open the warehouse file (creating its folder) with unitcost's connection settings."""
    path = Path(path)
    if not read_only:
        path.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(path), read_only=read_only, config=dict(CONNECTION_CONFIG))
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
    where: str,
    params: list,
    frame: pl.DataFrame,
) -> int:
    """Delete the rows matching ``where`` (SQL with ``?`` parameters), insert ``frame``.

    One transaction: the partition or billing period is replaced whole or not at all
    (RELIABILITY.md rules 1 and 5). The table is created from ``frame`` the first time, so
    declare every column's type in the frame (DECIMAL for money, UTC timestamps).
    """
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
