"""`unitcost bench-telemetry`: ingest a simulated 1,000-GPU fleet-day of DCGM samples at 10 s.

The fleet is the default spec × 32 (1,024 GPUs); each GPU's hourly busy fraction is drawn at
random (seeded) instead of simulating 32× the request traffic, which would take minutes and
does not change the telemetry's shape or volume. The simulator's own DCGM writer renders it
(wide layout by default: 8.8 M GPU scrapes; ``--layout long`` is 19 rows per scrape, so use a
smaller ``--scale``). The baseline is DuckDB's plain ``read_parquet`` of the same files in the
same process; peak RSS is ``VmHWM``, reset between phases where the kernel allows.
"""

from __future__ import annotations

import argparse
import datetime as dt
import tempfile
import time
from pathlib import Path

import numpy as np

from pipelines.bench.billing import _peak_rss_mib, _reset_peak

DAY = dt.date(2026, 11, 1)
BASELINE = {
    "wide": "select count(*), sum(epoch_us(timestamp)), sum(DCGM_FI_DEV_GPU_UTIL), "
    "sum(DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION), sum(length(UUID)) from read_parquet(?)",
    "long": "select count(*), sum(epoch_us(timestamp)), sum(value), sum(length(metric)), "
    "sum(length(UUID)) from read_parquet(?)",
}


def _fleet(root: Path, scale: float, interval_s: int, layout: str):
    from pipelines.fleet.formats import SimulationContext
    from pipelines.fleet.formats.telemetry import write_dcgm
    from pipelines.fleet.plan import build_plan
    from pipelines.fleet.spec import DEFAULT_SPEC_PATH, load_spec
    from pipelines.fleet.tables import timeline_table, write_table

    plan = build_plan(load_spec(DEFAULT_SPEC_PATH), DAY, 1, scale, 42)
    rng = np.random.default_rng(42)
    busy = {i.host: np.round(rng.beta(2, 3, (i.gpu_count, 24)), 6) for i in plan.instances}
    owners = {i.host: [f"bench-{i.host}"] * i.gpu_count for i in plan.instances}
    table = timeline_table(DAY, plan.instances, owners, busy)
    write_table(root / "truth" / "timeline" / f"date={DAY}" / "part-0.parquet", table)
    write_dcgm(SimulationContext(out=root, plan=plan), interval_s, text=False, layout=layout)
    return plan.gpu_count


def run_bench(scale: float, interval_s: int, layout: str) -> dict:
    import duckdb

    from pipelines.ingest.storage import list_files
    from pipelines.ingest.telemetry.load import read_day
    from pipelines.warehouse import connect, replace_rows

    with tempfile.TemporaryDirectory(prefix="unitcost-bench-") as tmp:
        root = Path(tmp)
        t0 = time.perf_counter()
        gpus = _fleet(root, scale, interval_s, layout)
        simulate_s = time.perf_counter() - t0
        files = list_files(root / "telemetry")
        paths = [f.uri for f in files]
        _reset_peak()
        t0 = time.perf_counter()
        with duckdb.connect() as con:
            rows = con.execute(BASELINE[layout], [paths]).fetchall()[0][0]
        baseline_s, baseline_rss = time.perf_counter() - t0, _peak_rss_mib()
        _reset_peak()
        t0 = time.perf_counter()
        day = read_day(files, DAY)
        parse_s = time.perf_counter() - t0
        start = dt.datetime.combine(DAY, dt.time(), dt.UTC)
        with connect(root / "bench.duckdb") as con:
            window = ("ts", start, start + dt.timedelta(days=1))
            replace_rows(con, "raw", "dcgm_samples", day.dcgm, window=window)
        ingest_s, ingest_rss = time.perf_counter() - t0, _peak_rss_mib()
    return {
        "gpus": gpus, "layout": layout, "interval_s": interval_s, "files": len(files),
        "rows": rows, "gpu_samples": day.dcgm.height, "quarantined": day.quarantine.height,
        "simulate_s": simulate_s, "baseline_s": baseline_s, "baseline_rss_mib": baseline_rss,
        "parse_s": parse_s, "ingest_s": ingest_s, "ingest_rss_mib": ingest_rss,
    }  # fmt: skip


def _main(args: argparse.Namespace) -> int:
    r = run_bench(args.scale, args.interval, args.layout)
    print(
        f"DCGM {r['layout']} Parquet, {r['gpus']} GPUs x 1 day at {r['interval_s']} s: "
        f"{r['rows']:,} rows in {r['files']} files -> {r['gpu_samples']:,} GPU samples, "
        f"{r['quarantined']} quarantined (simulated in {r['simulate_s']:.1f} s)"
    )
    print(
        f"  duckdb read_parquet (scan all columns): {r['baseline_s']:7.2f} s "
        f"{r['rows'] / r['baseline_s']:>12,.0f} rows/s  peak RSS {r['baseline_rss_mib']:,.0f} MiB"
    )
    print(
        f"  unitcost read+check+dedupe (polars)   : {r['parse_s']:7.2f} s "
        f"{r['rows'] / r['parse_s']:>12,.0f} rows/s"
    )
    print(
        f"  ... + write raw.dcgm_samples (DuckDB) : {r['ingest_s']:7.2f} s "
        f"{r['rows'] / r['ingest_s']:>12,.0f} rows/s  peak RSS {r['ingest_rss_mib']:,.0f} MiB"
    )
    return 0  # fmt: skip


def add_parsers(subparsers) -> None:
    bench = subparsers.add_parser(
        "bench-telemetry", help="rows/s and peak RSS ingesting a simulated 1,000-GPU DCGM day"
    )
    bench.add_argument("--scale", type=float, default=32, help="fleet copies (32: 1,024 GPUs)")
    bench.add_argument("--interval", type=int, default=10, help="scrape interval, seconds")
    bench.add_argument("--layout", choices=("wide", "long"), default="wide")
    bench.set_defaults(func=_main)
