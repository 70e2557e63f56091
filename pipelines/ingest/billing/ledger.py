"""The delivery ledger ``raw.billing_deliveries``: what was delivered, when, and what changed.

Grain: one row per ingestion attempt (``ledger_seq``) per billing currency (a delivery with
no rows has one row with a NULL currency). Totals and deltas are DECIMAL(38,12) per currency,
never summed across currencies (case 8). Status: ``loaded`` (first delivery of the period),
``replaced`` (a restatement: deltas against the previous one), ``unchanged`` (the same
fingerprint again: no line item was touched). In a folder without manifests a newer file
of the same account and period supersedes an older one; ``superseded_files`` and
``superseded_row_count`` say which files' rows of the period were read but not stored.
``identical_row_count`` counts rows equal in every value (file and line aside) to an earlier
row of the same period and delivery: kept, as separate charges with no stable id (case 5),
so two equal rows count 1. ``extra_columns`` names the columns kept in ``extra_columns_json``.
"""

from __future__ import annotations

import duckdb

from pipelines.ingest.billing.columns import MONEY
from pipelines.quality.ledger import LEDGER as INGEST_LEDGER
from pipelines.warehouse import add_missing_columns, table_exists

LEDGER = "raw.billing_deliveries"
LINE_ITEMS = "raw.billing_line_items"

LEDGER_COLUMNS = {
    "ledger_seq": "BIGINT",
    "delivery_id": "VARCHAR",
    "billing_source": "VARCHAR",
    "billing_period": "DATE",
    "source_format": "VARCHAR",
    "status": "VARCHAR",
    "fingerprint_sha256": "VARCHAR",
    "manifest_uri": "VARCHAR",
    "manifest_sha256": "VARCHAR",
    "file_sha256s": "JSON",
    "file_count": "INTEGER",
    "row_count": "BIGINT",
    "identical_row_count": "BIGINT",
    # Names of the columns outside the format's spec, kept in extra_columns_json (case 14).
    "extra_columns": "JSON",
    "billing_currency": "VARCHAR",
    "billed_cost_total": MONEY,
    "effective_cost_total": MONEY,
    "previous_delivery_id": "VARCHAR",
    "billed_cost_delta": MONEY,
    "effective_cost_delta": MONEY,
    "row_count_delta": "BIGINT",
    # Manifest-less folders: files of an older delivery of the period that a newer one
    # replaced, and their rows (read, not stored: restate.py).
    "superseded_files": "JSON",
    "superseded_row_count": "BIGINT",
    "recorded_at": "TIMESTAMPTZ",
}


def ensure_ledger(con: duckdb.DuckDBPyConnection) -> None:
    cols = ",\n  ".join(f"{n} {t}" for n, t in LEDGER_COLUMNS.items())
    con.execute("create schema if not exists raw")
    con.execute(f"create table if not exists {LEDGER} (\n  {cols}\n)")
    # A ledger made before a column existed gets it (NULL on its earlier rows).
    add_missing_columns(con, "raw", "billing_deliveries", LEDGER_COLUMNS)


def last_delivery(con, billing_source: str, period) -> tuple[str, str] | None:
    """(delivery_id, fingerprint) of the newest ledger entry for the source and period."""
    rows = con.execute(
        f"select delivery_id, fingerprint_sha256 from {LEDGER} "
        "where billing_source = ? and billing_period = ? order by ledger_seq desc limit 1",
        [billing_source, period],
    ).fetchall()
    return rows[0] if rows else None


def rows_last_loaded(con, source_file: str) -> int:
    """Data rows the file held when it was last loaded (``raw.ingest_ledger``), 0 if never."""
    if not table_exists(con, INGEST_LEDGER):
        return 0
    return con.execute(
        f"select coalesce(sum(lines_read), 0) from {INGEST_LEDGER} "
        "where source = 'billing' and source_file = ?",
        [source_file],
    ).fetchall()[0][0]


def fingerprint_known(con, billing_source: str, fingerprint: str) -> bool:
    rows = con.execute(
        f"select count(*) from {LEDGER} where billing_source = ? and fingerprint_sha256 = ?",
        [billing_source, fingerprint],
    ).fetchall()
    return rows[0][0] > 0


def record(con, entry: dict, totals: dict[str | None, tuple]) -> str:
    """Append the ledger rows of one attempt (inside the caller's transaction); returns status.

    ``totals``: currency -> (billed, effective); deltas are against the newest earlier entry
    of the same source and period that was loaded or replaced.
    """
    seq = con.execute(f"select coalesce(max(ledger_seq), 0) + 1 from {LEDGER}").fetchall()[0][0]
    previous = con.execute(
        f"select delivery_id, row_count, billing_currency, billed_cost_total, effective_cost_total "
        f"from {LEDGER} where ledger_seq = (select max(ledger_seq) from {LEDGER} "
        "where billing_source = ? and billing_period = ? and status <> 'unchanged')",
        [entry["billing_source"], entry["billing_period"]],
    ).fetchall()
    prev_id, prev_rows = (previous[0][0], previous[0][1]) if previous else (None, None)
    prev_totals = {c: (b, e) for _, _, c, b, e in previous}
    status = entry.pop("status", None) or ("replaced" if prev_id else "loaded")
    if not totals and not prev_totals:
        totals = {None: (0, 0)}  # an empty delivery still leaves its trace
    for currency in sorted(set(totals) | set(prev_totals), key=lambda c: c or ""):
        billed, effective = totals.get(currency, (0, 0))
        pbilled, peffective = prev_totals.get(currency, (0, 0))
        row = {
            **entry,
            "ledger_seq": seq,
            "status": status,
            "billing_currency": currency,
            "billed_cost_total": billed,
            "effective_cost_total": effective,
            "previous_delivery_id": prev_id,
            "billed_cost_delta": billed - pbilled if prev_id else None,
            "effective_cost_delta": effective - peffective if prev_id else None,
            "row_count_delta": entry["row_count"] - prev_rows if prev_id else None,
        }
        names = ", ".join(row)
        marks = ", ".join("?" for _ in row)
        con.execute(
            f"insert into {LEDGER} ({names}, recorded_at) values ({marks}, now())",
            list(row.values()),
        )
    return status
