"""The Parquet DuckDB reads in place (``sources``): duplicates across files, conflicts,
impossible values, another day's samples and vLLM buckets, each counted by hand; the macros
that keep DuckDB's parsing and printing equal to polars'; the move from paths to file ids.

Every file here is read by DuckDB itself (``test_the_files_are_read_in_place`` checks it),
so this is the SQL path, not the Python readers the text and CSV tests exercise.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import dagster as dg
import duckdb
import polars as pl
import pytest

from pipelines.assets.telemetry import telemetry_tables
from pipelines.ingest.file_ids import file_id
from pipelines.ingest.storage import list_files
from pipelines.ingest.telemetry import sql
from pipelines.ingest.telemetry.load import read_day
from pipelines.ingest.telemetry.sources import ParquetReads
from pipelines.ingest.telemetry.tables import ensure_tables
from pipelines.quality.ledger import LEDGER
from pipelines.resources import UnitcostConfigResource, WarehouseResource
from pipelines.warehouse import connect

DAY = dt.date(2026, 11, 1)
T10 = dt.datetime(2026, 11, 1, 10, tzinfo=dt.UTC)
NEXT_DAY = dt.datetime(2026, 11, 2, 0, 0, 30, tzinfo=dt.UTC)
SERVER = {"instance": "10.0.0.5:8000", "model_name": "m", "engine": "0"}
CONFLICT = "conflicting duplicate scrape: 2 values for this"


def _vllm(path: Path, rows: list[tuple[str, str | None, float, dt.datetime]]) -> None:
    frame = pl.DataFrame(
        {
            "timestamp": [r[3] for r in rows],
            "metric": [r[0] for r in rows],
            "le": [r[1] for r in rows],
            "value": [r[2] for r in rows],
        },
        schema={"timestamp": pl.Datetime("us", "UTC"), "metric": pl.String, "le": pl.String,
                "value": pl.Float64},
    )  # fmt: skip
    frame.with_columns(**{k: pl.lit(v) for k, v in SERVER.items()}).write_parquet(path)


def _dcgm(path: Path, rows: list[tuple[dt.datetime, str | None, float, float]]) -> None:
    pl.DataFrame(
        {
            "timestamp": [r[0] for r in rows],
            "Hostname": ["node-a"] * len(rows),
            "gpu": ["0"] * len(rows),
            "UUID": [r[1] for r in rows],
            "modelName": ["NVIDIA L4"] * len(rows),
            "DCGM_FI_DRIVER_VERSION": ["580.105.08"] * len(rows),  # a label, not a sample
            "DCGM_FI_DEV_GPU_UTIL": [r[2] for r in rows],
            "DCGM_FI_DEV_POWER_USAGE": [r[3] for r in rows],
        },
        schema_overrides={"UUID": pl.String},
    ).write_parquet(path)


TTFT = "vllm:time_to_first_token_seconds_bucket"
# vllm-a.parquet: 5 samples, lines 1-5.
VLLM_A = [
    ("vllm:prompt_tokens_total", None, 100.0, T10),  # stored; vllm-b's copy is dropped
    ("vllm:num_requests_running", None, 3.0, T10),  # quarantined: vllm-b says 4
    ("vllm:num_requests_waiting", None, -1.0, T10),  # quarantined: negative
    ("vllm:prompt_tokens_total", None, 120.0, NEXT_DAY),  # outside the window
    (TTFT, "0.5", 2.0, T10),  # not used: no dbt model reads bucket series
]
# vllm-b.parquet, the HA replica: 3 samples.
VLLM_B = [
    ("vllm:prompt_tokens_total", None, 100.0, T10),  # duplicate dropped
    ("vllm:num_requests_running", None, 4.0, T10),  # quarantined: the other copy
    (TTFT, "0.5", 2.0, T10),  # not used, though a copy of vllm-a's (buckets are not checked)
]
# dcgm-a.parquet, wide: 4 rows, 8 samples (GPU_UTIL and POWER_USAGE cells).
DCGM_A = [
    (T10, "GPU-a", 40.0, 55.5),  # UTIL stored (dcgm-b's copy dropped); POWER conflicts
    (T10 + dt.timedelta(minutes=1), "GPU-a", 250.0, 60.0),  # UTIL impossible; POWER stored
    (NEXT_DAY, "GPU-a", 41.0, 61.0),  # 2 outside the window
    (T10, None, 5.0, 70.0),  # no UUID: both samples quarantined
]
DCGM_B = [(T10, "GPU-a", 40.0, 56.0)]  # UTIL dropped, POWER quarantined
# (lines_read, stored, quarantined, duplicates_dropped, outside_window, not_used)
HAND_COUNTS = {
    "vllm-a.parquet": (5, 1, 2, 0, 1, 1),
    "vllm-b.parquet": (3, 0, 1, 1, 0, 1),
    "dcgm-a.parquet": (8, 2, 4, 0, 2, 0),
    "dcgm-b.parquet": (2, 0, 1, 1, 0, 0),
}


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    root = tmp_path / "telemetry"
    root.mkdir()
    _vllm(root / "vllm-a.parquet", VLLM_A)
    _vllm(root / "vllm-b.parquet", VLLM_B)
    _dcgm(root / "dcgm-a.parquet", DCGM_A)
    _dcgm(root / "dcgm-b.parquet", DCGM_B)
    return root


def _terms(day) -> dict:
    return {
        Path(r.source_file).name: (r.lines_read, r.stored, r.quarantined,
                                   r.duplicates_dropped, r.outside_window, r.not_used)
        for r in day.counts.ledger_rows("telemetry", DAY)
    }  # fmt: skip


def test_the_files_are_read_in_place(folder):
    reads = ParquetReads()
    for path in sorted(folder.iterdir()):
        assert reads.add(str(path), pl.read_parquet_schema(path), path.name)
    assert (len(reads.long), len(reads.wide)) == (1, 1)  # one read per schema
    # Epoch numbers are parsed (and unit-checked) by the Python reader instead.
    epoch = folder.parent / "epoch.parquet"
    pl.DataFrame({"timestamp": [1793527200000], "metric": ["m"], "value": [1.0]}).write_parquet(
        epoch
    )
    assert not reads.add(str(epoch), pl.read_parquet_schema(epoch), epoch.name)


def test_duplicates_conflicts_bad_values_and_another_day_are_counted_by_hand(folder):
    day = read_day(list_files(folder), DAY)
    assert _terms(day) == HAND_COUNTS
    a, b = str(folder / "vllm-a.parquet"), str(folder / "vllm-b.parquet")
    wa, wb = str(folder / "dcgm-a.parquet"), str(folder / "dcgm-b.parquet")
    # A Parquet sample's line is its row number counted from 1 (file_row_number + 1).
    assert day.quarantine.rows() == [
        (wa, 1, "power_w", f"{CONFLICT} GPU, field and time"),
        (wa, 2, "gpu_util_pct", "value 250.0 is above 100.0"),
        (wa, 4, "UUID", "missing GPU UUID label"),
        (wa, 4, "UUID", "missing GPU UUID label"),
        (wb, 1, "power_w", f"{CONFLICT} GPU, field and time"),
        (a, 2, "vllm:num_requests_running", f"{CONFLICT} series and time"),
        (a, 3, "vllm:num_requests_waiting", "value -1.0 is below 0"),
        (b, 2, "vllm:num_requests_running", f"{CONFLICT} series and time"),
    ]
    assert day.engine.select("metric", "value", "source_file_id", "source_line").rows() == [
        ("prompt_tokens_total", 100.0, file_id(a), 1)
    ]
    fields = ["ts", "gpu_util_pct", "power_w", "source_file_id", "source_line"]
    assert day.dcgm.select(fields).rows() == [
        (T10, 40.0, None, file_id(wa), 1),  # merged from both files: named by the first
        (T10 + dt.timedelta(minutes=1), None, 60.0, file_id(wa), 2),
    ]
    # Both conflicting pairs count once against the day's threshold.
    assert sorted(day.bad_by_file) == [(wa, 4), (a, 2)]


def test_the_next_day_takes_the_other_days_samples(folder):
    day = read_day(list_files(folder), DAY + dt.timedelta(days=1))
    terms = _terms(day)
    assert terms["vllm-a.parquet"] == (5, 1, 0, 0, 4, 0)
    assert terms["dcgm-a.parquet"] == (8, 2, 0, 0, 6, 0)
    assert day.engine.select("metric", "value").rows() == [("prompt_tokens_total", 120.0)]


def _materialize(folder: Path, tmp_path: Path) -> dg.ExecuteInProcessResult:
    (tmp_path / "registry.yaml").write_text("deployments: []\n")
    config = tmp_path / "unitcost.yaml"
    config.write_text(
        f"duckdb_path: w.duckdb\nregistry: registry.yaml\n"
        f"sources:\n  telemetry: {{location: {folder}}}\n"
    )
    return dg.materialize(
        [telemetry_tables],
        partition_key=DAY.isoformat(),
        resources={
            "unitcost": UnitcostConfigResource(config_path=str(config)),
            "duckdb": WarehouseResource(database=str(tmp_path / "w.duckdb")),
        },
        instance=dg.DagsterInstance.ephemeral(),
        raise_on_error=False,
    )


def _day_state(path: Path) -> list:
    with connect(path, read_only=True) as con:
        return [
            con.execute(f"select count(*), sum(hash(t)) from {table} t").fetchone()
            for table in ("raw.dcgm_samples", "raw.engine_metric_samples",
                          "raw.quarantine_telemetry", LEDGER)
        ]  # fmt: skip


def test_a_failing_day_leaves_the_previous_load_and_its_ledger(folder, tmp_path):
    assert _materialize(folder, tmp_path).success
    before = _day_state(tmp_path / "w.duckdb")
    assert before[0][0] == 2 and before[3][0] == 4
    # 30 negative samples: over the day's threshold, so the day fails as a whole.
    _vllm(folder / "vllm-c.parquet", [("vllm:num_requests_running", None, -1.0, T10)] * 30)
    assert not _materialize(folder, tmp_path).success
    assert _day_state(tmp_path / "w.duckdb") == before


@pytest.fixture
def con():
    with duckdb.connect() as con:
        sql.create_macros(con)
        yield con


@pytest.mark.parametrize(
    "value", [-0.00001, -1.5e-6, -9.9e-5, -2.5e-9, -1e-10, -0.5, -123.456, 1e20, -1e16, 250.0]
)
def test_reasons_print_values_as_polars_did(con, value):
    (text,) = con.execute("select _tel_float_text(?::double)", [value]).fetchone()
    assert text == pl.Series([value]).cast(pl.String)[0]


TEXTS = ["0", "+1", " 1", "1 ", "1.0", "01", "-3", "1e3", "", "0x10", "1_000", "nan", "+Inf"]


def test_text_is_parsed_as_polars_parsed_it(con):
    ints = con.execute("select list(_tel_to_int(s) order by n) from unnest(?) with ordinality "
                       "t(s, n)", [TEXTS]).fetchone()[0]  # fmt: skip
    floats = con.execute("select list(_tel_to_double(s) order by n) from unnest(?) with "
                         "ordinality t(s, n)", [TEXTS]).fetchone()[0]  # fmt: skip
    series = pl.Series(TEXTS, dtype=pl.String)
    assert ints == series.cast(pl.Int32, strict=False).to_list()
    assert [str(v) for v in floats] == [str(v) for v in series.cast(pl.Float64, strict=False)]


@pytest.mark.parametrize(
    ("instance", "host"),
    [("10.0.0.5:8000", "10.0.0.5"), ("[::1]:9400", "[::1]"), ("node", "node"),
     ("node:", "node:"), ("node:9a", "node:9a")],
)  # fmt: skip
def test_the_instance_without_its_port_names_the_host(con, instance, host):
    assert con.execute("select _tel_host(null, ?)", [instance]).fetchone()[0] == host


def test_a_warehouse_with_paths_on_its_rows_moves_to_file_ids(tmp_path):
    with connect(tmp_path / "w.duckdb") as con:
        con.execute("create schema raw")
        con.execute(
            "create table raw.dcgm_samples as select timestamptz '2026-11-01 10:00:00+00' as ts, "
            "'n' as host, 'GPU-a' as gpu_uuid, 40.0 as gpu_util_pct, '/d/a.parquet' as "
            "source_file, 1::bigint as source_line"
        )
        ensure_tables(con)
        rows = con.execute(
            "select d.source_file_id, s.uri from raw.dcgm_samples d "
            "join raw.source_files s using (source_file_id)"
        ).fetchall()
        columns = con.execute("select * from raw.dcgm_samples limit 0").description
    assert rows == [(file_id("/d/a.parquet"), "/d/a.parquet")]
    assert "source_file" not in {c[0] for c in columns}
