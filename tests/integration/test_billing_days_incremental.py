"""Allocation is incremental per day inside the billing window (issue 13, point 4): a daily
run re-cuts and re-allocates its own day and the days whose billing lines changed, not the
whole billing period, and the result still sums to the bill.

On a copy of the small fleet's warehouse, every stored piece and allocated GPU-hour of the
second day is marked (a value no build writes); dbt then rebuilds the first day's window.
Unchanged, the second day keeps its marks: it was not rebuilt. After one of its GPU lines
is restated (+1 in the raw bill), the next run of the first day rebuilds it too, and the
allocation's total moves by exactly that dollar.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
from decimal import Decimal

import duckdb
import pytest

from pipelines.dbt_project import DBT_EXECUTABLE, DBT_PROJECT_DIR
from tests.integration.conftest import SMALL_FLEET_START

pytestmark = pytest.mark.slow

FIRST = str(SMALL_FLEET_START)
SECOND = str(SMALL_FLEET_START + dt.timedelta(days=1))  # the small fleet's other day
MODELS = ["int_billing__cost_pieces", "int_allocation__gpu_hours", "fct_cost_allocation_daily"]
# Tests that compare the allocation with marts this build does not rebuild: after the bill
# is changed below, the tenant mart still holds the old cost (a full run rebuilds both).
NOT_REBUILT = ["assert_cost_by_tenant_conserves_deployment_days"]


def _build_first_day(duckdb_path, target) -> None:
    window = {"min_date": FIRST, "max_date": SECOND}
    common = ["--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir", str(DBT_PROJECT_DIR)]
    result = subprocess.run(
        [DBT_EXECUTABLE, "build", "--select", *MODELS, "--exclude", "test_type:unit", *NOT_REBUILT,
         "--vars", json.dumps(window), *common, "--target-path", str(target)],
        env={**os.environ, "UNITCOST_DUCKDB": str(duckdb_path),
             "UNITCOST_DBT_MIN_DATE": FIRST, "UNITCOST_DBT_MAX_DATE": SECOND},
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-3000:]


def _marks(con) -> dict[str, int]:
    """Rows of each day still carrying the test's mark."""
    return dict(
        con.execute(
            "select cast(usage_date as varchar), count(*) filter (where source_line = -7) "
            "from intermediate.int_billing__cost_pieces group by 1 order by 1"
        ).fetchall()
    )


def _allocated_total(con) -> Decimal:
    query = "select sum(effective_cost) from marts.fct_cost_allocation_daily"
    return con.execute(query).fetchone()[0]


def test_a_daily_run_rebuilds_its_day_and_the_days_whose_bill_changed(small_fleet, tmp_path):
    warehouse = tmp_path / "unitcost.duckdb"  # the same file name: the catalog is named after it
    shutil.copy(small_fleet[0] / "unitcost.duckdb", warehouse)
    with duckdb.connect(str(warehouse)) as con:
        con.execute(
            "update intermediate.int_billing__cost_pieces set source_line = -7 "
            "where usage_date in (?, ?)",
            [FIRST, SECOND],
        )
        con.execute(
            "update intermediate.int_allocation__gpu_hours set line_key = -7 where usage_date = ?",
            [SECOND],
        )
        pieces = _marks(con)
        bill = con.execute("select sum(effective_cost) from raw.billing_line_items").fetchone()[0]
    assert pieces[FIRST] > 0 and pieces[SECOND] > 0

    _build_first_day(warehouse, tmp_path / "target")
    with duckdb.connect(str(warehouse), read_only=True) as con:
        after = _marks(con)
        (gpu_marks,) = con.execute(
            "select count(*) from intermediate.int_allocation__gpu_hours where line_key = -7"
        ).fetchone()
        assert _allocated_total(con) == bill
    assert after[FIRST] == 0  # the window's day is always rebuilt
    assert after[SECOND] == pieces[SECOND] and gpu_marks > 0  # an unchanged day is not

    with duckdb.connect(str(warehouse)) as con:
        source_file, source_line = con.execute(
            "select source_file, source_line from raw.billing_line_items "
            "where cast(charge_period_start as date) = ? and instance_type is not null "
            "and effective_cost > 0 order by source_file, source_line limit 1",
            [SECOND],
        ).fetchone()
        con.execute(
            "update raw.billing_line_items set effective_cost = effective_cost + 1 "
            "where source_file = ? and source_line = ?",
            [source_file, source_line],
        )
    _build_first_day(warehouse, tmp_path / "target")
    with duckdb.connect(str(warehouse), read_only=True) as con:
        assert _marks(con)[SECOND] == 0  # its bill changed: rebuilt
        (gpu_marks,) = con.execute(
            "select count(*) from intermediate.int_allocation__gpu_hours where line_key = -7"
        ).fetchone()
        assert gpu_marks == 0
        assert _allocated_total(con) == bill + 1
