"""The report asset, materialised on the hand-built warehouse (fixtures/report/warehouse.sql).

One real ``dg.materialize`` of ``reports/weekly_rightsizing`` for partition 2026-11-07 into a
temp DuckDB: the week 2026-11-01..07 lands as three files beside it, the metadata names them,
and ``unitcost run``'s summary then points at the HTML.
"""

from __future__ import annotations

import csv
import datetime as dt
from decimal import Decimal
from pathlib import Path

import dagster as dg
import pytest

from pipelines.assets.report import REPORT_KEY, weekly_report
from pipelines.report.files import REPORTS_DIR_ENV
from pipelines.resources import WarehouseResource
from pipelines.summary import print_summary
from pipelines.warehouse import connect

pytestmark = pytest.mark.slow
FIXTURE = Path(__file__).parents[1] / "fixtures" / "report" / "warehouse.sql"


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> tuple[Path, dg.ExecuteInProcessResult]:
    path = tmp_path_factory.mktemp("report_asset") / "unitcost.duckdb"
    with connect(path) as con:
        con.execute(FIXTURE.read_text())
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv(REPORTS_DIR_ENV, raising=False)
        result = dg.materialize(
            [weekly_report],
            resources={"duckdb": WarehouseResource(database=str(path))},
            partition_key="2026-11-07",
        )
    return path, result


def test_the_asset_writes_the_weeks_files_beside_the_duckdb_file(built):
    path, result = built
    assert result.success
    reports = path.parent / "reports"
    html = reports / "weekly_rightsizing_2026-11-07.html"
    assert sorted(p.name for p in reports.iterdir()) == [
        "deployments_2026-11-07.csv",
        "recommendations_2026-11-07.csv",
        "weekly_rightsizing_2026-11-07.html",
    ]
    text = html.read_text(encoding="utf-8")
    assert 1_000_000 < len(text) < 1_700_000  # plotly.js inline: the cartesian bundle
    assert "<strong>2026-11-01</strong> to <strong>2026-11-07</strong>" in text
    assert '<td class="id">big-70b</td>' in text and '<td class="id">chat-8b</td>' in text
    assert '<div class="value">$2,341/mo</div>' in text  # the cash headline
    with (reports / "recommendations_2026-11-07.csv").open(newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 5
    assert "cash_monthly_savings_usd" in rows[0] and "commitment_end_date" in rows[0]


def test_the_materialization_names_its_files_and_row_counts(built):
    path, result = built
    (event,) = result.get_asset_materialization_events()
    materialization = event.materialization
    assert materialization.asset_key == REPORT_KEY
    metadata = {k: v.value for k, v in materialization.metadata.items()}
    reports = path.parent / "reports"
    assert metadata["html"] == str(reports / "weekly_rightsizing_2026-11-07.html")
    assert metadata["deployments_csv"] == str(reports / "deployments_2026-11-07.csv")
    assert (metadata["first_day"], metadata["last_day"]) == ("2026-11-01", "2026-11-07")
    assert (metadata["recommendation_rows"], metadata["deployment_rows"]) == (5, 4)
    assert metadata["dagster/row_count"] == 5
    # 1,500.50 + 720 + 120 + 0 cash now; 300.25 + 240 after a commitment / reused
    assert (metadata["cash_monthly_savings_usd"], metadata["deferred_monthly_savings_usd"]) == (
        2340.5,
        540.25,
    )


def test_the_reports_folder_can_be_configured(tmp_path, monkeypatch):
    path = tmp_path / "unitcost.duckdb"
    with connect(path) as con:
        con.execute(FIXTURE.read_text())
    monkeypatch.setenv(REPORTS_DIR_ENV, str(tmp_path / "shared"))
    result = dg.materialize(
        [weekly_report],
        resources={"duckdb": WarehouseResource(database=str(path))},
        partition_key="2026-11-03",
    )
    assert result.success
    assert (tmp_path / "shared" / "weekly_rightsizing_2026-11-03.html").is_file()
    assert not (tmp_path / "reports").exists()


def test_the_run_summary_ends_with_where_the_report_is(built, capsys, monkeypatch):
    path, _ = built
    monkeypatch.delenv(REPORTS_DIR_ENV, raising=False)
    print_summary(path, dt.date(2026, 11, 1), dt.date(2026, 11, 8))
    lines = capsys.readouterr().out.splitlines()
    html = path.parent / "reports" / "weekly_rightsizing_2026-11-07.html"
    assert f"Weekly right-sizing report: {html}" in lines[-2]
    assert lines[-1].strip().startswith("CSVs beside it: recommendations_2026-11-07.csv")


def test_the_report_reads_the_marts_and_has_a_job_of_its_own(dbt_manifest):
    from pipelines.definitions import defs
    from pipelines.jobs import DAILY_JOB, WEEKLY_REPORT_JOB

    marts = [
        "fct_recommendations",
        "fct_efficiency_daily",
        "fct_cost_allocation_daily",
        "fct_gpu_busy_hourly",  # the busy heatmap
        "fct_saturation_hourly",  # saturation at the peak
    ]
    # and the USD rates its held-cost column converts with (pipelines/report/sql/deployments.sql)
    rates = dg.AssetKey(["intermediate", "int_billing__usd_rates"])
    expected = {dg.AssetKey(["marts", m]) for m in marts} | {rates}
    assert weekly_report.asset_deps[REPORT_KEY] == expected
    # built on Mondays by its own job (pipelines/jobs.py), after the daily job has built Sunday
    assert defs.resolve_job_def(WEEKLY_REPORT_JOB).asset_layer.selected_asset_keys == {REPORT_KEY}
    assert REPORT_KEY not in defs.resolve_job_def(DAILY_JOB).asset_layer.selected_asset_keys


def test_a_bill_changed_after_the_report_marks_its_next_issue_restated(tmp_path, monkeypatch):
    """RELIABILITY case 4 through the asset: the first issue records the week's billed cost
    (USD 690.50, EUR 10 by hand, tests/unit/report/test_report_restated.py); a refund of
    USD 25.00 delivered afterwards makes the next issue say so, with the delta."""
    path = tmp_path / "unitcost.duckdb"
    with connect(path) as con:
        con.execute(FIXTURE.read_text())
    monkeypatch.setenv(REPORTS_DIR_ENV, str(tmp_path / "reports"))
    resources = {"duckdb": WarehouseResource(database=str(path))}

    def issue() -> tuple[dict, str]:
        result = dg.materialize([weekly_report], resources=resources, partition_key="2026-11-07")
        (event,) = result.get_asset_materialization_events()
        metadata = {k: v.value for k, v in event.materialization.metadata.items()}
        html = (tmp_path / "reports" / "weekly_rightsizing_2026-11-07.html").read_text()
        return metadata, html

    first, first_html = issue()
    assert first["restated"] == "no" and 'id="restated"' not in first_html
    with connect(path) as con:
        con.execute(
            "insert into marts.fct_cost_allocation_daily (usage_date, billing_account_id, "
            "billing_period, billing_currency, allocation_kind, billed_cost, effective_cost, "
            "gpu_effective_cost) values "
            "('2026-11-01', 'a1', '2026-11-01', 'USD', 'unallocated', -25, -25, 0)"
        )
        (issued,) = con.execute(
            "select distinct generated_at::date from reports.weekly_report_history"
        ).fetchone()
    second, second_html = issue()
    assert second["restated"] == f"billed cost changed by -$25.00 since {issued}"
    assert f"changed by -$25.00 since the report of {issued}" in " ".join(second_html.split())
    with connect(path, read_only=True) as con:
        history = con.execute(
            "select billing_currency, billed_cost from reports.weekly_report_history "
            "order by generated_at, billing_currency"
        ).fetchall()
    assert history == [
        ("EUR", Decimal("10")),
        ("USD", Decimal("690.50")),
        ("EUR", Decimal("10")),
        ("USD", Decimal("665.50")),
    ]
