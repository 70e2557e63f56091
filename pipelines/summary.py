"""The short summary `unitcost run` and `make run` end with."""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path

from pipelines.report.files import ReportFiles, reports_dir
from pipelines.warehouse import connect, quote_identifier

SQL_DIR = Path(__file__).resolve().parent.parent / "sql"
ANALYSTS_SQL_DIR = SQL_DIR / "analysts"  # analysts' queries on the marts (README)
OPS_SQL_DIR = SQL_DIR / "ops"  # queries the tooling itself runs


def warehouse_tables(duckdb_path: str | Path) -> list[tuple[str, str, int]]:
    """(schema, table, rows) for every raw and mart table, via ``sql/ops/warehouse_tables.sql``."""
    query = (OPS_SQL_DIR / "warehouse_tables.sql").read_text()
    with connect(duckdb_path, read_only=True) as con:
        tables = con.execute(query).fetchall()
        return [
            (
                schema,
                table,
                con.execute(
                    f"select count(*) from {quote_identifier(schema)}.{quote_identifier(table)}"
                ).fetchone()[0],
            )
            for schema, table in tables
        ]


def table_hashes(
    duckdb_path: str | Path, schemas: tuple[str, ...] = ("marts",)
) -> list[tuple[str, str, int, str]]:
    """(schema, table, rows, hash) of every table in ``schemas``: a content hash that does not
    depend on row order (the sum of DuckDB's row hashes, with the count and the column names
    and types), so two warehouses built from the same input by different code compare equal
    exactly when every table holds the same rows. Floats must be bit-identical to match."""
    out = []
    with connect(duckdb_path, read_only=True) as con:
        tables = con.execute(
            "select schema_name, table_name from duckdb_tables() "
            "where list_contains($schemas, schema_name) order by all",
            {"schemas": list(schemas)},
        ).fetchall()
        for schema, table in tables:
            name = f"{quote_identifier(schema)}.{quote_identifier(table)}"
            columns = con.execute(
                "select list(column_name || ' ' || data_type order by column_index) "
                "from duckdb_columns() where schema_name = $s and table_name = $t",
                {"s": schema, "t": table},
            ).fetchone()[0]
            rows, row_hash_sum = con.execute(
                f"select count(*), coalesce(sum(hash(t)::hugeint), 0) from {name} as t"
            ).fetchone()
            digest = hashlib.sha256(f"{columns}|{rows}|{row_hash_sum}".encode()).hexdigest()
            out.append((schema, table, rows, digest[:16]))
    return out


def print_summary(
    duckdb_path: str | Path, start: dt.date | None = None, end: dt.date | None = None
) -> None:
    print(f"DuckDB warehouse: {Path(duckdb_path).resolve()}")
    if start and end:
        print(f"Partitions: {start} to {end - dt.timedelta(days=1)} ({(end - start).days} days)")
    tables = warehouse_tables(duckdb_path)
    for schema, table, rows in tables:
        print(f"  {schema}.{table:<32} {rows:>12,} rows")
    if ("marts", "dim_deployments") in {(s, t) for s, t, _ in tables}:
        print("Declared fleet (sql/analysts/fleet_overview.sql):")
        with connect(duckdb_path, read_only=True) as con:
            overview = con.execute((ANALYSTS_SQL_DIR / "fleet_overview.sql").read_text()).fetchall()
        for gpu_type, team, deployments, gpus, ids in overview:
            print(f"  {gpus:>4} x {gpu_type:<10} {team:<12} {deployments} deployment(s): {ids}")
    if end:
        report = ReportFiles(reports_dir(duckdb_path), end - dt.timedelta(days=1))
        if report.html.exists():
            print(f"Weekly right-sizing report: {report.html}")
            csvs = f"{report.recommendations_csv.name}, {report.deployments_csv.name}"
            print(f"  CSVs beside it: {csvs}")
