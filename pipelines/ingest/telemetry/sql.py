"""DuckDB helpers every telemetry step shares: the temp macros that make SQL parse and print
values exactly as the polars ingest did, literals for our own constants, and a runner that
passes a statement only the ``$parameters`` it uses (DuckDB rejects unused ones).

Identifiers from files (column names) are quoted with ``warehouse.quote_identifier``; values
(paths, the day's window, reason texts) are parameters. Literals are only for constants of
this package (field names and bounds), never for anything read from a file.
"""

from __future__ import annotations

import re

import duckdb
import polars as pl

from pipelines.warehouse import sql_string

# Temp macros: connection-scoped, replaced on every load. Why each exists:
MACROS = (
    # polars' text for a Float64, which the quarantine reasons quote: DuckDB's shortest repr
    # except that polars writes 1e-5 <= |x| < 1e-4 as plain decimals and small exponents
    # without a leading zero (1.5e-6, where DuckDB writes 1.5e-06).
    r"""create or replace temp macro _tel_float_text(x) as regexp_replace(
        regexp_replace(cast(x as varchar), '^(-?)(\d)(?:\.(\d+))?e-05$', '\10.0000\2\3'),
        'e-0(\d)$', 'e-\1')""",
    # polars' non-strict String -> Int32: digits and a sign only. DuckDB's own cast also
    # accepts ' 1', '1.0', '1e3', '0x10' and '1_000', which polars (and so the ingest) refused.
    # String functions, not a regex: this runs on every wide row.
    """create or replace temp macro _tel_to_int(s) as
        case when ltrim(s, '+-0123456789') = '' then try_cast(s as integer) end""",
    # polars' non-strict String -> Float64: DuckDB would also trim spaces and drop '_'.
    r"""create or replace temp macro _tel_to_double(s) as
        case when strpos(s, '_') = 0 and trim(s, e' \t\n\r\x0b\x0c') = s
        then try_cast(s as double) end""",
    # The host label, else the instance label (host:port) without a numeric port.
    """create or replace temp macro _tel_host(host, instance) as coalesce(host,
        case when rtrim(instance, '0123456789') != instance
            and suffix(rtrim(instance, '0123456789'), ':')
        then left(rtrim(instance, '0123456789'), -1) else instance end)""",
    # A sample time inside the day [start, end) or unreadable (a check quarantines those).
    """create or replace temp macro _tel_in_day(ts, day_start, day_end) as
        ts is null or (ts >= day_start and ts < day_end)""",
)

_PARAM = re.compile(r"\$(\w+)")


def create_macros(con: duckdb.DuckDBPyConnection) -> None:
    for macro in MACROS:
        con.execute(macro)


def run(
    con: duckdb.DuckDBPyConnection, sql: str, params: dict | None = None
) -> duckdb.DuckDBPyConnection:
    """Execute ``sql`` with the subset of ``params`` it names."""
    used = set(_PARAM.findall(sql))
    picked = {k: v for k, v in (params or {}).items() if k in used}
    return con.execute(sql, picked or None)


def literal(value: str) -> str:
    """A constant of this package as a SQL string literal."""
    return sql_string(value)


def float_text(value: float) -> str:
    """``value`` as polars prints a Float64 (bounds in the quarantine reasons)."""
    return pl.Series([value], dtype=pl.Float64).cast(pl.String)[0]


def in_day(column: str = "ts") -> str:
    """The window predicate on ``column``, with the load's ``$start``/``$end``."""
    return f"_tel_in_day({column}, $start, $end)"
