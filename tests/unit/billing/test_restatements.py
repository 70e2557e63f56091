"""Folders without manifests: a restatement saved beside its original replaces it (the newest
wins per account and period), parts of one delivery are summed, and two deliveries that cannot
be ordered fail naming both files (pipelines/ingest/billing/restate.py)."""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import io
import json
import os
from decimal import Decimal
from pathlib import Path

import pytest

from pipelines.ingest.billing.load import BillingSource, ingest_billing
from pipelines.ingest.billing.restate import delivery_key
from pipelines.ingest.errors import SourceError

SAMPLE = Path(__file__).parents[2] / "fixtures" / "billing" / "focus_1.0_sample_1000.csv.gz"
SEP, OCT = dt.date(2024, 9, 1), dt.date(2024, 10, 1)
# The sample's sums (fixtures/billing/README.md): 999 rows in 2024-09, 1 (0.24) in 2024-10.
SEP_BILLED, OCT_BILLED = Decimal("20.28022672899"), Decimal("0.24")
T0 = 1_700_000_000  # file times, set explicitly: the rule under test is "newest wins"


def _rows() -> tuple[list[str], list[list[str]]]:
    rows = list(csv.reader(io.StringIO(gzip.decompress(SAMPLE.read_bytes()).decode())))
    return rows[0], rows[1:]


def _write(path: Path, header, body, mtime: int) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="") as handle:
        csv.writer(handle).writerows([header, *body])
    os.utime(path, (mtime, mtime))
    return path


def _restated(header, body, add: str = "10") -> list[list[str]]:
    """The same bill, the first September row's BilledCost raised by ``add``."""
    i = header.index("BilledCost")
    body = [list(r) for r in body]
    body[0][i] = str(Decimal(body[0][i]) + Decimal(add))
    return body


def _billed(con) -> list[tuple]:
    return con.execute(
        "select billing_period, sum(billed_cost) from raw.billing_line_items group by 1 order by 1"
    ).fetchall()


def _focus(path) -> BillingSource:
    return BillingSource("billing", path, "focus")


def test_a_restatement_saved_beside_the_original_replaces_it(con, tmp_path):
    header, body = _rows()
    src = tmp_path / "src"
    original = _write(src / "focus_sample.csv", header, body, T0)
    first = ingest_billing(con, _focus(src))
    assert [(d.periods, d.status) for d in first.deliveries] == [([SEP, OCT], "loaded")]

    _write(src / "focus_sample-restated.csv", header, _restated(header, body), T0 + 3600)
    second = ingest_billing(con, _focus(src))
    assert second.deliveries[0].status == "replaced"
    # Not summed: September is the restated bill, once; the delta is the restatement's +10.
    assert _billed(con) == [(SEP, SEP_BILLED + 10), (OCT, OCT_BILLED)]
    ledger = con.execute(
        "select billing_period, status, billed_cost_delta, row_count_delta, superseded_files, "
        "superseded_row_count from raw.billing_deliveries where status = 'replaced' "
        "and billing_currency = 'USD' order by billing_period"
    ).fetchall()
    assert [(p, s, d, n, json.loads(f), r) for p, s, d, n, f, r in ledger] == [
        (SEP, "replaced", Decimal(10), 0, [str(original)], 999),
        (OCT, "replaced", Decimal(0), 0, [str(original)], 1),
    ]
    assert con.execute("select distinct source_file from raw.billing_line_items").fetchall() == [
        (str(src / "focus_sample-restated.csv"),)
    ]


def test_the_newest_delivery_wins_per_account_and_period_only(con, tmp_path):
    header, body = _rows()
    period = header.index("BillingPeriodStart")
    src = tmp_path / "src"
    _write(src / "a" / "bill.csv", header, body, T0)  # September and October
    september = [r for r in _restated(header, body) if r[period].startswith("2024-09")]
    _write(src / "b" / "bill.csv", header, september, T0 + 60)  # restates September only
    ingest_billing(con, _focus(src))
    assert _billed(con) == [(SEP, SEP_BILLED + 10), (OCT, OCT_BILLED)]  # October kept


def test_the_older_file_loses_even_when_it_sorts_last(con, tmp_path):
    header, body = _rows()
    src = tmp_path / "src"
    _write(src / "z-original.csv", header, _restated(header, body, "5"), T0)
    _write(src / "a-restated.csv", header, body, T0 + 1)
    ingest_billing(con, _focus(src))
    assert _billed(con) == [(SEP, SEP_BILLED), (OCT, OCT_BILLED)]


@pytest.mark.parametrize(
    "names",
    [
        ("focus-00001.csv", "focus-00002.csv"),
        ("part-00000-3f2a-c000.csv", "part-00001-3f2a-c000.csv"),
        ("export_part_1.csv", "export_part_2.csv"),
    ],
)
def test_the_parts_of_one_delivery_are_summed(con, tmp_path, names):
    header, body = _rows()
    src = tmp_path / "src"
    _write(src / names[0], header, body[:500], T0)
    _write(src / names[1], header, body[500:], T0 + 120)  # parts may be written minutes apart
    result = ingest_billing(con, _focus(src))
    assert _billed(con) == [(SEP, SEP_BILLED), (OCT, OCT_BILLED)]
    assert result.deliveries[0].warnings == []


def test_two_deliveries_written_in_the_same_second_fail_naming_both(con, tmp_path):
    header, body = _rows()
    src = tmp_path / "src"
    a = _write(src / "bill.csv", header, body, T0)
    b = _write(src / "bill-copy.csv", header, _restated(header, body), T0)
    with pytest.raises(SourceError) as info:
        ingest_billing(con, _focus(src))
    message = str(info.value)
    assert str(a) in message and str(b) in message
    assert "period 2024-09" in message
    assert con.execute("select count(*) from raw.billing_line_items").fetchall() == [(0,)]


@pytest.mark.parametrize(
    ("path", "key"),
    [
        ("x/unitcost-focus-00001.csv.gz", "x/unitcost-focus"),
        ("x/unitcost-focus-00002.csv.gz", "x/unitcost-focus"),
        ("part-00003-abc-c000.csv", "./-abc-c000"),
        ("y/bill-2024-09.csv", "y/bill-2024-09"),  # a date is not a part number
        ("y/bill_20240901.csv", "y/bill_20240901"),
        ("y/bill-restated.parquet", "y/bill-restated"),
    ],
)
def test_delivery_key(path, key):
    assert delivery_key(path) == key
