"""FOCUS 1.3 and 1.4 end to end: the hand-built fixtures through `unitcost run`.

The bill is tests/fixtures/billing/focus_1.3_gpu_reservations.csv and
focus_1.4_gpu_reservations.csv (December 2026, USD). The tiny registry's chat-8b claims the
two g6.12xlarge instances of the fixtures (i-0ccc, delivered with its origin charge and the
provider's split of it; i-0ddd, delivered as its split only); nothing claims the p5
capacity reservations, so their cost, used and unused, is unallocated. Every figure is
worked by hand from the fixture rows (tests/fixtures/billing/README.md).
"""

from __future__ import annotations

import datetime as dt
import shutil
from decimal import Decimal
from pathlib import Path

import pytest

from pipelines.runner import run
from pipelines.warehouse import connect

pytestmark = pytest.mark.slow

FIXTURES = Path(__file__).parents[1] / "fixtures"
START, END = dt.date(2026, 12, 1), dt.date(2026, 12, 3)
CR1 = "arn:aws:ec2:us-east-1:111122223333:capacity-reservation/cr-0a1"
CR2 = "arn:aws:ec2:us-east-1:111122223333:capacity-reservation/cr-0b2"


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory, dbt_manifest) -> Path:
    folder = tmp_path_factory.mktemp("focus13_run")
    registry = (FIXTURES / "registry_tiny.yaml").read_text()
    claims = "[i-0aaa000000000001, i-0aaa000000000002]"
    assert claims in registry
    (folder / "registry.yaml").write_text(registry.replace(claims, "[i-0ccc, i-0ddd]"))
    (folder / "billing").mkdir()
    # one account and period in two files: named as the two parts of one delivery
    for part, name in enumerate(
        ("focus_1.3_gpu_reservations.csv", "focus_1.4_gpu_reservations.csv")
    ):
        shutil.copy(FIXTURES / "billing" / name, folder / "billing" / f"focus-{part + 1:05d}.csv")
    config = folder / "unitcost.yaml"
    config.write_text(
        "duckdb_path: warehouse/w.duckdb\nregistry: registry.yaml\n"
        "sources:\n  billing: {location: billing, format: focus}\n"
    )
    with pytest.MonkeyPatch.context() as patch:
        for var in ("UNITCOST_DUCKDB", "UNITCOST_REGISTRY", "UNITCOST_CONFIG"):
            patch.delenv(var, raising=False)
        run(config, START, END)
    return folder / "warehouse" / "w.duckdb"


def _rows(path: Path, sql: str) -> list[tuple]:
    with connect(path, read_only=True) as con:
        return con.execute(sql).fetchall()


def test_every_row_is_stored_with_its_version(warehouse):
    assert _rows(
        warehouse,
        "select focus_version, count(*), sum(billed_cost) from raw.billing_line_items "
        "group by 1 order by 1",
    ) == [("1.3", 9, Decimal("413.28")), ("1.4", 4, Decimal("206.64"))]


def test_the_split_beside_its_origin_counts_once_and_the_bill_is_conserved(warehouse):
    # By hand: billed 413.28 + 206.64 = 619.92, less i-0ccc's split rows (7.50 + 2.00 +
    # 0.50 = 10.00), delivered beside their 10.00 origin = 609.92. Effective adds the unused
    # Reserved Instance hour's 3.40: 613.32. chat-8b holds i-0ccc (10.00, the origin once) and
    # i-0ddd (6.00 + 4.00, its split alone) = 20.00; the rest is unallocated: 589.92 billed.
    assert _rows(
        warehouse,
        "select allocation_kind, deployment_id, sum(billed_cost), sum(effective_cost) "
        "from marts.fct_cost_allocation_daily group by all order by all",
    ) == [
        ("allocated", "chat-8b", Decimal("20.00"), Decimal("20.00")),
        ("unallocated", None, Decimal("589.92"), Decimal("593.32")),
    ]
    assert _rows(
        warehouse,
        "select split_cost_role, counted_in_totals, count(*), sum(billed_cost) "
        "from staging.stg_billing__line_items where split_cost_role is not null "
        "group by all order by all",
    ) == [
        ("allocated", False, 2, Decimal("9.50")),
        ("allocated", True, 1, Decimal("6.00")),
        ("origin", True, 1, Decimal("10.00")),
        ("unallocated", False, 1, Decimal("0.50")),
        ("unallocated", True, 1, Decimal("4.00")),
    ]


def test_unused_reserved_gpu_capacity_in_dollars_per_day(warehouse):
    # By hand: cr-0a1 (p5.48xlarge, 8 H100) on 12-01: 3 used instance-hours x 98.32 =
    # 294.96 and 1 unused = 98.32, i.e. 24 and 8 GPU-hours; cr-0b2 on 12-02: 1 used, 1 unused.
    assert _rows(
        warehouse,
        "select usage_date, capacity_reservation_id, gpu_type, used_cost_usd, unused_cost_usd, "
        "used_gpu_hours, unused_gpu_hours from marts.fct_reserved_capacity_daily order by 1",
    ) == [
        (START, CR1, "h100-sxm", Decimal("294.96"), Decimal("98.32"), Decimal(24), Decimal(8)),
        (
            START + dt.timedelta(days=1),
            CR2,
            "h100-sxm",
            Decimal("98.32"),
            Decimal("98.32"),
            Decimal(8),
            Decimal(8),
        ),
    ]
