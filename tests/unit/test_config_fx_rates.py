"""``billing.fx_rates_usd`` in unitcost.yaml: dated rates to USD as decimal strings, each
problem reported by line and key (RELIABILITY case 8)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from pipelines.config import load_settings
from pipelines.yamlconf import ConfigError


@pytest.fixture(autouse=True)
def _no_overrides(monkeypatch):
    monkeypatch.delenv("UNITCOST_DUCKDB", raising=False)
    monkeypatch.delenv("UNITCOST_REGISTRY", raising=False)


def _load(tmp_path, billing: str):
    (tmp_path / "unitcost.yaml").write_text("registry: r.yaml\nbilling:\n" + billing)
    return load_settings(tmp_path / "unitcost.yaml")


def test_rates_are_exact_decimals_sorted_by_date(tmp_path):
    settings = _load(
        tmp_path,
        "  fx_rates_usd:\n"
        "    EUR:\n"
        '      - {from: 2026-11-01, rate: "1.0834"}\n'
        '      - {from: 2026-01-01, rate: "1.05"}\n'
        '    JPY: [{from: 2026-01-01, rate: "0.0066123457"}]\n',
    )
    rates = settings.billing.fx_rates_usd
    assert [(r.valid_from, r.rate) for r in rates["EUR"]] == [
        (dt.date(2026, 1, 1), Decimal("1.05")),
        (dt.date(2026, 11, 1), Decimal("1.0834")),
    ]
    assert rates["JPY"][0].rate == Decimal("0.0066123457")


def test_no_billing_section_means_no_rates(tmp_path):
    (tmp_path / "unitcost.yaml").write_text("registry: r.yaml\n")
    assert load_settings(tmp_path / "unitcost.yaml").billing.fx_rates_usd == {}


@pytest.mark.parametrize(
    ("billing", "problem"),
    [
        (
            "  fx_rates_usd:\n    EUR: [{from: 2026-01-01, rate: 1.08}]\n",
            "unitcost.yaml:4: billing.fx_rates_usd.EUR[0].rate: write the rate as a quoted "
            'decimal string, e.g. "1.08" (got 1.08)',
        ),
        (
            '  fx_rates_usd:\n    EUR: [{from: 2026-01-01, rate: "1.08000000001"}]\n',
            "unitcost.yaml:4: billing.fx_rates_usd.EUR[0].rate: rate '1.08000000001' must be a "
            "plain decimal (USD per unit), at most 10 digits before and 10 after the point",
        ),
        (
            '  fx_rates_usd:\n    EUR: [{from: 2026-01-01, rate: "0"}]\n',
            "unitcost.yaml:4: billing.fx_rates_usd.EUR[0].rate: rate '0' must be greater than 0",
        ),
        (
            '  fx_rates_usd:\n    EUR: [{from: 2026-13-01, rate: "1.08"}]\n',
            "unitcost.yaml:4: billing.fx_rates_usd.EUR[0].from: Input should be a valid date or "
            "datetime, month value is outside expected range of 1-12",
        ),
        (
            '  fx_rates_usd:\n    EUR: [{since: 2026-01-01, rate: "1.08"}]\n',
            "unitcost.yaml:4: billing.fx_rates_usd.EUR[0].from: required key is missing\n"
            "unitcost.yaml:4: billing.fx_rates_usd.EUR[0].since: unknown key",
        ),
        (
            '  fx_rates_usd:\n    Euro: [{from: 2026-01-01, rate: "1.08"}]\n',
            "unitcost.yaml:4: billing.fx_rates_usd: currency 'Euro' must be an ISO 4217 code, "
            "e.g. EUR",
        ),
        (
            '  fx_rates_usd:\n    USD: [{from: 2026-01-01, rate: "1"}]\n',
            "unitcost.yaml:4: billing.fx_rates_usd.USD: USD needs no rate: it is the currency "
            "rates convert to",
        ),
        (
            "  fx_rates_usd:\n    EUR: []\n",
            "unitcost.yaml:4: billing.fx_rates_usd.EUR: give at least one {from: YYYY-MM-DD, "
            'rate: "1.08"}',
        ),
        (
            "  fx_rates_usd:\n    EUR:\n"
            '      - {from: 2026-01-01, rate: "1.08"}\n      - {from: 2026-01-01, rate: "1.07"}\n',
            "unitcost.yaml:5: billing.fx_rates_usd.EUR: two rates from the same date",
        ),
        ("  fx_rate_usd: {}\n", "unitcost.yaml:3: billing.fx_rate_usd: unknown key"),
    ],
    ids=[
        "yaml float",
        "too many decimals",
        "zero",
        "bad date",
        "no from",
        "not a code",
        "usd",
        "empty",
        "same date twice",
        "typo",
    ],  # fmt: skip
)
def test_bad_rates_are_reported_by_line_and_key(billing, problem, tmp_path):
    with pytest.raises(ConfigError) as err:
        _load(tmp_path, billing)
    assert "\n".join(p.replace(f"{tmp_path}/", "") for p in err.value.problems) == problem
