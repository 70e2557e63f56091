"""raw.ingest_ledger: every line read is stored, quarantined, a dropped duplicate or outside
the window, and the ledger agrees with the tables file by file."""

from __future__ import annotations

import datetime as dt

import duckdb
import polars as pl
import pytest

from pipelines.ingest.file_ids import file_id, register_files
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
    # Stored requests name their file by id; the ledger reconciles them through its path.
    register_files(con, "requests", ["a.jsonl", "b.jsonl"])
    con.execute(
        "create table raw.inference_requests as select * from (values "
        "($a, timestamptz '2026-11-05 01:00:00+00'), "
        "($a, timestamptz '2026-11-05 02:00:00+00'), "
        "($b, timestamptz '2026-11-05 03:00:00+00')) t(source_file_id, arrival_ts)",
        {"a": file_id("a.jsonl"), "b": file_id("b.jsonl")},
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
        "not_used": 0,
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
            "not_used": 0,
            "unaccounted": 1,
        }
    ]


def test_ledger_disagreeing_with_the_table_fails(con):
    record_ingest(con, _rows())
    con.execute("delete from raw.inference_requests where source_file_id = ?", [file_id("b.jsonl")])
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


def test_not_used_is_a_term_of_the_balance(con):
    # Telemetry: 10 samples read, 6 stored, 4 of metrics unitcost never reads.
    (row,) = build_ledger("telemetry", DAY, {"t.prom": 10}, {"t.prom": 6}, not_used={"t.prom": 4})
    assert row.unaccounted == 0
    record_ingest(con, [row])
    report = ledger_report(con, "telemetry", [DAY])
    assert report.unbalanced == [] and report.totals["not_used"] == 4


def test_an_old_ledger_gets_not_used_and_still_balances(con):
    # A warehouse whose ledger predates not_used: the check reads it as 0, the next write
    # appends the column (0 on old rows) and inserts by name.
    con.execute(
        f"create table {LEDGER} (source varchar, partition_day date, source_file varchar, "
        "lines_read bigint, stored bigint, quarantined bigint, duplicates_dropped bigint, "
        "outside_window bigint, recorded_at timestamptz)"
    )
    con.execute(
        f"insert into {LEDGER} values ('requests', ?, 'a.jsonl', 5, 2, 1, 1, 1, now())", [DAY]
    )
    con.execute(
        f"insert into {LEDGER} values ('requests', ?, 'b.jsonl', 3, 1, 0, 0, 2, now())", [DAY]
    )
    assert ledger_report(con, "requests", [DAY]).balanced
    (row,) = build_ledger("telemetry", DAY, {"t.prom": 3}, {"t.prom": 1}, not_used={"t.prom": 2})
    record_ingest(con, [row])
    assert con.execute(
        f"select source_file, not_used from {LEDGER} order by source_file"
    ).fetchall() == [("a.jsonl", 0), ("b.jsonl", 0), ("t.prom", 2)]
    assert ledger_report(con, "telemetry", [DAY]).balanced


def test_counts_by_file_counts_runs_in_any_order_and_sums_weights():
    frame = pl.DataFrame({"source_file": ["a", "a", "b", "a", "b", "b"], "w": [1, 0, 2, 1, 0, 3]})
    assert counts_by_file(frame) == {"a": 3, "b": 3}
    assert counts_by_file(frame, weights=pl.col("w")) == {"a": 2, "b": 5}
    assert counts_by_file(frame, weights=pl.col("w") > 0) == {"a": 2, "b": 2}
