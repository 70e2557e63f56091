"""Warehouse helpers: identifiers are validated before quoting; replacement is atomic."""

from __future__ import annotations

import polars as pl
import pytest

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
    window = "day >= ? and day < ?"
    with connect(tmp_path / "w.duckdb") as con:
        replace_rows(con, "raw", "t", window, [day(1), day(4)], first)
        again = pl.DataFrame({"day": [day(2)], "v": [20]})
        replace_rows(con, "raw", "t", window, [day(2), day(3)], again)
        replace_rows(con, "raw", "t", window, [day(2), day(3)], again)
        rows = con.execute("select day, v from raw.t order by 1").fetchall()
    assert [r[1] for r in rows] == [1, 20, 3]
