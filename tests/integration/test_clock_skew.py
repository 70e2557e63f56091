"""RELIABILITY case 30 on the simulated week: requests that arrive while their deployment's
hosts send no telemetry are flagged, never dropped.

The simulator plants a 10-minute DCGM exporter gap on one host (``ground_truth.json``:
``telemetry.dcgm.planted.gap``). The expected count comes from the simulator's own request
truth (``truth/requests``) and its registry, never from the marts: the requests of the
deployments whose every host is the gap host, arriving in the gap minutes farther than the
120 s tolerance (two whole minutes) from a minute that has telemetry.
"""

from __future__ import annotations

import datetime as dt

import duckdb
import pytest
import yaml

from pipelines.warehouse import connect

pytestmark = pytest.mark.slow

TOLERANCE = dt.timedelta(minutes=2)  # dbt var telemetry_skew_tolerance_s: 120


def test_requests_in_a_telemetry_gap_are_flagged_and_still_counted(default_week):
    out, truth = default_week
    gap = truth["telemetry"]["dcgm"]["planted"]["gap"]
    start = dt.datetime.fromisoformat(gap["start"]) + TOLERANCE
    end = dt.datetime.fromisoformat(gap["end"]) - TOLERANCE
    registry = yaml.safe_load((out / "registry.yaml").read_text())
    gapped = sorted(
        d["id"]
        for d in registry["deployments"]
        if {h["host"] for h in d["match"].get("hosts", [])} == {gap["host"]}
    )
    assert gapped, "the planted gap host serves a deployment on its own"
    expected = dict(
        duckdb.sql(
            f"select deployment_id, count(*) from read_parquet('{out}/truth/requests/*/*.parquet') "
            "where arrival_ts >= $start and arrival_ts < $end and deployment_id in $ids "
            "group by 1",
            params={"start": start, "end": end, "ids": gapped},
        ).fetchall()
    )
    assert sum(expected.values()) > 100  # the gap is in busy hours: a real test

    with connect(out / "unitcost.duckdb", read_only=True) as con:
        flagged = dict(
            con.execute(
                "select deployment_id, sum(requests_outside_telemetry) "
                "from intermediate.int_requests__deployment_hourly "
                "where deployment_id is not null group by 1"
            ).fetchall()
        )
        rolled_up, stored = con.execute(
            "select (select sum(requests) from intermediate.int_requests__deployment_hourly), "
            "(select count(*) from raw.inference_requests)"
        ).fetchone()
    assert {k: v for k, v in flagged.items() if v} == expected
    assert rolled_up == stored  # flagged, not dropped
