"""Billing test helpers: an in-memory UTC DuckDB and a tiny simulated bill (two periods)."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import duckdb
import pytest

FIXTURES = Path(__file__).parents[2] / "fixtures" / "billing"


@pytest.fixture
def con():
    connection = duckdb.connect()
    connection.execute("set TimeZone = 'UTC'")
    yield connection
    connection.close()


@pytest.fixture(scope="session")
def sim_bill(tmp_path_factory) -> tuple[Path, dict]:
    """Simulated exports for 2026-10-31 and 2026-11-01 (periods 2026-10 and 2026-11)."""
    from pipelines.fleet.formats.billing import write_exports
    from pipelines.fleet.plan import build_plan
    from pipelines.fleet.spec import DEFAULT_SPEC_PATH, load_spec

    plan = build_plan(load_spec(DEFAULT_SPEC_PATH), dt.date(2026, 10, 31), 2, 0.05, 42)
    out = tmp_path_factory.mktemp("bill") / "billing"
    return out, write_exports(plan, out)


@pytest.fixture
def bill(sim_bill, tmp_path) -> tuple[Path, dict]:
    """A private copy of the simulated exports, safe to damage."""
    out = tmp_path / "billing"
    shutil.copytree(sim_bill[0], out)
    return out, sim_bill[1]
