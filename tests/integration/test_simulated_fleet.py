"""`unitcost simulate` then `unitcost run` on a one-day tiny fleet; analyst queries run on it."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipelines.summary import ANALYSTS_SQL_DIR, SQL_DIR
from pipelines.warehouse import connect

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def fleet_warehouse(small_fleet) -> tuple[Path, dict]:
    out, truth = small_fleet  # two days from 2026-11-01 (tests/integration/conftest.py)
    return out / "unitcost.duckdb", truth


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
    # A deployment gets a row only on the days it is valid: the default spec starts one later.
    active = [
        (dep, day)
        for dep, d in truth["deployments"].items()
        for day in ("2026-11-01", "2026-11-02")
        if d["valid_from"] <= day and (d["valid_to"] is None or day < d["valid_to"])
    ]
    assert days == len(active) < 2 * len(expected)


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


# Queries whose answer may rightly be empty on two days of the tiny fleet: no deployment-day
# need fall outside the cost model's band, and quantizing need not free a GPU.
MAY_BE_EMPTY = {"analysts/modelled_vs_actual_outliers.sql", "analysts/quantization_what_if.sql"}


@pytest.mark.parametrize(
    "query", sorted(str(p.relative_to(SQL_DIR)) for p in SQL_DIR.glob("*/*.sql"))
)
def test_every_ready_query_runs_on_the_warehouse(fleet_warehouse, query):
    """sql/analysts/ and sql/ops/ with their default parameters on the real marts (their
    values are checked on a hand-built warehouse in tests/unit/test_analyst_queries.py)."""
    duckdb_path, _ = fleet_warehouse
    with connect(duckdb_path, read_only=True) as con:
        rows = con.execute((SQL_DIR / query).read_text()).fetchall()
    assert rows or query in MAY_BE_EMPTY, f"sql/{query} returned no rows on the simulated fleet"


def test_fleet_overview_counts_every_declared_gpu(fleet_warehouse):
    duckdb_path, truth = fleet_warehouse
    with connect(duckdb_path, read_only=True) as con:
        overview = con.execute((ANALYSTS_SQL_DIR / "fleet_overview.sql").read_text()).fetchall()
    declared = sum(d["gpu"]["count"] for d in truth["deployments"].values())
    assert sum(row[3] for row in overview) == declared
