"""The run config: paths resolve against the file's folder; env overrides; bad values named;
the recommendation policy and API prices it sets."""

from __future__ import annotations

import shutil
from decimal import Decimal
from pathlib import Path

import pytest

from pipelines.config import load_settings
from pipelines.costmodel.catalog import gpu_ids
from pipelines.recommend.api_prices import API_PRICES_PATH, load_api_prices
from pipelines.recommend.config import PolicyConfig
from pipelines.recommend.policy import POLICY_FIELDS, Policy
from pipelines.yamlconf import ConfigError


@pytest.fixture(autouse=True)
def _no_overrides(monkeypatch):
    monkeypatch.delenv("UNITCOST_DUCKDB", raising=False)
    monkeypatch.delenv("UNITCOST_REGISTRY", raising=False)
    monkeypatch.delenv("DAGSTER_HOME", raising=False)


def test_relative_paths_resolve_against_the_config_folder(tmp_path, monkeypatch):
    (tmp_path / "conf").mkdir()
    path = tmp_path / "conf" / "unitcost.yaml"
    path.write_text(
        "duckdb_path: ../wh/u.duckdb\nregistry: reg.yaml\n"
        "sources:\n  requests: {location: logs/}\n"
        "  billing: {location: 's3://bkt/cur/', format: cur2}\n"
    )
    monkeypatch.chdir("/")
    settings = load_settings(path)
    assert settings.duckdb_path == tmp_path / "wh" / "u.duckdb"
    assert settings.registry_path == tmp_path / "conf" / "reg.yaml"
    assert settings.source_location("requests") == tmp_path / "conf" / "logs"
    assert settings.source_location("billing") == "s3://bkt/cur/"
    assert settings.source_location("telemetry") is None


def test_duckdb_path_defaults_to_var_and_env_overrides(tmp_path, monkeypatch):
    path = tmp_path / "unitcost.yaml"
    path.write_text("registry: r.yaml\n")
    assert load_settings(path).duckdb_path == tmp_path / "var" / "unitcost.duckdb"
    monkeypatch.setenv("UNITCOST_DUCKDB", str(tmp_path / "elsewhere.duckdb"))
    monkeypatch.setenv("UNITCOST_REGISTRY", str(tmp_path / "other.yaml"))
    settings = load_settings(path)
    assert settings.duckdb_path == tmp_path / "elsewhere.duckdb"
    assert settings.registry_path == tmp_path / "other.yaml"


@pytest.mark.parametrize(
    ("text", "problems"),
    [
        ("duckdb_path: x.duckdb\n", ["unitcost.yaml:1: registry: required key is missing"]),
        (
            "registry: r.yaml\nsources:\n  billing: {location: 'https://x/y'}\n",
            [
                "unitcost.yaml:3: sources.billing.location: location 'https://x/y' must be a "
                "local path or an s3:// URI"
            ],
        ),
        (
            "registry: r.yaml\nsources:\n  invoices: {location: inv/}\n",
            [
                "unitcost.yaml:3: sources.invoices.[key]: Input should be 'billing', 'telemetry' "
                "or 'requests'"
            ],
        ),
        ("- registry\n", ["unitcost.yaml:1: (top level): expected a mapping of keys to values"]),
    ],
    ids=["registry missing", "http location", "unknown source", "not a mapping"],
)
def test_invalid_config_is_reported_by_line_and_key(text, problems, tmp_path, monkeypatch):
    (tmp_path / "unitcost.yaml").write_text(text)
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError) as err:
        load_settings("unitcost.yaml")
    assert [p.replace(f"{tmp_path}/", "") for p in err.value.problems] == problems


# -- recommend: the engine's policy and API prices ------------------------------------------

PRICES_HEADER = (
    "provider,llm_id,api_model,usd_per_1m_input_tokens,usd_per_1m_cached_input_tokens,"
    "usd_per_1m_output_tokens,source_url,as_of,verified,note\n"
)


def test_policy_defaults_are_the_documented_ones(tmp_path):
    # the values README's configuration section and Policy's docstring state
    (tmp_path / "unitcost.yaml").write_text("registry: r.yaml\n")
    policy = load_settings(tmp_path / "unitcost.yaml").policy
    assert policy == Policy()
    assert (policy.min_replicas_kept, policy.slo_p95_ttft_ms, policy.slo_p95_tpot_ms) == (
        2,
        3000,
        150,
    )
    assert policy.min_monthly_savings_usd == Decimal("500")
    assert policy.api_min_monthly_savings_usd == Decimal("1000")
    assert (policy.api_margin, policy.kv_headroom, policy.distill_token_budget) == (0.3, 1.5, 1e10)


def test_recommend_policy_and_prices_come_from_the_config(tmp_path):
    (tmp_path / "prices").mkdir()
    (tmp_path / "prices" / "api.csv").write_text(
        PRICES_HEADER + "acme,llama-3.1-8b,acme/l8,0.10,0.025,0.40,https://acme.example,2026-12-01,"
        "true,negotiated\n"
    )
    (tmp_path / "unitcost.yaml").write_text(
        "registry: r.yaml\n"
        "recommend:\n"
        "  policy:\n"
        "    min_replicas_kept: 1\n"
        "    slo_p95_ttft_ms: 2500\n"
        "    min_monthly_savings_usd: 750.50\n"
        "    quantize_to: [fp8]\n"
        "    gpu_price_overrides: {l4: 0.70}\n"
        "  api_prices: prices/api.csv\n"
    )
    settings = load_settings(tmp_path / "unitcost.yaml")
    policy = settings.policy
    assert (policy.min_replicas_kept, policy.slo_p95_ttft_ms) == (1, 2500)
    assert policy.min_monthly_savings_usd == Decimal("750.50")
    assert (policy.quantize_to, dict(policy.gpu_price_overrides)) == (("fp8",), {"l4": 0.70})
    assert policy.slo_p95_tpot_ms == 150  # unset: the default
    (price,) = settings.api_prices()
    assert (price.provider, price.usd_per_1m_cached_input_tokens) == ("acme", Decimal("0.025"))
    assert settings.api_prices_path == tmp_path / "prices" / "api.csv"


def test_every_policy_field_can_be_set_in_the_config():
    assert set(PolicyConfig.model_fields) == set(POLICY_FIELDS)


@pytest.mark.parametrize(
    ("section", "problem"),
    [
        (
            "  policy:\n    slo_p95_ttft: 2500\n",
            "unitcost.yaml:4: recommend.policy.slo_p95_ttft: unknown key",
        ),
        (
            "  policy:\n    api_margin: 1.5\n",
            "unitcost.yaml:4: recommend.policy.api_margin: Input should be less than 1",
        ),
        (
            "  policy:\n    quantize_to: [fp8, fp4]\n",
            "unitcost.yaml:4: recommend.policy.quantize_to: the cost model has no weight "
            "precision 'fp4'; known: fp16, bf16, fp8, int8, int4, nvfp4, mxfp4",
        ),
        (
            "  policy:\n    gpu_price_overrides: {rtx-9090: 1.0}\n",
            "unitcost.yaml:4: recommend.policy.gpu_price_overrides: unknown GPU type 'rtx-9090'; "
            "known: " + ", ".join(gpu_ids()),
        ),
        (
            "  api_prices: nope.csv\n",
            "unitcost.yaml:3: recommend.api_prices: price table 'TMP/nope.csv' not found",
        ),
        (
            "  api_prices: bad.csv\n",
            "unitcost.yaml:3: recommend.api_prices: price table 'TMP/bad.csv': line 2: "
            "usd_per_1m_cached_input_tokens is above usd_per_1m_input_tokens",
        ),
        ("  recomend: {}\n", "unitcost.yaml:3: recommend.recomend: unknown key"),
    ],
    ids=["misspelt field", "out of range", "precision", "gpu", "no file", "bad file", "typo"],
)
def test_invalid_recommend_section_is_reported_by_line_and_key(section, problem, tmp_path):
    (tmp_path / "bad.csv").write_text(
        PRICES_HEADER + "acme,llama-3.1-8b,acme/l8,0.10,0.20,0.40,https://acme.example,2026-12,"
        "false,\n"
    )
    (tmp_path / "unitcost.yaml").write_text("registry: r.yaml\nrecommend:\n" + section)
    with pytest.raises(ConfigError) as err:
        load_settings(tmp_path / "unitcost.yaml")
    assert [p.replace(str(tmp_path), "TMP") for p in err.value.problems] == [
        problem.replace("unitcost.yaml", "TMP/unitcost.yaml")
    ]


def test_readme_config_example_states_the_policy_defaults(tmp_path):
    readme = (Path(__file__).parents[2] / "README.md").read_text()
    example = readme.split("## Configuration", 1)[1].split("```yaml\n", 1)[1].split("```", 1)[0]
    assert "recommend:" in example
    (tmp_path / "prices").mkdir()
    shutil.copy(API_PRICES_PATH, tmp_path / "prices" / "api.csv")
    (tmp_path / "unitcost.yaml").write_text(example)
    settings = load_settings(tmp_path / "unitcost.yaml")
    assert settings.policy == Policy()  # every value the README shows is the default
    assert settings.api_prices() == load_api_prices(API_PRICES_PATH)


def test_runs_are_recorded_beside_the_warehouse_unless_configured_or_dagster_home_is_set(
    tmp_path, monkeypatch
):
    config = tmp_path / "unitcost.yaml"
    config.write_text("duckdb_path: var/u.duckdb\nregistry: reg.yaml\n")
    assert load_settings(config).dagster_instance_dir == tmp_path / "var" / "dagster"
    config.write_text("duckdb_path: var/u.duckdb\nregistry: reg.yaml\ndagster_home: runs\n")
    assert load_settings(config).dagster_instance_dir == tmp_path / "runs"
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "elsewhere"))
    assert load_settings(config).dagster_instance_dir == tmp_path / "elsewhere"
