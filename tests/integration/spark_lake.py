"""A stand-in for the Parquet lake exporter (branch lake) in the layout the spark target reads:
`{lake_root}/raw/{table}/day=YYYY-MM-DD/*.parquet` for tables that carry a UTC day (a
timestamp `ts` or `arrival_ts`), `{lake_root}/raw/{table}/*.parquet` for the others. Same
columns and types as DuckDB's raw tables (the `day` partition column is the folder's)."""

from __future__ import annotations

from pathlib import Path

import duckdb

DAY_COLUMNS = ("ts", "arrival_ts")


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def export_raw_lake(duckdb_path: Path, lake_root: Path) -> dict[str, int]:
    """Writes every table of `raw` under lake_root/raw; returns the rows written per table."""
    written: dict[str, int] = {}
    with duckdb.connect(str(duckdb_path), read_only=True) as con:
        con.execute("SET TimeZone = 'UTC'")
        tables = [
            t
            for (t,) in con.execute(
                "select table_name from information_schema.tables where table_schema = 'raw'"
                " order by table_name"
            ).fetchall()
        ]
        for table in tables:
            columns = {
                c
                for (c,) in con.execute(
                    "select column_name from information_schema.columns"
                    " where table_schema = 'raw' and table_name = ?",
                    [table],
                ).fetchall()
            }
            rows = con.execute(f"select count(*) from raw.{_quote(table)}").fetchone()[0]
            folder = lake_root / "raw" / table
            folder.mkdir(parents=True, exist_ok=True)
            day_column = next((c for c in DAY_COLUMNS if c in columns), None)
            target = str(folder).replace("'", "''")
            if day_column and rows:
                con.execute(
                    f"copy (select *, cast({_quote(day_column)} as date) as day"
                    f" from raw.{_quote(table)}) to '{target}'"
                    " (format parquet, partition_by (day), overwrite_or_ignore true)"
                )
            else:
                # an empty table still gets a file: Spark reads its schema from one
                con.execute(
                    f"copy raw.{_quote(table)} to '{target}/part-0.parquet' (format parquet)"
                )
            written[table] = rows
    return written
