"""The report's charts as plotly figures, one function per chart; None when there is no data.

Plotly needs floats: money is converted from Decimal here, for drawing only. Every label and
hover shows the amount through ``formats.money``, the same text as the tables; the CSVs keep
the exact values.

Readability over a shared scale: each deployment gets its own figures (a waterfall from floor
to actual, and modelled vs actual on the usage basis), each on its own axis starting at zero,
with every bar labelled by its amount. Deployments a hundred times apart in cost never share
an axis, so no bar shrinks to a pixel because another deployment is large.
"""

from __future__ import annotations

import plotly.graph_objects as go
import polars as pl
from plotly.subplots import make_subplots

from pipelines.report.formats import SYMBOLS, money, pct
from pipelines.report.tables import ReportTables, waterfall_steps

KIND_COLOURS = {"allocated": "#2b6cb0", "idle": "#dd8a2e", "unallocated": "#9b2c2c"}
CASH, DEFERRED = "#2f855a", "#b7d7c2"
MODELLED, ACTUAL = "#718096", "#2b6cb0"
_FONT = {"family": "system-ui, -apple-system, 'Segoe UI', sans-serif", "size": 13}
_LAYOUT = {
    "template": "plotly_white",
    "margin": {"l": 60, "r": 20, "t": 50, "b": 50},
    "font": _FONT,
    "legend": {"orientation": "h", "y": -0.18},
}


def _float(value) -> float | None:
    return None if value is None else float(value)


def _floats(frame: pl.DataFrame, column: str) -> list[float | None]:
    return [_float(v) for v in frame[column].to_list()]


def _days(deployment: dict) -> str:
    days = deployment["days"]
    return f"{days} day{'s' if days != 1 else ''} with data"


def daily_cost_by_kind(tables: ReportTables) -> go.Figure | None:
    """Stacked bars: effective cost per UTC day, by allocation kind (and currency if several)."""
    daily = tables.daily_spend
    if daily.is_empty():
        return None
    currencies = daily["billing_currency"].unique().sort().to_list()
    fig = go.Figure()
    for (currency, kind), rows in daily.group_by(
        ["billing_currency", "allocation_kind"], maintain_order=True
    ):
        name = kind if len(currencies) == 1 else f"{kind} ({currency})"
        fig.add_bar(
            x=rows["usage_date"].to_list(),
            y=_floats(rows, "effective_cost"),
            customdata=[money(v, currency=currency) for v in rows["effective_cost"]],
            name=name,
            marker_color=KIND_COLOURS.get(kind),
            hovertemplate="%{x|%Y-%m-%d}: %{customdata}<extra>" + name + "</extra>",
        )
    fig.update_layout(
        barmode="stack",
        title="Effective cost per day by allocation kind",
        yaxis={
            "title": f"effective cost ({', '.join(currencies)})",
            "tickprefix": SYMBOLS.get(currencies[0], "") if len(currencies) == 1 else "",
            "tickformat": ",~f",
        },
        xaxis={"type": "date", "dtick": 86_400_000, "tickformat": "%b %d"},
        height=380,
        **_LAYOUT,
    )
    return fig


def deployment_waterfall(deployment: dict) -> go.Figure | None:
    """One deployment's week from the floor to the actual cost (allocation basis), in USD.

    Steps in ``tables.WATERFALL``'s order; a negative residual (the model over-estimates the
    busy time) steps down. Every bar carries its amount, so a step too small to see still reads.
    """
    steps = waterfall_steps(deployment)
    if steps is None:
        return None
    labels = [money(s.value) for s in steps]
    fig = go.Figure(
        go.Waterfall(
            x=[s.label for s in steps],
            y=[float(s.value) for s in steps],
            measure=[s.measure for s in steps],
            text=labels,
            textposition="outside",
            cliponaxis=False,
            customdata=labels,
            hovertemplate="%{x}: %{customdata}<extra></extra>",
            connector={"line": {"color": "#a0aec0", "width": 1}},
            increasing={"marker": {"color": "#dd8a2e"}},
            decreasing={"marker": {"color": "#2f855a"}},
            totals={"marker": {"color": ACTUAL}},
        )
    )
    fig.update_layout(
        title={
            "text": f"Floor to actual, USD, {_days(deployment)} · "
            f"efficiency {pct(deployment['efficiency'])}",
            "font": {"size": 14},
        },
        yaxis={"title": "USD", "rangemode": "tozero", "tickprefix": "$", "tickformat": ",~f"},
        xaxis={"tickangle": -30},
        showlegend=False,
        height=380,
        template="plotly_white",
        margin={"l": 60, "r": 10, "t": 50, "b": 90},
        font=_FONT,
    )
    # room above the highest level the bars reach, for the labels
    level = top = 0.0
    for s in steps:
        level = float(s.value) + (level if s.measure == "relative" else 0.0)
        top = max(top, level)
    fig.update_yaxes(range=[0, top * 1.15 if top > 0 else 1])
    return fig


def deployment_modelled_vs_actual(deployment: dict) -> go.Figure | None:
    """Modelled vs measured busy GPU cost (usage basis) side by side: over the week, and per
    1M output tokens. Each panel has its own axis from zero; both bars are labelled."""
    modelled, actual = deployment.get("modelled_cost_usd"), deployment.get("actual_usage_cost_usd")
    if modelled is None or actual is None or not (modelled or actual):
        return None  # no efficiency rows, or no traffic: nothing busy to compare
    days = deployment["days"]
    panels = [(f"USD over {days} day{'s' if days != 1 else ''}", modelled, actual, "")]
    m_out = deployment.get("modelled_usd_per_1m_output_tokens")
    a_out = deployment.get("actual_usage_usd_per_1m_output_tokens")
    if m_out is not None and a_out is not None:
        panels.append(("USD per 1M output tokens", m_out, a_out, " per 1M"))
    # the bar labels leave the unit to the panel title: narrow bars shrink long labels
    fig = make_subplots(rows=1, cols=len(panels), subplot_titles=[p[0] for p in panels])
    for col, (_, m, a, unit) in enumerate(panels, start=1):
        labels = [money(m), money(a)]
        hover = [money(m, unit), money(a, unit)]
        fig.add_bar(
            x=["modelled", "actual (usage)"],
            y=[float(m), float(a)],
            marker_color=[MODELLED, ACTUAL],
            text=labels,
            textposition="outside",
            cliponaxis=False,
            customdata=hover,
            hovertemplate="%{x}: %{customdata}<extra></extra>",
            showlegend=False,
            row=1,
            col=col,
        )
        top = max(float(m), float(a))
        fig.update_yaxes(
            range=[0, top * 1.2 if top > 0 else 1], tickprefix="$", tickformat=",~f", row=1, col=col
        )
    ratio = deployment.get("modelled_to_actual_ratio")
    fig.update_layout(
        title={
            "text": f"Busy GPU cost, usage basis: modelled ÷ actual = {pct(ratio)}",
            "font": {"size": 14},
        },
        height=380,
        template="plotly_white",
        margin={"l": 55, "r": 10, "t": 80, "b": 50},
        font=_FONT,
    )
    fig.update_annotations(font_size=12)  # the panel titles
    return fig


def recommendation_savings(tables: ReportTables) -> go.Figure | None:
    """Horizontal stacked bars per recommendation: cash saved now, and deferred (after a
    commitment ends or capacity freed for reuse) apart, USD per month."""
    recs = tables.recommendations
    if recs.is_empty():
        return None
    recs = recs.with_columns(
        label=pl.coalesce("deployment_id", "instance_id") + pl.lit(" · ") + pl.col("kind")
    ).reverse()  # most cash at the top
    labels = recs["label"].to_list()
    fig = go.Figure()
    for name, column, colour in (
        ("cash now", "cash_monthly_savings_usd", CASH),
        (
            "deferred (after a commitment ends, or capacity reused)",
            "deferred_monthly_savings_usd",
            DEFERRED,
        ),
    ):
        text = [money(v, "/mo") for v in recs[column]]
        fig.add_bar(
            y=labels,
            x=_floats(recs, column),
            orientation="h",
            name=name,
            marker_color=colour,
            customdata=text,
            hovertemplate="%{y}: %{customdata}<extra>" + name + "</extra>",
        )
    fig.update_layout(
        barmode="stack",
        title="Recommended monthly savings (USD): cash now and deferred",
        xaxis={"title": "USD per month", "tickprefix": "$", "tickformat": ",~f"},
        yaxis={"categoryorder": "array", "categoryarray": labels},
        height=max(300, 80 + 36 * recs.height),
        **{**_LAYOUT, "legend": {**_LAYOUT["legend"], "traceorder": "normal"}},
    )
    return fig


def build_charts(tables: ReportTables) -> dict[str, go.Figure | None]:
    """The fleet charts, by name (the per-deployment ones: ``deployment_charts``)."""
    return {
        "daily_cost": daily_cost_by_kind(tables),
        "savings": recommendation_savings(tables),
    }


def deployment_charts(tables: ReportTables) -> dict[str, dict[str, go.Figure | None]]:
    """Per deployment id: its ``waterfall`` and ``modelled_vs_actual`` figures (or None)."""
    return {
        d["deployment_id"]: {
            "waterfall": deployment_waterfall(d),
            "modelled_vs_actual": deployment_modelled_vs_actual(d),
        }
        for d in tables.deployments.rows(named=True)
    }
