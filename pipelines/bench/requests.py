"""`unitcost bench-requests`: the request-log ingest of one fleet-day, beside DuckDB's own
read of the same files in the same process.

The input is a fleet folder as `unitcost simulate` writes it (its ``unitcost.yaml`` names the
request source; gateway logs are gzip JSON lines with prompt and completion text). ``--scale``
simulates one day into a temp folder first (minutes at scale 32: cache a folder and pass
``--fleet``). The ingest is what the request asset runs for a day (``ingest_day``: parse,
check, deduplicate, write the rows, quarantine and ledger in one transaction) into a fresh
DuckDB file opened with the warehouse's settings, users hashed with a salt. The baselines read
the same files with DuckDB's ``read_ndjson`` and the same allow-listed columns: ``count(*)``
(parses every line) and a scan that touches every allow-listed column. Rows are log lines.
Peak RSS is the process's ``VmHWM``, reset before each phase (run under ``/usr/bin/time -v``
for the whole process).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import tempfile
import time
from pathlib import Path

import duckdb

from pipelines.bench import add_fleet_day_arguments, on_fleet_day
from pipelines.bench.billing import _peak_rss_mib, _reset_peak

DAY = dt.date(2026, 11, 1)
_SALT = "bench-salt-0123456789"  # hashing users is part of the work a run does


def _baseline(files: list[str], fields) -> dict:
    from pipelines.ingest.requests.fields import TS, duckdb_columns

    params = {"files": files, "columns": duckdb_columns(fields)}
    source = "read_ndjson($files, columns=$columns)"
    touch = ["count(*)"]
    for f in fields:
        path = ".".join(f'"{k}"' for k in f.path)
        touch.append(f"sum(length({path}))" if f.kind in ("VARCHAR", TS) else f"sum({path})")
    with duckdb.connect(config={"threads": 2}) as con:
        con.execute("set enable_progress_bar = false")
        t0, cpu0 = time.perf_counter(), time.process_time()
        rows = con.execute(f"select count(*) from {source}", params).fetchone()[0]
        count_s, count_cpu = time.perf_counter() - t0, time.process_time() - cpu0
        t0, cpu0 = time.perf_counter(), time.process_time()
        con.execute(f"select {', '.join(touch)} from {source}", params).fetchall()
        scan_s, scan_cpu = time.perf_counter() - t0, time.process_time() - cpu0
    return {
        "lines": rows,
        "count_s": count_s,
        "count_cpu": count_cpu,
        "scan_s": scan_s,
        "scan_cpu": scan_cpu,
    }


def _loader(fleet: Path):
    from pipelines.config import load_settings
    from pipelines.ingest.requests.day import SOURCE
    from pipelines.ingest.requests.load import RequestLoader, token_limits
    from pipelines.registry import load_registry

    settings = load_settings(fleet / "unitcost.yaml")
    return RequestLoader(
        SOURCE,
        settings.sources[SOURCE],
        settings.source_location(SOURCE),
        token_limits(load_registry(settings.registry_path)),
        os.environ.get("UNITCOST_USER_HASH_SALT") or _SALT,
        settings.s3,
    )


def _ingest(loader, files, day: dt.date, db: Path) -> dict:
    from pipelines.ingest.requests.day import ingest_day
    from pipelines.warehouse import connect

    t0, cpu0 = time.perf_counter(), time.process_time()
    with connect(db) as con:
        loaded = ingest_day(con, loader, day, files, [day])
    wall, cpu = time.perf_counter() - t0, time.process_time() - cpu0
    return {"ingest_s": wall, "ingest_cpu": cpu, "loaded": loaded}


def run_bench(fleet: Path, day: dt.date) -> dict:
    from pipelines.ingest.requests.fields import JSON_FORMATS
    from pipelines.ingest.requests.load import day_files

    loader = _loader(fleet)
    files = loader.files()
    picked = [f.uri for f in day_files(files, day)]
    _reset_peak()
    result = _baseline(picked, JSON_FORMATS[loader.fmt])
    result["baseline_rss_mib"] = _peak_rss_mib()
    with tempfile.TemporaryDirectory(prefix="unitcost-bench-") as tmp:
        _reset_peak()
        result |= _ingest(loader, files, day, Path(tmp) / "bench.duckdb")
        result["ingest_rss_mib"] = _peak_rss_mib()
    size = sum(Path(f).stat().st_size for f in picked if not f.startswith("s3://"))
    return result | {"files": len(picked), "gzip_mib": size / 2**20, "day": day}


def _report(r: dict) -> None:
    loaded, lines = r["loaded"], r["lines"]
    print(
        f"requests {r['day']}: {r['files']} files ({r['gzip_mib']:,.0f} MiB), {lines:,} lines "
        f"-> {loaded.rows:,} rows stored, {loaded.quarantine.height:,} quarantined, "
        f"{sum(loaded.exact_duplicates.values()):,} duplicates dropped, "
        f"{sum(loaded.outside_day.values()):,} another day's"
    )
    phases = [
        ("duckdb read_ndjson count(*)", "count", r["baseline_rss_mib"]),
        ("duckdb read_ndjson, every column", "scan", r["baseline_rss_mib"]),
        ("unitcost ingest (ingest_day)", "ingest", r["ingest_rss_mib"]),
    ]
    for name, phase, rss in phases:
        seconds = r[f"{phase}_s"]
        print(
            f"  {name:34s} {seconds:7.2f} s {r[f'{phase}_cpu']:7.2f} CPU s "
            f"{lines / seconds:>11,.0f} lines/s  peak RSS {rss:,.0f} MiB"
        )
    # On a shared machine the CPU seconds are the steadier comparison.
    for phase, name in (("count", "count(*)"), ("scan", "every-column scan")):
        print(
            f"  ingest rate / duckdb {name} rate: {r[f'{phase}_s'] / r['ingest_s']:.0%} by wall "
            f"time, {r[f'{phase}_cpu'] / r['ingest_cpu']:.0%} by CPU time"
        )


def _main(args: argparse.Namespace) -> int:
    return on_fleet_day(args, run_bench, _report)


def add_parsers(subparsers) -> None:
    """Register ``bench-requests`` on the ``unitcost`` command's subparsers."""
    bench = subparsers.add_parser(
        "bench-requests",
        help="lines/s and peak RSS of the request-log ingest of a fleet-day, beside DuckDB's "
        "read_ndjson of the same files",
    )
    add_fleet_day_arguments(bench, DAY)
    bench.set_defaults(func=_main)
