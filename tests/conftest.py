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
    for var in ("UNITCOST_DUCKDB", "UNITCOST_REGISTRY", "UNITCOST_CONFIG", "DAGSTER_HOME"):
        monkeypatch.delenv(var, raising=False)
    return config


@pytest.fixture
def fake_aws_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """moto's dummy credentials in the environment, no profile: boto3's default chain finds
    them, and no real account is ever reached."""
    for name, value in {
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
