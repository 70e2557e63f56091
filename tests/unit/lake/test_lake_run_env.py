"""`unitcost run` tells dbt which target to build on and where the lake is, from unitcost.yaml,
in the environment its steps (and dbt, a child) read."""

from __future__ import annotations

import datetime as dt
import os

import pytest

from pipelines import runner


@pytest.fixture
def seen(monkeypatch):
    found = []

    def execute(*args):
        found.append({k: os.environ.get(k) for k in ("UNITCOST_DBT_TARGET", "UNITCOST_LAKE_ROOT")})
        return 0, ()

    monkeypatch.setattr(runner, "_execute", execute)
    for name in ("UNITCOST_DBT_TARGET", "UNITCOST_LAKE_ROOT"):
        monkeypatch.delenv(name, raising=False)
    return found


def _run(config):
    runner.run(config, dt.date(2026, 11, 1), dt.date(2026, 11, 2), disk_check=False)


def test_engine_spark_runs_dbt_on_spark_over_the_s3a_lake(tiny_config, seen):
    with tiny_config.open("a") as f:
        f.write("lake: {root: 's3://my-lake/u'}\nengine: spark\n")
    _run(tiny_config)
    assert seen == [{"UNITCOST_DBT_TARGET": "spark", "UNITCOST_LAKE_ROOT": "s3a://my-lake/u"}]
    assert "UNITCOST_DBT_TARGET" not in os.environ  # put back after the run


def test_by_default_dbt_runs_on_duckdb_and_no_lake_root_is_set(tiny_config, seen):
    _run(tiny_config)
    assert seen == [{"UNITCOST_DBT_TARGET": "dev", "UNITCOST_LAKE_ROOT": None}]
