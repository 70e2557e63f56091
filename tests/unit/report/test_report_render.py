"""The rendered report: one self-contained HTML file, exact CSVs, money rounded for reading.

Numbers are checked as printed, against values worked out by hand from the fixture
(tests/fixtures/report/warehouse.sql; see test_report_tables.py).
"""

from __future__ import annotations

import csv
import datetime as dt
import html as htmllib
import re
from decimal import Decimal
from pathlib import Path

import pytest
from plotly.offline import get_plotlyjs

from pipelines.report.bundle import BUNDLE, BUNDLE_TRACES, plotly_js, version_of
from pipelines.report.charts import build_charts, deployment_charts
from pipelines.report.files import REPORTS_DIR_ENV, ReportFiles, reports_dir
from pipelines.report.formats import money, pct
from pipelines.report.render import (
    assumption_parts,
    commitment_names,
    currency_totals,
    render_html,
    write_report,
)
from pipelines.report.tables import WATERFALL, load_tables
from pipelines.warehouse import connect

D = Decimal
FIXTURE = Path(__file__).parents[2] / "fixtures" / "report" / "warehouse.sql"


@pytest.fixture(scope="module")
def written(tables, tmp_path_factory) -> ReportFiles:
    return write_report(tables, tmp_path_factory.mktemp("reports") / "out")


@pytest.fixture(scope="module")
def html(written) -> str:
    return written.html.read_text(encoding="utf-8")


def _rows(html: str, table_id: str) -> list[list[str]]:
    """The text of each row's cells in ``<table id=table_id>``."""
    table = re.search(rf'<table id="{table_id}">(.*?)</table>', html, re.S).group(1)
    return [
        [
            " ".join(htmllib.unescape(re.sub(r"<[^>]+>", " ", c)).split())
            for c in re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", row, re.S)
        ]
        for row in re.findall(r"<tr>(.*?)</tr>", table, re.S)
    ]


def _table_rows(html: str, table_id: str) -> dict[str, list[str]]:
    """The same, by the row's first cell (the last row wins)."""
    return {cells[0]: cells[1:] for cells in _rows(html, table_id)}


def _card(html: str, card_id: str) -> tuple[str, str]:
    card = re.search(rf'<div class="card" id="{card_id}">(.*?)</div></div>', html, re.S).group(1)
    value = re.search(r'<div class="value">(.*?)</div>', card, re.S).group(1)
    return value, " ".join(htmllib.unescape(re.sub(r"<[^>]+>", " ", card)).split())


def test_files_are_named_by_the_weeks_last_day(written):
    assert [
        p.name for p in (written.html, written.recommendations_csv, written.deployments_csv)
    ] == [
        "weekly_rightsizing_2026-11-07.html",
        "recommendations_2026-11-07.csv",
        "deployments_2026-11-07.csv",
    ]
    assert sorted(p.name for p in written.folder.iterdir()) == sorted(
        [
            "weekly_rightsizing_2026-11-07.html",
            "recommendations_2026-11-07.csv",
            "deployments_2026-11-07.csv",
        ]
    )  # no temporary files left behind


def test_html_names_the_range_the_bases_and_every_deployment(html):
    assert "<strong>2026-11-01</strong> to <strong>2026-11-07</strong>" in html
    assert "<strong>allocation</strong> basis" in html and "<strong>usage</strong> basis" in html
    assert "effective</em> (amortized)" in html
    assert "<strong>Efficiency = floor ÷ actual cost</strong>" in html  # defined once, here
    for name in ("chat-8b", "big-70b", "spare-8b", "i-0abc"):
        assert f'<td class="id">{name}</td>' in html


def test_html_is_self_contained_with_the_cartesian_bundle_inline_once(html, written):
    assert '<script src="http' not in html
    assert html.count(plotly_js()) == 1  # the vendored cartesian bundle, inline, once
    assert "plotly.js (cartesian - minified) v" in html
    assert get_plotlyjs()[:2000] not in html  # not the full bundle
    page = html.replace(plotly_js(), "")
    assert not re.search(r"<[a-z]+\s[^>]*\b(src|href)=", page)  # no asset fetched from anywhere
    # what is left is the page and its 9 charts' data: small
    assert len(page.encode()) < 150_000
    # 4.9 MB with the full bundle (measured before issue 15): now about a third
    assert written.html.stat().st_size < 1_700_000
    # daily cost, savings, forecast, busy heatmap; a waterfall for big-70b, chat-8b,
    # spare-8b; modelled vs actual for the two with traffic
    assert html.count('class="plotly-graph-div"') == 9
    for div in ("waterfall-chat-8b", "modelled-vs-actual-chat-8b", "waterfall-spare-8b"):
        assert f'id="chart-{div}"' in html
    assert 'id="chart-modelled-vs-actual-spare-8b"' not in html


def test_the_efficiency_printed_is_floor_over_actual_beside_both(html):
    rows = _table_rows(html, "efficiency")
    header = rows["Deployment"]
    chat = dict(zip(header, rows["chat-8b"], strict=True))
    assert chat["Floor (USD)"] == "$12.60" == money(D("12.6"))
    assert chat["Actual (USD, allocation)"] == "$55.80"
    assert chat["Efficiency = floor ÷ actual"] == "22.6 %" == pct(12.6 / 55.8)  # not 22.5 %
    # the blended prices beside it: 12.6 and 55.8 USD over 3.3 M tokens; 3.82 / 16.91 = 22.6 %
    assert chat["Floor $ / 1M tokens"] == "$3.82 per 1M"
    assert chat["Actual $ / 1M tokens"] == "$16.91 per 1M"
    assert chat["Tokens (input + output)"] == "3,300,000"
    assert chat["Modelled ÷ actual (usage)"] == "101.5 %"  # 40.2 / 39.6
    big = dict(zip(header, rows["big-70b"], strict=True))
    assert (big["Floor (USD)"], big["Actual (USD, allocation)"]) == ("$60.00", "$300")
    assert big["Efficiency = floor ÷ actual"] == "20.0 %"
    assert (big["Floor $ / 1M tokens"], big["Actual $ / 1M tokens"]) == (
        "$1.20 per 1M",
        "$6.00 per 1M",
    )
    text = " ".join(html.split())
    assert "Efficiency 22.6 % = floor $12.60 ÷ actual $55.80 (allocation basis" in text  # facts


def test_split_prices_are_in_their_own_columns_labelled_with_their_basis(html):
    rows = _table_rows(html, "prices")
    assert rows["Deployment"][2:] == [
        "Actual, allocation basis",
        "Actual, usage basis",
        "Modelled, usage basis",
        "Floor",
        "Split method",
    ]
    assert rows["chat-8b"] == [
        "3,000,000", "300,000",
        "$3.27 per 1M", "$153 per 1M",  # allocation basis
        "$2.20 per 1M", "$110 per 1M",  # usage basis
        "$2.23 per 1M", "$112 per 1M",  # modelled
        "$0.70 per 1M", "$35.00 per 1M",  # floor
        "gpu_time, token_ratio",
    ]  # fmt: skip
    assert rows["spare-8b"][2:10] == ["—"] * 8  # no tokens, no prices


def test_the_waterfall_table_runs_in_the_stated_order(html):
    rows = _table_rows(html, "waterfall")
    assert rows["Deployment"] == [label for label, _, _ in WATERFALL]
    assert rows["chat-8b"] == [
        "$12.60", "$11.60", "$16.00", "-$0.60", "$4.00", "$10.60", "$1.00", "$0.60", "$55.80",
    ]  # fmt: skip
    assert "old-7b ($6.00 held)" in html  # cost, but no efficiency row
    assert "miss the actual cost" not in html  # the fixture's parts add up


def test_a_waterfall_whose_parts_miss_the_actual_says_so(tmp_path):
    with connect(tmp_path / "w.duckdb") as con:
        con.execute(FIXTURE.read_text())
        con.execute(
            "update marts.fct_efficiency_daily set gap_idle_usd = 15 "
            "where deployment_id = 'big-70b'"
        )
        tables = load_tables(con, dt.date(2026, 11, 7))
    text = " ".join(render_html(tables).split())
    assert "The waterfall's parts miss the actual cost by $5.00" in text


def test_the_headline_is_the_hand_sum_of_cash_savings_with_deferred_apart(html):
    value, _ = _card(html, "kpi-cash")
    # quantize big-70b 1,500.50 + terminate i-0abc 720 + release spare-8b 120 + chat-8b 0
    assert value == "$2,341/mo" == money(D("1500.50") + 720 + 120 + 0, "/mo")
    value, text = _card(html, "kpi-deferred")
    assert value == "$540/mo" == money(D("300.25") + 240, "/mo")
    assert text.endswith("not in cash savings: 2 commitment(s), listed below")
    assert _rows(html, "deferred")[1:] == [
        ["ri-0c2d3e", "reserved instance", "2027-06-30", "$300/mo", "chat-8b · right_size"],
        [
            "sp-9f8e7d",
            "savings plan",
            "unknown (or capacity freed for reuse)",
            "$240/mo",
            "spare-8b · right_size",
        ],
    ]
    # distilling big-70b (deferred under sp-0a1b2c) is not the alternative counted
    assert "sp-0a1b2c" not in re.search(r'<table id="deferred">.*?</table>', html, re.S).group()


def test_every_kpi_card_shows_money_the_same_way(html):
    values = re.findall(r'<div class="value">(.*?)</div>', html)
    assert values == [
        "€10.00",
        "€0.00",
        "€10.00",
        "$407",
        "$84.20",
        "$33.25",
        "$2,341/mo",
        "$540/mo",
    ]


def test_recommendations_show_cash_deferred_commitment_and_what_counts(html):
    rows = _table_rows(html, "recommendations")
    assert rows["Target"][:6] == ["Kind", "Change", "Cash now", "Deferred", "Commitment", "Counted"]
    distill = next(r for r in rows.values() if r[0] == "distill")
    assert distill[2:6] == ["$900/mo", "$1,500/mo", "sp-0a1b2c (savings plan), ends 2027-03-31", ""]
    assert rows["chat-8b"][2:6] == [
        "$0.00/mo",
        "$300/mo",
        "ri-0c2d3e (reserved instance), ends 2027-06-30",
        "✓",
    ]


def test_long_assumptions_collapse_into_one_line(html):
    assert html.count("<details>") == 1  # only the three-sentence one
    assert (
        "<details><summary>Output quality at fp8 weights is unchanged: an assumption to verify. "
        '<span class="more">+2 more</span></summary>'
    ) in html
    assert "<li>The p95 TTFT of 820 ms stays within the 3,000 ms SLO.</li>" in html
    # closed, every assumptions cell shows one sentence at most (not a 400-px-tall cell)
    header, *rows = _rows(re.sub(r"<ul>.*?</ul>", "", html, flags=re.S), "recommendations")
    shown = [cells[header.index("Assumptions")] for cells in rows]
    assert (
        shown[0] == "Output quality at fp8 weights is unchanged: an assumption to verify. +2 more"
    )
    assert all(len(text) <= 120 and text.count(". ") <= 1 for text in shown)


def test_assumption_parts_split_sentences_and_cut_a_long_first_one():
    assert assumption_parts(None) is None
    assert assumption_parts("One sentence.") == {"summary": "One sentence.", "more": []}
    assert assumption_parts("A month is 365/12 days. Quality is kept.") == {
        "summary": "A month is 365/12 days.",
        "more": ["Quality is kept."],
    }
    long = "word " * 40 + "end."
    parts = assumption_parts(long)
    assert parts["summary"].endswith("…") and len(parts["summary"]) <= 111
    assert parts["more"] == [long.strip()]


def test_commitments_are_named_by_the_last_segment_of_their_arns():
    arns = (
        "arn:aws:savingsplans::210987654321:savingsplan/4a7b-11,"
        " arn:aws:ec2:us-east-1:210987654321:reserved-instances/ri-0c2d"
    )
    assert commitment_names(arns) == "4a7b-11, ri-0c2d"
    assert commitment_names("sp-9f8e7d") == "sp-9f8e7d"
    assert commitment_names(None) == "no commitment named"


def test_html_says_quality_changes_are_assumptions_and_shows_coverage(html):
    assert "Quality is assumed, not predicted." in html
    assert "4 of 7" in html  # days with cost data
    assert "2.0 (0.8 %)" in html  # unobserved GPU-hours of 264
    assert "gpu_time: 2, none: 1, token_ratio: 1" in html
    assert "calibrated: 2, prior: 2" in html


def test_rendering_twice_gives_the_same_file(tables, html):
    assert render_html(tables) == html


def test_every_chart_is_drawn_in_the_white_template_and_plotlys_default_is_left_alone(html):
    # plotly_white's plot background is white, plotly's own default "#E5ECF6"; the template
    # is plotly's default only while the report renders (charts.report_template)
    import plotly.io as pio

    assert html.count('class="plotly-graph-div"') == 9
    assert html.count('"plot_bgcolor":"white"') == 9
    assert '"plot_bgcolor":"#E5ECF6"' not in html
    assert pio.templates.default == "plotly"


def test_recommendations_csv_carries_cash_deferred_and_commitments_exactly(written):
    with written.recommendations_csv.open(newline="") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == [
        "as_of_date", "deployment_id", "instance_id", "kind", "summary",
        "monthly_savings_usd", "cash_monthly_savings_usd", "deferred_monthly_savings_usd",
        "commitment_ids", "commitment_kind", "commitment_end_date", "confidence",
        "assumptions", "target", "current_daily_cost_usd", "proposed_daily_cost_usd",
        "payback_months", "is_latest", "counts_in_headline",
        "restated_since", "restated_billed_cost_delta",  # empty: not restated (case 4)
    ]  # fmt: skip
    assert [(r["deployment_id"] or r["instance_id"], r["kind"]) for r in rows] == [
        ("big-70b", "quantize"),
        ("big-70b", "distill"),
        ("i-0abc", "right_size"),
        ("spare-8b", "right_size"),
        ("chat-8b", "right_size"),
    ]
    assert Decimal(rows[0]["cash_monthly_savings_usd"]) == Decimal("1500.5")
    assert rows[0]["proposed_daily_cost_usd"] == "49.983333333333"
    assert (rows[1]["commitment_ids"], rows[1]["commitment_end_date"]) == (
        "sp-0a1b2c",
        "2027-03-31",
    )
    assert Decimal(rows[4]["deferred_monthly_savings_usd"]) == Decimal("300.25")
    assert [r["counts_in_headline"] for r in rows] == ["true", "false", "true", "true", "true"]


def test_deployments_csv_carries_floor_modelled_actual_and_the_waterfall_exactly(written):
    with written.deployments_csv.open(newline="") as f:
        rows = {r["deployment_id"]: r for r in csv.DictReader(f)}
    assert list(rows) == ["big-70b", "chat-8b", "spare-8b", "old-7b"]
    columns = set(rows["chat-8b"])
    assert {
        "floor_cost_usd", "actual_cost_usd", "efficiency", "floor_usd_per_1m_tokens",
        "actual_usd_per_1m_tokens", "actual_usage_cost_usd", "modelled_cost_usd",
        "modelled_to_actual_ratio", "actual_usage_usd_per_1m_output_tokens",
        "modelled_usd_per_1m_output_tokens", "floor_usd_per_1m_input_tokens",
        "best_cash_monthly_savings_usd", "best_deferred_monthly_savings_usd",
    } | {column for _, column, _ in WATERFALL} <= columns  # fmt: skip
    chat = rows["chat-8b"]
    assert chat["floor_usd_per_1m_tokens"] == "3.818181818181"
    assert chat["actual_usd_per_1m_output_tokens"] == "153.333333333333"
    assert Decimal(chat["gap_residual_usd"]) == Decimal("-0.6")
    assert float(chat["efficiency"]) == pytest.approx(12.6 / 55.8)
    assert rows["spare-8b"]["actual_usd_per_1m_output_tokens"] == ""


def test_currency_totals_add_decimals_exactly(tables):
    usd_total = next(t for t in currency_totals(tables) if t["currency"] == "USD")
    assert usd_total["effective_cost"] == Decimal("407.05")
    assert usd_total["idle_cost"] == Decimal("84.2")
    assert usd_total["unallocated_cost"] == Decimal("33.25")


def test_an_empty_week_renders_without_charts(tmp_path):
    path = tmp_path / "empty.duckdb"
    with connect(path) as con:
        con.execute(FIXTURE.read_text())
        for table in (
            "fct_cost_allocation_daily",
            "fct_efficiency_daily",
            "fct_recommendations",
            "fct_gpu_busy_hourly",
        ):
            con.execute(f"delete from marts.{table}")
        empty = load_tables(con, dt.date(2026, 11, 7))
    assert build_charts(empty) == {
        "daily_cost": None,
        "savings": None,
        "forecast": None,
        "busy_heatmap": None,
    }
    assert deployment_charts(empty) == {}
    html = render_html(empty)
    assert "No cost data in this window." in html
    assert "No deployment has efficiency rows in this window." in html
    assert "No recommendations dated on or before 2026-11-07." in html
    assert "No deployment has 3 days with tokens in the" in html
    assert "No GPU-hours held by a deployment in this window." in html
    assert _card(html, "kpi-cash")[0] == "$0.00/mo"
    assert 'class="plotly-graph-div"' not in html


def test_reports_land_beside_the_duckdb_file_unless_configured(monkeypatch, tmp_path):
    monkeypatch.delenv(REPORTS_DIR_ENV, raising=False)
    assert reports_dir(tmp_path / "w" / "unitcost.duckdb") == tmp_path / "w" / "reports"
    monkeypatch.setenv(REPORTS_DIR_ENV, str(tmp_path / "elsewhere"))
    assert reports_dir(tmp_path / "w" / "unitcost.duckdb") == tmp_path / "elsewhere"


def test_days_a_source_delivered_nothing_are_named_and_absent_sources_are_not(tables):
    """The fixture's allocation mart has 11-01..03 and 11-07 of the week (by hand): billing
    is missing 11-04..06; it has no raw telemetry or request tables (never configured)."""
    assert tables.missing == tuple(("billing", dt.date(2026, 11, d)) for d in (4, 5, 6))
    assert not tables.stale_recommendations  # recommendations as of 11-07, the week's last day


def test_a_week_with_missing_data_says_so_above_the_headline(html):
    notice = html[html.index('id="data-missing"') : html.index('id="kpi-cash"')]
    assert "billing 2026-11-04, billing 2026-11-05, billing 2026-11-06" in notice
    assert "Savings are not this week's" not in notice


def test_savings_older_than_the_week_are_not_headlined_as_its_own(warehouse):
    """A report for the week ending 11-10: the newest recommendations (11-08) are older."""
    from pipelines.report.render import render_html

    with connect(warehouse, read_only=True) as con:
        later = load_tables(con, dt.date(2026, 11, 10))
    assert later.stale_recommendations
    page = render_html(later)
    notice = page[page.index('id="data-missing"') : page.index('id="kpi-cash"')]
    assert "Savings are not this week's" in notice and "2026-11-08" in notice


def test_the_vendored_bundle_is_the_plotly_js_the_figures_are_written_for():
    # plotly (Python) writes figure JSON for the plotly.js it ships; the partial bundle must
    # be the same release, else a renamed attribute breaks a chart silently
    assert version_of(plotly_js()) == version_of(get_plotlyjs()) == "4.1.1"
    assert BUNDLE.name == "plotly-cartesian-4.1.1.min.js"


def test_every_chart_uses_only_trace_types_the_bundle_has(tables):
    figures = list(build_charts(tables).values()) + [
        fig for figs in deployment_charts(tables).values() for fig in figs.values()
    ]
    types = {trace.type for fig in figures if fig is not None for trace in fig.data}
    assert types == {"bar", "heatmap"}
    assert types <= BUNDLE_TRACES


def test_the_forecast_table_prices_the_token_trend(html):
    """chat-8b is the one deployment with 3 days in the 28 to 11-07 (10-31, 11-01, 11-02:
    11.0 M, 1.1 M, 2.2 M tokens; $1,000 + $28.80 + $27.00). By hand: x̄ = 1, Sxx = 2,
    Sxy = -6.2333 M - 2.5667 M = -8.8 M, slope = -4.4 M tokens/day: every day ahead is below
    zero, so 0 tokens and $0.00; cost per token $1,055.80 / 14.3 M = $73.83 per 1M."""
    rows = _table_rows(html, "forecast-table")
    assert list(rows) == ["Deployment", "chat-8b"]  # big-70b: 1 day; spare-8b: no tokens
    chat = dict(zip(rows["Deployment"], rows["chat-8b"], strict=True))
    assert chat["Days observed"] == "3"
    assert chat["Token trend / day"] == "-4,400,000"
    assert chat["Tokens, next 30 days"] == "0"
    assert chat["Actual $ / 1M tokens"] == "$73.83 per 1M"
    assert chat["Spend forecast"] == "$0.00"
    assert chat["95 % interval"].startswith("$0.00 to $1,7")
    assert "fitted by least squares with a straight line" in " ".join(html.split())


def test_the_heatmap_has_each_deployment_by_hour_of_the_week(tables):
    """From the fixture's fct_gpu_busy_hourly by hand: chat-8b Mon 10:00 75 %, Mon 11:00
    25 % (1 of 2 GPU-hours observed), Sun 23:00 held but unobserved (blank); big-70b
    Sat 14:00 100 %; Sat 10-31 is before the week (blank)."""
    (heat,) = build_charts(tables)["busy_heatmap"].data
    assert list(heat.y) == ["chat-8b", "big-70b"]
    chat, big = heat.z
    assert len(chat) == len(big) == 168
    assert (chat[10], chat[11]) == (75.0, 25.0)  # Monday = hours 0..23
    assert chat[6 * 24 + 23] is None  # Sunday 23:00: not observed
    assert "not observed" in heat.customdata[0][6 * 24 + 23]
    assert chat[5 * 24 + 10] is None  # Saturday 10:00 is 10-31, outside the week
    assert big[5 * 24 + 14] == 100.0
    assert sum(v is not None for v in chat + big) == 3
