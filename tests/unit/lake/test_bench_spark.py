"""`unitcost bench-spark`'s config and fleet cache (the run itself is bench-run's harness)."""

from __future__ import annotations

import json

import pytest

from pipelines.bench.spark import PARAMS_FILE, FleetParams, ensure_fleet, write_lake_config
from pipelines.config import load_settings


def test_the_bench_config_is_the_simulators_with_the_lake_and_engine_set(tmp_path, monkeypatch):
    for name in ("UNITCOST_DUCKDB", "UNITCOST_REGISTRY", "UNITCOST_DBT_TARGET"):
        monkeypatch.delenv(name, raising=False)
    (tmp_path / "unitcost.yaml").write_text(
        "duckdb_path: unitcost.duckdb\nregistry: registry.yaml\n"
        "sources:\n  requests: {location: logs/requests, format: vllm_jsonl}\n"
    )
    settings = load_settings(write_lake_config(tmp_path, None, "spark"))
    assert settings.lake_root == tmp_path / "lake"
    assert (settings.engine, settings.dbt_target) == ("spark", "spark")
    assert settings.duckdb_path == tmp_path / "unitcost.duckdb"
    assert settings.source_location("requests") == tmp_path / "logs" / "requests"
    s3 = load_settings(write_lake_config(tmp_path, "s3://b/l", "duckdb"))
    assert (s3.lake_root, s3.dbt_target) == ("s3://b/l", "dev")


def test_a_cached_fleet_is_reused_only_for_the_same_parameters(tmp_path):
    params = FleetParams(days=30, scale=32, start="2026-11-01", seed=42)
    (tmp_path / PARAMS_FILE).write_text(json.dumps(params.__dict__))
    assert ensure_fleet(tmp_path, params) == tmp_path  # no simulation
    with pytest.raises(SystemExit, match="holds another fleet"):
        ensure_fleet(tmp_path, FleetParams(days=7, scale=32, start="2026-11-01", seed=42))
    other = tmp_path / "other"
    other.mkdir()
    (other / "x").write_text("")
    with pytest.raises(SystemExit, match="is not empty"):
        ensure_fleet(other, params)


def test_a_bench_starts_from_a_new_spark_session_home(tmp_path, monkeypatch):
    """A metastore kept from an earlier bench would make dbt's first build incremental."""
    from pipelines.bench.spark import SPARK_HOME, fresh_start

    for name in ("UNITCOST_DUCKDB", "UNITCOST_REGISTRY"):
        monkeypatch.delenv(name, raising=False)
    (tmp_path / "unitcost.yaml").write_text("duckdb_path: unitcost.duckdb\nregistry: r.yaml\n")
    config = write_lake_config(tmp_path, None, "spark")
    (tmp_path / SPARK_HOME / "metastore_db").mkdir(parents=True)
    (tmp_path / "lake" / "dbt" / "marts").mkdir(parents=True)
    fresh_start(tmp_path, config)
    assert not (tmp_path / SPARK_HOME).exists() and not (tmp_path / "lake").exists()
