"""The run config: paths resolve against the file's folder; env overrides; bad values named."""

from __future__ import annotations

import pytest

from pipelines.config import load_settings
from pipelines.yamlconf import ConfigError


@pytest.fixture(autouse=True)
def _no_overrides(monkeypatch):
    monkeypatch.delenv("UNITCOST_DUCKDB", raising=False)
    monkeypatch.delenv("UNITCOST_REGISTRY", raising=False)


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
