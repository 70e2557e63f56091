"""Case 5's count of identical rows (``commit._counts``) on a hand-made period: equal rows
are found by a row hash and confirmed on their values, NULLs equal to NULLs; rows that
differ in one value (or in NULL against a value) are not identical; file and line are not
part of a row's identity; another period's rows are not counted."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import duckdb
import pyarrow as pa

from pipelines.ingest.billing.commit import _counts
from pipelines.ingest.billing.load import _empty_items

NOV, DEC = dt.date(2026, 11, 1), dt.date(2026, 12, 1)


def _items(rows: list[dict]) -> pa.Table:
    schema = _empty_items().schema
    return pa.Table.from_pylist(
        [{name: row.get(name) for name in schema.names} for row in rows], schema
    )


def test_identical_rows_counted_by_value_not_by_file_or_line():
    base = {"billing_period": NOV, "billing_account_id": "1", "billed_cost": Decimal("2.5")}
    rows = [
        {**base, "source_file": "a.csv", "source_line": 2},
        {**base, "source_file": "a.csv", "source_line": 3},  # = line 2
        {**base, "source_file": "b.csv", "source_line": 2},  # = line 2, another file
        {**base, "billed_cost": Decimal("2.6"), "source_line": 4},  # one value differs
        {**base, "resource_id": "i-1", "source_line": 5},  # a value where the others have NULL
        {**base, "resource_id": "i-1", "source_line": 6},  # = line 5
        {**base, "billing_period": DEC, "source_line": 7},  # another period
    ]
    con = duckdb.connect()
    con.register("_items", _items(rows))
    # November: 6 rows; lines 3 and b.csv:2 repeat line 2 (2), line 6 repeats line 5 (1)
    assert _counts(con, NOV) == (6, 3)
    assert _counts(con, DEC) == (1, 0)
    assert _counts(con, dt.date(2027, 1, 1)) == (0, 0)
