"""Bad billing inputs of RELIABILITY.md §4 on hand-made files: identical rows (case 5), schema
drift (case 14) and header-only files (case 16).

Files are built (``focus_file``, conftest) from the real FOCUS 1.0 sample's header and first
row with the values each test needs; expected sums and counts are worked out by hand.
"""

from __future__ import annotations

import datetime as dt
import gzip
import json
from decimal import Decimal
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from pipelines.ingest.billing.load import BillingSource, ingest_billing
from pipelines.ingest.errors import SourceError

NOV = dt.date(2026, 11, 1)


def _focus(path: Path) -> BillingSource:
    return BillingSource("billing", path, "focus")


def _rows(con, sql: str):
    return con.execute(sql).fetchall()


# Case 5 ------------------------------------------------------------------------------------


def test_case5_identical_rows_in_one_delivery_are_kept_and_counted(con, tmp_path, focus_file):
    charge = {"BilledCost": "1.250000000001", "EffectiveCost": "1.000000000001", "Id": "7"}
    other = {"BilledCost": "2.5", "EffectiveCost": "2", "Id": "8"}
    path = focus_file.write(tmp_path / "src" / "focus.csv", [charge, charge, other])
    lines = path.read_text().splitlines()
    assert lines[1] == lines[2] and lines[1] != lines[3]  # two byte-identical data rows
    result = ingest_billing(con, _focus(tmp_path / "src"))
    # Both copies are stored: 2 x 1.250000000001 + 2.5 = 5.000000000002 billed,
    # 2 x 1.000000000001 + 2 = 4.000000000002 effective.
    sums = "select count(*), sum(billed_cost), sum(effective_cost) from raw.billing_line_items"
    assert _rows(con, sums) == [(3, Decimal("5.000000000002"), Decimal("4.000000000002"))]
    # The ledger counts rows equal to an earlier row of the period: one pair gives 1.
    assert _rows(con, "select row_count, identical_row_count from raw.billing_deliveries") == [
        (3, 1)
    ]
    (delivery,) = result.deliveries
    assert "period 2024-09: 1 identical row(s) kept as separate charges" in delivery.warnings


# Case 14 -----------------------------------------------------------------------------------


def test_case14_extra_columns_are_kept_with_values_and_named_in_ledger(con, tmp_path, focus_file):
    row = {"x_CostCenter": "ml-infra", "Team": "inference"}
    focus_file.write(
        tmp_path / "src" / "focus.csv", [row], [*focus_file.header, "x_CostCenter", "Team"]
    )
    ingest_billing(con, _focus(tmp_path / "src"))
    (extra,) = _rows(con, "select extra_columns_json from raw.billing_line_items")[0]
    # The sample's own Id column (11472 in its first row) is outside the spec as well.
    assert json.loads(extra) == {"Id": "11472", "x_CostCenter": "ml-infra", "Team": "inference"}
    (names,) = _rows(con, "select extra_columns from raw.billing_deliveries")[0]
    assert json.loads(names) == ["Id", "Team", "x_CostCenter"]


def test_case14_pre_1_0_names_are_read_through_the_versioned_renames(con, tmp_path, focus_file):
    old = {"RegionId": "Region", "EffectiveCost": "AmortizedCost", "ChargeCategory": "ChargeType"}
    renamed = [old.get(name, name) for name in focus_file.header]
    row = {"Region": "eu-west-1", "AmortizedCost": "0.75", "ChargeType": "Purchase"}
    focus_file.write(tmp_path / "src" / "focus.csv", [row], renamed)
    ingest_billing(con, _focus(tmp_path / "src"))
    assert _rows(
        con, "select region_id, effective_cost, charge_category from raw.billing_line_items"
    ) == [("eu-west-1", Decimal("0.75"), "Purchase")]
    (names,) = _rows(con, "select extra_columns from raw.billing_deliveries")[0]
    assert json.loads(names) == ["Id"]  # the old names were read as FOCUS columns


def test_case14_an_old_name_beside_its_current_one_stays_an_extra_column(con, tmp_path, focus_file):
    row = {"RegionId": "us-west-2", "Region": "eu-west-1"}
    focus_file.write(tmp_path / "src" / "focus.csv", [row], [*focus_file.header, "Region"])
    ingest_billing(con, _focus(tmp_path / "src"))
    region, extra = _rows(con, "select region_id, extra_columns_json from raw.billing_line_items")[
        0
    ]
    assert region == "us-west-2"
    assert json.loads(extra)["Region"] == "eu-west-1"


def test_case14_an_unmapped_name_is_not_taken_for_a_required_column(con, tmp_path, focus_file):
    renamed = ["BilledCostUSD" if name == "BilledCost" else name for name in focus_file.header]
    path = focus_file.write(tmp_path / "src" / "focus.csv", [{"BilledCostUSD": "1.00"}], renamed)
    with pytest.raises(SourceError) as info:
        ingest_billing(con, _focus(tmp_path / "src"))
    assert str(info.value) == f"{path}: BilledCost: FOCUS 1.0 required column is missing"
    assert _rows(con, "select count(*) from raw.billing_line_items") == [(0,)]


# Case 16 -----------------------------------------------------------------------------------


def test_case16_header_only_file_without_history_warns(con, tmp_path, focus_file):
    path = focus_file.write(tmp_path / "src" / "focus.csv", [])
    result = ingest_billing(con, _focus(tmp_path / "src"))
    (delivery,) = result.deliveries
    assert delivery.row_count == 0
    assert delivery.warnings == [
        f"{path}: header only, no rows",
        "billing: delivery has no rows",
    ]
    assert _rows(con, "select count(*) from raw.billing_line_items") == [(0,)]


def test_case16_header_only_file_that_had_rows_fails_naming_it(con, tmp_path, focus_file):
    path = focus_file.write(tmp_path / "src" / "focus.csv", [{"Id": "1"}, {"Id": "2"}])
    ingest_billing(con, _focus(tmp_path / "src"))
    focus_file.write(path, [])  # the same file delivered again with its header only
    with pytest.raises(SourceError) as info:
        ingest_billing(con, _focus(tmp_path / "src"))
    assert str(info.value) == f"{path}: header only, no rows; it had 2 when last loaded"
    # The last good version stays.
    assert _rows(con, "select count(*) from raw.billing_line_items") == [(2,)]


def _header_only_cur2(bill_root: Path) -> Path:
    """November's CUR 2.0 Parquet part replaced by a gzip CSV holding only its header."""
    data = bill_root / "cur2/unitcost-cur2/data/BILLING_PERIOD=2026-11"
    (part,) = data.glob("*")
    csv_part = part.with_name(part.name.replace(".snappy.parquet", ".csv.gz"))
    header = ",".join(pq.read_schema(part).names) + "\n"
    csv_part.write_bytes(gzip.compress(header.encode()))
    part.unlink()
    manifest = (
        bill_root / "cur2/unitcost-cur2/metadata/BILLING_PERIOD=2026-11/unitcost-cur2-Manifest.json"
    )
    manifest.write_text(manifest.read_text().replace(part.name, csv_part.name))
    return csv_part


def test_case16_header_only_csv_for_a_period_that_had_rows_fails(con, bill):
    out, truth = bill
    ingest_billing(con, BillingSource("billing", out / "cur2", "cur2"), {NOV})
    _header_only_cur2(out)
    with pytest.raises(SourceError) as info:
        ingest_billing(con, BillingSource("billing", out / "cur2", "cur2"), {NOV})
    manifest = (
        out / "cur2/unitcost-cur2/metadata/BILLING_PERIOD=2026-11/unitcost-cur2-Manifest.json"
    )
    rows = truth["rows"]["cur2"]["2026-11"]
    assert str(info.value) == (
        f"{manifest}: delivery has no rows; the previous delivery of this period had {rows}"
    )
    assert _rows(con, "select count(*) from raw.billing_line_items") == [(rows,)]


def test_case16_header_only_csv_for_a_new_period_is_ok_with_a_warning(con, bill):
    out, _ = bill
    part = _header_only_cur2(out)
    result = ingest_billing(con, BillingSource("billing", out / "cur2", "cur2"), {NOV})
    (delivery,) = result.deliveries
    assert delivery.row_count == 0
    assert f"{part}: header only, no rows" in delivery.warnings
    assert _rows(con, "select count(*) from raw.billing_line_items") == [(0,)]
