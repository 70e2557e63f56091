"""``raw.ingest_ledger``: every line read accounted for, per source file and partition.

Grain: one row per (source, partition_day, source_file) ingest. For billing ``partition_day``
is the billing period's first day (the unit of replacement); for requests and telemetry the
UTC day whose run read the file. The balance every row must hold:

    lines_read = stored + quarantined + duplicates_dropped + outside_window + not_used

``lines_read`` counts the file's data records (request-log lines, telemetry samples, billing
rows; headers and blank lines are not records); ``outside_window`` those that belong to other
partitions (a file dated D also holds D+1's first minutes). The ingest knows every term, so it
records them with ``record_ingest(con, rows)``: one transaction replacing that source's rows of
the days given. ``build_ledger`` turns per-file counters (``counts_by_file`` of the frames it
already has) into rows. ``ledger_report`` is what the blocking asset check reads.

``not_used`` is its own term, 0 for billing and requests: telemetry files also carry samples of
metrics unitcost never reads (DCGM fields outside ``telemetry.fields.FIELDS``, an exporter's
``process_*`` or ``python_gc_*`` series). They are not stored, nor quarantined (nothing is
wrong with them, and ``raw.quarantine_telemetry`` must match the ledger row for row), nor
another day's; folding them into any of those would make that term lie. Telemetry's unit is
one sample (one value of one series at one time) and each term is defined in
``pipelines/ingest/telemetry/counts.py``; a conflicting HA pair is two samples read and two
quarantine rows, so it adds 2 to ``quarantined`` and nothing to ``duplicates_dropped``.
Warehouses created before ``not_used`` existed get the column (0 on old rows) on next write.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import duckdb
import polars as pl

from pipelines.warehouse import add_missing_columns, table_exists

LEDGER = "raw.ingest_ledger"
LEDGER_COLUMNS = {
    "source": "VARCHAR",  # billing, requests, telemetry
    "partition_day": "DATE",
    "source_file": "VARCHAR",
    "lines_read": "BIGINT",
    "stored": "BIGINT",
    "quarantined": "BIGINT",
    "duplicates_dropped": "BIGINT",
    "outside_window": "BIGINT",
    "recorded_at": "TIMESTAMPTZ",
    "not_used": "BIGINT DEFAULT 0",  # last: old warehouses get it appended (add_missing_columns)
}
TERMS = ("stored", "quarantined", "duplicates_dropped", "outside_window", "not_used")

# Where each source's stored rows and quarantine live, to reconcile the ledger with the
# tables. Telemetry stores DCGM samples pivoted (many metric lines -> one row per GPU and
# time), so only its quarantine is reconciled row for row.
STORED_TABLES = {
    "requests": ("raw.inference_requests", "cast(arrival_ts as date)"),
    "billing": ("raw.billing_line_items", "billing_period"),
}
# Stored tables whose rows name their file by id (pipelines/ingest/file_ids.py), not by
# path: reconciled through raw.source_files, as the ledger names files by path.
FILE_ID_TABLES = {"raw.inference_requests"}
QUARANTINE_TABLES = {
    "requests": "raw.quarantine_requests",
    "telemetry": "raw.quarantine_telemetry",
}


@dataclass(frozen=True)
class LedgerRow:
    source: str
    partition_day: dt.date
    source_file: str
    lines_read: int
    stored: int = 0
    quarantined: int = 0
    duplicates_dropped: int = 0
    outside_window: int = 0
    not_used: int = 0

    @property
    def unaccounted(self) -> int:
        """Lines read that no term explains (negative: more accounted than read)."""
        return self.lines_read - sum(getattr(self, t) for t in TERMS)


def counts_by_file(
    frame: pl.DataFrame, column: str = "source_file", weights: pl.Expr | None = None
) -> dict[str, int]:
    """Rows per source file of a stored, quarantined or dropped frame; with ``weights`` (a
    boolean or integer expression) their sum per file instead, e.g. the rows of a mask.

    By run length, not a string group-by: a file's rows are contiguous in the frames ingest
    builds, so this stays cheap on a fleet day's tens of millions of rows (any order is exact).
    """
    if frame.height == 0:
        return {}
    runs = frame.select(pl.col(column).rle()).unnest(column)
    if weights is None:
        per_run = runs["len"]
    else:
        ends = runs["len"].cum_sum() - 1
        upto = frame.select(weights.cast(pl.Int64).cum_sum()).to_series().gather(ends)
        per_run = upto.diff().fill_null(upto[0])
    grouped = pl.DataFrame({"file": runs["value"], "n": per_run}).group_by("file").agg(pl.sum("n"))
    return dict(zip(grouped["file"].to_list(), grouped["n"].to_list(), strict=True))


def build_ledger(
    source: str,
    partition_day: dt.date,
    lines_read: Mapping[str, int],
    stored: Mapping[str, int] | None = None,
    quarantined: Mapping[str, int] | None = None,
    duplicates_dropped: Mapping[str, int] | None = None,
    outside_window: Mapping[str, int] | None = None,
    not_used: Mapping[str, int] | None = None,
) -> list[LedgerRow]:
    """One row per file seen in any counter; a missing count is 0, so whatever the ingest
    failed to count shows up as ``unaccounted`` instead of being filled in."""
    terms = {
        "stored": stored or {},
        "quarantined": quarantined or {},
        "duplicates_dropped": duplicates_dropped or {},
        "outside_window": outside_window or {},
        "not_used": not_used or {},
    }
    files = sorted(set(lines_read).union(*(set(m) for m in terms.values())))
    return [
        LedgerRow(
            source,
            partition_day,
            f,
            int(lines_read.get(f, 0)),
            **{t: int(m.get(f, 0)) for t, m in terms.items()},
        )
        for f in files
    ]


def ensure_ledger(con: duckdb.DuckDBPyConnection) -> None:
    cols = ", ".join(f"{name} {kind}" for name, kind in LEDGER_COLUMNS.items())
    con.execute("create schema if not exists raw")
    con.execute(f"create table if not exists {LEDGER} ({cols})")
    add_missing_columns(con, "raw", "ingest_ledger", LEDGER_COLUMNS)


def record_ingest(
    con: duckdb.DuckDBPyConnection,
    rows: Iterable[LedgerRow],
    *,
    source: str | None = None,
    days: Iterable[dt.date] = (),
) -> int:
    """Replace the ledger rows of each (source, partition_day) in ``rows`` (and of ``days``
    for ``source``: a day whose files are all gone is cleared) in one transaction."""
    ensure_ledger(con)
    con.execute("begin transaction")
    try:
        n = write_ingest(con, rows, source=source, days=days)
        con.execute("commit")
    except Exception:
        con.execute("rollback")
        raise
    return n


def write_ingest(
    con: duckdb.DuckDBPyConnection,
    rows: Iterable[LedgerRow],
    *,
    source: str | None = None,
    days: Iterable[dt.date] = (),
) -> int:
    """``record_ingest`` inside the caller's transaction: for an ingest that commits its rows
    and their ledger rows together (a crash leaves neither)."""
    rows = list(rows)
    scope = {(r.source, r.partition_day) for r in rows}
    if source is not None:
        scope |= {(source, d) for d in days}
    ensure_ledger(con)
    now = dt.datetime.now(dt.UTC)
    for src, day in sorted(scope):
        con.execute(f"delete from {LEDGER} where source = ? and partition_day = ?", [src, day])
    if rows:
        # By name: an old warehouse has the newer columns appended, not in this order.
        names = ["source", "partition_day", "source_file", "lines_read", *TERMS, "recorded_at"]
        con.executemany(
            f"insert into {LEDGER} ({', '.join(names)}) values ({', '.join('?' for _ in names)})",
            [
                [r.source, r.partition_day, r.source_file, r.lines_read]
                + [getattr(r, t) for t in TERMS]
                + [now]
                for r in rows
            ],
        )
    return len(rows)


@dataclass
class LedgerReport:
    """What the asset check reports for one source over some partition days."""

    source: str
    days: list[dt.date]
    files: int = 0
    lines_read: int = 0
    totals: dict[str, int] = field(default_factory=dict)
    unbalanced: list[dict] = field(default_factory=list)  # ledger rows whose terms don't add up
    table_mismatches: list[dict] = field(default_factory=list)  # ledger vs stored/quarantine
    days_not_recorded: list[str] = field(default_factory=list)  # days with rows, no ledger
    unbalanced_count: int = 0
    mismatch_count: int = 0

    @property
    def balanced(self) -> bool:
        return not self.unbalanced and not self.table_mismatches


def _by_day_and_file(con, sql: str, params: list) -> dict[tuple, int]:
    return {(d, f): n for d, f, n in con.execute(sql, params).fetchall()}


def _terms_sql(con: duckdb.DuckDBPyConnection) -> list[str]:
    """The term columns as SQL; 0 for a term an old warehouse's ledger does not have yet (its
    next ingest adds it) so a check on it still reads."""
    present = {
        r[0]
        for r in con.execute(
            "select column_name from information_schema.columns "
            "where table_schema = 'raw' and table_name = 'ingest_ledger'"
        ).fetchall()
    }
    return [f"coalesce({t}, 0)" if t in present else "0" for t in TERMS]


def _file_of(con: duckdb.DuckDBPyConnection, table: str) -> str:
    """The path of a stored row's file, as SQL: a row whose id is not registered has none, so
    it shows up as a mismatch instead of vanishing from the count."""
    if table not in FILE_ID_TABLES:
        return "source_file"
    if not table_exists(con, "raw.source_files"):
        return "null"
    return (
        f"(select f.uri from raw.source_files as f where f.source_file_id = {table}.source_file_id)"
    )


def ledger_report(
    con: duckdb.DuckDBPyConnection, source: str, days: list[dt.date], limit: int = 10
) -> LedgerReport:
    """Balance of every ledger row of ``source`` on ``days``, and the ledger's stored and
    quarantined counts against the tables, file by file."""
    report = LedgerReport(source, days)
    ledger: dict[tuple, dict] = {}
    if table_exists(con, LEDGER):
        cols = ", ".join(["partition_day", "source_file", "lines_read", *_terms_sql(con)])
        for row in con.execute(
            f"select {cols} from {LEDGER} where source = ? and list_contains(?, partition_day) "
            "order by partition_day, source_file",
            [source, days],
        ).fetchall():
            ledger[(row[0], row[1])] = dict(zip(["lines_read", *TERMS], row[2:], strict=True))
    report.files = len(ledger)
    report.lines_read = sum(v["lines_read"] for v in ledger.values())
    report.totals = {t: sum(v[t] for v in ledger.values()) for t in TERMS}
    for (day, file), v in ledger.items():
        gap = v["lines_read"] - sum(v[t] for t in TERMS)
        if gap:
            report.unbalanced.append(
                {"day": str(day), "source_file": file, **v, "unaccounted": gap}
            )
    recorded_days = {d for d, _ in ledger}
    for term, tables in (("stored", STORED_TABLES), ("quarantined", QUARANTINE_TABLES)):
        if source not in tables:
            continue
        if term == "stored":
            table, day_expr = tables[source]
        else:
            table, day_expr = tables[source], "partition_day"
        if not table_exists(con, table):
            continue
        actual = _by_day_and_file(
            con,
            f"select {day_expr}, {_file_of(con, table)}, count(*) from {table} "
            f"where list_contains(?, {day_expr}) group by all",
            [days],
        )
        for day in sorted({d for d, _ in actual} - recorded_days):
            report.days_not_recorded.append(str(day))
        for key in sorted(set(actual) | set(ledger), key=lambda k: (k[0], k[1] or "")):
            if key[0] not in recorded_days:
                continue
            in_ledger = ledger.get(key, {}).get(term, 0)
            if actual.get(key, 0) != in_ledger:
                report.table_mismatches.append(
                    {
                        "day": str(key[0]),
                        "source_file": key[1],
                        "term": term,
                        "ledger": in_ledger,
                        "table": actual.get(key, 0),
                    }
                )
    report.days_not_recorded = sorted(set(report.days_not_recorded))
    report.unbalanced_count = len(report.unbalanced)
    report.mismatch_count = len(report.table_mismatches)
    report.unbalanced = report.unbalanced[:limit]
    report.table_mismatches = report.table_mismatches[:limit]
    return report
