"""The hosted-API price table: dated, sourced, with cached-input prices; bad rows named."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest

from pipelines.costmodel.catalog import llm_ids
from pipelines.recommend.api_prices import load_api_prices, shipped_api_prices

HEADER = (
    "provider,llm_id,api_model,usd_per_1m_input_tokens,usd_per_1m_cached_input_tokens,"
    "usd_per_1m_output_tokens,source_url,as_of,verified,note\n"
)
GOOD = "acme,llama-3.1-8b,acme/l8,0.10,0.05,0.40,https://acme.example/pricing,2026-12-01,true,\n"


def test_shipped_table_is_dated_sourced_and_has_cached_input_prices():
    prices = shipped_api_prices()
    assert len(prices) >= 10
    for p in prices:
        assert p.llm_id in llm_ids()
        assert p.source_url.startswith("https://") and re.match(r"^\d{4}-\d{2}", p.as_of)
        assert Decimal(0) < p.usd_per_1m_cached_input_tokens <= p.usd_per_1m_input_tokens
        # nothing in it could be checked against a live page: it must say so
        assert p.verified is False and p.note
    mixtral = {p.provider: p for p in prices if p.llm_id == "mixtral-8x7b"}
    assert set(mixtral) == {"together", "fireworks"}


def test_a_user_table_loads_with_exact_decimal_prices(tmp_path):
    path = tmp_path / "prices.csv"
    path.write_text(HEADER + GOOD)
    (price,) = load_api_prices(path)
    assert price.usd_per_1m_cached_input_tokens == Decimal("0.05")
    assert (price.as_of, price.verified) == ("2026-12-01", True)


@pytest.mark.parametrize(
    ("row", "problem"),
    [
        (GOOD.replace("0.10,0.05", "0.10,0.50"), "line 2: usd_per_1m_cached_input_tokens is above"),
        (GOOD.replace(",0.40,", ",abc,"), "line 2: usd_per_1m_output_tokens 'abc' is not a"),
        (GOOD.replace("llama-3.1-8b", "llama-9b"), "line 2: llm_id 'llama-9b' is not in the LLM"),
        (GOOD.replace("2026-12-01", "Dec 2026"), "line 2: as_of 'Dec 2026' is not YYYY-MM"),
        (GOOD.replace(",true,", ",yes,"), "line 2: verified 'yes' is not true or false"),
    ],
    ids=["cached above input", "not a number", "unknown llm", "undated", "verified"],
)
def test_a_bad_row_is_named_by_line_and_column(tmp_path, row, problem):
    path = tmp_path / "prices.csv"
    path.write_text(HEADER + row)
    with pytest.raises(ValueError, match=re.escape(problem)):
        load_api_prices(path)


def test_a_table_without_cached_prices_is_refused(tmp_path):
    path = tmp_path / "prices.csv"
    path.write_text(HEADER.replace("usd_per_1m_cached_input_tokens,", "") + "x\n")
    with pytest.raises(ValueError, match="line 1: missing columns usd_per_1m_cached_input_tokens"):
        load_api_prices(path)
