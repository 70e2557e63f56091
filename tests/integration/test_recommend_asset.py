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
from pipelines.resources import UnitcostConfigResource, WarehouseResource
from pipelines.warehouse import connect

pytestmark = pytest.mark.slow
FIXTURE = Path(__file__).parents[1] / "fixtures" / "recommend" / "warehouse.sql"
RAW = ("raw.predicted_efficiency_daily", "raw.recommendations")
MARTS = ("marts.fct_efficiency_daily", "marts.fct_recommendations")


def _materialize(path: Path, assets: list, partition: str) -> dg.ExecuteInProcessResult:
    from pipelines.dbt_resource import dbt_cli_resource

    config = path.parent / "unitcost.yaml"  # the engine's policy: defaults, shipped prices
    config.write_text(f"duckdb_path: {path.name}\nregistry: registry.yaml\n")
    resources = {
        "duckdb": WarehouseResource(database=str(path)),
        "unitcost": UnitcostConfigResource(config_path=str(config)),
        "dbt": dbt_cli_resource(),  # the definitions' own: the window goes in dbt's env
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


def test_the_read_window_adds_the_calibration_window_before_the_first_day():
    """A day is scored on the 7 days before it, so those are read whatever the window."""
    utc = dt.UTC
    day = dg.TimeWindow(dt.datetime(2026, 11, 2, tzinfo=utc), dt.datetime(2026, 11, 3, tzinfo=utc))
    assert read_window(day) == (dt.date(2026, 10, 26), dt.date(2026, 11, 3))
    month = dg.TimeWindow(dt.datetime(2026, 10, 1, tzinfo=utc), day.end)
    assert read_window(month) == (dt.date(2026, 9, 24), dt.date(2026, 11, 3))


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
    # i-idle, i-eur (idle, billed in EUR) and chat-8b (at 156.34 USD a day with its EUR row,
    # a cheaper GPU pays)
    assert counts == {"raw/predicted_efficiency_daily": 1, "raw/recommendations": 3}


def test_efficiency_mart_prices_the_engines_gpu_seconds_at_the_days_price(built):
    """By hand from the fixture: chat-8b's one GPU-hour cost 2.5 USD, so a GPU-second is
    2.5 / 3600 USD; actual comes from fct_cost_per_token_daily (48 allocation, 2 usage);
    the 45.5 USD above its GPU cost is claimed non-GPU cost; its 0.5 USD of idle GPU time
    all falls to idle (both GPUs are needed at DCGM's 52 % busy on 2 GPUs, TP 1)."""
    path, _ = built
    with connect(path, read_only=True) as con:
        (raw,) = con.execute(
            "select modelled_busy_gpu_seconds, floor_gpu_seconds"
            " from raw.predicted_efficiency_daily"
        ).fetchall()
        cur = con.execute("select * from marts.fct_efficiency_daily")
        names = [d[0] for d in cur.description]
        (row,) = [dict(zip(names, r, strict=True)) for r in cur.fetchall()]
        types = dict(
            con.execute(
                "select column_name, data_type from information_schema.columns"
                " where table_schema = 'marts' and table_name = 'fct_efficiency_daily'"
            ).fetchall()
        )
    per_s = Decimal("2.5") / 3600
    assert (row["usage_date"], row["deployment_id"]) == (dt.date(2026, 11, 2), "chat-8b")
    assert (row["actual_cost_usd"], row["actual_usage_cost_usd"]) == (Decimal(48), Decimal(2))
    assert row["usd_per_gpu_hour"] == Decimal("2.5")
    assert float(row["modelled_cost_usd"]) == pytest.approx(float(per_s) * raw[0], rel=1e-9)
    assert float(row["floor_cost_usd"]) == pytest.approx(float(per_s) * raw[1], rel=1e-9)
    assert row["gap_non_gpu_usd"] == Decimal("45.5")
    assert (row["gap_unobserved_usd"], row["gap_idle_usd"]) == (Decimal(0), Decimal("0.5"))
    assert row["gpus_needed"] == 2 and row["gap_over_provisioning_usd"] >= 0
    assert (row["efficiency_source"], row["is_calibrated"]) == ("prior", False)  # 3 requests
    assert row["calibration_days"] == 0
    assert types["modelled_cost_usd"] == types["gap_idle_usd"] == "DECIMAL(38,12)"
    assert types["efficiency"] == types["modelled_to_actual_ratio"] == "DOUBLE"


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
    # 4 USD a day (2.5 + 2.5 - 1.0) × 365 / 12 days a month = 121.666… → 121.67 to the cent
    assert idle == [
        (dt.date(2026, 11, 2), None, "i-idle", "right_size", Decimal("121.67"), idle[0][5], True)
    ]
    assert 0 < idle[0][5] <= 1
    # billed in EUR (RELIABILITY case 8): 2.5 EUR x 1.0834 = 2.7085 USD a day x 365 / 12
    # = 82.383… → 82.38
    (eur,) = [r[4] for r in rows if r[2] == "i-eur"]
    assert eur == Decimal("82.38")


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
