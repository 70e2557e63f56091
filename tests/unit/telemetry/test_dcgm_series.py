"""DCGM scrapes carry a series id; each GPU's labels are stored once (raw.dcgm_series)."""

from __future__ import annotations

import datetime as dt

import duckdb
import polars as pl
import pytest

from pipelines.ingest.storage import list_files
from pipelines.ingest.telemetry.fields import DCGM_SAMPLE_COLUMNS, DCGM_SCHEMA
from pipelines.ingest.telemetry.load import load_day
from pipelines.ingest.telemetry.tables import ensure_tables
from pipelines.warehouse import connection_config

DAY = dt.date(2026, 11, 1)
T0 = dt.datetime(2026, 11, 1, 10, tzinfo=dt.UTC)
MINUTE = dt.timedelta(minutes=1)
LABELLED = """select ts, host, gpu_index, s.gpu_uuid, pod, gpu_type, gpu_util_pct, source_line
    from raw.dcgm_samples s join raw.dcgm_series using (series_id) order by ts, gpu_index"""


@pytest.fixture
def con():
    with duckdb.connect(config=connection_config()) as con:
        con.execute("set TimeZone = 'UTC'")
        ensure_tables(con)
        yield con


def _load(con, folder, day=DAY):
    con.execute("begin transaction")
    load_day(con, list_files(folder), day)
    con.execute("commit")


def test_each_gpu_label_set_is_stored_once_and_scrapes_read_back_with_their_labels(con, tmp_path):
    # Two GPUs of one host, three scrapes; GPU 1's pod changes at the third: 3 label sets.
    rows = [
        (T0, "0", "GPU-a", "p1", 10.0),
        (T0, "1", "GPU-b", "p2", 20.0),
        (T0 + MINUTE, "0", "GPU-a", "p1", 30.0),
        (T0 + MINUTE, "1", "GPU-b", "p2", 40.0),
        (T0 + 2 * MINUTE, "0", "GPU-a", "p1", 50.0),
        (T0 + 2 * MINUTE, "1", "GPU-b", "p3", 60.0),
    ]
    pl.DataFrame(
        {
            "timestamp": [r[0] for r in rows],
            "Hostname": ["n1"] * 6,
            "gpu": [r[1] for r in rows],
            "UUID": [r[2] for r in rows],
            "modelName": ["NVIDIA H100 80GB HBM3"] * 6,
            "pod": [r[3] for r in rows],
            "DCGM_FI_DEV_GPU_UTIL": [r[4] for r in rows],
        }
    ).write_parquet(tmp_path / "d.parquet")
    _load(con, tmp_path)
    _load(con, tmp_path)  # a re-load adds no series
    assert con.execute("select count(*) from raw.dcgm_series").fetchone() == (3,)
    assert con.execute(LABELLED).fetchall() == [
        (ts, "n1", int(gpu), uuid, pod, "h100-sxm", util, line)
        for line, (ts, gpu, uuid, pod, util) in enumerate(rows, start=1)
    ]


def test_a_table_with_labels_on_every_scrape_moves_to_series_ids():
    with duckdb.connect(config=connection_config()) as con:
        con.execute("set TimeZone = 'UTC'")
        con.execute("create schema raw")
        text = {"host", "gpu_uuid", "gpu_model_name", "gpu_type", "gpu_instance_profile"}
        text |= {"namespace", "pod", "container"}
        columns = ", ".join(
            f"{c} {'VARCHAR' if c in text else 'DOUBLE'}" for c in DCGM_SAMPLE_COLUMNS[1:]
        )
        con.execute(f"create table raw.dcgm_samples (ts timestamptz, {columns})")
        old = [(T0, "n1", 0, "GPU-a", "p1", 10.0, 1), (T0, "n1", 1, "GPU-b", "p2", 20.0, 2)]
        old.append((T0 + MINUTE, "n1", 0, "GPU-a", "p1", 30.0, 3))
        con.executemany(
            "insert into raw.dcgm_samples (ts, host, gpu_index, gpu_uuid, pod, gpu_util_pct, "
            "source_line) values (?, ?, ?, ?, ?, ?, ?)",
            old,
        )
        ensure_tables(con)
        described = con.execute("describe raw.dcgm_samples").fetchall()
        assert [c[0] for c in described] == list(DCGM_SCHEMA)
        assert con.execute("select count(*) from raw.dcgm_series").fetchone() == (2,)
        back = con.execute(
            "select ts, host, gpu_index, s.gpu_uuid, pod, gpu_util_pct, source_line "
            "from raw.dcgm_samples s join raw.dcgm_series using (series_id) order by source_line"
        ).fetchall()
        assert back == old
        ensure_tables(con)  # moved once
        assert con.execute("select count(*) from raw.dcgm_series").fetchone() == (2,)
