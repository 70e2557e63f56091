"""raw.ingest_ledger: every line read is stored, quarantined, a dropped duplicate or outside
the window, and the ledger agrees with the tables file by file."""

from __future__ import annotations

import datetime as dt

import duckdb
import polars as pl
import pytest

from pipelines.quality.ledger import (
    LEDGER,
    build_ledger,
    counts_by_file,
    ledger_report,
    record_ingest,
)

DAY = dt.date(2026, 11, 5)


@pytest.fixture
def con():
    con = duckdb.connect()
    con.execute("set TimeZone = 'UTC'")
    con.execute("create schema raw")
    con.execute(
        "create table raw.inference_requests as select * from (values "
        "('a.jsonl', timestamptz '2026-11-05 01:00:00+00'), "
        "('a.jsonl', timestamptz '2026-11-05 02:00:00+00'), "
        "('b.jsonl', timestamptz '2026-11-05 03:00:00+00')) t(source_file, arrival_ts)"
    )
    con.execute(
        "create table raw.quarantine_requests as select * from (values "
        "('a.jsonl', 7, date '2026-11-05')) t(source_file, line, partition_day)"
    )
    return con


def _rows(**a_terms):
    stored = counts_by_file(pl.DataFrame({"source_file": ["a.jsonl", "a.jsonl", "b.jsonl"]}))
    terms = {"quarantined": {"a.jsonl": 1}, "duplicates_dropped": {"a.jsonl": 1}}
    terms["outside_window"] = {"a.jsonl": 1, "b.jsonl": 2}
    terms.update(a_terms)
    return build_ledger("requests", DAY, {"a.jsonl": 5, "b.jsonl": 3}, stored, **terms)


def test_build_ledger_counts_missing_terms_as_unaccounted():
    rows = build_ledger("requests", DAY, {"a": 5, "b": 1}, {"a": 3}, {"a": 1})
    assert [(r.source_file, r.unaccounted) for r in rows] == [("a", 1), ("b", 1)]


def test_balanced_ledger_that_matches_the_tables_passes(con):
    assert record_ingest(con, _rows()) == 2
    report = ledger_report(con, "requests", [DAY])
    assert report.balanced and not report.days_not_recorded
    assert report.lines_read == 8  # a: 2 + 1 + 1 + 1 = 5; b: 1 + 2 = 3
    assert report.totals == {
        "stored": 3,
        "quarantined": 1,
        "duplicates_dropped": 1,
        "outside_window": 3,
    }


def test_a_line_lost_fails_naming_the_file(con):
    record_ingest(con, _rows(duplicates_dropped={}))  # a dropped duplicate went uncounted
    report = ledger_report(con, "requests", [DAY])
    assert not report.balanced
    assert report.unbalanced == [
        {
            "day": "2026-11-05",
            "source_file": "a.jsonl",
            "lines_read": 5,
            "stored": 2,
            "quarantined": 1,
            "duplicates_dropped": 0,
            "outside_window": 1,
            "unaccounted": 1,
        }
    ]


def test_ledger_disagreeing_with_the_table_fails(con):
    record_ingest(con, _rows())
    con.execute("delete from raw.inference_requests where source_file = 'b.jsonl'")
    report = ledger_report(con, "requests", [DAY])
    assert report.table_mismatches == [
        {"day": "2026-11-05", "source_file": "b.jsonl", "term": "stored", "ledger": 1, "table": 0}
    ]


def test_rows_without_a_ledger_are_reported_not_recorded(con):
    report = ledger_report(con, "requests", [DAY])
    assert report.days_not_recorded == ["2026-11-05"] and report.balanced


def test_record_ingest_replaces_the_day_and_clears_an_emptied_one(con):
    record_ingest(con, _rows())
    record_ingest(con, _rows())
    assert con.execute(f"select count(*) from {LEDGER}").fetchall() == [(2,)]
    record_ingest(con, [], source="requests", days=[DAY])
    assert con.execute(f"select count(*) from {LEDGER}").fetchall() == [(0,)]
