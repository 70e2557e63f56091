"""`unitcost summary --hashes`: equal tables hash equal whatever their row order; any changed,
missing or doubled row, or a renamed column, changes the hash."""

from __future__ import annotations

import duckdb

from pipelines.cli import main
from pipelines.summary import table_hashes

ROWS = [(1, "a", 1.5), (2, "b", 2.25), (3, "c", None)]


def _warehouse(path, rows, columns="id integer, name varchar, usd double"):
    con = duckdb.connect(str(path))
    con.execute("create schema marts")
    con.execute(f"create table marts.t ({columns})")
    con.executemany("insert into marts.t values (?, ?, ?)", rows)
    con.close()
    return path


def _hash(path):
    ((_, _, rows, digest),) = table_hashes(path)
    return rows, digest


def test_row_order_does_not_change_the_hash(tmp_path):
    a = _hash(_warehouse(tmp_path / "a.duckdb", ROWS))
    b = _hash(_warehouse(tmp_path / "b.duckdb", list(reversed(ROWS))))
    assert a == b and a[0] == 3


def test_a_changed_doubled_or_missing_row_or_renamed_column_changes_it(tmp_path):
    base = _hash(_warehouse(tmp_path / "a.duckdb", ROWS))
    variants = {
        "changed": [(1, "a", 1.5), (2, "b", 2.250000001), (3, "c", None)],
        "doubled": [*ROWS, ROWS[0]],
        "missing": ROWS[:2],
    }
    for name, rows in variants.items():
        assert _hash(_warehouse(tmp_path / f"{name}.duckdb", rows)) != base, name
    renamed = _warehouse(tmp_path / "r.duckdb", ROWS, "id integer, label varchar, usd double")
    assert _hash(renamed) != base


def test_the_cli_prints_one_line_per_table(tmp_path, capsys):
    path = _warehouse(tmp_path / "a.duckdb", ROWS)
    assert main(["summary", "--duckdb", str(path), "--hashes"]) == 0
    (line,) = capsys.readouterr().out.splitlines()
    table, rows, digest = line.split("\t")
    assert (table, rows, digest) == ("marts.t", "3", _hash(path)[1])
