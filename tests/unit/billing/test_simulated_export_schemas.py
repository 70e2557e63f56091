"""The simulator's billing exports against AWS's real export schemas (column lists and types
in tests/fixtures/billing/schemas, from AWS's own Data Exports definitions), and FOCUS's way
of showing unused commitment: a Usage row with CommitmentDiscountStatus "Unused", read once."""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import io
import json
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from pipelines.fleet.formats.billing import write_exports
from pipelines.fleet.formats.billing_lines import commitments
from pipelines.fleet.plan import build_plan
from pipelines.fleet.spec import DEFAULT_SPEC_PATH, load_spec
from pipelines.ingest.billing.files import read_billing_file
from pipelines.ingest.billing.focus import read_focus

SCHEMAS = Path(__file__).parents[2] / "fixtures" / "billing" / "schemas"
# FOCUS 1.3's new columns (FOCUS_Spec 1.3 columns; pulumicost-spec docs/focus-columns.md
# counts the same 8): allocation (5), contract (1), the two provider names.
FOCUS_13_NEW = {
    "AllocatedMethodDetails", "AllocatedMethodId", "AllocatedResourceId",
    "AllocatedResourceName", "AllocatedTags", "ContractApplied", "HostProviderName",
    "ServiceProviderName",
}  # fmt: skip


def _schema(name: str, column: str, kind: str) -> dict[str, str]:
    with open(SCHEMAS / name, newline="", encoding="utf-8") as handle:
        return {r[column]: r[kind] for r in csv.DictReader(handle) if r[column]}


def _header(path: Path) -> list[str]:
    return next(csv.reader(io.StringIO(gzip.decompress(path.read_bytes()).decode())))


def _rows(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(gzip.decompress(path.read_bytes()).decode())))


def test_focus_12_export_has_aws_focus_12_columns_in_aws_order(sim_bill):
    aws = list(_schema("aws_focus_1.2_columns__cid_data_exports.csv",
                       "column_name_in_export_query", "glue_type_in_cid_focus_table"))  # fmt: skip
    assert len(aws) == 60
    for path in sorted(sim_bill[0].glob("focus/*/data/*/*.csv.gz")):
        assert _header(path) == aws


def test_focus_13_export_is_focus_12_plus_the_13_columns(tmp_path):
    plan = build_plan(load_spec(DEFAULT_SPEC_PATH), dt.date(2026, 11, 1), 1, 0.05, 42)
    write_exports(plan, tmp_path, formats=("focus-1.3",))
    aws = list(_schema("aws_focus_1.2_columns__cid_data_exports.csv",
                       "column_name_in_export_query", "glue_type_in_cid_focus_table"))  # fmt: skip
    (path,) = tmp_path.glob("focus-1.3/*/data/*/*.csv.gz")
    header = _header(path)
    assert header[: len(aws)] == aws
    assert set(header[len(aws) :]) == FOCUS_13_NEW
    rows = _rows(path)
    assert {(r["ServiceProviderName"], r["HostProviderName"]) for r in rows} == {("AWS", "AWS")}


ARROW = {
    "string": pa.string(),
    "double": pa.float64(),
    "map<string,string>": pa.map_(pa.string(), pa.string()),
    "map<string,double>": pa.map_(pa.string(), pa.float64()),
}


def test_cur2_columns_and_types_are_aws_cur2_ones(sim_bill):
    aws = _schema("aws_cur2_columns__cid_data_exports.csv", "column_name",
                  "glue_type_in_cid_cur2_table")  # fmt: skip
    for path in sorted(sim_bill[0].glob("cur2/*/data/*/*.parquet")):
        schema = pq.read_schema(path)
        assert not [f.name for f in schema if f.name not in aws]
        for field in schema:
            kind = aws[field.name].replace(" ", "")
            if kind == "timestamp":
                assert pa.types.is_timestamp(field.type), field.name
            elif kind:  # line_item_currency_code has no type in the source: not checked
                assert field.type == ARROW[kind], field.name
        # the three maps AWS types as maps are written as maps
        assert {"product", "resource_tags", "discount"} <= set(schema.names)


def test_unused_savings_plan_commitment_is_focus_usage_read_once(con, sim_bill):
    """Per hour the plan commits round(0.72 x on-demand x 1.01, cents) and its instance uses
    0.72 x on-demand: the rest is an Unused usage row; the fee row's EffectiveCost is 0."""
    out, truth = sim_bill
    plan = build_plan(load_spec(DEFAULT_SPEC_PATH), dt.date(2026, 10, 31), 2, 0.05, 42)
    (sp_instance,) = [
        i for i in plan.instances if commitments(plan).get(i.id, None)
        and commitments(plan)[i.id].kind == "savings_plan"
    ]  # fmt: skip
    used = sp_instance.hourly_price_usd * Decimal("0.72")
    unused_per_hour = (used * Decimal("1.01")).quantize(Decimal("0.01")) - used
    for period, hours in (("2026-10", 24), ("2026-11", 24)):
        (path,) = out.glob(f"focus/*/data/BILLING_PERIOD={period}/*.csv.gz")
        rows = _rows(path)
        unused = [r for r in rows if r["CommitmentDiscountStatus"] == "Unused"]
        assert len(unused) == hours
        assert {(r["ChargeCategory"], r["BilledCost"], r["ConsumedQuantity"]) for r in unused} == {
            ("Usage", "0", "")
        }
        assert sum(Decimal(r["EffectiveCost"]) for r in unused) == unused_per_hour * hours
        fees = [r for r in rows if r["ChargeCategory"] == "Purchase" and r["CommitmentDiscountId"]]
        assert {Decimal(r["EffectiveCost"]) for r in fees} == {Decimal(0)}
        items = read_focus(con, read_billing_file(path, path.name), path.name)
        con.register("items", items)
        got = con.execute(
            "select sum(effective_cost), count(*) from items where charge_category = 'Usage' "
            "and commitment_discount_type = 'Savings Plan' and instance_type is null"
        ).fetchone()
        assert got == (unused_per_hour * hours, hours)
        # and the file's totals are the simulator's, each dollar once
        want = truth["periods"][period]["USD"]
        totals = con.execute("select sum(billed_cost), sum(effective_cost) from items").fetchone()
        assert totals == (Decimal(want["billed_usd"]), Decimal(want["effective_usd"]))
        con.unregister("items")


def test_cur2_reader_reads_aws_cur2_columns_of_the_kinds_aws_types_them():
    """What the CUR 2.0 reader reads exists in AWS's dictionary, typed as the reader expects
    (money and quantities double; times timestamp, or text for the commitment term ends,
    which AWS writes as ISO text; tags a map)."""
    from pipelines.ingest.billing.cur2 import INPUTS

    aws = _schema("aws_cur2_columns__cid_data_exports.csv", "column_name",
                  "glue_type_in_cid_cur2_table")  # fmt: skip
    expected = {"money": {"double"}, "quantity": {"double"}, "time": {"timestamp", "string"},
                "json": {"map<string,string>"}, "text": {"string", ""}}  # fmt: skip
    assert not [c for c in INPUTS if c not in aws]
    wrong = {c: aws[c] for c, k in INPUTS.items() if aws[c].replace(" ", "") not in expected[k]}
    assert wrong == {}
    assert {c for c, k in INPUTS.items() if k == "time" and aws[c] == "string"} == {
        "savings_plan_end_time", "reservation_end_time"
    }  # fmt: skip


def test_focus_export_holds_every_focus_column_azure_exports_with_the_same_kind(sim_bill):
    """Azure's FOCUS 1.0 and 1.2 exports (finops-toolkit's export schemas): each FOCUS column
    Azure writes is in ours, and where AWS types a column double / timestamp / string Azure
    types it Decimal / DateTimeOffset / String (AWS's maps are Azure's JSON strings)."""
    aws = _schema("aws_focus_1.2_columns__cid_data_exports.csv",
                  "column_name_in_export_query", "glue_type_in_cid_focus_table")  # fmt: skip
    (path,) = sim_bill[0].glob("focus/*/data/BILLING_PERIOD=2026-10/*.csv.gz")
    ours = set(_header(path))
    same = {"double": "Decimal", "timestamp": "DateTimeOffset", "string": "String",
            "map<string,string>": "String"}  # fmt: skip
    for version in ("1.0", "1.2"):
        doc = json.loads((SCHEMAS / f"azure_focuscost_{version}_export_schema__finops-toolkit.json")
                         .read_text())  # fmt: skip
        azure = {m["source"]["name"]: m["source"]["type"] for m in doc["translator"]["mappings"]}
        focus = {c: t for c, t in azure.items() if not c.startswith("x_")}
        assert len(focus) > 40
        assert sorted(set(focus) - ours) == []
        assert {c: t for c, t in focus.items() if same[aws[c].replace(" ", "")] != t} == {}
