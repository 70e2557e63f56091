"""The report's tables: the marts queried for the 7 UTC days ending on a date, as polars.

Money arrives as DECIMAL(38,12) and stays Decimal here; only the display rounds it. The
queries are in ``sql/``, parameterised by ``$first_day`` and ``$last_day`` (both included).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import duckdb
import polars as pl

SQL_DIR = Path(__file__).parent / "sql"
WEEK_DAYS = 7


@cache
def _sql(name: str) -> str:
    return (SQL_DIR / f"{name}.sql").read_text(encoding="utf-8")


def _query(con: duckdb.DuckDBPyConnection, name: str, params: dict) -> pl.DataFrame:
    sql = _sql(name)
    # DuckDB rejects named parameters a statement does not use (comments do not count).
    used = set(re.findall(r"\$(\w+)", re.sub(r"--[^\n]*", "", sql)))
    return con.execute(sql, {k: v for k, v in params.items() if k in used}).pl()


@dataclass(frozen=True)
class ReportTables:
    """Everything the report shows for the week ``[first_day, last_day]``."""

    first_day: dt.date
    last_day: dt.date
    daily_spend: pl.DataFrame  # usage_date x currency x allocation kind
    spend_by_kind: pl.DataFrame  # currency x allocation kind, GPU vs other cost
    deployments: pl.DataFrame  # one row per deployment with allocation-basis cost
    idle_unallocated: pl.DataFrame  # idle per deployment, unallocated cost
    recommendations: pl.DataFrame  # newest as-of date, largest saving first
    coverage: dict  # days_with_cost, gpu_hours, unobserved_gpu_hours, currencies, ...
    methods: pl.DataFrame  # measure (split_method, efficiency_source), method, deployment_days

    @property
    def days(self) -> int:
        return (self.last_day - self.first_day).days + 1

    def method_counts(self, measure: str) -> dict[str, int]:
        rows = self.methods.filter(pl.col("measure") == measure)
        return dict(zip(rows["method"].to_list(), rows["deployment_days"].to_list(), strict=True))


def week_ending(last_day: dt.date) -> tuple[dt.date, dt.date]:
    """The report's days: the ``WEEK_DAYS`` UTC days ending on ``last_day``, both included."""
    return last_day - dt.timedelta(days=WEEK_DAYS - 1), last_day


def load_tables(con: duckdb.DuckDBPyConnection, last_day: dt.date) -> ReportTables:
    """Query the marts for the week ending on ``last_day`` (an open, UTC connection)."""
    first_day, _ = week_ending(last_day)
    params = {"first_day": first_day, "last_day": last_day}
    coverage = _query(con, "coverage", params).row(0, named=True)
    return ReportTables(
        first_day=first_day,
        last_day=last_day,
        daily_spend=_query(con, "daily_spend", params),
        spend_by_kind=_query(con, "spend_by_kind", params),
        deployments=_query(con, "deployments", params),
        idle_unallocated=_query(con, "idle_unallocated", params),
        recommendations=_query(con, "recommendations", params),
        coverage=coverage,
        methods=_query(con, "methods", params),
    )
