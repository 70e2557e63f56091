"""Every billing row read is accounted for in raw.ingest_ledger per period and file: written,
or dropped as the older copy a restatement replaced; rows of another period are recorded under
that period; an unchanged delivery records nothing."""

from __future__ import annotations

import datetime as dt

import dagster as dg
from test_restatements import OCT, SEP, T0, _focus, _restated, _rows, _write

from pipelines.assets.quality import run_ledger_check
from pipelines.ingest.billing.load import ingest_billing

WINDOW = dg.TimeWindow(
    dt.datetime(2024, 10, 1, tzinfo=dt.UTC), dt.datetime(2024, 10, 2, tzinfo=dt.UTC)
)  # its ledger partitions: September and October


def _ledger(con):
    return con.execute(
        "select partition_day, source_file, lines_read, stored, quarantined, "
        "duplicates_dropped, outside_window from raw.ingest_ledger "
        "where source = 'billing' order by 1, 2"
    ).fetchall()


def test_restated_rows_are_dropped_copies_and_the_check_passes(con, tmp_path):
    header, body = _rows()
    src = tmp_path / "src"
    old = str(_write(src / "focus_sample.csv", header, body, T0))
    ingest_billing(con, _focus(src))
    # The sample: 999 rows of September and one of October (another period) in one file.
    assert _ledger(con) == [(SEP, old, 999, 999, 0, 0, 0), (OCT, old, 1, 1, 0, 0, 0)]

    new = str(_write(src / "focus_sample-restated.csv", header, _restated(header, body), T0 + 9))
    ingest_billing(con, _focus(src))
    assert _ledger(con) == [
        (SEP, new, 999, 999, 0, 0, 0),
        (SEP, old, 999, 0, 0, 999, 0),
        (OCT, new, 1, 1, 0, 0, 0),
        (OCT, old, 1, 0, 0, 1, 0),
    ]
    assert run_ledger_check(con, "billing", WINDOW).passed

    recorded = con.execute("select max(recorded_at) from raw.ingest_ledger").fetchall()
    assert ingest_billing(con, _focus(src)).deliveries[0].status == "unchanged"
    assert con.execute("select max(recorded_at) from raw.ingest_ledger").fetchall() == recorded


def test_a_row_unaccounted_fails_the_check(con, tmp_path):
    header, body = _rows()
    src = tmp_path / "src"
    _write(src / "focus_sample.csv", header, body, T0)
    ingest_billing(con, _focus(src))
    con.execute(
        "update raw.ingest_ledger set lines_read = lines_read + 1 where partition_day = ?", [SEP]
    )
    result = run_ledger_check(con, "billing", WINDOW)
    assert not result.passed and result.severity == dg.AssetCheckSeverity.ERROR
    assert result.metadata["unbalanced_files"].value == 1


def test_rows_without_a_ledger_fail_the_check(con, tmp_path):
    header, body = _rows()
    _write(tmp_path / "src" / "focus_sample.csv", header, body, T0)
    ingest_billing(con, _focus(tmp_path / "src"))
    con.execute("delete from raw.ingest_ledger")
    result = run_ledger_check(con, "billing", WINDOW)
    assert not result.passed and result.severity == dg.AssetCheckSeverity.ERROR
    assert result.metadata["days_not_recorded"].value == ["2024-09-01", "2024-10-01"]
