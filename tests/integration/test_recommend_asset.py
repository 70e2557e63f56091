"""The recommendation asset and its dbt marts, materialised on the hand-built warehouse.

One real ``dg.materialize`` of ``recommend_tables`` + ``dbt_recommend_models`` for
2026-11-02 into a temp DuckDB (fixtures/recommend/warehouse.sql stands in for the dbt
tables upstream), then: a re-run is identical, and the next day's partition adds its rows
without touching the first day's.
"""

from __future__ import annotations

import datetime as dt
import shutil
from decimal import Decimal
from pathlib import Path

import dagster as dg
import pytest

from pipelines.assets.recommend import (
    EFFICIENCY_KEY,
    RECOMMENDATIONS_KEY,
    read_window,
    recommend_tables,
)
from pipelines.resources import WarehouseResource
from pipelines.warehouse import connect

pytestmark = pytest.mark.slow
FIXTURE = Path(__file__).parents[1] / "fixtures" / "recommend" / "warehouse.sql"
RAW = ("raw.predicted_efficiency_daily", "raw.recommendations")
MARTS = ("marts.fct_efficiency_daily", "marts.fct_recommendations")


def _materialize(path: Path, assets: list, partition: str) -> dg.ExecuteInProcessResult:
    from dagster_dbt import DbtCliResource

    from pipelines.dbt_project import DBT_EXECUTABLE, dbt_project

    resources = {
        "duckdb": WarehouseResource(database=str(path)),
        "dbt": DbtCliResource(project_dir=dbt_project, dbt_executable=DBT_EXECUTABLE),
    }
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("UNITCOST_DUCKDB", str(path))  # dbt's profile reads it
        return dg.materialize(assets, resources=resources, partition_key=partition)


def _rows(path: Path, table: str) -> list[tuple]:
    with connect(path, read_only=True) as con:
        return sorted(con.execute(f"select * from {table}").fetchall(), key=repr)


@pytest.fixture(scope="module")
def built(tmp_path_factory, dbt_manifest) -> tuple[Path, dg.ExecuteInProcessResult]:
    from pipelines.assets.dbt import dbt_recommend_models

    path = tmp_path_factory.mktemp("recommend_asset") / "unitcost.duckdb"
    with connect(path) as con:
        con.execute(FIXTURE.read_text())
    result = _materialize(path, [recommend_tables, dbt_recommend_models], "2026-11-02")
    return path, result


def test_the_read_window_looks_back_a_week_unless_the_window_is_longer():
    utc = dt.UTC
    day = dg.TimeWindow(dt.datetime(2026, 11, 2, tzinfo=utc), dt.datetime(2026, 11, 3, tzinfo=utc))
    assert read_window(day) == (dt.date(2026, 10, 27), dt.date(2026, 11, 3))
    month = dg.TimeWindow(dt.datetime(2026, 10, 1, tzinfo=utc), day.end)
    assert read_window(month) == (dt.date(2026, 10, 1), dt.date(2026, 11, 3))


def test_asset_and_marts_materialise_and_every_dbt_test_passes(built):
    _, result = built
    assert result.success
    checks = result.get_asset_check_evaluations()
    assert len(checks) >= 10  # the marts' contracts and tests ran as asset checks
    assert [c.check_name for c in checks if not c.passed] == []
    materialized = [e.materialization for e in result.get_asset_materialization_events()]
    keys = {m.asset_key.to_user_string() for m in materialized}
    assert keys >= {"raw/predicted_efficiency_daily", "raw/recommendations"}
    assert keys >= {"marts/fct_efficiency_daily", "marts/fct_recommendations"}
    counts = {
        m.asset_key.to_user_string(): m.metadata["dagster/row_count"].value
        for m in materialized
        if m.asset_key in (EFFICIENCY_KEY, RECOMMENDATIONS_KEY)
    }
    assert counts == {"raw/predicted_efficiency_daily": 1, "raw/recommendations": 1}


def test_efficiency_mart_has_one_row_per_deployment_day_with_money_as_decimal(built):
    path, _ = built
    with connect(path, read_only=True) as con:
        rows = con.execute(
            "select usage_date, deployment_id, actual_cost_usd, efficiency_source, is_calibrated,"
            " predicted_cost_usd + gap_over_provisioning_usd + gap_idle_usd + gap_batching_usd"
            " + gap_kernel_efficiency_usd + gap_residual_usd - actual_cost_usd"
            " from marts.fct_efficiency_daily"
        ).fetchall()
        types = dict(
            con.execute(
                "select column_name, data_type from information_schema.columns"
                " where table_schema = 'marts' and table_name = 'fct_efficiency_daily'"
            ).fetchall()
        )
    ((day, deployment, actual, source, calibrated, gap),) = rows
    assert (day, deployment, actual) == (dt.date(2026, 11, 2), "chat-8b", Decimal(48))
    assert (source, calibrated) == ("prior", False)  # 3 requests: too few to calibrate
    assert abs(gap) < Decimal("1e-6")
    assert types["predicted_usd_per_1m_output_tokens"] == "DECIMAL(38,12)"
    assert types["gap_idle_usd"] == "DECIMAL(38,12)"
    assert types["efficiency"] == "DOUBLE"


def test_recommendation_mart_dates_rows_by_the_window_and_keys_them_uniquely(built):
    path, _ = built
    with connect(path, read_only=True) as con:
        rows = con.execute(
            "select as_of_date, deployment_id, instance_id, kind, monthly_savings_usd,"
            " confidence, is_latest from marts.fct_recommendations"
        ).fetchall()
    keys = [r[:4] for r in rows]
    assert len(keys) == len(set(keys))
    idle = [r for r in rows if r[2] == "i-idle"]
    assert idle == [
        (dt.date(2026, 11, 2), None, "i-idle", "right_size", Decimal(120), idle[0][5], True)
    ]
    assert 0 < idle[0][5] <= 1


def test_a_rerun_of_the_partition_rewrites_identical_rows(built, tmp_path):
    path, _ = built
    copy = tmp_path / "rerun.duckdb"
    shutil.copy(path, copy)
    before = {t: _rows(copy, t) for t in RAW}
    assert _materialize(copy, [recommend_tables], "2026-11-02").success
    assert {t: _rows(copy, t) for t in RAW} == before


def test_the_next_day_adds_its_as_of_date_and_keeps_the_first_days_rows(built, tmp_path):
    path, _ = built
    copy = tmp_path / "next.duckdb"
    shutil.copy(path, copy)
    first = _rows(copy, "raw.predicted_efficiency_daily")
    assert _materialize(copy, [recommend_tables], "2026-11-03").success
    # 11-03 has requests and cost but no telemetry: no efficiency row, 11-02's untouched.
    assert _rows(copy, "raw.predicted_efficiency_daily") == first
    with connect(copy, read_only=True) as con:
        dates = con.execute(
            "select as_of_date, count(*) from raw.recommendations group by 1 order by 1"
        ).fetchall()
    assert [d for d, _ in dates] == [dt.date(2026, 11, 2), dt.date(2026, 11, 3)]
