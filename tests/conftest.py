"""Shared fixtures. dbt's manifest is parsed once per session, before Definitions load."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(scope="session")
def dbt_manifest() -> Path:
    from pipelines.dbt_project import prepare_dbt

    return prepare_dbt()


@pytest.fixture
def tiny_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The two-deployment fixture registry and a run config pointing at a temp DuckDB."""
    shutil.copy(FIXTURES / "registry_tiny.yaml", tmp_path / "registry_tiny.yaml")
    config = tmp_path / "unitcost.yaml"
    config.write_text("duckdb_path: warehouse/tiny.duckdb\nregistry: registry_tiny.yaml\n")
    for var in ("UNITCOST_DUCKDB", "UNITCOST_REGISTRY", "UNITCOST_CONFIG"):
        monkeypatch.delenv(var, raising=False)
    return config
