"""Restated reports (RELIABILITY case 4): a bill changes after its week's report went out
(credits, refunds, ``ChargeClass='Correction'``), and the report of that week, issued again,
says so with the delta.

Each issue of a week's report is recorded in ``reports.weekly_report_history``: the week, when
it was generated, and the billed cost it was built on per currency (a week without cost is one
row with a NULL currency). An issue is recorded when it is the week's first or its billed cost
differs from the newest recorded one, so re-running an unchanged week adds nothing and renders
the same file. A report is *restated* when the billed cost of its week differs from an earlier
issue's: the newest such issue is the one a reader last saw with other figures, and the delta
is per currency, never summed across currencies.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

import duckdb

from pipelines.report.formats import money
from pipelines.warehouse import table_exists

HISTORY = "reports.weekly_report_history"
_DDL = (
    f"create table if not exists {HISTORY} (week_last_day date not null, "
    "generated_at timestamptz not null, billing_currency varchar, billed_cost decimal(38, 12))"
)

Totals = dict[str, Decimal]  # billing currency -> billed cost of the week


@dataclass(frozen=True)
class Restatement:
    """The week's billed cost changed since the report generated at ``since``."""

    since: dt.datetime  # UTC
    previous: Totals
    current: Totals

    @property
    def deltas(self) -> Totals:
        """current - previous per currency, changed currencies only, in code order."""
        currencies = sorted(set(self.previous) | set(self.current))
        deltas = {
            c: self.current.get(c, Decimal(0)) - self.previous.get(c, Decimal(0))
            for c in currencies
        }
        return {c: d for c, d in deltas.items() if d != 0}

    def delta_text(self) -> str:
        """For reading: ``+$12.50``, ``-€3.00 and +$1.00``."""
        parts = [("+" if d > 0 else "") + money(d, currency=c) for c, d in self.deltas.items()]
        return " and ".join(parts)

    def delta_exact(self) -> str:
        """For the CSVs: ``USD -25.000000000000; EUR 3.000000000000`` (exact, DECIMAL scale)."""
        return "; ".join(f"{c} {d}" for c, d in self.deltas.items())


def _issues(con: duckdb.DuckDBPyConnection, last_day: dt.date) -> list[tuple[dt.datetime, Totals]]:
    """The week's recorded issues, oldest first: (generated_at, billed cost per currency)."""
    if not table_exists(con, HISTORY):
        return []
    rows = con.execute(
        f"select generated_at, billing_currency, billed_cost from {HISTORY} "
        "where week_last_day = ? order by generated_at, billing_currency",
        [last_day],
    ).fetchall()
    issues: dict[dt.datetime, Totals] = {}
    for generated_at, currency, billed in rows:
        totals = issues.setdefault(generated_at, {})
        if currency is not None:
            totals[currency] = billed
    return list(issues.items())


def restatement(
    con: duckdb.DuckDBPyConnection, last_day: dt.date, current: Totals
) -> Restatement | None:
    """How ``current`` differs from the newest earlier issue with other figures; None if no
    issue of the week had other figures (a first report, or the bill has not changed)."""
    for generated_at, totals in reversed(_issues(con, last_day)):
        if totals != current:
            return Restatement(generated_at, totals, current)
    return None


def record_issue(
    con: duckdb.DuckDBPyConnection, last_day: dt.date, current: Totals, generated_at: dt.datetime
) -> bool:
    """Record this issue of the week's report unless the newest one had the same billed cost;
    True if a row was written. One transaction: an issue is recorded whole or not at all."""
    issues = _issues(con, last_day)
    if issues and issues[-1][1] == current:
        return False
    rows = [(last_day, generated_at, c, v) for c, v in sorted(current.items())]
    con.execute("create schema if not exists reports")
    con.execute(_DDL)
    con.execute("begin transaction")
    try:
        con.executemany(
            f"insert into {HISTORY} values (?, ?, ?, ?)",
            rows or [(last_day, generated_at, None, None)],
        )
        con.execute("commit")
    except Exception:
        con.execute("rollback")
        raise
    return True
