"""Render the report: one self-contained HTML file (plotly.js inline, no CDN) and two CSVs.

The template is ``dashboards/weekly_report.html.j2``. Money is formatted from Decimal, rounded
for reading; the CSVs keep the marts' exact DECIMAL values. Nothing in the HTML depends on
the clock, so re-rendering the same week gives the same file.
"""

from __future__ import annotations

import os
from decimal import Decimal
from functools import cache
from pathlib import Path

import jinja2
import plotly.graph_objects as go
import polars as pl
from plotly.offline import get_plotlyjs

from pipelines.report.charts import build_charts
from pipelines.report.files import ReportFiles
from pipelines.report.tables import ReportTables

DASHBOARDS = Path(__file__).resolve().parents[2] / "dashboards"
TEMPLATE = "weekly_report.html.j2"
_CHART_CONFIG = {"displaylogo": False, "responsive": True}


def money(value: Decimal | float | None, places: int = 2) -> str:
    return "—" if value is None else f"{value:,.{places}f}"


def usd(value: Decimal | float | None, places: int = 2) -> str:
    if value is None:
        return "—"
    return f"-${-value:,.{places}f}" if value < 0 else f"${value:,.{places}f}"


def price(value: Decimal | None) -> str:
    """A price per 1M tokens: cents when it is a dollar or more, else four decimals."""
    if value is None:
        return "—"
    return usd(value, 2 if abs(value) >= 1 else 4)


def pct(value: float | None, places: int = 1) -> str:
    return "—" if value is None else f"{100 * value:.{places}f} %"


def _ratio(part: Decimal, whole: Decimal) -> float | None:
    return float(part / whole) if whole else None


@cache
def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(DASHBOARDS),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(money=money, usd=usd, price=price, pct=pct)
    return env


def _chart_html(name: str, fig: go.Figure | None) -> str | None:
    if fig is None:
        return None
    # A fixed div id (plotly's default is random) keeps re-renders byte-identical.
    return fig.to_html(
        full_html=False, include_plotlyjs=False, div_id=f"chart-{name}", config=_CHART_CONFIG
    )


def currency_totals(tables: ReportTables) -> list[dict]:
    """Per currency: the week's effective cost, and its idle and unallocated parts."""
    totals = []
    for (currency,), rows in tables.spend_by_kind.group_by("billing_currency", maintain_order=True):
        by_kind = dict(zip(rows["allocation_kind"], rows["effective_cost"], strict=True))
        total = sum(by_kind.values(), Decimal(0))
        idle, unallocated = by_kind.get("idle", Decimal(0)), by_kind.get("unallocated", Decimal(0))
        totals.append(
            {
                "currency": currency,
                "effective_cost": total,
                "idle_cost": idle,
                "idle_share": _ratio(idle, total),
                "unallocated_cost": unallocated,
                "unallocated_share": _ratio(unallocated, total),
            }
        )
    return totals


def recommended_savings(tables: ReportTables) -> Decimal:
    """Monthly USD saved by the largest recommendation per target (kinds are alternatives)."""
    best = tables.recommendations.filter(pl.col("is_largest_for_target"))
    return sum(best["monthly_savings_usd"].to_list(), Decimal(0))


def render_html(tables: ReportTables) -> str:
    charts = {name: _chart_html(name, fig) for name, fig in build_charts(tables).items()}
    coverage = tables.coverage
    template = _environment().get_template(TEMPLATE)
    return template.render(
        first_day=tables.first_day,
        last_day=tables.last_day,
        days=tables.days,
        totals=currency_totals(tables),
        savings=recommended_savings(tables),
        spend=tables.spend_by_kind.rows(named=True),
        deployments=tables.deployments.rows(named=True),
        idle_unallocated=tables.idle_unallocated.rows(named=True),
        recommendations=tables.recommendations.rows(named=True),
        coverage=coverage,
        unobserved_share=(
            coverage["unobserved_gpu_hours"] / coverage["gpu_hours"]
            if coverage["gpu_hours"]
            else None
        ),
        split_methods=tables.method_counts("split_method"),
        efficiency_sources=tables.method_counts("efficiency_source"),
        charts=charts,
        plotly_js=get_plotlyjs(),
    )


def _replace(path: Path, write) -> None:
    # Write beside, then rename: a reader never sees half a report.
    tmp = path.with_name(f".{path.name}.tmp")
    write(tmp)
    os.replace(tmp, path)


def write_report(tables: ReportTables, folder: Path) -> ReportFiles:
    """Write the HTML report and the recommendations and deployments CSVs into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    files = ReportFiles(folder, tables.last_day)
    html = render_html(tables)
    _replace(files.html, lambda p: p.write_text(html, encoding="utf-8"))
    _replace(files.recommendations_csv, tables.recommendations.write_csv)
    _replace(files.deployments_csv, tables.deployments.write_csv)
    return files
