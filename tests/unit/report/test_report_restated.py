"""RELIABILITY case 4: a bill changed after its week's report was produced (a refund, a
credit, ``ChargeClass='Correction'``) marks the week's next report "restated" with the delta,
in the HTML and in both CSVs; an unchanged week re-renders the same files and records nothing.

The warehouse is the hand-built report fixture (tests/fixtures/report/warehouse.sql). Its week
2026-11-01..07 bills, by hand: USD 20 + 12 + 100.50 + 24 + 6 + 12 + 6 + 400 + 80 + 30 = 690.50
(the 10-31 row is outside the week) and EUR 10.
"""

from __future__ import annotations

import csv
import datetime as dt
import shutil
from decimal import Decimal

import pytest

from pipelines.report.render import render_html, write_report
from pipelines.report.restated import HISTORY, record_issue
from pipelines.report.tables import load_tables
from pipelines.warehouse import connect

D = Decimal
LAST_DAY = dt.date(2026, 11, 7)
FIRST_ISSUE = dt.datetime(2026, 11, 8, 6, 0, tzinfo=dt.UTC)
SECOND_ISSUE = dt.datetime(2026, 11, 20, 6, 0, tzinfo=dt.UTC)
WEEK_BILLED = {"EUR": D("10"), "USD": D("690.50")}


@pytest.fixture
def con(warehouse, tmp_path):
    """A private, writable copy of the fixture warehouse."""
    path = tmp_path / "unitcost.duckdb"
    shutil.copy(warehouse, path)
    with connect(path) as connection:
        yield connection


def _bill(con, currency: str, billed: str, day: str = "2026-11-01") -> None:
    """A correction delivered later: one more line in the allocation mart (period level)."""
    con.execute(
        "insert into marts.fct_cost_allocation_daily (usage_date, billing_account_id, "
        "billing_period, billing_currency, allocation_kind, billed_cost, effective_cost, "
        "gpu_effective_cost) values (?, 'a1', '2026-11-01', ?, 'unallocated', ?, ?, 0)",
        [day, currency, billed, billed],
    )


def _notice(html: str) -> str:
    start = html.index('id="restated"')
    return " ".join(html[start : html.index("</div>", start)].split())


def _csv_marks(path) -> set[tuple[str, str]]:
    with path.open(newline="") as f:
        return {(r["restated_since"], r["restated_billed_cost_delta"]) for r in csv.DictReader(f)}


def test_the_first_report_is_not_restated_and_records_what_it_was_built_on(con, tmp_path):
    tables = load_tables(con, LAST_DAY)
    assert tables.billed_cost == WEEK_BILLED
    assert tables.restated is None
    files = write_report(tables, tmp_path / "out")
    assert 'id="restated"' not in files.html.read_text(encoding="utf-8")
    assert _csv_marks(files.deployments_csv) == {("", "")}
    assert _csv_marks(files.recommendations_csv) == {("", "")}

    assert record_issue(con, LAST_DAY, tables.billed_cost, FIRST_ISSUE)
    rows = con.execute(f"select * from {HISTORY} order by billing_currency").fetchall()
    assert rows == [
        (LAST_DAY, FIRST_ISSUE, "EUR", D("10")),
        (LAST_DAY, FIRST_ISSUE, "USD", D("690.50")),
    ]


def test_an_unchanged_week_re_renders_the_same_file_and_records_nothing(con):
    first = load_tables(con, LAST_DAY)
    html = render_html(first)
    record_issue(con, LAST_DAY, first.billed_cost, FIRST_ISSUE)
    again = load_tables(con, LAST_DAY)
    assert again.restated is None
    assert render_html(again) == html
    assert not record_issue(con, LAST_DAY, again.billed_cost, SECOND_ISSUE)
    assert con.execute(f"select count(*) from {HISTORY}").fetchall() == [(2,)]


def test_a_refund_after_the_report_marks_the_next_issue_restated_with_the_delta(con, tmp_path):
    record_issue(con, LAST_DAY, load_tables(con, LAST_DAY).billed_cost, FIRST_ISSUE)
    _bill(con, "USD", "-25.00")  # a refund of the period, kept on its first day
    tables = load_tables(con, LAST_DAY)
    assert tables.billed_cost == {"EUR": D("10"), "USD": D("665.50")}  # 690.50 - 25
    assert tables.restated.since == FIRST_ISSUE
    assert tables.restated.deltas == {"USD": D("-25")}  # EUR did not change

    files = write_report(tables, tmp_path / "out")
    html = files.html.read_text(encoding="utf-8")
    notice = _notice(html)
    assert (
        "<strong>Restated:</strong> billed cost of this week changed by -$25.00 since the "
        "report of 2026-11-08"
    ) in notice
    assert "billed $691 then, $666 now" in notice  # 690.50 and 665.50, whole dollars over $100
    # above the headline, where the missing-data notice is
    assert html.index('id="restated"') < html.index('id="kpi-cash"')
    marks = {("2026-11-08", "USD -25.000000000000")}
    assert _csv_marks(files.deployments_csv) == marks
    assert _csv_marks(files.recommendations_csv) == marks

    # recorded, the restated issue renders the same again: still measured from the first
    assert record_issue(con, LAST_DAY, tables.billed_cost, SECOND_ISSUE)
    assert render_html(load_tables(con, LAST_DAY)) == html


def test_a_later_change_is_measured_from_the_last_report_with_other_figures(con):
    record_issue(con, LAST_DAY, load_tables(con, LAST_DAY).billed_cost, FIRST_ISSUE)
    _bill(con, "USD", "-25.00")
    record_issue(con, LAST_DAY, load_tables(con, LAST_DAY).billed_cost, SECOND_ISSUE)
    _bill(con, "EUR", "-2.00", day="2026-11-03")  # then a EUR credit: 10 - 2 = 8
    _bill(con, "USD", "1.25", day="2026-11-03")  # and a USD adjustment: 665.50 + 1.25
    tables = load_tables(con, LAST_DAY)
    assert tables.restated.since == SECOND_ISSUE
    # per currency, never summed: EUR -2, USD +1.25; in code order
    assert tables.restated.deltas == {"EUR": D("-2"), "USD": D("1.25")}
    assert tables.restated.delta_text() == "-€2.00 and +$1.25"
    assert "since the report of 2026-11-20" in _notice(render_html(tables))


def test_a_week_first_reported_without_cost_is_restated_when_its_bill_arrives(con):
    con.execute("delete from marts.fct_cost_allocation_daily")
    empty = load_tables(con, LAST_DAY)
    assert empty.billed_cost == {}
    assert record_issue(con, LAST_DAY, empty.billed_cost, FIRST_ISSUE)
    assert con.execute(f"select billing_currency, billed_cost from {HISTORY}").fetchall() == [
        (None, None)
    ]
    _bill(con, "USD", "40.00", day="2026-11-02")
    late = load_tables(con, LAST_DAY)
    assert (late.restated.since, late.restated.deltas) == (FIRST_ISSUE, {"USD": D("40")})
    assert "changed by +$40.00 since the report of 2026-11-08" in _notice(render_html(late))


def test_reports_of_other_weeks_are_not_restated_by_this_weeks_history(con):
    record_issue(con, LAST_DAY, {"USD": D("1")}, FIRST_ISSUE)  # another bill, same week
    assert load_tables(con, LAST_DAY).restated is not None
    assert load_tables(con, dt.date(2026, 11, 10)).restated is None  # no issue of that week
