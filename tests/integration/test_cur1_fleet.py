"""The small simulated fleet billed as a legacy CUR (CUR 1) instead of CUR 2.0: `unitcost run`
allocates it to the ground truth's cost per deployment and day to the cent, conserves the
bill exactly, and gives the same allocation as the CUR 2.0 run of the same fleet."""

from __future__ import annotations

import dataclasses
import re
from decimal import Decimal
from pathlib import Path

import pytest

from pipelines.fleet.formats.billing_cur1 import write_cur1_export
from pipelines.fleet.plan import build_plan
from pipelines.fleet.simulate import simulate
from pipelines.fleet.spec import DEFAULT_SPEC_PATH, load_spec
from pipelines.runner import run
from pipelines.warehouse import connect
from tests.integration.conftest import SMALL_FLEET_END, SMALL_FLEET_START

pytestmark = pytest.mark.slow

CENT = Decimal("0.01")


def _rows(duckdb_path: Path, sql: str) -> list[tuple]:
    with connect(duckdb_path, read_only=True) as con:
        return con.execute(sql).fetchall()


def test_the_fleet_billed_as_cur1_allocates_to_the_truth_and_as_cur2_does(
    tmp_path, dbt_manifest, small_fleet
):
    cur2_out, truth = small_fleet
    days = (SMALL_FLEET_END - SMALL_FLEET_START).days
    simulate(tmp_path, start=SMALL_FLEET_START, days=days, scale=0.05, seed=7)
    # The same plan simulate() billed, on-prem hosts aside (they have no cloud bill).
    plan = build_plan(load_spec(DEFAULT_SPEC_PATH), SMALL_FLEET_START, days, 0.05, 7)
    cloud = tuple(i for i in plan.instances if not i.onprem)
    cur1_truth = write_cur1_export(dataclasses.replace(plan, instances=cloud), tmp_path / "billing")
    assert cur1_truth["periods"]["2026-11"]["USD"] == truth["billing"]["periods"]["2026-11"]["USD"]
    config = tmp_path / "unitcost.yaml"
    text = config.read_text().replace("format: cur2", "format: cur1")
    config.write_text(re.sub(r"location: billing/cur2\S*\n", "location: billing/cur1\n", text))
    run(config, SMALL_FLEET_START, SMALL_FLEET_END)

    duckdb_path = tmp_path / "unitcost.duckdb"
    expected = {
        (dep, day): Decimal(v["effective_usd"]).quantize(CENT)
        for dep, by_day in truth["billing"]["deployments"].items()
        for day, v in by_day.items()
    }
    got = _rows(
        duckdb_path,
        "select deployment_id, usage_date, cost_usd from marts.fct_cost_per_token_daily "
        "where cost_basis = 'allocation'",
    )
    assert {(d, day.isoformat()): c.quantize(CENT) for d, day, c in got} == expected
    ((billed, effective),) = _rows(
        duckdb_path,
        "select sum(billed_cost), sum(effective_cost) from marts.fct_cost_allocation_daily "
        "where billing_period = '2026-11-01' and billing_currency = 'USD'",
    )
    period = truth["billing"]["periods"]["2026-11"]["USD"]
    assert (billed, effective) == (Decimal(period["billed_usd"]), Decimal(period["effective_usd"]))
    query = (
        "select deployment_id, usage_date, allocation_kind, sum(gpu_hours), sum(billed_cost), "
        "sum(effective_cost) from marts.fct_cost_allocation_daily group by all order by all"
    )
    assert _rows(duckdb_path, query) == _rows(cur2_out / "unitcost.duckdb", query)
