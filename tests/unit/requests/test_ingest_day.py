"""A day into a warehouse as the asset writes it: rows, quarantine and ledger in one commit,
file ids on the rows, each file parsed once per run, old warehouses upgraded."""

from __future__ import annotations

import datetime as dt

import duckdb
import pytest
from requestlogs import record, write_lines

from pipelines.ingest.errors import SourceError
from pipelines.ingest.file_ids import file_id
from pipelines.ingest.requests import load
from pipelines.ingest.requests.day import ingest_day
from pipelines.ingest.requests.schema import RAW_REQUESTS_SQL

DAY = dt.date(2026, 11, 1)


@pytest.fixture
def con():
    con = duckdb.connect()
    con.execute("set TimeZone = 'UTC'")
    return con


def _tables(con) -> dict[str, list]:
    return {
        t: sorted(con.execute(f"select * exclude (recorded_at) from {t}").fetchall(), key=repr)
        if t == "raw.ingest_ledger"
        else sorted(con.execute(f"select * from {t}").fetchall(), key=repr)
        for t in ("raw.inference_requests", "raw.quarantine_requests", "raw.ingest_ledger")
    }


def test_rows_carry_the_file_id_and_the_ledger_the_path(tmp_path, make_loader, con):
    lines = [record(i) for i in range(150)]
    lines[3] = record(3, usage={"prompt_tokens": -1, "completion_tokens": 1})
    path = write_lines(tmp_path / "logs" / "date=2026-11-01" / "h.jsonl.gz", lines)
    loader = make_loader()
    loaded = ingest_day(con, loader, DAY, loader.files(), [DAY])
    assert loaded.rows == 149
    ids = con.execute("select distinct source_file_id from raw.inference_requests").fetchall()
    assert ids == [(file_id(str(path)),)]
    assert con.execute("select uri from raw.source_files").fetchall() == [(str(path),)]
    assert con.execute(
        "select source_file, lines_read, stored, quarantined from raw.ingest_ledger"
    ).fetchall() == [(str(path), 150, 149, 1)]
    assert con.execute("select source_file, line from raw.quarantine_requests").fetchall() == [
        (str(path), 4)
    ]


def test_a_failing_file_leaves_the_day_as_it_was(tmp_path, make_loader, con):
    folder = tmp_path / "logs" / "date=2026-11-01"
    write_lines(folder / "a.jsonl", [record(i) for i in range(5)])
    loader = make_loader()
    ingest_day(con, loader, DAY, loader.files(), [DAY])
    before = _tables(con)
    # A second file with 2 bad lines of 3 fails the partition: nothing of it is committed.
    write_lines(folder / "b.jsonl", [record(10), "{", "not json"])
    loader = make_loader()
    with pytest.raises(SourceError, match="more than 1 % fails the file"):
        ingest_day(con, loader, DAY, loader.files(), [DAY])
    assert _tables(con) == before


def test_a_failing_first_day_leaves_no_table_behind(tmp_path, make_loader, con):
    # A new warehouse's tables are created in the day's transaction (crash safety, case 37:
    # a run killed in this step must leave the warehouse as it was, not with empty tables).
    write_lines(tmp_path / "logs" / "b.jsonl", [record(10), "{", "not json"])
    loader = make_loader()
    with pytest.raises(SourceError):
        ingest_day(con, loader, DAY, loader.files(), [DAY])
    (tables,) = con.execute("select count(*) from duckdb_tables() where not temporary").fetchone()
    assert tables == 0


def test_a_file_two_days_read_is_parsed_once(tmp_path, make_loader, con, monkeypatch):
    late = record(1, arrival_time="2026-11-01T23:59:59.000000Z")
    write_lines(tmp_path / "logs" / "date=2026-11-01" / "h.jsonl", [record(0)])
    write_lines(
        tmp_path / "logs" / "date=2026-11-02" / "h.jsonl",
        [late, record(2, arrival_time="2026-11-02T00:00:00Z")],
    )
    parsed = []
    real = load.parse_file
    monkeypatch.setattr(load, "parse_file", lambda f, *a: parsed.append(f.uri) or real(f, *a))
    loader = make_loader()
    days = [DAY, DAY + dt.timedelta(days=1)]
    stored = [ingest_day(con, loader, d, loader.files(), days).rows for d in days]
    assert stored == [2, 1] and len(parsed) == len(set(parsed)) == 2
    ids = con.execute("select request_id from raw.inference_requests order by 1").fetchall()
    assert ids == [("req-0",), ("req-1",), ("req-2",)]


def test_a_warehouse_with_paths_on_its_rows_gets_file_ids(tmp_path, make_loader, con):
    """Before file ids, rows held ``source_file`` (the path): the first ingest registers the
    paths, sets the ids and drops the column, so old days still reconcile with the ledger."""
    old_columns = {**RAW_REQUESTS_SQL, "source_file": "VARCHAR"}
    del old_columns["source_file_id"]
    con.execute("create schema raw")
    con.execute(
        "create table raw.inference_requests ("
        + ", ".join(f'"{c}" {kind}' for c, kind in old_columns.items())
        + ")"
    )
    con.execute(
        "insert into raw.inference_requests (request_source, request_id, arrival_ts, "
        "source_file, source_line) values ('requests', 'old-1', "
        "timestamptz '2026-10-30 10:00:00+00', '/old/logs/x.jsonl', 1)"
    )
    write_lines(tmp_path / "logs" / "h.jsonl", [record(0)])
    loader = make_loader()
    ingest_day(con, loader, DAY, loader.files(), [DAY])
    columns = [r[0] for r in con.execute("describe raw.inference_requests").fetchall()]
    assert "source_file" not in columns and "source_file_id" in columns
    old = con.execute(
        "select f.uri from raw.inference_requests join raw.source_files as f "
        "using (source_file_id) where request_id = 'old-1'"
    ).fetchall()
    assert old == [("/old/logs/x.jsonl",)]


def _messy_two_days(logs) -> None:
    """Two days of logs with every kind of line: malformed, implausible, exact copies within
    and across files and days, conflicting copies, late arrivals in the next day's file."""
    next_day = dict(arrival_time="2026-11-02T08:00:00.000000Z")
    first = [record(i) for i in range(150)]
    first[20] = '{"id": "req-20", "usage": '  # malformed
    first[30] = record(30, usage={"prompt_tokens": -1, "completion_tokens": 1})  # implausible
    first[40] = record(7)  # an exact copy within the file
    first[41] = record(8, usage={"prompt_tokens": 9, "completion_tokens": 1})  # a conflict
    write_lines(logs / "date=2026-11-01" / "a.jsonl.gz", first)
    late = [record(200 + i, arrival_time=f"2026-11-01T23:59:{i:02d}.000000Z") for i in range(30)]
    own = [record(300 + i, **next_day) for i in range(120)]
    own[5] = record(300, **next_day)  # an exact copy of D + 1's own row
    own[6] = record(9)  # an exact copy of a D row from another file
    own[7] = '{"broken'
    write_lines(logs / "date=2026-11-02" / "a.jsonl.gz", late + own)
    undated = [record(500 + i) for i in range(60)]
    undated += [record(600 + i, **next_day) for i in range(60)]
    undated[3] = record(201, arrival_time="2026-11-01T23:59:01.000000Z")  # a late row's copy
    undated[70] = record(301, arrival_time="2026-11-02T08:00:00.000000Z", model="small-ctx")
    write_lines(logs / "u.jsonl", undated)


def test_every_line_is_accounted_for_and_batching_the_days_changes_nothing(tmp_path, make_loader):
    from pipelines.quality.ledger import ledger_report

    _messy_two_days(tmp_path / "logs")
    days = [DAY, DAY + dt.timedelta(days=1)]
    together = duckdb.connect()
    together.execute("set TimeZone = 'UTC'")
    loader = make_loader(salt="s" * 16)
    for day in days:
        ingest_day(together, loader, day, loader.files(), days)
    report = ledger_report(together, "requests", days)
    assert report.balanced and not report.days_not_recorded, report
    assert report.totals["quarantined"] == 7 and report.totals["duplicates_dropped"] == 4
    assert report.totals["outside_window"] > 0
    # Each line once: every record of every file is in exactly one day's stored, quarantined or
    # dropped count (the files are read on both days, so outside_window halves are the rest).
    assert report.lines_read - report.totals["outside_window"] == 150 + 150 + 120
    apart = duckdb.connect()
    apart.execute("set TimeZone = 'UTC'")
    for day in days:  # a run per day, each with its own loader
        loader = make_loader(salt="s" * 16)
        ingest_day(apart, loader, day, loader.files(), [day])
    assert _tables(apart) == _tables(together)
    first = _tables(together)
    loader = make_loader(salt="s" * 16)
    for day in days:  # a re-run of the range: identical tables
        ingest_day(together, loader, day, loader.files(), days)
    assert _tables(together) == first
