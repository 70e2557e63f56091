"""The main job end to end: config -> registry -> dbt into a temp DuckDB; re-runs are identical."""

from __future__ import annotations

import datetime as dt
import stat
import subprocess
import sys
import textwrap

import dagster as dg
import pytest

from pipelines.dbt_project import LATEST_TARGETS_DIR, TARGET_DIR
from pipelines.runner import RunError, open_instance, run
from pipelines.summary import warehouse_tables
from pipelines.warehouse import connect, quote_identifier
from pipelines.yamlconf import ConfigError

pytestmark = pytest.mark.slow


def snapshot(duckdb_path) -> dict[str, list[tuple]]:
    """Every raw and mart table's rows, sorted: equal snapshots mean identical tables."""
    with connect(duckdb_path, read_only=True) as con:
        return {
            f"{schema}.{table}": sorted(
                con.execute(
                    f"select * from {quote_identifier(schema)}.{quote_identifier(table)}"
                ).fetchall(),
                key=repr,
            )
            for schema, table, _ in warehouse_tables(duckdb_path)
        }


def test_run_loads_registry_and_builds_the_daily_spine_identically_twice(
    tiny_config, dbt_manifest, capsys
):
    first = run(tiny_config, dt.date(2026, 11, 2), dt.date(2026, 11, 4))
    assert first.duckdb_path == tiny_config.parent / "warehouse" / "tiny.duckdb"
    tables = snapshot(first.duckdb_path)
    # One line per finished step by default: the registry step's rows are its three tables'.
    lines = {line.split()[0]: line.split() for line in capsys.readouterr().out.splitlines()}
    registry_rows = sum(
        len(tables[f"raw.registry_{t}"]) for t in ("deployments", "selectors", "prefill_rates")
    )
    assert lines["registry_tables"][1:4] == ["-", str(registry_rows), "rows"]
    assert lines["dbt_models"][1] == "2026-11-02..2026-11-03"
    assert len(tables["raw.registry_deployments"]) == 2
    assert len(tables["raw.llm_architectures"]) >= 15
    # batch-70b is valid [11-01, 11-03): only 11-02 falls in the window; chat-8b has both days.
    assert [(d.isoformat(), dep) for d, dep, *_ in tables["marts.deployment_days"]] == [
        ("2026-11-02", "batch-70b"),
        ("2026-11-02", "chat-8b"),
        ("2026-11-03", "chat-8b"),
    ]

    # Analysts read the published copy; one holding it open does not block the next run.
    assert first.analytics_path == first.duckdb_path.with_name("tiny.analytics.duckdb")
    assert stat.S_IMODE(first.analytics_path.stat().st_mode) == 0o444
    analyst = _analyst_session(first.analytics_path)
    try:
        second = run(tiny_config, dt.date(2026, 11, 2), dt.date(2026, 11, 4))
        assert snapshot(first.duckdb_path) == tables

        # A later window adds its days without touching the ones already built.
        third = run(tiny_config, dt.date(2026, 11, 4), dt.date(2026, 11, 5))
        assert analyst.poll() is None  # the analyst's session is still open
    finally:
        analyst.kill()
        analyst.wait()
    days = [row[0].isoformat() for row in snapshot(first.duckdb_path)["marts.deployment_days"]]
    assert days == ["2026-11-02", "2026-11-02", "2026-11-03", "2026-11-04"]
    with connect(third.analytics_path, read_only=True) as con:
        rows = con.execute("select day from marts.deployment_days").fetchall()
    published = [d.isoformat() for (d,) in rows]
    assert sorted(published) == days

    # The runs stay in the Dagster instance beside the warehouse, for `dagster dev` to show:
    # all nine (snapshot, daily, report per run), successful, with the days each materialized.
    with open_instance(first.duckdb_path.parent / "dagster") as instance:
        recorded = {r.run_id: r.status for r in instance.get_runs()}
        days_built = instance.get_materialized_partitions(dg.AssetKey(["marts", "deployment_days"]))
        snapshot_built = instance.get_latest_materialization_event(
            dg.AssetKey(["raw", "registry_deployments"])
        )
    run_ids = [r for result in (first, second, third) for r in result.run_ids]
    assert {recorded[r] for r in run_ids} == {dg.DagsterRunStatus.SUCCESS}
    assert len(recorded) == 9
    assert days_built == {"2026-11-02", "2026-11-03", "2026-11-04"}
    assert snapshot_built is not None

    # Repeated runs leave no dbt target folder of their own behind, only the latest per asset.
    ours = [r[:7] for result in (first, second, third) for r in result.run_ids]
    assert len(ours) == 9
    left = [f.name for f in TARGET_DIR.iterdir() if any(f"-{r}-" in f.name for r in ours)]
    assert left == []
    assert (LATEST_TARGETS_DIR / "dbt_models" / "run_results.json").is_file()


def _dbt_events(folder) -> list[dict]:
    """dbt's own structured log of one invocation (dagster-dbt runs it with json logs)."""
    import json

    return [json.loads(line)["info"] for line in (folder / "dbt.log").open()]


def test_a_run_with_another_window_reuses_dbts_parse(tiny_config, dbt_manifest, monkeypatch):
    import dagster_dbt.core.resource

    from pipelines import dbt_project

    # Target folders of its own, so that no concurrent run swaps the kept parse in between.
    target = tiny_config.parent / "target"
    monkeypatch.setattr(dbt_project, "TARGET_DIR", target)
    monkeypatch.setattr(dbt_project, "LATEST_TARGETS_DIR", target / "latest")
    kept = target / dbt_project.PARTIAL_PARSE_FILE

    def no_dbt_version(args, *rest, **kwargs):
        raise AssertionError(f"dagster-dbt ran {args}")

    monkeypatch.setattr(dagster_dbt.core.resource, "check_output", no_dbt_version)

    first = run(tiny_config, dt.date(2026, 11, 2), dt.date(2026, 11, 3))
    # Two dbt invocations per run (pipelines/assets/dbt.py); the first one of all parses the
    # whole project, as nothing is kept yet, and keeps its parse.
    assert sorted(f.name for f in (target / "latest").iterdir()) == [
        "dbt_models",
        "dbt_recommend_models",
    ]
    parsed = {f.name: {e["name"] for e in _dbt_events(f)} for f in (target / "latest").iterdir()}
    assert "UnableToPartialParse" in parsed["dbt_models"]  # "saved manifest not found"
    assert "PartialParsingSkipParsing" in parsed["dbt_recommend_models"]
    kept_after_first = kept.read_bytes()

    second = run(tiny_config, dt.date(2026, 11, 3), dt.date(2026, 11, 4))

    # Another window, and yet no invocation parses anything: dbt finds no changed file (a file
    # whose parse read a changed env_var would be one) and the kept parse is left as it was.
    for folder in sorted((target / "latest").iterdir()):
        events = _dbt_events(folder)
        assert any(second.run_ids[1][:7] in e["msg"] for e in events), f"{folder.name}: old log"
        names = [e["name"] for e in events]
        assert "PartialParsingSkipParsing" in names, folder.name
        assert not {"UnableToPartialParse", "PartialParsingFile"} & set(names), folder.name
    assert kept.read_bytes() == kept_after_first
    assert b"UNITCOST_DBT_M" not in kept_after_first  # no window variable recorded at parse
    days = snapshot(second.duckdb_path)["marts.deployment_days"]
    assert [(d.isoformat(), dep) for d, dep, *_ in days] == [
        ("2026-11-02", "batch-70b"),
        ("2026-11-02", "chat-8b"),
        ("2026-11-03", "chat-8b"),
    ]  # each run built its own window
    assert first.run_ids != second.run_ids


def _analyst_session(path):
    """Another process with the published copy open read-only, as an analyst's notebook."""
    code = textwrap.dedent(
        f"""
        import time, duckdb
        con = duckdb.connect({str(path)!r}, read_only=True)
        print(con.sql("select count(*) from marts.deployment_days").fetchone()[0], flush=True)
        time.sleep(900)
        """
    )
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "3"
    return proc


def test_run_fails_with_the_registry_error_and_names_the_file(tiny_config):
    registry = tiny_config.parent / "registry_tiny.yaml"
    registry.write_text(registry.read_text().replace("count: 2}", "count: 0}", 1))
    # Validated up front, before any Dagster step (tests/unit/test_run_machinery.py: the CLI).
    with pytest.raises(ConfigError) as err:
        run(tiny_config, dt.date(2026, 11, 2), dt.date(2026, 11, 3))
    assert (
        f"{registry}:10: deployments[0].gpu.count: Input should be greater than or equal to 1"
        in str(err.value)
    )


def test_run_rejects_an_empty_range(tiny_config):
    with pytest.raises(RunError, match=r"--end 2026-11-02 must be after --start 2026-11-02"):
        run(tiny_config, dt.date(2026, 11, 2), dt.date(2026, 11, 2))
