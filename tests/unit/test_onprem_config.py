"""``onprem:`` in unitcost.yaml: per-day amortisation and overhead by hand, and each mistake
reported at its file, line and key (pipelines/onprem/config.py)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from pipelines.config import load_settings
from pipelines.fleet.spec import load_spec
from pipelines.onprem.config import rates_frame
from pipelines.yamlconf import ConfigError

HOSTS = """\
onprem:
  usd_per_kwh: "0.12"
  pue: "1.4"
  hosts:
    - host: gpu-node-01
      gpu: {type: h100-sxm, count: 8}
      capital: {per: host, price_usd: "280000", amortisation_months: 48, residual_usd: "40000"}
      overhead_usd_per_month: "1500"
    - host_pattern: "gpu-l40s-*"
      gpu: {type: l40s, count: 4}
      capital: {per: gpu, price_usd: "9000", amortisation_months: 36}
      fallback_power_w_per_gpu: 300
      pue: "1.25"
"""


@pytest.fixture(autouse=True)
def _no_overrides(monkeypatch):
    monkeypatch.delenv("UNITCOST_DUCKDB", raising=False)
    monkeypatch.delenv("UNITCOST_REGISTRY", raising=False)


def _load(tmp_path, text: str):
    (tmp_path / "unitcost.yaml").write_text("registry: r.yaml\n" + text)
    return load_settings(tmp_path / "unitcost.yaml")


def test_one_host_day_by_hand(tmp_path):
    rows = rates_frame(_load(tmp_path, HOSTS).onprem).to_dicts()
    node, l40s = rows
    # (280,000 - 40,000) / 48 = 5,000.00 a month; a month is 365/12 days:
    # 5,000 × 12 / 365 = 60,000 / 365 = 164.383561643835 616... a day
    assert node["amortisation_usd_per_day"] == Decimal("164.383561643836")
    # 1,500 × 12 / 365 = 18,000 / 365 = 49.315068493150 684...
    assert node["overhead_usd_per_day"] == Decimal("49.315068493151")
    # priced per GPU, no residual: 9,000 × 4 / 36 = 1,000.00 a month = 12,000 / 365 a day
    assert l40s["amortisation_usd_per_day"] == Decimal("32.876712328767")
    assert l40s["overhead_usd_per_day"] == Decimal("0")
    # energy: the H100 box's day of 100 kWh at the GPUs costs 100 × 0.12 × 1.4 = $16.80
    assert (node["usd_per_kwh"], node["pue"]) == (Decimal("0.12"), Decimal("1.4"))
    assert Decimal(100) * node["usd_per_kwh"] * node["pue"] == Decimal("16.80")
    # the entry's own PUE wins over the section's; fallback power: configured, else TDP
    assert (l40s["pue"], l40s["usd_per_kwh"]) == (Decimal("1.25"), Decimal("0.12"))
    assert node["fallback_power_w_per_gpu"] == 700.0  # H100 SXM TDP, gpus.csv
    assert l40s["fallback_power_w_per_gpu"] == 300.0
    assert (node["host"], l40s["host_pattern"]) == ("gpu-node-01", "gpu-l40s-*")


def test_without_an_onprem_section_the_table_is_empty_but_typed(tmp_path):
    frame = rates_frame(_load(tmp_path, "").onprem)
    assert frame.height == 0
    assert "amortisation_usd_per_day" in frame.columns


@pytest.mark.parametrize(
    ("old", "new", "problem"),
    [
        (
            'price_usd: "280000"',
            "price_usd: 280000.5",
            "unitcost.yaml:8: onprem.hosts[0].capital.price_usd: write an amount in USD as a "
            'quoted decimal string, e.g. "1.25", not 280000.5',
        ),
        (
            'residual_usd: "40000"',
            'residual_usd: "300000"',
            "unitcost.yaml:8: onprem.hosts[0].capital.residual_usd: the residual value cannot "
            "exceed the price",
        ),
        (
            "    - host: gpu-node-01\n",
            "    - host: gpu-node-01\n      host_pattern: gpu-*\n",
            "unitcost.yaml:6: onprem.hosts[0]: give exactly one of host or host_pattern",
        ),
        (
            '    - host_pattern: "gpu-l40s-*"',
            '    - host_pattern: "gpu-l40s-01"',
            "unitcost.yaml:10: onprem.hosts[1].host_pattern: 'gpu-l40s-01' has no * ? or [: "
            "use host",
        ),
        (
            'pue: "1.25"',
            'pue: "0.9"',
            "unitcost.yaml:14: onprem.hosts[1].pue: pue '0.9' must be at least 1",
        ),
        (
            'usd_per_kwh: "0.12"',
            "usd_per_kwh: 0.12",
            "unitcost.yaml:3: onprem.usd_per_kwh: write usd_per_kwh as a quoted decimal "
            'string, e.g. "1.25", not 0.12',
        ),
        (
            "amortisation_months: 48",
            "amortisation_months: 0",
            "unitcost.yaml:8: onprem.hosts[0].capital.amortisation_months: Input should be "
            "greater than or equal to 1",
        ),
        (
            "type: l40s",
            "type: l40x",
            "unitcost.yaml:11: onprem.hosts[1].gpu.type: unknown GPU type 'l40x'",
        ),
        (
            '    - host_pattern: "gpu-l40s-*"',
            "    - host: gpu-node-01",
            "unitcost.yaml:10: onprem.hosts[1].host: 'gpu-node-01' is already hosts[0]",
        ),
        (
            "per: host",
            "per: rack",
            "unitcost.yaml:8: onprem.hosts[0].capital.per: Input should be 'gpu' or 'host'",
        ),
    ],
)
def test_each_mistake_is_reported_at_its_line_and_key(tmp_path, old, new, problem):
    assert old in HOSTS
    with pytest.raises(ConfigError) as err:
        _load(tmp_path, HOSTS.replace(old, new, 1))
    assert any(f"/{problem}" in p for p in err.value.problems), err.value.problems


def test_a_fleet_spec_host_without_a_cloud_id_must_be_priced_on_prem(tmp_path):
    spec = load_spec.__globals__["DEFAULT_SPEC_PATH"].parent / "specs" / "onprem_fleet.yaml"
    text = spec.read_text().replace('host_pattern: "dc1-gpu-*"', 'host_pattern: "dc2-gpu-*"')
    (tmp_path / "spec.yaml").write_text(text)
    with pytest.raises(ConfigError) as err:
        load_spec(tmp_path / "spec.yaml")
    assert any(
        "instances[1]: on-prem host dc1-gpu-02 matches no onprem entry" in p
        for p in err.value.problems
    ), err.value.problems
