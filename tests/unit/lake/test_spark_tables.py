"""DuckDB views over the tables dbt built on Spark (pipelines/lake/spark_tables.py), on
hand-written Parquet folders laid out as Spark writes them (part files, ``_SUCCESS``, hidden
``.crc`` files) and a hand-written dbt target folder (run_results.json, manifest.json)."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pipelines.lake.spark_tables import (
    SparkTable,
    SparkTableError,
    built_tables,
    create_views,
    duckdb_folder,
)

MONEY = pa.decimal128(38, 12)
# Two part files, as Spark writes a table from two tasks: the view must read both.
PART_ROWS = [
    {
        "deployment_id": ["dep-a", "dep-b"],
        "usage_date": [dt.date(2026, 11, 1), dt.date(2026, 11, 1)],
        "cost_usd": [Decimal("12.345678901234"), Decimal("0.000000000001")],
        "hour_start": [
            dt.datetime(2026, 11, 1, 0, tzinfo=dt.UTC),
            dt.datetime(2026, 11, 1, 23, tzinfo=dt.UTC),
        ],
        "model_names": [["llama"], []],
    },
    {
        "deployment_id": ["dep-c"],
        "usage_date": [dt.date(2026, 11, 2)],
        "cost_usd": [Decimal("99999999999999999999999999.999999999999")],  # 38 digits
        "hour_start": [dt.datetime(2026, 11, 2, 5, tzinfo=dt.UTC)],
        "model_names": [None],
    },
]
SCHEMA = pa.schema(
    [
        ("deployment_id", pa.string()),
        ("usage_date", pa.date32()),
        ("cost_usd", MONEY),
        ("hour_start", pa.timestamp("us", tz="UTC")),
        ("model_names", pa.list_(pa.string())),
    ]
)


def _spark_folder(folder: Path, parts: list[dict], schema: pa.Schema = SCHEMA) -> Path:
    folder.mkdir(parents=True)
    for i, rows in enumerate(parts):
        name = f"part-0000{i}-5a1b-c000.snappy.parquet"
        pq.write_table(pa.Table.from_pydict(rows, schema=schema), folder / name)
        (folder / f".{name}.crc").write_bytes(b"crc, not parquet")
    (folder / "_SUCCESS").write_bytes(b"")
    (folder / "._SUCCESS.crc").write_bytes(b"crc")
    return folder


def _table(folder: Path, decimals=(("cost_usd", "DECIMAL(38,12)"),)) -> SparkTable:
    return SparkTable("marts", "fct_cost", str(folder), tuple(decimals))


def test_view_reads_every_part_file_with_exact_money_and_utc_timestamps(tmp_path):
    folder = _spark_folder(tmp_path / "lake/dbt/marts/fct_cost", PART_ROWS)
    con = duckdb.connect()
    con.execute("set TimeZone = 'UTC'")
    assert create_views(con, [_table(folder)]) == ["marts.fct_cost"]

    types = {name: kind for name, kind, *_ in con.execute("describe marts.fct_cost").fetchall()}
    assert types == {
        "deployment_id": "VARCHAR",
        "usage_date": "DATE",
        "cost_usd": "DECIMAL(38,12)",
        "hour_start": "TIMESTAMP WITH TIME ZONE",
        "model_names": "VARCHAR[]",
    }
    rows = con.execute("select * from marts.fct_cost order by deployment_id").fetchall()
    assert [(r[0], r[1], r[2], r[4]) for r in rows] == [
        ("dep-a", dt.date(2026, 11, 1), Decimal("12.345678901234"), ["llama"]),
        ("dep-b", dt.date(2026, 11, 1), Decimal("0.000000000001"), []),
        ("dep-c", dt.date(2026, 11, 2), Decimal("99999999999999999999999999.999999999999"), None),
    ]
    assert rows[2][3] == dt.datetime(2026, 11, 2, 5, tzinfo=dt.UTC)
    # a view, not a copy: the rows stay in the Parquet files
    kind = con.execute(
        "select table_type from information_schema.tables where table_name = 'fct_cost'"
    ).fetchone()
    assert kind == ("VIEW",)


def test_a_rebuilt_folder_is_seen_through_the_same_view(tmp_path):
    folder = _spark_folder(tmp_path / "fct_cost", PART_ROWS[:1])
    con = duckdb.connect()
    create_views(con, [_table(folder)])
    for part in folder.glob("*.parquet"):
        part.unlink()
    pq.write_table(pa.Table.from_pydict(PART_ROWS[1], schema=SCHEMA), folder / "part-9.parquet")
    assert con.execute("select deployment_id from marts.fct_cost").fetchall() == [("dep-c",)]


def test_money_that_arrives_as_double_fails_and_creates_nothing(tmp_path):
    good = _spark_folder(tmp_path / "good", PART_ROWS)
    double_schema = SCHEMA.set(2, pa.field("cost_usd", pa.float64()))
    rows = {**PART_ROWS[0], "cost_usd": [12.345678901234, 1e-12]}
    bad = _spark_folder(tmp_path / "bad", [rows], double_schema)
    con = duckdb.connect()
    tables = [
        SparkTable("marts", "fct_good", str(good), (("cost_usd", "DECIMAL(38,12)"),)),
        SparkTable("marts", "fct_bad", str(bad), (("cost_usd", "DECIMAL(38,12)"),)),
    ]
    with pytest.raises(SparkTableError, match=r"marts.fct_bad .*cost_usd: DOUBLE, contract"):
        create_views(con, tables)
    # one transaction: the good view made before the failure is rolled back too
    assert con.execute("select count(*) from information_schema.tables").fetchone() == (0,)


def test_a_folder_without_parquet_files_fails_naming_the_table(tmp_path):
    folder = tmp_path / "empty"
    folder.mkdir()
    (folder / "_SUCCESS").write_bytes(b"")
    with pytest.raises(SparkTableError, match="marts.fct_cost: no Parquet files"):
        create_views(duckdb.connect(), [_table(folder)])


def test_a_duckdb_table_of_the_same_name_is_replaced_by_the_view(tmp_path):
    folder = _spark_folder(tmp_path / "fct_cost", PART_ROWS)
    con = duckdb.connect()
    con.execute("create schema marts")
    con.execute("create table marts.fct_cost as select 'stale, built by DuckDB' as deployment_id")
    create_views(con, [_table(folder)])
    assert con.execute("select count(*) from marts.fct_cost").fetchone() == (3,)


def test_names_are_quoted_identifiers_and_paths_are_literals(tmp_path):
    folder = _spark_folder(tmp_path / "it's here", PART_ROWS)  # a quote in the path
    con = duckdb.connect()
    create_views(con, [_table(folder)])
    assert con.execute("select count(*) from marts.fct_cost").fetchone() == (3,)
    with pytest.raises(ValueError, match="invalid identifier"):
        create_views(con, [SparkTable("marts", 'x"; drop table y; --', str(folder))])


@pytest.mark.parametrize(
    ("location", "folder"),
    [
        ("s3a://bucket/lake/dbt/marts/fct_x", "s3://bucket/lake/dbt/marts/fct_x"),
        ("s3://bucket/lake/dbt/marts/fct_x/", "s3://bucket/lake/dbt/marts/fct_x"),
        ("file:///data/lake/dbt/marts/fct_x", "/data/lake/dbt/marts/fct_x"),
        ("file:/data/lake/dbt/marts/fct_x", "/data/lake/dbt/marts/fct_x"),
        ("/data/lake/dbt/marts/fct_x", "/data/lake/dbt/marts/fct_x"),
    ],
)
def test_spark_locations_as_duckdb_reads_them(location, folder):
    assert duckdb_folder(location) == folder


@pytest.mark.parametrize(
    "location", ["lake/dbt/marts/x", "abfss://c@a.dfs.core.windows.net/x", "/lake/*/x", "/l/[a]"]
)
def test_locations_duckdb_cannot_read_as_given_are_refused(location):
    with pytest.raises(SparkTableError):
        duckdb_folder(location)


def _target(tmp_path: Path, nodes: dict, results: list[tuple[str, str]]) -> Path:
    target = tmp_path / "target"
    target.mkdir()
    (target / "manifest.json").write_text(json.dumps({"nodes": nodes}))
    run = {"results": [{"unique_id": u, "status": s} for u, s in results]}
    (target / "run_results.json").write_text(json.dumps(run))
    return target


def _node(name, schema, materialized, location_root, columns=None, kind="model", alias=None):
    return {
        "resource_type": kind,
        "name": name,
        "alias": alias or name,
        "schema": schema,
        "config": {"materialized": materialized, "location_root": location_root},
        "columns": columns or {},
    }


def test_built_tables_are_the_invocations_successful_table_models(tmp_path):
    root = "s3a://bucket/lake/dbt"
    inter = f"{root}/intermediate"
    nodes = {
        "model.unitcost.fct_a": _node(
            "fct_a",
            "marts",
            "table",
            f"{root}/marts",
            {
                "cost_usd": {"data_type": "decimal(38,12)"},
                "rate": {"data_type": "DECIMAL(20, 10)"},
                "hours": {"data_type": "double"},
                "note": {},
            },
        ),
        "model.unitcost.int_b": _node("int_b", "intermediate", "incremental", f"{inter}/"),
        "model.unitcost.int_view": _node("int_view", "intermediate", "view", inter),
        "model.unitcost.fct_failed": _node("fct_failed", "marts", "table", f"{root}/marts"),
        "model.unitcost.fct_unbuilt": _node("fct_unbuilt", "marts", "table", f"{root}/marts"),
        "test.unitcost.not_null_x": _node("not_null_x", "marts", "test", None, kind="test"),
    }
    results = [
        ("model.unitcost.int_b", "success"),
        ("model.unitcost.int_view", "success"),
        ("model.unitcost.fct_a", "success"),
        ("model.unitcost.fct_failed", "error"),
        ("test.unitcost.not_null_x", "pass"),
    ]
    assert built_tables(_target(tmp_path, nodes, results)) == [
        SparkTable("intermediate", "int_b", "s3://bucket/lake/dbt/intermediate/int_b"),
        SparkTable(
            "marts",
            "fct_a",
            "s3://bucket/lake/dbt/marts/fct_a",
            (("cost_usd", "DECIMAL(38,12)"), ("rate", "DECIMAL(20,10)")),
        ),
    ]


def test_a_table_built_without_location_root_is_an_error(tmp_path):
    nodes = {"model.unitcost.fct_a": _node("fct_a", "marts", "table", None)}
    target = _target(tmp_path, nodes, [("model.unitcost.fct_a", "success")])
    with pytest.raises(SparkTableError, match="marts.fct_a was built without location_root"):
        built_tables(target)
