"""One small simulated fleet, simulated and run once per session and shared by the modules
that only read it (each `unitcost run` costs ~30 s of dbt and Dagster start-up); and the
skip of the Spark tests where Spark cannot run."""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
from pathlib import Path

import pytest

from pipelines.cli import main

SMALL_FLEET_START, SMALL_FLEET_END = dt.date(2026, 11, 1), dt.date(2026, 11, 3)


@pytest.fixture(scope="session")
def small_fleet(tmp_path_factory, dbt_manifest) -> tuple[Path, dict]:
    """The default spec at scale 0.05, two days (seed 7), loaded: (folder, ground truth).

    A test that changes it must leave it as it found it (test_allocation_fleet asserts so).
    """
    out = tmp_path_factory.mktemp("small_fleet")
    # through the CLI, as a user runs it: `unitcost simulate` then `unitcost run`
    sim = ["simulate", "--out", str(out), "--days", "2", "--start", str(SMALL_FLEET_START)]
    assert main([*sim, "--scale", "0.05", "--seed", "7"]) == 0
    window = ["--start", str(SMALL_FLEET_START), "--end", str(SMALL_FLEET_END)]
    assert main(["run", "--config", str(out / "unitcost.yaml"), *window]) == 0
    return out, json.loads((out / "ground_truth.json").read_text())


DEFAULT_WEEK_START, DEFAULT_WEEK_DAYS = dt.date(2026, 11, 1), 7


@pytest.fixture(scope="session")
def default_week(tmp_path_factory, dbt_manifest) -> tuple[Path, dict]:
    """The default spec at full scale for a week (seed 42), loaded by one `unitcost run` over
    the whole range (a backfill): (folder, ground truth). The out-of-sample checks need a
    week: each day is scored on the days before it. Read-only for its users, except
    test_efficiency_fleet's re-run of one day, which must leave it identical."""
    from pipelines.fleet.simulate import simulate
    from pipelines.runner import run

    out = tmp_path_factory.mktemp("default_week")
    simulate(out, days=DEFAULT_WEEK_DAYS, start=DEFAULT_WEEK_START, seed=42)
    end = DEFAULT_WEEK_START + dt.timedelta(days=DEFAULT_WEEK_DAYS)
    run(out / "unitcost.yaml", DEFAULT_WEEK_START, end)
    return out, json.loads((out / "ground_truth.json").read_text())


SECOND_FLEET_SPEC = (
    Path(__file__).parents[2] / "pipelines" / "fleet" / "specs" / "second_fleet.yaml"
)
SECOND_FLEET_DAYS = 3


@pytest.fixture(scope="session")
def second_fleet_run(tmp_path_factory, dbt_manifest) -> tuple[Path, dict]:
    """pipelines/fleet/specs/second_fleet.yaml for three days (seed 42), loaded by one
    `unitcost run`: (folder, ground truth). Read-only for its users."""
    from pipelines.fleet.simulate import simulate
    from pipelines.runner import run

    out = tmp_path_factory.mktemp("second_fleet")
    simulate(
        out, spec_path=SECOND_FLEET_SPEC, start=DEFAULT_WEEK_START, days=SECOND_FLEET_DAYS, seed=42
    )
    end = DEFAULT_WEEK_START + dt.timedelta(days=SECOND_FLEET_DAYS)
    run(out / "unitcost.yaml", DEFAULT_WEEK_START, end)
    return out, json.loads((out / "ground_truth.json").read_text())


@pytest.fixture(scope="session")
def requires_spark() -> None:
    """Skips a Spark test (``make test-spark``) where Spark cannot run: no Java runtime, or
    the optional spark group not installed."""
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        pytest.skip("no Java runtime (Spark needs one: apt-get install openjdk-17-jre-headless)")
    try:
        import dbt.adapters.spark  # noqa: F401
        import pyspark  # noqa: F401
    except ImportError:
        pytest.skip("pyspark / dbt-spark not installed (uv sync --group spark)")
