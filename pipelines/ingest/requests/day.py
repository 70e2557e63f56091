"""One day of request ingest as the asset runs it: rows, quarantine and ledger, one commit.

Shared by the Dagster asset and ``unitcost bench-requests``, so the benchmark times exactly
what a run does. The day's requests, its quarantine and its ledger rows (and any table a new
warehouse lacks) are written in one transaction: a run killed at any point leaves the day as
it was or wholly replaced, and the ledger always reconciles with the rows (RELIABILITY.md
rule 5, case 37).
"""

from __future__ import annotations

import datetime as dt

import duckdb

from pipelines.ingest.quarantine import QUARANTINE_SCHEMA, quarantine_frame, quarantine_table
from pipelines.ingest.requests import store
from pipelines.ingest.requests.load import DayLoad, RequestLoader
from pipelines.ingest.storage import SourceFile
from pipelines.quality.ledger import build_ledger, counts_by_file, write_ingest

SOURCE = "requests"
QUARANTINE = f"raw.{quarantine_table(SOURCE)}"
_SQL_TYPES = {"source_file": "VARCHAR", "line": "BIGINT", "column_name": "VARCHAR"}
_SQL_TYPES |= {"reason": "VARCHAR", "partition_day": "DATE"}


def ingest_day(
    con: duckdb.DuckDBPyConnection,
    loader: RequestLoader | None,
    day: dt.date,
    files: list[SourceFile],
    run_days: list[dt.date] | None = None,
) -> DayLoad:
    """Replace the day's requests, quarantine and ledger rows. Without a configured source
    (``loader`` None) the day is emptied, ledger included."""
    if loader is not None:
        return loader.store_day(
            con, day, files, run_days, before_commit=lambda loaded: _finish(con, day, loaded)
        )
    loaded = DayLoad(quarantine_frame([], day), [], 0.0)
    con.execute("begin transaction")
    try:
        store.ensure_tables(con)
        con.execute(f"delete from {store.TABLE} where {store.IN_DAY}", store.window(day))
        _finish(con, day, loaded, ledger=False)
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise
    return loaded


def _finish(con, day: dt.date, loaded: DayLoad, *, ledger: bool = True) -> None:
    """The day's quarantine and ledger rows, in the caller's transaction. Every line of every
    file the day read: stored, quarantined, a dropped copy, or another day's. A day without
    a source still clears its ledger rows. Tables are created here, in the transaction: a run
    killed before the commit leaves none behind."""
    columns = ", ".join(f"{c} {_SQL_TYPES[c]}" for c in QUARANTINE_SCHEMA)
    con.execute(f"create table if not exists {QUARANTINE} ({columns})")
    con.execute(f"delete from {QUARANTINE} where partition_day = ?", [day])
    con.register("_quarantine", loaded.quarantine.to_arrow())
    try:
        con.execute(f"insert into {QUARANTINE} by name select * from _quarantine")
    finally:
        con.unregister("_quarantine")
    write_ingest(con, day_ledger(loaded, day) if ledger else [], source=SOURCE, days=[day])


def day_ledger(loaded, day: dt.date) -> list:
    """The ledger rows of a day's load: per file, the lines read and where each went."""
    return build_ledger(
        SOURCE,
        day,
        loaded.lines_read,
        stored=loaded.stored,
        quarantined=counts_by_file(loaded.quarantine),
        duplicates_dropped=loaded.exact_duplicates,
        outside_window=loaded.outside_day,
    )
