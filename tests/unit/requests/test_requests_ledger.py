"""Every request-log line read for a day is stored, quarantined, a dropped exact duplicate or
another day's (raw.ingest_ledger), and the blocking check fails when one is not."""

from __future__ import annotations

import datetime as dt

import dagster as dg
import duckdb
from requestlogs import record, write_lines

from pipelines.assets.quality import run_ledger_check
from pipelines.ingest.file_ids import register_files
from pipelines.ingest.requests.day import day_ledger
from pipelines.quality.ledger import record_ingest

DAY = dt.date(2026, 11, 1)


def _fixture(tmp_path):
    lines = [record(i) for i in range(5)]
    # line 6: quarantined (one malformed line of 8 would fail the file's 1 % limit instead)
    lines.append(record(5, usage={"prompt_tokens": -5, "completion_tokens": 1}))
    lines.append(record(1))  # line 7: an exact copy of line 2, dropped and counted
    lines.append(record(7, arrival_time="2026-11-02T00:00:05.000000Z"))  # line 8: tomorrow's
    # Undated: every day's run reads it, so each day's ledger must place all 8 lines.
    return write_lines(tmp_path / "logs" / "h.jsonl", lines)


def _ledger(loaded, day=DAY):
    return day_ledger(loaded, day)


def test_every_line_of_the_day_is_accounted_for(tmp_path, make_loader):
    path = str(_fixture(tmp_path))
    loader = make_loader()
    (row,) = _ledger(loader.load_day(DAY, loader.files()))
    assert (row.source_file, row.lines_read) == (path, 8)
    assert (row.stored, row.quarantined, row.duplicates_dropped, row.outside_window) == (5, 1, 1, 1)
    assert row.unaccounted == 0


def test_the_next_day_takes_the_other_days_line(tmp_path, make_loader):
    path = str(_fixture(tmp_path))
    loader = make_loader()
    day = DAY + dt.timedelta(days=1)
    (row,) = _ledger(loader.load_day(day, loader.files()), day)
    # Tomorrow stores line 8; the quarantined line arrived on DAY, so it is DAY's.
    assert (row.source_file, row.lines_read, row.stored, row.outside_window) == (path, 8, 1, 7)
    assert row.quarantined == row.duplicates_dropped == row.unaccounted == 0


def _check(loaded, ledger):
    con = duckdb.connect()
    con.execute("set TimeZone = 'UTC'")
    con.execute("create schema raw")
    con.register("kept", loaded.requests.to_arrow())
    con.register("q", loaded.quarantine.to_arrow())
    con.execute("create table raw.inference_requests as select * from kept")
    con.execute("create table raw.quarantine_requests as select * from q")
    register_files(con, "requests", loaded.files)  # stored rows name their file by id
    record_ingest(con, ledger)
    start = dt.datetime.combine(DAY, dt.time(), dt.UTC)
    return run_ledger_check(con, "requests", dg.TimeWindow(start, start + dt.timedelta(days=1)))


def test_check_passes_on_the_ledger_and_fails_on_a_line_unaccounted(tmp_path, make_loader):
    _fixture(tmp_path)
    loader = make_loader()
    loaded = loader.load_day(DAY, loader.files())
    assert _check(loaded, _ledger(loaded)).passed
    # Had the ingest not counted the dropped copy, the line would be lost: ERROR.
    loaded.exact_duplicates = {}
    result = _check(loaded, _ledger(loaded))
    assert not result.passed
    assert result.severity == dg.AssetCheckSeverity.ERROR
    assert result.metadata["unbalanced_files"].value == 1


def test_check_fails_when_a_day_has_rows_and_no_ledger(tmp_path, make_loader):
    _fixture(tmp_path)
    loader = make_loader()
    result = _check(loader.load_day(DAY, loader.files()), [])
    assert not result.passed
    assert result.severity == dg.AssetCheckSeverity.ERROR  # REQUIRE_LEDGER
    assert result.metadata["days_not_recorded"].value == ["2026-11-01"]


def test_an_empty_log_file_loads_no_rows_and_is_in_the_ledger(tmp_path, make_loader):
    """RELIABILITY case 16 for request logs: a 0-byte file is OK (no manifest promises rows;
    the day's GX volume check compares the day with its trailing median) and is still named
    in the ledger with 0 lines, next to a file with rows."""
    full = str(_fixture(tmp_path))
    empty = tmp_path / "logs" / "empty.jsonl"
    empty.write_bytes(b"")
    loader = make_loader()
    rows = {r.source_file: r for r in _ledger(loader.load_day(DAY, loader.files()))}
    assert rows[str(empty)].lines_read == 0 and rows[str(empty)].unaccounted == 0
    assert rows[full].stored == 5
