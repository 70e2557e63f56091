"""The billing asset on a simulated fleet: one real materialisation into a temp DuckDB, the
blocking in = out check, a re-run that is a no-op, and the dbt billing models built on it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import dagster as dg
import polars as pl
import pytest

from pipelines.assets.billing import (
    billing_line_items,
    instance_types,
    periods_overlapping,
    periods_to_ingest,
)
from pipelines.assets.onprem import onprem_hosts
from pipelines.assets.registry import gpu_catalog
from pipelines.costmodel.prices import INSTANCE_PRICES_PATH
from pipelines.fleet.simulate import simulate
from pipelines.resources import UnitcostConfigResource, WarehouseResource
from pipelines.warehouse import connect

ROOT = Path(__file__).resolve().parents[2]


def test_periods_overlapping_a_window_spanning_a_month_end():
    import datetime as dt

    utc = dt.UTC
    window = (dt.datetime(2026, 10, 30, tzinfo=utc), dt.datetime(2026, 11, 2, tzinfo=utc))
    assert periods_overlapping(*window) == {dt.date(2026, 10, 1), dt.date(2026, 11, 1)}
    one_day = (dt.datetime(2026, 11, 30, tzinfo=utc), dt.datetime(2026, 12, 1, tzinfo=utc))
    assert periods_overlapping(*one_day) == {dt.date(2026, 11, 1)}
    # a daily run also re-checks last month, which is restated after it closes
    assert periods_to_ingest(*one_day) == {dt.date(2026, 10, 1), dt.date(2026, 11, 1)}
    new_year = (dt.datetime(2027, 1, 1, tzinfo=utc), dt.datetime(2027, 1, 2, tzinfo=utc))
    assert periods_to_ingest(*new_year) == {dt.date(2026, 12, 1), dt.date(2027, 1, 1)}


@pytest.fixture(scope="module")
def fleet(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("fleet")
    simulate(out, scale=0.05, days=1)
    return out


def test_billing_asset_loads_the_simulated_bill_to_the_cent_and_dbt_builds(fleet, dbt_manifest):
    truth = json.loads((fleet / "ground_truth.json").read_text())["billing"]
    duckdb_path = fleet / "unitcost.duckdb"
    resources = {
        "unitcost": UnitcostConfigResource(config_path=str(fleet / "unitcost.yaml")),
        "duckdb": WarehouseResource(database=str(duckdb_path)),
    }
    assert dg.materialize([instance_types, gpu_catalog, onprem_hosts], resources=resources).success
    for _ in range(2):  # the second run finds the same delivery: a no-op
        result = dg.materialize(
            [billing_line_items], resources=resources, partition_key="2026-11-01"
        )
        assert result.success
        checks = {c.check_name: c.passed for c in result.get_asset_check_evaluations()}
        # The simulated fleet bills only catalogued GPU types: nothing GPU-like is unknown.
        assert checks == {
            "delivery_totals_in_equal_out": True,
            "gpu_like_lines_with_unknown_instance_type": True,
        }
    with connect(duckdb_path, read_only=True) as con:
        totals = con.execute(
            "select sum(billed_cost), sum(effective_cost) from raw.billing_line_items"
        ).fetchall()[0]
        statuses = con.execute("select status from raw.billing_deliveries order by ledger_seq")
        statuses = [s for (s,) in statuses.fetchall()]
    want = truth["periods"]["2026-11"]["USD"]
    assert totals == (Decimal(want["billed_usd"]), Decimal(want["effective_usd"]))
    assert statuses == ["loaded", "unchanged"]
    _dbt_build(duckdb_path)
    with connect(duckdb_path, read_only=True) as con:
        per_instance = con.execute(
            "select resource_id, any_value(gpu_type), sum(billed_cost), sum(effective_cost) "
            "from intermediate.int_billing__gpu_line_items group by 1"
        ).fetchall()
    catalog = set(pl.read_csv(INSTANCE_PRICES_PATH)["instance_type"])
    spec = json.loads((fleet / "ground_truth.json").read_text())["instances"]
    want_instances = {
        iid: (Decimal(p["2026-11"]["billed_usd"]), Decimal(p["2026-11"]["effective_usd"]))
        for iid, p in truth["instances"].items()
        if spec[iid]["type"] in catalog
    }
    assert {r[0]: (r[2], r[3]) for r in per_instance} == want_instances
    # p5.4xlarge (1 x H100) is in the default fleet but not yet in instance_prices.csv.
    assert {i["type"] for i in spec.values()} - catalog <= {"p5.4xlarge"}
    gpu_types = {r[0]: r[1] for r in per_instance}
    assert gpu_types["i-0b28d4f6ca0e351a2"] == "h100-sxm"


def _dbt_build(duckdb_path: Path) -> None:
    select = "stg_catalog__gpus stg_billing__instance_types stg_billing__line_items"
    select += " int_billing__gpu_line_items"
    env = {**os.environ, "UNITCOST_DUCKDB": str(duckdb_path)}
    dbt = str(Path(sys.executable).parent / "dbt")
    done = subprocess.run(
        [dbt, "build", "--select", *select.split(), "--indirect-selection", "cautious",
         "--profiles-dir", str(ROOT)],
        cwd=ROOT, env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:]
