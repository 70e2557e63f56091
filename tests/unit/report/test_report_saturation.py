"""The report's saturation table (report/tables.py saturation_week and its template block)
on hand-made fct_saturation_hourly rows."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import duckdb
import pytest

from pipelines.report.render import render_html
from pipelines.report.tables import saturation_week

# (deployment, hour, kv p95, kv max, waiting p95, waiting max, preemptions)
ROWS = [
    ("burst", "2026-11-03 15:00", 0.91, 1.0, 1.5, 6, 12),  # most waiting: its peak hour
    ("burst", "2026-11-03 16:00", 0.99, 1.0, 0.0, 3, 40),
    ("burst", "2026-11-04 09:00", 0.10, 0.2, 0.0, 0, 0),
    ("burst", "2026-10-31 15:00", 1.00, 1.0, 9.0, 9, 99),  # before the week: left out
    ("calm", "2026-11-05 12:00", 0.30, 0.4, 0.0, 0, 0),  # no queue, none preempted: its peak
    ("calm", "2026-11-05 13:00", 0.35, 0.5, 0.0, 0, None),  # counter absent: sorts last
    ("calm", "2026-11-05 14:00", 0.20, 0.3, 0.0, 0, 0),
]
FIRST, LAST = dt.date(2026, 11, 1), dt.date(2026, 11, 7)


@pytest.fixture
def con():
    con = duckdb.connect()
    con.execute("set TimeZone = 'UTC'; create schema marts")
    con.execute(
        "create table marts.fct_saturation_hourly (deployment_id varchar, "
        "hour_start timestamptz, kv_cache_usage_p95_frac double, kv_cache_usage_max_frac "
        "double, waiting_p95_requests double, waiting_max_requests double, preemptions bigint)"
    )
    con.executemany(
        "insert into marts.fct_saturation_hourly values (?, cast(? || ':00+00' as timestamptz), "
        "?, ?, ?, ?, ?)",
        ROWS,
    )
    return con


def test_each_deployment_shows_its_most_saturated_hour_and_the_weeks_preemptions(con):
    rows = saturation_week(con, FIRST, LAST).rows(named=True)
    assert [r["deployment_id"] for r in rows] == ["burst", "calm"]  # the queued one first
    burst, calm = rows
    assert burst["peak_hour_start"] == dt.datetime(2026, 11, 3, 15, tzinfo=dt.UTC)
    assert (burst["kv_cache_usage_p95_frac"], burst["waiting_p95_requests"]) == (0.91, 1.5)
    assert (burst["waiting_max_requests"], burst["peak_hour_preemptions"]) == (6, 12)
    # 12 + 40 + 0 in the week (the 99 of Oct 31 is not), 1 hour queued, 2 preempting, of 3
    assert (burst["week_preemptions"], burst["hours_queued"], burst["hours_preempting"]) == (
        52,
        1,
        2,
    )
    assert burst["hours"] == 3
    # no queue, no preemptions (13:00's absent counter sorts after 0): the fuller KV of
    # 12:00 (p95 0.30) and 14:00 (0.20)
    assert calm["peak_hour_start"] == dt.datetime(2026, 11, 5, 12, tzinfo=dt.UTC)
    assert (calm["week_preemptions"], calm["hours_preempting"]) == (0, 0)


def test_a_warehouse_without_the_mart_gives_an_empty_table():
    assert saturation_week(duckdb.connect(), FIRST, LAST).is_empty()


def test_the_report_prints_the_table(con, tables):
    html = render_html(replace(tables, saturation=saturation_week(con, FIRST, LAST)))
    text = " ".join(html.split())
    assert "Saturation at the peak (vLLM)" in text
    assert (
        '<td class="id">burst</td><td>2026-11-03 15:00</td> <td class="num">91.0 %</td> '
        '<td class="num">100.0 %</td> <td class="num">1.5</td> <td class="num">6</td> '
        '<td class="num">12</td> <td class="num">52</td> <td class="num">1 / 2 of 3</td>'
    ) in text
    empty = " ".join(render_html(tables).split())  # the fixture warehouse has no such mart
    assert "No vLLM metrics in this window." in empty
