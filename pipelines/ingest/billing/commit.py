"""The one transaction that replaces a delivery's billing periods and appends the ledger."""

from __future__ import annotations

import datetime as dt
import json

import pyarrow as pa

from pipelines.ingest.billing import ledger
from pipelines.ingest.billing.columns import LINE_ITEM_COLUMNS
from pipelines.ingest.errors import SourceError
from pipelines.quality.ledger import LedgerRow, write_ingest

PERIOD_COLUMN = {
    "focus": "BillingPeriodStart",
    "cur2": "bill_billing_period_start_date",
    "cur1": "bill/BillingPeriodStartDate",
}
# Identical rows are kept (no stable line item id; case 5) but counted for the ledger.
_IDENTITY = [
    c
    for c in LINE_ITEM_COLUMNS
    if c not in ("source_file", "source_line", "billing_source", "source_format", "delivery_id")
]


class BillingConflict(ValueError):
    """The same account and period arrive from two sources (case 6)."""


def check_periods(fmt: str, period: dt.date | None, con, items: pa.Table) -> list[dt.date]:
    """The periods the rows belong to; with a manifest, every row must be in its period."""
    con.register("_items", items)
    try:
        if period is not None:
            stray = con.execute(
                "select source_file, source_line, billing_period from _items "
                "where billing_period <> ? order by source_file, source_line limit 1",
                [period],
            ).fetchall()
            if stray:
                file, line, other = stray[0]
                problem = (
                    f"row is billed in period {other:%Y-%m}, the manifest is for {period:%Y-%m}"
                )
                raise SourceError(file, problem, line=line, column=PERIOD_COLUMN[fmt])
            return [period]
        rows = con.execute("select distinct billing_period from _items order by 1").fetchall()
        return [r[0] for r in rows]
    finally:
        con.unregister("_items")


def _conflict(con, billing_source: str) -> None:
    rows = con.execute(
        f"select n.billing_account_id, n.billing_period, min(o.billing_source) "
        f"from (select distinct billing_account_id, billing_period from _items) n "
        f"join {ledger.LINE_ITEMS} o using (billing_account_id, billing_period) "
        "where o.billing_source <> ? group by all order by 2, 1 limit 1",
        [billing_source],
    ).fetchall()
    if rows:
        account, period, other = rows[0]
        names = " and ".join(sorted([other, billing_source]))
        raise BillingConflict(f"account {account} period {period:%Y-%m} in sources {names}")


def _totals(con, period: dt.date) -> dict[str | None, tuple]:
    rows = con.execute(
        "select billing_currency, sum(billed_cost), sum(effective_cost) from _items "
        "where billing_period = ? group by 1",
        [period],
    ).fetchall()
    return {c: (b, e) for c, b, e in rows}


def _counts(con, period: dt.date) -> tuple[int, int]:
    """(rows, identical rows): a row is identical when an earlier row of the period in the
    same delivery has every value equal (file and line aside), so two equal rows count 1.

    Grouping every row on all its columns took most of the commit on a month of a large
    fleet; a row hash is ten times faster. Equal rows have equal hashes, so only the rows
    whose hash repeats are grouped on their values: a collision cannot miscount."""
    cols = ", ".join(_IDENTITY)
    return con.execute(
        f"""with period as (
            select *, hash({cols}) as _row_hash from _items where billing_period = $period
        ),
        repeated as (select _row_hash from period group by 1 having count(*) > 1)
        select
            (select count(*) from period),
            coalesce((
                select sum(n - 1) from (
                    select count(*) as n from period semi join repeated using (_row_hash)
                    group by {cols}
                )
            ), 0)""",
        {"period": period},
    ).fetchall()[0]


def _extra_columns(con, period: dt.date) -> str | None:
    """The names of the period's extra columns (case 14: kept and recorded), as JSON."""
    rows = con.execute(
        "select distinct unnest(json_keys(cast(extra_columns_json as json))) from _items "
        "where billing_period = ? and extra_columns_json is not null order by 1",
        [period],
    ).fetchall()
    return json.dumps([r[0] for r in rows]) if rows else None


def commit_delivery(
    con,
    entry: dict,
    items: pa.Table,
    periods: list[dt.date],
    superseded: dict | None = None,
    ingest_rows: list[LedgerRow] = (),
) -> tuple[str, dict[dt.date, int]]:
    """Replace the source's rows for ``periods`` with ``items`` in one transaction; returns
    the status and the identical-row count of each period (case 5, for the warnings).

    ``superseded``: period -> ``restate.Superseded``, the older deliveries' files and rows
    that ``items`` no longer holds (recorded in the ledger so every row read is accounted).
    ``ingest_rows``: the periods' ``raw.ingest_ledger`` rows, written in the same
    transaction: a kill between the two commits left a delivery loaded but unledgered, and
    the re-run skipped it as unchanged, failing ``rows_accounted_for`` ever after.
    """
    superseded = superseded or {}
    source = entry["billing_source"]
    con.register("_items", items)
    con.execute("begin transaction")
    try:
        _conflict(con, source)
        con.execute(
            f"delete from {ledger.LINE_ITEMS} where billing_source = ? "
            "and list_contains(?, billing_period)",
            [source, periods],
        )
        con.execute(
            f"insert into {ledger.LINE_ITEMS} by name select *, ? as billing_source, "
            "? as source_format, ? as delivery_id from _items",
            [source, entry["source_format"], entry["delivery_id"]],
        )
        statuses, identical = set(), {}
        for period in periods:
            rows, identical[period] = _counts(con, period)
            row = {**entry, "billing_period": period, "row_count": rows}
            row["identical_row_count"] = identical[period]
            row["extra_columns"] = _extra_columns(con, period)
            lost = superseded.get(period)
            row["superseded_files"] = json.dumps(lost.files) if lost else None
            row["superseded_row_count"] = lost.rows if lost else 0
            statuses.add(ledger.record(con, row, _totals(con, period)))
        write_ingest(con, ingest_rows, source="billing", days=periods)
        con.execute("commit")
    except Exception:
        con.execute("rollback")
        raise
    finally:
        con.unregister("_items")
    return ("replaced" if "replaced" in statuses else "loaded"), identical
