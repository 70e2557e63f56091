"""Warehouse helpers: identifiers are validated before quoting; replacement is atomic."""

from __future__ import annotations

import polars as pl
import pytest

from pipelines import warehouse
from pipelines.warehouse import connect, quote_identifier, replace_rows, replace_table


@pytest.mark.parametrize("name", ["Raw", "a b", "x;drop table y", "", "1abc", "a" * 64])
def test_quote_identifier_rejects_names_outside_the_safe_pattern(name):
    with pytest.raises(ValueError, match="invalid identifier"):
        quote_identifier(name)


def test_connection_is_utc(tmp_path):
    with connect(tmp_path / "w.duckdb") as con:
        assert con.execute("select current_setting('TimeZone')").fetchone() == ("UTC",)
        stamp = con.execute("select timestamptz '2024-03-10 02:30:00+00'::varchar").fetchone()
    assert stamp == ("2024-03-10 02:30:00+00",)


def test_replace_table_replaces_whole_snapshot(tmp_path):
    with connect(tmp_path / "w.duckdb") as con:
        assert replace_table(con, "raw", "t", pl.DataFrame({"a": [1, 2, 3]})) == 3
        assert replace_table(con, "raw", "t", pl.DataFrame({"a": [7]})) == 1
        assert con.execute("select a from raw.t").fetchall() == [(7,)]


def test_failed_replacement_keeps_the_previous_table(tmp_path):
    with connect(tmp_path / "w.duckdb") as con:
        replace_table(con, "raw", "t", pl.DataFrame({"a": [1]}))

        class FailsMidWrite:  # stands in for a frame whose conversion dies after BEGIN
            height = 1

            def to_arrow(self):
                raise MemoryError("simulated")

        with pytest.raises(MemoryError):
            replace_table(con, "raw", "t", FailsMidWrite())
        con.execute("begin transaction")  # would fail had the aborted one been left open
        con.execute("rollback")
        assert con.execute("select a from raw.t").fetchall() == [(1,)]


def test_replace_rows_replaces_only_the_window_and_is_idempotent(tmp_path):
    import datetime as dt

    def day(d):
        return dt.date(2026, 11, d)

    first = pl.DataFrame({"day": [day(1), day(2), day(3)], "v": [1, 2, 3]})
    with connect(tmp_path / "w.duckdb") as con:
        replace_rows(con, "raw", "t", first, window=("day", day(1), day(4)))
        again = pl.DataFrame({"day": [day(2)], "v": [20]})
        replace_rows(con, "raw", "t", again, window=("day", day(2), day(3)))
        replace_rows(con, "raw", "t", again, window=("day", day(2), day(3)))
        rows = con.execute("select day, v from raw.t order by 1").fetchall()
    assert [r[1] for r in rows] == [1, 20, 3]


def test_replace_rows_match_replaces_rows_equal_on_every_column(tmp_path):
    frame = pl.DataFrame({"src": ["a", "a", "b"], "n": [1, 2, 1], "v": [1, 2, 3]})
    with connect(tmp_path / "w.duckdb") as con:
        replace_rows(con, "raw", "t", frame, match={"src": "a", "n": 1})
        new = pl.DataFrame({"src": ["a"], "n": [1], "v": [10]})
        replace_rows(con, "raw", "t", new, match={"src": "a", "n": 1})
        rows = con.execute("select src, n, v from raw.t order by all").fetchall()
    assert rows == [("a", 1, 10), ("a", 2, 2), ("b", 1, 3)]


# Issue 12 point 9: callers pass a column and values, never SQL.
@pytest.mark.parametrize(
    "where",
    [
        "1 = 1",
        "day >= ? or 1 = 1",
        "day >= ? and day < ?; drop table raw.t",
        "day >= ? and other < ?",
        "day between ? and ?",
    ],
)
def test_replace_rows_refuses_a_raw_sql_fragment(tmp_path, where):
    frame = pl.DataFrame({"day": [1], "v": [1]})
    with connect(tmp_path / "w.duckdb") as con:
        replace_rows(con, "raw", "t", frame, match={"day": 1})
        # the partition is keyword-only: a where string in any position is refused
        with pytest.raises(TypeError):
            replace_rows(con, "raw", "t", where, [1, 2][: where.count("?")], frame)
        with pytest.raises(TypeError, match="not a SQL fragment"):
            replace_rows(con, "raw", "t", where, window=("day", 1, 2))
        assert con.execute("select count(*) from raw.t").fetchone() == (1,)


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"window": ("day", 0, 1), "match": {"day": 1}},
        {"match": {}},
        {"window": ('day" or 1=1 --', 0, 1)},
        {"match": {"day; drop table raw.t": 1}},
    ],
)
def test_replace_rows_needs_one_partition_of_safe_column_names(tmp_path, kwargs):
    frame = pl.DataFrame({"day": [1]})
    with connect(tmp_path / "w.duckdb") as con, pytest.raises(ValueError):
        replace_rows(con, "raw", "t", frame, **kwargs)


def test_quote_identifier_doubles_embedded_quotes(tmp_path):
    # Names read back from DuckDB's catalog may hold anything; quoting keeps them one name.
    name = 'we"ird; drop table x --'
    assert quote_identifier(name, validate=False) == '"we""ird; drop table x --"'
    with pytest.raises(ValueError, match="invalid identifier"):
        quote_identifier(name)
    with connect(tmp_path / "w.duckdb") as con:
        con.execute(f"create table {quote_identifier(name, validate=False)} (a int)")
        assert con.execute("select table_name from duckdb_tables()").fetchall() == [(name,)]


@pytest.mark.parametrize("day", ["2024-03-10", "2024-11-03"])
def test_dst_days_have_24_hourly_buckets(tmp_path, day):
    # RELIABILITY.md case 12: buckets are UTC, so US DST changes neither add nor drop an hour.
    with connect(tmp_path / "w.duckdb") as con:
        hours = con.execute(
            "select count(distinct date_trunc('hour', ts)) from generate_series("
            "?::timestamptz, ?::timestamptz + interval 1 day - interval 1 minute, "
            "interval 1 minute) t(ts)",
            [f"{day} 00:00:00+00", f"{day} 00:00:00+00"],
        ).fetchone()
    assert hours == (24,)


@pytest.mark.parametrize(
    ("setting", "expected"),
    [
        ("2GB", 2_000_000_000),  # DuckDB's GB is 1000^3 bytes
        ("1.5GiB", 1_610_612_736),  # 1.5 × 1024^3
        ("512 MB", 512_000_000),
        ("3gb", 3_000_000_000),
        ("80%", None),  # not a size: left alone by whoever would scale it
    ],
)
def test_memory_limit_bytes_reads_duckdbs_units(monkeypatch, setting, expected):
    monkeypatch.setenv("UNITCOST_DUCKDB_MEMORY_LIMIT", setting)
    assert warehouse.memory_limit_bytes() == expected
