"""The analysts' queries in sql/analysts/ on a hand-built warehouse, value by value.

The fixture's tables are created from the marts' yml (models/marts/*.yml: every column with
its contract data_type), so a query naming a column the real mart does not have fails here;
the rows fill only the columns the queries read. Every expected value is worked out by hand
in the comments beside it. The fixture days: 2026-11-10 is a Tuesday, 2026-11-09, 11-02 and
10-19 are Mondays.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
import yaml

from pipelines.summary import ANALYSTS_SQL_DIR, OPS_SQL_DIR

ROOT = Path(__file__).parents[2]
MARTS_YML = sorted((ROOT / "models" / "marts").glob("*.yml"))
BILLING_YML = ROOT / "models" / "staging" / "billing" / "_billing__models.yml"
D = Decimal
day = dt.date.fromisoformat

# The only non-mart view an analysts' query reads (billing_reconciliation.sql):
# intermediate.int_billing__line_items, the cloud bill's staging lines and the on-prem lines
# in the staging model's columns (union by name). Its yml has no data types, so they are
# written here; the names are checked against the staging model's yml below.
LINE_ITEMS_COLUMNS = {
    "billing_account_id": "varchar",
    "billing_period": "date",
    "billing_currency": "varchar",
    "billed_cost": "decimal(38,12)",
    "effective_cost": "decimal(38,12)",
}

# A query whose values its own module checks (tests/unit/test_tenant_showback_sql.py).
TESTED_ELSEWHERE = {"tenant_showback.sql"}


def _yml_models(paths) -> dict[str, list[dict]]:
    models = {}
    for path in paths:
        for model in (yaml.safe_load(path.read_text()) or {}).get("models", []):
            models[model["name"]] = model.get("columns", [])
    return models


def _create_marts(con) -> None:
    """Every mart whose yml types all its columns (the contract ones), empty."""
    con.execute("create schema marts")
    for name, columns in _yml_models(MARTS_YML).items():
        if columns and all("data_type" in c for c in columns):
            cols = ", ".join(f'"{c["name"]}" {c["data_type"]}' for c in columns)
            con.execute(f"create table marts.{name} ({cols})")
    con.execute("create schema intermediate")
    cols = ", ".join(f'"{n}" {t}' for n, t in LINE_ITEMS_COLUMNS.items())
    con.execute(f"create table intermediate.int_billing__line_items ({cols})")


def _insert(con, table: str, rows: list[dict]) -> None:
    for row in rows:
        names = ", ".join(f'"{k}"' for k in row)
        marks = ", ".join("?" for _ in row)
        con.execute(f"insert into {table} ({names}) values ({marks})", list(row.values()))


DEPLOYMENTS = [
    # deployment_id, team, llm_id, gpu_type, gpu_count, weight_precision
    ("dep-a", "search", "llama-8b", "h100", 4, "bf16"),
    ("dep-b", "search", "qwen-32b", "a100", 2, "bf16"),
    ("dep-c", "chat", "llama-70b", "h100", 8, "fp8"),
    ("dep-d", None, "mixtral", "l4", 1, "bf16"),
    ("dep-e", "search", "llama-8b", "h100", 4, "bf16"),  # declared, no cost rows
]


def _tok(date, dep, basis, cost, inp, out, in_cost, out_cost, split):
    return {
        "usage_date": day(date), "deployment_id": dep, "llm_id": f"llm-of-{dep}",
        "cost_basis": basis, "cost_usd": D(cost), "input_tokens": inp, "output_tokens": out,
        "input_cost_usd": None if in_cost is None else D(in_cost),
        "output_cost_usd": None if out_cost is None else D(out_cost), "split_method": split,
    }  # fmt: skip


COST_PER_TOKEN = [
    # date, deployment, basis, cost, input tokens, output tokens, input cost, output cost
    _tok("2026-11-10", "dep-a", "allocation", "30", 2_000_000, 500_000, "10", "20", "gpu_time"),
    _tok("2026-11-09", "dep-a", "allocation", "20", 1_000_000, 500_000, "6", "14", "token_ratio"),
    _tok("2026-11-03", "dep-a", "allocation", "100", 1_000_000, 100_000, "20", "80", "gpu_time"),
    _tok("2026-11-10", "dep-a", "usage", "25", 2_000_000, 500_000, "8", "17", "gpu_time"),
    _tok("2026-11-10", "dep-b", "allocation", "12", 1_000_000, 200_000, "4", "8", "gpu_time"),
    _tok("2026-10-20", "dep-b", "allocation", "10", 1_000_000, 100_000, "2", "8", "gpu_time"),
    _tok("2026-11-08", "dep-c", "allocation", "9", 0, 0, None, None, "none"),
    _tok("2026-11-05", "dep-d", "allocation", "7", 100_000, 100_000, "1", "6",
         "token_ratio_default"),
]  # fmt: skip


def _alloc(date, period, account, currency, kind, dep, hours, effective, billed):
    return {
        "usage_date": day(date), "billing_period": day(period), "billing_account_id": account,
        "billing_currency": currency, "allocation_kind": kind, "deployment_id": dep,
        "gpu_hours": hours, "effective_cost": D(effective), "billed_cost": D(billed),
    }  # fmt: skip


ALLOCATION = [
    _alloc("2026-11-10", "2026-11-01", "acct-1", "USD", "allocated", "dep-a", 60.0, "30", "36"),
    _alloc("2026-11-10", "2026-11-01", "acct-1", "USD", "idle", "dep-a", 36.0, "18", "21.60"),
    _alloc("2026-11-10", "2026-11-01", "acct-1", "USD", "allocated", "dep-b", 20.0, "10", "10"),
    _alloc("2026-11-10", "2026-11-01", "acct-1", "USD", "idle", "dep-b", 28.0, "14", "14"),
    _alloc("2026-11-10", "2026-11-01", "acct-1", "USD", "allocated", "dep-c", 100.0, "80", "80"),
    _alloc("2026-11-10", "2026-11-01", "acct-1", "USD", "unallocated", None, 12.0, "99", "99"),
    _alloc("2026-11-09", "2026-11-01", "acct-2", "EUR", "idle", "dep-d", 24.0, "5", "5"),
    # 30 days before 2026-11-10: just outside the default window of idle_cost_by_team
    _alloc("2026-10-11", "2026-10-01", "acct-1", "USD", "idle", "dep-a", 10.0, "1000", "1000"),
]  # fmt: skip

LINE_ITEMS = [
    # acct-1 November: 200.00 + 60.60 = 260.60 billed, 191 + 60 = 251 effective
    {"billing_account_id": "acct-1", "billing_period": day("2026-11-01"),
     "billing_currency": "USD", "billed_cost": D("200.00"), "effective_cost": D("191")},
    {"billing_account_id": "acct-1", "billing_period": day("2026-11-01"),
     "billing_currency": "USD", "billed_cost": D("60.60"), "effective_cost": D("60")},
    # acct-1 October: the bill is a cent above what was allocated
    {"billing_account_id": "acct-1", "billing_period": day("2026-10-01"),
     "billing_currency": "USD", "billed_cost": D("1000.01"), "effective_cost": D("1000")},
    {"billing_account_id": "acct-2", "billing_period": day("2026-11-01"),
     "billing_currency": "EUR", "billed_cost": D("5"), "effective_cost": D("5")},
]  # fmt: skip


def _eff(date, dep, ratio, actual, modelled):
    return {
        "usage_date": day(date), "deployment_id": dep, "llm_id": f"llm-of-{dep}",
        "modelled_to_actual_ratio": ratio,
        "actual_usage_cost_usd": None if actual is None else D(actual),
        "modelled_cost_usd": None if modelled is None else D(modelled),
        "efficiency_source": "calibrated", "requests": 1000,
    }  # fmt: skip


EFFICIENCY = [
    _eff("2026-11-10", "dep-a", 0.7, "100", "70"),  # outlier, factor 1/0.7 = 1.43 low
    _eff("2026-11-10", "dep-b", 1.3, "100", "130"),  # outlier, factor 1.3 high
    _eff("2026-11-09", "dep-c", 0.8, "100", "80"),  # on the low bound: inside
    _eff("2026-11-10", "dep-c", 1.25, "100", "125"),  # on the high bound: inside
    _eff("2026-11-08", "dep-d", 0.0, "50", "0"),  # modelled nothing: the most extreme
    _eff("2026-11-07", "dep-b", None, "0", "10"),  # no measured busy cost: no ratio
    _eff("2026-10-13", "dep-a", 3.0, "10", "30"),  # 28 days before 11-10: outside the window
]  # fmt: skip


def _rec(as_of, dep, kind, current, proposed, savings, cash, deferred, target, end=None):
    return {
        "as_of_date": day(as_of), "deployment_id": dep, "kind": kind, "summary": f"{kind} {dep}",
        "current_daily_cost_usd": D(current), "proposed_daily_cost_usd": D(proposed),
        "monthly_savings_usd": D(savings), "cash_monthly_savings_usd": D(cash),
        "deferred_monthly_savings_usd": D(deferred), "confidence": 0.5, "target": target,
        "commitment_end_date": None if end is None else day(end),
        "is_latest": as_of == "2026-11-10",
    }  # fmt: skip


TARGET_A = (
    "gpu_id=h100, kv_cache_precision=fp8, num_gpus=2, tensor_parallel=1, weight_precision=fp8"
)
TARGET_B = (
    "gpu_id=a100, kv_cache_precision=bf16, num_gpus=1, tensor_parallel=1, weight_precision=int8"
)
RECOMMENDATIONS = [
    # monthly savings as the engine writes them: (current - proposed) x 365 / 12 to the cent,
    # half to even. dep-a: 600.006 x 365 / 12 = 219002.19 / 12 = 18250.1825 -> 18250.18
    _rec("2026-11-10", "dep-a", "quantize", "1200.012", "600.006", "18250.18", "18250.18", "0",
         TARGET_A),
    # dep-b: 50 x 365 / 12 = 1520.8333 -> 1520.83, of which 520.83 only after 2027-03-31
    _rec("2026-11-10", "dep-b", "quantize", "100", "50", "1520.83", "1000.00", "520.83",
         TARGET_B, end="2027-03-31"),
    _rec("2026-11-10", "dep-c", "right_size", "500", "250", "7604.17", "7604.17", "0",
         "gpu_id=h100, num_gpus=4"),
    # an older run: 5 x 365 / 12 = 152.0833 -> 152.08
    _rec("2026-11-03", "dep-a", "quantize", "10", "5", "152.08", "152.08", "0", TARGET_A),
]  # fmt: skip


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("analysts") / "analytics.duckdb"
    with duckdb.connect(str(path)) as con:
        _create_marts(con)
        _insert(con, "marts.dim_deployments", [
            {"deployment_id": d, "team": t, "llm_id": m, "gpu_type": g, "gpu_count": n,
             "weight_precision": w, "api_eligible": False}
            for d, t, m, g, n, w in DEPLOYMENTS
        ])  # fmt: skip
        _insert(con, "marts.fct_cost_per_token_daily", COST_PER_TOKEN)
        _insert(con, "marts.fct_cost_allocation_daily", ALLOCATION)
        _insert(con, "intermediate.int_billing__line_items", LINE_ITEMS)
        _insert(con, "marts.fct_efficiency_daily", EFFICIENCY)
        _insert(con, "marts.fct_recommendations", RECOMMENDATIONS)
    return path


def run(warehouse: Path, query: str, **variables) -> list[dict]:
    """sql/analysts/<query> on a read-only connection, as an analyst runs it: parameters
    are session variables set before it (sql/README.md)."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        for name, value in variables.items():
            con.execute(f"set variable {name} = ?", [value])
        cursor = con.execute((ANALYSTS_SQL_DIR / query).read_text())
        names = [c[0] for c in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def pick(rows: list[dict], *columns: str) -> list[tuple]:
    return [tuple(row[c] for c in columns) for row in rows]


# --- the layout and the headers ---------------------------------------------------------


ANALYST_QUERIES = sorted(p.name for p in ANALYSTS_SQL_DIR.glob("*.sql"))
HEADER_FIELDS = ("Purpose:", "Marts used:", "Parameters", "Database:")


def test_analysts_and_ops_queries_are_apart():
    assert {p.name for p in OPS_SQL_DIR.glob("*.sql")} == {"warehouse_tables.sql"}
    assert not list(ANALYSTS_SQL_DIR.parent.glob("*.sql")), "a query outside analysts/, ops/"
    assert {
        "billing_reconciliation.sql", "cost_per_token_by_deployment.sql", "fleet_overview.sql",
        "idle_and_unallocated_cost.sql", "cost_per_token_league.sql", "idle_cost_by_team.sql",
        "weekly_trend.sql", "modelled_vs_actual_outliers.sql", "quantization_what_if.sql",
    } <= set(ANALYST_QUERIES)  # fmt: skip


@pytest.mark.parametrize("query", ANALYST_QUERIES)
def test_every_analyst_query_has_the_header(query):
    text = (ANALYSTS_SQL_DIR / query).read_text()
    header = "\n".join(re.findall(r"^--.*$", text.split("\nwith ")[0].split("\nselect")[0], re.M))
    for field in HEADER_FIELDS:
        assert re.search(rf"^-- {field}", header, re.M), f"{query}: no '-- {field}' line"
    assert "read-only" in header and "unitcost.analytics.duckdb" in header, query
    # every variable the query reads is named in its header, and has a default
    for name in re.findall(r"getvariable\('(\w+)'\)", text):
        assert re.search(rf"^--\s+{name}\s", header, re.M), f"{query}: {name} not in header"
        assert re.search(rf"coalesce\(\s*getvariable\('{name}'\)", text), f"{query}: {name}"


def test_line_items_columns_are_the_staging_models():
    names = {c["name"] for c in _yml_models([BILLING_YML])["stg_billing__line_items"]}
    assert set(LINE_ITEMS_COLUMNS) <= names


@pytest.mark.parametrize("query", ANALYST_QUERIES)
def test_every_analyst_query_runs_on_the_marts_columns(warehouse, query):
    """Tables with exactly the yml's columns: an unknown column is a Binder Error here."""
    run(warehouse, query)


def test_every_analyst_query_has_a_values_test():
    tested = {
        name.removeprefix("test_").split("__")[0] + ".sql"
        for name in globals()
        if name.startswith("test_") and "__" in name
    }
    assert set(ANALYST_QUERIES) - TESTED_ELSEWHERE <= tested


# --- the existing four ------------------------------------------------------------------


def test_fleet_overview__gpus_per_type_and_team(warehouse):
    rows = run(warehouse, "fleet_overview.sql")
    assert pick(rows, "gpu_type", "team", "deployments", "gpus", "deployment_ids") == [
        # 8 GPUs each: dep-c alone, dep-a + dep-e (4 + 4); the tie goes by type, then team
        ("h100", "chat", 1, 8, "dep-c"),
        ("h100", "search", 2, 8, "dep-a, dep-e"),
        ("a100", "search", 1, 2, "dep-b"),
        ("l4", None, 1, 1, "dep-d"),
    ]


def test_cost_per_token_by_deployment__last_7_days_both_bases(warehouse):
    rows = run(warehouse, "cost_per_token_by_deployment.sql")
    columns = ("deployment_id", "cost_basis", "cost_usd", "input_tokens", "output_tokens",
               "usd_per_1m_input_tokens", "usd_per_1m_output_tokens", "split_methods")  # fmt: skip
    assert pick(rows, *columns) == [
        # 11-04..11-10: dep-a's 11-09 and 11-10 (11-03 is out): 20 + 30 = 50; input 6 + 10 =
        # $16 over 3M tokens = 5.333333333333 (truncated); output 14 + 20 = $34 over 1M
        ("dep-a", "allocation", D(50), 3_000_000, 1_000_000, D("5.333333333333"), D(34),
         "gpu_time, token_ratio"),
        # usage basis: $8 over 2M = 4, $17 over 0.5M = 34
        ("dep-a", "usage", D(25), 2_000_000, 500_000, D(4), D(34), "gpu_time"),
        # $4 over 1M = 4, $8 over 0.2M = 40 (its 10-20 row is weeks out)
        ("dep-b", "allocation", D(12), 1_000_000, 200_000, D(4), D(40), "gpu_time"),
        ("dep-c", "allocation", D(9), 0, 0, None, None, "none"),  # no tokens: no price
        # $1 over 0.1M = 10, $6 over 0.1M = 60
        ("dep-d", "allocation", D(7), 100_000, 100_000, D(10), D(60), "token_ratio_default"),
    ]  # fmt: skip
    assert all(isinstance(r["usd_per_1m_input_tokens"], Decimal | None) for r in rows)


def test_cost_per_token_by_deployment__window_ends_on_end_date(warehouse):
    # 11-03..11-09 (7 days): dep-a 100 + 20 = 120, dep-b's 11-10 is after the window
    rows = run(warehouse, "cost_per_token_by_deployment.sql", end_date=day("2026-11-09"))
    assert pick(rows, "deployment_id", "cost_basis", "cost_usd") == [
        ("dep-a", "allocation", D(120)),
        ("dep-c", "allocation", D(9)),
        ("dep-d", "allocation", D(7)),
    ]


def test_idle_and_unallocated_cost__per_period_currency_deployment_and_kind(warehouse):
    rows = run(warehouse, "idle_and_unallocated_cost.sql")
    columns = ("billing_period", "billing_currency", "deployment", "allocation_kind",
               "gpu_hours", "effective_cost", "billed_cost",
               "pct_of_period_effective_cost")  # fmt: skip
    # November USD effective: 30 + 18 + 10 + 14 + 80 + 99 = 251; each row's share of 251
    assert pick(rows, *columns) == [
        (day("2026-10-01"), "USD", "dep-a", "idle", 10.0, D(1000), D(1000), 100.0),
        (day("2026-11-01"), "EUR", "dep-d", "idle", 24.0, D(5), D(5), 100.0),
        (day("2026-11-01"), "USD", "(no deployment)", "unallocated", 12.0, D(99), D(99),
         39.44),  # 99 / 251 = 0.394422
        (day("2026-11-01"), "USD", "dep-c", "allocated", 100.0, D(80), D(80), 31.87),  # .318725
        (day("2026-11-01"), "USD", "dep-a", "allocated", 60.0, D(30), D(36), 11.95),  # .119522
        (day("2026-11-01"), "USD", "dep-a", "idle", 36.0, D(18), D("21.60"), 7.17),  # .071713
        (day("2026-11-01"), "USD", "dep-b", "idle", 28.0, D(14), D(14), 5.58),  # .055777
        (day("2026-11-01"), "USD", "dep-b", "allocated", 20.0, D(10), D(10), 3.98),  # .039841
    ]  # fmt: skip


def test_billing_reconciliation__allocated_next_to_the_bill(warehouse):
    rows = run(warehouse, "billing_reconciliation.sql")
    columns = ("billing_account_id", "billing_period", "billing_currency",
               "allocated_billed_cost", "idle_billed_cost", "unallocated_billed_cost",
               "total_billed_cost", "bill_billed_cost", "billed_difference",
               "effective_difference")  # fmt: skip
    assert pick(rows, *columns) == [
        # October: only dep-a's idle 1000 allocated, the bill says 1000.01: -0.01 missing
        ("acct-1", day("2026-10-01"), "USD", None, D(1000), None, D(1000), D("1000.01"),
         D("-0.01"), D(0)),
        # allocated 36 + 10 + 80 = 126, idle 21.60 + 14 = 35.60, unallocated 99:
        # 260.60 billed = the bill's 200.00 + 60.60; effective 251 = 191 + 60
        ("acct-1", day("2026-11-01"), "USD", D(126), D("35.60"), D(99), D("260.60"),
         D("260.60"), D(0), D(0)),
        ("acct-2", day("2026-11-01"), "EUR", None, D(5), None, D(5), D(5), D(0), D(0)),
    ]  # fmt: skip


# --- the league table -------------------------------------------------------------------


def test_cost_per_token_league__ranks_most_expensive_first(warehouse):
    rows = run(warehouse, "cost_per_token_league.sql")
    columns = ("output_rank", "input_rank", "deployment_id", "team", "gpu_type", "days",
               "cost_usd", "usd_per_1m_input_tokens", "usd_per_1m_output_tokens")  # fmt: skip
    # allocation basis, 11-04..11-10, prices as in cost_per_token_by_deployment above:
    # output $/1M: dep-d 60 > dep-b 40 > dep-a 34 > dep-c none (last)
    # input $/1M:  dep-d 10 > dep-a 5.33 > dep-b 4 > dep-c none (last)
    assert pick(rows, *columns) == [
        (1, 1, "dep-d", None, "l4", 1, D(7), D(10), D(60)),
        (2, 3, "dep-b", "search", "a100", 1, D(12), D(4), D(40)),
        (3, 2, "dep-a", "search", "h100", 2, D(50), D("5.333333333333"), D(34)),
        (4, 4, "dep-c", "chat", "h100", 1, D(9), None, None),
    ]  # fmt: skip


def test_cost_per_token_league__basis_and_window_are_parameters(warehouse):
    usage = run(warehouse, "cost_per_token_league.sql", cost_basis="usage")
    # only dep-a has usage-basis rows: $25, $8 / 2M = 4, $17 / 0.5M = 34
    assert pick(usage, "output_rank", "deployment_id", "cost_basis", "cost_usd",
                "usd_per_1m_input_tokens", "usd_per_1m_output_tokens") == [
        (1, "dep-a", "usage", D(25), D(4), D(34))
    ]  # fmt: skip
    eight = run(warehouse, "cost_per_token_league.sql", window_days=8)
    # 11-03..11-10 adds dep-a's 11-03: 100 + 20 + 30 = 150; output 80 + 14 + 20 = $114 over
    # 1.1M = 103.636363636363 (truncated): now dep-a is the most expensive per output token
    a = next(r for r in eight if r["deployment_id"] == "dep-a")
    assert (a["output_rank"], a["days"], a["cost_usd"], a["output_tokens"]) == (
        1, 3, D(150), 1_100_000)  # fmt: skip
    assert a["usd_per_1m_output_tokens"] == D("103.636363636363")


# --- idle cost by team ------------------------------------------------------------------


def test_idle_cost_by_team__idle_share_of_what_each_team_held(warehouse):
    rows = run(warehouse, "idle_cost_by_team.sql")
    columns = ("team", "billing_currency", "deployments", "held_gpu_hours", "idle_gpu_hours",
               "held_effective_cost", "idle_effective_cost", "idle_billed_cost",
               "idle_pct_of_held_cost")  # fmt: skip
    assert pick(rows, *columns) == [
        # dep-d has no team; all it held was idle
        ("(no team)", "EUR", 1, 24.0, 24.0, D(5), D(5), D(5), 100.0),
        # search = dep-a + dep-b: held 60 + 36 + 20 + 28 = 144 h, idle 36 + 28 = 64 h;
        # effective 30 + 18 + 10 + 14 = 72, idle 18 + 14 = 32 (32 / 72 = 44.44 %);
        # idle billed 21.60 + 14 = 35.60. dep-a's 10-11 idle 1000 is 30 days back: out
        ("search", "USD", 2, 144.0, 64.0, D(72), D(32), D("35.60"), 44.44),
        # chat = dep-c, no idle at all; the unallocated 99 is nobody's
        ("chat", "USD", 1, 100.0, 0.0, D(80), D(0), D(0), 0.0),
    ]  # fmt: skip


def test_idle_cost_by_team__window_is_a_parameter(warehouse):
    rows = run(warehouse, "idle_cost_by_team.sql", window_days=31)
    search = next(r for r in rows if r["team"] == "search")
    # with 10-11: idle 32 + 1000 = 1032 of 72 + 1000 = 1072 held: 96.268 %
    assert (search["idle_effective_cost"], search["held_effective_cost"]) == (D(1032), D(1072))
    assert search["idle_pct_of_held_cost"] == 96.27


# --- weekly trend -----------------------------------------------------------------------


def test_weekly_trend__week_over_week_spend_and_prices(warehouse):
    rows = run(warehouse, "weekly_trend.sql")
    columns = ("week_start", "days", "deployments", "cost_usd", "input_tokens",
               "output_tokens", "usd_per_1m_input_tokens", "usd_per_1m_output_tokens",
               "cost_change_usd", "cost_change_pct", "usd_per_1m_input_tokens_change_pct",
               "usd_per_1m_output_tokens_change_pct")  # fmt: skip
    assert pick(rows, *columns) == [
        # week of 10-19: dep-b's 10-20 alone: $2 / 1M = 2, $8 / 0.1M = 80; no week before
        (day("2026-10-19"), 1, 1, D(10), 1_000_000, 100_000, D(2), D(80),
         None, None, None, None),
        # week of 11-02: dep-a 11-03 (100), dep-d 11-05 (7), dep-c 11-08 (9) = 116;
        # input 1M + 0.1M, $20 + $1 = 21 / 1.1M = 19.090909090909; output 0.1M + 0.1M,
        # $80 + $6 = 86 / 0.2M = 430. The week of 10-26 has no rows: no change
        (day("2026-11-02"), 3, 3, D(116), 1_100_000, 200_000, D("19.090909090909"), D(430),
         None, None, None, None),
        # week of 11-09: dep-a 11-09 (20) + 11-10 (30), dep-b 11-10 (12) = 62 (usage rows
        # left out); input $6 + 10 + 4 = 20 / 4M = 5; output $14 + 20 + 8 = 42 / 1.2M = 35.
        # vs 11-02: 62 - 116 = -54 = -46.55 %; (5 - 19.0909) / 19.0909 = -73.81 %;
        # (35 - 430) / 430 = -91.86 %
        (day("2026-11-09"), 2, 2, D(62), 4_000_000, 1_200_000, D(5), D(35),
         D(-54), -46.55, -73.81, -91.86),
    ]  # fmt: skip


def test_weekly_trend__weeks_and_end_date_are_parameters(warehouse):
    one = run(warehouse, "weekly_trend.sql", weeks=1)
    # the week shown is still compared with the one before it, which is not shown
    assert pick(one, "week_start", "cost_usd", "cost_change_usd") == [
        (day("2026-11-09"), D(62), D(-54))
    ]
    monday = run(warehouse, "weekly_trend.sql", weeks=1, end_date=day("2026-11-09"))
    # up to Monday 11-09: dep-a's 20 only, a one-day week: 20 - 116 = -96
    assert pick(monday, "week_start", "days", "cost_usd", "cost_change_usd") == [
        (day("2026-11-09"), 1, D(20), D(-96))
    ]


# --- modelled vs actual outliers --------------------------------------------------------


def test_modelled_vs_actual_outliers__outside_the_band_most_extreme_first(warehouse):
    rows = run(warehouse, "modelled_vs_actual_outliers.sql")
    columns = ("usage_date", "deployment_id", "team", "direction", "modelled_to_actual_ratio",
               "actual_usage_cost_usd", "modelled_cost_usd")  # fmt: skip
    # band [0.8, 1.25], 10-14..11-10: dep-c's 0.8 and 1.25 are on the bounds (inside);
    # dep-b's 11-07 has no ratio; dep-a's 10-13 (3.0) is out of the window.
    # extremes: dep-d modelled 0 first, then dep-a 1 / 0.7 = 1.43, then dep-b 1.3
    assert pick(rows, *columns) == [
        (day("2026-11-08"), "dep-d", None, "modelled below actual", 0.0, D(50), D(0)),
        (day("2026-11-10"), "dep-a", "search", "modelled below actual", 0.7, D(100), D(70)),
        (day("2026-11-10"), "dep-b", "search", "modelled above actual", 1.3, D(100), D(130)),
    ]  # fmt: skip


def test_modelled_vs_actual_outliers__band_and_window_are_parameters(warehouse):
    narrow = run(warehouse, "modelled_vs_actual_outliers.sql", ratio_low=0.75, ratio_high=1.2)
    # 0.7 < 0.75, 1.3 and 1.25 > 1.2, 0.8 now inside; order 0, 1/0.7, 1.3, 1.25
    assert pick(narrow, "deployment_id", "modelled_to_actual_ratio") == [
        ("dep-d", 0.0), ("dep-a", 0.7), ("dep-b", 1.3), ("dep-c", 1.25)
    ]  # fmt: skip
    wide = run(warehouse, "modelled_vs_actual_outliers.sql", window_days=29)
    # 10-13..11-10 brings in dep-a's 3.0, the most extreme after the 0
    assert pick(wide, "usage_date", "modelled_to_actual_ratio")[:2] == [
        (day("2026-11-08"), 0.0), (day("2026-10-13"), 3.0)
    ]  # fmt: skip


# --- quantization what-if ---------------------------------------------------------------


def test_quantization_what_if__current_vs_quantized_per_month(warehouse):
    rows = run(warehouse, "quantization_what_if.sql")
    columns = ("deployment_id", "team", "current_weight_precision", "current_gpu_count",
               "quantized_weight_precision", "quantized_gpu_count", "current_monthly_cost_usd",
               "quantized_monthly_cost_usd", "monthly_savings_usd", "cash_monthly_savings_usd",
               "deferred_monthly_savings_usd", "commitment_end_date")  # fmt: skip
    assert pick(rows, *columns) == [
        # 1200.012 x 365 / 12 = 438004.38 / 12 = 36500.365: half to even -> 36500.36 (half
        # up would give .37); quantized = 36500.36 - 18250.18 = 18250.18. bf16 on 4 -> fp8 on 2
        ("dep-a", "search", "bf16", 4, "fp8", 2, D("36500.36"), D("18250.18"), D("18250.18"),
         D("18250.18"), D(0), None),
        # 100 x 365 / 12 = 3041.666.. -> 3041.67; 3041.67 - 1520.83 = 1520.84 (the proposed
        # 50 x 365 / 12 alone would round to 1520.83: the documented cent)
        ("dep-b", "search", "bf16", 2, "int8", 1, D("3041.67"), D("1520.84"), D("1520.83"),
         D("1000.00"), D("520.83"), day("2027-03-31")),
    ]  # fmt: skip
    # dep-c's right_size and the 11-03 run are not in it
    assert {r["as_of_date"] for r in rows} == {day("2026-11-10")}


def test_quantization_what_if__as_of_date_is_a_parameter(warehouse):
    rows = run(warehouse, "quantization_what_if.sql", as_of_date=day("2026-11-03"))
    # 10 x 365 / 12 = 304.1666.. -> 304.17; 304.17 - 152.08 = 152.09
    columns = ("deployment_id", "current_monthly_cost_usd", "quantized_monthly_cost_usd",
               "monthly_savings_usd")  # fmt: skip
    assert pick(rows, *columns) == [("dep-a", D("304.17"), D("152.09"), D("152.08"))]
