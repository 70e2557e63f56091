"""sql/analysts/tenant_showback.sql on a hand-checked fixture of marts.fct_cost_by_tenant_daily."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import duckdb

QUERY = Path(__file__).resolve().parents[2] / "sql" / "analysts" / "tenant_showback.sql"

# (usage_date, deployment_id, cost_basis, tenant, requests, gpu_seconds, input, output, cost)
ROWS = [
    ("2026-11-01", "d1", "allocation", "search", 10, 3600.0, 9000, 1000, "30.00"),
    ("2026-11-01", "d1", "allocation", "support", 5, 1800.0, 4000, 1000, "15.00"),
    ("2026-11-01", "d1", "allocation", "unattributed", 1, 0.0, 0, 0, "5.00"),
    ("2026-11-02", "d1", "allocation", "search", 10, 3600.0, 9000, 1000, "30.00"),
    ("2026-11-02", "d2", "allocation", "support", 2, 7200.0, 2000, 0, "20.00"),
    # outside the period or on the other basis: never counted
    ("2026-11-03", "d1", "allocation", "search", 99, 1.0, 1, 1, "999.00"),
    ("2026-10-31", "d1", "allocation", "search", 99, 1.0, 1, 1, "999.00"),
    ("2026-11-01", "d1", "usage", "search", 10, 3600.0, 9000, 1000, "7.00"),
]


def _warehouse() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute("create schema marts")
    con.execute(
        "create table marts.fct_cost_by_tenant_daily (usage_date date, deployment_id varchar, "
        "cost_basis varchar, tenant varchar, requests bigint, gpu_seconds double, "
        "input_tokens bigint, output_tokens bigint, cost_usd decimal(38, 12))"
    )
    con.executemany(
        "insert into marts.fct_cost_by_tenant_daily values (?, ?, ?, ?, ?, ?, ?, ?, ?)", ROWS
    )
    return con


def _run(cost_basis: str = "allocation") -> list[tuple]:
    con = _warehouse()
    # the window 2026-11-01 .. 2026-11-02: two days ending on the 2nd (session variables,
    # sql/README.md)
    con.execute("set variable window_days = 2")
    con.execute("set variable end_date = DATE '2026-11-02'")
    if cost_basis != "allocation":  # the default
        con.execute("set variable cost_basis = ?", [cost_basis])
    return con.execute(QUERY.read_text()).fetchall()


def test_unset_variables_take_the_defaults():
    # 30 days ending on the mart's newest day (2026-11-03): all allocation rows but none
    # before 2026-10-05, so the 999.00 rows of 11-03 and 10-31 count: search is 60 + 1,998.
    con = _warehouse()
    rows = con.execute(QUERY.read_text()).fetchall()
    assert rows[0][0] == "search" and rows[0][7] == Decimal("2058.00")


def test_showback_per_tenant_and_deployment_by_hand():
    rows = _run()
    # search: d1 on 11-01 and 11-02: 20 requests, 2 GPU-h, 18,000 + 2,000 tokens, $60.00 of
    # the period's $100.00 (60 %), $60 / 20,000 tokens = $3,000 per 1M tokens.
    # support: d2 $20.00 (2 GPU-h, 2,000 tokens: $10,000 per 1M) before d1 $15.00 (0.5 GPU-h,
    # 5,000 tokens: $3,000 per 1M); tenant total $35.00.
    # unattributed: $5.00, no tokens: no price.
    assert rows == [
        ("search", "d1", 20, 2.0, 18000, 2000, Decimal("60.00"), Decimal("60.00"), 0.6,
         Decimal("3000.000000")),
        ("support", "d2", 2, 2.0, 2000, 0, Decimal("20.00"), Decimal("35.00"), 0.2,
         Decimal("10000.000000")),
        ("support", "d1", 5, 0.5, 4000, 1000, Decimal("15.00"), Decimal("35.00"), 0.15,
         Decimal("3000.000000")),
        ("unattributed", "d1", 1, 0.0, 0, 0, Decimal("5.00"), Decimal("5.00"), 0.05, None),
    ]  # fmt: skip


def test_the_usage_basis_is_its_own():
    assert [(r[0], r[6]) for r in _run("usage")] == [("search", Decimal("7.00"))]
