"""The report's charts as plotly figures, one function per chart; None when there is no data.

Plotly needs floats: money is converted from Decimal here, for drawing only. Hover text
rounds to cents; the tables and CSVs keep the exact values.
"""

from __future__ import annotations

import plotly.graph_objects as go
import polars as pl

from pipelines.report.tables import ReportTables

KIND_COLOURS = {"allocated": "#2b6cb0", "idle": "#dd8a2e", "unallocated": "#9b2c2c"}
RECOMMENDATION_COLOURS = {
    "right_size": "#2b6cb0",
    "quantize": "#2f855a",
    "distill": "#6b46c1",
    "api": "#718096",
}
_LAYOUT = {
    "template": "plotly_white",
    "margin": {"l": 60, "r": 20, "t": 50, "b": 50},
    "font": {"family": "system-ui, -apple-system, 'Segoe UI', sans-serif", "size": 13},
    "legend": {"orientation": "h", "y": -0.18},
}


def _floats(frame: pl.DataFrame, column: str) -> list[float | None]:
    return [None if v is None else float(v) for v in frame[column].to_list()]


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
            name=name,
            marker_color=KIND_COLOURS.get(kind),
            hovertemplate="%{x|%Y-%m-%d}: %{y:,.2f}<extra>" + name + "</extra>",
        )
    fig.update_layout(
        barmode="stack",
        title="Effective cost per day by allocation kind",
        yaxis_title=f"effective cost ({', '.join(currencies)})",
        xaxis={"type": "date", "dtick": 86_400_000, "tickformat": "%b %d"},
        height=380,
        **_LAYOUT,
    )
    return fig


def output_token_price_by_deployment(tables: ReportTables) -> go.Figure | None:
    """Horizontal bars: actual vs predicted USD per 1M output tokens, allocation basis."""
    rows = tables.deployments.filter(pl.col("usd_per_1m_output_tokens").is_not_null())
    if rows.is_empty():
        return None
    rows = rows.sort("usd_per_1m_output_tokens")
    ids = rows["deployment_id"].to_list()
    fig = go.Figure()
    fig.add_bar(
        y=ids,
        x=_floats(rows, "usd_per_1m_output_tokens"),
        orientation="h",
        name="actual",
        marker_color="#2b6cb0",
        hovertemplate="%{y}: $%{x:,.2f} per 1M output tokens<extra>actual</extra>",
    )
    fig.add_bar(
        y=ids,
        x=_floats(rows, "predicted_usd_per_1m_output_tokens"),
        orientation="h",
        name="predicted (cost model)",
        marker_color="#a0aec0",
        hovertemplate="%{y}: $%{x:,.2f} per 1M output tokens<extra>predicted</extra>",
    )
    fig.update_layout(
        barmode="group",
        title="USD per 1M output tokens by deployment (allocation basis)",
        xaxis_title="USD per 1M output tokens",
        height=max(300, 60 + 46 * len(ids)),
        **_LAYOUT,
    )
    return fig


def recommendation_savings(tables: ReportTables) -> go.Figure | None:
    """Horizontal bars: monthly savings per recommendation, coloured by kind."""
    recs = tables.recommendations
    if recs.is_empty():
        return None
    recs = recs.with_columns(
        label=pl.coalesce("deployment_id", "instance_id") + pl.lit(" · ") + pl.col("kind")
    ).reverse()  # largest at the top
    fig = go.Figure()
    for kind, rows in recs.group_by("kind", maintain_order=True):
        (kind,) = kind
        fig.add_bar(
            y=rows["label"].to_list(),
            x=_floats(rows, "monthly_savings_usd"),
            customdata=rows["confidence"].to_list(),
            orientation="h",
            name=kind,
            marker_color=RECOMMENDATION_COLOURS.get(kind),
            hovertemplate="%{y}: $%{x:,.0f}/month, confidence %{customdata:.2f}<extra></extra>",
        )
    fig.update_layout(
        title="Recommended monthly savings (USD)",
        xaxis_title="USD per month",
        yaxis={"categoryorder": "array", "categoryarray": recs["label"].to_list()},
        height=max(300, 60 + 36 * recs.height),
        **_LAYOUT,
    )
    return fig


def build_charts(tables: ReportTables) -> dict[str, go.Figure | None]:
    return {
        "daily_cost": daily_cost_by_kind(tables),
        "output_price": output_token_price_by_deployment(tables),
        "savings": recommendation_savings(tables),
    }
