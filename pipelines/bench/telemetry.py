"""`unitcost bench-telemetry`: the telemetry ingest of one fleet-day, beside DuckDB's own read
of the same files in the same process.

The input is a fleet folder as `unitcost simulate` writes it: its ``telemetry/`` holds DCGM
Parquet, vLLM engine-metric Parquet and Prometheus text scrapes. ``--scale`` simulates one
day into a temp folder first (minutes at scale 32: cache a folder and pass ``--fleet``).
The ingest is what the telemetry asset runs for a day (``load_day`` and its ledger rows in
one transaction) into a fresh DuckDB file opened with the warehouse's settings. The baselines
read the same files with DuckDB: ``count(*)`` (Parquet metadata only) and a scan that touches
every column of every row (what any ingest must at least do; the ratio is against it).
Rows are physical records: Parquet rows and text sample lines. Peak RSS is the process's
``VmHWM``, reset before each phase (run under ``/usr/bin/time -v`` for the whole process).
"""

from __future__ import annotations

import argparse
import datetime as dt
import tempfile
import time
from pathlib import Path

import duckdb

from pipelines.bench import add_fleet_day_arguments, on_fleet_day
from pipelines.bench.billing import _peak_rss_mib, _reset_peak
from pipelines.warehouse import quote_identifier

DAY = dt.date(2026, 11, 1)
_TEXT_LINES = """select count(*) from (select unnest(string_split(content, chr(10))) as line
    from read_text($files)) where line != '' and not starts_with(line, '#')"""


def _scan_sql(con: duckdb.DuckDBPyConnection, files: list[str]) -> str:
    """A query that reads every column of every row of ``files`` (one schema group)."""
    described = con.execute(
        "describe select * from read_parquet($files, union_by_name = true)", {"files": files}
    ).fetchall()
    terms = ["count(*)"]
    for name, kind, *_ in described:
        column = quote_identifier(name, validate=False)
        if kind.startswith("TIMESTAMP"):
            terms.append(f"sum(epoch_us({column}))")
        elif kind == "VARCHAR":
            terms.append(f"sum(length({column}))")
        elif kind in ("DOUBLE", "FLOAT", "BIGINT", "INTEGER"):
            terms.append(f"sum({column})")
    return f"select {', '.join(terms)} from read_parquet($files, union_by_name = true)"


def _baseline(parquet: dict[str, list[str]], text: list[str]) -> dict:
    with duckdb.connect(config={"threads": 2}) as con:
        t0, cpu0 = time.perf_counter(), time.process_time()
        rows = sum(
            con.execute("select count(*) from read_parquet($files, union_by_name = true)",
                        {"files": f}).fetchone()[0]
            for f in parquet.values()
        )  # fmt: skip
        count_s = time.perf_counter() - t0
        lines = con.execute(_TEXT_LINES, {"files": text}).fetchone()[0] if text else 0
        t0, cpu0 = time.perf_counter(), time.process_time()
        for files in parquet.values():
            con.execute(_scan_sql(con, files), {"files": files}).fetchall()
        if text:
            con.execute("select sum(length(content)) from read_text($files)", {"files": text})
        scan_s, scan_cpu = time.perf_counter() - t0, time.process_time() - cpu0
    return {"rows": rows + lines, "count_s": count_s, "scan_s": scan_s, "scan_cpu": scan_cpu}


def _ingest(files, day: dt.date, db: Path) -> dict:
    from pipelines.ingest.telemetry.load import load_day
    from pipelines.ingest.telemetry.tables import SOURCE, ensure_tables
    from pipelines.quality.ledger import write_ingest
    from pipelines.warehouse import connect

    t0, cpu0 = time.perf_counter(), time.process_time()
    with connect(db) as con:
        ensure_tables(con)
        con.execute("begin transaction")
        loaded = load_day(con, files, day)
        write_ingest(con, loaded.counts.ledger_rows(SOURCE, day), source=SOURCE, days=[day])
        con.execute("commit")
    wall, cpu = time.perf_counter() - t0, time.process_time() - cpu0
    return {"ingest_s": wall, "ingest_cpu": cpu, "loaded": loaded}


def run_bench(fleet: Path, day: dt.date) -> dict:
    from pipelines.ingest.storage import list_files
    from pipelines.ingest.telemetry.load import EXPOSITION_SUFFIXES, files_for_day

    picked = files_for_day(list_files(fleet / "telemetry"), day)
    parquet: dict[str, list[str]] = {}
    for f in picked:
        if f.uri.endswith(".parquet"):
            parquet.setdefault(f.relative_path.split("/")[0], []).append(f.uri)
    text = [f.uri for f in picked if f.relative_path.endswith(EXPOSITION_SUFFIXES)]
    _reset_peak()
    result = _baseline(parquet, text)
    result["baseline_rss_mib"] = _peak_rss_mib()
    with tempfile.TemporaryDirectory(prefix="unitcost-bench-") as tmp:
        _reset_peak()
        result |= _ingest(picked, day, Path(tmp) / "bench.duckdb")
        result["ingest_rss_mib"] = _peak_rss_mib()
    return result | {"files": len(picked), "day": day}


def _report(r: dict) -> None:
    loaded = r["loaded"]
    rows = r["rows"]
    print(
        f"telemetry {r['day']}: {r['files']} files, {rows:,} rows ({loaded.input_samples:,} "
        f"samples of the day) -> {loaded.dcgm_rows:,} DCGM rows, {loaded.engine_rows:,} engine "
        f"rows, {loaded.quarantine_rows:,} quarantined"
    )
    lines = [
        ("duckdb count(*) (metadata)", r["count_s"], None, r["baseline_rss_mib"]),
        ("duckdb scan of every column", r["scan_s"], r["scan_cpu"], r["baseline_rss_mib"]),
        (
            "unitcost ingest (load_day + ledger)",
            r["ingest_s"],
            r["ingest_cpu"],
            r["ingest_rss_mib"],
        ),
    ]
    for name, wall, cpu, rss in lines:
        used = f"{cpu:7.2f} CPU s" if cpu is not None else " " * 13
        print(
            f"  {name:36s} {wall:7.2f} s {used} {rows / wall:>12,.0f} rows/s  "
            f"peak RSS {rss:,.0f} MiB"
        )
    # On a shared machine the CPU seconds are the steadier comparison.
    print(
        f"  ingest rate / duckdb scan rate: {r['scan_s'] / r['ingest_s']:.0%} by wall time, "
        f"{r['scan_cpu'] / r['ingest_cpu']:.0%} by CPU time; "
        f"/ count(*) rate: {r['count_s'] / r['ingest_s']:.0%}"
    )


def _main(args: argparse.Namespace) -> int:
    return on_fleet_day(args, run_bench, _report)


def add_parsers(subparsers) -> None:
    bench = subparsers.add_parser(
        "bench-telemetry",
        help="rows/s and peak RSS of the telemetry ingest of a fleet-day (DCGM, vLLM, "
        "scrapes), beside DuckDB's raw read of the same files",
    )
    add_fleet_day_arguments(bench, DAY)
    bench.set_defaults(func=_main)
