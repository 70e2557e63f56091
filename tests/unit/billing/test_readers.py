"""FOCUS and CUR 2.0 readers on the real FOCUS sample and simulated files: totals in = out."""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import io
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

from pipelines.ingest.billing.cur2 import read_cur2
from pipelines.ingest.billing.files import read_billing_file
from pipelines.ingest.billing.focus import read_focus
from pipelines.ingest.errors import SourceError

FIXTURES = Path(__file__).parents[2] / "fixtures" / "billing"

SAMPLE = FIXTURES / "focus_1.0_sample_1000.csv.gz"


def _sums(con, table: pa.Table) -> tuple:
    con.register("items", table)
    return con.execute(
        "select sum(billed_cost), sum(effective_cost), count(*) from items"
    ).fetchall()[0]


def test_real_focus_sample_loads_with_its_cost_sums_unchanged(con):
    items = read_focus(con, read_billing_file(SAMPLE, "sample"), "sample")
    # Sums stated in ../shared/data/SOURCES.md, exact (no tolerance).
    assert _sums(con, items) == (Decimal("20.52022672899"), Decimal("14.97651418586"), 1000)
    assert set(items.column("focus_version").to_pylist()) == {"1.0"}
    assert items.column("source_line").to_pylist()[:2] == [2, 3]


def test_real_focus_sample_keeps_negative_costs_and_recognises_gpu_instances(con):
    items = read_focus(con, read_billing_file(SAMPLE, "sample"), "sample")
    con.register("items", items)
    assert con.execute("select count(*) from items where billed_cost < 0").fetchall() == [(13,)]
    g5 = "select count(*) from items where instance_type = 'g5.4xlarge'"
    assert con.execute(g5).fetchall() == [(8,)]
    assert con.execute(
        "select distinct extra_columns_json->>'Id' is not null from items"
    ).fetchall() == [(True,)]


def test_focus_sample_as_parquet_gives_the_same_sums(con, tmp_path):
    # Costs as text columns, as a Parquet exporter writing decimals as strings would.
    money = dict.fromkeys(["BilledCost", "EffectiveCost", "ListCost"], pa.string())
    options = pacsv.ConvertOptions(
        null_values=["NULL", ""], strings_can_be_null=True, column_types=money
    )
    table = pacsv.read_csv(SAMPLE, convert_options=options)
    pq.write_table(table, tmp_path / "s.parquet")
    items = read_focus(con, read_billing_file(tmp_path / "s.parquet", "s"), "s")
    assert _sums(con, items) == (Decimal("20.52022672899"), Decimal("14.97651418586"), 1000)


def _focus_rows(text_rows: list[list[str]], tmp_path, drop: str | None = None):
    rows = list(csv.reader(io.StringIO(gzip.decompress(SAMPLE.read_bytes()).decode())))
    header, body = rows[0], rows[1:3]
    for r, c, v in text_rows:
        body[r][header.index(c)] = v
    if drop:
        i = header.index(drop)
        header, body = header[:i] + header[i + 1 :], [b[:i] + b[i + 1 :] for b in body]
    path = tmp_path / "f.csv"
    with open(path, "w", newline="") as handle:
        csv.writer(handle).writerows([header, *body])
    return read_billing_file(path, "f.csv")


def test_text_in_a_money_column_fails_with_line_and_column(con, tmp_path):
    table = _focus_rows([(1, "BilledCost", "12,50")], tmp_path)
    with pytest.raises(SourceError) as info:
        read_focus(con, table, "f.csv")
    assert str(info.value) == "f.csv:3: BilledCost: not a valid money"


def test_bad_timestamp_fails_with_line_and_column(con, tmp_path):
    table = _focus_rows([(0, "ChargePeriodStart", "2024-09-31 25:00:00")], tmp_path)
    with pytest.raises(SourceError) as info:
        read_focus(con, table, "f.csv")
    assert str(info.value) == "f.csv:2: ChargePeriodStart: not a valid time"


def test_missing_mandatory_value_fails(con, tmp_path):
    table = _focus_rows([(1, "BillingCurrency", "NULL")], tmp_path)
    with pytest.raises(SourceError) as info:
        read_focus(con, table, "f.csv")
    assert str(info.value) == "f.csv:3: BillingCurrency: value is missing"


def test_missing_required_column_fails_naming_it(con, tmp_path):
    table = _focus_rows([], tmp_path, drop="EffectiveCost")
    with pytest.raises(SourceError) as info:
        read_focus(con, table, "f.csv")
    assert str(info.value) == "f.csv: EffectiveCost: FOCUS 1.0 required column is missing"


def test_zone_less_times_are_utc_and_flagged(con, tmp_path):
    table = _focus_rows([(1, "ChargePeriodStart", "2024-09-18T21:00:00Z")], tmp_path)
    items = read_focus(con, table, "f.csv")
    assert items.column("tz_assumed").to_pylist() == [True, True]  # the other columns are naive
    assert str(items.column("charge_period_start")[1].as_py()) == "2024-09-18 21:00:00+00:00"


def test_tz_assumed_flags_only_rows_whose_charge_period_zone_was_assumed(con, tmp_path):
    # Row 2 states its charge period in UTC; its BillingPeriodStart/End stay zone-less, as in
    # the real sample. Only row 1 had hours placed by an assumed zone.
    zoned = [
        (1, "ChargePeriodStart", "2024-09-18T21:00:00Z"),
        (1, "ChargePeriodEnd", "2024-09-18T22:00:00+00:00"),
    ]
    table = _focus_rows(zoned, tmp_path)
    items = read_focus(con, table, "f.csv")
    assert items.column("tz_assumed").to_pylist() == [True, False]


def test_cur2_tz_assumed_ignores_the_billing_period_start(con, sim_bill, tmp_path):
    out, _ = sim_bill
    path = next((out / "cur2").rglob("*.parquet"))
    table = pq.read_table(path)
    # The simulator writes naive timestamps, as CUR Parquet does: give the charge period its
    # zone and leave the billing period start naive. Nothing about the hours was assumed.
    for name in ("line_item_usage_start_date", "line_item_usage_end_date"):
        i = table.schema.get_field_index(name)
        table = table.set_column(i, name, table.column(i).cast(pa.timestamp("us", "UTC")))
    assert not table.schema.field("bill_billing_period_start_date").type.tz
    pq.write_table(table, tmp_path / "c.parquet")
    items = read_cur2(con, read_billing_file(tmp_path / "c.parquet", "c"), "c")
    assert items.num_rows > 0
    assert set(items.column("tz_assumed").to_pylist()) == {False}


def test_simulated_focus_12_detected_and_totals_in_equal_out(con, sim_bill):
    out, truth = sim_bill
    for path in sorted(out.glob("focus/*/data/*/*.csv.gz")):
        period = path.parent.name.split("=")[1]
        items = read_focus(con, read_billing_file(path, path.name), path.name)
        want = truth["periods"][period]["USD"]
        assert _sums(con, items)[:2] == (
            Decimal(want["billed_usd"]),
            Decimal(want["effective_usd"]),
        )
        assert set(items.column("focus_version").to_pylist()) == {"1.2"}


@pytest.mark.parametrize("as_csv", [False, True], ids=["parquet", "csv.gz"])
def test_simulated_cur2_totals_in_equal_out_to_the_cent(con, sim_bill, tmp_path, as_csv):
    from pipelines.fleet.formats.billing import write_export
    from pipelines.fleet.formats.billing_lines import period_lines
    from pipelines.fleet.plan import build_plan
    from pipelines.fleet.spec import DEFAULT_SPEC_PATH, load_spec

    plan = build_plan(load_spec(DEFAULT_SPEC_PATH), dt.date(2026, 11, 1), 1, 0.05, 42)
    lines = period_lines(plan, dt.date(2026, 11, 1))
    fmt = "csv" if as_csv else "parquet"
    write_export(tmp_path / "e", "e", "cur2", dt.date(2026, 11, 1), lines, cur_format=fmt)
    (path,) = (tmp_path / "e" / "data").glob("*/*")
    items = read_cur2(con, read_billing_file(path, path.name), path.name)
    billed = sum((ln.billed for ln in lines), Decimal(0))
    effective = sum((ln.effective for ln in lines), Decimal(0))
    assert _sums(con, items) == (billed, effective, len(lines))


def test_cur2_effective_cost_by_line_item_type(con, sim_bill):
    path = next(sim_bill[0].glob("cur2/*/data/BILLING_PERIOD=2026-11/*.parquet"))
    con.register("items", read_cur2(con, read_billing_file(path, "f"), "f"))
    rows = con.execute(
        "select line_item_type, charge_category, sum(billed_cost), sum(effective_cost) "
        "from items where resource_id like 'i-0b28%' or resource_id like '%sp-0b28%' "
        "group by all order by 1"
    ).fetchall()
    # One simulated day of the SP-covered p5.48xlarge ($55.04/h on demand, SP 28 % off,
    # commitment $40.03/h): covered usage bills on-demand, the negation cancels it, the fee
    # bills the commitment; effective = used 39.6288/h + unused 0.4012/h.
    assert rows == [
        ("SavingsPlanCoveredUsage", "Usage", Decimal("1320.96"), Decimal("951.0912")),
        ("SavingsPlanNegation", "Usage", Decimal("-1320.96"), Decimal("0")),
        ("SavingsPlanRecurringFee", "Purchase", Decimal("960.72"), Decimal("9.6288")),
    ]


def test_cur2_missing_amortization_value_fails_on_its_row(con, sim_bill, tmp_path):
    path = next(sim_bill[0].glob("cur2/*/data/BILLING_PERIOD=2026-11/*.parquet"))
    table = pq.read_table(path)
    col = table.column("savings_plan_savings_plan_effective_cost").to_pylist()
    first = next(i for i, v in enumerate(col) if v is not None)
    col[first] = None
    name = "savings_plan_savings_plan_effective_cost"
    i = table.schema.get_field_index(name)
    table = table.set_column(i, name, pa.array(col, pa.float64()))
    pq.write_table(table, tmp_path / "f.parquet")
    with pytest.raises(SourceError) as info:
        read_cur2(con, read_billing_file(tmp_path / "f.parquet", "f"), "f")
    assert str(info.value) == (
        f"f:{first + 1}: savings_plan_savings_plan_effective_cost: "
        "value is missing on a SavingsPlanCoveredUsage row"
    )


def test_a_million_tiny_costs_sum_exactly(con, tmp_path):
    # Case 9: 10^6 x 0.0000008 is exactly 0.8 in DECIMAL(38,12); as doubles it is not.
    path = tmp_path / "tiny.csv"
    rows = "\n".join(["1,USD,0.0000008"] * 1_000_000)
    path.write_text("a,BillingCurrency,BilledCost\n" + rows + "\n")
    table = read_billing_file(path, "tiny.csv")
    con.register("t", table)
    total = con.execute("select sum(cast(BilledCost as decimal(38,12))) from t").fetchall()[0][0]
    assert total == Decimal("0.8")
    assert sum([0.0000008] * 1_000_000) != 0.8


def test_nan_money_in_parquet_fails_with_line_and_column(con, sim_bill, tmp_path):
    path = next(sim_bill[0].glob("cur2/*/data/BILLING_PERIOD=2026-11/*.parquet"))
    table = pq.read_table(path)
    costs = table.column("line_item_unblended_cost").to_pylist()
    costs[6] = float("nan")
    i = table.schema.get_field_index("line_item_unblended_cost")
    pq.write_table(table.set_column(i, "line_item_unblended_cost", [costs]), tmp_path / "f.parquet")
    with pytest.raises(SourceError) as info:
        read_cur2(con, read_billing_file(tmp_path / "f.parquet", "f"), "f")
    assert str(info.value) == "f:7: line_item_unblended_cost: not a valid money"


def test_cur2_commitment_end_times_land_as_utc_with_their_kind(con, sim_bill, tmp_path):
    # AWS writes the term end as ISO text in UTC; each line names its commitment's end.
    path = next(sim_bill[0].glob("cur2/*/data/BILLING_PERIOD=2026-11/*.parquet"))
    table = pq.read_table(path)
    ri_end = table.column("reservation_end_time").to_pylist()
    ri_end = ["2027-01-05T09:14:27.000Z" if v is not None else None for v in ri_end]
    i = table.schema.get_field_index("reservation_end_time")
    pq.write_table(table.set_column(i, "reservation_end_time", [ri_end]), tmp_path / "f.parquet")
    con.register("items", read_cur2(con, read_billing_file(tmp_path / "f.parquet", "f"), "f"))
    rows = con.execute(
        "select line_item_type, commitment_discount_type, commitment_discount_category, "
        "commitment_discount_end from items where commitment_discount_id is not null "
        "group by all order by 1"
    ).fetchall()
    sp_end = sim_bill[1]["coverage"]["i-0b28d4f6ca0e351a2"]["term_end"]  # the simulator's
    sp = ("Savings Plan", "Spend", dt.datetime.fromisoformat(sp_end))
    ri = ("Reserved Instance", "Usage", dt.datetime(2027, 1, 5, 9, 14, 27, tzinfo=dt.UTC))
    assert rows == [
        ("DiscountedUsage", *ri),
        ("RIFee", *ri),
        ("SavingsPlanCoveredUsage", *sp),
        ("SavingsPlanNegation", *sp),
        ("SavingsPlanRecurringFee", *sp),
    ]
    on_demand = "select count(*) from items where commitment_discount_id is null and (" + (
        "commitment_discount_type is not null or commitment_discount_end is not null)"
    )
    assert con.execute(on_demand).fetchall() == [(0,)]


def test_cur2_bad_commitment_end_time_fails_with_line_and_column(con, sim_bill, tmp_path):
    path = next(sim_bill[0].glob("cur2/*/data/BILLING_PERIOD=2026-11/*.parquet"))
    table = pq.read_table(path)
    ends = table.column("savings_plan_end_time").to_pylist()
    first = next(k for k, v in enumerate(ends) if v is not None)
    ends[first] = "next year"
    i = table.schema.get_field_index("savings_plan_end_time")
    pq.write_table(table.set_column(i, "savings_plan_end_time", [ends]), tmp_path / "f.parquet")
    with pytest.raises(SourceError) as info:
        read_cur2(con, read_billing_file(tmp_path / "f.parquet", "f"), "f")
    assert str(info.value) == f"f:{first + 1}: savings_plan_end_time: not a valid time"


def test_focus_commitment_kind_as_written_else_from_the_arn_and_no_end(con, tmp_path):
    items = read_focus(con, read_billing_file(SAMPLE, "sample"), "sample")
    con.register("items", items)
    # the real AWS sample: Savings Plan rows say their type and category themselves
    assert con.execute(
        "select distinct commitment_discount_type, commitment_discount_category, "
        "commitment_discount_end from items where commitment_discount_id is not null"
    ).fetchall() == [("Savings Plan", "Spend", None)]
    ri = "arn:aws:ec2:us-east-1:123456789012:reserved-instances/4f5e6d7c-aaaa"
    table = _focus_rows([(0, "CommitmentDiscountId", ri)], tmp_path, drop="CommitmentDiscountType")
    items = read_focus(con, table, "f.csv")
    assert items.column("commitment_discount_type").to_pylist() == ["Reserved Instance", None]
    assert items.column("commitment_discount_category").to_pylist() == ["Usage", None]
