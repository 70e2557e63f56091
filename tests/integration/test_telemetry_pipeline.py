"""Simulated DCGM and vLLM scrapes -> raw tables -> dbt rollups, checked against ground truth.

Two simulated days (the planted energy-counter reset is on day 2, the exporter gap and the
exposition overlap on day 1). Tolerances: busy seconds 1e-4 s and energy 1e-9 kWh (the dbt
models round floats to 6 and 12 decimals per minute so re-runs are bit-identical); utilisation
0.5 points (GPU_UTIL is an integer percent); sample counts and tokens exact.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
from pathlib import Path

import dagster as dg
import pytest

from pipelines.assets.quality import run_ledger_check
from pipelines.assets.telemetry import telemetry_tables
from pipelines.dbt_project import DBT_EXECUTABLE, DBT_PROJECT_DIR
from pipelines.fleet.simulate import simulate
from pipelines.ingest.telemetry.fields import FIELD_COLUMNS
from pipelines.resources import UnitcostConfigResource, WarehouseResource
from pipelines.warehouse import connect

pytestmark = pytest.mark.slow
MODELS = [
    "stg_telemetry__dcgm_samples",
    "stg_telemetry__engine_metric_samples",
    "stg_telemetry__engine_series",
    "int_telemetry__gpu_minute",
    "int_telemetry__gpu_hourly",
    "int_engine__hourly",
]
TABLES = ["raw.dcgm_samples", "raw.engine_metric_samples", "raw.quarantine_telemetry"]
TABLES += ["intermediate.int_telemetry__gpu_hourly", "intermediate.int_engine__hourly"]


def _materialize(out: Path, first: str, last: str) -> dg.ExecuteInProcessResult:
    resources = {
        "unitcost": UnitcostConfigResource(config_path=str(out / "unitcost.yaml")),
        "duckdb": WarehouseResource(database=str(out / "unitcost.duckdb")),
    }
    tags = {
        "dagster/asset_partition_range_start": first,
        "dagster/asset_partition_range_end": last,
    }
    return dg.materialize(
        [telemetry_tables], resources=resources, tags=tags, instance=dg.DagsterInstance.ephemeral()
    )


def _dbt(out: Path, min_date: str, max_date: str) -> None:
    # Own target path: the shared target/ belongs to whoever else runs dbt in this checkout.
    args = [DBT_EXECUTABLE, "build", "--select", *MODELS, "--target-path", str(out / "target")]
    args += ["--vars", json.dumps({"min_date": min_date, "max_date": max_date})]
    args += ["--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir", str(DBT_PROJECT_DIR)]
    env = {**os.environ, "UNITCOST_DUCKDB": str(out / "unitcost.duckdb")}
    done = subprocess.run(args, env=env, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout[-3000:]


@pytest.fixture(scope="module")
def fleet(tmp_path_factory, dbt_manifest) -> tuple[Path, dict, dg.ExecuteInProcessResult]:
    out = tmp_path_factory.mktemp("telemetry_fleet")
    simulate(out, days=2, scale=0.05)
    result = _materialize(out, "2026-11-01", "2026-11-02")
    assert result.success
    _dbt(out, "2026-11-01", "2026-11-03")
    return out, json.loads((out / "ground_truth.json").read_text())["telemetry"], result


def _query(out: Path, sql: str) -> list[tuple]:
    with connect(out / "unitcost.duckdb", read_only=True) as con:
        return con.execute(sql).fetchall()


def test_every_simulated_gpu_scrape_lands_once_and_nothing_is_quarantined(fleet):
    out, truth, _ = fleet
    ((rows, keys),) = _query(
        out,
        "select count(*), count(distinct (host, gpu_index, s.gpu_uuid, s.gpu_instance_id, ts)) "
        "from raw.dcgm_samples s join raw.dcgm_series using (series_id)",
    )
    assert rows == keys == truth["dcgm"]["gpu_samples"]  # the text overlap deduplicated
    assert _query(out, "select count(*) from raw.quarantine_telemetry") == [(0,)]


def test_checks_pass_with_coverage_in_metadata(fleet):
    _, _, result = fleet
    checks = {e.check_name: e for e in result.get_asset_check_evaluations()}
    assert checks["utilisation_in_range"].passed
    coverage = checks["utilisation_in_range"].metadata["sample_coverage"].value
    assert 0.99 < coverage < 1.0  # the planted 10-minute gap on one host
    assert checks["gpu_models_known"].passed


def test_hourly_rollup_reproduces_truth_including_reset_and_gap(fleet):
    out, _, _ = fleet
    rows = _query(
        out,
        f"""
        select t.host, t.hour_start, h.samples, t.samples,
            abs(h.busy_seconds - t.busy_seconds_observed),
            abs(coalesce(h.energy_kwh, 0) - t.energy_kwh_observed)
        from read_parquet('{out}/truth/telemetry_hourly/*/*.parquet') as t
        left join intermediate.int_telemetry__gpu_hourly as h
            using (hour_start, host, gpu_index, gpu_uuid)
        """,
    )
    assert len(rows) == 32 * 48
    assert [r[:2] for r in rows if r[2] != r[3]] == []
    assert max(r[4] for r in rows) < 1e-4
    assert max(r[5] for r in rows) < 1e-9


def test_gap_hour_has_partial_coverage_and_reset_hour_positive_energy(fleet):
    out, truth, _ = fleet
    gap, reset = truth["dcgm"]["planted"]["gap"], truth["dcgm"]["planted"]["counter_reset"]
    coverage = _query(
        out,
        "select distinct round(sample_coverage, 6) from intermediate.int_telemetry__gpu_hourly "
        f"where host = '{gap['host']}' and hour_start = '{gap['start'][:13]}:00:00Z'",
    )
    assert coverage == [(round(100 / 120, 6),)]  # 20 of 120 scrapes missing
    energy = _query(
        out,
        "select min(energy_kwh) from intermediate.int_telemetry__gpu_hourly "
        f"where host = '{reset['host']}' and hour_start = '{reset['at'][:19]}Z'",
    )
    assert energy[0][0] > 0  # a reset is not a negative delta


def test_hourly_utilisation_tracks_the_truth_busy_fraction(fleet):
    out, _, _ = fleet
    (worst,) = _query(
        out,
        f"""
        select max(abs(h.avg_gpu_util_pct - 100 * t.busy_fraction))
        from read_parquet('{out}/truth/telemetry_hourly/*/*.parquet') as t
        join intermediate.int_telemetry__gpu_hourly as h
            using (hour_start, host, gpu_index, gpu_uuid)
        where h.sample_coverage = 1
        """,
    )[0]
    assert worst <= 0.5


def test_engine_token_counters_match_the_request_stream(fleet):
    out, truth, _ = fleet
    deployments = json.loads((out / "ground_truth.json").read_text())["deployments"]
    model_of = {d: v["request_model_name"] for d, v in deployments.items()}
    rows = _query(
        out,
        "select model_name, cast(hour_start as date)::varchar, sum(prompt_tokens), "
        "sum(generation_tokens), sum(requests_finished), sum(counter_resets) "
        "from intermediate.int_engine__hourly group by all",
    )
    got = {(r[0], r[1]): r[2:5] for r in rows}
    expected = {
        (model_of[dep], day): (
            v["prompt_tokens"],
            v["generation_tokens"],
            v["requests_finished_ok"],
        )
        for dep, days in truth["engine_metrics"]["deployments"].items()
        for day, v in days.items()
    }
    assert got == expected
    restarted = model_of[truth["engine_metrics"]["restart"]["deployment_id"]]
    assert {r[0] for r in rows if r[5]} == {restarted}


def test_every_sample_is_accounted_for_and_the_blocking_ledger_check_passes(fleet):
    out, _, _ = fleet
    window = dg.TimeWindow(
        dt.datetime(2026, 11, 1, tzinfo=dt.UTC), dt.datetime(2026, 11, 3, tzinfo=dt.UTC)
    )
    with connect(out / "unitcost.duckdb", read_only=True) as con:
        result = run_ledger_check(con, "telemetry", window)
    assert result.passed, result.metadata
    assert result.metadata["quarantined"].value == 0
    # The text slices repeat samples of the Parquet export, which sorts first and is kept:
    # every one of their samples of the day is a dropped copy, none is stored.
    text = _query(
        out,
        "select sum(stored), sum(duplicates_dropped), sum(lines_read - outside_window - not_used) "
        "from raw.ingest_ledger where source = 'telemetry' and source_file like '%.prom'",
    )
    assert text[0][0] == 0 and text[0][1] == text[0][2] > 0
    # Stored samples are, day by day, the engine rows plus the DCGM field values, plus the
    # 0 temperatures (DCGM's "unsupported") stored as NULL, counted here from the Parquet.
    cells = " + ".join(f"count({c})" for c in FIELD_COLUMNS)
    zeros = (
        "count(*) filter (DCGM_FI_DEV_MEMORY_TEMP = 0) + count(*) filter (DCGM_FI_DEV_GPU_TEMP = 0)"
    )
    stored = _query(
        out,
        f"""
        select l.day, l.stored, e.n + d.n + z.n
        from (select partition_day as day, sum(stored) as stored from raw.ingest_ledger
              where source = 'telemetry' group by all) as l
        join (select ts::date as day, count(*) as n from raw.engine_metric_samples
              group by all) as e using (day)
        join (select ts::date as day, {cells} as n from raw.dcgm_samples group by all) as d
            using (day)
        join (select timestamp::date as day, {zeros} as n
              from read_parquet('{out}/telemetry/dcgm/*/*.parquet') group by all) as z
            using (day)
        order by 1
        """,
    )
    assert len(stored) == 2 and all(r[1] == r[2] for r in stored), stored


def _fingerprint(out: Path) -> dict:
    return {
        t: _query(out, f"select count(*), sum(hash({t.split('.')[1]})) from {t}") for t in TABLES
    }


def test_rerunning_a_partition_gives_identical_tables(fleet):
    out, _, _ = fleet
    before = _fingerprint(out)
    assert _materialize(out, "2026-11-02", "2026-11-02").success
    _dbt(out, "2026-11-02", "2026-11-03")
    assert _fingerprint(out) == before
