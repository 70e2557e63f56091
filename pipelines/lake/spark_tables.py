"""DuckDB views over the tables dbt built on Spark, so the Python steps after dbt read Spark's
marts under the names they always read (``marts.fct_...``, ``intermediate.int_...``).

With ``engine: spark`` dbt writes every table it builds as Parquet under the lake,
``{lake root}/dbt/{schema}/{table}/`` (``location_root`` in dbt_project.yml, spark target
only). After each dbt pass on Spark, ``create_views`` makes one DuckDB view per table that pass
built: ``"{schema}"."{table}"`` as ``select * from read_parquet('{folder}/*.parquet')``. The
recommendation engine, the weekly report, the checks and the analysts' copy then query DuckDB as
before, and DuckDB reads Spark's files where they lie: nothing is copied or read twice.

Which tables, and where: from the dbt invocation's own ``run_results.json`` (the models it
built, status ``success``) and ``manifest.json`` (each one's schema, alias, materialization and
``location_root``). Spark views have no files; the models the Python steps read are tables on
Spark for that reason (dbt_project.yml). Money must arrive exact: every column a model's
contract declares DECIMAL has that DECIMAL type in DuckDB, or ``create_views`` fails naming it.
No dagster here: ``pipelines/assets/dbt.py`` calls it after dbt ends.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import duckdb

from pipelines.warehouse import quote_identifier, sql_string

SQL_DIR = Path(__file__).parent / "sql"
# Only these materializations leave files behind (a Spark view is a query in the metastore).
_FILE_MATERIALIZATIONS = frozenset({"table", "incremental"})
# read_parquet globs its argument: a folder with glob characters would read other files.
_GLOB_CHARACTERS = re.compile(r"[*?\[\]{}]")
_DECIMAL = re.compile(r"^decimal\(\s*(\d+)\s*,\s*(\d+)\s*\)$", re.IGNORECASE)


@dataclass(frozen=True)
class SparkTable:
    """A table dbt built on Spark: its relation name and the folder holding its Parquet files
    (as DuckDB names it: ``s3://`` for Hadoop's ``s3a://``). ``decimal_columns`` maps each
    column the model's contract declares DECIMAL to that type, e.g. ``DECIMAL(38,12)``."""

    schema: str
    name: str
    folder: str
    decimal_columns: tuple[tuple[str, str], ...] = ()

    @property
    def relation(self) -> str:
        return f"{self.schema}.{self.name}"


class SparkTableError(RuntimeError):
    """A table dbt built on Spark that DuckDB cannot present as it is (files missing or
    unplaceable, money not in its contract's DECIMAL type)."""


def duckdb_folder(location: str) -> str:
    """A Spark table location as DuckDB reads it: ``s3a://`` (and EMRFS's ``s3://``) as
    ``s3://``, a local folder (or ``file:`` URI) as a path; anything else is refused."""
    if _GLOB_CHARACTERS.search(location):
        raise SparkTableError(f"table location {location!r} has glob characters ({'*?[]{}'})")
    location = location.rstrip("/")
    if location.startswith("s3a://"):
        return "s3://" + location.removeprefix("s3a://")
    if location.startswith("s3://"):
        return location
    if location.startswith("file:"):
        location = re.sub(r"^file:(//)?", "", location)
    if "://" in location or not location.startswith("/"):
        raise SparkTableError(
            f"table location {location!r}: DuckDB reads an absolute local folder or s3:// here"
        )
    return location


def _decimal_type(data_type: str | None) -> str | None:
    match = _DECIMAL.match((data_type or "").strip())
    return f"DECIMAL({match[1]},{match[2]})" if match else None


def built_tables(target_path: str | Path) -> list[SparkTable]:
    """The tables a finished dbt invocation built, from its target folder's
    ``run_results.json`` and ``manifest.json``, in the order dbt reported them."""
    target = Path(target_path)
    results = json.loads((target / "run_results.json").read_text(encoding="utf-8"))
    nodes = json.loads((target / "manifest.json").read_text(encoding="utf-8"))["nodes"]
    tables = []
    for result in results["results"]:
        node = nodes.get(result["unique_id"])
        if node is None or node["resource_type"] != "model" or result["status"] != "success":
            continue
        config = node["config"]
        if config["materialized"] not in _FILE_MATERIALIZATIONS:
            continue
        name = node.get("alias") or node["name"]
        root = config.get("location_root")
        if not root:
            raise SparkTableError(
                f"{node['schema']}.{name} was built without location_root, so its files are "
                "in Spark's own warehouse where DuckDB cannot find them: run the spark target "
                "with the lake root set (UNITCOST_LAKE_ROOT, dbt_project.yml)"
            )
        decimals = tuple(
            (column, kind)
            for column, spec in node.get("columns", {}).items()
            if (kind := _decimal_type(spec.get("data_type")))
        )
        folder = duckdb_folder(f"{root.rstrip('/')}/{name}")
        tables.append(SparkTable(node["schema"], name, folder, decimals))
    return tables


def _existing_kind(con: duckdb.DuckDBPyConnection, table: SparkTable) -> str | None:
    row = con.execute(
        "select table_type from information_schema.tables"
        " where table_schema = ? and table_name = ?",
        [table.schema, table.name],
    ).fetchone()
    return None if row is None else row[0]


def create_views(con: duckdb.DuckDBPyConnection, tables: Iterable[SparkTable]) -> list[str]:
    """One DuckDB view per table over its Parquet files, all in one transaction; returns the
    relations made. A DuckDB table of the same name (a warehouse whose marts DuckDB built
    before the switch to Spark) is dropped: the view replaces it. Fails, changing nothing, if a
    folder holds no Parquet file or a contract's DECIMAL column arrives in another type."""
    template = (SQL_DIR / "create_spark_view.sql").read_text(encoding="utf-8")
    made = []
    con.execute("begin")
    try:
        for table in tables:
            schema, name = quote_identifier(table.schema), quote_identifier(table.name)
            con.execute(f"create schema if not exists {schema}")
            if _existing_kind(con, table) == "BASE TABLE":
                con.execute(f"drop table {schema}.{name}")
            # CREATE VIEW takes no prepared parameters: the folder is a quoted literal, from
            # dbt's manifest through duckdb_folder (no glob characters, local or s3://).
            sql = template.format(
                view=f"{schema}.{name}", files=sql_string(f"{table.folder}/*.parquet")
            )
            try:
                con.execute(sql)
            except duckdb.IOException as exc:
                raise SparkTableError(f"{table.relation}: no Parquet files read: {exc}") from exc
            _check_decimals(con, table, f"{schema}.{name}")
            made.append(table.relation)
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise
    return made


def _check_decimals(con: duckdb.DuckDBPyConnection, table: SparkTable, view: str) -> None:
    """Every contract DECIMAL column of ``table`` has exactly that type in the view."""
    if not table.decimal_columns:
        return
    types = {name: kind for name, kind, *_ in con.execute(f"describe {view}").fetchall()}
    wrong = [
        f"{column}: {types.get(column, 'missing')}, contract {kind}"
        for column, kind in table.decimal_columns
        if types.get(column) != kind
    ]
    if wrong:
        raise SparkTableError(f"{table.relation} as Spark wrote it: " + "; ".join(wrong))
