"""GPU instances are recognised by family and size from the GPU catalog, not only when the
cost model prices them; billed lines that look like GPUs we cannot name are reported."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import polars as pl
import pytest

from pipelines.assets.billing import _unknown_gpu_check
from pipelines.costmodel.prices import INSTANCE_PRICES_PATH
from pipelines.ingest.billing.gpu_catalog import (
    instance_types,
    load_catalog,
    unknown_gpu_like_lines,
)
from pipelines.ingest.billing.load import ensure_tables

SEP = dt.date(2024, 9, 1)


@pytest.fixture(scope="module")
def types() -> dict[str, tuple[str, int]]:
    frame = instance_types(INSTANCE_PRICES_PATH)
    assert frame["instance_type"].is_unique().all()
    return {
        t: (g, n) for t, g, n in frame.select("instance_type", "gpu_id", "gpus_per_instance").rows()
    }


@pytest.mark.parametrize(
    ("instance_type", "gpu", "count"),
    [
        ("g6.2xlarge", "l4", 1),  # issue 12: not in the 33-row price list
        ("g5.12xlarge", "a10g", 4),
        ("p3.2xlarge", "v100-16gb", 1),
        ("p3.16xlarge", "v100-16gb", 8),
        ("p3dn.24xlarge", "v100-32gb", 8),
        ("g4dn.2xlarge", "t4", 1),
        ("g4ad.16xlarge", "radeon-pro-v520", 4),
        ("g5g.metal", "t4g", 2),
        ("g6e.24xlarge", "l40s", 4),
        ("gr6.8xlarge", "l4", 1),
        ("p6-b200.48xlarge", "b200", 8),
        ("a3-highgpu-4g", "h100-sxm", 4),
        ("g2-standard-24", "l4", 2),
        ("a2-megagpu-16g", "a100-40gb", 16),
        ("Standard_NC40ads_H100_v5", "h100-nvl", 1),
        ("Standard_ND96isr_H200_v5", "h200", 8),
        ("Standard_NC64as_T4_v3", "t4", 4),
    ],
)
def test_gpu_type_and_count_from_the_catalog(types, instance_type, gpu, count):
    assert types[instance_type] == (gpu, count)


def test_the_catalog_agrees_with_the_price_list_and_keeps_its_prices(types):
    prices = pl.read_csv(INSTANCE_PRICES_PATH, schema_overrides={"usd_per_hour": pl.String})
    for t, g, n in prices.select("instance_type", "gpu_id", "gpus_per_instance").rows():
        assert types[t] == (g, n), t
    frame = instance_types(INSTANCE_PRICES_PATH)
    priced = dict(frame.drop_nulls("usd_per_hour").select("instance_type", "usd_per_hour").rows())
    assert priced == dict(prices.select("instance_type", "usd_per_hour").rows())


def test_current_families_are_covered_and_accelerators_are_not_gpus():
    catalog = load_catalog()
    families = set(catalog.filter(pl.col("kind") == "gpu")["family"])
    assert {
        "p3", "p4d", "p4de", "p5", "p5e", "p5en", "p6-b200", "g4dn", "g4ad", "g5", "g5g",
        "g6", "g6e", "gr6", "a2", "a3", "g2", "nc", "nd", "nv",
    } <= families  # fmt: skip
    accelerators = set(catalog.filter(pl.col("kind") == "accelerator")["family"])
    assert {"inf1", "inf2", "trn1", "trn2"} <= accelerators
    assert catalog["source_url"].null_count() == 0
    assert (
        instance_types(INSTANCE_PRICES_PATH)
        .filter(pl.col("instance_type").str.starts_with("inf"))
        .is_empty()
    )


@pytest.fixture
def billed(con):
    ensure_tables(con)
    lines = [
        ("g6.2xlarge", "Usage", "1.00"),  # catalogued GPU: allocated as GPU, not reported
        ("g7.2xlarge", "Usage", "2.50"),  # a GPU family, a type nobody catalogued yet
        ("g7.2xlarge", "Usage", "2.50"),
        ("ml.g5.xlarge", "Usage", "0.75"),  # SageMaker GPU
        ("zz9.huge", "Usage", "0.10"),  # unknown family: may be GPU
        ("m5.large", "Usage", "9.00"),  # known non-GPU
        ("inf2.xlarge", "Usage", "9.00"),  # accelerator, not GPU
        ("a2-highgpu-3g", "Usage", "4.00"),  # GCP GPU family, no such size
        ("g7.2xlarge", "Credit", "-5.00"),  # not usage
    ]
    for instance_type, category, cost in lines:
        con.execute(
            "insert into raw.billing_line_items (billing_source, billing_account_id, "
            "billing_period, billing_currency, charge_category, instance_type, billed_cost, "
            "effective_cost) values ('billing', 'a', ?, 'USD', ?, ?, ?, ?)",
            [SEP, category, instance_type, cost, cost],
        )
    return con


def test_gpu_like_and_unknown_lines_with_unknown_types_are_reported_with_dollars(billed):
    rows = unknown_gpu_like_lines(billed, [SEP])
    assert [(t, k, n, b) for t, k, _, n, b, _ in rows] == [
        ("g7.2xlarge", "gpu-like", 2, Decimal("5.00")),
        ("a2-highgpu-3g", "gpu-like", 1, Decimal("4.00")),
        ("ml.g5.xlarge", "gpu-like", 1, Decimal("0.75")),
        ("zz9.huge", "unknown", 1, Decimal("0.10")),
    ]
    assert unknown_gpu_like_lines(billed, [dt.date(2024, 10, 1)]) == []


def test_the_warn_check_carries_the_dollars(billed):
    result = _unknown_gpu_check(billed, {SEP})
    assert not result.passed
    assert result.severity.value == "WARN"
    assert result.metadata["billed_cost_by_currency"].value == {"USD": "9.850000000000"}
