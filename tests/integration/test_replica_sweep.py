"""The one concurrency sweep (int_requests__replica_sweep) on the small simulated fleet:
every request's concurrency equals the independent numpy oracle's (tests/unit/recommend/
concurrency_oracle.py) exactly, and its busy stretches add up to the split's busy time."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import polars as pl
import pytest

from pipelines.warehouse import connect

pytestmark = pytest.mark.slow

# the oracle lives beside the recommend unit tests that use it (not an installed module)
_ORACLE = Path(__file__).parents[1] / "unit" / "recommend" / "concurrency_oracle.py"


def _oracle():
    spec = importlib.util.spec_from_file_location("concurrency_oracle", _ORACLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def sweep(small_fleet) -> pl.DataFrame:
    with connect(small_fleet[0] / "unitcost.duckdb", read_only=True) as con:
        return con.execute(
            "select *, replica_key as replica, arrival_day as usage_date "
            "from intermediate.int_requests__replica_sweep"
        ).pl()


def test_every_requests_concurrency_equals_the_oracles_exactly(sweep):
    assert sweep.height > 10_000
    expected = (
        _oracle()
        .add_concurrency(sweep.drop("decode_concurrency", "life_concurrency"))
        .select("decode_concurrency", "life_concurrency")
    )
    for column in ("decode_concurrency", "life_concurrency"):
        assert sweep[column].eq_missing(expected[column]).all(), column


def test_busy_stretches_add_up_to_the_splits_busy_time(small_fleet, sweep):
    stretches = sum(
        sweep[f"{event}_stretch_us"].sum() for event in ("prefill_start", "first_token", "finish")
    )
    with connect(small_fleet[0] / "unitcost.duckdb", read_only=True) as con:
        (busy_s,) = con.execute(
            "select sum(busy_replica_seconds) from intermediate.int_requests__gpu_time_hourly"
        ).fetchone()
    assert stretches / 1e6 == pytest.approx(busy_s, rel=1e-12)
