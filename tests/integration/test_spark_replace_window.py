"""The incremental strategy `replace_window` on Spark's plain Parquet tables, on its own: a
one-model dbt project (the project's macros, a model whose rows come from ``--vars``) built
three times on DuckDB and on Spark (dbt-spark, `method: session`), each run with its own day
window and rows. After each run the Spark table's Parquet folder (read by DuckDB, as
pipelines/lake/spark_tables.py reads it) holds the DuckDB table's rows, and both hold the rows
worked out by hand below.

The sequence covers what a partition-overwrite would get wrong and what DuckDB's delete keeps:
a window day with old rows and no new ones (emptied), rows outside the window (kept), rows
whose window column is NULL (never in a window: kept, so they accumulate on both engines),
duplicate new rows (both kept), DECIMAL money (exact). And a killed run's staging table left
behind: the next run stops at the model, naming it, and leaves the table as it was. Marked
`spark` (minutes: six Spark sessions); skips without Java or PySpark. The whole pipeline's re-runs:
tests/integration/test_spark_equality.py (test_spark_reruns_equal_duckdbs_row_for_row)."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

pytestmark = [pytest.mark.spark, pytest.mark.slow]

ROOT = Path(__file__).parents[2]

MODEL = """
{{ config(
    materialized='incremental',
    incremental_strategy='replace_window',
    meta={'window_column': 'day'}
) }}
{%- set rows = var('rows', []) %}
with new_rows as (
    select cast(null as date) as day, cast(0 as decimal(38, 12)) as amount_usd,
        'none' as label, false as keep
    {%- for day, amount, label in rows %}
    union all
    select {{ "cast('" ~ day ~ "' as date)" if day else "cast(null as date)" }},
        cast({{ amount }} as decimal(38, 12)), '{{ label }}', true
    {%- endfor %}
)
select day, amount_usd, label from new_rows
where keep and ({{ in_window('day') }} or day is null)
"""

PROJECT = {
    "name": "unitcost",
    "version": "0.1.0",
    "config-version": 2,
    "profile": "replace_window_test",
    "model-paths": ["models"],
    "macro-paths": ["macros", "test_macros"],
    "models": {"unitcost": {"+file_format": "{{ 'parquet' if target.type == 'spark' else none }}"}},
}

# What a run killed between the staging table's CREATE and its DROP leaves behind
LEFTOVER = """
{% macro leftover_staging_table(create) %}
    {%- if create %}
    {% do run_query('create table rw.window_rows__replace_window using parquet as'
                    ~ ' select * from rw.window_rows') %}
    {%- else %}
    {% do run_query('drop table rw.window_rows__replace_window') %}
    {%- endif %}
{% endmacro %}
"""

# (window [start, end), the model's input rows (day, USD, label)) per run
RUNS = [
    (
        ("2026-11-01", "2026-11-03"),
        [("2026-11-01", "1.5", "a"), ("2026-11-02", "2.25", "b"), (None, "0.1", "n")],
    ),
    # 11-02 is in the window with no new row: its old row goes; 11-01's new row is outside the
    # window (filtered by the model), the old one stays; the NULL-day row is added again
    (("2026-11-02", "2026-11-03"), [("2026-11-01", "9", "x"), (None, "0.1", "n")]),
    # 11-01 replaced by two equal rows; 11-02 (empty) untouched
    (("2026-11-01", "2026-11-02"), [("2026-11-01", "3.125", "c"), ("2026-11-01", "3.125", "c")]),
]

# Worked out by hand from RUNS and DuckDB's delete-then-insert (sorted, NULL day first)
EXPECTED = [
    [
        (None, Decimal("0.1"), "n"),
        (dt.date(2026, 11, 1), Decimal("1.5"), "a"),
        (dt.date(2026, 11, 2), Decimal("2.25"), "b"),
    ],
    [
        (None, Decimal("0.1"), "n"),
        (None, Decimal("0.1"), "n"),
        (dt.date(2026, 11, 1), Decimal("1.5"), "a"),
    ],
    [
        (None, Decimal("0.1"), "n"),
        (None, Decimal("0.1"), "n"),
        (dt.date(2026, 11, 1), Decimal("3.125"), "c"),
        (dt.date(2026, 11, 1), Decimal("3.125"), "c"),
    ],
]


def _profiles(home: Path) -> str:
    spark_home = home / "spark"
    return json.dumps(
        {
            "replace_window_test": {
                "target": "duckdb",
                "outputs": {
                    "duckdb": {"type": "duckdb", "path": str(home / "rw.duckdb"), "threads": 1},
                    "spark": {
                        "type": "spark",
                        "method": "session",
                        "host": "localhost",
                        "schema": "rw",
                        "threads": 1,
                        "server_side_parameters": {
                            "spark.sql.session.timeZone": "UTC",
                            "spark.sql.ansi.enabled": "true",
                            "spark.sql.legacy.allowNonEmptyLocationInCTAS": "true",
                            "spark.sql.shuffle.partitions": "1",
                            "spark.ui.enabled": "false",
                            "spark.ui.showConsoleProgress": "false",
                            "spark.sql.warehouse.dir": str(spark_home / "warehouse"),
                            "spark.hadoop.javax.jdo.option.ConnectionURL": (
                                f"jdbc:derby:;databaseName={spark_home}/metastore_db;create=true"
                            ),
                            "spark.driver.extraJavaOptions": f"-Dderby.system.home={spark_home}",
                        },
                    },
                },
            }
        }
    )


def _project(home: Path, location_root: Path | None) -> Path:
    project = home / "project"
    (project / "models").mkdir(parents=True)
    (project / "macros").symlink_to(ROOT / "macros")
    (project / "test_macros").mkdir()
    (project / "test_macros" / "leftover.sql").write_text(LEFTOVER)
    (project / "models" / "window_rows.sql").write_text(MODEL)
    settings = json.loads(json.dumps(PROJECT))
    if location_root is not None:  # as dbt_project.yml's: an external table under the lake
        settings["models"]["unitcost"]["+location_root"] = str(location_root)
    (project / "dbt_project.yml").write_text(json.dumps(settings))
    (project / "profiles.yml").write_text(_profiles(home))
    return project


def _dbt(project: Path, target: str, *arguments: str) -> subprocess.CompletedProcess:
    dbt = Path(sys.executable).parent / "dbt"
    command = [str(dbt), *arguments, "--target", target]
    command += ["--project-dir", str(project), "--profiles-dir", str(project)]
    env = {**os.environ, "DBT_LOG_PATH": str(project / "logs")}
    env.pop("UNITCOST_DBT_MIN_DATE", None)
    env.pop("UNITCOST_DBT_MAX_DATE", None)
    return subprocess.run(command, cwd=project, env=env, capture_output=True, text=True)


def _run_vars(window: tuple[str, str], rows: list) -> str:
    return json.dumps({"min_date": window[0], "max_date": window[1], "rows": rows})


def _dbt_run(project: Path, target: str, window: tuple[str, str], rows: list) -> None:
    result = _dbt(project, target, "run", "--vars", _run_vars(window, rows))
    assert result.returncode == 0, (result.stdout + result.stderr)[-6000:]


def _sorted(rows: list[tuple]) -> list[tuple]:
    return sorted(rows, key=lambda row: tuple((v is not None, str(v)) for v in row))


def test_replace_window_on_spark_parquet_equals_duckdbs_delete_insert(tmp_path, requires_spark):
    on_duckdb = _project(tmp_path / "duckdb", None)
    folder = tmp_path / "spark" / "lake" / "window_rows"
    on_spark = _project(tmp_path / "spark", tmp_path / "spark" / "lake")

    def spark_rows() -> list[tuple]:
        with duckdb.connect() as con:
            return _sorted(
                con.execute(
                    "select day, amount_usd, label from read_parquet(?)",
                    [str(folder / "*.parquet")],
                ).fetchall()
            )

    def leftover_staging_table(window: tuple[str, str], rows: list, create: bool) -> None:
        made = _dbt(
            on_spark,
            "spark",
            "run-operation",
            "leftover_staging_table",
            "--vars",
            _run_vars(window, rows),
            "--args",
            json.dumps({"create": create}),
        )
        assert made.returncode == 0, (made.stdout + made.stderr)[-6000:]

    for run, ((window, rows), expected) in enumerate(zip(RUNS, EXPECTED, strict=True)):
        _dbt_run(on_duckdb, "duckdb", window, rows)
        with duckdb.connect(str(tmp_path / "duckdb" / "rw.duckdb"), read_only=True) as con:
            duck = con.execute("select day, amount_usd, label from main.window_rows").fetchall()
        if run == 1:
            # a killed run's staging table: the run stops at the model, the table unchanged
            leftover_staging_table(window, rows, create=True)
            stopped = _dbt(on_spark, "spark", "run", "--vars", _run_vars(window, rows))
            assert stopped.returncode != 0
            assert "window_rows__replace_window exists" in stopped.stdout + stopped.stderr
            assert spark_rows() == EXPECTED[0]
            leftover_staging_table(window, rows, create=False)
        _dbt_run(on_spark, "spark", window, rows)
        assert _sorted(duck) == expected, f"run {run + 1}: DuckDB"
        assert spark_rows() == _sorted(duck), f"run {run + 1}: Spark differs from DuckDB"
    # no staging table is left (dropped with its files)
    assert not list((tmp_path / "spark" / "spark" / "warehouse").rglob("*__replace_window*"))
