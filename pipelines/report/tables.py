"""The report's tables: the marts queried for the 7 UTC days ending on a date, as polars.

Money arrives as DECIMAL(38,12) and stays Decimal here; only the display rounds it. The
queries are in ``sql/``, parameterised by ``$first_day`` and ``$last_day`` (both included),
with the macros of ``sql/_macros.sql``. Also here, as plain data: the steps of a deployment's
waterfall from floor to actual, and the headline savings (cash now, deferred apart).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cache
from pathlib import Path

import duckdb
import polars as pl

from pipelines.quality import freshness
from pipelines.report.forecast import FIT_DAYS, DayUsage, SpendForecast, spend_forecast
from pipelines.report.restated import Restatement, Totals, restatement

SQL_DIR = Path(__file__).parent / "sql"
WEEK_DAYS = 7


@cache
def _sql(name: str) -> str:
    return (SQL_DIR / f"{name}.sql").read_text(encoding="utf-8")


def _define_macros(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(_sql("_macros"))


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
    deployments: pl.DataFrame  # one row per deployment: floor, modelled, actual, waterfall
    idle_unallocated: pl.DataFrame  # idle per deployment, unallocated cost
    recommendations: pl.DataFrame  # newest as-of date, most cash saved first
    coverage: dict  # days_with_cost, gpu_hours, unobserved_gpu_hours, currencies, ...
    methods: pl.DataFrame  # measure (split_method, efficiency_source), method, deployment_days
    missing: tuple[tuple[str, dt.date], ...] = ()  # (source, day) with no rows in the week
    billed_cost: Totals = field(default_factory=dict)  # the week's billed cost per currency
    restated: Restatement | None = None  # the billed cost changed since an earlier issue
    # per deployment: its most saturated vLLM hour and the week's preemptions (saturation_week)
    saturation: pl.DataFrame = field(default_factory=pl.DataFrame)
    # deployment x UTC day over the forecast's fit window: tokens, cost_usd (forecast.py)
    forecast_days: pl.DataFrame = field(default_factory=pl.DataFrame)
    # deployment x hour of the week (iso_weekday, hour_utc): DCGM busy share (heatmap)
    busy_hourly: pl.DataFrame = field(default_factory=pl.DataFrame)

    @property
    def stale_recommendations(self) -> bool:
        """The newest recommendations are older than the week's last day (or there are none):
        their savings must not be headlined as this week's."""
        as_of = self.coverage.get("recommendations_as_of")
        return as_of is None or as_of < self.last_day

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
    fit_first_day = last_day - dt.timedelta(days=FIT_DAYS - 1)
    params = {"first_day": first_day, "last_day": last_day, "fit_first_day": fit_first_day}
    _define_macros(con)
    coverage = _query(con, "coverage", params).row(0, named=True)
    billed = dict(_query(con, "billed_totals", params).iter_rows())
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
        missing=missing_days(con, first_day, last_day),
        billed_cost=billed,
        restated=restatement(con, last_day, billed),
        saturation=saturation_week(con, first_day, last_day),
        forecast_days=_query(con, "forecast_days", params),
        busy_hourly=_query(con, "busy_hourly", params),
    )


def saturation_week(
    con: duckdb.DuckDBPyConnection, first_day: dt.date, last_day: dt.date
) -> pl.DataFrame:
    """Per deployment with vLLM metrics: its most saturated hour of the week (most requests
    waiting at p95, then most preemptions, then fullest KV cache), that hour's KV-cache
    usage and queue (p95 and max), and the week's preemptions (``sql/saturation.sql``).

    Empty on a warehouse whose dbt build predates ``marts.fct_saturation_hourly``: the
    section then says there is nothing to show rather than failing the whole report.
    """
    exists = con.execute(
        "select count(*) from information_schema.tables "
        "where table_schema = 'marts' and table_name = 'fct_saturation_hourly'"
    ).fetchone()[0]
    if not exists:
        return pl.DataFrame()
    return _query(con, "saturation", {"first_day": first_day, "last_day": last_day})


def spend_forecasts(tables: ReportTables) -> list[SpendForecast]:
    """The 30-day spend forecast of each deployment with enough days (``forecast.py``)."""
    if tables.forecast_days.is_empty():
        return []
    forecasts = []
    for (deployment_id,), rows in tables.forecast_days.group_by(
        "deployment_id", maintain_order=True
    ):
        days = [
            DayUsage(r["usage_date"], r["tokens"], r["cost_usd"])
            for r in rows.iter_rows(named=True)
        ]
        forecast = spend_forecast(deployment_id, days, tables.last_day)
        if forecast is not None:
            forecasts.append(forecast)
    return forecasts


def missing_days(
    con: duckdb.DuckDBPyConnection, first_day: dt.date, last_day: dt.date
) -> tuple[tuple[str, dt.date], ...]:
    """(source, day) for each day of the week a loaded source has no rows for (the same
    definition as the freshness check, ``pipelines/quality/freshness.py``)."""
    week = [first_day + dt.timedelta(days=i) for i in range((last_day - first_day).days + 1)]
    return tuple(
        (source, day)
        for source in freshness.DAY_ROWS
        if freshness.source_configured(con, source)
        for day in week
        if freshness.rows_on_day(con, source, day) == 0
    )


@dataclass(frozen=True)
class WaterfallStep:
    label: str
    column: str  # in ReportTables.deployments (and the deployments CSV)
    measure: str  # plotly's: "absolute" (a level) or "relative" (a step from the last level)
    value: Decimal


# From the floor to the actual cost, in this order (issue 11): what the cost model says the
# kernels and the batching cost beyond the floor, then what telemetry measured beyond the
# model (the residual, may be negative), then the GPUs held beyond the busy time: more GPUs
# than needed, idle time, GPU-hours without telemetry, then non-GPU cost the deployment claims.
WATERFALL: tuple[tuple[str, str, str], ...] = (
    ("floor", "floor_cost_usd", "absolute"),
    ("kernel efficiency", "gap_kernel_efficiency_usd", "relative"),
    ("batching", "gap_batching_usd", "relative"),
    ("residual", "gap_residual_usd", "relative"),
    ("over-provisioning", "gap_over_provisioning_usd", "relative"),
    ("idle", "gap_idle_usd", "relative"),
    ("unobserved", "gap_unobserved_usd", "relative"),
    ("non-GPU", "gap_non_gpu_usd", "relative"),
    ("actual", "actual_cost_usd", "absolute"),
)


def waterfall_steps(deployment: dict) -> list[WaterfallStep] | None:
    """The week's floor, the seven gaps and the actual cost of one ``deployments`` row.

    None when the deployment has no efficiency rows. The actual is the mart's, not the sum of
    the steps: if they ever disagree, the chart shows the jump (``waterfall_unexplained``).
    """
    if deployment.get("floor_cost_usd") is None or deployment.get("actual_cost_usd") is None:
        return None
    return [
        WaterfallStep(label, column, measure, deployment[column] or Decimal(0))
        for label, column, measure in WATERFALL
    ]


# Sums of DECIMAL(38,12) parts truncated at 10^-12 may miss by a few pico-dollars: not a gap.
UNEXPLAINED_TOLERANCE_USD = Decimal("0.005")


def waterfall_unexplained(steps: list[WaterfallStep]) -> Decimal:
    """Actual minus (floor + every gap): zero when the mart's parts add up, as they must
    (a difference under ``UNEXPLAINED_TOLERANCE_USD``, half a cent, counts as zero)."""
    *parts, actual = steps
    missing = actual.value - sum((s.value for s in parts), Decimal(0))
    return missing if abs(missing) >= UNEXPLAINED_TOLERANCE_USD else Decimal(0)


@dataclass(frozen=True)
class Commitment:
    ids: str | None  # as the mart lists them; None: capacity freed for reuse, none named
    kind: str | None
    end_date: dt.date | None  # None: not known
    deferred_monthly_usd: Decimal  # of the recommendations the headline counts
    targets: tuple[str, ...]  # those recommendations: "deployment or instance · kind"


@dataclass(frozen=True)
class HeadlineSavings:
    """What the headline adds up: one recommendation per target (kinds are alternatives)."""

    cash_monthly_usd: Decimal
    deferred_monthly_usd: Decimal
    counted: int
    commitments: list[Commitment]


def headline_savings(recommendations: pl.DataFrame) -> HeadlineSavings:
    """Cash saved per month now, and apart what waits on a commitment, over the counted rows.

    The counted rows are ``counts_in_headline`` (the most cash per deployment or instance);
    the deferred part is theirs too, grouped by the commitment that defers it.
    """
    counted = recommendations.filter(pl.col("counts_in_headline")).rows(named=True)
    deferred: dict[tuple, Decimal] = {}
    targets: dict[tuple, list[str]] = {}
    for r in counted:
        if r["deferred_monthly_savings_usd"]:
            key = (r["commitment_ids"], r["commitment_kind"], r["commitment_end_date"])
            deferred[key] = deferred.get(key, Decimal(0)) + r["deferred_monthly_savings_usd"]
            target = r["deployment_id"] or r["instance_id"]
            targets.setdefault(key, []).append(f"{target} · {r['kind']}")
    commitments = [
        Commitment(ids, kind, end, amount, tuple(targets[ids, kind, end]))
        for (ids, kind, end), amount in deferred.items()
    ]
    commitments.sort(key=lambda c: (c.end_date is None, c.end_date or dt.date.min, c.ids or ""))
    return HeadlineSavings(
        cash_monthly_usd=sum((r["cash_monthly_savings_usd"] for r in counted), Decimal(0)),
        deferred_monthly_usd=sum(deferred.values(), Decimal(0)),
        counted=len(counted),
        commitments=commitments,
    )
