"""The blocking conservation test (data-tests/assert_cost_allocation_conserves_billing.sql),
rendered with the project's own window macros and run on a tiny hand-made warehouse.

A singular dbt test is just a query whose rows fail the build, so it is rendered here with
jinja (``ref`` -> a table of this test's, the partition window fixed at September 2024) instead
of a full dbt build: the case is the shared FOCUS sample's, September loaded and one row billed
in October (../shared/data/focus/focus_1.0_sample_1000.csv).
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import jinja2
import pytest

ROOT = Path(__file__).parents[3]
TEST_SQL = ROOT / "data-tests" / "assert_cost_allocation_conserves_billing.sql"
MACROS = [
    ROOT / "macros" / "allocation.sql",
    *sorted((ROOT / "macros" / "cross_engine").glob("*.sql")),
]


class _DuckDBAdapter:
    """dbt's ``adapter.dispatch`` for DuckDB: ``duckdb__<name>``, else ``default__<name>``."""

    def __init__(self):
        self.macros = None

    def dispatch(self, name: str, package: str | None = None):
        return getattr(self.macros, f"duckdb__{name}", None) or getattr(
            self.macros, f"default__{name}"
        )


def _render(window_start: str, window_end: str) -> str:
    env = jinja2.Environment(undefined=jinja2.StrictUndefined, extensions=["jinja2.ext.do"])
    adapter = _DuckDBAdapter()
    context = {
        "config": lambda **_: "",
        "ref": lambda name: f'"{name}"',
        "window_start": lambda: f"DATE '{window_start}'",
        "window_end": lambda: f"DATE '{window_end}'",
        "adapter": adapter,
        "return": lambda value: value,  # dbt's return(): here the macro's output
    }
    adapter.macros = env.from_string("".join(p.read_text() for p in MACROS)).make_module(context)
    macros = {name: getattr(adapter.macros, name) for name in adapter.macros.__dict__
              if not name.startswith("_")}  # fmt: skip
    return env.from_string(TEST_SQL.read_text()).render(**context, **macros)


@pytest.fixture
def warehouse():
    con = duckdb.connect()
    con.execute("set TimeZone = 'UTC'")
    money = "decimal(38,12)"
    for table in ("int_billing__line_items", "fct_cost_allocation_daily"):
        con.execute(
            f'create table "{table}" (billing_account_id varchar, billing_period date, '
            f"billing_currency varchar, billed_cost {money}, effective_cost {money})"
        )
    bill = [
        ("acct", "2024-09-01", "USD", "20.5", "14.9"),
        ("acct", "2024-10-01", "USD", "0.01", "0.008"),  # outside the window, not allocated
    ]
    con.executemany('insert into "int_billing__line_items" values (?, ?, ?, ?, ?)', bill)
    con.execute(
        'insert into "fct_cost_allocation_daily" values (?, ?, ?, ?, ?)', bill[0]
    )  # September allocated exactly
    yield con
    con.close()


def _failures(con) -> list[tuple]:
    # September's daily partition: the billing window is August and September.
    return con.execute(_render("2024-09-01", "2024-09-02")).fetchall()


def test_a_billed_period_outside_the_window_without_allocation_passes(warehouse):
    assert _failures(warehouse) == []


def test_an_effective_cost_imbalance_inside_the_window_still_fails(warehouse):
    warehouse.execute(
        'update "fct_cost_allocation_daily" set effective_cost = effective_cost - 0.000000000001'
    )
    assert [r[:3] for r in _failures(warehouse)] == [("acct", _date("2024-09-01"), "USD")]


def test_an_unallocated_period_inside_the_window_fails(warehouse):
    warehouse.execute('delete from "fct_cost_allocation_daily"')
    assert [r[1] for r in _failures(warehouse)] == [_date("2024-09-01")]


def test_an_allocated_period_outside_the_window_is_still_checked(warehouse):
    warehouse.execute(
        "insert into \"fct_cost_allocation_daily\" values ('acct', '2024-10-01', 'USD', 0.01, 0)"
    )
    assert [r[1] for r in _failures(warehouse)] == [_date("2024-10-01")]


def _date(text: str):
    import datetime as dt

    return dt.date.fromisoformat(text)
