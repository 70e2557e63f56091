"""`unitcost simulate` then `unitcost run` on a one-day tiny fleet; analyst queries run on it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipelines.cli import main
from pipelines.summary import SQL_DIR
from pipelines.warehouse import connect

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def fleet_warehouse(tmp_path_factory, dbt_manifest) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("fleet")
    args = ["simulate", "--out", str(out), "--days", "1", "--start", "2026-11-01"]
    assert main([*args, "--scale", "0.05", "--seed", "7"]) == 0
    config = out / "unitcost.yaml"
    assert (
        main(["run", "--config", str(config), "--start", "2026-11-01", "--end", "2026-11-02"]) == 0
    )
    return out / "unitcost.duckdb", json.loads((out / "ground_truth.json").read_text())


def test_registry_in_duckdb_matches_the_simulated_fleet(fleet_warehouse):
    duckdb_path, truth = fleet_warehouse
    with connect(duckdb_path, read_only=True) as con:
        rows = con.execute(
            "select deployment_id, llm_id, gpu_type, gpu_count from marts.dim_deployments"
        ).fetchall()
        days = con.execute("select count(*) from marts.deployment_days").fetchone()[0]
    expected = {
        dep_id: (dep["llm"], dep["gpu"]["type"], dep["gpu"]["count"])
        for dep_id, dep in truth["deployments"].items()
    }
    assert {r[0]: r[1:] for r in rows} == expected
    # Only deployments valid on 2026-11-01 get a row: the default spec starts one later.
    active = [d for d in truth["deployments"].values() if d["valid_from"] <= "2026-11-01"]
    assert days == len(active) < len(expected)


def test_unknown_idle_instance_is_not_claimed_by_any_deployment(fleet_warehouse):
    duckdb_path, truth = fleet_warehouse
    idle_instance = truth["planted"]["d"]["instance"]
    with connect(duckdb_path, read_only=True) as con:
        claims = con.execute(
            "select count(*) from intermediate.int_registry__resource_claims "
            "where selector_value = $1",
            [idle_instance],
        ).fetchone()[0]
    assert claims == 0


@pytest.mark.parametrize("query", sorted(p.name for p in SQL_DIR.glob("*.sql")))
def test_every_analyst_query_runs_on_the_warehouse(fleet_warehouse, query):
    duckdb_path, _ = fleet_warehouse
    with connect(duckdb_path, read_only=True) as con:
        rows = con.execute((SQL_DIR / query).read_text()).fetchall()
    assert rows, f"sql/{query} returned no rows on the simulated fleet"


def test_fleet_overview_counts_every_declared_gpu(fleet_warehouse):
    duckdb_path, truth = fleet_warehouse
    with connect(duckdb_path, read_only=True) as con:
        overview = con.execute((SQL_DIR / "fleet_overview.sql").read_text()).fetchall()
    declared = sum(d["gpu"]["count"] for d in truth["deployments"].values())
    assert sum(row[3] for row in overview) == declared
