"""RELIABILITY case 8 end to end: one account billed in EUR and USD (a hand-made FOCUS file)
for the two-deployment fixture registry, through `unitcost run`.

Without a configured rate the run fails at ingest naming the currency and the file, and
nothing of the bill is loaded. With ``billing.fx_rates_usd`` EUR 1.0834 from 2026-10-01 the
allocation mart keeps each currency apart and conserves it, and the $/token mart, the
recommendation engine's inputs and the weekly report's held cost hold the hand-computed USD
figure. chat-8b claims both L4 instances whole (cloud_resource_ids) and has no telemetry or
requests: its GPU-hours are allocated whole (unobserved), busy = held. The two runs are made
once, for every test here (each costs ~30 s).
"""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import io
import shutil
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pytest

from pipelines.recommend.warehouse_inputs import load_warehouse_inputs
from pipelines.report.tables import load_tables
from pipelines.runner import RunError, run
from pipelines.warehouse import connect

pytestmark = pytest.mark.slow

FIXTURES = Path(__file__).parents[1] / "fixtures"
SAMPLE = FIXTURES / "billing" / "focus_1.0_sample_1000.csv.gz"
DAY, NEXT = dt.date(2026, 11, 2), dt.date(2026, 11, 3)
L4_HOUR = "$0.8048 per On Demand Linux g6.xlarge Instance Hour"  # names the instance type
LINES = [
    # chat-8b's first instance, the whole day, in EUR: 24.00 billed, 20.00 effective
    {"BillingCurrency": "EUR", "ResourceId": "i-0aaa000000000001", "ChargeDescription": L4_HOUR,
     "BilledCost": "24.00", "EffectiveCost": "20.00"},
    # its second instance, in USD: 10.00
    {"BillingCurrency": "USD", "ResourceId": "i-0aaa000000000002", "ChargeDescription": L4_HOUR,
     "BilledCost": "10.00", "EffectiveCost": "10.00"},
    # a EUR support fee nobody claims: kept at period level, unallocated
    {"BillingCurrency": "EUR", "ResourceId": "", "ChargeCategory": "Purchase",
     "ChargeFrequency": "Recurring", "ChargeDescription": "Support", "BilledCost": "5.00",
     "EffectiveCost": "5.00"},
]  # fmt: skip


def _write_bill(folder: Path) -> Path:
    rows = list(csv.reader(io.StringIO(gzip.decompress(SAMPLE.read_bytes()).decode())))
    header, base = rows[0], dict(zip(rows[0], rows[1], strict=True))
    base |= {
        "BillingAccountId": "acct-1",
        "BillingPeriodStart": "2026-11-01T00:00:00Z",
        "BillingPeriodEnd": "2026-12-01T00:00:00Z",
        "ChargePeriodStart": "2026-11-02T00:00:00Z",
        "ChargePeriodEnd": "2026-11-03T00:00:00Z",
        "ChargeFrequency": "Usage-Based",
        "ListCost": "0",
        "ContractedCost": "0",
    }
    out = io.StringIO(newline="")
    writer = csv.writer(out)
    writer.writerow(header)
    for line in LINES:
        writer.writerow([{**base, **line}[name] for name in header])
    folder.mkdir(parents=True)
    path = folder / "focus-2026-11.csv"
    path.write_text(out.getvalue())
    return path


def _rows(path: Path, sql: str) -> list[tuple]:
    with connect(path, read_only=True) as con:
        return con.execute(sql).fetchall()


@dataclass(frozen=True)
class EurRun:
    bill: Path
    error_without_rate: str  # the first run's, without billing.fx_rates_usd
    raw_rows_without_rate: list[tuple]
    warehouse: Path  # after the second run, with EUR 1.0834


@pytest.fixture(scope="module")
def eur_run(tmp_path_factory, dbt_manifest) -> EurRun:
    """The tiny registry (as the ``tiny_config`` fixture) billed by ``LINES``: run without a
    rate for EUR, then with one."""
    folder = tmp_path_factory.mktemp("currency_run")
    shutil.copy(FIXTURES / "registry_tiny.yaml", folder / "registry_tiny.yaml")
    config_path = folder / "unitcost.yaml"
    config = (
        "duckdb_path: warehouse/tiny.duckdb\nregistry: registry_tiny.yaml\n"
        "sources:\n  billing: {location: billing, format: focus}\n"
    )
    config_path.write_text(config)
    bill = _write_bill(folder / "billing")
    duckdb_path = folder / "warehouse" / "tiny.duckdb"
    with pytest.MonkeyPatch.context() as patch:
        for var in ("UNITCOST_DUCKDB", "UNITCOST_REGISTRY", "UNITCOST_CONFIG"):
            patch.delenv(var, raising=False)
        with pytest.raises(RunError) as err:
            run(config_path, DAY, NEXT)
        raw_rows = _rows(duckdb_path, "select count(*) from raw.billing_line_items")
        config_path.write_text(
            config + 'billing:\n  fx_rates_usd:\n    EUR: [{from: 2026-10-01, rate: "1.0834"}]\n'
        )
        run(config_path, DAY, NEXT)
    return EurRun(bill, str(err.value), raw_rows, duckdb_path)


def test_a_eur_bill_fails_without_a_rate_and_lands_in_usd_with_one(eur_run):
    assert (
        f"{eur_run.bill}:2: BillingCurrency: billing currency EUR has no configured rate to "
        "USD for billing period 2026-11"
    ) in eur_run.error_without_rate
    assert eur_run.raw_rows_without_rate == [(0,)]
    duckdb_path = eur_run.warehouse

    # allocation stays in the bill's currency and conserves each one: EUR 24 + 5, USD 10
    allocation = _rows(
        duckdb_path,
        "select billing_currency, allocation_kind, deployment_id, sum(billed_cost), "
        "sum(effective_cost) from marts.fct_cost_allocation_daily group by all order by all",
    )
    assert allocation == [
        ("EUR", "allocated", "chat-8b", Decimal("24"), Decimal("20")),
        ("EUR", "unallocated", None, Decimal("5"), Decimal("5")),
        ("USD", "allocated", "chat-8b", Decimal("10"), Decimal("10")),
    ]
    # $/token, by hand: 20.00 EUR x 1.0834 = 21.668 USD, + 10.00 USD = 31.668 USD on both
    # bases (no telemetry: held = busy); no requests, so no per-token price
    per_token = _rows(
        duckdb_path,
        "select usage_date, deployment_id, cost_basis, cost_usd, split_method "
        "from marts.fct_cost_per_token_daily order by all",
    )
    assert per_token == [
        (DAY, "chat-8b", "allocation", Decimal("31.668"), "none"),
        (DAY, "chat-8b", "usage", Decimal("31.668"), "none"),
    ]


def test_recommendations_and_the_report_count_a_eur_bill_at_its_periods_rate(eur_run):
    """By hand: 20.00 EUR x 1.0834 = 21.668 USD effective (24.00 EUR x 1.0834 = 26.0016 USD
    billed) + 10.00 USD, over 2 instances x 1 L4 x 24 h = 48 GPU-hours. Read USD lines only,
    the engine priced chat-8b at 10 / 24 USD per GPU-hour and the report held 10 USD."""
    with connect(eur_run.warehouse, read_only=True) as con:
        inputs = load_warehouse_inputs(con, DAY, NEXT)
        held = load_tables(con, DAY).deployments.filter(deployment_id="chat-8b")

    assert inputs.configs["chat-8b"].usd_per_gpu_hour == pytest.approx(31.668 / 48, rel=1e-15)
    assert inputs.idle_instances == ()  # chat-8b holds both instances
    # which commitment paid: on demand, both currencies; DECIMAL(38,12) throughout (a float
    # on the way would show as 31.668, not to 12 places)
    (chat,) = inputs.commitments
    assert (chat.deployment_id, chat.commitment_id, chat.gpu_hours) == ("chat-8b", None, 48.0)
    assert (str(chat.effective_cost_usd), str(chat.billed_cost_usd)) == (
        "31.668000000000",
        "36.001600000000",
    )
    # the weekly report: no efficiency row (no requests), so the deployment shows what it held
    assert held.select("held_cost_usd", "gpu_hours").rows() == [(Decimal("31.668"), 48.0)]
