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

import contextlib
from collections.abc import Iterator

import plotly.graph_objects as go
import plotly.io as pio
import polars as pl
from plotly.subplots import make_subplots

from pipelines.report.forecast import SpendForecast
from pipelines.report.formats import SYMBOLS, money, pct
from pipelines.report.tables import ReportTables, spend_forecasts, waterfall_steps

KIND_COLOURS = {"allocated": "#2b6cb0", "idle": "#dd8a2e", "unallocated": "#9b2c2c"}
CASH, DEFERRED = "#2f855a", "#b7d7c2"
MODELLED, ACTUAL = "#718096", "#2b6cb0"
STEP_UP, STEP_DOWN = "#dd8a2e", "#2f855a"  # a waterfall step adding cost, or taking it off
_FONT = {"family": "system-ui, -apple-system, 'Segoe UI', sans-serif", "size": 13}
# Every chart's look, applied as plotly's default template while the report is built
# (``report_template``), not set on each figure: plotly validates, deep-copying it, a template
# set on a figure, which at 256 deployments (two figures each) was two thirds of the report's
# time. A default template is taken as valid; the figures come out the same.
TEMPLATE = "plotly_white"
_LAYOUT = {
    "margin": {"l": 60, "r": 20, "t": 50, "b": 50},
    "font": _FONT,
    "legend": {"orientation": "h", "y": -0.18},
}


@contextlib.contextmanager
def report_template() -> Iterator[None]:
    """Figures built inside take ``TEMPLATE`` (plotly's default template, restored after)."""
    before = pio.templates.default
    pio.templates.default = TEMPLATE
    try:
        yield
    finally:
        pio.templates.default = before


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
    # Floating bars (a bar trace's ``base``) rather than plotly's waterfall trace, which only
    # the full plotly.js bundle has (bundle.py): each step starts where the last level ended.
    bases, heights, colours, levels = [], [], [], []
    level = 0.0
    for s in steps:
        value = float(s.value)
        if s.measure == "absolute":
            bases.append(0.0)
            heights.append(value)
            colours.append(ACTUAL)
            level = value
        else:
            bases.append(level)
            heights.append(value)  # negative: the bar hangs down from the level
            colours.append(STEP_UP if value >= 0 else STEP_DOWN)
            level += value
        levels.append(level)
    fig = go.Figure(
        go.Bar(
            x=[s.label for s in steps],
            y=heights,
            base=bases,
            marker_color=colours,
            text=labels,
            textposition="outside",
            cliponaxis=False,
            customdata=labels,
            hovertemplate="%{x}: %{customdata}<extra></extra>",
        )
    )
    # connectors: each level carried over to the next bar, as a waterfall draws them
    for i, y in enumerate(levels[:-1]):
        fig.add_shape(
            type="line", x0=i + 0.4, x1=i + 0.6, y0=y, y1=y, xref="x", yref="y",
            line={"color": "#a0aec0", "width": 1},
        )  # fmt: skip
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
        margin={"l": 60, "r": 10, "t": 50, "b": 90},
        font=_FONT,
    )
    # room above the highest level the bars reach, for the labels
    top = max([0.0, *levels, *(b + max(h, 0.0) for b, h in zip(bases, heights, strict=True))])
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


WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
BUSY_SCALE = [[0.0, "#f7fbff"], [0.5, "#6baed6"], [1.0, "#08306b"]]


def spend_forecast_chart(forecasts: list[SpendForecast]) -> go.Figure | None:
    """Horizontal bars: each deployment's forecast spend for the next 30 days, USD, with its
    95 % prediction interval as an error bar (``forecast.py``)."""
    if not forecasts:
        return None
    rows = sorted(forecasts, key=lambda f: (f.spend_usd, f.deployment_id))  # most at the top
    labels = [f.deployment_id for f in rows]
    text = [
        f"{money(f.spend_usd)} ({money(f.spend_low_usd)} to {money(f.spend_high_usd)})"
        for f in rows
    ]
    fig = go.Figure(
        go.Bar(
            y=labels,
            x=[float(f.spend_usd) for f in rows],
            orientation="h",
            marker_color=ACTUAL,
            error_x={
                "type": "data",
                "symmetric": False,
                "array": [float(f.spend_high_usd - f.spend_usd) for f in rows],
                "arrayminus": [float(f.spend_usd - f.spend_low_usd) for f in rows],
                "color": "#4a5568",
            },
            customdata=text,
            hovertemplate="%{y}: %{customdata}<extra>next 30 days</extra>",
        )
    )
    first, last = rows[0].first_day, rows[0].last_day
    fig.update_layout(
        title=f"Spend forecast, {first} to {last} (USD, 95 % interval)",
        xaxis={"title": "USD over 30 days", "tickprefix": "$", "tickformat": ",~f",
               "rangemode": "tozero"},
        yaxis={"categoryorder": "array", "categoryarray": labels},
        showlegend=False,
        height=max(260, 90 + 36 * len(rows)),
        **_LAYOUT,
    )  # fmt: skip
    return fig


def gpu_busy_heatmap(tables: ReportTables) -> go.Figure | None:
    """Deployment × hour of the week (Monday 00 UTC to Sunday 23 UTC): the DCGM busy share of
    its observed GPU-hours, %. A blank cell: no GPU-hour observed (or none held)."""
    busy = tables.busy_hourly
    if busy.is_empty():
        return None
    deployments = sorted(busy["deployment_id"].unique().to_list(), reverse=True)  # a at top
    cells = {
        (r["deployment_id"], (r["iso_weekday"] - 1) * 24 + r["hour_utc"]): r
        for r in busy.iter_rows(named=True)
    }
    z, text = [], []
    for d in deployments:
        z_row, text_row = [], []
        for h in range(7 * 24):
            cell = cells.get((d, h))
            share = None if cell is None else cell["busy_fraction"]
            z_row.append(None if share is None else round(100 * share, 1))
            when = f"{WEEKDAYS[h // 24]} {h % 24:02d}:00 UTC"
            if cell is None:
                text_row.append(f"{when}: no GPU-hours")
            else:
                text_row.append(
                    f"{when} ({cell['first_date']}): "
                    + ("not observed" if share is None else f"{pct(share)} busy")
                    + f", {cell['held_gpu_hours']:.4g} GPU-hours held"
                )
        z.append(z_row)
        text.append(text_row)
    fig = go.Figure(
        go.Heatmap(
            z=z,
            x=list(range(7 * 24)),
            y=deployments,
            zmin=0,
            zmax=100,
            colorscale=BUSY_SCALE,
            colorbar={"title": {"text": "busy %"}, "ticksuffix": " %", "thickness": 12},
            customdata=text,
            hovertemplate="%{y} · %{customdata}<extra></extra>",
            xgap=0,
            ygap=2,
        )
    )
    fig.update_layout(
        title="GPU busy by hour of the week (DCGM, share of observed GPU-hours)",
        xaxis={
            "tickvals": [24 * i + 12 for i in range(7)],
            "ticktext": list(WEEKDAYS),
            "range": [-0.5, 7 * 24 - 0.5],
            "showgrid": False,
            "zeroline": False,
        },
        yaxis={"automargin": True},
        shapes=[
            {"type": "line", "x0": 24 * i - 0.5, "x1": 24 * i - 0.5, "y0": 0, "y1": 1,
             "xref": "x", "yref": "paper", "line": {"color": "#ffffff", "width": 2}}
            for i in range(1, 7)
        ],
        height=max(240, 110 + 30 * len(deployments)),
        **{**_LAYOUT, "margin": {"l": 110, "r": 20, "t": 50, "b": 40}},
    )  # fmt: skip
    return fig


def build_charts(tables: ReportTables) -> dict[str, go.Figure | None]:
    """The fleet charts, by name (the per-deployment ones: ``deployment_charts``)."""
    return {
        "daily_cost": daily_cost_by_kind(tables),
        "savings": recommendation_savings(tables),
        "forecast": spend_forecast_chart(spend_forecasts(tables)),
        "busy_heatmap": gpu_busy_heatmap(tables),
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
