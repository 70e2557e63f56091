"""Shipped instance prices and user overrides."""

import pytest

from pipelines.costmodel.catalog import gpu_ids
from pipelines.costmodel.prices import apply_price_overrides, cheapest_instance, instance_prices

REQUIRED_FAMILIES = {
    "aws": ["g4dn", "g5", "g6", "g6e", "p4d", "p4de", "p5", "p5e", "p5en"],
    "gcp": ["g2", "a2", "a3"],
    "azure": ["NC24ads_A100_v4", "ND96asr_v4", "ND96isr_H100_v5"],
}


@pytest.mark.parametrize(
    ("provider", "family"), [(p, f) for p, fs in REQUIRED_FAMILIES.items() for f in fs]
)
def test_every_required_instance_family_is_priced(provider, family):
    names = [p.instance_type for p in instance_prices().values() if p.provider == provider]
    assert any(
        name.split(".")[0] == family or name.split("-")[0] == family or family in name
        for name in names
    )


def test_every_price_row_has_gpu_region_source_and_date():
    for price in instance_prices().values():
        assert price.gpu_id in gpu_ids()
        assert price.gpus_per_instance >= 1 and price.usd_per_hour > 0
        assert price.region and price.source_url.startswith("https://") and price.as_of


def test_g5_4xlarge_matches_the_price_billed_in_the_focus_sample():
    assert instance_prices()["g5.4xlarge"].usd_per_hour == 1.624


def test_overrides_replace_a_price_without_mutating_the_input():
    shipped = instance_prices()
    merged = apply_price_overrides(shipped, {"p5.48xlarge": {"usd_per_hour": 40.0}})
    assert merged["p5.48xlarge"].usd_per_gpu_hour == 5.0
    assert merged["p5.48xlarge"].gpus_per_instance == 8
    assert shipped["p5.48xlarge"].usd_per_hour != 40.0


def test_overrides_add_an_on_prem_server():
    merged = apply_price_overrides(
        instance_prices(), {"onprem": {"usd_per_hour": 12, "gpus": 8, "gpu_type": "b200"}}
    )
    assert merged["onprem"].gpu_id == "b200"
    assert cheapest_instance("b200", merged).instance_type == "onprem"


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ({"new": {"usd_per_hour": 1.0}}, "needs"),
        ({"p5.48xlarge": {"gpu_type": "h100-sxm5"}}, "unknown gpu_type"),
        ({"p5.48xlarge": {"price": 1}}, "unknown keys"),
        ({"p5.48xlarge": {"usd_per_hour": -1}}, ">= 0"),
    ],
)
def test_invalid_overrides_are_rejected_with_a_clear_message(override, message):
    with pytest.raises(ValueError, match=message):
        apply_price_overrides(instance_prices(), override)


def test_cheapest_instance_is_the_lowest_price_per_gpu_and_none_when_unpriced():
    cheapest = cheapest_instance("a10g")
    assert all(
        cheapest.usd_per_gpu_hour <= p.usd_per_gpu_hour
        for p in instance_prices().values()
        if p.gpu_id == "a10g"
    )
    assert cheapest_instance("mi300x") is None
