"""One simulated fleet per session (3 days, scale 1) and the engine run on it.

Only the truth streams are needed (requests, timeline, ground_truth.json), so the source
format writers (billing, DCGM, logs: ~30 s) are switched off for this fixture.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fleet_inputs import load_fleet_inputs

from pipelines.fleet.simulate import simulate
from pipelines.recommend.engine import EngineResult, recommend
from pipelines.recommend.inputs import FleetInputs


@pytest.fixture(scope="session")
def sim_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("recommend_fleet")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("pipelines.fleet.simulate.format_writers", lambda: [])
        simulate(out, days=3, scale=1.0, seed=42)
    return out


@pytest.fixture(scope="session")
def truth(sim_dir: Path) -> dict:
    return json.loads((sim_dir / "ground_truth.json").read_text())


@pytest.fixture(scope="session")
def fleet(sim_dir: Path) -> FleetInputs:
    return load_fleet_inputs(sim_dir)


@pytest.fixture(scope="session")
def result(fleet: FleetInputs) -> EngineResult:
    return recommend(fleet)
