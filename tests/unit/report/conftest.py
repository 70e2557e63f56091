"""A hand-built warehouse (tests/fixtures/report/warehouse.sql) and its report tables."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from pipelines.report.tables import ReportTables, load_tables
from pipelines.warehouse import connect

FIXTURE = Path(__file__).parents[2] / "fixtures" / "report" / "warehouse.sql"
LAST_DAY = dt.date(2026, 11, 7)


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("report") / "unitcost.duckdb"
    with connect(path) as con:
        con.execute(FIXTURE.read_text())
    return path


@pytest.fixture(scope="module")
def tables(warehouse) -> ReportTables:
    with connect(warehouse, read_only=True) as con:
        return load_tables(con, LAST_DAY)
