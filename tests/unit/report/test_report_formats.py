"""One money formatter for the whole report: the same amount always reads the same."""

from __future__ import annotations

from decimal import Decimal

import pytest

from pipelines.report.formats import money, number, pct

D = Decimal


@pytest.mark.parametrize(
    ("value", "unit", "expected"),
    [
        # $100 and more: whole dollars, thousands separated, half rounds up
        (D("48289.4"), "/mo", "$48,289/mo"),
        (D("1234"), "", "$1,234"),
        (D("2340.5"), "/mo", "$2,341/mo"),
        (D("153.333333333333"), " per 1M", "$153 per 1M"),
        (D("99.996"), "", "$100"),  # judged after rounding to cents
        # $1 to $100 and zero: cents
        (D("55.8"), "", "$55.80"),
        (D("3.818181818181"), " per 1M", "$3.82 per 1M"),
        (D(0), "/mo", "$0.00/mo"),
        # under $1: two significant digits, never rounded to zero
        (D("0.37"), " per 1M", "$0.37 per 1M"),
        (D("0.008750203193"), " per 1M", "$0.0088 per 1M"),
        (D("0.05"), "", "$0.05"),
        (D("0.0000001234"), "", "$0.00000012"),
        # negative amounts (a residual, a credit) keep a leading minus
        (D("-0.6"), "", "-$0.60"),
        (D("-12.5"), "", "-$12.50"),
        (D("-1234.5"), "", "-$1,235"),
        (D("-0.004"), "", "-$0.004"),
        (D("-0"), "", "$0.00"),
        # floats (plotly's) read like the Decimals they came from
        (48289.4, "/mo", "$48,289/mo"),
        (0.1, "", "$0.10"),
        (None, "/mo", "—"),
    ],
)
def test_money(value, unit, expected):
    assert money(value, unit) == expected


def test_money_in_another_currency_uses_its_symbol_or_code():
    assert money(D("10"), currency="EUR") == "€10.00"
    assert money(D("1234.4"), currency="GBP") == "£1,234"
    assert money(D("12"), currency="CHF") == "CHF 12.00"


def test_numbers_and_percentages():
    assert number(3_300_000) == "3,300,000"
    assert number(2.0, 1) == "2.0"
    assert number(None) == "—"
    assert pct(12.6 / 55.8) == "22.6 %"
    assert pct(0.0) == "0.0 %"
    assert pct(None) == "—"
