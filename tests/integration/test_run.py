"""The main job end to end: config -> registry -> dbt into a temp DuckDB; re-runs are identical."""

from __future__ import annotations

import datetime as dt

import pytest

from pipelines.runner import RunError, run
from pipelines.summary import warehouse_tables
from pipelines.warehouse import connect, quote_identifier

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


def test_run_loads_registry_and_builds_the_daily_spine_identically_twice(tiny_config, dbt_manifest):
    first = run(tiny_config, dt.date(2026, 11, 2), dt.date(2026, 11, 4))
    assert first.duckdb_path == tiny_config.parent / "warehouse" / "tiny.duckdb"
    tables = snapshot(first.duckdb_path)
    assert len(tables["raw.registry_deployments"]) == 2
    assert len(tables["raw.llm_architectures"]) >= 15
    # batch-70b is valid [11-01, 11-03): only 11-02 falls in the window; chat-8b has both days.
    assert [(d.isoformat(), dep) for d, dep, *_ in tables["marts.deployment_days"]] == [
        ("2026-11-02", "batch-70b"),
        ("2026-11-02", "chat-8b"),
        ("2026-11-03", "chat-8b"),
    ]

    run(tiny_config, dt.date(2026, 11, 2), dt.date(2026, 11, 4))
    assert snapshot(first.duckdb_path) == tables

    # A later window adds its days without touching the ones already built.
    run(tiny_config, dt.date(2026, 11, 4), dt.date(2026, 11, 5))
    days = [row[0].isoformat() for row in snapshot(first.duckdb_path)["marts.deployment_days"]]
    assert days == ["2026-11-02", "2026-11-02", "2026-11-03", "2026-11-04"]


def test_run_fails_with_the_registry_error_and_names_the_file(tiny_config, dbt_manifest):
    registry = tiny_config.parent / "registry_tiny.yaml"
    registry.write_text(registry.read_text().replace("count: 2}", "count: 0}", 1))
    with pytest.raises(RunError) as err:
        run(tiny_config, dt.date(2026, 11, 2), dt.date(2026, 11, 3))
    assert "step registry_tables failed" in str(err.value)
    assert (
        f"{registry}:10: deployments[0].gpu.count: Input should be greater than or equal to 1"
        in str(err.value)
    )


def test_run_rejects_an_empty_range(tiny_config):
    with pytest.raises(RunError, match=r"--end 2026-11-02 must be after --start 2026-11-02"):
        run(tiny_config, dt.date(2026, 11, 2), dt.date(2026, 11, 2))
