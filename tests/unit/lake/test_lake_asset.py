"""The Dagster asset writes the partition's days to the configured lake, and nothing without
`lake:` (the default)."""

from __future__ import annotations

import datetime as dt

import dagster as dg
import duckdb

from pipelines.assets.lake import lake_raw_tables
from pipelines.resources import UnitcostConfigResource, WarehouseResource


def _warehouse(path):
    with duckdb.connect(str(path)) as con:
        con.execute("set TimeZone = 'UTC'")
        con.execute("create schema raw")
        con.execute("create table raw.dcgm_samples (ts timestamptz, gpu_uuid varchar)")
        con.execute(
            "insert into raw.dcgm_samples values ('2026-11-01 23:59:30+00', 'GPU-a'), "
            "('2026-11-02 00:00:00+00', 'GPU-a'), ('2026-11-02 00:00:30+00', 'GPU-b')"
        )


def _materialize(tmp_path, config_text):
    (tmp_path / "unitcost.yaml").write_text(config_text)
    _warehouse(tmp_path / "w.duckdb")
    return dg.materialize(
        [lake_raw_tables],
        partition_key="2026-11-02",
        resources={
            "unitcost": UnitcostConfigResource(config_path=str(tmp_path / "unitcost.yaml")),
            "duckdb": WarehouseResource(database=str(tmp_path / "w.duckdb")),
        },
    )


def test_the_asset_exports_its_partition_day(tmp_path):
    result = _materialize(tmp_path, "registry: r.yaml\nlake: {root: lake}\n")
    assert result.success
    (event,) = result.get_asset_materialization_events()
    meta = event.materialization.metadata
    assert meta["rows_by_table"].data["dcgm_samples"] == 2  # Nov 2's two samples, by hand
    files = sorted(
        p.relative_to(tmp_path / "lake").as_posix() for p in (tmp_path / "lake").rglob("*.parquet")
    )
    assert files == ["raw/dcgm_samples/day=2026-11-02/part-0.parquet"]
    with duckdb.connect() as con:
        con.execute("set TimeZone = 'UTC'")
        rows = con.execute(
            "select ts, gpu_uuid, day from read_parquet(?, hive_partitioning = true) order by 1",
            [str(tmp_path / "lake/raw/dcgm_samples/day=*/*.parquet")],
        ).fetchall()
    day = dt.date(2026, 11, 2)
    assert rows == [
        (dt.datetime(2026, 11, 2, tzinfo=dt.UTC), "GPU-a", day),
        (dt.datetime(2026, 11, 2, 0, 0, 30, tzinfo=dt.UTC), "GPU-b", day),
    ]


def test_without_lake_config_the_asset_writes_nothing(tmp_path):
    result = _materialize(tmp_path, "registry: r.yaml\n")
    assert result.success
    (event,) = result.get_asset_materialization_events()
    assert event.materialization.metadata["enabled"].value is False
    assert not (tmp_path / "lake").exists()
