"""Every telemetry sample read is stored, quarantined, a dropped identical copy, another
day's or of a metric unitcost does not use (raw.ingest_ledger), file by file, and the
blocking rows_accounted_for check fails when one is not.

The day below is made by hand and every term counted by hand in the comments: two
exposition files of an HA pair, a long CSV export and a wide Parquet export.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import dagster as dg
import polars as pl
import pytest

from pipelines.assets.quality import quality_checks, run_ledger_check
from pipelines.assets.telemetry import DCGM_KEY, telemetry_tables
from pipelines.ingest.storage import list_files
from pipelines.ingest.telemetry.load import read_day
from pipelines.quality.ledger import LEDGER
from pipelines.resources import UnitcostConfigResource, WarehouseResource
from pipelines.warehouse import connect

DAY = dt.date(2026, 11, 1)
T10 = dt.datetime(2026, 11, 1, 10, tzinfo=dt.UTC)
NEXT_DAY = dt.datetime(2026, 11, 2, 0, 0, 30, tzinfo=dt.UTC)
GPU_A = 'Hostname="node-a",gpu="0",UUID="GPU-a",modelName="NVIDIA L4"'
VLLM = 'instance="10.0.0.5:8000",model_name="m",engine="0"'


def _ms(ts: dt.datetime) -> int:
    return int(ts.timestamp() * 1000)


def _prom(*samples: tuple[str, str, float, dt.datetime]) -> str:
    return "".join(f"{m}{{{labels}}} {v} {_ms(ts)}\n" for m, labels, v, ts in samples)


# prom-a.prom: 8 samples.
PROM_A = _prom(
    ("DCGM_FI_DEV_GPU_UTIL", GPU_A, 40, T10),  # stored (prom-a sorts first)
    ("DCGM_FI_DEV_FB_USED", GPU_A, 1024, T10),  # stored; prom-b's identical copy dropped
    ("DCGM_FI_DEV_POWER_USAGE", GPU_A, 55.5, T10),  # quarantined: prom-b says 56
    ("DCGM_FI_DEV_GPU_UTIL", GPU_A, 250, T10 + dt.timedelta(minutes=1)),  # quarantined: > 100
    ("DCGM_FI_DEV_PCIE_TX_THROUGHPUT", GPU_A, 7, T10),  # not used: a field unitcost skips
    ("DCGM_FI_DEV_GPU_UTIL", GPU_A, 41, NEXT_DAY),  # outside the window
    ("vllm:num_requests_running", VLLM, 3, T10),  # stored (engine row)
    ("process_cpu_seconds_total", VLLM, 12.5, T10),  # not used: not DCGM, not vllm:
)
# prom-b.prom, the HA replica: 3 samples.
PROM_B = _prom(
    ("DCGM_FI_DEV_FB_USED", GPU_A, 1024, T10),  # duplicate dropped
    ("DCGM_FI_DEV_POWER_USAGE", GPU_A, 56, T10),  # quarantined: the other copy of the conflict
    ("vllm:num_requests_running", VLLM, 3, T10),  # duplicate dropped
)
B = {"Hostname": "node-b", "gpu": "0", "UUID": "GPU-b"}


def _labels(**labels: str) -> str:
    return '"' + json.dumps(labels).replace('"', '""') + '"'


# export.csv, a long export: 6 samples (lines 2-7).
LONG_CSV = "\n".join(
    [
        "timestamp,metric,labels,value",
        f"{_ms(T10)},DCGM_FI_DEV_GPU_UTIL,{_labels(**B)},37",  # stored
        f"{_ms(T10)},DCGM_FI_PROF_GR_ENGINE_ACTIVE,{_labels(**B)},0.37",  # stored
        f"{_ms(NEXT_DAY)},DCGM_FI_DEV_GPU_UTIL,{_labels(**B)},38",  # outside the window
        f"{_ms(T10) + 60_000},DCGM_FI_DEV_GPU_UTIL,{_labels(**B)},n/a",  # quarantined: text
        f"not-a-time,DCGM_FI_DEV_GPU_UTIL,{_labels(**B)},39",  # quarantined: no time
        f"{_ms(T10)},DCGM_FI_DEV_CLOCK_THROTTLE_REASONS,{_labels(**B)},0",  # not used
    ]
)
# wide.parquet, a dmon-style export: 11 samples (non-null field cells). The driver version
# is a text label, not a sample; CLOCK_THROTTLE_REASONS is a field unitcost does not read.
WIDE = {
    "timestamp": [T10, T10 + dt.timedelta(minutes=1), NEXT_DAY, T10, T10],
    "Hostname": ["node-c", "node-c", "node-c", "node-d", "node-a"],
    "gpu": ["0", "0", "0", "0", "0"],
    "UUID": ["GPU-c", "GPU-c", "GPU-c", None, "GPU-a"],
    "modelName": ["NVIDIA L4"] * 5,
    "DCGM_FI_DRIVER_VERSION": ["580.105.08"] * 5,
    "DCGM_FI_DEV_GPU_UTIL": [12.0, 101.0, 5.0, 5.0, 40.0],
    "DCGM_FI_DEV_FB_USED": [2048, None, 100, 100, None],
    "DCGM_FI_DEV_CLOCK_THROTTLE_REASONS": [0, None, 1, 4, None],
}
# row 1: 2 stored + 1 not used; row 2: 1 quarantined (101 %); row 3: 3 outside the window;
# row 4 (no UUID): 2 quarantined + 1 not used; row 5: prom-a's GPU_UTIL again, dropped.

# (lines_read, stored, quarantined, duplicates_dropped, outside_window, not_used)
HAND_COUNTS = {
    "prom-a.prom": (8, 3, 2, 0, 1, 2),
    "prom-b.prom": (3, 0, 1, 2, 0, 0),
    "export.csv": (6, 2, 2, 0, 1, 1),
    "wide.parquet": (11, 2, 3, 1, 3, 2),
}


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    root = tmp_path / "telemetry"
    root.mkdir()
    (root / "prom-a.prom").write_text(PROM_A)
    (root / "prom-b.prom").write_text(PROM_B)
    (root / "export.csv").write_text(LONG_CSV + "\n")
    pl.DataFrame(WIDE).write_parquet(root / "wide.parquet")
    return root


def _by_name(rows) -> dict:
    return {
        Path(r.source_file).name: (
            r.lines_read,
            r.stored,
            r.quarantined,
            r.duplicates_dropped,
            r.outside_window,
            r.not_used,
        )
        for r in rows
    }


def test_every_sample_of_a_hand_made_day_is_accounted_for(folder):
    day = read_day(list_files(folder), DAY)
    rows = day.counts.ledger_rows("telemetry", DAY)
    assert _by_name(rows) == HAND_COUNTS
    assert [r.unaccounted for r in rows] == [0, 0, 0, 0]
    # The tables agree: a quarantine row per quarantined sample, the one stored vLLM sample.
    assert day.quarantine.height == 2 + 1 + 2 + 3
    assert day.engine.height == 1
    # DCGM rows hold the 3 + 2 + 2 stored field samples: GPU-a 10:00 (UTIL, FB_USED), GPU-b
    # 10:00 (UTIL, GR_ENGINE_ACTIVE), GPU-c 10:00 (UTIL, FB_USED); GPU-c 10:01 lost its only one.
    fields = ["gpu_util_pct", "fb_used_mib", "gr_engine_active", "power_w"]
    assert day.dcgm.select("gpu_uuid", "ts", *fields).rows() == [
        ("GPU-a", T10, 40.0, 1024, None, None),
        ("GPU-b", T10, 37.0, None, 0.37, None),
        ("GPU-c", T10, 12.0, 2048, None, None),
        ("GPU-c", T10 + dt.timedelta(minutes=1), None, None, None, None),
    ]


def test_the_next_day_takes_the_other_days_samples(folder):
    day = DAY + dt.timedelta(days=1)
    rows = _by_name(read_day(list_files(folder), day).counts.ledger_rows("telemetry", day))
    # Undated files are read by both days: each day accounts for the whole file.
    assert rows["prom-a.prom"] == (8, 1, 0, 0, 7, 0)  # only the 00:00:30 GPU_UTIL is its
    assert rows["prom-b.prom"] == (3, 0, 0, 0, 3, 0)
    # The sample without a readable time belongs to no day: each day quarantines it.
    assert rows["export.csv"] == (6, 1, 1, 0, 4, 0)
    assert rows["wide.parquet"] == (11, 2, 0, 0, 8, 1)  # row 3: UTIL, FB_USED; THROTTLE unused


def _materialize(folder: Path, tmp_path: Path) -> dg.ExecuteInProcessResult:
    (tmp_path / "registry.yaml").write_text("deployments: []\n")
    config = tmp_path / "unitcost.yaml"
    config.write_text(
        f"duckdb_path: w.duckdb\nregistry: registry.yaml\n"
        f"sources:\n  telemetry: {{location: {folder}}}\n"
    )
    checks = [
        c
        for c in quality_checks
        if any(k.name == "rows_accounted_for" and k.asset_key == DCGM_KEY for k in c.check_keys)
    ]
    return dg.materialize(
        [telemetry_tables, *checks],
        partition_key=DAY.isoformat(),
        resources={
            "unitcost": UnitcostConfigResource(config_path=str(config)),
            "duckdb": WarehouseResource(database=str(tmp_path / "w.duckdb")),
        },
        instance=dg.DagsterInstance.ephemeral(),
    )


def test_the_blocking_check_passes_on_the_day_and_fails_on_a_sample_unaccounted(folder, tmp_path):
    result = _materialize(folder, tmp_path)
    assert result.success
    checks = {e.check_name: e for e in result.get_asset_check_evaluations()}
    accounted = checks["rows_accounted_for"]
    assert accounted.passed
    meta = {k: v.value for k, v in accounted.metadata.items()}
    assert (meta["files"], meta["lines_read"], meta["stored"], meta["not_used"]) == (4, 28, 7, 5)
    assert (meta["quarantined"], meta["duplicates_dropped"], meta["outside_window"]) == (8, 3, 5)

    start = dt.datetime.combine(DAY, dt.time(), dt.UTC)
    window = dg.TimeWindow(start, start + dt.timedelta(days=1))
    with connect(tmp_path / "w.duckdb") as con:
        # Had the ingest not counted one dropped copy, a sample would be lost: ERROR.
        con.execute(
            f"update {LEDGER} set duplicates_dropped = duplicates_dropped - 1 "
            "where source = 'telemetry' and source_file like '%prom-b.prom'"
        )
        failed = run_ledger_check(con, "telemetry", window)
    assert not failed.passed
    assert failed.severity == dg.AssetCheckSeverity.ERROR
    (row,) = failed.metadata["unbalanced"].value
    assert (Path(row["source_file"]).name, row["unaccounted"]) == ("prom-b.prom", 1)


def test_a_day_with_telemetry_rows_and_no_ledger_blocks(folder, tmp_path):
    assert _materialize(folder, tmp_path).success
    start = dt.datetime.combine(DAY, dt.time(), dt.UTC)
    with connect(tmp_path / "w.duckdb") as con:
        con.execute(f"delete from {LEDGER} where source = 'telemetry'")
        result = run_ledger_check(con, "telemetry", dg.TimeWindow(start, start + dt.timedelta(1)))
    assert not result.passed
    assert result.severity == dg.AssetCheckSeverity.ERROR  # telemetry is in REQUIRE_LEDGER
    assert result.metadata["days_not_recorded"].value == ["2026-11-01"]


def test_text_in_a_wide_csv_is_a_quarantined_sample_and_an_empty_cell_is_none(tmp_path):
    root = tmp_path / "t"
    root.mkdir()
    (root / "dmon.csv").write_text(
        "timestamp,Hostname,gpu,UUID,DCGM_FI_DEV_GPU_UTIL,DCGM_FI_DEV_FB_USED\n"
        f"{_ms(T10)},n,0,GPU-e,12,2048\n"  # 2 samples stored
        f"{_ms(T10) + 60_000},n,0,GPU-e,ERR,\n"  # 1 sample (text): quarantined; empty: none
    )
    day = read_day(list_files(root), DAY)
    assert _by_name(day.counts.ledger_rows("telemetry", DAY)) == {"dmon.csv": (3, 2, 1, 0, 0, 0)}
    assert day.quarantine.select("line", "column_name", "reason").rows() == [
        (3, "gpu_util_pct", "value is missing or not a number")
    ]
