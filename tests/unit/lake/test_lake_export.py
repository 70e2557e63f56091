"""The lake export: a day written, read back by DuckDB's hive reader and compared with the raw
table row for row; a day re-exported replaces exactly that day; whole tables keep money exact.

The raw tables here are written by hand with rows at the day's edges, so which rows belong to
which day is stated in the test, not computed by the code under test.
"""

from __future__ import annotations

import datetime as dt
import os
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from pipelines.lake.export import export_days, export_recommend, export_whole, export_window
from pipelines.lake.paths import PART_FILE
from pipelines.lake.tables import DAILY_TABLES, LakeTable

NOV1, NOV2, NOV3 = dt.date(2026, 11, 1), dt.date(2026, 11, 2), dt.date(2026, 11, 3)
REQUESTS = next(t for t in DAILY_TABLES if t.name == "inference_requests")
QUARANTINE = next(t for t in DAILY_TABLES if t.name == "quarantine_requests")
BILLING = LakeTable("billing_line_items")

# (request_id, arrival_ts UTC, input_tokens, user_hash); the day each belongs to is its UTC
# arrival date: r2 is Nov 1's last microsecond, r3 Nov 2's first.
ROWS = [
    ("r1", "2026-11-01 00:00:00", 10, "h1"),
    ("r2", "2026-11-01 23:59:59.999999", 20, None),
    ("r3", "2026-11-02 00:00:00", 30, "h3"),
    ("r4", "2026-11-02 13:30:00", 40, "h4"),
    ("r5", "2026-11-03 00:00:00", 50, "h5"),
]


@pytest.fixture
def con(tmp_path: Path):
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    con.execute("set TimeZone = 'UTC'")
    con.execute("create schema raw")
    con.execute(
        "create table raw.inference_requests (request_id varchar, "
        "arrival_ts timestamp with time zone, input_tokens bigint, user_hash varchar)"
    )
    for rid, ts, tokens, user in ROWS:
        con.execute(
            "insert into raw.inference_requests values (?, ?::timestamptz, ?, ?)",
            [rid, ts + "+00", tokens, user],
        )
    con.execute(
        "create table raw.quarantine_requests (source_file varchar, line bigint, "
        "reason varchar, partition_day date)"
    )
    con.execute(
        "insert into raw.quarantine_requests values ('a.jsonl', 3, 'bad json', '2026-11-02'),"
        " ('a.jsonl', 9, 'no id', '2026-11-01')"
    )
    yield con
    con.close()


def _lake_rows(con, root: Path, table: str, day: dt.date) -> list[tuple]:
    """The day as DuckDB's hive reader sees the lake: every file, `day` from the path."""
    return con.execute(
        "select * exclude (day) from read_parquet(?, hive_partitioning = true) "
        "where day = ? order by all",
        [f"{root}/raw/{table}/day=*/*.parquet", day],
    ).fetchall()


def _raw_rows(con, day: dt.date) -> list[tuple]:
    start = dt.datetime.combine(day, dt.time(), dt.UTC)
    return con.execute(
        "select * from raw.inference_requests where arrival_ts >= ? and arrival_ts < ? "
        "order by all",
        [start, start + dt.timedelta(days=1)],
    ).fetchall()


def test_a_day_read_back_with_hive_partitioning_equals_the_raw_rows(con, tmp_path):
    root = tmp_path / "lake"
    result = export_days(con, root, [NOV1, NOV2], [REQUESTS, QUARANTINE])
    assert result.rows == {"inference_requests": 4, "quarantine_requests": 2}
    for day, ids in ((NOV1, ["r1", "r2"]), (NOV2, ["r3", "r4"])):
        lake = _lake_rows(con, root, "inference_requests", day)
        assert lake == _raw_rows(con, day)  # a second reading of the raw table
        assert [r[0] for r in lake] == ids  # and the day's edges, by hand
    # one file per day, named by the contract; Nov 3 was not asked for
    files = sorted(p.relative_to(root).as_posix() for p in root.rglob("*.parquet"))
    assert files == [
        f"raw/inference_requests/day=2026-11-01/{PART_FILE}",
        f"raw/inference_requests/day=2026-11-02/{PART_FILE}",
        f"raw/quarantine_requests/day=2026-11-01/{PART_FILE}",
        f"raw/quarantine_requests/day=2026-11-02/{PART_FILE}",
    ]
    assert _lake_rows(con, root, "quarantine_requests", NOV2) == [("a.jsonl", 3, "bad json", NOV2)]
    # same column names and types as the raw table, plus the partition column
    described = con.execute(
        "select column_name, column_type from (describe select * from read_parquet(?, "
        "hive_partitioning = true))",
        [f"{root}/raw/inference_requests/day=*/*.parquet"],
    ).fetchall()
    assert described == [
        ("request_id", "VARCHAR"),
        ("arrival_ts", "TIMESTAMP WITH TIME ZONE"),
        ("input_tokens", "BIGINT"),
        ("user_hash", "VARCHAR"),
        ("day", "DATE"),
    ]


def test_re_exporting_a_day_replaces_it_exactly_and_leaves_other_days_alone(con, tmp_path):
    root = tmp_path / "lake"
    export_days(con, root, [NOV1, NOV2], [REQUESTS])
    nov1 = root / "raw/inference_requests/day=2026-11-01" / PART_FILE
    before = (nov1.read_bytes(), nov1.stat().st_mtime_ns)

    # the same day again: the same rows, once
    export_days(con, root, [NOV2], [REQUESTS])
    assert [r[0] for r in _lake_rows(con, root, "inference_requests", NOV2)] == ["r3", "r4"]

    # Nov 2 re-ingested: r4 gone, r3 restated, r6 new; Nov 1 changes in the warehouse too,
    # but only Nov 2 is exported
    con.execute("delete from raw.inference_requests where request_id in ('r4', 'r1')")
    con.execute("update raw.inference_requests set input_tokens = 31 where request_id = 'r3'")
    con.execute(
        "insert into raw.inference_requests values ('r6', '2026-11-02 23:00:00+00', 60, null)"
    )
    export_days(con, root, [NOV2], [REQUESTS])
    assert _lake_rows(con, root, "inference_requests", NOV2) == [
        ("r3", dt.datetime(2026, 11, 2, tzinfo=dt.UTC), 31, "h3"),
        ("r6", dt.datetime(2026, 11, 2, 23, tzinfo=dt.UTC), 60, None),
    ]
    assert (nov1.read_bytes(), nov1.stat().st_mtime_ns) == before  # untouched
    assert [r[0] for r in _lake_rows(con, root, "inference_requests", NOV1)] == ["r1", "r2"]


def test_a_day_that_lost_its_rows_is_emptied_and_leftovers_are_removed(con, tmp_path):
    root = tmp_path / "lake"
    export_days(con, root, [NOV2], [REQUESTS])
    folder = root / "raw/inference_requests/day=2026-11-02"
    # what a killed export or another writer could leave: a partial file and a stray part
    (folder / ".0123.parquet.partial").write_bytes(b"half")
    os.link(folder / PART_FILE, folder / "part-1.parquet")  # would double the day's rows
    con.execute("delete from raw.inference_requests where arrival_ts >= '2026-11-02'")
    result = export_days(con, root, [NOV2], [REQUESTS])
    assert result.rows == {"inference_requests": 0}
    assert sorted(p.name for p in folder.iterdir()) == [PART_FILE]
    assert _lake_rows(con, root, "inference_requests", NOV2) == []


def test_whole_tables_keep_decimal_money_exact_and_absent_tables_are_listed(con, tmp_path):
    con.execute(
        "create table raw.billing_line_items (resource_id varchar, "
        "billed_cost decimal(38,12), charge_period_start timestamp with time zone)"
    )
    con.execute(
        "insert into raw.billing_line_items values "
        "('i-1', 12345678901234567890.123456789012, '2026-11-01 05:00:00+00'), "
        "('i-2', -0.000000000001, '2026-11-30 23:00:00+00')"
    )
    root = tmp_path / "lake"
    result = export_whole(con, root, [BILLING, LakeTable("gpu_catalog")])
    assert result.rows == {"billing_line_items": 2}
    assert result.missing_tables == ["gpu_catalog"]
    back = con.execute(
        "select resource_id, billed_cost, typeof(billed_cost) from read_parquet(?) order by 1",
        [f"{root}/raw/billing_line_items/*.parquet"],
    ).fetchall()
    assert back == [
        ("i-1", Decimal("12345678901234567890.123456789012"), "DECIMAL(38,12)"),
        ("i-2", Decimal("-0.000000000001"), "DECIMAL(38,12)"),
    ]


def test_export_window_writes_the_window_days_and_the_whole_tables(con, tmp_path):
    root = tmp_path / "lake"
    result = export_window(con, root, [NOV3])
    assert result.rows["inference_requests"] == 1  # r5 only
    assert result.rows["quarantine_requests"] == 0
    # tables the hand-made warehouse lacks are listed, never fatal
    assert {"dcgm_samples", "billing_line_items", "registry_deployments"} <= set(
        result.missing_tables
    )
    assert not (root / "raw/inference_requests/day=2026-11-01").exists()


def test_the_recommendation_tables_are_exported_whole_on_their_own(con, tmp_path):
    con.execute("create table raw.recommendations (as_of_date date, kind varchar)")
    con.execute("insert into raw.recommendations values ('2026-11-02', 'right_size')")
    root = tmp_path / "lake"
    result = export_recommend(con, root)
    assert result.rows == {"recommendations": 1}
    assert result.missing_tables == ["predicted_efficiency_daily"]
    assert [p.relative_to(root).as_posix() for p in root.rglob("*.parquet")] == [
        f"raw/recommendations/{PART_FILE}"
    ]


def test_a_read_only_warehouse_can_be_exported(con, tmp_path):
    # the bench and the tests export from a warehouse opened read-only
    path = tmp_path / "w.duckdb"
    con.close()
    with duckdb.connect(str(path), read_only=True) as ro:
        ro.execute("set TimeZone = 'UTC'")
        result = export_days(ro, tmp_path / "lake", [NOV1], [REQUESTS])
    assert result.rows == {"inference_requests": 2}
