"""The rendered report: one self-contained HTML file, exact CSVs, money rounded for reading."""

from __future__ import annotations

import csv
import datetime as dt
import re
from decimal import Decimal
from pathlib import Path

import pytest
from plotly.offline import get_plotlyjs

from pipelines.report.charts import build_charts
from pipelines.report.files import REPORTS_DIR_ENV, ReportFiles, reports_dir
from pipelines.report.render import (
    currency_totals,
    price,
    recommended_savings,
    render_html,
    usd,
    write_report,
)
from pipelines.report.tables import load_tables
from pipelines.warehouse import connect


@pytest.fixture(scope="module")
def written(tables, tmp_path_factory) -> ReportFiles:
    return write_report(tables, tmp_path_factory.mktemp("reports") / "out")


@pytest.fixture(scope="module")
def html(written) -> str:
    return written.html.read_text(encoding="utf-8")


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


def test_html_names_the_range_the_basis_and_every_deployment(html):
    assert "<strong>2026-11-01</strong> to <strong>2026-11-07</strong>" in html
    assert "allocation</strong> basis" in html
    assert "effective</em> (amortized)" in html
    for name in ("chat-8b", "big-70b", "i-0abc"):
        assert f"<td>{name}</td>" in html


def test_html_is_self_contained_with_plotly_inline(html):
    assert '<script src="http' not in html
    assert get_plotlyjs() in html  # the installed package's plotly.js, inline
    page = html.replace(get_plotlyjs(), "")
    assert not re.search(r"<[a-z]+\s[^>]*\b(src|href)=", page)  # no asset fetched from anywhere
    assert html.count('class="plotly-graph-div"') == 3


def test_html_rounds_money_from_the_decimals(html):
    assert '<td class="num">$3.27</td>' in html  # 3.266666666666 per 1M input tokens
    assert '<td class="num">$153.33</td>' in html
    assert "$3,420/mo" in html  # 2400 + 720 + 300.25: the quantize alternative is not added
    assert "22.6 %" in html  # efficiency 12.6 / 55.8


def test_html_says_quality_changes_are_assumptions_and_shows_coverage(html):
    assert "Quality is assumed, not predicted." in html
    assert "4 of 7" in html  # days with cost data
    assert "2.0 (0.9 %)" in html  # unobserved GPU-hours of 216
    assert "gpu_time: 1, none: 1, token_ratio: 1" in html
    assert "calibrated: 1, prior: 1" in html


def test_rendering_twice_gives_the_same_file(tables, html):
    assert render_html(tables) == html


def test_recommendations_csv_keeps_exact_values_in_the_tables_order(written):
    with written.recommendations_csv.open(newline="") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == [
        "as_of_date", "deployment_id", "instance_id", "kind", "summary",
        "monthly_savings_usd", "confidence", "assumptions", "target",
        "current_daily_cost_usd", "proposed_daily_cost_usd", "payback_months",
        "is_largest_for_target",
    ]  # fmt: skip
    assert [(r["deployment_id"] or r["instance_id"], r["kind"]) for r in rows] == [
        ("big-70b", "distill"),
        ("big-70b", "quantize"),
        ("i-0abc", "right_size"),
        ("chat-8b", "right_size"),
    ]
    assert Decimal(rows[1]["monthly_savings_usd"]) == Decimal("1500.5")
    assert rows[1]["proposed_daily_cost_usd"] == "49.983333333333"


def test_deployments_csv_has_one_row_per_deployment_with_exact_prices(written):
    with written.deployments_csv.open(newline="") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0])[:4] == ["deployment_id", "team", "llm_id", "gpu_type"]
    assert {"usd_per_1m_input_tokens", "usd_per_1m_output_tokens", "efficiency"} <= set(rows[0])
    assert [r["deployment_id"] for r in rows] == ["big-70b", "chat-8b"]
    assert rows[1]["usd_per_1m_output_tokens"] == "153.333333333333"
    assert rows[0]["usd_per_1m_output_tokens"] == ""


def test_totals_and_savings_add_decimals_exactly(tables):
    usd_total = next(t for t in currency_totals(tables) if t["currency"] == "USD")
    assert usd_total["effective_cost"] == Decimal("389.05")
    assert usd_total["unallocated_cost"] == Decimal("33.25")
    assert recommended_savings(tables) == Decimal("3420.25")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (Decimal("0.008750203193"), "$0.0088"),
        (Decimal("153.333333333333"), "$153.33"),
        (Decimal("1234.5"), "$1,234.50"),
        (None, "—"),
    ],
)
def test_prices_per_1m_tokens_keep_cents_or_four_decimals(value, expected):
    assert price(value) == expected


def test_credits_show_a_leading_minus():
    assert usd(Decimal("-12.5")) == "-$12.50"


def test_an_empty_week_renders_without_charts(tables, tmp_path):
    path = tmp_path / "empty.duckdb"
    with connect(path) as con:
        con.execute((Path(__file__).parents[2] / "fixtures/report/warehouse.sql").read_text())
        for table in ("fct_cost_allocation_daily", "fct_cost_per_token_daily",
                      "fct_efficiency_daily", "fct_recommendations"):  # fmt: skip
            con.execute(f"delete from marts.{table}")
        empty = load_tables(con, dt.date(2026, 11, 7))
    assert build_charts(empty) == {"daily_cost": None, "output_price": None, "savings": None}
    html = render_html(empty)
    assert "No cost data in this window." in html
    assert "No recommendations dated on or before 2026-11-07." in html
    assert 'class="plotly-graph-div"' not in html


def test_reports_land_beside_the_duckdb_file_unless_configured(monkeypatch, tmp_path):
    monkeypatch.delenv(REPORTS_DIR_ENV, raising=False)
    assert reports_dir(tmp_path / "w" / "unitcost.duckdb") == tmp_path / "w" / "reports"
    monkeypatch.setenv(REPORTS_DIR_ENV, str(tmp_path / "elsewhere"))
    assert reports_dir(tmp_path / "w" / "unitcost.duckdb") == tmp_path / "elsewhere"
