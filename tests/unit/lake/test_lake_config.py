"""unitcost.yaml's `lake:` and `engine:`: the lake is off and the engine DuckDB unless set;
mistakes are reported at their key, by file and line."""

from __future__ import annotations

import pytest

from pipelines.config import load_settings
from pipelines.yamlconf import ConfigError


@pytest.fixture(autouse=True)
def _no_overrides(monkeypatch):
    for name in ("UNITCOST_DUCKDB", "UNITCOST_REGISTRY", "DAGSTER_HOME", "UNITCOST_DBT_TARGET"):
        monkeypatch.delenv(name, raising=False)


def _settings(tmp_path, text):
    (tmp_path / "unitcost.yaml").write_text(text)
    return load_settings(tmp_path / "unitcost.yaml")


def test_by_default_no_lake_and_dbt_on_duckdb(tmp_path):
    settings = _settings(tmp_path, "registry: r.yaml\n")
    assert (settings.lake_root, settings.engine, settings.dbt_target) == (None, "duckdb", "dev")


def test_a_local_root_resolves_against_the_config_folder_and_s3_stays_a_uri(tmp_path):
    local = _settings(tmp_path, "registry: r.yaml\nlake: {root: ../lake}\n")
    assert local.lake_root == tmp_path.parent / "lake"
    s3 = _settings(tmp_path, "registry: r.yaml\nlake: {root: 's3://b/lake/'}\n")
    assert s3.lake_root == "s3://b/lake/"
    off = _settings(tmp_path, "registry: r.yaml\nlake: {root: lake, enabled: false}\n")
    assert off.lake_root is None


def test_engine_spark_runs_dbt_on_the_spark_target_unless_the_environment_names_another(
    tmp_path, monkeypatch
):
    text = "registry: r.yaml\nlake: {root: 's3://b/lake'}\nengine: spark\n"
    assert _settings(tmp_path, text).dbt_target == "spark"
    monkeypatch.setenv("UNITCOST_DBT_TARGET", "spark_databricks")
    assert _settings(tmp_path, text).dbt_target == "spark_databricks"


def test_dbt_on_spark_is_told_the_lake_root_as_hadoop_names_it(tmp_path, monkeypatch):
    monkeypatch.delenv("UNITCOST_LAKE_ROOT", raising=False)
    s3 = _settings(tmp_path, "registry: r.yaml\nlake: {root: 's3://b/lake/'}\nengine: spark\n")
    assert s3.lake_env == {"UNITCOST_LAKE_ROOT": "s3a://b/lake/"}
    local = _settings(tmp_path, "registry: r.yaml\nlake: {root: lake}\n")
    assert local.lake_env == {"UNITCOST_LAKE_ROOT": str(tmp_path / "lake")}
    assert _settings(tmp_path, "registry: r.yaml\n").lake_env == {}
    # set by the operator (e.g. EMRFS's s3://): left as it is
    monkeypatch.setenv("UNITCOST_LAKE_ROOT", "s3://b/lake/")
    assert s3.lake_env == {}


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (
            "registry: r.yaml\nengine: spark\n",
            "unitcost.yaml:2: engine: engine spark reads the raw tables from the Parquet lake: "
            "set lake: {root: <folder or s3:// prefix>, enabled: true}",
        ),
        (
            "registry: r.yaml\nlake: {root: lake, enabled: false}\nengine: spark\n",
            "unitcost.yaml:3: engine: engine spark reads the raw tables from the Parquet lake: "
            "set lake: {root: <folder or s3:// prefix>, enabled: true}",
        ),
        (
            "registry: r.yaml\nengine: snowflake\n",
            "unitcost.yaml:2: engine: Input should be 'duckdb' or 'spark'",
        ),
        (
            "registry: r.yaml\nlake:\n  root: 'gs://b/lake'\n",
            "unitcost.yaml:3: lake.root: root 'gs://b/lake' must be a local path or an s3:// URI",
        ),
        (
            "registry: r.yaml\nlake:\n  enabled: true\n",
            "unitcost.yaml:3: lake.root: required key is missing",
        ),
        (
            "registry: r.yaml\nlake:\n  root: lake\n  format: delta\n",
            "unitcost.yaml:4: lake.format: unknown key",
        ),
    ],
    ids=[
        "spark without lake",
        "spark with lake off",
        "unknown engine",
        "gs root",
        "no root",
        "typo",
    ],
)
def test_lake_and_engine_mistakes_are_reported_at_their_key(tmp_path, text, problem):
    (tmp_path / "unitcost.yaml").write_text(text)
    with pytest.raises(ConfigError) as err:
        load_settings(tmp_path / "unitcost.yaml")
    assert [p.replace(f"{tmp_path}/", "") for p in err.value.problems] == [problem]
