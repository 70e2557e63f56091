"""Deliveries into DuckDB: restatement replaces, the same delivery is a no-op, failures commit
nothing, manifests choose the files, one account+period has one source."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from decimal import Decimal

import pyarrow.parquet as pq
import pytest

from pipelines.ingest.billing.commit import BillingConflict
from pipelines.ingest.billing.load import BillingSource, ingest_billing
from pipelines.ingest.errors import SourceError

OCT, NOV = dt.date(2026, 10, 1), dt.date(2026, 11, 1)


def _cur(path) -> BillingSource:
    return BillingSource("billing", path, "cur2")


def _totals(con):
    return con.execute(
        "select billing_period, sum(billed_cost), sum(effective_cost) "
        "from raw.billing_line_items group by 1 order by 1"
    ).fetchall()


def _loaded(con):
    query = "select billing_period, status from raw.billing_deliveries order by ledger_seq"
    return con.execute(query).fetchall()


def _want(truth, period, key=None):
    entry = truth["periods"][period]
    entry = entry[key] if key else entry
    return Decimal(entry["USD"]["billed_usd"]), Decimal(entry["USD"]["effective_usd"])


def test_restated_delivery_replaces_the_period_and_the_ledger_shows_the_delta(con, bill):
    out, truth = bill
    first = ingest_billing(con, _cur(out / "cur2-initial"))
    assert [(d.periods, d.status) for d in first.deliveries] == [([OCT], "loaded")]
    assert _totals(con) == [(OCT, *_want(truth, "2026-10", "first_delivery"))]
    final = ingest_billing(con, _cur(out / "cur2"))
    assert [(d.periods, d.status) for d in final.deliveries] == [
        ([OCT], "replaced"),
        ([NOV], "loaded"),
    ]
    assert _totals(con) == [(OCT, *_want(truth, "2026-10")), (NOV, *_want(truth, "2026-11"))]
    delta = con.execute(
        "select billed_cost_delta, effective_cost_delta, row_count_delta "
        "from raw.billing_deliveries where status = 'replaced'"
    ).fetchall()
    assert delta == [(Decimal("-25.00"), Decimal("-25.00"), 1)]  # the restatement's refund


def test_the_same_delivery_twice_is_a_no_op(con, bill):
    out, _ = bill
    ingest_billing(con, _cur(out / "cur2"))
    before = con.execute("select * from raw.billing_line_items order by all").fetchall()
    again = ingest_billing(con, _cur(out / "cur2"))
    assert [d.status for d in again.deliveries] == ["unchanged", "unchanged"]
    assert con.execute("select * from raw.billing_line_items order by all").fetchall() == before
    statuses = con.execute("select status from raw.billing_deliveries order by ledger_seq")
    assert [s for (s,) in statuses.fetchall()] == ["loaded", "loaded", "unchanged", "unchanged"]


def test_only_the_requested_periods_are_ingested(con, bill):
    result = ingest_billing(con, _cur(bill[0] / "cur2"), {NOV})
    assert [d.periods for d in result.deliveries] == [[NOV]]


def test_a_bad_row_fails_the_period_and_commits_nothing(con, bill):
    out, truth = bill
    ingest_billing(con, _cur(out / "cur2-initial"))
    (path,) = (out / "cur2" / "unitcost-cur2" / "data" / "BILLING_PERIOD=2026-10").glob("*")
    table = pq.read_table(path)
    types = table.column("line_item_currency_code").to_pylist()
    types[4] = None
    i = table.schema.get_field_index("line_item_currency_code")
    pq.write_table(table.set_column(i, "line_item_currency_code", [types]), path)
    with pytest.raises(SourceError) as info:
        ingest_billing(con, _cur(out / "cur2"))
    assert str(info.value) == f"{path}:5: line_item_currency_code: value is missing"
    # October keeps its first delivery whole; November (a good period) still landed.
    assert _totals(con) == [
        (OCT, *_want(truth, "2026-10", "first_delivery")),
        (NOV, *_want(truth, "2026-11")),
    ]
    assert _loaded(con) == [(OCT, "loaded"), (NOV, "loaded")]


def test_manifest_listing_an_absent_file_fails_that_period(con, bill):
    out, _ = bill
    data = out / "cur2" / "unitcost-cur2" / "data" / "BILLING_PERIOD=2026-11"
    (path,) = data.glob("*")
    path.unlink()
    manifest = (
        out / "cur2/unitcost-cur2/metadata/BILLING_PERIOD=2026-11/unitcost-cur2-Manifest.json"
    )
    with pytest.raises(SourceError) as info:
        ingest_billing(con, _cur(out / "cur2"))
    entry = json.loads(manifest.read_text())["dataFiles"][0]
    assert str(info.value) == f"{manifest}: manifest lists {entry}, which is not in the source"
    assert _loaded(con) == [(OCT, "loaded")]  # the good period still landed


def test_unlisted_files_are_ignored_and_reported(con, bill):
    out, _ = bill
    data = out / "cur2" / "unitcost-cur2" / "data" / "BILLING_PERIOD=2026-11"
    (path,) = data.glob("*")
    shutil.copy(path, data / "stale-00009.snappy.parquet")
    result = ingest_billing(con, _cur(out / "cur2"))
    assert result.ignored_files == [
        "unitcost-cur2/data/BILLING_PERIOD=2026-11/stale-00009.snappy.parquet"
    ]
    assert [d.row_count for d in result.deliveries] == [
        n for _, n in sorted(bill[1]["rows"]["cur2"].items())
    ]


def test_data_without_a_manifest_fails_that_period_only(con, bill):
    out, _ = bill
    (
        out / "cur2/unitcost-cur2/metadata/BILLING_PERIOD=2026-11/unitcost-cur2-Manifest.json"
    ).unlink()
    with pytest.raises(SourceError) as info:
        ingest_billing(con, _cur(out / "cur2"))
    export = out / "cur2" / "unitcost-cur2"
    assert str(info.value) == (
        f"{export}/data/BILLING_PERIOD=2026-11: data files without a manifest "
        f"(delivery incomplete?); expected {export}/metadata/BILLING_PERIOD=2026-11/"
        "unitcost-cur2-Manifest.json"
    )
    assert _loaded(con) == [(OCT, "loaded")]


def test_no_manifest_at_all_fails_for_cur2(con, tmp_path):
    (tmp_path / "x.parquet").write_bytes(b"PAR1")
    with pytest.raises(SourceError) as info:
        ingest_billing(con, _cur(tmp_path))
    assert str(info.value) == (
        f"{tmp_path}: no CUR 2.0 manifest found (expected "
        "<export>/metadata/BILLING_PERIOD=YYYY-MM/<export>-Manifest.json)"
    )


def test_same_account_and_period_in_two_sources_fails(con, bill):
    out, _ = bill
    ingest_billing(con, _cur(out / "cur2"))
    with pytest.raises(BillingConflict) as info:
        ingest_billing(con, BillingSource("billing", out / "focus", "focus"))
    assert str(info.value) == (
        "account 210987654321 period 2026-10 in sources unitcost-cur2 and unitcost-focus"
    )


def test_a_duplicate_file_is_skipped_with_a_warning(con, tmp_path):
    from pipelines.ingest.billing.files import read_billing_file  # noqa: F401 (import check)

    sample = tmp_path / "src"
    sample.mkdir()
    fixture = __import__("pathlib").Path(__file__).parents[2] / "fixtures/billing"
    for name in ("a.csv.gz", "b.csv.gz"):
        shutil.copy(fixture / "focus_1.0_sample_1000.csv.gz", sample / name)
    result = ingest_billing(con, BillingSource("billing", sample, "focus"))
    assert result.deliveries[0].warnings == ["b.csv.gz duplicates a.csv.gz (same sha256); skipped"]
    assert con.execute("select sum(billed_cost) from raw.billing_line_items").fetchall() == [
        (Decimal("20.52022672899"),)
    ]


def test_a_period_that_had_rows_cannot_become_empty(con, bill):
    out, _ = bill
    ingest_billing(con, _cur(out / "cur2"), {NOV})
    (path,) = (out / "cur2/unitcost-cur2/data/BILLING_PERIOD=2026-11").glob("*")
    pq.write_table(pq.read_table(path).slice(0, 0), path)
    manifest = (
        out / "cur2/unitcost-cur2/metadata/BILLING_PERIOD=2026-11/unitcost-cur2-Manifest.json"
    )
    manifest.write_text(manifest.read_text().replace('"bucket"', '"bucket2"'))  # a new delivery
    with pytest.raises(SourceError) as info:
        ingest_billing(con, _cur(out / "cur2"), {NOV})
    rows = bill[1]["rows"]["cur2"]["2026-11"]
    assert str(info.value) == (
        f"{manifest}: delivery has no rows; the previous delivery of this period had {rows}"
    )
