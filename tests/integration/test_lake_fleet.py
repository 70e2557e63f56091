"""The lake of a real run: the small simulated fleet's warehouse (read-only) exported, then
every lake table read back by DuckDB's hive reader and compared with its raw table, row for
row (multiset difference both ways), day by day for the partitioned ones."""

from __future__ import annotations

import datetime as dt

import pytest

from pipelines.lake.export import export_recommend, export_window
from pipelines.lake.paths import glob_uri
from pipelines.lake.tables import LAKE_TABLES, RECOMMEND_TABLES
from pipelines.warehouse import connect, quote_identifier, table_exists

DAYS = [dt.date(2026, 11, 1), dt.date(2026, 11, 2)]  # the small_fleet run (conftest)


@pytest.fixture(scope="module")
def exported(small_fleet, tmp_path_factory):
    folder, _ = small_fleet
    root = tmp_path_factory.mktemp("lake")
    with connect(folder / "unitcost.duckdb", read_only=True) as con:
        result = export_window(con, root, DAYS)
        recommend = export_recommend(con, root)
    result.rows.update(recommend.rows)
    result.missing_tables += recommend.missing_tables
    return folder, root, result


def _difference(con, raw_sql: str, lake_sql: str, params: list) -> tuple[int, int]:
    """(rows only in raw, rows only in the lake), counting duplicates; both queries take
    ``params``."""
    only_raw = con.execute(
        f"select count(*) from ({raw_sql} except all {lake_sql})", params + params
    ).fetchone()[0]
    only_lake = con.execute(
        f"select count(*) from ({lake_sql} except all {raw_sql})", params + params
    ).fetchone()[0]
    return only_raw, only_lake


@pytest.mark.parametrize("table", LAKE_TABLES + RECOMMEND_TABLES, ids=lambda t: t.name)
def test_every_lake_table_equals_its_raw_table_row_for_row(exported, table):
    folder, root, result = exported
    with connect(folder / "unitcost.duckdb", read_only=True) as con:
        if not table_exists(con, f"raw.{table.name}"):
            assert table.name in result.missing_tables
            pytest.skip(f"raw.{table.name} is not in this fleet's warehouse")
        raw = f"raw.{quote_identifier(table.name)}"
        total = con.execute(f"select count(*) from {raw}").fetchone()[0]
        if not table.partitioned:
            lake = f"select * from read_parquet('{glob_uri(root, table)}')"
            assert _difference(con, f"select * from {raw}", lake, []) == (0, 0)
            assert result.rows[table.name] == total
            return
        column = quote_identifier(table.day_column)
        lake = (
            f"select * exclude (day) from read_parquet('{glob_uri(root, table)}', "
            "hive_partitioning = true) where day = ?"
        )
        exported_rows = 0
        for day in DAYS:
            if table.day_kind == "timestamp":
                start = dt.datetime.combine(day, dt.time(), dt.UTC)
                raw_day = f"select * from {raw} where {column} >= ? and {column} < ?"
                params = [start, start + dt.timedelta(days=1)]
                only_raw = con.execute(
                    f"select count(*) from ({raw_day} except all {lake})", [*params, day]
                ).fetchone()[0]
                only_lake = con.execute(
                    f"select count(*) from ({lake} except all {raw_day})", [day, *params]
                ).fetchone()[0]
                assert (only_raw, only_lake) == (0, 0), day
            else:
                raw_day = f"select * from {raw} where {column} = ?"
                assert _difference(con, raw_day, lake, [day]) == (0, 0), day
            exported_rows += con.execute(
                f"select count(*) from read_parquet('{glob_uri(root, table)}', "
                "hive_partitioning = true) where day = ?",
                [day],
            ).fetchone()[0]
        # the fleet's two days are all its rows: nothing left out, nothing twice
        assert exported_rows == total == result.rows[table.name]
