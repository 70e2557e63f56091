"""Render the report: one self-contained HTML file (plotly.js inline, no CDN) and two CSVs.

plotly.js is the cartesian partial bundle (``bundle.py``), inlined once in the page's head;
every chart is a div and a short script calling it. A chart with a trace type that bundle
lacks is an error here, not a blank box in someone's inbox.

The template is ``dashboards/weekly_report.html.j2``. Money is formatted from Decimal by
``formats.money`` only, rounded for reading; the CSVs keep the marts' exact DECIMAL values.
Nothing in the HTML depends on the clock, so re-rendering the same week gives the same file
(a restated report names the date of an earlier issue, read from the report history).
"""

from __future__ import annotations

import os
import re
from decimal import Decimal
from functools import cache
from pathlib import Path

import jinja2
import plotly.graph_objects as go
import polars as pl

from pipelines.report.bundle import BUNDLE_TRACES, plotly_js
from pipelines.report.charts import build_charts, deployment_charts, report_template
from pipelines.report.files import ReportFiles
from pipelines.report.forecast import FIT_DAYS, HORIZON_DAYS, LEVEL, MIN_DAYS
from pipelines.report.formats import money, number, pct
from pipelines.report.restated import Restatement
from pipelines.report.tables import (
    WATERFALL,
    ReportTables,
    headline_savings,
    spend_forecasts,
    waterfall_steps,
    waterfall_unexplained,
)

DASHBOARDS = Path(__file__).resolve().parents[2] / "dashboards"
TEMPLATE = "weekly_report.html.j2"
_CHART_CONFIG = {"displaylogo": False, "responsive": True}
SUMMARY_CHARS = 110
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9])")


def quantity(value: float | Decimal | None) -> str:
    """GPUs, batch sizes: up to two decimals, no trailing zeros ("4", "0.43", "16.36")."""
    if value is None:
        return "—"
    text = number(value, 2)
    return text.rstrip("0").rstrip(".") if "." in text else text


def assumption_parts(text: str | None) -> dict | None:
    """A recommendation's assumptions as a one-line summary and the sentences behind it.

    The summary is the first sentence (cut at a word past ``SUMMARY_CHARS``); ``more`` holds
    what the summary does not show, rendered inside ``<details>`` so a long list stays one line.
    """
    if not text or not text.strip():
        return None
    sentences = [s.strip() for s in _SENTENCE_END.split(text.strip()) if s.strip()]
    first, rest = sentences[0], sentences[1:]
    if len(first) > SUMMARY_CHARS:
        cut = first.rfind(" ", 0, SUMMARY_CHARS)
        summary = first[: cut if cut > 0 else SUMMARY_CHARS].rstrip(" ,;:") + "…"
        rest = [first, *rest]
    else:
        summary = first
    return {"summary": summary, "more": rest}


def commitment_label(kind: str | None) -> str:
    return (kind or "commitment").replace("_", " ")


def commitment_names(ids: str | None) -> str:
    """Commitment ids as a reader names them: an ARN's last segment ("savingsplan/ab12" -> "ab12").

    The full ids are in the CSV and in the cell's title (hover)."""
    if not ids:
        return "no commitment named"
    return ", ".join(i.strip().rsplit("/", 1)[-1] for i in ids.split(",") if i.strip())


@cache
def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(DASHBOARDS),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        money=money,
        number=number,
        pct=pct,
        quantity=quantity,
        assumptions=assumption_parts,
        commitment=commitment_label,
        commitment_names=commitment_names,
    )
    return env


def _chart_html(name: str, fig: go.Figure | None) -> str | None:
    if fig is None:
        return None
    missing = {trace.type for trace in fig.data} - BUNDLE_TRACES
    if missing:
        raise ValueError(
            f"chart {name}: trace type(s) {sorted(missing)} not in the plotly.js bundle"
        )
    # A fixed div id (plotly's default is random) keeps re-renders byte-identical.
    return fig.to_html(
        full_html=False, include_plotlyjs=False, div_id=f"chart-{name}", config=_CHART_CONFIG
    )


def _ratio(part: Decimal, whole: Decimal) -> float | None:
    return float(part / whole) if whole else None


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


def render_html(tables: ReportTables) -> str:
    with report_template():
        charts = {name: _chart_html(name, fig) for name, fig in build_charts(tables).items()}
        per_deployment = {
            deployment_id: {
                name: _chart_html(f"{name.replace('_', '-')}-{deployment_id}", fig)
                for name, fig in figs.items()
            }
            for deployment_id, figs in deployment_charts(tables).items()
        }
    deployments = tables.deployments.rows(named=True)
    unexplained = {}  # actual - (floor + gaps), when the mart's parts do not add up
    for d in deployments:
        steps = waterfall_steps(d)
        if steps is not None and waterfall_unexplained(steps) != 0:
            unexplained[d["deployment_id"]] = waterfall_unexplained(steps)
    coverage = tables.coverage
    template = _environment().get_template(TEMPLATE)
    return template.render(
        first_day=tables.first_day,
        last_day=tables.last_day,
        days=tables.days,
        totals=currency_totals(tables),
        headline=headline_savings(tables.recommendations),
        spend=tables.spend_by_kind.rows(named=True),
        deployments=[d for d in deployments if d["days"] is not None],
        without_efficiency=[d for d in deployments if d["days"] is None],
        waterfall=WATERFALL,
        unexplained=unexplained,
        idle_unallocated=tables.idle_unallocated.rows(named=True),
        recommendations=tables.recommendations.rows(named=True),
        coverage=coverage,
        missing=tables.missing,
        stale_recommendations=tables.stale_recommendations,
        restated=tables.restated,
        saturation=tables.saturation.rows(named=True),
        unobserved_share=(
            coverage["unobserved_gpu_hours"] / coverage["gpu_hours"]
            if coverage["gpu_hours"]
            else None
        ),
        split_methods=tables.method_counts("split_method"),
        efficiency_sources=tables.method_counts("efficiency_source"),
        charts=charts,
        deployment_charts=per_deployment,
        forecasts=spend_forecasts(tables),
        forecast_method={
            "fit_days": FIT_DAYS,
            "horizon_days": HORIZON_DAYS,
            "min_days": MIN_DAYS,
            "level": LEVEL,
        },
        plotly_js=plotly_js(),
    )


def _replace(path: Path, write) -> None:
    # Write beside, then rename: a reader never sees half a report.
    tmp = path.with_name(f".{path.name}.tmp")
    write(tmp)
    os.replace(tmp, path)


def _marked(frame: pl.DataFrame, restated: Restatement | None) -> pl.DataFrame:
    """The CSV rows with the report's restatement: the date of the earlier report whose
    billed cost differed and the exact delta per currency (both empty if not restated)."""
    since = restated.since.date() if restated else None
    delta = restated.delta_exact() if restated else None
    return frame.with_columns(
        pl.lit(since, dtype=pl.Date).alias("restated_since"),
        pl.lit(delta, dtype=pl.String).alias("restated_billed_cost_delta"),
    )


def write_report(tables: ReportTables, folder: Path) -> ReportFiles:
    """Write the HTML report and the recommendations and deployments CSVs into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    files = ReportFiles(folder, tables.last_day)
    html = render_html(tables)
    _replace(files.html, lambda p: p.write_text(html, encoding="utf-8"))
    recommendations = _marked(tables.recommendations, tables.restated)
    _replace(files.recommendations_csv, recommendations.write_csv)
    _replace(files.deployments_csv, _marked(tables.deployments, tables.restated).write_csv)
    return files
