"""The dbt unit tests (allocation edge cases, cost-per-token split) pass on DuckDB, and the
documented marts make a dbt docs catalog.

dbt unit tests read their inputs' column types from the warehouse: they run on the session's
small simulated fleet (read only: unit tests and docs generate write nothing to it)."""

from __future__ import annotations

import pytest
from dbt.cli.main import dbtRunner

from pipelines.dbt_project import DBT_PROJECT_DIR

pytestmark = pytest.mark.slow


def test_dbt_unit_tests_pass_and_docs_generate(small_fleet, tmp_path, monkeypatch):
    monkeypatch.setenv("UNITCOST_DUCKDB", str(small_fleet[0] / "unitcost.duckdb"))
    args = ["test", "--select", "test_type:unit", "--project-dir", str(DBT_PROJECT_DIR)]
    args += ["--profiles-dir", str(DBT_PROJECT_DIR), "--target-path", str(tmp_path / "target")]
    result = dbtRunner().invoke(args)
    names = sorted(r.node.name for r in result.result)
    assert result.success, [(r.node.name, r.message) for r in result.result if r.status != "pass"]
    assert {
        "gpu_hours_split_busy_idle_and_unallocated",
        "pieces_prorate_partial_hours_exactly_and_keep_credits_at_period_level",
        "overlapping_requests_share_wall_time_by_phase",
        "cost_per_token_splits_by_gpu_time_falls_back_to_token_ratio_and_keeps_zero_token_days",
    } <= set(names)

    docs = ["docs", "generate", "--project-dir", str(DBT_PROJECT_DIR)]
    docs += ["--profiles-dir", str(DBT_PROJECT_DIR), "--target-path", str(tmp_path / "target")]
    assert dbtRunner().invoke(docs).success
    catalog = (tmp_path / "target" / "catalog.json").read_text()
    assert "model.unitcost.fct_cost_per_token_daily" in catalog
