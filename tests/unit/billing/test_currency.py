"""RELIABILITY case 8: a bill in a currency other than USD needs a configured, dated rate for
its billing period, or its delivery fails naming the currency and the file; with one it loads
in its own currency (never converted, never summed with USD).

Bills are the real FOCUS 1.0 sample's header and first row (period 2024-09, USD) with the
currency and costs each test sets; rates are written as unitcost.yaml would give them.
"""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import io
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pytest

from pipelines.config import FxRate
from pipelines.ingest.billing.currency import check_currencies, rates_frame, usd_rate
from pipelines.ingest.billing.load import BillingSource, ingest_billing
from pipelines.ingest.errors import SourceError

SAMPLE = Path(__file__).parents[2] / "fixtures" / "billing" / "focus_1.0_sample_1000.csv.gz"
SEP, OCT = dt.date(2024, 9, 1), dt.date(2024, 10, 1)


def _rate(day: str, rate: str) -> FxRate:
    return FxRate.model_validate({"from": day, "rate": rate})


def _write_focus(path: Path, rows: list[dict[str, str]]) -> Path:
    lines = list(csv.reader(io.StringIO(gzip.decompress(SAMPLE.read_bytes()).decode())))
    header, base = lines[0], dict(zip(lines[0], lines[1], strict=True))
    out = io.StringIO(newline="")
    writer = csv.writer(out)
    writer.writerow(header)
    for row in rows:
        writer.writerow([{**base, **row}[name] for name in header])
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(out.getvalue())
    return path


def _mixed_bill(tmp_path: Path) -> Path:
    """One account, period 2024-09: a USD line (data line 2), then two EUR lines (3, 4)."""
    return _write_focus(
        tmp_path / "src" / "focus.csv",
        [
            {"BillingCurrency": "USD", "BilledCost": "10.00", "EffectiveCost": "8.00"},
            {"BillingCurrency": "EUR", "BilledCost": "20.00", "EffectiveCost": "18.00"},
            {"BillingCurrency": "EUR", "BilledCost": "0.50", "EffectiveCost": "0.25"},
        ],
    )


def _source(tmp_path: Path, rates: dict) -> BillingSource:
    return BillingSource("billing", tmp_path / "src", "focus", fx_rates_usd=rates)


def test_a_eur_bill_without_a_configured_rate_fails_naming_currency_and_file(con, tmp_path):
    path = _mixed_bill(tmp_path)
    with pytest.raises(SourceError) as err:
        ingest_billing(con, _source(tmp_path, {}))
    assert str(err.value) == (
        f"{path}:3: BillingCurrency: billing currency EUR has no configured rate to USD for "
        "billing period 2024-09: add one from 2024-09-01 or earlier under "
        "billing.fx_rates_usd.EUR in unitcost.yaml"
    )
    # nothing committed, not even the USD line of the same delivery
    assert con.execute("select count(*) from raw.billing_line_items").fetchall() == [(0,)]
    assert con.execute("select count(*) from raw.billing_deliveries").fetchall() == [(0,)]


def test_a_rate_dated_after_the_periods_first_day_does_not_cover_it(con, tmp_path):
    _mixed_bill(tmp_path)
    rates = {"EUR": [_rate("2024-09-02", "1.08")], "GBP": [_rate("2024-01-01", "1.27")]}
    with pytest.raises(SourceError, match="billing currency EUR has no configured rate"):
        ingest_billing(con, _source(tmp_path, rates))


def test_with_a_covering_rate_the_bill_loads_in_its_own_currency(con, tmp_path):
    _mixed_bill(tmp_path)
    ingest_billing(con, _source(tmp_path, {"EUR": [_rate("2024-01-01", "1.08")]}))
    totals = con.execute(
        "select billing_currency, sum(billed_cost), sum(effective_cost) "
        "from raw.billing_line_items group by 1 order by 1"
    ).fetchall()
    # by hand: EUR 20.00 + 0.50 billed, 18.00 + 0.25 effective; USD apart, unconverted
    assert totals == [
        ("EUR", Decimal("20.50"), Decimal("18.25")),
        ("USD", Decimal("10.00"), Decimal("8.00")),
    ]


def test_cur2_names_its_currency_column_and_the_first_line_of_the_first_file():
    items = pa.table(
        {
            "billing_currency": ["USD", "JPY", "JPY", "JPY"],
            "billing_period": [OCT, OCT, OCT, OCT],
            "source_file": ["s3://b/a.parquet", "s3://b/b.parquet", "s3://b/a.parquet"]
            + ["s3://b/a.parquet"],
            "source_line": [2, 9, 7, 5],
        }
    )
    with pytest.raises(SourceError) as err:
        check_currencies(items, {}, "cur2")
    assert str(err.value).startswith(
        "s3://b/a.parquet:5: line_item_currency_code: billing currency JPY has no configured "
        "rate to USD for billing period 2024-10"
    )
    check_currencies(items, {"JPY": [_rate("2024-10-01", "0.0066")]}, "cur2")  # covered


def test_a_period_takes_the_newest_rate_dated_on_or_before_its_first_day():
    rates = {"EUR": [_rate("2024-10-01", "1.0834"), _rate("2024-01-01", "1.05")]}
    assert usd_rate(rates, "EUR", SEP) == Decimal("1.05")
    assert usd_rate(rates, "EUR", OCT) == Decimal("1.0834")
    assert usd_rate(rates, "EUR", dt.date(2023, 12, 1)) is None
    assert usd_rate(rates, "GBP", OCT) is None
    assert usd_rate({}, "USD", OCT) == Decimal(1)


def test_the_rates_table_gives_each_rate_its_validity_and_keeps_the_digits():
    frame = rates_frame({"EUR": [_rate("2024-10-01", "1.0834"), _rate("2024-01-01", "1.05")]})
    assert str(frame.schema["usd_per_unit"]) == "Decimal(precision=20, scale=10)"
    assert frame.rows() == [
        ("EUR", dt.date(2024, 1, 1), OCT, Decimal("1.05")),
        ("EUR", OCT, None, Decimal("1.0834")),
    ]
