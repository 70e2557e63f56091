"""FOCUS 1.3 and 1.4: version detection, the columns GPU cost needs, and what stays as it was.

The 1.3 and 1.4 fixtures are built by hand from the spec's column definitions
(tests/fixtures/billing/README.md); every expected figure below is worked out from the rows
written there, not from the reader.
"""

from __future__ import annotations

import csv
import gzip
import json
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pytest

from pipelines.ingest.billing.columns import detect_focus_version, focus_required
from pipelines.ingest.billing.files import read_billing_file
from pipelines.ingest.billing.focus import read_focus
from pipelines.ingest.errors import SourceError

FIXTURES = Path(__file__).parents[2] / "fixtures" / "billing"
F13 = FIXTURES / "focus_1.3_gpu_reservations.csv"
F14 = FIXTURES / "focus_1.4_gpu_reservations.csv"
SAMPLE = FIXTURES / "focus_1.0_sample_1000.csv.gz"
CR1 = "arn:aws:ec2:us-east-1:111122223333:capacity-reservation/cr-0a1"


def _read(con, path: Path) -> pa.Table:
    items = read_focus(con, read_billing_file(path, path.name), path.name)
    con.register("items", items)
    return items


def _header(path: Path) -> list[str]:
    with open(path, newline="", encoding="utf-8") as handle:
        return next(csv.reader(handle))


def _one(con, sql: str):
    (row,) = con.execute(sql).fetchall()
    return row


# --- version detection -------------------------------------------------------------------


def test_real_focus_10_sample_still_reads_as_10(con):
    _read(con, SAMPLE)
    assert con.execute("select distinct focus_version from items").fetchall() == [("1.0",)]


def test_a_12_column_set_still_reads_as_12():
    # The 1.0 sample's columns plus BillingAccountType, a column 1.2 introduced: 1.2, not 1.3
    # (it has no ServiceProviderName / HostProviderName) and not 1.0.
    with gzip.open(SAMPLE, "rt", encoding="utf-8") as handle:
        columns = set(next(csv.reader(handle)))
    assert detect_focus_version(columns) == "1.0"
    assert detect_focus_version(columns | {"BillingAccountType"}) == "1.2"


def test_hand_built_13_and_14_files_are_detected(con):
    _read(con, F13)
    assert con.execute("select distinct focus_version from items").fetchall() == [("1.3",)]
    _read(con, F14)
    assert con.execute("select distinct focus_version from items").fetchall() == [("1.4",)]


def test_14_is_told_from_13_by_providername_being_gone():
    header = set(_header(F14))
    # The 1.4 fixture has no column only 1.4 defines apart from the eligibility one: without
    # it, it is still 1.4, because ProviderName (Mandatory up to 1.3) is absent.
    header.discard("CommitmentProgramEligibilityDetails")
    assert "ProviderName" not in header
    assert detect_focus_version(header) == "1.4"
    # The same columns with ProviderName and PublisherName are a 1.3 file.
    assert detect_focus_version(header | {"ProviderName", "PublisherName"}) == "1.3"


def test_mandatory_columns_per_version_follow_the_spec():
    # Hand list: 1.3 adds HostProviderName and ServiceProviderName to 1.2's 21 Mandatory
    # columns; 1.4 drops ProviderName and PublisherName.
    m12, m13, m14 = (set(focus_required(v)) for v in ("1.2", "1.3", "1.4"))
    assert len(m12) == 21
    assert m13 - m12 == {"HostProviderName", "ServiceProviderName"} and m12 <= m13
    assert m13 - m14 == {"ProviderName", "PublisherName"} and m14 <= m13


def _without(path: Path, tmp_path: Path, column: str) -> pa.Table:
    with open(path, newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    out = tmp_path / path.name
    with open(out, "w", newline="", encoding="utf-8") as handle:
        fields = [c for c in rows[0] if c != column]
        writer = csv.DictWriter(handle, fields, extrasaction="ignore", lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    return read_billing_file(out, str(out))


def test_a_13_file_without_hostprovidername_fails_naming_file_and_column(con, tmp_path):
    table = _without(F13, tmp_path, "HostProviderName")
    with pytest.raises(SourceError) as info:
        read_focus(con, table, "bill-1.3.csv")
    assert str(info.value) == (
        "bill-1.3.csv: HostProviderName: FOCUS 1.3 required column is missing"
    )


def test_a_14_file_with_providername_instead_of_serviceprovidername_says_it_was_replaced(
    con, tmp_path
):
    with open(F14, newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    out = tmp_path / "renamed.csv"
    with open(out, "w", newline="", encoding="utf-8") as handle:
        fields = ["ProviderName" if c == "ServiceProviderName" else c for c in rows[0]]
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(fields)
        writer.writerows([list(r.values()) for r in rows])
    with pytest.raises(SourceError) as info:
        read_focus(con, read_billing_file(out, str(out)), "renamed.csv")
    assert str(info.value) == (
        "renamed.csv: ServiceProviderName: FOCUS 1.4 required column is missing "
        "(ProviderName was replaced by ServiceProviderName in FOCUS 1.3)"
    )


# --- what is read ------------------------------------------------------------------------


def test_13_totals_in_equal_out(con):
    _read(con, F13)
    # BilledCost by hand: 4 reservation hours x 98.32 = 393.28; i-0ccc origin 10.00 and its
    # split 7.50 + 2.00 + 0.50 = 10.00 (both stored: staging decides what counts); the unused
    # Reserved Instance hour 0 -> 413.28. EffectiveCost adds that hour's 3.40 -> 416.68.
    assert _one(con, "select sum(billed_cost), sum(effective_cost), count(*) from items") == (
        Decimal("413.28"),
        Decimal("416.68"),
        9,
    )


def test_13_capacity_reservation_lines_used_and_unused(con):
    _read(con, F13)
    rows = con.execute(
        "select capacity_reservation_status, count(*), sum(effective_cost), "
        "sum(pricing_quantity), min(instance_type) from items "
        f"where capacity_reservation_id = '{CR1}' group by 1 order by 1"
    ).fetchall()
    # Hand: hour 0 one used + one unused, hour 1 two used; each 98.32 for 1 instance-hour.
    assert rows == [
        ("Unused", 1, Decimal("98.32"), Decimal("1"), "p5.48xlarge"),
        ("Used", 3, Decimal("294.96"), Decimal("3"), "p5.48xlarge"),
    ]


def test_13_provider_names_and_commitment_columns(con):
    _read(con, F13)
    assert con.execute(
        "select distinct provider_name, host_provider_name from items"
    ).fetchall() == [("AWS", "AWS")]
    assert _one(
        con,
        "select commitment_discount_status, commitment_discount_quantity, "
        "commitment_discount_unit, commitment_discount_category, effective_cost, billed_cost "
        "from items where commitment_discount_id is not null",
    ) == ("Unused", Decimal("1"), "Hours", "Usage", Decimal("3.40"), Decimal("0"))


def test_13_split_rows_keep_method_share_and_target(con):
    _read(con, F13)
    rows = con.execute(
        "select source_line, allocated_method_id, allocated_resource_id, allocated_resource_name, "
        "cast(allocated_method_details_json->'$.Elements[0].AllocatedRatio' as varchar), "
        "allocated_tags_json->>'team', billed_cost "
        "from items where resource_id = 'i-0ccc' order by source_line"
    ).fetchall()
    assert rows == [
        (6, None, None, None, None, None, Decimal("10.00")),
        (7, "k8s-gpu-requests", "pod/vllm-a", "vllm-a", "0.75", "chat", Decimal("7.50")),
        (8, "k8s-gpu-requests", "pod/vllm-b", "vllm-b", "0.2", "search", Decimal("2.00")),
        (9, "k8s-gpu-requests", None, None, "0.05", None, Decimal("0.50")),
    ]
    applied = _one(con, "select contract_applied_json from items where source_line = 6")[0]
    assert json.loads(applied)["Elements"][0]["ContractCommitmentID"] == "ctr-1-gpu"


def test_14_columns_and_no_extras(con):
    _read(con, F14)
    # Hand: unused hour 98.32 + used hour 98.32 + split 6.00 + 4.00 = 206.64.
    assert _one(con, "select sum(billed_cost), count(*) from items") == (Decimal("206.64"), 4)
    assert _one(
        con,
        "select count(*) from items where provider_name = 'AWS' "
        "and json_array_length(commitment_program_eligibility_json->'$.CommitmentPrograms') = 3",
    ) == (4,)
    # Every column of the 1.4 file is a FOCUS column: nothing lands in extra_columns_json.
    assert _one(con, "select count(extra_columns_json) from items") == (0,)
    assert _one(
        con,
        "select sum(effective_cost) from items where capacity_reservation_status = 'Unused'",
    ) == (Decimal("98.32"),)


def test_a_13_and_a_14_file_in_one_delivery_give_the_same_column_types(con):
    # The 1.3 file has ContractApplied and no eligibility column, the 1.4 file the reverse:
    # an absent column is NULL of its own type, so the delivery's files concatenate.
    t13, t14 = _read(con, F13), _read(con, F14)
    for name in ("contract_applied_json", "commitment_program_eligibility_json", "provider_name"):
        assert t13.schema.field(name).type == t14.schema.field(name).type, name
    assert pa.concat_tables([t13, t14]).num_rows == 13
