"""Legacy CUR (CUR 1): the real anonymised export read end to end, the mapping checked against
the FinOps Foundation's legacy-CUR -> FOCUS rules, a simulated fleet written as CUR 1 and
ingested to the simulator's truth, and bad input named by file, line and column."""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import io
import json
import re
from collections import Counter
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml

from pipelines.fleet.formats.billing import write_exports
from pipelines.fleet.formats.billing_cur1 import write_cur1_export
from pipelines.fleet.plan import build_plan
from pipelines.fleet.spec import DEFAULT_SPEC_PATH, load_spec
from pipelines.ingest.billing.cur1 import read_cur1
from pipelines.ingest.billing.files import read_billing_file
from pipelines.ingest.billing.load import BillingSource, ingest_billing
from pipelines.ingest.errors import SourceError

FIXTURES = Path(__file__).parents[2] / "fixtures" / "billing"
REAL = FIXTURES / "aws_legacy_cur1_2023-11.csv.gz"
RULES = FIXTURES / "aws_legacy_cur1_to_focus_rules.csv"
UTC = dt.UTC


def _raw_rows(path: Path) -> list[dict[str, str]]:
    """The second reading: Python's csv over the decompressed bytes, values as written."""
    data = path.read_bytes()
    text = (gzip.decompress(data) if data[:2] == b"\x1f\x8b" else data).decode("utf-8")
    return list(csv.DictReader(io.StringIO(text)))


def _items(con, path: Path) -> list[dict]:
    return read_cur1(con, read_billing_file(path, path.name), path.name).to_pylist()


def _when(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


# --- the real export -----------------------------------------------------------------------


def test_real_cur1_export_reads_every_row_with_exact_costs_tax_and_daily_periods(con):
    raw = _raw_rows(REAL)
    items = _items(con, REAL)
    assert len(raw) == len(items) == 1281  # SOURCES.md: 1,281 rows
    unblended = sum((Decimal(r["lineItem/UnblendedCost"]) for r in raw), Decimal(0))
    assert unblended == Decimal("1.68230869740")
    assert sum((i["billed_cost"] for i in items), Decimal(0)) == unblended
    # No Savings Plan or reservation rows: amortized cost is the unblended cost (rule 20 ELSE).
    assert sum((i["effective_cost"] for i in items), Decimal(0)) == unblended
    assert all(isinstance(i["billed_cost"], Decimal) for i in items)
    assert [i["billed_cost"] for i in items] == [Decimal(r["lineItem/UnblendedCost"]) for r in raw]
    tax_raw = [r for r in raw if r["lineItem/LineItemType"] == "Tax"]
    tax = [i for i in items if i["charge_category"] == "Tax"]
    assert len(tax_raw) == len(tax) == 12
    assert sum((i["billed_cost"] for i in tax), Decimal(0)) == Decimal("0.08")  # 0.01 + 0.07
    # Daily granularity: each usage line sits in its one-day identity/TimeInterval; its own
    # charge period is the hours used within that day (868 of 1,269 lines are one hour).
    usage = [(i, r) for i, r in zip(items, raw, strict=True) if i["charge_category"] == "Usage"]
    assert len(usage) == 1269
    for item, row in usage:
        day_start, day_end = (_when(t) for t in row["identity/TimeInterval"].split("/"))
        assert day_end - day_start == dt.timedelta(days=1)
        assert day_start.time() == dt.time(0)
        assert item["charge_period_start"] == _when(row["lineItem/UsageStartDate"])
        assert item["charge_period_end"] == _when(row["lineItem/UsageEndDate"])
        assert day_start <= item["charge_period_start"] < item["charge_period_end"] <= day_end
    assert {i["billing_period"] for i in items} == {dt.date(2023, 11, 1)}
    assert {i["billing_currency"] for i in items} == {"USD"}
    assert not any(i["tz_assumed"] for i in items)  # AWS writes ...Z
    # Product attributes outside CUR 2.0's fixed columns are kept, not dropped.
    assert '"product/storageClass"' in next(i["extra_columns_json"] for i in items)


def test_real_cur1_export_as_parquet_gives_the_same_line_items(con, tmp_path):
    raw = _raw_rows(REAL)
    columns = {name: [r[name] or None for r in raw] for name in raw[0]}
    pq.write_table(pa.table(columns), tmp_path / "cur1.parquet")
    from_parquet = _items(con, tmp_path / "cur1.parquet")
    from_csv = _items(con, REAL)
    assert [i["billed_cost"] for i in from_parquet] == [i["billed_cost"] for i in from_csv]
    assert len(from_parquet) == 1281


# --- the Foundation's rules ----------------------------------------------------------------


def _rules() -> dict[int, dict[str, str]]:
    with open(RULES, newline="", encoding="utf-8") as handle:
        return dict(enumerate(csv.DictReader(handle), start=1))


# Rules cur1.py follows by renaming (rule row -> unitcost column); the rule names the source.
RENAMES = {
    6: "billing_account_id",
    7: "billing_currency",
    11: "charge_description",
    13: "charge_period_end",
    14: "charge_period_start",
    18: "consumed_quantity",
    26: "pricing_unit",
    29: "region_id",
    30: "resource_id",
    36: "service_name",
    39: "sub_account_id",
}
# Rules expressed as SQL over the raw columns, evaluated here by DuckDB: rule -> our column.
SQL_RULES = {5: "billed_cost", 10: "charge_category", 15: "commitment_discount_category",
             16: "commitment_discount_id", 20: "effective_cost"}  # fmt: skip
# Where unitcost departs from rule 10 (cur1.py says why): line item type -> our category.
CATEGORY_DEPARTURES = {
    "Credit": "Credit", "Refund": "Credit", "BundledDiscount": "Credit", "Discount": "Credit",
    "PrivateRateDiscount": "Credit", "EdpDiscount": "Credit",
}  # fmt: skip
MONEY = [
    "lineItem/UnblendedCost", "lineItem/NetUnblendedCost", "savingsPlan/SavingsPlanEffectiveCost",
    "savingsPlan/TotalCommitmentToDate", "savingsPlan/UsedCommitment",
    "reservation/EffectiveCost", "reservation/UnusedAmortizedUpfrontFeeForBillingPeriod",
    "reservation/UnusedRecurringFee",
]  # fmt: skip


def _rule_sql(rule: dict[str, str]) -> str:
    """The rule as a DuckDB expression or query over a table ``raw``."""
    if rule["Transform Type"] == "SQL_QUERY":
        return rule["Filters/Process/Etc."].replace("{{ TABLE_NAME }}", "raw")
    spec = yaml.safe_load(rule["Filters/Process/Etc."])
    whens = " ".join(spec["conditions"])
    return f"select case {whens} else {spec['default_value']} end as value from raw"


def _all_types_file(tmp_path: Path) -> Path:
    """The real file's first row once per line item type rule 10 names, with the amortization
    inputs filled (distinct values), a net cost on every other row, and the commitment ARNs."""
    raw = _raw_rows(REAL)
    types = re.findall(r"= '(\w+)' THEN", _rules()[10]["Filters/Process/Etc."])
    assert len(types) == 15
    header = [*raw[0], "lineItem/NetUnblendedCost", "reservation/ReservationARN"]
    rows = []
    for n, kind in enumerate(types):
        row = {**raw[0], "lineItem/LineItemType": kind, "lineItem/UnblendedCost": f"{n + 1}.5"}
        row["lineItem/NetUnblendedCost"] = f"{n + 1}.25" if n % 2 else ""
        row["savingsPlan/SavingsPlanEffectiveCost"] = "0.75"
        row["savingsPlan/TotalCommitmentToDate"] = "10.0"
        row["savingsPlan/UsedCommitment"] = "9.5"
        row["reservation/EffectiveCost"] = "0.625"
        row["reservation/UnusedAmortizedUpfrontFeeForBillingPeriod"] = "0.125"
        row["reservation/UnusedRecurringFee"] = "0.0625"
        sp, ri = kind.startswith("SavingsPlan"), kind in ("DiscountedUsage", "RIFee", "Fee")
        row["savingsPlan/SavingsPlanARN"] = "arn:aws:savingsplans::1:savingsplan/sp" if sp else ""
        row["reservation/ReservationARN"] = "arn:aws:ec2:r:1:reserved-instances/ri" if ri else ""
        rows.append(row)
    path = tmp_path / "types.csv"
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, header)
        writer.writeheader()
        writer.writerows(rows)
    return path


def _raw_table(con, path: Path) -> None:
    raw = _raw_rows(path)
    text = {k: pa.array([r[k] or None for r in raw], pa.string()) for k in raw[0]}
    con.register("raw_text", pa.table(text))
    money = [c for c in MONEY if c in raw[0]]
    casts = ", ".join(f'cast("{c}" as decimal(38,12)) as "{c}"' for c in money)
    others = ", ".join(f'"{c}"' for c in raw[0] if c not in money)
    # Columns a rule names that this export lacks (AWS adds them only when they apply): NULL.
    named = set(re.findall(r'"(\w+/\w+)"', RULES.read_text(encoding="utf-8").replace('""', '"')))
    absent = ", ".join(
        f'cast(NULL as {"decimal(38,12)" if c in MONEY else "varchar"}) as "{c}"'
        for c in sorted(named - set(raw[0]))
    )
    con.execute(
        f"create or replace temp table raw as select {others}, {casts}, {absent} from raw_text"
    )


@pytest.mark.parametrize("which", ["real", "all_types"])
def test_mapping_agrees_with_the_foundations_rules_it_implements(con, tmp_path, which):
    path = REAL if which == "real" else _all_types_file(tmp_path)
    rules = _rules()
    raw = _raw_rows(path)
    items = _items(con, path)
    for row_number, column in RENAMES.items():
        rule = rules[row_number]
        assert rule["Transform Type"] in ("RENAME_COLUMN", "ASSIGN_UTC_TIMEZONE"), row_number
        source = rule["Source Column"]
        if source not in raw[0]:  # e.g. lineItem/ResourceId, absent from the real export
            assert all(i[column] is None for i in items), row_number
            continue
        for item, row in zip(items, raw, strict=True):
            want = row[source] or None
            if want is not None and rule["Source Column Type"] == "datetime":
                want = _when(want)
            elif want is not None and column == "consumed_quantity":
                want = Decimal(want)
            assert item[column] == want, (row_number, source, row)
    assert {i["provider_name"] for i in items} == {"AWS"}  # rule 27, a static value
    assert rules[27]["Filters/Process/Etc."].strip() == "static_value: AWS"
    _raw_table(con, path)
    for row_number, column in SQL_RULES.items():
        got = [i[column] for i in items]
        want = [r[-1] for r in con.execute(_rule_sql(rules[row_number])).fetchall()]
        if column == "charge_category":
            kinds = [r["lineItem/LineItemType"] for r in raw]
            want = [CATEGORY_DEPARTURES.get(k, w) for k, w in zip(kinds, want, strict=True)]
        if column in ("billed_cost", "effective_cost"):
            want = [Decimal(w) if not isinstance(w, Decimal) else w for w in want]
        assert got == want, (row_number, column)
    if which == "all_types":
        categories = {i["line_item_type"]: i["charge_category"] for i in items}
        assert {k: categories[k] for k in CATEGORY_DEPARTURES} == CATEGORY_DEPARTURES


# --- a simulated fleet as CUR 1 ------------------------------------------------------------


@pytest.fixture(scope="module")
def plan():
    return build_plan(load_spec(DEFAULT_SPEC_PATH), dt.date(2026, 10, 31), 2, 0.05, 42)


def test_simulated_fleet_as_cur1_ingests_to_the_simulators_truth(con, plan, tmp_path):
    truth = write_cur1_export(plan, tmp_path / "billing")
    source = BillingSource("billing", tmp_path / "billing" / "cur1", "cur1")
    result = ingest_billing(con, source)
    assert [d.status for d in result.deliveries] == ["loaded", "loaded"]
    # The first period's superseded version (no refund) is left aside, and said so.
    assert [p for p in result.ignored_files if p.endswith(".csv.gz")] != []
    totals = con.execute(
        "select strftime(billing_period, '%Y-%m'), sum(billed_cost), sum(effective_cost) "
        "from raw.billing_line_items group by 1 order by 1"
    ).fetchall()
    want = [
        (k, Decimal(v["USD"]["billed_usd"]), Decimal(v["USD"]["effective_usd"]))
        for k, v in sorted(truth["periods"].items())
    ]
    assert totals == want  # exact: DECIMAL(38,12) against the simulator's Decimals
    first = truth["periods"]["2026-10"]["first_delivery"]["USD"]["billed_usd"]
    assert Decimal(first) != want[0][1]  # so the check above tells the two versions apart
    per_instance = con.execute(
        "select resource_id, strftime(billing_period, '%Y-%m'), sum(billed_cost), "
        "sum(effective_cost) from raw.billing_line_items where instance_type is not null "
        "group by all"
    ).fetchall()
    assert {(r, p): (b, e) for r, p, b, e in per_instance} == {
        (r, p): (Decimal(v["billed_usd"]), Decimal(v["effective_usd"]))
        for r, periods in truth["instances"].items()
        for p, v in periods.items()
    }
    again = ingest_billing(con, source)
    assert [d.status for d in again.deliveries] == ["unchanged", "unchanged"]


def test_the_same_bill_as_cur1_and_cur2_gives_the_same_line_items(con, plan, tmp_path):
    write_cur1_export(plan, tmp_path / "billing")
    write_exports(plan, tmp_path / "billing", formats=("cur2",))
    cols = (
        "billing_account_id, billing_period, charge_period_start, charge_period_end, "
        "charge_category, charge_class, charge_frequency, line_item_type, service_name, "
        "sku_or_usage_type, instance_type, resource_id, region_id, commitment_discount_id, "
        "commitment_discount_type, commitment_discount_category, commitment_discount_end, "
        "billed_cost, effective_cost, list_cost, consumed_quantity, pricing_unit, "
        "nullif(cast(tags_json as varchar), '{}')"  # cur2 reads AWS's empty map as {}
    )
    seen = {}
    for fmt in ("cur1", "cur2"):
        ingest_billing(con, BillingSource(fmt, tmp_path / "billing" / fmt, fmt))
        rows = con.execute(
            f"select {cols} from raw.billing_line_items where source_format = ?", [fmt]
        ).fetchall()
        seen[fmt] = Counter(rows)
        con.execute("delete from raw.billing_line_items")  # one source per account and period
    assert sum(seen["cur1"].values()) == 508
    assert seen["cur1"] == seen["cur2"]


# --- bad input -----------------------------------------------------------------------------


def _rewrite(tmp_path: Path, change) -> Path:
    raw = _raw_rows(REAL)[:5]
    header = list(raw[0])
    header, raw = change(header, raw)
    path = tmp_path / "bad.csv"
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, header, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(raw)
    return path


def test_a_missing_mandatory_column_fails_naming_file_and_column(con, tmp_path):
    path = _rewrite(
        tmp_path, lambda h, rows: ([c for c in h if c != "lineItem/UnblendedCost"], rows)
    )
    with pytest.raises(SourceError) as err:
        _items(con, path)
    assert (err.value.file, err.value.column) == ("bad.csv", "lineItem/UnblendedCost")
    assert "required column is missing" in str(err.value)


def test_a_column_in_the_wrong_case_is_named_as_such(con, tmp_path):
    def lower(header, rows):
        rows = [{**r, "lineitem/unblendedcost": r["lineItem/UnblendedCost"]} for r in rows]
        return [
            c if c != "lineItem/UnblendedCost" else "lineitem/unblendedcost" for c in header
        ], rows

    with pytest.raises(SourceError, match="case-sensitive") as err:
        _items(con, _rewrite(tmp_path, lower))
    assert err.value.column == "lineItem/UnblendedCost"


def test_unparsable_money_fails_at_its_line_and_column(con, tmp_path):
    def comma(header, rows):
        rows[3]["lineItem/UnblendedCost"] = "12,50"  # data row 4 = physical line 5
        return header, rows

    with pytest.raises(SourceError) as err:
        _items(con, _rewrite(tmp_path, comma))
    assert (err.value.line, err.value.column) == (5, "lineItem/UnblendedCost")
    assert str(err.value) == "bad.csv:5: lineItem/UnblendedCost: not a valid money"


def test_a_savings_plan_row_without_its_effective_cost_fails_at_its_line(con, tmp_path):
    def covered(header, rows):
        rows[1]["lineItem/LineItemType"] = "SavingsPlanCoveredUsage"
        return header, rows

    with pytest.raises(SourceError) as err:
        _items(con, _rewrite(tmp_path, covered))
    assert (err.value.line, err.value.column) == (3, "savingsPlan/SavingsPlanEffectiveCost")


def test_cur2_files_read_as_cur1_say_which_format_they_are(con, plan, tmp_path):
    write_exports(plan, tmp_path / "billing", formats=("cur2",))
    path = next((tmp_path / "billing" / "cur2").rglob("*.parquet"))
    with pytest.raises(SourceError, match="CUR 2.0 naming, format: cur2"):
        _items(con, path)


# --- config --------------------------------------------------------------------------------


def test_unitcost_yaml_accepts_format_cur1_and_names_an_unknown_one(tmp_path, monkeypatch):
    from pipelines.config import load_settings
    from pipelines.yamlconf import ConfigError

    monkeypatch.delenv("UNITCOST_DUCKDB", raising=False)
    path = tmp_path / "unitcost.yaml"
    path.write_text("registry: r.yaml\nsources:\n  billing: {location: cur/, format: cur1}\n")
    assert load_settings(path).sources["billing"].format == "cur1"
    path.write_text("registry: r.yaml\nsources:\n  billing: {location: cur/, format: cur3}\n")
    with pytest.raises(ConfigError, match="unitcost.yaml:3: sources.billing.format"):
        load_settings(path)


def test_a_manifest_naming_a_missing_file_fails_that_period_naming_the_manifest(
    con, plan, tmp_path
):
    write_cur1_export(plan, tmp_path / "billing")
    manifest = next((tmp_path / "billing").glob("cur1/unitcost-cur1/20261101-*/*-Manifest.json"))
    listed = json.loads(manifest.read_text())["reportKeys"][0]
    (tmp_path / "billing" / listed).unlink()
    source = BillingSource("billing", tmp_path / "billing" / "cur1", "cur1")
    with pytest.raises(SourceError, match="which is not in the source") as err:
        ingest_billing(con, source)
    assert err.value.file == str(manifest)
    # The other period still landed (a bad period fails alone).
    periods = con.execute("select distinct billing_period from raw.billing_line_items").fetchall()
    assert periods == [(dt.date(2026, 10, 1),)]


def test_a_folder_without_manifests_is_one_delivery_of_its_files(con, tmp_path):
    folder = tmp_path / "cur"
    folder.mkdir()
    (folder / "report-1.csv.gz").write_bytes(REAL.read_bytes())
    result = ingest_billing(con, BillingSource("billing", folder, "cur1"))
    assert [(d.status, d.row_count) for d in result.deliveries] == [("loaded", 1281)]
    total = con.execute("select sum(billed_cost) from raw.billing_line_items").fetchall()
    assert total == [(Decimal("1.68230869740"),)]
